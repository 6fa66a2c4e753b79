"""brainstorm.tools (manual 8.3) on networks of real layers:
get_in_out_layers, create_net_from_spec, evaluate, extract,
extract_and_save, get_network_info and draw_network."""
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.data_iterators import Minibatches
from brainstorm.handlers import NumpyHandler
from brainstorm.testing.extras import import_extra
from brainstorm.tools import (create_net_from_spec, evaluate,
                              get_in_out_layers)


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


def test_get_in_out_layers_takes_out_layer_name_as_the_manual_spells_it():
    inp, projection = get_in_out_layers('classification', 4, 3,
                                        out_layer_name='Out')
    net = bs.Network.from_layer(inp >> projection)
    assert set(net.layers) == {'Input', 'Out_projection', 'Out', 'Loss'}
    with pytest.raises(TypeError, match="outlayer_name='A' and "
                                        "out_layer_name='B'"):
        get_in_out_layers('classification', 4, 3, outlayer_name='A',
                          out_layer_name='B')


# -- create_net_from_spec -----------------------------------------------------

def layer_kwargs(net, name):
    return dict(net.layers[name].kwargs)


def chain(net):
    """Names of the layers from the Input along 'default' connections."""
    names, current = [], 'Input'
    while True:
        nxt = [n for n, l in net.layers.items()
               if l.incoming.get('default', (None,))[0] == current]
        if not nxt:
            return names
        current = nxt[0]
        names.append(current)


def test_spec_mnist_pi_example():
    net = create_net_from_spec('classification', 784, 10,
                               'D.2 F1200 D F1200 D')
    assert chain(net) == ['Dropout', 'FullyConnected', 'Dropout_2',
                          'FullyConnected_2', 'Dropout_3',
                          'Output_projection', 'Output', 'Loss']
    assert types_of(net)['Output'] == 'SoftmaxCE'
    assert [layer_kwargs(net, n)['drop_prob'] for n in
            ('Dropout', 'Dropout_2', 'Dropout_3')] == [0.2, 0.5, 0.5]
    for name in ('FullyConnected', 'FullyConnected_2'):
        assert layer_kwargs(net, name) == {'size': 1200, 'activation': 'rel'}
    assert layer_kwargs(net, 'Output_projection') == {'size': 10,
                                                      'activation': 'linear'}
    assert feature_shapes(net.layers['Input'].out_shapes) == {
        'default': (784,), 'targets': (1,)}
    assert net.buffer_manager.num_parameters == \
        784 * 1200 + 1200 + 1200 * 1200 + 1200 + 1200 * 10 + 10


def test_spec_cifar10_cnn_example_with_images_as_height_width_channels():
    net = create_net_from_spec(
        'classification', (32, 32, 3), 10,
        'C32:5p2 P3s2 C32:5p2 P3s2 C64:5p2 P3s2 F64')
    assert chain(net) == ['Convolution2D', 'Pooling2D', 'Convolution2D_2',
                          'Pooling2D_2', 'Convolution2D_3', 'Pooling2D_3',
                          'FullyConnected', 'Output_projection', 'Output',
                          'Loss']
    conv = layer_kwargs(net, 'Convolution2D_3')
    assert (conv['num_filters'], tuple(conv['kernel_size']),
            conv['padding'], tuple(conv['stride']), conv['activation']) == \
        (64, (5, 5), 2, (1, 1), 'rel')
    pool = layer_kwargs(net, 'Pooling2D')
    assert (tuple(pool['kernel_size']), tuple(pool['stride']),
            pool['padding'], pool['type']) == ((3, 3), (2, 2), 0, 'max')
    out = {n: feature_shapes(net.layers[n].out_shapes)['default'] for n in
           ('Convolution2D', 'Pooling2D', 'Pooling2D_2', 'Pooling2D_3',
            'FullyConnected')}
    assert out == {'Convolution2D': (32, 32, 32), 'Pooling2D': (15, 15, 32),
                   'Pooling2D_2': (7, 7, 32), 'Pooling2D_3': (3, 3, 64),
                   'FullyConnected': (64,)}
    x = np.random.RandomState(0).rand(1, 2, 32, 32, 3)
    forward(net, {'default': x, 'targets': np.zeros((1, 2, 1))})
    p = net.get('Output.outputs.predictions')
    assert p.shape == (1, 2, 10)
    assert np.allclose(p.sum(-1), 1)


