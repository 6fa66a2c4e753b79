"""A float64 handler written for clarity, not speed: the reference of the
conformance suites.

:class:`ReferenceHandler` implements every operation of
:data:`~brainstorm.handlers.base_handler.OPERATIONS` with plain numpy in
float64, straight from the semantics documented in
:class:`~brainstorm.handlers.base_handler.Handler`, and shares no code with
the ``NumpyHandler``: every result is computed into a new float64 array
first and then written into ``out``, so in-place use needs no care;
products are ``numpy.einsum`` contractions (no BLAS, no ``out=`` tricks);
convolution adds one product per kernel tap of the zero-padded image (the
``NumpyHandler`` copies patches into an im2col matrix); pooling visits the
output windows one by one and clips each to the image (the ``NumpyHandler``
makes one pass per window tap and counts the positions inside apart).
``allocate`` returns arrays full of NaN, so a layer that reads memory it
did not write shows NaN in the reference, which never compares equal.

It is slow on large images and meant for the small arrays of tests.
"""
import numpy as np

from brainstorm.handlers.base_handler import Handler
from brainstorm.randomness import global_rnd

__all__ = ['ReferenceHandler']


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def _cond(cond):
    return np.asarray(cond) != 0


def _op(a, trans):
    a = _f64(a)
    return a.T if trans else a


def _output_positions(size, kernel, padding, stride, n_out):
    """For each output position along one axis: the (start, stop) of the
    input positions its window covers inside ``[0, size)``."""
    ranges = []
    for o in range(n_out):
        first = o * stride - padding
        ranges.append((max(first, 0), min(first + kernel, size)))
    return ranges


