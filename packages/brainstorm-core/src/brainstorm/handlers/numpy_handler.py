"""The default handler: numpy arrays on the CPU."""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.lib.stride_tricks import as_strided

from brainstorm.handlers.base_handler import Handler
from brainstorm.randomness import global_rnd

__all__ = ['NumpyHandler']


def _separate(out, *inputs):
    """True when ``out`` is a contiguous array that no input can overlap,
    so that it may hold intermediate results."""
    return out.flags.c_contiguous and not any(
        np.may_share_memory(out, a) for a in inputs)


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


def default_num_threads():
    """Threads the NumpyHandler splits its memory-bound image operations
    over: ``$BRAINSTORM_NUM_THREADS`` if set, else the CPUs this process may
    run on."""
    value = os.environ.get('BRAINSTORM_NUM_THREADS', '').strip()
    if value:
        return max(1, int(value))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # not on Linux
        return os.cpu_count() or 1


_POOLS = {}
_POOLS_LOCK = threading.Lock()
# below this many elements per thread, handing work to a thread costs more
# than it saves
_MIN_ELEMENTS_PER_THREAD = 1 << 16


def _pool(workers):
    with _POOLS_LOCK:
        if workers not in _POOLS:
            _POOLS[workers] = ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix='brainstorm-numpy')
        return _POOLS[workers]


def _window_origins(ho, wo, w, padding, stride):
    """First input row and column of each pooling window, and the flat
    position ``row * w + col`` of each window origin, shaped (1, Ho, Wo, 1)."""
    row0 = np.arange(ho) * stride[0] - padding
    col0 = np.arange(wo) * stride[1] - padding
    return row0, col0, (row0[:, None] * w + col0[None, :])[None, :, :, None]


def _window_counts(size, kernel, padding, stride, n_out):
    """How many of the window positions of each output lie inside the
    input (along one axis)."""
    start = np.arange(n_out) * stride - padding
    return (np.minimum(start + kernel, size) -
            np.maximum(start, 0)).clip(min=0)



def _gate_delta(gate, a, b, out):
    """``out = gate * (1 - gate) * a * b``: the delta of a sigmoid gate's
    pre-activation (``gate`` its output) in four in-place passes."""
    np.subtract(1, gate, out=out)
    out *= gate
    out *= a
    out *= b