def test_spec_with_channels_first_images_fails_with_a_hint():
    """The manual's docstring writes the cifar shape (3, 32, 32); images are
    (height, width, channels), so that network cannot be built."""
    spec = 'C32:5p2 P3s2 C32:5p2 P3s2 C64:5p2 P3s2 F64'
    with pytest.raises(bs.tools.SpecError) as info:
        create_net_from_spec('classification', (3, 32, 32), 10, spec)
    err = info.value
    assert err.position == spec.index('P3s2', 10) == 21
    assert "Pooling2D layer 'Pooling2D_2'" in err.reason
    assert 'did you mean in_shape=(32, 32, 3)?' in err.reason
    assert str(err).splitlines()[-1] == '    ' + ' ' * 22 + '^'


def test_spec_layers_and_activation_letters():
    net = create_net_from_spec('regression', 6, 2,
                               'Fl5 Fs4 R3 Rr3 L2 Lt2 B D.25 Ft7')
    assert types_of(net) == {
        'Input': 'Input', 'FullyConnected': 'FullyConnected',
        'FullyConnected_2': 'FullyConnected', 'Recurrent': 'Recurrent',
        'Recurrent_2': 'Recurrent', 'Lstm': 'Lstm', 'Lstm_2': 'Lstm',
        'BatchNorm': 'BatchNorm', 'Dropout': 'Dropout',
        'FullyConnected_3': 'FullyConnected',
        'Output_projection': 'FullyConnected', 'Output': 'SquaredError',
        'Loss': 'Loss'}
    activations = {n: layer_kwargs(net, n)['activation'] for n in (
        'FullyConnected', 'FullyConnected_2', 'Recurrent', 'Recurrent_2',
        'Lstm', 'Lstm_2', 'FullyConnected_3')}
    assert activations == {
        'FullyConnected': 'linear', 'FullyConnected_2': 'sigmoid',
        'Recurrent': 'tanh', 'Recurrent_2': 'rel', 'Lstm': 'tanh',
        'Lstm_2': 'tanh', 'FullyConnected_3': 'tanh'}
    assert layer_kwargs(net, 'Dropout')['drop_prob'] == 0.25
    assert chain(net)[:9] == ['FullyConnected', 'FullyConnected_2',
                              'Recurrent', 'Recurrent_2', 'Lstm', 'Lstm_2',
                              'BatchNorm', 'Dropout', 'FullyConnected_3']
    x = np.random.RandomState(1).randn(3, 2, 6)
    forward(net, {'default': x, 'targets': np.zeros((3, 2, 2))})
    assert np.all(np.isfinite(net.get('Output.outputs.predictions')))


def test_spec_convolution_and_pooling_options():
    net = create_net_from_spec('classification', (9, 9, 2), 3,
                               'Cs4:3 p1 s2 Pa2 Ct3:2s1p0 Pm2p1')
    conv = layer_kwargs(net, 'Convolution2D')
    assert (conv['activation'], conv['num_filters'],
            tuple(conv['kernel_size']), conv['padding'],
            tuple(conv['stride'])) == ('sigmoid', 4, (3, 3), 1, (2, 2))
    assert layer_kwargs(net, 'Pooling2D')['type'] == 'avg'
    assert tuple(layer_kwargs(net, 'Pooling2D')['stride']) == (1, 1)
    assert layer_kwargs(net, 'Convolution2D_2')['activation'] == 'tanh'
    assert layer_kwargs(net, 'Pooling2D_2')['type'] == 'max'
    assert layer_kwargs(net, 'Pooling2D_2')['padding'] == 1
    shapes = [feature_shapes(net.layers[n].out_shapes)['default'] for n in
              ('Convolution2D', 'Pooling2D', 'Convolution2D_2', 'Pooling2D_2')]
    assert shapes == [(5, 5, 4), (4, 4, 4), (3, 3, 3), (4, 4, 3)]


