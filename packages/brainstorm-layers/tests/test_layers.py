"""What each layer computes, and how it reports bad arguments."""
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.handlers import DebugHandler, NumpyHandler
from brainstorm.layers import LayerValidationError

L = bs.layers


def run_layer(layer, data, training_pass=False, dtype=np.float64,
              name='Layer'):
    """Network Input -> layer with every data item wired to the input of
    the same name; returns the network after a forward pass."""
    shapes = {key: ('T', 'B') + value.shape[2:] for key, value in data.items()}
    inp = L.Input(shapes)
    for key in data:
        inp - key >> key - layer
    net = bs.Network.from_layer(layer)
    net.set_handler(DebugHandler(NumpyHandler(dtype)))
    net.provide_external_data(data)
    net.forward_pass(training_pass=training_pass)
    return net


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# -- values -------------------------------------------------------------------

@pytest.mark.parametrize('activation, f', [
    ('linear', lambda h: h), ('rel', lambda h: np.maximum(h, 0)),
    ('sigmoid', sigmoid), ('tanh', np.tanh)])
def test_fully_connected_values(activation, f):
    rnd = np.random.RandomState(0)
    x = rnd.randn(2, 3, 2, 2)
    net = run_layer(L.FullyConnected((3, 2), activation=activation,
                                     name='Layer'), {'default': x})
    W, b = net.get('Layer.parameters.W'), net.get('Layer.parameters.bias')
    W[...] = rnd.randn(*W.shape)
    b[...] = rnd.randn(*b.shape)
    net.set_parameters(np.concatenate([W.ravel(), b.ravel()]))
    net.forward_pass()
    assert W.shape == (4, 6) and b.shape == (6,)
    expected = f(x.reshape(6, 4) @ W + b).reshape(2, 3, 3, 2)
    assert np.allclose(net.get('Layer.outputs.default'), expected)
    if activation == 'linear':
        assert 'H' not in net.buffer['Layer.internals']
    else:
        assert np.allclose(net.get('Layer.internals.H'),
                           (x.reshape(6, 4) @ W + b).reshape(2, 3, 6))


def test_softmax_ce_values():
    rnd = np.random.RandomState(1)
    x = rnd.randn(2, 3, 4) * 3
    t = rnd.randint(0, 4, (2, 3, 1))
    net = run_layer(L.SoftmaxCE(name='Layer'), {'default': x, 'targets': t})
    p = net.get('Layer.outputs.predictions')
    assert np.allclose(p.sum(axis=-1), 1)
    expected = np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)
    assert np.allclose(p, expected)
    loss = net.get('Layer.outputs.loss')
    assert loss.shape == (2, 3, 1)
    assert np.allclose(loss, -np.log(np.take_along_axis(p, t, axis=-1)))


def test_softmax_ce_per_pixel_classes():
    rnd = np.random.RandomState(2)
    x = rnd.randn(1, 2, 3, 3, 5)
    t = rnd.randint(0, 5, (1, 2, 3, 3, 1))
    net = run_layer(L.SoftmaxCE(name='Layer'), {'default': x, 'targets': t})
    p = net.get('Layer.outputs.predictions')
    assert np.allclose(p.sum(axis=-1), 1)
    assert np.allclose(net.get('Layer.outputs.loss'),
                       -np.log(np.take_along_axis(p, t, axis=-1)))


def test_softmax_ce_extreme_logits_stay_finite():
    x = np.array([[[1000.0, -1000.0, 0.0]]], dtype=np.float32)
    t = np.array([[[1]]])
    net = run_layer(L.SoftmaxCE(name='Layer'), {'default': x, 'targets': t},
                    dtype=np.float32)
    loss = net.get('Layer.outputs.loss')
    assert np.isfinite(loss).all() and loss[0, 0, 0] > 80
    assert np.isfinite(net.get('Layer.outputs.predictions')).all()


def test_sigmoid_ce_values():
    rnd = np.random.RandomState(3)
    x = rnd.randn(2, 3, 4)
    t = rnd.rand(2, 3, 4)
    net = run_layer(L.SigmoidCE(name='Layer'), {'default': x, 'targets': t})
    p = sigmoid(x)
    assert np.allclose(net.get('Layer.outputs.predictions'), p)
    loss = net.get('Layer.outputs.loss')
    assert loss.shape == (2, 3, 4)   # per dimension, not summed
    assert np.allclose(loss, -t * np.log(p) - (1 - t) * np.log(1 - p))


