"""Initializers of the layer catalogue (manual 8.5).

Fan-in and fan-out of a weight, as the ``DenseSqrt*`` initializers count
them:

* shape (F, kh, kw, C) (four dimensions, the layout of convolution
  weights): fan-in ``kh * kw * C``, fan-out ``F``;
* any other shape (..., n_out) with at least two dimensions: fan-in the
  product of all dimensions but the last, fan-out the last one;
* one dimension (biases): no fan is defined; InitializationError is raised
  so that ``Network.initialize`` uses its 'fallback'.

The same rule says which weights are the incoming weights of a unit (used
by ``SparseInputs``, ``SparseOutputs`` and ``Orthogonal``): column
``W[..., j]`` of a weight (..., n_out), filter ``W[f]`` of a convolution
weight (F, kh, kw, C).

Initializers that need a particular shape (a square matrix, a last axis
divisible by four, ...) raise InitializationError naming themselves and the
shape, so that ``Network.initialize`` uses its 'fallback' for the
parameters they do not fit.
"""
import math
from numbers import Real

import numpy as np

from brainstorm.initializers import (InitializationError, Initializer,
                                     evaluate_initializer)

__all__ = ['ArrayInitializer', 'DenseSqrtFanIn', 'DenseSqrtFanInOut',
           'EchoState', 'Gaussian', 'Identity', 'LstmOptInit', 'Orthogonal',
           'RandomWalk', 'SparseInputs', 'SparseOutputs', 'Uniform',
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
        Upper bound; if None the interval is ``[-abs(low), abs(low)]``.
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


def _as_matrix(values):
    """``values`` as a matrix (fan_in, fan_out) with the incoming weights of
    unit j in column j (see the module docs); undone by ``_from_matrix``."""
    if values.ndim == 4:
        return values.reshape(values.shape[0], -1).T
    return values.reshape(-1, values.shape[-1])


def _from_matrix(matrix, shape):
    if len(shape) == 4:
        return matrix.T.reshape(shape)
    return matrix.reshape(shape)


def _square_matrix(shape, who):
    shape = tuple(shape)
    if len(shape) != 2 or shape[0] != shape[1]:
        raise InitializationError(
            '{} only works for square matrices, got shape {}'.format(
                who, shape))
    return shape[0]


def _check_sub_initializer(value, who, argument):
    if isinstance(value, Initializer) or _is_number(value):
        return value
    raise ValueError('{}: {} must be an Initializer or a number, got '
                     '{!r}'.format(who, argument, value))


class ArrayInitializer(Initializer):
    """The values of a given array.

    Parameters
    ----------
    array : array_like
        The values; its shape must be that of the parameter.

    Raises InitializationError for a parameter of another shape.

    Example
    -------
    >>> net.initialize(default=Gaussian(),
    ...                Hid={'W': ArrayInitializer(np.eye(20))})
    """

    def __init__(self, array):
        try:
            self.array = np.array(array, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError('ArrayInitializer: array must be convertible to '
                             'an array of numbers, got {!r}'.format(
                                 array)) from None

    def __init_from_description__(self, description):
        self.array = np.array(self.array, dtype=np.float64)

    def __call__(self, shape):
        if self.array.shape != tuple(shape):
            raise InitializationError(
                'ArrayInitializer: the array has shape {}, but the parameter '
                'has shape {}'.format(self.array.shape, tuple(shape)))
        return self.array.copy()


class EchoState(Initializer):
    """A random square matrix with a given spectral radius (echo state
    networks).

    The entries are drawn uniformly from [-1, 1], then the matrix is scaled
    so that its largest absolute eigenvalue is ``spectral_radius``.

    Parameters
    ----------
    spectral_radius : float
        The spectral radius (default 1.0); below 1 for the echo state
        property.

    Raises InitializationError for anything but a square matrix.

    Example
    -------
    >>> net.initialize(default=Gaussian(),
    ...                Recurrent={'R': EchoState(0.77)})
    """

    def __init__(self, spectral_radius=1.0):
        if not _is_number(spectral_radius) or spectral_radius < 0:
            raise ValueError('EchoState: spectral_radius must be a number '
                             '>= 0, got {!r}'.format(spectral_radius))
        self.spectral_radius = spectral_radius

    def __call__(self, shape):
        n = _square_matrix(shape, 'EchoState')
        values = self.random.uniform(-1.0, 1.0, size=(n, n))
        radius = np.max(np.abs(np.linalg.eigvals(values)))
        if radius == 0:
            raise InitializationError(
                'EchoState: drew a nilpotent matrix of shape {}, whose '
                'spectral radius cannot be scaled'.format(tuple(shape)))
        return values * (self.spectral_radius / radius)


class Identity(Initializer):
    """The (scaled) identity matrix plus Gaussian noise:
    ``scale * I + N(0, std**2)``.

    Parameters
    ----------
    scale : float
        Factor of the identity (default 1.0).
    std : float
        Standard deviation of the noise (default 0.01).
    enforce_square : bool
        If True (default) only square matrices are accepted; if False a
        matrix (n, m) gets ones on its main diagonal (``numpy.eye(n, m)``).

    Raises InitializationError for parameters that are not matrices, and
    for non-square ones when ``enforce_square`` is True.
    """

    def __init__(self, scale=1.0, std=0.01, enforce_square=True):
        if not _is_number(scale):
            raise ValueError('Identity: scale must be a number, got '
                             '{!r}'.format(scale))
        if not _is_number(std) or std < 0:
            raise ValueError('Identity: std must be a number >= 0, got '
                             '{!r}'.format(std))
        if not isinstance(enforce_square, bool):
            raise ValueError('Identity: enforce_square must be True or '
                             'False, got {!r}'.format(enforce_square))
        self.scale = scale
        self.std = std
        self.enforce_square = enforce_square

    def __call__(self, shape):
        shape = tuple(shape)
        if self.enforce_square:
            _square_matrix(shape, 'Identity')
        elif len(shape) != 2:
            raise InitializationError(
                'Identity only works for matrices, got shape {}'.format(
                    shape))
        return self.scale * np.eye(*shape) + \
            self.random.normal(0.0, self.std, size=shape)


class LstmOptInit(Initializer):
    """Separate initializers for the four gate blocks of a parameter that
    holds them side by side along its last axis, in the order block input,
    input gate, forget gate, output gate (the parameter layout of
    Brainstorm's LstmOpt layer: weights (n_in, 4 * size), biases
    (4 * size,)).

    This package's ``Lstm`` keeps every gate in a parameter of its own
    (``Wz``, ``Wi``, ``Wf``, ``Wo``, ``bz``, ...); initialize those by name
    instead, e.g. ``Lstm={'bf': 1.0, 'default': Gaussian()}``.

    Parameters
    ----------
    input_block, input_gate, forget_gate, output_gate : Initializer or float
        The initializer (or constant) of each block (default 0.0).

    Raises InitializationError for parameters whose last axis is not
    divisible by four.

    Example
    -------
    >>> net.initialize(LstmOpt=LstmOptInit(Gaussian(), Gaussian(),
    ...                                    forget_gate=1.0,
    ...                                    output_gate=Gaussian()))
    """

    def __init__(self, input_block=0.0, input_gate=0.0, forget_gate=0.0,
                 output_gate=0.0):
        for argument, value in (('input_block', input_block),
                                ('input_gate', input_gate),
                                ('forget_gate', forget_gate),
                                ('output_gate', output_gate)):
            _check_sub_initializer(value, 'LstmOptInit', argument)
        self.input_block = input_block
        self.input_gate = input_gate
        self.forget_gate = forget_gate
        self.output_gate = output_gate

    def __call__(self, shape):
        shape = tuple(shape)
        if not shape or shape[-1] % 4:
            raise InitializationError(
                'LstmOptInit needs a parameter whose last axis holds four '
                'gate blocks of equal size, got shape {}'.format(shape))
        block = shape[:-1] + (shape[-1] // 4,)
        return np.concatenate(
            [evaluate_initializer(init, block, self.random)
             for init in (self.input_block, self.input_gate,
                          self.forget_gate, self.output_gate)], axis=-1)


class Orthogonal(Initializer):
    """A scaled (semi-)orthogonal matrix (Saxe, McClelland and Ganguli,
    "Exact solutions to the nonlinear dynamics of learning in deep linear
    neural networks", arXiv:1312.6120, 2013).

    A Gaussian matrix (fan_in, fan_out) is replaced by the orthogonal
    factor of its polar decomposition, times ``scale``: for a weight W
    (n_in, n_out), ``W @ W.T = scale**2 * I`` if n_in <= n_out and
    ``W.T @ W = scale**2 * I`` otherwise. Convolution weights (F, kh, kw,
    C) get orthogonal filters (see the module docs).

    Parameters
    ----------
    scale : float
        Factor of the orthogonal matrix (default 1.0).

    Raises InitializationError for 1-D parameters.
    """

    def __init__(self, scale=1.0):
        if not _is_number(scale):
            raise ValueError('Orthogonal: scale must be a number, got '
                             '{!r}'.format(scale))
        self.scale = scale

    def __call__(self, shape):
        shape = tuple(shape)
        if len(shape) < 2:
            raise InitializationError(
                'Orthogonal needs a parameter with at least 2 dimensions, '
                'got shape {}'.format(shape))
        matrix = _as_matrix(self.random.normal(size=shape))
        u, _, vt = np.linalg.svd(matrix, full_matrices=False)
        return _from_matrix(self.scale * (u @ vt), shape)


class RandomWalk(Initializer):
    """A square matrix of the random walk initialization (Sussillo and
    Abbott, "Random Walk Initialization for Training Very Deep Feedforward
    Networks", arXiv:1412.6558, 2014): entries drawn from
    ``N(0, g**2 / N)`` for an (N, N) matrix, with
    ``g = exp(1 / (2 N))`` for linear units and
    ``g = sqrt(2) * exp(1.2 / (max(N, 6) - 2.4))`` for rectified linear
    units.

    Parameters
    ----------
    act_func : {'linear', 'rel'}
        The activation function g is chosen for (default 'linear').
    scale : float, optional
        g itself; overrides ``act_func`` when given.

    Raises InitializationError for anything but a square matrix.
    """

    ACT_FUNCS = ('linear', 'rel')

    def __init__(self, act_func='linear', scale=None):
        if act_func not in self.ACT_FUNCS:
            raise ValueError('RandomWalk: act_func must be one of {}, got '
                             '{!r}'.format(', '.join(self.ACT_FUNCS),
                                           act_func))
        if scale is not None and (not _is_number(scale) or scale < 0):
            raise ValueError('RandomWalk: scale must be None or a number '
                             '>= 0, got {!r}'.format(scale))
        self.act_func = act_func
        self.scale = scale

    def gain(self, n):
        """The factor g for an (n, n) matrix."""
        if self.scale is not None:
            return float(self.scale)
        if self.act_func == 'rel':
            return math.sqrt(2) * math.exp(1.2 / (max(n, 6) - 2.4))
        return math.exp(1 / (2 * n))

    def __call__(self, shape):
        n = _square_matrix(shape, 'RandomWalk')
        return self.random.normal(0.0, self.gain(n) / math.sqrt(n),
                                  size=(n, n))


class _Sparse(Initializer):
    """Values of a sub-initializer, all but ``connections`` per unit (or
    per input) set to 0."""

    AXIS = 0    # of the (fan_in, fan_out) matrix along which to count

    def __init__(self, sub_initializer, connections=15):
        who = type(self).__name__
        _check_sub_initializer(sub_initializer, who, 'sub_initializer')
        if not isinstance(connections, int) or isinstance(connections, bool) \
                or connections < 1:
            raise ValueError('{}: connections must be an int >= 1, got '
                             '{!r}'.format(who, connections))
        self.sub_initializer = sub_initializer
        self.connections = connections

    def __call__(self, shape):
        shape = tuple(shape)
        who = type(self).__name__
        if len(shape) < 2:
            raise InitializationError(
                '{} needs a parameter with at least 2 dimensions, got shape '
                '{}'.format(who, shape))
        values = _as_matrix(np.array(evaluate_initializer(
            self.sub_initializer, shape, self.random), dtype=np.float64))
        available = values.shape[self.AXIS]
        if self.connections > available:
            raise InitializationError(
                '{}: {} connections per {} do not fit a parameter of shape '
                '{} ({} {})'.format(who, self.connections, self.PER, shape,
                                    available, self.AVAILABLE))
        # a random order of the entries of every column (row): its first
        # `connections` entries are kept
        order = np.argsort(self.random.random_sample(values.shape),
                           axis=self.AXIS)
        keep = np.zeros(values.shape, dtype=bool)
        first = order[:self.connections] if self.AXIS == 0 else \
            order[:, :self.connections]
        np.put_along_axis(keep, first, True, axis=self.AXIS)
        return _from_matrix(values * keep, shape)


class SparseInputs(_Sparse):
    """Every unit gets input from exactly ``connections`` input units: for a
    weight W (n_in, n_out) every column ``W[:, j]`` has ``connections``
    entries from ``sub_initializer`` (at random rows) and zeros elsewhere.
    For a convolution weight every filter ``W[f]`` has ``connections``
    such entries.

    Parameters
    ----------
    sub_initializer : Initializer or float
        Gives the values of the connections.
    connections : int
        Number of connections per unit (default 15).

    Raises InitializationError for 1-D parameters (biases) and where a
    unit has fewer inputs than ``connections``.

    Example
    -------
    >>> net.initialize(FullyConnected=SparseInputs(Gaussian(),
    ...                                            connections=10),
    ...                fallback=0.0)
    """

    AXIS = 0
    PER = 'unit'
    AVAILABLE = 'inputs per unit'


class SparseOutputs(_Sparse):
    """Every input unit sends its activation to exactly ``connections``
    units: for a weight W (n_in, n_out) every row ``W[i, :]`` has
    ``connections`` entries from ``sub_initializer`` (at random columns)
    and zeros elsewhere. For a convolution weight (F, kh, kw, C) every
    input position and channel ``W[:, r, c, k]`` has ``connections``
    such entries.

    Parameters
    ----------
    sub_initializer : Initializer or float
        Gives the values of the connections.
    connections : int
        Number of connections per input (default 15).

    Raises InitializationError for 1-D parameters (biases) and where there
    are fewer units than ``connections``.

    Example
    -------
    >>> net.initialize(FullyConnected=SparseOutputs(Gaussian(),
    ...                                             connections=10),
    ...                fallback=0.0)
    """

    AXIS = 1
    PER = 'input'
    AVAILABLE = 'units'
