"""Every NumpyHandler operation against a plain numpy (or plain Python loop)
reference."""
import itertools

import numpy as np
import pytest

from brainstorm.describable import create_from_description, get_description
from brainstorm.handlers.base_handler import OPERATIONS, Handler
from brainstorm.handlers.numpy_handler import NumpyHandler

DTYPES = [np.float32, np.float64]
TOL = {np.dtype(np.float32): dict(rtol=1e-5, atol=1e-5),
       np.dtype(np.float64): dict(rtol=1e-12, atol=1e-12)}

REFERENCE_TESTS = {}


def reference_test(*ops):
    def register(fn):
        for op in ops:
            REFERENCE_TESTS[op] = (fn, op)
        return fn
    return register


def close(got, expected, dtype):
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, expected, **TOL[np.dtype(dtype)])


def randn(rng, dtype, *shape):
    return rng.randn(*shape).astype(dtype)


# ---------------------------------------------------- plain references --
def conv_loops(x, w, b, padding, stride):
    n, h, wd, c = x.shape
    f, kh, kw, _ = w.shape
    sh, sw = stride
    xp = np.zeros((n, h + 2 * padding, wd + 2 * padding, c))
    xp[:, padding:padding + h, padding:padding + wd] = x
    ho = (h + 2 * padding - kh) // sh + 1
    wo = (wd + 2 * padding - kw) // sw + 1
    y = np.zeros((n, ho, wo, f))
    for i_n, i, j, i_f in itertools.product(range(n), range(ho), range(wo),
                                            range(f)):
        patch = xp[i_n, i * sh:i * sh + kh, j * sw:j * sw + kw]
        y[i_n, i, j, i_f] = b[i_f] + np.sum(patch * w[i_f])
    return y


def conv_backward_loops(x, w, padding, stride, dy):
    n, h, wd, c = x.shape
    f, kh, kw, _ = w.shape
    sh, sw = stride
    xp = np.zeros((n, h + 2 * padding, wd + 2 * padding, c))
    xp[:, padding:padding + h, padding:padding + wd] = x
    dxp, dw, db = np.zeros_like(xp), np.zeros(w.shape), np.zeros(f)
    _, ho, wo, _ = dy.shape
    for i_n, i, j, i_f in itertools.product(range(n), range(ho), range(wo),
                                            range(f)):
        g = dy[i_n, i, j, i_f]
        rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
        dxp[i_n, rows, cols] += g * w[i_f]
        dw[i_f] += g * xp[i_n, rows, cols]
        db[i_f] += g
    return dxp[:, padding:padding + h, padding:padding + wd], dw, db


def pool_loops(x, window, padding, stride, kind):
    n, h, w, c = x.shape
    kh, kw = window
    sh, sw = stride
    ho = (h + 2 * padding - kh) // sh + 1
    wo = (w + 2 * padding - kw) // sw + 1
    y = np.zeros((n, ho, wo, c))
    argmax = np.zeros((n, ho, wo, c))
    for i_n, i, j, i_c in itertools.product(range(n), range(ho), range(wo),
                                            range(c)):
        inside = [(r, q) for r in range(i * sh - padding,
                                        i * sh - padding + kh)
                  for q in range(j * sw - padding, j * sw - padding + kw)
                  if 0 <= r < h and 0 <= q < w]
        values = [x[i_n, r, q, i_c] for r, q in inside]
        if kind == 'max':
            best = int(np.argmax(values))
            y[i_n, i, j, i_c] = values[best]
            argmax[i_n, i, j, i_c] = inside[best][0] * w + inside[best][1]
        else:
            y[i_n, i, j, i_c] = np.mean(values)
    return y, argmax


