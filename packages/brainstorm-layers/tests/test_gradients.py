"""Finite-difference checks (float64) of every layer's input deltas and
parameter gradients, and of the network-level loss gradient."""
from collections import OrderedDict

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.layers import BufferStructure, Layer, StructureTemplate
from brainstorm.testing.gradient_check import (GradientCheckError,
                                               check_layer_gradients,
                                               check_network_gradients)
from brainstorm_layers.convolution_2d import Convolution2D
from brainstorm_layers.dropout import Dropout
from brainstorm_layers.fully_connected import FullyConnected
from brainstorm_layers.loss import Loss
from brainstorm_layers.mask import Mask
from brainstorm_layers.sigmoid_ce import SigmoidCE
from brainstorm_layers.softmax_ce import SoftmaxCE
from brainstorm_layers.squared_error import SquaredError

ACTIVATIONS = ['linear', 'rel', 'sigmoid', 'tanh']
SIZES = [(1, 1), (2, 3), (3, 2)]   # (T, B)


def _checked(errors, *paths):
    assert list(errors) == list(paths)
    assert all(e < 1e-6 for e in errors.values())


@pytest.mark.parametrize('activation', ACTIVATIONS)
@pytest.mark.parametrize('T, B', SIZES)
@pytest.mark.parametrize('in_shape, size', [((4,), 3), ((2, 3), (2, 2)),
                                            ((1,), [3])])
def test_fully_connected(activation, T, B, in_shape, size):
    # a positive bias keeps some rectified units active in every case
    # (with T = B = 1 random ones can all be off: nothing to compare)
    errors = check_layer_gradients(
        FullyConnected, {'size': size, 'activation': activation},
        {'default': in_shape}, time_steps=T, batch_size=B,
        parameters={'bias': 0.5} if activation == 'rel' else None)
    _checked(errors, 'FullyConnected.input_deltas.default',
             'FullyConnected.gradients.W', 'FullyConnected.gradients.bias')


@pytest.mark.parametrize('drop_prob', [0.0, 0.3, 0.8])
@pytest.mark.parametrize('training_pass', [True, False])
@pytest.mark.parametrize('T, B', SIZES)
def test_dropout(drop_prob, training_pass, T, B):
    # 20 units: some are kept even with drop_prob 0.8 and T = B = 1
    errors = check_layer_gradients(
        Dropout, {'drop_prob': drop_prob}, {'default': (4, 5)},
        training_pass=training_pass, time_steps=T, batch_size=B)
    _checked(errors, 'Dropout.input_deltas.default')


@pytest.mark.parametrize('T, B', SIZES)
@pytest.mark.parametrize('shape', [(5,), (2, 3, 4)])
def test_softmax_ce(T, B, shape):
    targets = np.random.RandomState(3).randint(0, shape[-1],
                                               (T, B) + shape[:-1] + (1,))
    errors = check_layer_gradients(
        SoftmaxCE, {}, {'default': shape, 'targets': shape[:-1] + (1,)},
        inputs={'targets': targets}, time_steps=T, batch_size=B)
    _checked(errors, 'SoftmaxCE.input_deltas.default')


@pytest.mark.parametrize('T, B', SIZES)
@pytest.mark.parametrize('shape', [(4,), (2, 3)])
def test_sigmoid_ce(T, B, shape):
    rnd = np.random.RandomState(4)
    targets = rnd.rand(T, B, *shape)
    targets[0, 0] = np.round(targets[0, 0])  # hard 0/1 targets too
    errors = check_layer_gradients(
        SigmoidCE, {}, {'default': shape, 'targets': shape},
        inputs={'targets': targets, 'default': 3 * rnd.randn(T, B, *shape)},
        time_steps=T, batch_size=B)
    _checked(errors, 'SigmoidCE.input_deltas.default')


@pytest.mark.parametrize('T, B', SIZES)
@pytest.mark.parametrize('shape', [(1,), (4,), (2, 3)])
def test_squared_error(T, B, shape):
    errors = check_layer_gradients(
        SquaredError, {}, {'default': shape, 'targets': shape},
        time_steps=T, batch_size=B)
    _checked(errors, 'SquaredError.input_deltas.default')


@pytest.mark.parametrize('importance', [1.0, 0.25, 3])
@pytest.mark.parametrize('T, B', SIZES)
@pytest.mark.parametrize('shape', [(1,), (2, 3), ('B', 3)])
def test_loss(importance, T, B, shape):
    errors = check_layer_gradients(Loss, {'importance': importance},
                                   {'default': shape}, time_steps=T,
                                   batch_size=B)
    _checked(errors, 'Loss.input_deltas.default')