def test_spec_network_computes_what_its_layers_say():
    net = create_net_from_spec('regression', 4, 2, 'Ft3')
    net.set_handler(NumpyHandler(np.float64))
    x = np.random.RandomState(2).randn(2, 3, 4)
    t = np.random.RandomState(3).randn(2, 3, 2)
    forward(net, {'default': x, 'targets': t})
    h = np.tanh(x @ net.get('FullyConnected.parameters.W') +
                net.get('FullyConnected.parameters.bias'))
    y = affine(net, h)
    assert np.allclose(net.get('Output.outputs.predictions'), y)
    assert net.get_loss_values()['total_loss'] == pytest.approx(
        0.5 * np.sum((y - t) ** 2) / 3)


def test_empty_spec_connects_the_input_to_the_projection():
    net = create_net_from_spec('multi-label', 5, 4, '  ')
    assert types_of(net) == {'Input': 'Input',
                             'Output_projection': 'FullyConnected',
                             'Output': 'SigmoidCE', 'Loss': 'Loss'}


def test_spec_passes_names_mask_and_use_conv_on():
    net = create_net_from_spec('classification', 4, 3, 'F5',
                               data_name='x', targets_name='y',
                               mask_name='m')
    assert feature_shapes(net.layers['Input'].out_shapes) == {
        'x': (4,), 'y': (1,), 'm': (1,)}
    assert net.layers['FullyConnected'].incoming == {
        'default': ('Input', 'x')}
    assert net.layers['Output'].incoming['targets'] == ('Input', 'y')
    assert net.layers['Mask'].incoming['mask'] == ('Input', 'm')
    net = create_net_from_spec('classification', (6, 6, 1), (6, 6, 2),
                               'C3:3p1')
    assert types_of(net)['Output_projection'] == 'Convolution2D'
    net = create_net_from_spec('regression', (6, 6, 1), (6, 6, 2),
                               'C3:3p1', use_conv=False)
    assert types_of(net)['Output_projection'] == 'FullyConnected'
    with pytest.raises(ValueError, match="'ranking'"):
        create_net_from_spec('ranking', 4, 3, 'F5')


def test_spec_initialization_follows_the_manual():
    """DenseSqrtFanInOut for layers with an activation function, scaled for
    it; a Gaussian default and fallback (biases, BatchNorm)."""
    bs.global_rnd.set_seed(11)
    net = create_net_from_spec('classification', 40, 30, 'Ft50 B')
    bounds = {'FullyConnected': np.sqrt(6) / np.sqrt(40 + 50),
              'Output_projection': 1 / np.sqrt(50 + 30)}
    for name, bound in bounds.items():
        w = net.get(name + '.parameters.W')
        assert np.abs(w).max() <= bound
        assert np.abs(w).max() > 0.9 * bound      # uniform up to the bound
        bias = net.get(name + '.parameters.bias')
        assert 0.05 < bias.std() < 0.15 and abs(bias.mean()) < 0.06
    gamma = net.get('BatchNorm.parameters.gamma')
    assert 0.05 < gamma.std() < 0.15
    bs.global_rnd.set_seed(11)
    again = create_net_from_spec('classification', 40, 30, 'Ft50 B')
    assert np.array_equal(net.get('parameters'), again.get('parameters'))


@pytest.mark.parametrize('in_shape, spec, position, words', [
    (4, 'F5 C4:3', 3, "Convolution2D layer 'Convolution2D': input "
                      "'default' expects shape"),
    ((6, 6, 1), 'P2 P2p2', 3, "Pooling2D layer 'Pooling2D_2'"),
    ((5, 5, 1), 'C2:9', 0, 'kernel 9x9 does not fit'),
])
def test_spec_layers_that_cannot_be_built_are_pointed_at(in_shape, spec,
                                                         position, words):
    with pytest.raises(bs.tools.SpecError) as info:
        create_net_from_spec('classification', in_shape, 3, spec)
    assert info.value.position == position
    assert words in info.value.reason
    assert repr(spec) in str(info.value)


