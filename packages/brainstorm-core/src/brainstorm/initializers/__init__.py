"""Initializers: how ``Network.initialize`` fills parameters (manual 8.5).

The catalogue (``Gaussian``, ``Uniform``, ``DenseSqrtFanIn`` ...) comes from
plugins, mainly brainstorm-layers, and resolves by name here:
``bs.initializers.Gaussian(0.1)``.
"""
import numpy as np

from brainstorm.describable import Describable
from brainstorm.plugins import make_namespace

__all__ = ['Initializer', 'InitializationError']


class InitializationError(Exception):
    """An initializer cannot produce values for the requested shape; the
    'fallback' initializer of ``Network.initialize`` is used instead."""


class Initializer(Describable):
    """Base class of initializers.

    Subclasses implement ``__call__(shape)`` and return a numpy array of that
    shape, drawing random numbers from ``self.rnd`` (set by the network
    before the call, so that seeding is under the network's control).
    """

    __undescribed__ = {'rnd': None}

    def __call__(self, shape):
        raise NotImplementedError

    def _assert_at_least_2d(self, shape):
        if len(shape) < 2:
            raise InitializationError(
                '{} needs a parameter with at least 2 dimensions, got shape '
                '{}'.format(type(self).__name__, shape))

    @property
    def random(self):
        """The random generator to draw from (``self.rnd`` if set)."""
        rnd = getattr(self, 'rnd', None)
        if rnd is None:
            from brainstorm.randomness import global_rnd
            rnd = global_rnd
        return rnd


def evaluate_initializer(initializer, shape, rnd):
    """Turn a scalar, array-like or Initializer into an array of ``shape``.

    Raises
    ------
    InitializationError
        If the value cannot be broadcast to ``shape`` or the initializer
        refuses the shape.
    """
    if isinstance(initializer, Initializer):
        initializer.rnd = rnd
        try:
            result = np.asarray(initializer(shape))
        finally:
            initializer.rnd = None
    else:
        result = np.asarray(initializer, dtype=np.float64)
    if result.shape != tuple(shape):
        try:
            result = np.broadcast_to(result, shape)
        except ValueError:
            raise InitializationError(
                'value of shape {} does not fit a parameter of shape '
                '{}'.format(result.shape, tuple(shape))) from None
    return result


__getattr__, __dir__ = make_namespace('initializers', globals(), __name__)
