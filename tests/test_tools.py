"""brainstorm.tools (manual 8.3): get_in_out_layers and evaluate."""
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.data_iterators import Minibatches
from brainstorm.handlers import NumpyHandler
from brainstorm.tools import evaluate, get_in_out_layers


def build(*args, data_name='default', **kwargs):
    inp, projection = get_in_out_layers(*args, data_name=data_name,
                                        **kwargs)
    net = bs.Network.from_layer(inp - data_name >> projection)
    net.set_handler(NumpyHandler(np.float64))
    n = net.buffer_manager.num_parameters
    net.set_parameters(np.random.RandomState(1).uniform(-1, 1, n))
    return net


def types_of(net):
    return {name: layer.get_layer_type() for name, layer in net.layers.items()}


def feature_shapes(structures):
    return {name: tuple(s.feature_shape) for name, s in structures.items()}


def forward(net, data):
    net.provide_external_data(data)
    net.forward_pass(training_pass=False)


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def affine(net, x, name='Output_projection'):
    return x @ net.get(name + '.parameters.W') + \
        net.get(name + '.parameters.bias')


def cross_entropy(p, targets):
    return -np.log(np.take_along_axis(p, targets.astype(int), -1))[..., 0]


def test_classification():
    net = build('classification', 4, 3)
    assert types_of(net) == {'Input': 'Input',
                             'Output_projection': 'FullyConnected',
                             'Output': 'SoftmaxCE', 'Loss': 'Loss'}
    assert feature_shapes(net.layers['Input'].out_shapes) == {
        'default': (4,), 'targets': (1,)}
    assert net.layers['Output'].incoming == {
        'default': ('Output_projection', 'default'),
        'targets': ('Input', 'targets')}
    assert net.layers['Loss'].incoming == {'default': ('Output', 'loss')}
    assert net.default_output == 'Output.outputs.predictions'
    rnd = np.random.RandomState(2)
    x, t = rnd.randn(2, 5, 4), rnd.randint(0, 3, (2, 5, 1))
    forward(net, {'default': x, 'targets': t})
    p = softmax(affine(net, x))
    assert net.get('Output.outputs.predictions').shape == (2, 5, 3)
    assert np.allclose(net.get('Output.outputs.predictions'), p)
    assert net.get_loss_values()['total_loss'] == pytest.approx(
        cross_entropy(p, t).sum() / 5)


def test_shapes_may_be_ints_or_tuples():
    a = build('classification', 4, 3)
    b = build('classification', (4,), (3,))
    assert a.architecture == b.architecture


def test_multi_label():
    net = build('multi-label', 4, 3)
    assert types_of(net)['Output'] == 'SigmoidCE'
    assert types_of(net)['Output_projection'] == 'FullyConnected'
    assert feature_shapes(net.layers['Input'].out_shapes) == {
        'default': (4,), 'targets': (3,)}
    rnd = np.random.RandomState(3)
    x, t = rnd.randn(1, 4, 4), rnd.randint(0, 2, (1, 4, 3))
    forward(net, {'default': x, 'targets': t})
    p = 1 / (1 + np.exp(-affine(net, x)))
    assert np.allclose(net.get('Output.outputs.predictions'), p)
    ce = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert net.get_loss_values()['total_loss'] == pytest.approx(
        ce.sum() / 4)


def test_regression():
    net = build('regression', 4, 2)
    assert types_of(net)['Output'] == 'SquaredError'
    assert feature_shapes(net.layers['Input'].out_shapes) == {
        'default': (4,), 'targets': (2,)}
    rnd = np.random.RandomState(4)
    x, t = rnd.randn(3, 2, 4), rnd.randn(3, 2, 2)
    forward(net, {'default': x, 'targets': t})
    y = affine(net, x)
    assert np.allclose(net.get('Output.outputs.predictions'), y)
    assert net.get_loss_values()['total_loss'] == pytest.approx(
        0.5 * np.sum((y - t) ** 2) / 2)


def test_mask_feeds_the_loss_through_a_mask_layer():
    net = build('classification', 4, 3, mask_name='mask')
    assert types_of(net) == {'Input': 'Input',
                             'Output_projection': 'FullyConnected',
                             'Output': 'SoftmaxCE', 'Mask': 'Mask',
                             'Loss': 'Loss'}
    assert feature_shapes(net.layers['Input'].out_shapes) == {
        'default': (4,), 'targets': (1,), 'mask': (1,)}
    assert net.layers['Mask'].incoming == {'default': ('Output', 'loss'),
                                           'mask': ('Input', 'mask')}
    assert net.layers['Loss'].incoming == {'default': ('Mask', 'default')}
    rnd = np.random.RandomState(5)
    x, t = rnd.randn(3, 4, 4), rnd.randint(0, 3, (3, 4, 1))
    mask = np.zeros((3, 4, 1))
    mask[0] = 1
    mask[1, :2] = 1
    forward(net, {'default': x, 'targets': t, 'mask': mask})
    ce = cross_entropy(softmax(affine(net, x)), t)
    assert net.get_loss_values()['total_loss'] == pytest.approx(
        np.sum(ce * mask[..., 0]) / 4)


def conv_1x1(net, x):
    w = net.get('Output_projection.parameters.W')    # (K, 1, 1, C)
    return np.einsum('tbhwc,kc->tbhwk', x, w[:, 0, 0, :]) + \
        net.get('Output_projection.parameters.bias')


