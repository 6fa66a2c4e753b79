"""The NumbaHandler passes brainstorm-core's shared conformance suite in
float32 (its default) and float64: every handler operation, every
published layer example and a short training, each against the float64
reference handler."""
import numpy as np
import pytest

from brainstorm.testing import conformance
from brainstorm_numba import NumbaHandler

DTYPES = [np.float32, np.float64]
LAYER_EXAMPLES = conformance.layer_examples()


@pytest.mark.parametrize('dtype', DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize('op', conformance.OPERATIONS)
def test_operation(op, dtype):
    conformance.check_operation(lambda: NumbaHandler(dtype), op)


@pytest.mark.parametrize('dtype', DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize('example', LAYER_EXAMPLES,
                         ids=lambda example: example.id)
def test_layer_example(example, dtype):
    conformance.check_layer_example(lambda: NumbaHandler(dtype), example)


@pytest.mark.parametrize('dtype', DTYPES, ids=lambda d: np.dtype(d).name)
def test_training(dtype):
    pytest.importorskip('brainstorm_layers')
    pytest.importorskip('brainstorm_data')
    losses, reference = conformance.check_training(
        lambda: NumbaHandler(dtype))
    assert len(losses) == len(reference) == 10
    assert losses[-1] < losses[0]
