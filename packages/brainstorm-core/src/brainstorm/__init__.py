"""brainstorm: fast, flexible and fun neural networks.

``import brainstorm as bs`` gives the manual's API: ``bs.Network``,
``bs.Trainer``, ``bs.layers``, ``bs.hooks``, ``bs.initializers``,
``bs.scorers``, ``bs.value_modifiers``, ``bs.training``, ``bs.tools``,
``bs.data_iterators``, ``bs.handlers``, ``bs.global_rnd``,
``bs.distributed`` (data-parallel jobs), and shortcuts such
as ``bs.Minibatches`` or ``bs.Gaussian`` for classes that plugins provide.
"""
import importlib.metadata as _metadata
import importlib.util as _util

from brainstorm import (data_iterators, describable, distributed, handlers,
                        hooks, initializers, layers, scorers, tools,
                        training, value_modifiers)
from brainstorm.describable import (Describable, create_from_description,
                                    get_description)
from brainstorm.fileio import FileFormatError, SaveError
from brainstorm.initializers import InitializationError
from brainstorm.plugins import MissingPluginError, registry
from brainstorm.randomness import global_rnd
from brainstorm.structure import Network
from brainstorm.training import Trainer

try:
    __version__ = _metadata.version('brainstorm-core')
except _metadata.PackageNotFoundError:  # pragma: no cover - source tree
    __version__ = '0+unknown'

__all__ = ['Network', 'Trainer', 'layers', 'hooks', 'initializers',
           'scorers', 'value_modifiers', 'training', 'tools',
           'data_iterators', 'handlers', 'describable', 'distributed',
           'global_rnd',
           'Describable', 'get_description', 'create_from_description',
           'InitializationError', 'registry', 'SaveError',
           'FileFormatError']

# Top-level shortcuts the manual's examples use (bs.Minibatches, bs.Online,
# bs.Gaussian, bs.ClipValues ...), looked up in these categories in order.
_SHORTCUT_CATEGORIES = ('data_iterators', 'initializers', 'value_modifiers',
                        'handlers', 'steppers', 'hooks', 'scorers')


def __getattr__(name):
    if name.startswith('_'):
        raise AttributeError(name)
    if _util.find_spec('brainstorm.' + name) is not None:
        # a submodule not imported yet (``from brainstorm import cli``):
        # Python imports it after an AttributeError
        raise AttributeError(name)
    for category in _SHORTCUT_CATEGORIES:
        if registry.contains(category, name):
            return registry.get(category, name)
    for category in _SHORTCUT_CATEGORIES:
        try:
            registry.get(category, name, namespace='brainstorm')
        except MissingPluginError as err:
            if 'pip install' in str(err):
                raise
    raise MissingPluginError(
        'module brainstorm has no attribute {!r} and no installed plugin '
        'provides a class of that name'.format(name), name=name)


def __dir__():
    names = set(globals())
    for category in _SHORTCUT_CATEGORIES:
        names.update(registry.names(category))
    return sorted(names)
