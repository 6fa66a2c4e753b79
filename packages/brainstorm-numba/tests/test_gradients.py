"""Finite-difference checks (float64) of the image and recurrent layers
of brainstorm-layers with the NumbaHandler doing the computing."""
import numpy as np
import pytest

from brainstorm.testing.gradient_check import check_layer_gradients
from brainstorm_numba import NumbaHandler

pytest.importorskip('brainstorm_layers')


def _check(layer, kwargs, in_shapes, **options):
    errors = check_layer_gradients(layer, kwargs, in_shapes,
                                   handler=NumbaHandler(np.float64),
                                   **options)
    assert errors and all(e < 1e-6 for e in errors.values()), errors
    return errors


@pytest.mark.parametrize('kwargs', [
    {'type': 'max', 'kernel_size': (3, 3), 'stride': (2, 2)},
    {'type': 'max', 'kernel_size': (2, 3), 'stride': (1, 2), 'padding': 1},
    {'type': 'avg', 'kernel_size': (3, 2), 'stride': (2, 1), 'padding': 1},
])
def test_pooling(kwargs):
    errors = _check('Pooling2D', kwargs, {'default': (7, 6, 3)})
    assert list(errors) == ['Pooling2D.input_deltas.default']


@pytest.mark.parametrize('kwargs', [
    {'num_filters': 3, 'kernel_size': (3, 3), 'padding': 1},
    {'num_filters': 2, 'kernel_size': (2, 3), 'stride': (2, 1)},
])
def test_convolution(kwargs):
    _check('Convolution2D', dict(kwargs, activation='tanh'),
           {'default': (5, 6, 2)})


@pytest.mark.parametrize('layer', ['Lstm', 'Recurrent'])
def test_recurrent(layer):
    _check(layer, {'size': 3}, {'default': (2,)}, time_steps=3)