def test_sigmoid_ce_is_stable_for_large_inputs():
    x = np.array([[[200.0, -200.0, 40.0, -40.0]]], dtype=np.float32)
    t = np.array([[[0.0, 1.0, 1.0, 0.0]]], dtype=np.float32)
    net = run_layer(L.SigmoidCE(name='Layer'), {'default': x, 'targets': t},
                    dtype=np.float32)
    loss = net.get('Layer.outputs.loss')
    assert np.allclose(loss, [[[200, 200, 0, 0]]], atol=1e-6)


def test_squared_error_values():
    rnd = np.random.RandomState(4)
    x, t = rnd.randn(2, 3, 2, 2), rnd.randn(2, 3, 2, 2)
    net = run_layer(L.SquaredError(name='Layer'),
                    {'default': x, 'targets': t})
    assert np.allclose(net.get('Layer.outputs.predictions'), x)
    loss = net.get('Layer.outputs.loss')
    assert loss.shape == (2, 3, 2, 2)   # per dimension since 0.5
    assert np.allclose(loss, 0.5 * (x - t) ** 2)


@pytest.mark.parametrize('importance', [1.0, 0.5])
def test_loss_values(importance):
    x = np.random.RandomState(5).rand(3, 4, 2)
    net = run_layer(L.Loss(importance=importance, name='Layer'),
                    {'default': x})
    assert np.allclose(net.get('Layer.outputs.loss'),
                       importance * x.sum() / 4)
    assert np.isclose(net.get_loss_values()['total_loss'],
                      importance * x.sum() / 4)
    net.compute_all_deltas = True
    net.backward_pass()   # a network's backward pass starts at Loss layers
    assert np.allclose(net.get('Layer.input_deltas.default'),
                       importance / 4)


def test_loss_accepts_batch_sized_inputs():
    x = np.random.RandomState(5).rand(4, 3)
    inp = L.Input({'default': ('B', 3)})
    net = bs.Network.from_layer(inp >> L.Loss(importance=2.0, name='Layer'))
    net.provide_external_data({'default': x})
    net.forward_pass()
    assert np.isclose(net.get_loss_values()['total_loss'], 2.0 * x.sum() / 4)


def test_mask_values():
    rnd = np.random.RandomState(6)
    x = rnd.randn(2, 3, 4)
    m1 = rnd.randint(0, 2, (2, 3, 1))
    net = run_layer(L.Mask(name='Layer'), {'default': x, 'mask': m1})
    assert np.allclose(net.get('Layer.outputs.default'), x * m1)
    m2 = rnd.randint(0, 2, (2, 3, 4))
    net = run_layer(L.Mask(name='Layer'), {'default': x, 'mask': m2})
    assert np.allclose(net.get('Layer.outputs.default'), x * m2)


def _naive_conv(x, W, b, padding, stride):
    n, h, w, c = x.shape
    f, kh, kw, _ = W.shape
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    ho = (h + 2 * padding - kh) // stride[0] + 1
    wo = (w + 2 * padding - kw) // stride[1] + 1
    out = np.empty((n, ho, wo, f))
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, i * stride[0]:i * stride[0] + kh,
                       j * stride[1]:j * stride[1] + kw]
            out[:, i, j] = np.tensordot(patch, W, ([1, 2, 3], [1, 2, 3])) + b
    return out


def test_convolution_2d_values():
    rnd = np.random.RandomState(7)
    x = rnd.randn(2, 3, 6, 5, 2)
    net = run_layer(L.Convolution2D(4, kernel_size=(3, 2), stride=(2, 1),
                                    padding=1, activation='tanh',
                                    name='Layer'), {'default': x})
    net.set_parameters(rnd.randn(net.buffer_manager.num_parameters))
    net.forward_pass()
    W, b = net.get('Layer.parameters.W'), net.get('Layer.parameters.bias')
    assert W.shape == (4, 3, 2, 2) and b.shape == (4,)
    y = net.get('Layer.outputs.default')
    assert y.shape == (2, 3, 3, 6, 4)   # Ho = (6+2-3)//2+1, Wo = 5+2-2+1
    expected = np.tanh(_naive_conv(x.reshape(6, 6, 5, 2), W, b, 1, (2, 1)))
    assert np.allclose(y, expected.reshape(y.shape))


# -- Dropout ------------------------------------------------------------------

def test_dropout_is_the_identity_in_inference():
    x = np.random.RandomState(8).randn(2, 3, 5)
    net = run_layer(L.Dropout(0.5, name='Layer'), {'default': x})
    assert np.array_equal(net.get('Layer.outputs.default'), x)


def test_dropout_scales_kept_units_in_training():
    x = np.random.RandomState(9).rand(1, 200, 50) + 1
    net = run_layer(L.Dropout(0.3, name='Layer'), {'default': x},
                    training_pass=True)
    y = net.get('Layer.outputs.default')
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.02
    assert np.allclose(y[kept], x[kept] / 0.7)
    # a new training pass draws a new mask
    net.forward_pass(training_pass=True)
    assert not np.array_equal(net.get('Layer.outputs.default') != 0, kept)


