"""The DebugHandler computes what its wrapped handler computes and rejects
calls that break the rules of an operation."""
import numpy as np
import pytest

from brainstorm.describable import create_from_description, get_description
from brainstorm.handlers.debug_handler import DebugHandler, DebugHandlerError
from brainstorm.handlers.numpy_handler import NumpyHandler
from brainstorm.testing.conformance import OPERATIONS, check_operation


@pytest.fixture
def h():
    return DebugHandler(NumpyHandler(np.float32, seed=1))


def arr(*shape):
    return np.random.RandomState(0).randn(*shape).astype(np.float32)


def fails(message, fn, *args, **kwargs):
    with pytest.raises(DebugHandlerError) as info:
        fn(*args, **kwargs)
    assert message in str(info.value), str(info.value)
    return str(info.value)


@pytest.mark.parametrize('op', OPERATIONS)
def test_conformance(op):
    check_operation(DebugHandler(NumpyHandler(np.float32)), op)


@pytest.mark.parametrize('op', ['log_t', 'dot_mm', 'conv2d_backward_batch',
                                'maxpool2d_backward_batch', 'sum_t'])
def test_conformance_with_finite_checks(op):
    check_operation(DebugHandler(NumpyHandler(np.float64),
                                 check_finite=True), op)


def test_attributes_are_those_of_the_wrapped_handler():
    inner = NumpyHandler(np.float64)
    h = DebugHandler(inner)
    assert h.dtype == np.float64 and h.array_type is np.ndarray
    assert h.context == 'numpy' and h.rnd is inner.rnd
    assert h.EMPTY is inner.EMPTY
    assert issubclass(DebugHandlerError, ValueError)
    with pytest.raises(TypeError):
        DebugHandler(np)


def test_description_round_trip():
    h = DebugHandler(NumpyHandler(np.float64))
    description = get_description(h)
    assert description == {'@type': 'DebugHandler',
                           'handler': {'@type': 'NumpyHandler',
                                       'dtype': 'float64'}}
    new = create_from_description(description)
    assert isinstance(new, DebugHandler)
    assert isinstance(new.handler, NumpyHandler)
    assert new.dtype == np.float64 and not new.check_finite
    checked = DebugHandler(NumpyHandler(), check_finite=True)
    assert create_from_description(get_description(checked)).check_finite


def test_wrong_dtype_and_type(h):
    message = fails('dtype float64', h.add_tt, arr(2, 3),
                    np.zeros((2, 3)), arr(2, 3))
    assert message.startswith('add_tt: b ')
    assert 'float32' in message
    fails('out must be a ndarray', h.abs_t, arr(2, 3), [[0, 0, 0]] * 2)
    fails('arr must be a numpy.ndarray', h.create_from_numpy, [1, 2])


def test_wrong_shapes(h):
    fails('add_tt: out has shape (2, 4) but a has shape (2, 3)', h.add_tt,
          arr(2, 3), arr(2, 3), arr(2, 4))
    fails('v has shape (3, 1)', h.add_mv, arr(2, 3), arr(3, 1), arr(2, 3))
    fails('v has shape (2, 3)', h.add_mv, arr(2, 3), arr(2, 3), arr(2, 3))
    h.mult_mv(arr(2, 3), arr(2, 3), arr(2, 3))   # allowed for mult_mv
    fails('m must be a matrix', h.softmax_m, arr(2, 3, 4), arr(2, 3, 4))
    fails('sum_t: out has shape (3,)', h.sum_t, arr(2, 3), 1, arr(3))
    h.sum_t(arr(2, 3), 1, arr(2, 1))
    fails('exactly one element', h.sum_t, arr(2, 3), None, arr(2))
    fails('axis must be an int', h.sum_t, arr(2, 3), 2, arr(2))
    fails('its axis 1 must have size 1', h.broadcast_t, arr(2, 3), 1,
          arr(2, 3))
    fails('out has shape (3, 5)', h.broadcast_t, arr(2, 1), 1, arr(3, 5))
    fails('add up to 5', h.merge_tt, arr(2, 3), arr(2, 2), arr(2, 6))
    fails('in all but the last axis', h.split_add_tt, arr(2, 5), arr(3, 3),
          arr(2, 2))
    fails('arr has shape (3,) but mem has shape (2,)', h.set_from_numpy,
          arr(2), np.zeros(3, np.float32))
    fails('shape must be a tuple', h.zeros, (2, -1))
    fails('rel_deriv: dx has shape (2, 4)', h.rel_deriv, None, arr(2, 3),
          arr(2, 3), arr(2, 4))