class NumpyHandler(Handler):
    """Handler computing with numpy arrays on the CPU.

    Parameters
    ----------
    dtype : numpy dtype, optional
        Floating point type of all arrays (default float32).
    seed : int, optional
        Seed of the handler's random state ``rnd``; drawn from
        ``brainstorm.global_rnd`` if not given.
    num_threads : int, optional
        Threads for the memory-bound parts of convolution and pooling
        (patch copies, pooling passes), each taking a share of the batch;
        numpy releases the GIL in them. Default: ``default_num_threads()``.
        Matrix products use BLAS's own threads either way.
    """

    array_type = np.ndarray
    context = 'numpy'

    def __init__(self, dtype=np.float32, seed=None, num_threads=None):
        self.dtype = np.dtype(dtype)
        self.num_threads = default_num_threads() if num_threads is None \
            else max(1, int(num_threads))
        if self.dtype.kind != 'f':
            raise ValueError('NumpyHandler needs a floating point dtype, got '
                             '{}'.format(self.dtype))
        self.context = 'numpy'
        self.EMPTY = np.zeros(0, dtype=self.dtype)
        self._scratch_buffers = {}
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
        if _separate(dx, y, dy):     # three passes over dx, no temporaries
            np.subtract(1, y, out=dx)
            dx *= y
            dx *= dy
        else:
            np.multiply(dy, y * (1 - y), out=dx)

    def tanh(self, x, y):
        np.tanh(x, out=y)

    def tanh_deriv(self, x, y, dy, dx):
        if _separate(dx, y, dy):
            np.multiply(y, y, out=dx)
            np.subtract(1, dx, out=dx)
            dx *= dy
        else:
            np.multiply(dy, 1 - y * y, out=dx)

    # ------------------------------------------------- fused cells --
    # Fewer passes than the default composition: the gate sigmoids as
    # 0.5 * tanh(0.5 * x) + 0.5 (4 passes, no exp and no division: about
    # 40% faster on (50, 512) float32), and the outputs serve as scratch
    # (the operation's arrays do not overlap), so no temporaries.
    @staticmethod
    def _gate(x):
        np.multiply(x, 0.5, out=x)
        np.tanh(x, out=x)
        x *= 0.5
        x += 0.5

    @staticmethod
    def _slope(activation, y, out):
        """``out = act'`` from the outputs ``y`` of act (not 'linear')."""
        if activation == 'tanh':
            np.multiply(y, y, out=out)
            np.subtract(1, out, out=out)
        elif activation == 'sigmoid':
            np.subtract(1, y, out=out)
            out *= y
        else:
            np.greater(y, 0, out=out)

    def lstm_cell_forward(self, z, i, f, o, c_prev, c, cb, y,
                          activation='tanh'):
        if activation != 'linear':
            getattr(self, activation)(z, z)
        for gate in (i, f, o):
            self._gate(gate)
        np.multiply(z, i, out=c)
        np.multiply(f, c_prev, out=y)
        c += y
        if activation != 'linear':
            getattr(self, activation)(c, cb)
        elif cb is not c:
            np.copyto(cb, c)
        np.multiply(o, cb, out=y)

    def lstm_cell_backward(self, z, i, f, o, c_prev, cb, dy, dc, dc_prev,
                           dz, di, df, do, activation='tanh'):
        linear = activation == 'linear'
        if linear:
            np.multiply(dy, o, out=do)
        else:
            self._slope(activation, cb, do)
            do *= o
            do *= dy
        dc += do
        _gate_delta(o, cb, dy, do)
        np.multiply(dc, f, out=dc_prev)
        if linear:
            np.multiply(dc, i, out=dz)
        else:
            self._slope(activation, z, dz)
            dz *= i
            dz *= dc
        _gate_delta(i, z, dc, di)
        _gate_delta(f, c_prev, dc, df)

    # --------------------------------------------------------- images --
    def _over_batch(self, part, n, elements):
        """Call ``part(batch_slice)`` on slices covering ``range(n)``, on
        several threads when ``elements`` (the size of the work) is large.

        The calling thread takes the first slice. ``part`` must only write
        to its own slice of the batch and must not call ``_over_batch``.
        """
        count = min(self.num_threads, n,
                    elements // _MIN_ELEMENTS_PER_THREAD)
        if count <= 1:
            part(slice(0, n))
            return
        step = -(-n // count)
        slices = [slice(i, min(i + step, n)) for i in range(0, n, step)]
        futures = [_pool(self.num_threads).submit(part, piece)
                   for piece in slices[1:]]
        try:
            part(slices[0])
        finally:
            for future in futures:
                future.result()

    def _scratch(self, name, shape, dtype=None):
        """Uninitialised array of ``shape`` in reusable memory, one buffer
        per name and thread, valid until the next request of that name.

        Temporaries of the image operations are large (the im2col matrix of
        a batch is tens of MB); fresh allocations of that size are mapped
        anew by the OS each time, and the page faults on first touch cost
        about a quarter of a cnn training step.
        """
        dtype = self.dtype if dtype is None else np.dtype(dtype)
        nbytes = int(np.prod(shape)) * dtype.itemsize
        key = (threading.get_ident(), name)
        buffer = self._scratch_buffers.get(key)
        if buffer is None or buffer.size < nbytes:
            buffer = np.empty(max(nbytes, 1), dtype=np.uint8)
            self._scratch_buffers[key] = buffer
        return buffer[:nbytes].view(dtype).reshape(shape)

    def release_scratch(self):
        """Free the reusable temporaries of the image operations."""
        self._scratch_buffers.clear()

    def _im2col(self, inputs, kh, kw, padding, stride):
        """(N * Ho * Wo, kh * kw * C) matrix of all image patches, in
        scratch memory (valid until the next ``_im2col``). ``padding`` is an
        int or a (rows, columns) pair."""
        n, h, w, c = inputs.shape
        sh, sw = stride
        ph, pw = (padding, padding) if np.ndim(padding) == 0 else padding
        ho = _output_size(h, kh, ph, sh)
        wo = _output_size(w, kw, pw, sw)
        cols = self._scratch('im2col', (n, ho, wo, kh, kw, c), inputs.dtype)

        def part(batch):
            images = inputs[batch]
            if ph or pw:
                padded = self._scratch('padded', (len(images), h + 2 * ph,
                                                  w + 2 * pw, c), inputs.dtype)
                padded[:, :ph] = 0
                padded[:, ph + h:] = 0
                padded[:, ph:ph + h, :pw] = 0
                padded[:, ph:ph + h, pw + w:] = 0
                padded[:, ph:ph + h, pw:pw + w] = images
            else:
                padded = images
            s_n, s_h, s_w, s_c = padded.strides
            cols[batch] = as_strided(
                padded, shape=(len(images), ho, wo, kh, kw, c),
                strides=(s_n, s_h * sh, s_w * sw, s_h, s_w, s_c),
                writeable=False)

        self._over_batch(part, n, cols.size)
        return cols.reshape(n * ho * wo, kh * kw * c)

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
        if (tuple(stride) == (1, 1) and padding < kh and padding < kw
                and n_filters <= 2 * c):
            # Stride 1: the input deltas are the "full" convolution of the
            # output deltas with the kernels flipped in space and filters
            # and channels swapped: d_in[y, x] = sum over taps (i, j) of
            # d_out[y + p - i, x + p - j] @ W[:, i, j, :]. Padding the
            # output deltas by kernel - 1 - p makes it one im2col and one
            # (N*H*W, kh*kw*F) x (kh*kw*F, C) product. Its patch copy grows
            # with F, the per-tap adds below with C, hence the F <= 2C test
            # (first layers with C = 3 take the per-tap path).
            cols = self._im2col(out_deltas, kh, kw,
                                (kh - 1 - padding, kw - 1 - padding), stride)
            flipped = np.ascontiguousarray(
                weights[:, ::-1, ::-1, :].transpose(1, 2, 0, 3)
            ).reshape(-1, c)
            if in_deltas.flags.c_contiguous \
                    and in_deltas.dtype == flipped.dtype:
                # in_deltas += cols @ flipped without a temporary matrix
                in_flat = in_deltas.reshape(-1, c)
                contribution = self._scratch('contribution', in_flat.shape,
                                             in_deltas.dtype)
                np.dot(cols, flipped, out=contribution)
                in_flat += contribution
            else:
                in_deltas += np.dot(cols, flipped).reshape(in_deltas.shape)
            return
        # Other strides: kernel tap (i, j) read input pixel (o*s - p + i)
        # for output o: its share of the input deltas is d_out @ W[:, i, j,
        # :], added back to those pixels. One (N*Ho*Wo, F) x (F, C) product
        # per tap keeps every operand contiguous (a single product into an
        # (N*Ho*Wo, kh*kw*C) matrix needs a scatter with a stride of
        # kh*kw*C, far slower).
        contribution = self._scratch('contribution', (n, ho, wo, c),
                                     out_deltas.dtype)
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
        row0, col0, base = _window_origins(ho, wo, w, padding, (sh, sw))
        tap_offsets = (np.arange(kh)[:, None] * w +
                       np.arange(kw)[None, :]).ravel().astype(np.int32)

        def part(batch):
            m = len(range(n)[batch])
            x = inputs[batch]
            best = self._scratch('pool_best', (m, ho, wo, c), inputs.dtype)
            best.fill(-np.inf)
            # index i * kw + j of the best tap so far. Taps are visited in
            # increasing index order, so "take the new index where the value
            # is strictly greater" is a maximum of the index and better *
            # index: branch-free, unlike a masked copy (a random mask made
            # copyto three times slower); uint8 indices where they fit keep
            # the memory traffic of these passes small.
            index_type = np.uint8 if kh * kw <= 256 else np.int32
            tap = self._scratch('pool_tap', (m, ho, wo, c), index_type)
            tap.fill(0)
            candidate = self._scratch('pool_candidate', (m, ho, wo, c),
                                      index_type)
            better = self._scratch('pool_better', (m, ho, wo, c), bool)
            for i in range(kh):
                rows = _taps(i, padding, sh, ho, h)
                if rows is None:
                    continue
                for j in range(kw):
                    cols = _taps(j, padding, sw, wo, w)
                    if cols is None:
                        continue
                    where = (slice(None), rows[1], cols[1])
                    values = x[:, rows[0], cols[0]]
                    np.greater(values, best[where], out=better[where])
                    np.multiply(better[where], index_type(i * kw + j),
                                out=candidate[where])
                    np.maximum(tap[where], candidate[where], out=tap[where])
                    np.maximum(best[where], values, out=best[where])
            # offset of the best tap relative to the window origin
            offset = self._scratch('pool_offset', (m, ho, wo, c), np.int32)
            np.take(tap_offsets, tap, out=offset)
            missing = np.isneginf(best)
            if missing.any():
                # windows without a value above -inf: take their first
                # position inside the image, or -1 (and output 0) if they
                # have none
                i0, j0 = np.maximum(-row0, 0), np.maximum(-col0, 0)
                inside = (((i0 < kh) & (row0 + i0 < h))[:, None] &
                          ((j0 < kw) & (col0 + j0 < w))[None, :])
                first = np.where(inside, i0[:, None] * w + j0[None, :],
                                 -1 - base[0, :, :, 0])[None, :, :, None]
                np.copyto(offset, first, where=missing)
                np.copyto(best, 0, where=missing & ~inside[None, :, :, None])
            outputs[batch] = best
            np.add(offset, base, out=argmax[batch], casting='unsafe')

        self._over_batch(part, n, n * ho * wo * c * kh * kw)

    def maxpool2d_backward_batch(self, inputs, window, outputs, padding,
                                 stride, argmax, in_deltas, out_deltas):
        kh, kw = window
        sh, sw = stride
        n, h, w, c = inputs.shape
        _, ho, wo, _ = out_deltas.shape
        row0, col0, base = _window_origins(ho, wo, w, padding, (sh, sw))

        def part(batch):
            m = len(range(n)[batch])
            d_in, d_out = in_deltas[batch], out_deltas[batch]
            # the winning tap of each output, as in the forward pass (an
            # output without one, stored as -1, matches no tap inside the
            # image)
            offset = self._scratch('pool_offset', (m, ho, wo, c), np.int32)
            np.subtract(argmax[batch], base, out=offset, casting='unsafe')
            hit = self._scratch('pool_better', (m, ho, wo, c), bool)
            share = self._scratch('pool_share', (m, ho, wo, c),
                                  out_deltas.dtype)
            for i in range(kh):
                rows = _taps(i, padding, sh, ho, h)
                if rows is None:
                    continue
                for j in range(kw):
                    cols = _taps(j, padding, sw, wo, w)
                    if cols is None:
                        continue
                    where = (slice(None), rows[1], cols[1])
                    np.equal(offset[where], i * w + j, out=hit[where])
                    np.multiply(d_out[where], hit[where], out=share[where])
                    d_in[:, rows[0], cols[0]] += share[where]

        self._over_batch(part, n, n * ho * wo * c * kh * kw)

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
