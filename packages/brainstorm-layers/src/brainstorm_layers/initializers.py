"""Initializers of the layer catalogue (manual 8.5).

Fan-in and fan-out of a weight, as the ``DenseSqrt*`` initializers count
them:

* shape (F, kh, kw, C) (four dimensions, the layout of convolution
  weights): fan-in ``kh * kw * C``, fan-out ``F``;
* any other shape (..., n_out) with at least two dimensions: fan-in the
  product of all dimensions but the last, fan-out the last one;
* one dimension (biases): no fan is defined; InitializationError is raised
  so that ``Network.initialize`` uses its 'fallback'.
"""
import math
from numbers import Real

import numpy as np

from brainstorm.initializers import InitializationError, Initializer

__all__ = ['Gaussian', 'Uniform', 'DenseSqrtFanIn', 'DenseSqrtFanInOut',
           'fan_in_out']


def _is_number(value):
    return isinstance(value, Real) and not isinstance(value, bool)


def fan_in_out(shape, who='initializer'):
    """The (fan-in, fan-out) of a weight of ``shape`` (see module docs).

    Raises
    ------
    InitializationError
        For shapes with fewer than two dimensions.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise InitializationError(
            '{} needs a weight with at least 2 dimensions to count its fan-in '
            'and fan-out, got shape {}'.format(who, shape))
    if len(shape) == 4:
        return int(np.prod(shape[1:])), shape[0]
    return int(np.prod(shape[:-1])), shape[-1]


class Gaussian(Initializer):
    """Normally distributed values.

    Parameters
    ----------
    std : float
        Standard deviation (default 0.1).
    mean : float
        Mean (default 0.0).
    """

    def __init__(self, std=0.1, mean=0.0):
        if not _is_number(std) or std < 0:
            raise ValueError('Gaussian: std must be a number >= 0, got '
                             '{!r}'.format(std))
        if not _is_number(mean):
            raise ValueError('Gaussian: mean must be a number, got '
                             '{!r}'.format(mean))
        self.std = std
        self.mean = mean

    def __call__(self, shape):
        return self.random.normal(self.mean, self.std, size=shape)


class Uniform(Initializer):
    """Uniformly distributed values in [low, high].

    Parameters
    ----------
    low : float
        Lower bound (default 0.1).
    high : float, optional
        Upper bound; if None the interval is [-|low|, |low|].
    """

    def __init__(self, low=0.1, high=None):
        if not _is_number(low):
            raise ValueError('Uniform: low must be a number, got {!r}'.format(
                low))
        if high is not None and (not _is_number(high) or high < low):
            raise ValueError('Uniform: high must be None or a number >= low '
                             '({!r}), got {!r}'.format(low, high))
        self.low = low
        self.high = high

    def _bounds(self):
        if self.high is None:
            return -abs(self.low), abs(self.low)
        return self.low, self.high

    def __call__(self, shape):
        low, high = self._bounds()
        return self.random.uniform(low, high, size=shape)


class _DenseSqrt(Initializer):
    """Uniform in [-scale / sqrt(n), scale / sqrt(n)], n a count of fans."""

    SCALES = {}

    def __init__(self, scale='rel'):
        if isinstance(scale, str):
            if scale not in self.SCALES:
                raise ValueError('{}: unknown scale {!r} (a number or one of '
                                 '{})'.format(type(self).__name__, scale,
                                              ', '.join(self.SCALES)))
        elif not _is_number(scale):
            raise ValueError('{}: scale must be a number or one of {}, got '
                             '{!r}'.format(type(self).__name__,
                                           ', '.join(self.SCALES), scale))
        self.scale = scale

    def _factor(self):
        if isinstance(self.scale, str):
            return self.SCALES[self.scale]
        return float(self.scale)

    def _count(self, fan_in, fan_out):
        raise NotImplementedError

    def __call__(self, shape):
        fan_in, fan_out = fan_in_out(shape, type(self).__name__)
        bound = self._factor() / math.sqrt(self._count(fan_in, fan_out))
        return self.random.uniform(-bound, bound, size=shape)


class DenseSqrtFanIn(_DenseSqrt):
    """Uniform in ``[-scale / sqrt(fan_in), scale / sqrt(fan_in)]``.

    Parameters
    ----------
    scale : float or {'rel', 'tanh', 'sigmoid', 'linear'}
        The factor, or the activation function it is chosen for: 'rel'
        sqrt(6) (default), 'tanh' sqrt(3), 'sigmoid' 4 sqrt(3), 'linear' 1.

    Raises InitializationError for 1-D parameters (see the module docs for
    how fans are counted).
    """

    SCALES = {'rel': math.sqrt(6), 'tanh': math.sqrt(3),
              'sigmoid': 4 * math.sqrt(3), 'linear': 1.0}

    def _count(self, fan_in, fan_out):
        return fan_in


class DenseSqrtFanInOut(_DenseSqrt):
    """Uniform in ``[-scale / sqrt(fan_in + fan_out), scale / sqrt(fan_in +
    fan_out)]`` (Glorot & Bengio 2010).

    Parameters
    ----------
    scale : float or {'rel', 'tanh', 'sigmoid', 'linear'}
        The factor, or the activation function it is chosen for: 'rel'
        sqrt(12) (default), 'tanh' sqrt(6), 'sigmoid' 4 sqrt(6), 'linear' 1.

    Raises InitializationError for 1-D parameters (see the module docs for
    how fans are counted).
    """

    SCALES = {'rel': math.sqrt(12), 'tanh': math.sqrt(6),
              'sigmoid': 4 * math.sqrt(6), 'linear': 1.0}

    def _count(self, fan_in, fan_out):
        return fan_in + fan_out
