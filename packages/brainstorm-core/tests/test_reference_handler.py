"""The ReferenceHandler of the conformance suites against the plain loops of
test_numpy_handler.py: a third implementation of every operation, so the
reference is not only checked by the NumpyHandler agreeing with it."""
import importlib.util
import pathlib

import numpy as np
import pytest

from brainstorm.handlers.base_handler import OPERATIONS
from brainstorm.testing.reference_handler import ReferenceHandler


def _numpy_handler_tests():
    path = pathlib.Path(__file__).with_name('test_numpy_handler.py')
    spec = importlib.util.spec_from_file_location(
        'brainstorm_core_tests_numpy_handler', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LOOPS = _numpy_handler_tests()


@pytest.mark.parametrize('op', OPERATIONS)
def test_operation_against_plain_loops(op):
    fn, name = LOOPS.REFERENCE_TESTS[op]
    fn(ReferenceHandler(seed=1), np.random.RandomState(7), np.float64, name)


def test_allocate_gives_nan_and_results_are_float64():
    h = ReferenceHandler()
    assert np.isnan(h.allocate((2, 3))).all()
    out = h.zeros((2, 2))
    h.add_tt(np.ones((2, 2), np.float32), np.ones((2, 2), np.float32), out)
    assert out.dtype == np.float64 and (out == 2).all()
    assert h.dtype == np.float64 and h.array_type is np.ndarray
    assert repr(h) == 'ReferenceHandler(float64)'


def test_pooling_windows_in_the_padding():
    h = ReferenceHandler()
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    y, argmax = h.zeros((1, 6, 6, 1)), h.zeros((1, 6, 6, 1))
    h.maxpool2d_forward_batch(x, (2, 2), y, 2, (1, 1), argmax)
    # the corner windows lie entirely in the padding
    for i, j in [(0, 0), (0, 5), (5, 0), (5, 5)]:
        assert y[0, i, j, 0] == 0 and argmax[0, i, j, 0] == -1
    assert y[0, 1, 1, 0] == 0 and argmax[0, 1, 1, 0] == 0
    assert y[0, 3, 3, 0] == 8 and argmax[0, 3, 3, 0] == 8
    assert y[0, 2, 3, 0] == 5 and argmax[0, 2, 3, 0] == 5
    avg = h.zeros((1, 6, 6, 1))
    h.avgpool2d_forward_batch(x, (2, 2), avg, 2, (1, 1))
    assert avg[0, 0, 0, 0] == 0 and avg[0, 2, 2, 0] == np.mean([0, 1, 3, 4])
    dx = h.zeros(x.shape)
    h.maxpool2d_backward_batch(x, (2, 2), y, 2, (1, 1), argmax, dx,
                               np.ones(y.shape))
    assert dx.sum() == 16