def test_dot_shapes(h):
    message = fails('dot_mm', h.dot_mm, arr(3, 4), arr(4, 4), arr(3, 5))
    assert message == 'dot_mm: out has shape (3, 5) but a @ b has shape ' \
                      '(3, 4)'
    fails('cannot compute a.T @ b: shapes (4, 3) and (4, 2)', h.dot_mm,
          arr(3, 4), arr(4, 2), arr(4, 2), transa=True)
    h.dot_mm(arr(4, 3), arr(2, 4), arr(3, 2), transa=True, transb=True)
    fails('a must be a matrix', h.dot_add_mm, arr(3), arr(3, 2), arr(1, 2))


def test_dot_out_must_not_alias_inputs(h):
    a = arr(3, 3)
    fails('dot_mm: out overlaps a', h.dot_mm, a, arr(3, 3), a)
    big = arr(3, 6)
    fails('out overlaps b', h.dot_add_mm, arr(3, 3), big[:, :3], big[:, 3:])


def test_in_place_is_fine_but_partial_overlap_is_not(h):
    a = arr(4, 3)
    h.add_tt(a, a, a)
    h.sigmoid(a, a)
    h.rel_deriv(a, a, a, a)
    big = arr(5, 3)
    fails('add_tt: out partially overlaps a', h.add_tt, big[:4], arr(4, 3),
          big[1:])
    fails('binarize_v: out overlaps v', h.binarize_v, big[:, :1], big)


def test_conv_checks(h):
    x, w, b = arr(2, 5, 6, 3), arr(4, 3, 2, 3), arr(4)
    h.conv2d_forward_batch(x, w, b, arr(2, 3, 4, 4), 1, (2, 2))
    message = fails('conv2d_forward_batch: outputs has shape (2, 5, 6, 4) '
                    'but the convolution', h.conv2d_forward_batch, x, w, b,
                    arr(2, 5, 6, 4), 1, (2, 2))
    assert message.endswith('has shape (2, 3, 4, 4)')
    fails('weights have 2 input channels', h.conv2d_forward_batch, x,
          arr(4, 3, 3, 2), b, arr(2, 3, 4, 4), 0, (1, 1))
    fails('bias has shape (1, 4)', h.conv2d_forward_batch, x, w,
          arr(1, 4), arr(2, 5, 7, 4), 1, (1, 1))
    fails('does not fit', h.conv2d_forward_batch, x, arr(4, 9, 2, 3), b,
          arr(2, 1, 1, 4), 1, (1, 1))
    fails('stride must be a tuple of two ints', h.conv2d_forward_batch, x,
          w, b, arr(2, 3, 5, 4), 0, 1)
    fails('padding must be a non-negative int', h.conv2d_forward_batch, x,
          w, b, arr(2, 3, 5, 4), -1, (1, 1))
    fails('outputs overlaps inputs', h.conv2d_forward_batch, x,
          arr(3, 1, 1, 3), arr(3), x, 0, (1, 1))
    fails('in_deltas has shape (2, 5, 5, 3) but inputs',
          h.conv2d_backward_batch, x, w, 0, (1, 1), arr(2, 5, 5, 3),
          arr(2, 3, 5, 4), arr(*w.shape), arr(4))
    fails('out_deltas has shape (2, 3, 4, 4)', h.conv2d_backward_batch, x, w,
          0, (1, 1), arr(*x.shape), arr(2, 3, 4, 4), arr(*w.shape), arr(4))
    dw = arr(*w.shape)
    fails('weight_deltas overlaps weights', h.conv2d_backward_batch, x, dw,
          0, (1, 1), arr(*x.shape), arr(2, 3, 5, 4), dw, arr(4))