def pool_backward_loops(x, window, padding, stride, kind, dy):
    n, h, w, c = x.shape
    kh, kw = window
    sh, sw = stride
    dx = np.zeros(x.shape)
    _, argmax = pool_loops(x, window, padding, stride, 'max')
    _, ho, wo, _ = dy.shape
    for i_n, i, j, i_c in itertools.product(range(n), range(ho), range(wo),
                                            range(c)):
        g = dy[i_n, i, j, i_c]
        if kind == 'max':
            pos = int(argmax[i_n, i, j, i_c])
            dx[i_n, pos // w, pos % w, i_c] += g
            continue
        inside = [(r, q) for r in range(i * sh - padding,
                                        i * sh - padding + kh)
                  for q in range(j * sw - padding, j * sw - padding + kw)
                  if 0 <= r < h and 0 <= q < w]
        for r, q in inside:
            dx[i_n, r, q, i_c] += g / len(inside)
    return dx


# (N, H, W, C, F, kh, kw, padding, stride)
CONV_CONFIGS = [
    (2, 5, 6, 2, 3, 3, 3, 0, (1, 1)),
    (2, 5, 4, 3, 2, 3, 2, 1, (2, 1)),
    (1, 6, 5, 2, 2, 2, 3, 2, (1, 2)),
    (2, 4, 4, 1, 2, 1, 1, 0, (1, 1)),
    (1, 7, 6, 2, 3, 3, 3, 1, (2, 2)),
    (1, 5, 5, 2, 2, 2, 2, 1, (3, 3)),
    # stride 1: input deltas as one product (F <= 2C, padding < kernel) ...
    (2, 5, 6, 3, 4, 3, 2, 1, (1, 1)),
    # ... or per kernel tap (F > 2C; padding as large as the kernel)
    (1, 4, 5, 1, 3, 3, 3, 1, (1, 1)),
    (1, 3, 3, 2, 2, 2, 2, 2, (1, 1)),
]
# (N, H, W, C, kh, kw, padding, stride)
POOL_CONFIGS = [
    (2, 5, 6, 2, 2, 2, 0, (2, 2)),
    (2, 5, 4, 3, 3, 2, 1, (2, 1)),
    (1, 6, 5, 2, 3, 3, 2, (1, 2)),
    (2, 5, 5, 1, 3, 3, 1, (1, 1)),
    (1, 4, 6, 2, 1, 1, 0, (1, 1)),
    (1, 7, 6, 2, 2, 3, 1, (3, 2)),
]


def out_size(h, w, kh, kw, padding, stride):
    return ((h + 2 * padding - kh) // stride[0] + 1,
            (w + 2 * padding - kw) // stride[1] + 1)


# ------------------------------------------------- per-operation tests --
@reference_test('allocate', 'zeros', 'ones')
def _new_arrays(h, rng, dtype, op):
    arr = getattr(h, op)((3, 5))
    assert isinstance(arr, np.ndarray) and arr.shape == (3, 5)
    assert arr.dtype == np.dtype(dtype)
    if op == 'zeros':
        assert np.all(arr == 0)
    if op == 'ones':
        assert np.all(arr == 1)


@reference_test('fill', 'fill_if')
def _fill(h, rng, dtype, op):
    mem = randn(rng, dtype, 4, 5)
    expected = mem.astype(np.float64)
    if op == 'fill':
        h.fill(mem, 2.5)
        expected[:] = 2.5
    else:
        cond = rng.choice([0, 1, -2], size=(4, 5)).astype(dtype)
        h.fill_if(mem, 2.5, cond)
        expected[cond != 0] = 2.5
    close(mem, expected, dtype)


@reference_test('fill_gaussian')
def _fill_gaussian(h, rng, dtype, op):
    out = np.zeros((300, 100), dtype=dtype)
    h.fill_gaussian(-1.0, 0.5, out)
    assert out.dtype == np.dtype(dtype)
    assert abs(out.mean() + 1.0) < 0.02 and abs(out.std() - 0.5) < 0.02


@reference_test('generate_probability_mask')
def _mask(h, rng, dtype, op):
    mask = randn(rng, dtype, 300, 100)
    h.generate_probability_mask(mask, 0.2)
    assert set(np.unique(mask)) <= {0.0, 1.0}
    assert abs(mask.mean() - 0.2) < 0.01


@reference_test('create_from_numpy', 'get_numpy_copy', 'set_from_numpy')
def _numpy_exchange(h, rng, dtype, op):
    source = rng.randn(3, 4)
    arr = h.create_from_numpy(source)
    assert arr.dtype == np.dtype(dtype) and not np.shares_memory(arr, source)
    close(arr, source.astype(dtype), dtype)
    copy = h.get_numpy_copy(arr)
    assert copy.dtype == np.dtype(dtype) and not np.shares_memory(copy, arr)
    close(copy, arr, dtype)
    new = rng.randn(3, 4).astype(dtype)
    h.set_from_numpy(arr, new)
    close(arr, new, dtype)


@reference_test('copy_to', 'copy_to_if')
def _copy(h, rng, dtype, op):
    src, dest = randn(rng, dtype, 3, 4, 2), randn(rng, dtype, 3, 4, 2)
    expected = dest.astype(np.float64)
    if op == 'copy_to':
        h.copy_to(src, dest)
        expected[:] = src
    else:
        cond = rng.choice([0, 1, 3], size=src.shape).astype(dtype)
        h.copy_to_if(src, dest, cond)
        expected[cond != 0] = src[cond != 0]
    close(dest, expected, dtype)


@reference_test('is_fully_finite')
def _finite(h, rng, dtype, op):
    a = randn(rng, dtype, 3, 4)
    assert h.is_fully_finite(a) is True
    for bad in (np.nan, np.inf, -np.inf):
        b = a.copy()
        b[1, 2] = bad
        assert h.is_fully_finite(b) is False


UNARY = {
    'abs_t': (np.abs, lambda rng, s: rng.randn(*s)),
    'sign_t': (np.sign, lambda rng, s: rng.randn(*s) * rng.randint(0, 2, s)),
    'sqrt_t': (np.sqrt, lambda rng, s: rng.uniform(0, 5, s)),
    'exp_t': (np.exp, lambda rng, s: rng.uniform(-4, 4, s)),
    'log_t': (np.log, lambda rng, s: rng.uniform(0.1, 10, s)),
    'rel': (lambda x: np.maximum(x, 0), lambda rng, s: rng.randn(*s)),
    'tanh': (np.tanh, lambda rng, s: rng.randn(*s) * 3),
    'sigmoid': (lambda x: 1 / (1 + np.exp(-x)),
                lambda rng, s: rng.randn(*s) * 5),
}


@reference_test(*UNARY)
def _unary(h, rng, dtype, op):
    fn, make = UNARY[op]
    a = make(rng, (3, 4, 5)).astype(dtype)
    out = np.empty_like(a)
    getattr(h, op)(a, out)
    close(out, fn(a.astype(np.float64)), dtype)
    getattr(h, op)(a, a)
    close(a, out, dtype)


@reference_test('clip_t')
def _clip(h, rng, dtype, op):
    a = randn(rng, dtype, 4, 6)
    out = np.empty_like(a)
    h.clip_t(a, -0.3, 0.5, out)
    close(out, np.clip(a, -0.3, 0.5), dtype)


BINARY = {
    'add_tt': lambda a, b, out: a + b,
    'subtract_tt': lambda a, b, out: a - b,
    'mult_tt': lambda a, b, out: a * b,
    'divide_tt': lambda a, b, out: a / b,
    'mult_add_tt': lambda a, b, out: out + a * b,
}


@reference_test(*BINARY)
def _binary(h, rng, dtype, op):
    a, b, out = (randn(rng, dtype, 2, 3, 5) for _ in range(3))
    expected = BINARY[op](*(x.astype(np.float64) for x in (a, b, out)))
    getattr(h, op)(a, b, out)
    close(out, expected, dtype)


@reference_test('modulo_tt')
def _modulo(h, rng, dtype, op):
    a = np.array([[5.5, -5.5, 5.5, -5.5, 0.0, 3.0]], dtype=dtype)
    b = np.array([[2.0, 2.0, -2.0, -2.0, 3.0, 1.5]], dtype=dtype)
    out = np.empty_like(a)
    h.modulo_tt(a, b, out)
    expected = [x % y for x, y in zip(a.ravel().tolist(), b.ravel().tolist())]
    close(out, np.array([expected]), dtype)


@reference_test('add_into_if')
def _add_into_if(h, rng, dtype, op):
    a, out = randn(rng, dtype, 4, 5), randn(rng, dtype, 4, 5)
    cond = rng.choice([0, 1, -1], size=(4, 5)).astype(dtype)
    expected = out + np.where(cond != 0, a, 0)
    h.add_into_if(a, out, cond)
    close(out, expected, dtype)


@reference_test('add_st', 'mult_st', 'mult_add_st')
def _scalar(h, rng, dtype, op):
    t, out = randn(rng, dtype, 3, 7), randn(rng, dtype, 3, 7)
    s = -1.75
    expected = {'add_st': t + s, 'mult_st': t * s,
                'mult_add_st': out + s * t}[op]
    getattr(h, op)(np.float64(s), t, out)
    close(out, expected, dtype)


@reference_test('momentum_update')
def _momentum_update(h, rng, dtype, op):
    v, g, p = (randn(rng, dtype, 4, 6) for _ in range(3))
    expected_v = 0.9 * v.astype(np.float64) - 0.05 * g.astype(np.float64)
    expected_p = p.astype(np.float64) + expected_v
    h.momentum_update(v, g, p, 0.9, -0.05)
    close(v, expected_v, dtype)
    close(p, expected_p, dtype)


MV = {
    'add_mv': lambda m, v, out: m + v,
    'subtract_mv': lambda m, v, out: m - v,
    'mult_mv': lambda m, v, out: m * v,
    'mult_add_mv': lambda m, v, out: out + m * v,
    'divide_mv': lambda m, v, out: m / v,
}


@reference_test(*MV)
def _mv(h, rng, dtype, op):
    for v_shape in [(1, 7), (5, 1), (5, 7)]:
        m, out = randn(rng, dtype, 5, 7), randn(rng, dtype, 5, 7)
        v = (rng.uniform(0.5, 2, v_shape) * rng.choice([-1, 1], v_shape)
             ).astype(dtype)
        expected = MV[op](m, v, out.astype(np.float64))
        getattr(h, op)(m, v, out)
        close(out, expected, dtype)


@reference_test('dot_mm', 'dot_add_mm')
def _dot(h, rng, dtype, op):
    for transa, transb in itertools.product([False, True], repeat=2):
        a = randn(rng, dtype, *((6, 4) if transa else (4, 6)))
        b = randn(rng, dtype, *((3, 6) if transb else (6, 3)))
        out = randn(rng, dtype, 4, 3)
        product = (a.T if transa else a).astype(np.float64) @ \
            (b.T if transb else b).astype(np.float64)
        expected = product + out if op == 'dot_add_mm' else product
        getattr(h, op)(a, b, out, transa=transa, transb=transb)
        close(out, expected, dtype)


@reference_test('binarize_v')
def _binarize(h, rng, dtype, op):
    v = np.array([[2], [0], [3], [3], [1]], dtype=dtype)
    out = randn(rng, dtype, 5, 4)
    h.binarize_v(v, out)
    close(out, np.eye(4)[[2, 0, 3, 3, 1]], dtype)


@reference_test('index_m_by_v')
def _index(h, rng, dtype, op):
    m = randn(rng, dtype, 5, 4)
    v = np.array([[2], [0], [3], [3], [1]], dtype=dtype)
    out = randn(rng, dtype, 5, 1)
    h.index_m_by_v(m, v, out)
    close(out, m[np.arange(5), [2, 0, 3, 3, 1]][:, None], dtype)


@reference_test('softmax_m')
def _softmax(h, rng, dtype, op):
    m = randn(rng, dtype, 4, 6) * 3
    m[0] += 500
    m[1] -= 500
    out = np.empty_like(m)
    h.softmax_m(m, out)
    shifted = m.astype(np.float64) - m.max(axis=1, keepdims=True)
    expected = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    close(out, expected, dtype)
    assert np.all(np.isfinite(out))


@reference_test('sum_t')
def _sum(h, rng, dtype, op):
    a = randn(rng, dtype, 5, 7)
    a64 = a.astype(np.float64)
    for axis, shape in [(None, (1,)), (None, (1, 1)), (None, ()), (0, (7,)),
                        (0, (1, 7)), (1, (5,)), (1, (5, 1))]:
        out = np.empty(shape, dtype=dtype)
        h.sum_t(a, axis, out)
        close(out, np.sum(a64, axis=axis).reshape(shape), dtype)


@reference_test('broadcast_t')
def _broadcast(h, rng, dtype, op):
    a = randn(rng, dtype, 2, 3, 1)
    out = np.empty((2, 3, 5), dtype=dtype)
    h.broadcast_t(a, 2, out)
    close(out, np.repeat(a, 5, axis=2), dtype)
    a = randn(rng, dtype, 1, 4)
    out = np.empty((3, 4), dtype=dtype)
    h.broadcast_t(a, 0, out)
    close(out, np.repeat(a, 3, axis=0), dtype)


@reference_test('merge_tt', 'split_add_tt')
def _merge_split(h, rng, dtype, op):
    a, b = randn(rng, dtype, 2, 3, 4), randn(rng, dtype, 2, 3, 2)
    if op == 'merge_tt':
        out = np.empty((2, 3, 6), dtype=dtype)
        h.merge_tt(a, b, out)
        close(out, np.concatenate([a, b], axis=-1), dtype)
    else:
        x = randn(rng, dtype, 2, 3, 6)
        expected_a, expected_b = a + x[..., :4], b + x[..., 4:]
        h.split_add_tt(x, a, b)
        close(a, expected_a, dtype)
        close(b, expected_b, dtype)


DERIVS = {
    'rel_deriv': (lambda x: np.maximum(x, 0), lambda y: (y > 0) * 1.0),
    'sigmoid_deriv': (lambda x: 1 / (1 + np.exp(-x)), lambda y: y * (1 - y)),
    'tanh_deriv': (np.tanh, lambda y: 1 - y ** 2),
}


@reference_test(*DERIVS)
def _derivs(h, rng, dtype, op):
    forward, slope = DERIVS[op]
    x = randn(rng, dtype, 3, 4, 5)
    y = forward(x).astype(dtype)
    dy, dx = randn(rng, dtype, 3, 4, 5), randn(rng, dtype, 3, 4, 5)
    getattr(h, op)(x, y, dy, dx)
    close(dx, dy * slope(y.astype(np.float64)), dtype)
    expected = dx.copy()
    y_copy = y.copy()
    getattr(h, op)(None, y_copy, dy.copy(), y_copy)   # written over y
    close(y_copy, expected, dtype)
    getattr(h, op)(None, y, dy, dy)   # x unused, in place
    close(dy, expected, dtype)


ACTS = {'linear': (lambda x: x, lambda y: np.ones_like(y)),
        'rel': DERIVS['rel_deriv'], 'sigmoid': DERIVS['sigmoid_deriv'],
        'tanh': DERIVS['tanh_deriv']}


def _sigmoid64(x):
    return 1 / (1 + np.exp(-x.astype(np.float64)))


@reference_test('lstm_cell_forward')
def _lstm_cell_forward(h, rng, dtype, op):
    for act, (forward, _) in ACTS.items():
        z, i, f, o = [randn(rng, dtype, 4, 6) * 3 for _ in range(4)]
        i.flat[0], f.flat[1], o.flat[2] = 80, -80, 80   # saturated gates
        c_prev = randn(rng, dtype, 4, 6)
        c, cb, y = [np.full((4, 6), np.nan, dtype) for _ in range(3)]
        if act == 'linear':
            cb = c
        za = forward(z.astype(np.float64))
        ia, fa, oa = _sigmoid64(i), _sigmoid64(f), _sigmoid64(o)
        state = za * ia + c_prev * fa
        h.lstm_cell_forward(z, i, f, o, c_prev, c, cb, y, act)
        for got, expected in [(z, za), (i, ia), (f, fa), (o, oa),
                              (c, state), (cb, forward(state)),
                              (y, oa * forward(state))]:
            close(got, expected, dtype)


@reference_test('lstm_cell_backward')
def _lstm_cell_backward(h, rng, dtype, op):
    for act, (forward, slope) in ACTS.items():
        z = forward(randn(rng, dtype, 4, 6) * 2).astype(dtype)
        i, f, o = [_sigmoid64(randn(rng, dtype, 4, 6) * 3).astype(dtype)
                   for _ in range(3)]
        c_prev = randn(rng, dtype, 4, 6)
        cb = forward(randn(rng, dtype, 4, 6) * 2).astype(dtype)
        dy, dc = randn(rng, dtype, 4, 6), randn(rng, dtype, 4, 6)
        dc_prev, dz, di, df, do = [np.full((4, 6), np.nan, dtype)
                                   for _ in range(5)]
        z64, i64, f64, o64 = [a.astype(np.float64) for a in (z, i, f, o)]
        total = dc + dy * o64 * slope(cb.astype(np.float64))
        h.lstm_cell_backward(z, i, f, o, c_prev, cb, dy, dc, dc_prev, dz,
                             di, df, do, act)
        for got, expected in [
                (dc, total), (dc_prev, total * f64),
                (dz, total * i64 * slope(z64)),
                (di, total * z64 * i64 * (1 - i64)),
                (df, total * c_prev * f64 * (1 - f64)),
                (do, dy * cb * o64 * (1 - o64))]:
            close(got, expected, dtype)


@reference_test('conv2d_forward_batch')
def _conv_forward(h, rng, dtype, op):
    for n, ht, wd, c, f, kh, kw, padding, stride in CONV_CONFIGS:
        x, w = randn(rng, dtype, n, ht, wd, c), randn(rng, dtype, f, kh, kw, c)
        b = randn(rng, dtype, f)
        ho, wo = out_size(ht, wd, kh, kw, padding, stride)
        y = randn(rng, dtype, n, ho, wo, f)
        h.conv2d_forward_batch(x, w, b, y, padding, stride)
        close(y, conv_loops(x, w, b, padding, stride), dtype)


@reference_test('conv2d_backward_batch')
def _conv_backward(h, rng, dtype, op):
    for n, ht, wd, c, f, kh, kw, padding, stride in CONV_CONFIGS:
        x, w = randn(rng, dtype, n, ht, wd, c), randn(rng, dtype, f, kh, kw, c)
        ho, wo = out_size(ht, wd, kh, kw, padding, stride)
        dy = randn(rng, dtype, n, ho, wo, f)
        dx, dw, db = (randn(rng, dtype, *x.shape), randn(rng, dtype, *w.shape),
                      randn(rng, dtype, f))
        gx, gw, gb = conv_backward_loops(x, w, padding, stride, dy)
        ex, ew, eb = gx + dx, gw + dw, gb + db
        h.conv2d_backward_batch(x, w, padding, stride, dx, dy, dw, db)
        close(dx, ex, dtype)
        close(dw, ew, dtype)
        close(db, eb, dtype)
        # in_deltas=None: only the parameter gradients are added
        h.conv2d_backward_batch(x, w, padding, stride, None, dy, dw, db)
        close(dw, ew + gw, dtype)
        close(db, eb + gb, dtype)


@reference_test('maxpool2d_forward_batch', 'avgpool2d_forward_batch')
def _pool_forward(h, rng, dtype, op):
    kind = op[:3]
    for n, ht, wd, c, kh, kw, padding, stride in POOL_CONFIGS:
        x = randn(rng, dtype, n, ht, wd, c)
        ho, wo = out_size(ht, wd, kh, kw, padding, stride)
        y = randn(rng, dtype, n, ho, wo, c)
        ey, eargmax = pool_loops(x, (kh, kw), padding, stride, kind)
        if kind == 'max':
            argmax = randn(rng, dtype, n, ho, wo, c)
            h.maxpool2d_forward_batch(x, (kh, kw), y, padding, stride, argmax)
            close(argmax, eargmax, dtype)
        else:
            h.avgpool2d_forward_batch(x, (kh, kw), y, padding, stride)
        close(y, ey, dtype)


@reference_test('maxpool2d_backward_batch', 'avgpool2d_backward_batch')
def _pool_backward(h, rng, dtype, op):
    kind = op[:3]
    for n, ht, wd, c, kh, kw, padding, stride in POOL_CONFIGS:
        x = randn(rng, dtype, n, ht, wd, c)
        ho, wo = out_size(ht, wd, kh, kw, padding, stride)
        y, argmax = (a.astype(dtype) for a in
                     pool_loops(x, (kh, kw), padding, stride, kind))
        dy, dx = randn(rng, dtype, n, ho, wo, c), randn(rng, dtype, *x.shape)
        expected = dx + pool_backward_loops(x, (kh, kw), padding, stride,
                                            kind, dy)
        if kind == 'max':
            h.maxpool2d_backward_batch(x, (kh, kw), y, padding, stride,
                                       argmax, dx, dy)
        else:
            h.avgpool2d_backward_batch(x, (kh, kw), y, padding, stride, dx,
                                       dy)
        close(dx, expected, dtype)


# ----------------------------------------------------------------- tests --
def test_every_operation_has_a_reference_test():
    assert sorted(set(OPERATIONS) - set(REFERENCE_TESTS)) == []
    assert len(set(OPERATIONS)) == len(OPERATIONS)
    for op in OPERATIONS:
        assert callable(getattr(Handler, op))


@pytest.mark.parametrize('dtype', DTYPES, ids=['float32', 'float64'])
@pytest.mark.parametrize('op', OPERATIONS)
def test_operation_against_reference(op, dtype):
    fn, name = REFERENCE_TESTS[op]
    fn(NumpyHandler(dtype, seed=1), np.random.RandomState(7), dtype, name)


def test_base_handler_operations_are_abstract():
    h = Handler()
    with pytest.raises(NotImplementedError):
        h.add_tt(None, None, None)
    with pytest.raises(NotImplementedError):
        h.conv2d_forward_batch(None, None, None, None, 0, (1, 1))


def test_attributes():
    h = NumpyHandler()
    assert h.dtype == np.dtype(np.float32) and isinstance(h.dtype, np.dtype)
    assert h.array_type is np.ndarray and h.context == 'numpy'
    assert h.EMPTY.shape == (0,) and h.EMPTY.dtype == np.float32
    assert NumpyHandler(np.float64).dtype == np.float64
    assert NumpyHandler('float64').EMPTY.dtype == np.float64
    with pytest.raises(ValueError):
        NumpyHandler(np.int32)


def test_float32_stays_float32():
    h = NumpyHandler(np.float32)
    assert h.create_from_numpy(np.arange(4.0)).dtype == np.float32
    assert h.create_from_numpy(np.arange(4)).dtype == np.float32
    assert h.get_numpy_copy(h.zeros((2, 2))).dtype == np.float32
    out = h.zeros((3, 3))
    h.mult_add_st(np.float64(2.0), h.ones((3, 3)), out)
    h.add_st(np.float64(0.5), out, out)
    assert out.dtype == np.float32 and np.allclose(out, 2.5)


def test_non_contiguous_outputs():
    h = NumpyHandler(np.float64)
    rng = np.random.RandomState(3)
    a, b = rng.randn(4, 6), rng.randn(6, 3)
    big = np.zeros((4, 7))
    out = big[:, 1:7:2]
    h.dot_mm(a, b, out)
    np.testing.assert_allclose(out, a @ b)
    assert np.all(big[:, 0] == 0)
    h.dot_add_mm(a, b, out)
    np.testing.assert_allclose(out, 2 * a @ b)

    x, w, bias = rng.randn(2, 5, 5, 2), rng.randn(3, 3, 3, 2), rng.randn(3)
    outputs = np.zeros((2, 5, 5, 6))[..., ::2]
    h.conv2d_forward_batch(x, w, bias, outputs, 1, (1, 1))
    np.testing.assert_allclose(outputs, conv_loops(x, w, bias, 1, (1, 1)))

    dy = rng.randn(2, 5, 5, 3)
    dx = np.zeros((2, 5, 5, 4))[..., 1::2]
    dw = np.zeros((3, 3, 3, 2))
    db = np.zeros((6,))[::2]
    h.conv2d_backward_batch(x, w, 1, (1, 1), dx, dy, dw, db)
    ex, ew, eb = conv_backward_loops(x, w, 1, (1, 1), dy)
    np.testing.assert_allclose(dx, ex)
    np.testing.assert_allclose(dw, ew)
    np.testing.assert_allclose(db, eb)


@pytest.mark.parametrize('config', [(1, 4, 5, 2, 2, 2, 3, 1, (2, 1)),
                                    (2, 5, 4, 1, 3, 3, 2, 0, (1, 2)),
                                    (1, 3, 3, 2, 1, 2, 2, 2, (2, 2))])
def test_conv_backward_matches_finite_differences(config):
    n, ht, wd, c, f, kh, kw, padding, stride = config
    h = NumpyHandler(np.float64)
    rng = np.random.RandomState(11)
    x, w, b = rng.randn(n, ht, wd, c), rng.randn(f, kh, kw, c), rng.randn(f)
    ho, wo = out_size(ht, wd, kh, kw, padding, stride)
    weights_of_loss = rng.randn(n, ho, wo, f)

    def loss():
        y = np.empty((n, ho, wo, f))
        h.conv2d_forward_batch(x, w, b, y, padding, stride)
        return np.sum(y * weights_of_loss)

    dx, dw, db = np.zeros(x.shape), np.zeros(w.shape), np.zeros(f)
    h.conv2d_backward_batch(x, w, padding, stride, dx, weights_of_loss, dw,
                            db)
    eps = 1e-6
    for array, grad in ((x, dx), (w, dw), (b, db)):
        numeric = np.zeros(array.shape)
        for idx in np.ndindex(array.shape):
            old = array[idx]
            array[idx] = old + eps
            plus = loss()
            array[idx] = old - eps
            minus = loss()
            array[idx] = old
            numeric[idx] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-7)


def test_maxpool_ties_take_the_first_position_and_padding_never_wins():
    h = NumpyHandler(np.float64)
    x = -np.ones((1, 3, 3, 1))
    y, argmax = np.empty((1, 3, 3, 1)), np.empty((1, 3, 3, 1))
    h.maxpool2d_forward_batch(x, (3, 3), y, 1, (1, 1), argmax)
    assert np.all(y == -1)
    # the first inside position of each window, in row-major order
    expected = [[0, 0, 1], [0, 0, 1], [3, 3, 4]]
    np.testing.assert_array_equal(argmax[0, :, :, 0], expected)


def test_maxpool_windows_of_minus_inf_and_windows_in_the_padding():
    h = NumpyHandler(np.float64)
    x = np.full((1, 3, 3, 1), -np.inf)
    y, argmax = np.empty((1, 3, 3, 1)), np.empty((1, 3, 3, 1))
    h.maxpool2d_forward_batch(x, (3, 3), y, 1, (1, 1), argmax)
    assert np.all(y == -np.inf)
    expected = pool_loops(x, (3, 3), 1, (1, 1), 'max')[1]
    np.testing.assert_array_equal(argmax, expected)

    # padding 2 >= window 2: the corner windows lie entirely in the padding
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    y, argmax = np.empty((1, 6, 6, 1)), np.empty((1, 6, 6, 1))
    h.maxpool2d_forward_batch(x, (2, 2), y, 2, (1, 1), argmax)
    assert y[0, 0, 0, 0] == 0 and argmax[0, 0, 0, 0] == -1
    assert y[0, 5, 5, 0] == 0 and argmax[0, 5, 5, 0] == -1
    assert y[0, 1, 1, 0] == 0 and argmax[0, 1, 1, 0] == 0
    assert y[0, 3, 3, 0] == 8 and argmax[0, 3, 3, 0] == 8
    dx = np.zeros(x.shape)
    h.maxpool2d_backward_batch(x, (2, 2), y, 2, (1, 1), argmax, dx,
                               np.ones(y.shape))
    assert dx.sum() == 16    # only the 4 x 4 windows reaching the image
    avg = np.empty((1, 6, 6, 1))
    h.avgpool2d_forward_batch(x, (2, 2), avg, 2, (1, 1))
    assert avg[0, 0, 0, 0] == 0 and avg[0, 3, 3, 0] == 6
    assert avg[0, 2, 2, 0] == np.mean([0, 1, 3, 4])


def test_sigmoid_does_not_overflow():
    h = NumpyHandler(np.float32)
    x = np.array([-1000, -100, -20, 0, 20, 100, 1000], dtype=np.float32)
    y = np.empty_like(x)
    with np.errstate(all='raise'):
        h.sigmoid(x, y)
    expected = np.exp(-np.logaddexp(0, -x.astype(np.float64)))
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-30)


