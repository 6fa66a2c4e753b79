"""Compiled kernels of the handler's fused cell operations.

Each kernel does in one pass over its (B, size) arrays what the handler
operation of the same name documents (see
``brainstorm.handlers.base_handler.Handler.lstm_cell_forward`` and
``lstm_cell_backward``), with the activation given as an integer code
(:data:`ACTIVATION_CODES`, e.g. ``ACTIVATION_CODES['tanh']``) instead of its
name::

    lstm_cell_forward(z, i, f, o, c_prev, c, cb, y, act)
    lstm_cell_backward(z, i, f, o, c_prev, cb, dy, dc, dc_prev,
                       dz, di, df, do, act)

The arguments are numpy arrays of one float dtype and one 2D shape; they
must not overlap, except that ``cb`` may be ``c`` with the 'linear'
activation (each element is read before it is written, so that is safe).
Any strides work; contiguous arrays are fastest.

Nonlinearities: without a vector math library LLVM cannot vectorise calls
to ``exp`` or ``tanh``, and scalar calls are several times slower than
numpy's SIMD loops. For float32 arrays the kernels therefore use a rational
approximation of tanh (the one Eigen uses for float: an odd degree-13
polynomial over an even degree-6 one on ``|x| <= 7.9053``, +-1 beyond; a
few float32 ulp from the exact value), which is plain arithmetic and
vectorises; the sigmoid is ``0.5 * tanh(0.5 * x) + 0.5``, exact to about
6e-8 absolute (like the NumpyHandler's fused operations; small outputs
lose their relative precision). Float64 arrays use ``math.tanh`` and
``math.exp``.
"""
import math

import numba
import numpy as np
from numba.core import types
from numba.extending import overload

__all__ = ['ACTIVATION_CODES', 'lstm_cell_forward', 'lstm_cell_backward',
           'momentum_update']

ACTIVATION_CODES = {'linear': 0, 'rel': 1, 'sigmoid': 2, 'tanh': 3}
"""Activation name -> the integer code the kernels take."""

_LINEAR, _REL, _SIGMOID, _TANH = 0, 1, 2, 3

# error_model='numpy': no zero-division check on every float division,
# which would keep LLVM from vectorising the loops (3-15x slower).
# fastmath 'contract' (fused multiply-add) and 'arcp' (division as a
# multiplication by the reciprocal) only: NaN and inf keep their meaning;
# the forward kernel runs 1.5x faster with them.
_JIT = {'cache': True, 'error_model': 'numpy',
        'fastmath': {'contract', 'arcp'}}

# tanh(x) ~ x * P(x^2) / Q(x^2) on |x| <= _CLAMP (float32 accuracy)
_CLAMP = 7.90531110763549805
_A1 = 4.89352455891786e-03
_A3 = 6.37261928875436e-04
_A5 = 1.48572235717979e-05
_A7 = 5.12229709037114e-08
_A9 = -8.60467152213735e-11
_A11 = 2.00018790482477e-13
_A13 = -2.76076847742355e-16
_B0 = 4.89352518554385e-03
_B2 = 2.26843463243900e-03
_B4 = 1.18534705686654e-04
_B6 = 1.19825839466702e-06


def _tanh(x):
    """tanh for the kernels (compiled through the overload below)."""
    return math.tanh(x)


def _sigmoid(x):
    """The logistic sigmoid for the kernels (overload below)."""
    return 1.0 / (1.0 + math.exp(-x))


@overload(_tanh, inline='always', jit_options=_JIT)
def _tanh_impl(x):
    if x == types.float32:
        clamp = np.float32(_CLAMP)
        a1, a3, a5, a7 = (np.float32(_A1), np.float32(_A3),
                          np.float32(_A5), np.float32(_A7))
        a9, a11, a13 = np.float32(_A9), np.float32(_A11), np.float32(_A13)
        b0, b2, b4, b6 = (np.float32(_B0), np.float32(_B2),
                          np.float32(_B4), np.float32(_B6))

        def tanh32(x):
            x = min(max(x, -clamp), clamp)
            x2 = x * x
            p = x2 * a13 + a11
            p = x2 * p + a9
            p = x2 * p + a7
            p = x2 * p + a5
            p = x2 * p + a3
            p = x2 * p + a1
            q = x2 * b6 + b4
            q = x2 * q + b2
            q = x2 * q + b0
            return x * p / q
        return tanh32

    def tanh64(x):
        return math.tanh(x)
    return tanh64


@overload(_sigmoid, inline='always', jit_options=_JIT)
def _sigmoid_impl(x):
    if x == types.float32:
        half = np.float32(0.5)

        def sigmoid32(x):
            return half * _tanh(half * x) + half
        return sigmoid32

    def sigmoid64(x):
        if x >= 0:
            return 1.0 / (1.0 + math.exp(-x))
        e = math.exp(x)
        return e / (1.0 + e)
    return sigmoid64


# ``zero`` and ``one`` come in as values of the arrays' dtype: a Python
# int literal would turn float32 arithmetic into float64.
@numba.njit(inline='always', **_JIT)
def _act(x, act, zero):
    if act == _TANH:
        return _tanh(x)
    if act == _SIGMOID:
        return _sigmoid(x)
    if act == _REL:
        return max(x, zero)
    return x


@numba.njit(inline='always', **_JIT)
def _slope(y, act, zero, one):
    """act' from the output y of act."""
    if act == _TANH:
        return one - y * y
    if act == _SIGMOID:
        return y * (one - y)
    if act == _REL:
        return one if y > zero else zero
    return one