@pytest.mark.parametrize('T, B', SIZES)
@pytest.mark.parametrize('shape, mask_shape', [((4,), (1,)), ((4,), (4,)),
                                               ((2, 3), (1,)),
                                               ((2, 3), (2, 3))])
def test_mask(T, B, shape, mask_shape):
    mask = np.random.RandomState(5).randint(0, 2, (T, B) + mask_shape)
    errors = check_layer_gradients(
        Mask, {}, {'default': shape, 'mask': mask_shape},
        inputs={'mask': mask}, time_steps=T, batch_size=B)
    _checked(errors, 'Mask.input_deltas.default')


@pytest.mark.parametrize('activation', ACTIVATIONS)
@pytest.mark.parametrize('kwargs, in_shape', [
    ({'num_filters': 2, 'kernel_size': 3}, (4, 4, 1)),
    ({'num_filters': 3, 'kernel_size': (2, 3), 'stride': (2, 1),
      'padding': 1}, (5, 4, 2)),
    ({'num_filters': 1, 'kernel_size': (3, 1), 'stride': 2, 'padding': 2},
     (3, 5, 2)),
])
def test_convolution_2d(activation, kwargs, in_shape):
    errors = check_layer_gradients(
        Convolution2D, dict(kwargs, activation=activation),
        {'default': in_shape}, time_steps=2, batch_size=2)
    _checked(errors, 'Convolution2D.input_deltas.default',
             'Convolution2D.gradients.W', 'Convolution2D.gradients.bias')


def test_convolution_2d_single_sample():
    errors = check_layer_gradients(
        Convolution2D, {'num_filters': 2, 'kernel_size': (1, 2)},
        {'default': (2, 3, 3)}, time_steps=1, batch_size=1)
    _checked(errors, 'Convolution2D.input_deltas.default',
             'Convolution2D.gradients.W', 'Convolution2D.gradients.bias')


def test_layers_by_name_and_registry():
    errors = check_layer_gradients('FullyConnected', {'size': 2},
                                   {'default': (3,)})
    _checked(errors, 'FullyConnected.input_deltas.default',
             'FullyConnected.gradients.W', 'FullyConnected.gradients.bias')
    errors = check_layer_gradients(bs.layers.SquaredError, {},
                                   {'default': (2,), 'targets': (2,)})
    _checked(errors, 'SquaredError.input_deltas.default')


# -- the checker itself -------------------------------------------------------

class BrokenScaleLayerImpl(Layer):
    """outputs = 2 * inputs, but the backward pass forgets the factor."""

    expected_inputs = {'default': StructureTemplate('T', 'B', '...')}

    def setup(self, kwargs, in_shapes):
        shape = in_shapes['default'].feature_shape
        return (OrderedDict(default=BufferStructure('T', 'B', *shape)),
                OrderedDict(), OrderedDict())

    def forward_pass(self, buffers, training_pass=True):
        self.handler.mult_st(2.0, buffers.inputs.default,
                             buffers.outputs.default)

    def backward_pass(self, buffers):
        self.handler.add_tt(buffers.output_deltas.default,
                            buffers.input_deltas.default,
                            buffers.input_deltas.default)


def test_checker_detects_a_wrong_backward_pass():
    with pytest.raises(GradientCheckError,
                       match=r"BrokenScale layer 'BrokenScale': "
                             r"BrokenScale.input_deltas.default.*max abs"):
        check_layer_gradients(BrokenScaleLayerImpl, {}, {'default': (3,)})


def test_checker_detects_dropout_without_scaling(monkeypatch):
    from brainstorm_layers import dropout
    original = dropout.DropoutLayerImpl.backward_pass

    def unscaled(self, buffers):
        original(self, buffers)
        self.handler.mult_st(0.5, buffers.input_deltas.default,
                             buffers.input_deltas.default)
    monkeypatch.setattr(dropout.DropoutLayerImpl, 'backward_pass', unscaled)
    with pytest.raises(GradientCheckError, match='Dropout.input_deltas'):
        check_layer_gradients(Dropout, {'drop_prob': 0.5}, {'default': (4,)},
                              training_pass=True)


def test_checker_rejects_unknown_inputs_and_parameters():
    with pytest.raises(ValueError, match='unknown input'):
        check_layer_gradients(Loss, {}, {'default': (2,)},
                              inputs={'nope': np.zeros((2, 3, 2))})
    with pytest.raises(ValueError, match='no parameter'):
        check_layer_gradients(FullyConnected, {'size': 2}, {'default': (2,)},
                              parameters={'R': 0})


