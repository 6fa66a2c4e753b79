"""ConstrainL2Norm."""
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.describable import (create_from_description,
                                    get_description)
from brainstorm.handlers import DebugHandler, NumpyHandler
from brainstorm.value_modifiers import ValueModifier
from brainstorm_layers.value_modifiers import ConstrainL2Norm


@pytest.fixture
def handler():
    return DebugHandler(NumpyHandler(np.float64))


def test_registered():
    assert issubclass(ConstrainL2Norm, ValueModifier)
    assert bs.value_modifiers.ConstrainL2Norm is ConstrainL2Norm


def test_dense_weights_columns(handler):
    rnd = np.random.RandomState(0)
    W = rnd.randn(6, 5)
    W[:, 1] *= 0.01                      # a short column stays as it is
    before = W.copy()
    view = handler.create_from_numpy(W)
    ConstrainL2Norm(1.5)(handler, view)
    after = handler.get_numpy_copy(view)
    norms = np.linalg.norm(before, axis=0)
    for j in range(5):
        if norms[j] > 1.5:
            assert np.isclose(np.linalg.norm(after[:, j]), 1.5)
            assert np.allclose(after[:, j], before[:, j] * 1.5 / norms[j])
        else:
            assert np.array_equal(after[:, j], before[:, j])
    assert norms[1] < 1.5


def test_conv_weights_per_filter(handler):
    rnd = np.random.RandomState(1)
    W = rnd.randn(4, 3, 2, 2)
    W[2] *= 0.01
    view = handler.create_from_numpy(W)
    ConstrainL2Norm(1.0)(handler, view)
    after = handler.get_numpy_copy(view)
    norms = np.linalg.norm(after.reshape(4, -1), axis=1)
    assert np.allclose(norms[[0, 1, 3]], 1.0)
    assert np.allclose(after[2], W[2])


def test_biases_are_ignored(handler):
    b = handler.create_from_numpy(np.full(5, 10.0))
    ConstrainL2Norm(1.0)(handler, b)
    assert np.array_equal(handler.get_numpy_copy(b), np.full(5, 10.0))


def test_limit_must_be_positive():
    with pytest.raises(ValueError, match='ConstrainL2Norm: limit'):
        ConstrainL2Norm(0)


def test_description_round_trip(handler):
    mod = ConstrainL2Norm(2.0)
    mod(handler, handler.create_from_numpy(np.ones((3, 2))))  # fills a cache
    description = get_description(mod)
    assert description == {'@type': 'ConstrainL2Norm', 'limit': 2.0}
    copy = create_from_description(description)
    assert copy.limit == 2.0


def test_as_weight_modifier_in_training():
    inp, out = bs.tools.get_in_out_layers('classification', 5, 3,
                                          projection_name='FC')
    net = bs.Network.from_layer(inp >> bs.layers.FullyConnected(4) >> out)
    net.initialize(bs.initializers.Gaussian(1.0), seed=1)
    net.set_weight_modifiers({'FC': ConstrainL2Norm(0.5)})
    rnd = np.random.RandomState(2)
    net.provide_external_data({'default': rnd.randn(1, 8, 5),
                               'targets': rnd.randint(0, 3, (1, 8, 1))})
    stepper = bs.training.SgdStepper(0.1)
    stepper.start(net)
    stepper.run()
    norms = np.linalg.norm(net.get('FC.parameters.W'), axis=0)
    assert np.all(norms <= 0.5 + 1e-6)