# One element of each kernel (values in, values out); the kernels run one
# loop per activation with the code a constant, so that after inlining the
# activation's branches fold away (a branch on a variable code in the loop:
# 1.5x slower).
@numba.njit(inline='always', **_JIT)
def _forward_cell(zv, iv, fv, ov, cpv, act, zero):
    """One element: (z, i, f, o, c, act(c), y)."""
    zz = _act(zv, act, zero)
    ii = _sigmoid(iv)
    ff = _sigmoid(fv)
    oo = _sigmoid(ov)
    cc = zz * ii + cpv * ff
    ca = _act(cc, act, zero)
    return zz, ii, ff, oo, cc, ca, oo * ca


@numba.njit(inline='always', **_JIT)
def _backward_cell(zz, ii, ff, oo, cpv, ca, g, dcv, act, zero, one):
    """One element: (dc, dc_prev, dz, di, df, do)."""
    total = dcv + g * oo * _slope(ca, act, zero, one)
    return (total, total * ff, total * ii * _slope(zz, act, zero, one),
            total * zz * ii * (one - ii), total * cpv * ff * (one - ff),
            g * ca * oo * (one - oo))


@numba.njit(**_JIT)
def lstm_cell_forward(z, i, f, o, c_prev, c, cb, y, act):
    """Gates, cell update and output of one LSTM step in one pass (see the
    module docstring): ``z, i, f, o`` are overwritten with their
    activations, ``c``, ``cb`` and ``y`` written."""
    rows, cols = z.shape
    zero = np.zeros(1, z.dtype)[0]
    if act == _TANH:
        for r in range(rows):
            for k in range(cols):
                (z[r, k], i[r, k], f[r, k], o[r, k], c[r, k], cb[r, k],
                 y[r, k]) = _forward_cell(z[r, k], i[r, k], f[r, k], o[r, k],
                                          c_prev[r, k], _TANH, zero)
    elif act == _SIGMOID:
        for r in range(rows):
            for k in range(cols):
                (z[r, k], i[r, k], f[r, k], o[r, k], c[r, k], cb[r, k],
                 y[r, k]) = _forward_cell(z[r, k], i[r, k], f[r, k], o[r, k],
                                          c_prev[r, k], _SIGMOID, zero)
    elif act == _REL:
        for r in range(rows):
            for k in range(cols):
                (z[r, k], i[r, k], f[r, k], o[r, k], c[r, k], cb[r, k],
                 y[r, k]) = _forward_cell(z[r, k], i[r, k], f[r, k], o[r, k],
                                          c_prev[r, k], _REL, zero)
    elif act == _LINEAR:
        for r in range(rows):
            for k in range(cols):
                (z[r, k], i[r, k], f[r, k], o[r, k], c[r, k], cb[r, k],
                 y[r, k]) = _forward_cell(z[r, k], i[r, k], f[r, k], o[r, k],
                                          c_prev[r, k], _LINEAR, zero)
    else:
        raise ValueError('unknown activation code')


@numba.njit(**_JIT)
def lstm_cell_backward(z, i, f, o, c_prev, cb, dy, dc, dc_prev, dz, di, df,
                       do, act):
    """Deltas of one LSTM step in one pass (see the module docstring):
    the total deltas of the cell state are added into ``dc``; ``dc_prev``
    and the pre-activation deltas ``dz, di, df, do`` are written."""
    rows, cols = z.shape
    zero = np.zeros(1, z.dtype)[0]
    one = np.ones(1, z.dtype)[0]
    if act == _TANH:
        for r in range(rows):
            for k in range(cols):
                (dc[r, k], dc_prev[r, k], dz[r, k], di[r, k], df[r, k],
                 do[r, k]) = _backward_cell(z[r, k], i[r, k], f[r, k],
                                            o[r, k], c_prev[r, k], cb[r, k],
                                            dy[r, k], dc[r, k], _TANH, zero,
                                            one)
    elif act == _SIGMOID:
        for r in range(rows):
            for k in range(cols):
                (dc[r, k], dc_prev[r, k], dz[r, k], di[r, k], df[r, k],
                 do[r, k]) = _backward_cell(z[r, k], i[r, k], f[r, k],
                                            o[r, k], c_prev[r, k], cb[r, k],
                                            dy[r, k], dc[r, k], _SIGMOID, zero,
                                            one)
    elif act == _REL:
        for r in range(rows):
            for k in range(cols):
                (dc[r, k], dc_prev[r, k], dz[r, k], di[r, k], df[r, k],
                 do[r, k]) = _backward_cell(z[r, k], i[r, k], f[r, k],
                                            o[r, k], c_prev[r, k], cb[r, k],
                                            dy[r, k], dc[r, k], _REL, zero,
                                            one)
    elif act == _LINEAR:
        for r in range(rows):
            for k in range(cols):
                (dc[r, k], dc_prev[r, k], dz[r, k], di[r, k], df[r, k],
                 do[r, k]) = _backward_cell(z[r, k], i[r, k], f[r, k],
                                            o[r, k], c_prev[r, k], cb[r, k],
                                            dy[r, k], dc[r, k], _LINEAR, zero,
                                            one)
    else:
        raise ValueError('unknown activation code')


@numba.njit(cache=True, error_model='numpy', fastmath=False, nogil=True)
def momentum_update(velocity, gradients, parameters, momentum, rate):
    """``Handler.momentum_update`` over 1-D arrays of one dtype, in one
    pass (the NumpyHandler makes three, and a temporary): for each k,
    ``v = momentum * velocity[k] + rate * gradients[k]`` (each product
    and the sum rounded to the dtype, as numpy rounds them: no fused
    multiply-add), ``velocity[k] = v``, ``parameters[k] += v``.
    ``momentum`` and ``rate`` come as scalars of the arrays' dtype."""
    for k in range(velocity.size):
        v = momentum * velocity[k] + rate * gradients[k]
        velocity[k] = v
        parameters[k] += v