class ReferenceHandler(Handler):
    """Plain float64 numpy implementations of every handler operation (see
    the module docstring).

    Parameters
    ----------
    seed : int, optional
        Seed of ``rnd`` (drawn from ``brainstorm.global_rnd`` if not given).
    """

    array_type = np.ndarray

    def __init__(self, seed=None):
        self.dtype = np.dtype(np.float64)
        self.context = 'reference'
        self.EMPTY = np.zeros(0)
        self.rnd = global_rnd.create_random_state(seed)

    def __repr__(self):
        return 'ReferenceHandler(float64)'

    def __describe__(self):
        return {'@type': type(self).__name__}

    # ---------------------------------------------------------- memory --
    def allocate(self, shape):
        return np.full(shape, np.nan)

    def zeros(self, shape):
        return np.zeros(shape)

    def ones(self, shape):
        return np.ones(shape)

    def fill(self, mem, val):
        mem[...] = float(val)

    def fill_if(self, mem, val, cond):
        mem[...] = np.where(_cond(cond), float(val), _f64(mem))

    def fill_gaussian(self, mean, std, out):
        out[...] = mean + std * self.rnd.standard_normal(out.shape)

    def generate_probability_mask(self, mask, probability):
        mask[...] = self.rnd.random_sample(mask.shape) < probability

    def create_from_numpy(self, arr):
        return np.array(arr, dtype=np.float64, copy=True)

    def get_numpy_copy(self, mem):
        return np.array(mem, dtype=np.float64, copy=True)

    def set_from_numpy(self, mem, arr):
        mem[...] = _f64(arr)

    def copy_to(self, src, dest):
        dest[...] = _f64(src)

    def copy_to_if(self, src, dest, cond):
        dest[...] = np.where(_cond(cond), _f64(src), _f64(dest))

    def is_fully_finite(self, a):
        return bool(np.all(np.isfinite(_f64(a))))

    # ----------------------------------------------------- elementwise --
    def abs_t(self, a, out):
        out[...] = np.abs(_f64(a))

    def sign_t(self, a, out):
        a = _f64(a)
        out[...] = (a > 0).astype(np.float64) - (a < 0)

    def sqrt_t(self, a, out):
        out[...] = np.sqrt(_f64(a))

    def exp_t(self, a, out):
        out[...] = np.exp(_f64(a))

    def log_t(self, a, out):
        out[...] = np.log(_f64(a))

    def clip_t(self, a, a_min, a_max, out):
        out[...] = np.minimum(np.maximum(_f64(a), float(a_min)),
                              float(a_max))

    def add_tt(self, a, b, out):
        out[...] = _f64(a) + _f64(b)

    def subtract_tt(self, a, b, out):
        out[...] = _f64(a) - _f64(b)

    def mult_tt(self, a, b, out):
        out[...] = _f64(a) * _f64(b)

    def mult_add_tt(self, a, b, out):
        out[...] = _f64(out) + _f64(a) * _f64(b)

    def divide_tt(self, a, b, out):
        out[...] = _f64(a) / _f64(b)

    def modulo_tt(self, a, b, out):
        a, b = _f64(a), _f64(b)
        out[...] = a - b * np.floor(a / b)

    def add_into_if(self, a, out, cond):
        out[...] = _f64(out) + np.where(_cond(cond), _f64(a), 0.0)

    def add_st(self, s, t, out):
        out[...] = _f64(t) + float(s)

    def mult_st(self, s, t, out):
        out[...] = float(s) * _f64(t)

    def mult_add_st(self, s, t, out):
        out[...] = _f64(out) + float(s) * _f64(t)

    def momentum_update(self, velocity, gradients, parameters, momentum,
                        rate):
        new = float(momentum) * _f64(velocity) + float(rate) * _f64(
            gradients)
        velocity[...] = new
        parameters[...] = _f64(parameters) + new

    # ------------------------------------------------ matrix / vector --
    def add_mv(self, m, v, out):
        out[...] = _f64(m) + _f64(v)

    def subtract_mv(self, m, v, out):
        out[...] = _f64(m) - _f64(v)

    def mult_mv(self, m, v, out):
        out[...] = _f64(m) * _f64(v)

    def mult_add_mv(self, m, v, out):
        out[...] = _f64(out) + _f64(m) * _f64(v)

    def divide_mv(self, m, v, out):
        out[...] = _f64(m) / _f64(v)

    def dot_mm(self, a, b, out, transa=False, transb=False):
        out[...] = np.einsum('ik,kj->ij', _op(a, transa), _op(b, transb))

    def dot_add_mm(self, a, b, out, transa=False, transb=False):
        out[...] = _f64(out) + np.einsum('ik,kj->ij', _op(a, transa),
                                         _op(b, transb))

    def binarize_v(self, v, out):
        classes = np.arange(out.shape[1])[None, :]
        out[...] = (classes == _f64(v)[:, :1]).astype(np.float64)

    def index_m_by_v(self, m, v, out):
        m = _f64(m)
        columns = _f64(v)[:, 0].astype(int)
        out[...] = np.array([[m[i, j]] for i, j in enumerate(columns)])

    def softmax_m(self, m, out):
        m = _f64(m)
        e = np.exp(m - m.max(axis=1, keepdims=True))
        out[...] = e / e.sum(axis=1, keepdims=True)

    # ----------------------------------------------------- reductions --
    def sum_t(self, a, axis, out):
        out[...] = np.reshape(np.sum(_f64(a), axis=axis), out.shape)

    def broadcast_t(self, a, axis, out):
        out[...] = np.repeat(_f64(a), out.shape[axis], axis=axis)

    def merge_tt(self, a, b, out):
        out[...] = np.concatenate([_f64(a), _f64(b)], axis=-1)

    def split_add_tt(self, x, out_a, out_b):
        x = _f64(x)
        n = out_a.shape[-1]
        out_a[...] = _f64(out_a) + x[..., :n]
        out_b[...] = _f64(out_b) + x[..., n:]

    # ---------------------------------------------------- activations --
    def rel(self, x, y):
        x = _f64(x)
        y[...] = np.where(x > 0, x, 0.0)

    def rel_deriv(self, x, y, dy, dx):
        dx[...] = np.where(_f64(y) > 0, _f64(dy), 0.0)

    def sigmoid(self, x, y):
        x = _f64(x)
        e = np.exp(-np.abs(x))          # never overflows
        y[...] = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    def sigmoid_deriv(self, x, y, dy, dx):
        y = _f64(y)
        dx[...] = _f64(dy) * y * (1.0 - y)

    def tanh(self, x, y):
        y[...] = np.tanh(_f64(x))

    def tanh_deriv(self, x, y, dy, dx):
        y = _f64(y)
        dx[...] = _f64(dy) * (1.0 - y * y)

    # ------------------------------------------------- fused cells --
    @staticmethod
    def _cell_act(activation, x):
        """act(x) in float64, straight from its definition."""
        x = _f64(x)
        if activation == 'linear':
            return x.copy()
        if activation == 'rel':
            return np.where(x > 0, x, 0.0)
        if activation == 'tanh':
            return np.tanh(x)
        if activation == 'sigmoid':
            e = np.exp(-np.abs(x))
            return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        raise ValueError('unknown activation {!r}'.format(activation))

    @staticmethod
    def _cell_act_deriv(activation, y):
        """act'(x) in float64 given y = act(x)."""
        y = _f64(y)
        if activation == 'linear':
            return np.ones_like(y)
        if activation == 'rel':
            return np.where(y > 0, 1.0, 0.0)
        if activation == 'tanh':
            return 1.0 - y * y
        if activation == 'sigmoid':
            return y * (1.0 - y)
        raise ValueError('unknown activation {!r}'.format(activation))

    def lstm_cell_forward(self, z, i, f, o, c_prev, c, cb, y,
                          activation='tanh'):
        za = self._cell_act(activation, z)
        ia = self._cell_act('sigmoid', i)
        fa = self._cell_act('sigmoid', f)
        oa = self._cell_act('sigmoid', o)
        state = za * ia + _f64(c_prev) * fa
        state_act = self._cell_act(activation, state)
        out = oa * state_act
        z[...], i[...], f[...], o[...] = za, ia, fa, oa
        c[...] = state
        cb[...] = state_act
        y[...] = out

    def lstm_cell_backward(self, z, i, f, o, c_prev, cb, dy, dc, dc_prev,
                           dz, di, df, do, activation='tanh'):
        z, i, f, o = _f64(z), _f64(i), _f64(f), _f64(o)
        cb, dy = _f64(cb), _f64(dy)
        d_state = _f64(dc) + dy * o * self._cell_act_deriv(activation, cb)
        d_out = dy * cb * o * (1.0 - o)
        d_prev = d_state * f
        d_z = d_state * i * self._cell_act_deriv(activation, z)
        d_i = d_state * z * i * (1.0 - i)
        d_f = d_state * _f64(c_prev) * f * (1.0 - f)
        dc[...] = d_state
        dc_prev[...] = d_prev
        dz[...], di[...], df[...], do[...] = d_z, d_i, d_f, d_out

    # --------------------------------------------------------- images --
    @staticmethod
    def _padded(inputs, padding):
        n, h, w, c = inputs.shape
        padded = np.zeros((n, h + 2 * padding, w + 2 * padding, c))
        padded[:, padding:padding + h, padding:padding + w] = _f64(inputs)
        return padded

    @staticmethod
    def _tap(a, b, ho, wo, stride):
        """The inputs kernel tap (a, b) reads for every output position:
        (N, Ho, Wo, C) slices of the padded images."""
        sh, sw = stride
        return (slice(None), slice(a, a + sh * (ho - 1) + 1, sh),
                slice(b, b + sw * (wo - 1) + 1, sw))

    def conv2d_forward_batch(self, inputs, weights, bias, outputs, padding,
                             stride):
        weights = _f64(weights)
        _, kh, kw, _ = weights.shape
        n, ho, wo, f = outputs.shape
        padded = self._padded(inputs, padding)
        result = np.zeros((n, ho, wo, f)) + _f64(bias)
        for a in range(kh):
            for b in range(kw):
                where = self._tap(a, b, ho, wo, stride)
                result += np.einsum('nhwc,fc->nhwf', padded[where],
                                    weights[:, a, b, :])
        outputs[...] = result

    def conv2d_backward_batch(self, inputs, weights, padding, stride,
                              in_deltas, out_deltas, weight_deltas,
                              bias_deltas):
        weights, dy = _f64(weights), _f64(out_deltas)
        _, kh, kw, _ = weights.shape
        _, ho, wo, _ = dy.shape
        n, h, w, _ = inputs.shape
        padded = self._padded(inputs, padding)
        d_padded = np.zeros(padded.shape)
        d_weights = np.zeros(weights.shape)
        for a in range(kh):
            for b in range(kw):
                where = self._tap(a, b, ho, wo, stride)
                d_padded[where] += np.einsum('nhwf,fc->nhwc', dy,
                                             weights[:, a, b, :])
                d_weights[:, a, b, :] = np.einsum('nhwf,nhwc->fc', dy,
                                                  padded[where])
        if in_deltas is not None:
            in_deltas[...] = _f64(in_deltas) + d_padded[
                :, padding:padding + h, padding:padding + w]
        weight_deltas[...] = _f64(weight_deltas) + d_weights
        bias_deltas[...] = _f64(bias_deltas) + dy.sum(axis=(0, 1, 2))

    @staticmethod
    def _windows(inputs, window, out_shape, padding, stride):
        """Yield (i, j, rows, cols) for every output position: the input
        rows and columns of its window that lie inside the image."""
        _, h, w, _ = inputs.shape
        _, ho, wo, _ = out_shape
        rows = _output_positions(h, window[0], padding, stride[0], ho)
        cols = _output_positions(w, window[1], padding, stride[1], wo)
        for i, (r0, r1) in enumerate(rows):
            for j, (c0, c1) in enumerate(cols):
                yield i, j, range(r0, max(r0, r1)), range(c0, max(c0, c1))

    def maxpool2d_forward_batch(self, inputs, window, outputs, padding,
                                stride, argmax):
        x = _f64(inputs)
        n, h, w, c = x.shape
        result = np.zeros(outputs.shape)
        positions = np.full(outputs.shape, -1.0)
        for i, j, rows, cols in self._windows(x, window, outputs.shape,
                                              padding, stride):
            if not len(rows) or not len(cols):
                continue
            # (N, positions in row-major window order, C)
            values = x[:, rows.start:rows.stop, cols.start:cols.stop, :]
            values = values.reshape(n, -1, c)
            flat = [r * w + q for r in rows for q in cols]
            best = np.argmax(values, axis=1)          # first of equal ones
            result[:, i, j, :] = np.take_along_axis(
                values, best[:, None, :], axis=1)[:, 0, :]
            positions[:, i, j, :] = np.asarray(flat, dtype=float)[best]
        outputs[...] = result
        argmax[...] = positions

    def maxpool2d_backward_batch(self, inputs, window, outputs, padding,
                                 stride, argmax, in_deltas, out_deltas):
        n, h, w, c = inputs.shape
        dx = np.zeros((n, h * w, c))
        positions = _f64(argmax).astype(int)
        dy = _f64(out_deltas)
        for index in np.ndindex(*positions.shape):
            position = positions[index]
            if position >= 0:
                dx[index[0], position, index[3]] += dy[index]
        in_deltas[...] = _f64(in_deltas) + dx.reshape(n, h, w, c)

    def avgpool2d_forward_batch(self, inputs, window, outputs, padding,
                                stride):
        x = _f64(inputs)
        result = np.zeros(outputs.shape)
        for i, j, rows, cols in self._windows(x, window, outputs.shape,
                                              padding, stride):
            if len(rows) and len(cols):
                result[:, i, j, :] = x[:, rows.start:rows.stop,
                                       cols.start:cols.stop, :].mean(
                    axis=(1, 2))
        outputs[...] = result

    def avgpool2d_backward_batch(self, inputs, window, outputs, padding,
                                 stride, in_deltas, out_deltas):
        dy = _f64(out_deltas)
        dx = np.zeros(inputs.shape)
        for i, j, rows, cols in self._windows(dx, window, dy.shape,
                                              padding, stride):
            count = len(rows) * len(cols)
            if count:
                dx[:, rows.start:rows.stop, cols.start:cols.stop, :] += \
                    dy[:, i, j, None, None, :] / count
        in_deltas[...] = _f64(in_deltas) + dx
