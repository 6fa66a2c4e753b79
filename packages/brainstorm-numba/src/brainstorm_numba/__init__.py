"""brainstorm-numba: the NumbaHandler, a CPU handler with compiled kernels.

::

    from brainstorm.handlers import NumbaHandler
    net.set_handler(NumbaHandler())

Installing this package is enough for the ``brainstorm`` command and the
examples to use it (``brainstorm.handlers.best_cpu_handler``). numba is
imported when a handler is created, not when brainstorm loads its plugins.
"""
import importlib.metadata as _metadata

from brainstorm_numba.handler import NumbaHandler

__all__ = ['NumbaHandler']

try:
    __version__ = _metadata.version('brainstorm-numba')
except _metadata.PackageNotFoundError:  # pragma: no cover
    __version__ = '0+unknown'
