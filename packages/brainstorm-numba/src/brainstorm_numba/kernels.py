"""Compiled kernels of the NumbaHandler.

Every function here is compiled by numba on first use, for each combination
of argument types it meets (float32 and float64 arrays), and the machine
code is cached on disk beside this file (or in ``$NUMBA_CACHE_DIR``), so a
later process loads it instead of compiling again.

Arrays are passed as they are (C-contiguous, the handler checks); images
are (N, H, W, C) and the innermost loops run over the channels, which are
contiguous, so that LLVM vectorises them. The kernels are serial and
release the GIL (``nogil``): the handler runs them on its own threads, one
part of the batch each (numba's ``prange`` threads would compete with the
handler's and BLAS's pools).
"""
import numpy as np
from numba import njit

__all__ = []

_OPTIONS = dict(cache=True, fastmath=False, nogil=True, error_model='numpy')


# ------------------------------------------------------------- pooling --
@njit(inline='always', **_OPTIONS)
def _window(o, stride, pad, k, size):
    """Where the window of output position ``o`` starts along one axis,
    and the range [lo, hi) of its taps that lie inside the image."""
    start = o * stride - pad
    return start, max(0, -start), min(k, size - start)


@njit(**_OPTIONS)
def maxpool_forward(x, kh, kw, pad, sh, sw, out, argmax):
    """Max pooling of ``x`` (N, H, W, C) into ``out`` (N, Ho, Wo, C), with
    the flat position ``row * W + col`` of each maximum in ``argmax``.

    Visits the window positions inside the image in row-major order and
    takes a value strictly greater than the best so far (ties go to the
    first). A NaN makes the output NaN from there on, and later positions
    no longer win (as in the NumpyHandler). A window without a value above
    -inf gets its first position inside the image and the output -inf; a
    window wholly in the padding the output 0 and the position -1.
    """
    n, h, w, c = x.shape
    _, ho, wo, _ = out.shape
    best = np.empty(c, dtype=x.dtype)
    where = np.empty(c, dtype=np.int64)
    for img in range(n):
        for i in range(ho):
            y0, a0, a1 = _window(i, sh, pad, kh, h)
            for j in range(wo):
                x0, b0, b1 = _window(j, sw, pad, kw, w)
                o = out[img, i, j]
                m = argmax[img, i, j]
                if a1 <= a0 or b1 <= b0:
                    for t in range(c):
                        o[t] = 0
                        m[t] = -1
                    continue
                first = (y0 + a0) * w + x0 + b0
                for t in range(c):
                    best[t] = -np.inf
                    where[t] = first
                for a in range(a0, a1):
                    for b in range(b0, b1):
                        v = x[img, y0 + a, x0 + b]
                        position = (y0 + a) * w + x0 + b
                        for t in range(c):
                            if v[t] > best[t]:
                                best[t] = v[t]
                                where[t] = position
                            elif v[t] != v[t]:
                                # NaN: the output is NaN, the position
                                # stays (as numpy.maximum and greater)
                                best[t] = v[t]
                for t in range(c):
                    o[t] = best[t]
                    m[t] = where[t]


@njit(**_OPTIONS)
def maxpool_backward(argmax, out_deltas, w, in_deltas):
    """Add each output delta (N, Ho, Wo, C) into ``in_deltas`` (N, H, W, C)
    at the position its ``argmax`` entry names; negative entries are
    skipped."""
    n, ho, wo, c = out_deltas.shape
    for img in range(n):
        d_in = in_deltas[img]
        for i in range(ho):
            for j in range(wo):
                m = argmax[img, i, j]
                d = out_deltas[img, i, j]
                for t in range(c):
                    position = int(m[t])
                    if position >= 0:
                        d_in[position // w, position % w, t] += d[t]


@njit(**_OPTIONS)
def avgpool_forward(x, kh, kw, pad, sh, sw, out):
    """Average pooling of ``x`` into ``out``: the mean over the window
    positions inside the image (0 for a window wholly in the padding)."""
    n, h, w, c = x.shape
    _, ho, wo, _ = out.shape
    acc = np.empty(c, dtype=x.dtype)
    for img in range(n):
        for i in range(ho):
            y0, a0, a1 = _window(i, sh, pad, kh, h)
            for j in range(wo):
                x0, b0, b1 = _window(j, sw, pad, kw, w)
                o = out[img, i, j]
                for t in range(c):
                    acc[t] = 0
                count = max(a1 - a0, 0) * max(b1 - b0, 0)
                for a in range(a0, a1):
                    for b in range(b0, b1):
                        v = x[img, y0 + a, x0 + b]
                        for t in range(c):
                            acc[t] += v[t]
                count = max(count, 1)
                for t in range(c):
                    o[t] = acc[t] / count


@njit(**_OPTIONS)
def avgpool_backward(out_deltas, kh, kw, pad, sh, sw, in_deltas):
    """Add each output delta, divided by the number of inputs its window
    averaged, into each of those inputs."""
    n, ho, wo, c = out_deltas.shape
    _, h, w, _ = in_deltas.shape
    for img in range(n):
        for i in range(ho):
            y0, a0, a1 = _window(i, sh, pad, kh, h)
            for j in range(wo):
                x0, b0, b1 = _window(j, sw, pad, kw, w)
                count = max(a1 - a0, 0) * max(b1 - b0, 0)
                if count == 0:
                    continue
                d = out_deltas[img, i, j]
                for a in range(a0, a1):
                    for b in range(b0, b1):
                        target = in_deltas[img, y0 + a, x0 + b]
                        for t in range(c):
                            target[t] += d[t] / count