def test_dropout_zero_probability_keeps_everything():
    x = np.random.RandomState(10).randn(2, 3, 4)
    net = run_layer(L.Dropout(0.0, name='Layer'), {'default': x},
                    training_pass=True)
    assert np.allclose(net.get('Layer.outputs.default'), x)


def test_dropout_keeps_the_feature_shape():
    x = np.ones((1, 2, 3, 4, 2))
    net = run_layer(L.Dropout(name='Layer'), {'default': x})
    assert net.get('Layer.outputs.default').shape == (1, 2, 3, 4, 2)


# -- validation ---------------------------------------------------------------

@pytest.mark.parametrize('make, layer, match', [
    (lambda: L.FullyConnected(10, activation='relu'), 'FullyConnected',
     r"argument 'activation'.*'relu'"),
    (lambda: L.FullyConnected(0), 'FullyConnected', r"argument 'size'"),
    (lambda: L.FullyConnected('10'), 'FullyConnected', r"argument 'size'"),
    (lambda: L.FullyConnected((3, -1)), 'FullyConnected',
     r"argument 'size'"),
    (lambda: L.Dropout(1.0), 'Dropout', r"argument 'drop_prob'"),
    (lambda: L.Dropout(-0.1), 'Dropout', r"argument 'drop_prob'"),
    (lambda: L.Loss(importance='high'), 'Loss', r"argument 'importance'"),
    (lambda: L.Convolution2D(0, 3), 'Convolution2D',
     r"argument 'num_filters'"),
    (lambda: L.Convolution2D(4, (3, 3, 3)), 'Convolution2D',
     r"argument 'kernel_size'"),
    (lambda: L.Convolution2D(4, 3, stride=0), 'Convolution2D',
     r"argument 'stride'"),
    (lambda: L.Convolution2D(4, 3, padding=-1), 'Convolution2D',
     r"argument 'padding'"),
    (lambda: L.Convolution2D(4, 3, activation='soft'), 'Convolution2D',
     r"argument 'activation'.*'soft'"),
])
def test_construction_errors(make, layer, match):
    with pytest.raises(ValueError,
                       match=layer + r" layer \(unnamed\): " + match):
        make()


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match='FullyConnected'):
        L.FullyConnected(10, activaton='rel')


def _architecture(layer_description, in_shapes):
    return {
        'Input': {'@type': 'Input', 'out_shapes': in_shapes,
                  '@outgoing_connections': {
                      name: ['Bad' + ('' if name == 'default' else
                                      '.' + name)] for name in in_shapes}},
        'Bad': dict(layer_description, **{'@outgoing_connections': {}})}


@pytest.mark.parametrize('description, in_shapes, match', [
    ({'@type': 'FullyConnected', 'size': 3, 'activation': 'foo'},
     {'default': [4]}, r"FullyConnected layer 'Bad': argument 'activation'"),
    ({'@type': 'Dropout', 'drop_prob': 2}, {'default': [4]},
     r"Dropout layer 'Bad': argument 'drop_prob'"),
    ({'@type': 'SoftmaxCE'}, {'default': [4], 'targets': [4]},
     r"SoftmaxCE layer 'Bad': input 'targets'"),
    ({'@type': 'SigmoidCE'}, {'default': [4], 'targets': [3]},
     r"SigmoidCE layer 'Bad': input 'targets'"),
    ({'@type': 'SquaredError'}, {'default': [4], 'targets': [2, 2]},
     r"SquaredError layer 'Bad': input 'targets'"),
    ({'@type': 'Mask'}, {'default': [4], 'mask': [2]},
     r"Mask layer 'Bad': input 'mask'"),
    ({'@type': 'Convolution2D', 'num_filters': 2, 'kernel_size': 5},
     {'default': [3, 3, 1]}, r"Convolution2D layer 'Bad': kernel 5x5"),
    ({'@type': 'Convolution2D', 'num_filters': 2, 'kernel_size': 1},
     {'default': [3, 1]}, r"Convolution2D layer 'Bad': input 'default'"),
    ({'@type': 'FullyConnected', 'size': 3, 'colour': 'red'},
     {'default': [4]}, r"FullyConnected layer 'Bad': unexpected argument"),
])
def test_validation_errors_name_layer_and_problem(description, in_shapes,
                                                   match):
    with pytest.raises(LayerValidationError, match=match):
        bs.Network.from_architecture(_architecture(description, in_shapes))