def test_description_round_trip():
    for dtype in ('float32', 'float64'):
        h = NumpyHandler(dtype)
        description = get_description(h)
        assert description == {'@type': 'NumpyHandler', 'dtype': dtype}
        new = create_from_description(description)
        assert isinstance(new, NumpyHandler)
        assert new.dtype == np.dtype(dtype)
        assert get_description(new) == description


def test_same_seed_same_masks():
    masks = []
    for seed in (5, 5, 6):
        h = NumpyHandler(seed=seed)
        mask = h.zeros((20, 30))
        h.generate_probability_mask(mask, 0.5)
        masks.append(mask)
    np.testing.assert_array_equal(masks[0], masks[1])
    assert not np.array_equal(masks[0], masks[2])

    h = NumpyHandler(seed=5)
    h.rnd.set_seed(9)
    first = h.zeros((10, 10))
    h.fill_gaussian(0, 1, first)
    h.rnd.set_seed(9)
    second = h.zeros((10, 10))
    h.fill_gaussian(0, 1, second)
    np.testing.assert_array_equal(first, second)


def test_threaded_image_operations_equal_the_single_threaded_ones():
    """Work split over the batch on several threads gives the same numbers
    (the batches here are large enough to be split)."""
    rng = np.random.RandomState(5)
    one, three = NumpyHandler(num_threads=1), NumpyHandler(num_threads=3)
    assert three.num_threads == 3
    x = rng.randn(9, 30, 30, 16).astype(np.float32)
    w = rng.randn(16, 5, 5, 16).astype(np.float32)
    b = rng.randn(16).astype(np.float32)
    dy = rng.randn(9, 30, 30, 16).astype(np.float32)
    results = []
    for h in (one, three):
        y = np.zeros((9, 30, 30, 16), np.float32)
        h.conv2d_forward_batch(x, w, b, y, 2, (1, 1))
        dx, dw, db = (np.zeros_like(x), np.zeros_like(w), np.zeros_like(b))
        h.conv2d_backward_batch(x, w, 2, (1, 1), dx, dy, dw, db)
        pooled = np.zeros((9, 14, 14, 16), np.float32)
        argmax = np.zeros_like(pooled)
        h.maxpool2d_forward_batch(x, (3, 3), pooled, 0, (2, 2), argmax)
        dpool = np.zeros_like(x)
        h.maxpool2d_backward_batch(x, (3, 3), pooled, 0, (2, 2), argmax,
                                   dpool, pooled)
        results.append((y, dx, dw, db, pooled, argmax, dpool))
    for single, threaded in zip(*results):
        np.testing.assert_allclose(threaded, single, rtol=1e-5, atol=1e-5)
    expected, _ = pool_loops(x, (3, 3), 0, (2, 2), 'max')
    np.testing.assert_array_equal(results[1][4], expected)


