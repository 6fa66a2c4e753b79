"""Handlers: the array back-ends every layer computes through.

``NumpyHandler`` (the default, float32) and ``DebugHandler`` come with
brainstorm-core; other handlers (``PyCudaHandler`` from brainstorm-cuda) are
plugins and resolve by name here: ``from brainstorm.handlers import
PyCudaHandler``.

:func:`best_cpu_handler` picks the fastest CPU handler installed: a handler
class that declares a numeric class attribute ``cpu_preference`` is a CPU
alternative to the ``NumpyHandler``; the highest preference that can be
created wins, the ``NumpyHandler`` being the fallback.
"""
import warnings

import numpy as np

from brainstorm.handlers.base_handler import Handler
from brainstorm.handlers.debug_handler import DebugHandler
from brainstorm.handlers.numpy_handler import NumpyHandler
from brainstorm.plugins import make_namespace

__all__ = ['Handler', 'NumpyHandler', 'DebugHandler', 'default_handler',
           'best_cpu_handler', 'cpu_handler_classes']

default_handler = NumpyHandler(np.float32)


def cpu_handler_classes():
    """The registered handler classes that declare a numeric class
    attribute ``cpu_preference``, highest preference first (ties by
    name)."""
    from brainstorm.plugins import PluginError, registry
    found = []
    for name in registry.names('handlers'):
        try:
            cls = registry.get('handlers', name,
                               namespace='brainstorm.handlers')
        except PluginError:
            continue
        preference = getattr(cls, 'cpu_preference', None)
        if isinstance(preference, (int, float)) and \
                not isinstance(preference, bool):
            found.append((-preference, name, cls))
    return [cls for _, _, cls in sorted(found, key=lambda f: f[:2])]


def best_cpu_handler(dtype=np.float32):
    """A new instance of the fastest CPU handler installed.

    Tries the classes of :func:`cpu_handler_classes` in order, each called
    as ``cls(dtype)``; one that raises is reported with a
    ``RuntimeWarning`` and the next is tried. Without any (or if none can
    be created) a ``NumpyHandler(dtype)``.

    Parameters
    ----------
    dtype : numpy dtype, optional
        Floating point type of the handler (default float32).
    """
    for cls in cpu_handler_classes():
        try:
            return cls(dtype)
        except Exception as err:   # a plugin's handler must not stop a run
            warnings.warn('{} could not be created ({}: {}); trying the next '
                          'CPU handler'.format(cls.__name__,
                                               type(err).__name__, err),
                          RuntimeWarning, stacklevel=2)
    return NumpyHandler(dtype)

__getattr__, __dir__ = make_namespace('handlers', globals(), __name__)
