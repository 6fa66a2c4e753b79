"""Entry point of the brainstorm-numba plugin: registers the NumbaHandler.

Registering imports neither numba nor the kernels; they are imported when
the ``NumbaHandler`` class is looked up (``brainstorm.handlers.NumbaHandler``,
``brainstorm plugins``, the choice of the CPU handler).
"""
from brainstorm.plugins import hookimpl


@hookimpl
def brainstorm_handlers():
    from brainstorm_numba.handler import NumbaHandler
    return [NumbaHandler]