def test_checker_explicit_parameters_and_max_entries():
    errors = check_layer_gradients(
        FullyConnected, {'size': 30, 'activation': 'tanh'},
        {'default': (20,)}, parameters={'bias': 0.1}, max_entries=10)
    assert set(errors) == {'FullyConnected.input_deltas.default',
                           'FullyConnected.gradients.W',
                           'FullyConnected.gradients.bias'}


# -- network level: total_loss is what backward_pass differentiates -----------

def _classification_net(hidden_activation='tanh', importance=1.0):
    inp = bs.layers.Input({'default': ('T', 'B', 4),
                           'targets': ('T', 'B', 1)})
    hid = FullyConnected(5, activation=hidden_activation, name='Hid')
    out = SoftmaxCE(name='Output')
    loss = Loss(importance=importance)
    inp >> hid >> out
    inp - 'targets' >> 'targets' - out - 'loss' >> loss
    net = bs.Network.from_layer(loss)
    net.initialize(bs.initializers.Gaussian(0.5))
    return net


@pytest.mark.parametrize('T, B', [(1, 4), (3, 2)])
@pytest.mark.parametrize('importance', [1.0, 0.3])
def test_network_total_loss_gradient(T, B, importance):
    net = _classification_net(importance=importance)
    rnd = np.random.RandomState(0)
    data = {'default': rnd.randn(T, B, 4),
            'targets': rnd.randint(0, 5, (T, B, 1))}
    errors = check_network_gradients(net, data, check_inputs=True)
    assert set(errors) == {'Hid.gradients.W', 'Hid.gradients.bias',
                           'Input.output_deltas.default'}


def test_network_gradient_with_dropout_mask_and_two_losses():
    inp = bs.layers.Input({'default': ('T', 'B', 3), 'targets': ('T', 'B', 2),
                           'mask': ('T', 'B', 1)})
    hid = FullyConnected(4, activation='sigmoid', name='Hid')
    inp >> Dropout(0.4) >> hid
    out = SquaredError(name='SE')
    hid >> FullyConnected(2, activation='linear', name='Proj') >> out
    inp - 'targets' >> 'targets' - out
    mask = Mask(name='M')
    out - 'loss' >> mask >> Loss(importance=0.5, name='L1')
    inp - 'mask' >> 'mask' - mask
    # Hid feeds two layers (Proj and L2): its deltas accumulate
    hid >> Loss(importance=0.1, name='L2')
    net = bs.Network.from_layer(hid)
    net.initialize(bs.initializers.Gaussian(0.5))
    rnd = np.random.RandomState(1)
    data = {'default': rnd.randn(2, 3, 3), 'targets': rnd.randn(2, 3, 2),
            'mask': rnd.randint(0, 2, (2, 3, 1))}
    errors = check_network_gradients(net, data, training_pass=True,
                                     check_inputs=True)
    assert 'Input.output_deltas.default' in errors
    assert 'Input.output_deltas.targets' not in errors
    assert set(net.get_loss_values()) == {'total_loss', 'L1', 'L2'}


@pytest.mark.parametrize('kwargs', [
    {'kernel_size': 2, 'type': 'max'},
    {'kernel_size': (3, 2), 'type': 'max', 'stride': (2, 1), 'padding': 1},
    {'kernel_size': 2, 'type': 'avg'},
    {'kernel_size': (2, 3), 'type': 'avg', 'stride': 2, 'padding': 1},
])
def test_pooling_2d(kwargs):
    errors = check_layer_gradients(bs.layers.Pooling2D, kwargs,
                                   {'default': (4, 5, 2)}, time_steps=2,
                                   batch_size=2)
    _checked(errors, 'Pooling2D.input_deltas.default')


class OverwritingScaleLayerImpl(BrokenScaleLayerImpl):
    """Right derivative, but it overwrites the input deltas."""

    def backward_pass(self, buffers):
        self.handler.mult_st(2.0, buffers.output_deltas.default,
                             buffers.input_deltas.default)


def test_checker_detects_overwritten_deltas():
    with pytest.raises(GradientCheckError, match='input_deltas.default'):
        check_layer_gradients(OverwritingScaleLayerImpl, {},
                              {'default': (3,)})
    errors = check_layer_gradients(OverwritingScaleLayerImpl, {},
                                   {'default': (3,)},
                                   check_accumulation=False)
    _checked(errors, 'OverwritingScale.input_deltas.default')