def test_num_threads_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv('BRAINSTORM_NUM_THREADS', '3')
    assert NumpyHandler().num_threads == 3
    monkeypatch.delenv('BRAINSTORM_NUM_THREADS')
    assert NumpyHandler().num_threads >= 1


@pytest.mark.parametrize('act', sorted(ACTS))
def test_fused_cell_operations_equal_their_default_implementations(act):
    """An override of the fused cell operations computes what the base
    class's composition of primitives computes."""
    h = NumpyHandler(np.float32)
    results = []
    for impl in (NumpyHandler, Handler):
        rng = np.random.RandomState(4)              # same inputs for both
        z, i, f, o, c_prev, dy, dc = [randn(rng, np.float32, 50, 64) * 2
                                      for _ in range(7)]
        c, cb, y = [np.empty((50, 64), np.float32) for _ in range(3)]
        if act == 'linear':
            cb = c
        impl.lstm_cell_forward(h, z, i, f, o, c_prev, c, cb, y, act)
        grads = [np.empty((50, 64), np.float32) for _ in range(5)]
        impl.lstm_cell_backward(h, z, i, f, o, c_prev, cb, dy, dc, *grads,
                                activation=act)
        results.append([z, i, f, o, c, cb, y, dc] + grads)
    for got, expected in zip(*results):
        # float32 rounding (the gates' sigmoid forms differ by ~1e-7)
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(got, expected, rtol=1e-5,
                                   atol=1e-5 * scale)
