"""The compiled pooling operations against a plain numpy reference (window
by window) and the NumpyHandler, on odd shapes: strides, padding,
non-square windows, ties, windows without a finite value or wholly in the
padding, batches split over threads."""
import itertools

import numpy as np
import pytest

from brainstorm.handlers import NumpyHandler
from brainstorm_numba import NumbaHandler

DTYPES = [np.float32, np.float64]
CONFIGS = [  # (N, H, W, C, window, padding, stride)
    (2, 5, 6, 3, (2, 2), 0, (2, 2)),
    (3, 7, 5, 2, (3, 3), 1, (1, 1)),
    (2, 6, 6, 1, (3, 2), 1, (2, 1)),
    (1, 4, 9, 5, (1, 4), 0, (1, 3)),
    (2, 3, 4, 2, (2, 2), 2, (2, 3)),     # windows wholly in the padding
    (64, 9, 9, 16, (3, 3), 0, (2, 2)),   # split over threads
]


def _size(size, kernel, padding, stride):
    return (size + 2 * padding - kernel) // stride + 1


def _windows(h, w, window, padding, stride):
    """(i, j, [(row, col) inside the image, row-major])"""
    ho = _size(h, window[0], padding, stride[0])
    wo = _size(w, window[1], padding, stride[1])
    for i, j in itertools.product(range(ho), range(wo)):
        y0, x0 = i * stride[0] - padding, j * stride[1] - padding
        yield i, j, [(y, x) for y in range(y0, y0 + window[0])
                     for x in range(x0, x0 + window[1])
                     if 0 <= y < h and 0 <= x < w]


def reference_maxpool(x, window, padding, stride):
    n, h, w, c = x.shape
    ho = _size(h, window[0], padding, stride[0])
    wo = _size(w, window[1], padding, stride[1])
    out = np.zeros((n, ho, wo, c))
    argmax = np.full((n, ho, wo, c), -1.0)
    for i, j, inside in _windows(h, w, window, padding, stride):
        for b, ch in itertools.product(range(n), range(c)):
            if not inside:
                continue
            values = [x[b, y, xx, ch] for y, xx in inside]
            k = int(np.argmax(values))      # first of equal maxima
            out[b, i, j, ch] = values[k]
            argmax[b, i, j, ch] = inside[k][0] * w + inside[k][1]
    return out, argmax


def reference_avgpool(x, window, padding, stride):
    n, h, w, c = x.shape
    ho = _size(h, window[0], padding, stride[0])
    wo = _size(w, window[1], padding, stride[1])
    out = np.zeros((n, ho, wo, c))
    for i, j, inside in _windows(h, w, window, padding, stride):
        if inside:
            out[:, i, j] = np.mean([x[:, y, xx] for y, xx in inside], axis=0)
    return out


def _inputs(config, dtype, seed=0, ties=False):
    n, h, w, c = config[:4]
    rnd = np.random.RandomState(seed)
    if ties:   # few distinct values: many equal maxima in each window
        return rnd.randint(0, 3, (n, h, w, c)).astype(dtype)
    return rnd.randn(n, h, w, c).astype(dtype)


def _out_shape(config):
    n, h, w, c, window, padding, stride = config
    return (n, _size(h, window[0], padding, stride[0]),
            _size(w, window[1], padding, stride[1]), c)