# -- extract, info, drawing on networks of real layers ------------------------

def test_manual_extract_and_save_example(tmp_path):
    """Predictions and hidden internals of data without targets."""
    net = create_net_from_spec('classification', 4, 3, 'Ft5')
    x_test = np.random.RandomState(12).randn(1, 7, 4)
    getter = Minibatches(3, shuffle=False, default=x_test)
    bs.tools.extract_and_save(net, getter,
                              ['Output.outputs.predictions',
                               'FullyConnected.internals.H'],
                              str(tmp_path / 'network_features.hdf5'))
    import h5py
    with h5py.File(tmp_path / 'network_features.hdf5', 'r') as f:
        predictions = f['Output.outputs.predictions'][()]
        hidden = f['FullyConnected.internals.H'][()]
    pre = x_test @ net.get('FullyConnected.parameters.W') + \
        net.get('FullyConnected.parameters.bias')
    assert np.allclose(hidden, pre, atol=1e-5)
    assert np.allclose(predictions, softmax(affine(net, np.tanh(pre))),
                       atol=1e-5)
    result = bs.tools.extract(net, getter, ['Output.outputs.predictions'])
    assert np.allclose(result['Output.outputs.predictions'], predictions)


def test_extract_after_training_uses_no_stale_targets():
    """The manual's ``extract(net, Minibatches(25, default=x), ...)`` on a
    network that was given targets before: predictions are computed,
    the loss of data without targets is an error, not the old loss."""
    rnd = np.random.RandomState(5)
    x = rnd.randn(1, 50, 4)
    y = rnd.randint(0, 3, (1, 50, 1))
    net = create_net_from_spec('classification', 4, 3, 'F5')
    trainer = bs.Trainer(bs.training.SgdStepper(learning_rate=0.1),
                         verbose=False)
    trainer.add_hook(bs.hooks.StopAfterEpoch(1))
    trainer.train(net, Minibatches(25, default=x, targets=y))
    result = bs.tools.extract(net, Minibatches(25, default=x, shuffle=False),
                              ['Output.outputs.predictions'])
    pre = x @ net.get('FullyConnected.parameters.W') + \
        net.get('FullyConnected.parameters.bias')
    assert np.allclose(result['Output.outputs.predictions'],
                       softmax(affine(net, np.maximum(pre, 0))), atol=1e-5)
    with pytest.raises(ValueError, match="computed no loss for layer 'Loss': "
                                         "it needs the input 'targets'"):
        net.get_loss_values()
    with pytest.raises(ValueError, match="Output.outputs.loss was not "
                                         "computed"):
        net.get('Output.outputs.loss')


def test_network_info_of_a_spec_network():
    net = create_net_from_spec('classification', 784, 10,
                               'D.2 F1200 D F1200 D')
    info = bs.tools.get_network_info(net)
    assert info.splitlines()[0] == 'Network: 9 layers, 2,395,210 parameters'
    assert "FullyConnected_2: FullyConnected(activation='rel', size=1200)" \
        in info
    assert 'parameters  W (1200, 1200) 1,440,000, bias (1200,) 1,200: ' \
           '1,441,200 parameters' in info
    assert "Dropout: Dropout(drop_prob=0.2)" in info
    assert info.splitlines()[-1] == 'Total: 2,395,210 parameters'


def test_draw_network_of_a_spec_network(tmp_path):
    import_extra('graphviz', 'pip install brainstorm-core[viz]')
    net = create_net_from_spec('classification', 4, 3, 'F5 D', mask_name='m')
    source = bs.tools.draw_network(net, tmp_path / 'net.dot').source
    ids = {name: 'layer{}'.format(i) for i, name in enumerate(net.layers)}
    for name, layer in net.layers.items():
        assert '{}\\n{}'.format(name, layer.get_layer_type()) in source
        for in_name, (src, out_name) in layer.incoming.items():
            assert '{} -> {} '.format(ids[src], ids[name]) in source
    assert 'm -> mask' in source
    assert source.count(' -> layer') == sum(
        len(layer.incoming) for layer in net.layers.values())
