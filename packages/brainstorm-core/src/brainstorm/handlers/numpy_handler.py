"""The default handler: numpy arrays on the CPU."""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from brainstorm.handlers.base_handler import Handler
from brainstorm.randomness import global_rnd

__all__ = ['NumpyHandler']


def _output_size(size, kernel, padding, stride):
    return (size + 2 * padding - kernel) // stride + 1


def _taps(offset, padding, stride, n_out, size):
    """Slices pairing the outputs with the inputs that kernel tap ``offset``
    touches: ``(input_slice, output_slice)``, or None if it touches none.

    Output ``o`` reads input ``o * stride - padding + offset``; only inputs
    inside ``[0, size)`` are paired.
    """
    lo = max(0, -((offset - padding) // stride))
    hi = min(n_out - 1, (size - 1 + padding - offset) // stride)
    if hi < lo:
        return None
    start = lo * stride - padding + offset
    return (slice(start, start + (hi - lo) * stride + 1, stride),
            slice(lo, hi + 1))


def _window_counts(size, kernel, padding, stride, n_out):
    """How many of the window positions of each output lie inside the
    input (along one axis)."""
    start = np.arange(n_out) * stride - padding
    return (np.minimum(start + kernel, size) -
            np.maximum(start, 0)).clip(min=0)


class NumpyHandler(Handler):
    """Handler computing with numpy arrays on the CPU.

    Parameters
    ----------
    dtype : numpy dtype, optional
        Floating point type of all arrays (default float32).
    seed : int, optional
        Seed of the handler's random state ``rnd``; drawn from
        ``brainstorm.global_rnd`` if not given.
    """

    array_type = np.ndarray
    context = 'numpy'

    def __init__(self, dtype=np.float32, seed=None):
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != 'f':
            raise ValueError('NumpyHandler needs a floating point dtype, got '
                             '{}'.format(self.dtype))
        self.context = 'numpy'
        self.EMPTY = np.zeros(0, dtype=self.dtype)
        self.rnd = global_rnd.create_random_state(seed)

    def __repr__(self):
        return 'NumpyHandler({})'.format(self.dtype.name)

    def __describe__(self):
        return {'@type': type(self).__name__, 'dtype': self.dtype.name}

    @classmethod
    def __new_from_description__(cls, description):
        instance = cls(np.dtype(description.get('dtype', 'float32')))
        instance.__init_from_description__(description)
        return instance

    # ---------------------------------------------------------- memory --
    def allocate(self, shape):
        return np.empty(shape, dtype=self.dtype)

    def zeros(self, shape):
        return np.zeros(shape, dtype=self.dtype)

    def ones(self, shape):
        return np.ones(shape, dtype=self.dtype)

    def fill(self, mem, val):
        mem.fill(val)

    def fill_if(self, mem, val, cond):
        np.copyto(mem, np.asarray(val, dtype=mem.dtype), where=cond != 0)

    def fill_gaussian(self, mean, std, out):
        out[...] = self.rnd.normal(mean, std, size=out.shape)

    def generate_probability_mask(self, mask, probability):
        generator = getattr(self.rnd, 'generator', None)
        if generator is not None and mask.dtype in (np.float32, np.float64):
            # float32 uniforms from a PCG64 Generator: half the bits and
            # about twice as fast as RandomState.random_sample
            uniforms = generator.random(mask.shape, dtype=mask.dtype)
        else:
            uniforms = self.rnd.random_sample(mask.shape)
        np.less(uniforms, probability, out=mask)

    def create_from_numpy(self, arr):
        return np.array(arr, dtype=self.dtype, copy=True)

    def get_numpy_copy(self, mem):
        return np.array(mem, copy=True)

    def set_from_numpy(self, mem, arr):
        mem[...] = arr

    def copy_to(self, src, dest):
        np.copyto(dest, src)

    def copy_to_if(self, src, dest, cond):
        np.copyto(dest, src, where=cond != 0)

    def is_fully_finite(self, a):
        return bool(np.isfinite(a).all())

    # ----------------------------------------------------- elementwise --
    def abs_t(self, a, out):
        np.abs(a, out=out)

    def sign_t(self, a, out):
        np.sign(a, out=out)

    def sqrt_t(self, a, out):
        np.sqrt(a, out=out)

    def exp_t(self, a, out):
        np.exp(a, out=out)

    def log_t(self, a, out):
        np.log(a, out=out)

    def clip_t(self, a, a_min, a_max, out):
        np.clip(a, a_min, a_max, out=out)

    def add_tt(self, a, b, out):
        np.add(a, b, out=out)

    def subtract_tt(self, a, b, out):
        np.subtract(a, b, out=out)

    def mult_tt(self, a, b, out):
        np.multiply(a, b, out=out)

    def mult_add_tt(self, a, b, out):
        out += a * b

    def divide_tt(self, a, b, out):
        np.divide(a, b, out=out)

    def modulo_tt(self, a, b, out):
        np.remainder(a, b, out=out)

    def add_into_if(self, a, out, cond):
        np.add(out, a, out=out, where=cond != 0)

    def add_st(self, s, t, out):
        np.add(t, s, out=out)

    def mult_st(self, s, t, out):
        np.multiply(t, s, out=out)

    def mult_add_st(self, s, t, out):
        out += s * t

    # ------------------------------------------------ matrix / vector --
    def add_mv(self, m, v, out):
        np.add(m, v, out=out)

    def subtract_mv(self, m, v, out):
        np.subtract(m, v, out=out)

    def mult_mv(self, m, v, out):
        np.multiply(m, v, out=out)

    def mult_add_mv(self, m, v, out):
        out += m * v

    def divide_mv(self, m, v, out):
        np.divide(m, v, out=out)

    @staticmethod
    def _dot_into(x, y, out):
        if (out.flags.c_contiguous and out.dtype == np.result_type(x, y)
                and not np.may_share_memory(out, x)
                and not np.may_share_memory(out, y)):
            np.dot(x, y, out=out)
        else:
            out[...] = np.dot(x, y)

    def dot_mm(self, a, b, out, transa=False, transb=False):
        self._dot_into(a.T if transa else a, b.T if transb else b, out)

    def dot_add_mm(self, a, b, out, transa=False, transb=False):
        out += np.dot(a.T if transa else a, b.T if transb else b)

    def binarize_v(self, v, out):
        out.fill(0)
        out[np.arange(out.shape[0]), v[:, 0].astype(np.intp)] = 1

    def index_m_by_v(self, m, v, out):
        out[:, 0] = m[np.arange(m.shape[0]), v[:, 0].astype(np.intp)]

    def softmax_m(self, m, out):
        row_max = m.max(axis=-1, keepdims=True)
        np.subtract(m, row_max, out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=-1, keepdims=True)

    # ----------------------------------------------------- reductions --
    def sum_t(self, a, axis, out):
        if axis is None:
            if out.shape == ():
                np.sum(a, out=out)
            else:
                out[...] = np.sum(a)
        elif out.ndim == a.ndim:
            np.sum(a, axis=axis, out=out, keepdims=True)
        else:
            np.sum(a, axis=axis, out=out)

    def broadcast_t(self, a, axis, out):
        out[...] = a

    def merge_tt(self, a, b, out):
        n = a.shape[-1]
        out[..., :n] = a
        out[..., n:] = b

    def split_add_tt(self, x, out_a, out_b):
        n = out_a.shape[-1]
        out_a += x[..., :n]
        out_b += x[..., n:]

    # ---------------------------------------------------- activations --
    def rel(self, x, y):
        np.maximum(x, 0, out=y)

    def rel_deriv(self, x, y, dy, dx):
        np.multiply(dy, y > 0, out=dx)

    def sigmoid(self, x, y):
        # exp(-x) may overflow to inf for x << 0, giving the right limit 0
        with np.errstate(over='ignore', under='ignore'):
            np.negative(x, out=y)
            np.exp(y, out=y)
        y += 1
        np.reciprocal(y, out=y)

    def sigmoid_deriv(self, x, y, dy, dx):
        slope = y * (1 - y)
        np.multiply(dy, slope, out=dx)

    def tanh(self, x, y):
        np.tanh(x, out=y)

    def tanh_deriv(self, x, y, dy, dx):
        slope = 1 - y * y
        np.multiply(dy, slope, out=dx)

    # --------------------------------------------------------- images --
    @staticmethod
    def _im2col(inputs, kh, kw, padding, stride):
        """(N * Ho * Wo, kh * kw * C) matrix of all image patches."""
        n, h, w, c = inputs.shape
        sh, sw = stride
        ho = _output_size(h, kh, padding, sh)
        wo = _output_size(w, kw, padding, sw)
        if padding:
            padded = np.zeros((n, h + 2 * padding, w + 2 * padding, c),
                              dtype=inputs.dtype)
            padded[:, padding:padding + h, padding:padding + w] = inputs
        else:
            padded = inputs
        s_n, s_h, s_w, s_c = padded.strides
        patches = as_strided(padded, shape=(n, ho, wo, kh, kw, c),
                             strides=(s_n, s_h * sh, s_w * sw, s_h, s_w, s_c),
                             writeable=False)
        return patches.reshape(n * ho * wo, kh * kw * c)

    def conv2d_forward_batch(self, inputs, weights, bias, outputs, padding,
                             stride):
        n_filters, kh, kw, _ = weights.shape
        cols = self._im2col(inputs, kh, kw, padding, stride)
        w_mat = weights.reshape(n_filters, -1).T
        if outputs.flags.c_contiguous:
            out2d = outputs.reshape(-1, n_filters)
            self._dot_into(cols, w_mat, out2d)
            out2d += bias
        else:
            result = np.dot(cols, w_mat)
            result += bias
            outputs[...] = result.reshape(outputs.shape)

    def conv2d_backward_batch(self, inputs, weights, padding, stride,
                              in_deltas, out_deltas, weight_deltas,
                              bias_deltas):
        n_filters, kh, kw, c = weights.shape
        _, h, w, _ = inputs.shape
        n, ho, wo, _ = out_deltas.shape
        sh, sw = stride
        d_out = np.reshape(out_deltas, (-1, n_filters))

        patches = self._im2col(inputs, kh, kw, padding, stride)
        weight_deltas += np.dot(d_out.T, patches).reshape(weights.shape)
        del patches
        bias_deltas += d_out.sum(axis=0)
        if in_deltas is None:
            return
        # Kernel tap (i, j) read input pixel (o*s - p + i) for output o: its
        # share of the input deltas is d_out @ W[:, i, j, :], added back to
        # those pixels. One (N*Ho*Wo, F) x (F, C) product per tap keeps every
        # operand contiguous (a single product into an (N*Ho*Wo, kh*kw*C)
        # matrix needs a scatter with a stride of kh*kw*C, far slower).
        contribution = np.empty((n, ho, wo, c), dtype=out_deltas.dtype)
        flat = contribution.reshape(-1, c)
        for i in range(kh):
            rows = _taps(i, padding, sh, ho, h)
            if rows is None:
                continue
            for j in range(kw):
                cols = _taps(j, padding, sw, wo, w)
                if cols is None:
                    continue
                np.dot(d_out, weights[:, i, j, :], out=flat)
                in_deltas[:, rows[0], cols[0]] += \
                    contribution[:, rows[1], cols[1]]

    def maxpool2d_forward_batch(self, inputs, window, outputs, padding,
                                stride, argmax):
        kh, kw = window
        sh, sw = stride
        n, h, w, c = inputs.shape
        _, ho, wo, _ = outputs.shape
        best = np.full((n, ho, wo, c), -np.inf, dtype=inputs.dtype)
        # offset of the best tap: row * w + col relative to the window
        # origin. Taps are visited in increasing offset order, so "take the
        # new offset where the value is strictly greater" is a maximum of
        # the offset and better * offset: branch-free, unlike a masked copy
        # (a random mask made copyto three times slower).
        offset = np.zeros((n, ho, wo, c), dtype=np.int32)
        candidate = np.empty((n, ho, wo, c), dtype=np.int32)
        better = np.empty((n, ho, wo, c), dtype=bool)
        for i in range(kh):
            rows = _taps(i, padding, sh, ho, h)
            if rows is None:
                continue
            for j in range(kw):
                cols = _taps(j, padding, sw, wo, w)
                if cols is None:
                    continue
                where = (slice(None), rows[1], cols[1])
                values = inputs[:, rows[0], cols[0]]
                np.greater(values, best[where], out=better[where])
                np.multiply(better[where], i * w + j, out=candidate[where])
                np.maximum(offset[where], candidate[where],
                           out=offset[where])
                np.maximum(best[where], values, out=best[where])
        row0 = np.arange(ho) * sh - padding
        col0 = np.arange(wo) * sw - padding
        base = (row0[:, None] * w + col0[None, :])[None, :, :, None]
        missing = np.isneginf(best)
        if missing.any():
            # windows without a value above -inf: take their first position
            # inside the image, or -1 (and output 0) if they have none
            i0, j0 = np.maximum(-row0, 0), np.maximum(-col0, 0)
            inside = (((i0 < kh) & (row0 + i0 < h))[:, None] &
                      ((j0 < kw) & (col0 + j0 < w))[None, :])
            first = np.where(inside, i0[:, None] * w + j0[None, :],
                             -1 - base[0, :, :, 0])[None, :, :, None]
            np.copyto(offset, first, where=missing)
            np.copyto(best, 0, where=missing & ~inside[None, :, :, None])
        outputs[...] = best
        np.add(offset, base, out=argmax, casting='unsafe')

    def maxpool2d_backward_batch(self, inputs, window, outputs, padding,
                                 stride, argmax, in_deltas, out_deltas):
        n, h, w, c = inputs.shape
        positions = argmax.astype(np.intp)
        flat = ((np.arange(n)[:, None, None, None] * (h * w) + positions) * c
                + np.arange(c))
        weights = out_deltas
        if padding >= window[0] or padding >= window[1]:
            valid = positions >= 0
            flat, weights = flat[valid], out_deltas[valid]
        sums = np.bincount(flat.ravel(), weights=weights.ravel(),
                           minlength=n * h * w * c)
        in_deltas += sums.reshape(in_deltas.shape)

    def _avg_counts(self, inputs, window, outputs, padding, stride):
        kh, kw = window
        sh, sw = stride
        _, h, w, _ = inputs.shape
        _, ho, wo, _ = outputs.shape
        counts = np.outer(_window_counts(h, kh, padding, sh, ho),
                          _window_counts(w, kw, padding, sw, wo))
        return np.maximum(counts, 1).astype(inputs.dtype)[None, :, :, None]

    def avgpool2d_forward_batch(self, inputs, window, outputs, padding,
                                stride):
        kh, kw = window
        sh, sw = stride
        _, h, w, _ = inputs.shape
        _, ho, wo, _ = outputs.shape
        outputs.fill(0)
        for i in range(kh):
            rows = _taps(i, padding, sh, ho, h)
            if rows is None:
                continue
            for j in range(kw):
                cols = _taps(j, padding, sw, wo, w)
                if cols is None:
                    continue
                outputs[:, rows[1], cols[1]] += inputs[:, rows[0], cols[0]]
        outputs /= self._avg_counts(inputs, window, outputs, padding, stride)

    def avgpool2d_backward_batch(self, inputs, window, outputs, padding,
                                 stride, in_deltas, out_deltas):
        kh, kw = window
        sh, sw = stride
        _, h, w, _ = inputs.shape
        _, ho, wo, _ = out_deltas.shape
        scaled = out_deltas / self._avg_counts(inputs, window, out_deltas,
                                               padding, stride)
        for i in range(kh):
            rows = _taps(i, padding, sh, ho, h)
            if rows is None:
                continue
            for j in range(kw):
                cols = _taps(j, padding, sw, wo, w)
                if cols is None:
                    continue
                in_deltas[:, rows[0], cols[0]] += scaled[:, rows[1], cols[1]]