def test_image_outputs_use_a_1x1_convolution():
    net = build('classification', (4, 5, 3), (4, 5, 2))
    assert types_of(net)['Output_projection'] == 'Convolution2D'
    assert net.layers['Output_projection'].kernel_size == (1, 1)
    assert feature_shapes(net.layers['Input'].out_shapes) == {
        'default': (4, 5, 3), 'targets': (4, 5, 1)}
    assert feature_shapes(net.layers['Output'].out_shapes)[
        'predictions'] == (4, 5, 2)
    rnd = np.random.RandomState(6)
    x, t = rnd.randn(1, 2, 4, 5, 3), rnd.randint(0, 2, (1, 2, 4, 5, 1))
    forward(net, {'default': x, 'targets': t})
    p = softmax(conv_1x1(net, x))
    assert np.allclose(net.get('Output.outputs.predictions'), p)
    assert net.get_loss_values()['total_loss'] == pytest.approx(
        cross_entropy(p, t).sum() / 2)


def test_use_conv_overrides_the_detection():
    net = build('regression', (4, 5, 3), (4, 5, 2), use_conv=True)
    assert types_of(net)['Output_projection'] == 'Convolution2D'
    assert types_of(net)['Output'] == 'SquaredError'
    assert feature_shapes(net.layers['Input'].out_shapes) == {
        'default': (4, 5, 3), 'targets': (4, 5, 2)}
    net = build('regression', (2, 3), (2, 3), use_conv=False)
    assert types_of(net)['Output_projection'] == 'FullyConnected'
    assert feature_shapes(net.layers['Output'].out_shapes)[
        'predictions'] == (2, 3)
    x = np.random.RandomState(7).randn(1, 2, 2, 3)
    forward(net, {'default': x, 'targets': np.zeros((1, 2, 2, 3))})
    y = affine(net, x.reshape(1, 2, 6)).reshape(1, 2, 2, 3)
    assert np.allclose(net.get('Output.outputs.predictions'), y)


def test_layer_names():
    net = build('classification', 4, 3, outlayer_name='Out')
    assert types_of(net) == {'Input': 'Input',
                             'Out_projection': 'FullyConnected',
                             'Out': 'SoftmaxCE', 'Loss': 'Loss'}
    assert net.default_output == 'Out.outputs.predictions'
    net = build('classification', 4, 3, projection_name='Proj')
    assert types_of(net)['Proj'] == 'FullyConnected'
    assert net.layers['Output'].incoming['default'] == ('Proj', 'default')
    net = build('multi-label', 4, 3, projection_name='P', outlayer_name='O')
    assert set(net.layers) == {'Input', 'P', 'O', 'Loss'}


def test_data_and_targets_names():
    net = build('classification', 4, 3, data_name='x', targets_name='y',
                mask_name='m')
    assert feature_shapes(net.layers['Input'].out_shapes) == {
        'x': (4,), 'y': (1,), 'm': (1,)}
    assert net.layers['Output_projection'].incoming == {
        'default': ('Input', 'x')}
    assert net.layers['Output'].incoming['targets'] == ('Input', 'y')
    assert net.layers['Mask'].incoming['mask'] == ('Input', 'm')


def test_unknown_task_type_is_named():
    with pytest.raises(ValueError, match="'ranking'"):
        get_in_out_layers('ranking', 4, 3)


# -- evaluate -----------------------------------------------------------------

def classification_data(B=8, T=1, seed=8):
    rnd = np.random.RandomState(seed)
    return rnd.randn(T, B, 4), rnd.randint(0, 3, (T, B, 1))


def test_evaluate_loss_and_accuracy_over_minibatches():
    net = build('classification', 4, 3)
    x, t = classification_data()
    it = Minibatches(5, shuffle=False, default=x, targets=t)   # 5 + 3
    result = evaluate(net, it, [bs.scorers.Accuracy()])
    assert set(result) == {'total_loss', 'Accuracy'}
    p = softmax(affine(net, x))
    hits = p.argmax(-1) == t[..., 0]
    assert result['Accuracy'] == pytest.approx(hits.mean())
    assert result['Accuracy'] != pytest.approx(
        np.mean([hits[:, :5].mean(), hits[:, 5:].mean()]))
    assert result['total_loss'] == pytest.approx(
        cross_entropy(p, t).sum() / 8)
    assert evaluate(net, it) == {'total_loss': result['total_loss']}


def test_evaluate_with_a_mask():
    net = build('classification', 4, 3, mask_name='mask')
    x, t = classification_data(B=6, T=3)
    mask = (np.random.RandomState(9).rand(3, 6, 1) < 0.5).astype(float)
    it = bs.Undivided(default=x, targets=t, mask=mask)
    result = evaluate(net, it, [bs.scorers.Accuracy()], mask_name='mask')
    p = softmax(affine(net, x))
    hits = p.argmax(-1) == t[..., 0]
    m = mask[..., 0]
    assert result['Accuracy'] == pytest.approx(np.sum(hits * m) / m.sum())
    assert result['Accuracy'] != pytest.approx(hits.mean())
    assert result['total_loss'] == pytest.approx(
        np.sum(cross_entropy(p, t) * m) / 6)


def test_evaluate_passes_names_to_scorers():
    net = build('classification', 4, 3, targets_name='labels',
                outlayer_name='Out')
    x, t = classification_data(seed=10)
    it = bs.Undivided(default=x, labels=t)
    scorer = bs.scorers.Accuracy(targets_name='', name='acc')
    result = evaluate(net, it, [scorer], targets_name='labels',
                      out_name='Out.outputs.predictions')
    p = softmax(affine(net, x, 'Out_projection'))
    assert result['acc'] == pytest.approx(np.mean(p.argmax(-1) == t[..., 0]))
