"""The NumbaHandler's compiled fused cell operations
(``brainstorm_numba/fused.py``) pass the conformance suite's checks of
those operations and of the LSTM layer examples, and the LSTM gradient
checks, for every activation and both float dtypes."""
import numpy as np
import pytest

from brainstorm.handlers import DebugHandler, NumpyHandler
from brainstorm.testing import check_layer_gradients, conformance
from brainstorm_numba import NumbaHandler, fused



DTYPES = [np.float32, np.float64]
LSTM_EXAMPLES = [e for e in conformance.layer_examples() if 'Lstm' in e.id]


@pytest.mark.parametrize('dtype', DTYPES, ids=['float32', 'float64'])
@pytest.mark.parametrize('op', ['lstm_cell_forward', 'lstm_cell_backward'])
def test_kernels_conform(op, dtype):
    conformance.check_operation(lambda: NumbaHandler(dtype), op)


@pytest.mark.parametrize('dtype', DTYPES, ids=['float32', 'float64'])
@pytest.mark.parametrize('example', LSTM_EXAMPLES, ids=lambda e: e.id)
def test_lstm_layer_examples_with_the_kernels(example, dtype):
    conformance.check_layer_example(lambda: NumbaHandler(dtype), example)


@pytest.mark.parametrize('activation', ['tanh', 'linear', 'rel', 'sigmoid'])
@pytest.mark.parametrize('layer', ['Lstm', 'ClockworkLstm'])
def test_gradients_with_the_kernels(layer, activation):
    pytest.importorskip('brainstorm_layers')
    check_layer_gradients(
        layer, {'size': 3, 'activation': activation}, {'default': (2,)},
        handler=DebugHandler(NumbaHandler(np.float64)), time_steps=4,
        batch_size=2,
        parameters={'timing': [1, 2, 3]} if layer == 'ClockworkLstm'
        else None)


def test_unknown_activation_code_is_an_error():
    a = [np.zeros((2, 3), np.float32) for _ in range(13)]
    with pytest.raises(ValueError, match='activation code'):
        fused.lstm_cell_forward(*a[:8], 7)
    with pytest.raises(ValueError, match='activation code'):
        fused.lstm_cell_backward(*a, 7)


@pytest.mark.parametrize('dtype', DTYPES, ids=['float32', 'float64'])
def test_momentum_update_rounds_as_the_numpy_handler(dtype, monkeypatch):
    """One compiled pass gives the NumpyHandler's three passes bit for bit
    (each product and the sum rounded to the dtype, no fused
    multiply-add), and the kernel is what runs."""
    rnd = np.random.RandomState(4)
    v, g, p = (rnd.randn(1000, 37).astype(dtype) for _ in range(3))
    expected_v, expected_p = v.copy(), p.copy()
    NumpyHandler(dtype).momentum_update(expected_v, g, expected_p, 0.9,
                                        -0.013)
    calls = []
    kernel = fused.momentum_update
    monkeypatch.setattr(fused, 'momentum_update',
                        lambda *args: calls.append(1) or kernel(*args))
    NumbaHandler(dtype).momentum_update(v, g, p, 0.9, -0.013)
    assert calls == [1]
    np.testing.assert_array_equal(v, expected_v)
    np.testing.assert_array_equal(p, expected_p)


def test_momentum_update_of_overlapping_arrays_takes_numpys_path(
        monkeypatch):
    monkeypatch.setattr(fused, 'momentum_update', None)   # must not run
    buffer = np.arange(30, dtype=np.float32)
    v, p = buffer[:10], buffer[5:15]
    g = np.ones(10, np.float32)
    NumbaHandler().momentum_update(v, g, p, 0.5, -1.0)
    expected = np.arange(30, dtype=np.float32)
    ev, ep = expected[:10], expected[5:15]
    NumpyHandler().momentum_update(ev, g, ep, 0.5, -1.0)
    np.testing.assert_array_equal(buffer, expected)