@pytest.mark.parametrize('dtype', DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize('ties', [False, True])
@pytest.mark.parametrize('config', CONFIGS, ids=str)
def test_max_pooling(config, ties, dtype):
    window, padding, stride = config[4:]
    x = _inputs(config, dtype, ties=ties)
    expected, expected_argmax = reference_maxpool(x, window, padding, stride)
    results = {}
    for h in (NumbaHandler(dtype), NumpyHandler(dtype)):
        out = np.full(_out_shape(config), np.nan, dtype)
        argmax = np.full(_out_shape(config), np.nan, dtype)
        h.maxpool2d_forward_batch(x, window, out, padding, stride, argmax)
        np.testing.assert_array_equal(out, expected)
        np.testing.assert_array_equal(argmax, expected_argmax)
        d_out = np.random.RandomState(1).randn(*out.shape).astype(dtype)
        d_in = np.random.RandomState(2).randn(*x.shape).astype(dtype)
        h.maxpool2d_backward_batch(x, window, out, padding, stride, argmax,
                                   d_in, d_out)
        results[type(h).__name__] = d_in
    # reference backward: each output delta to its argmax
    d_in = np.random.RandomState(2).randn(*x.shape)
    d_out = np.random.RandomState(1).randn(*expected.shape).astype(dtype)
    w = x.shape[2]
    for index in np.ndindex(*expected.shape):
        position = int(expected_argmax[index])
        if position >= 0:
            d_in[index[0], position // w, position % w, index[3]] += \
                d_out[index]
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    for name, got in results.items():
        np.testing.assert_allclose(got, d_in, rtol=tolerance,
                                   atol=tolerance, err_msg=name)


@pytest.mark.parametrize('dtype', DTYPES, ids=lambda d: np.dtype(d).name)
def test_max_pooling_windows_without_a_finite_value(dtype):
    config = (2, 3, 4, 2, (2, 2), 1, (1, 2))
    x = _inputs(config, dtype)
    x[0, :, :, 1] = -np.inf
    x[1, 1, 1, 0] = np.nan            # NaN stays NaN in the output
    numba_out, numpy_out = (np.zeros(_out_shape(config), dtype)
                            for _ in range(2))
    numba_arg, numpy_arg = (np.zeros(_out_shape(config), dtype)
                            for _ in range(2))
    NumbaHandler(dtype).maxpool2d_forward_batch(x, (2, 2), numba_out, 1,
                                                (1, 2), numba_arg)
    NumpyHandler(dtype).maxpool2d_forward_batch(x, (2, 2), numpy_out, 1,
                                                (1, 2), numpy_arg)
    assert np.isneginf(numba_out[0, :, :, 1]).all()
    assert np.isnan(numba_out[1, :, :, 0]).any()
    np.testing.assert_array_equal(numba_out, numpy_out)
    np.testing.assert_array_equal(numba_arg, numpy_arg)


@pytest.mark.parametrize('dtype', DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize('config', CONFIGS, ids=str)
def test_average_pooling(config, dtype):
    window, padding, stride = config[4:]
    x = _inputs(config, dtype)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    out = np.full(_out_shape(config), np.nan, dtype)
    NumbaHandler(dtype).avgpool2d_forward_batch(x, window, out, padding,
                                                stride)
    np.testing.assert_allclose(out, reference_avgpool(x, window, padding,
                                                      stride),
                               rtol=tolerance, atol=tolerance)
    d_out = np.random.RandomState(1).randn(*out.shape).astype(dtype)
    got = np.random.RandomState(2).randn(*x.shape).astype(dtype)
    expected = got.copy()
    NumbaHandler(dtype).avgpool2d_backward_batch(x, window, out, padding,
                                                 stride, got, d_out)
    NumpyHandler(dtype).avgpool2d_backward_batch(x, window, out, padding,
                                                 stride, expected, d_out)
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)


def test_non_contiguous_arrays_take_the_numpy_path():
    config = (2, 6, 6, 3, (2, 2), 0, (2, 2))
    x = _inputs(config, np.float32)
    wide = np.zeros(_out_shape(config)[:3] + (6,), np.float32)
    out, argmax = wide[..., :3], np.zeros(_out_shape(config), np.float32)
    NumbaHandler().maxpool2d_forward_batch(x, (2, 2), out, 0, (2, 2), argmax)
    expected, expected_argmax = reference_maxpool(x, (2, 2), 0, (2, 2))
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(argmax, expected_argmax)


@pytest.mark.parametrize('threads', [1, 3])
def test_results_do_not_depend_on_the_threads(threads):
    config = (64, 9, 9, 16, (3, 3), 0, (2, 2))
    x = _inputs(config, np.float32, ties=True)
    results = []
    for h in (NumbaHandler(num_threads=threads), NumbaHandler(num_threads=1)):
        out = np.zeros(_out_shape(config), np.float32)
        argmax = np.zeros(_out_shape(config), np.float32)
        h.maxpool2d_forward_batch(x, (3, 3), out, 0, (2, 2), argmax)
        results.append((out, argmax))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
