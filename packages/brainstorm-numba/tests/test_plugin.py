"""Registration of the NumbaHandler, its choice as the CPU handler, and
its use in networks."""
import subprocess
import sys

import numpy as np
import pytest

import brainstorm
from brainstorm.describable import create_from_description, get_description
from brainstorm.handlers import NumpyHandler
from brainstorm.plugins import registry
from brainstorm_numba import NumbaHandler


def test_registered_through_the_entry_point():
    assert registry.get('handlers', 'NumbaHandler') is NumbaHandler
    from brainstorm.handlers import NumbaHandler as resolved
    assert resolved is NumbaHandler
    assert registry.provider('handlers', 'NumbaHandler') == \
        'brainstorm-numba'


def test_it_is_the_best_cpu_handler():
    from brainstorm.handlers import best_cpu_handler, cpu_handler_classes
    assert cpu_handler_classes()[0] is NumbaHandler
    handler = best_cpu_handler()
    assert type(handler) is NumbaHandler and handler.dtype == np.float32
    assert best_cpu_handler(np.float64).dtype == np.float64


def test_a_numpy_handler_with_float32_by_default():
    handler = NumbaHandler()
    assert isinstance(handler, NumpyHandler)
    assert handler.dtype == np.float32 and repr(handler) == \
        'NumbaHandler(float32)'
    assert isinstance(handler.allocate((2, 3)), np.ndarray)


def test_description_round_trip():
    description = get_description(NumbaHandler(np.float64))
    assert description == {'@type': 'NumbaHandler', 'dtype': 'float64'}
    copy = create_from_description(description)
    assert type(copy) is NumbaHandler and copy.dtype == np.float64


def test_loading_the_plugins_does_not_import_numba():
    code = ('import sys, brainstorm as bs; from brainstorm.plugins import '
            'registry; registry.load(); '
            'assert "NumbaHandler" in registry.names("handlers"); '
            'print("numba" in sys.modules)')
    out = subprocess.run([sys.executable, '-c', code], check=True,
                         capture_output=True, text=True).stdout
    assert out.strip() == 'False'


def test_networks_move_to_it_and_back():
    bs = brainstorm
    pytest.importorskip('brainstorm_layers')
    inp, out = bs.tools.get_in_out_layers('classification', (6, 6, 2), 3)
    net = bs.Network.from_layer(
        inp >> bs.layers.Convolution2D(3, kernel_size=(3, 3), padding=1,
                                       activation='rel') >>
        bs.layers.Pooling2D(type='max', kernel_size=(2, 2), stride=(2, 2)) >>
        bs.layers.FullyConnected(5, activation='tanh') >> out)
    net.initialize(bs.initializers.Gaussian(0.5), seed=1)
    rnd = np.random.RandomState(9)
    data = {'default': rnd.randn(1, 6, 6, 6, 2).astype(np.float32),
            'targets': rnd.randint(0, 3, (1, 6, 1)).astype(np.float32)}
    results = []
    for handler in (NumpyHandler(np.float32), NumbaHandler(),
                    NumpyHandler(np.float32)):
        net.set_handler(handler)
        net.provide_external_data(data)
        net.forward_pass()
        net.backward_pass()
        results.append((net.get_loss_values()['total_loss'],
                        net.get('gradients')))
    for loss, gradients in results[1:]:
        assert loss == pytest.approx(results[0][0], rel=1e-6)
        np.testing.assert_allclose(gradients, results[0][1], rtol=1e-5,
                                   atol=1e-7)