def test_pool_checks(h):
    x = arr(2, 5, 6, 3)
    h.maxpool2d_forward_batch(x, (2, 2), arr(2, 2, 3, 3), 0, (2, 2),
                              arr(2, 2, 3, 3))
    fails('maxpool2d_forward_batch: argmax has shape (2, 2, 3, 1)',
          h.maxpool2d_forward_batch, x, (2, 2), arr(2, 2, 3, 3), 0, (2, 2),
          arr(2, 2, 3, 1))
    fails('outputs has shape (2, 2, 2, 3)', h.avgpool2d_forward_batch, x,
          (2, 2), arr(2, 2, 2, 3), 0, (2, 2))
    fails('window must be a tuple', h.avgpool2d_forward_batch, x, 2,
          arr(2, 2, 3, 3), 0, (2, 2))
    argmax = np.full((2, 2, 3, 3), 30, dtype=np.float32)
    fails('argmax holds 30.0', h.maxpool2d_backward_batch, x, (2, 2),
          arr(2, 2, 3, 3), 0, (2, 2), argmax, arr(*x.shape),
          arr(2, 2, 3, 3))
    fails('in_deltas overlaps inputs', h.avgpool2d_backward_batch, x,
          (2, 2), arr(2, 2, 3, 3), 0, (2, 2), x, arr(2, 2, 3, 3))


def test_index_values(h):
    fails('v holds 4.0 at row 1', h.binarize_v,
          np.array([[0], [4]], np.float32), arr(2, 4))
    fails('v holds 0.5 at row 0', h.index_m_by_v, arr(2, 3),
          np.array([[0.5], [1]], np.float32), arr(2, 1))
    fails('out has shape (2, 2)', h.index_m_by_v, arr(2, 3),
          np.array([[0], [1]], np.float32), arr(2, 2))


def test_scalar_arguments(h):
    fails('s must be a scalar number', h.add_st, arr(1), arr(3), arr(3))
    fails('a_min (1.0) is larger than a_max (0.0)', h.clip_t, arr(3), 1.0,
          0.0, arr(3))
    fails('std must be non-negative', h.fill_gaussian, 0.0, -1.0, arr(3))
    fails('probability must lie in [0, 1]', h.generate_probability_mask,
          arr(3), 1.5)
    fails('transa must be a bool', h.dot_mm, arr(2, 2), arr(2, 2),
          arr(2, 2), 'yes')


def test_finite_checks():
    h = DebugHandler(NumpyHandler(np.float32), check_finite=True)
    a = arr(2, 3)
    a[0, 1] = np.nan
    fails('log_t: a contains NaN or inf before', h.log_t, a, arr(2, 3))
    with np.errstate(invalid='ignore'):
        fails('log_t: out contains NaN or inf after', h.log_t,
              -np.ones((2, 3), np.float32), arr(2, 3))
        DebugHandler(NumpyHandler(np.float32)).log_t(a, arr(2, 3))


def test_memory_operations_are_checked_and_delegated(h):
    z = h.zeros((2, 3))
    assert z.dtype == np.float32 and np.all(z == 0)
    assert h.ones(4).shape == (4,)
    assert h.allocate((1, 2)).shape == (1, 2)
    assert h.is_fully_finite(z) is True
    copy = h.get_numpy_copy(z)
    assert not np.shares_memory(copy, z)
    h.fill(z, 2.0)
    assert np.all(z == 2)
    fails('val must be a scalar number', h.fill, z, np.ones(1))


def test_fused_cell_operations_are_checked():
    h = DebugHandler(NumpyHandler(np.float32))
    a = [np.zeros((3, 4), np.float32) for _ in range(13)]
    h.lstm_cell_forward(*a[:8], activation='tanh')
    h.lstm_cell_forward(*a[:5], a[5], a[5], a[7], activation='linear')
    h.lstm_cell_backward(*a, activation='rel')
    with pytest.raises(DebugHandlerError, match='c overlaps cb'):
        h.lstm_cell_forward(*a[:5], a[5], a[5], a[7], activation='tanh')
    with pytest.raises(DebugHandlerError, match='activation must be one of'):
        h.lstm_cell_forward(*a[:8], activation='relu')
    with pytest.raises(DebugHandlerError, match='has shape'):
        h.lstm_cell_backward(*a[:12], np.zeros((3, 5), np.float32))
    with pytest.raises(DebugHandlerError, match='overlaps'):
        h.lstm_cell_backward(*a[:8], a[7], *a[9:])     # dc_prev is dc
    with pytest.raises(DebugHandlerError, match='dtype'):
        h.lstm_cell_forward(*a[:7], np.zeros((3, 4)))
