"""The layers in networks: by name, from architectures, through >> wiring,
saved and reloaded, and trained."""
import numpy as np
import pytest

import brainstorm as bs
import brainstorm_layers
from brainstorm.describable import get_description
from brainstorm.handlers import DebugHandler, NumpyHandler
from brainstorm.plugins import registry

LAYERS = ['FullyConnected', 'Dropout', 'SoftmaxCE', 'SigmoidCE',
          'SquaredError', 'Loss', 'Mask', 'Convolution2D']


def test_version():
    import importlib.metadata
    assert brainstorm_layers.__version__ == \
        importlib.metadata.version('brainstorm-layers')


@pytest.mark.parametrize('name', LAYERS)
def test_layers_resolve_by_name(name):
    constructor = getattr(bs.layers, name)
    assert constructor.layer_type == name
    assert registry.provider('layers', name) == 'brainstorm-layers'
    assert name in dir(bs.layers)


def _all_layers_net():
    """A network using every layer of the package."""
    L = bs.layers
    inp = L.Input({'default': ('T', 'B', 5, 4, 2), 'labels': ('T', 'B', 1),
                   'multi': ('T', 'B', 3), 'values': ('T', 'B', 2),
                   'mask': ('T', 'B', 1)})
    conv = L.Convolution2D(3, kernel_size=(2, 3), stride=(1, 2), padding=1,
                           name='Conv')
    hid = L.FullyConnected(6, activation='tanh', name='Hid')
    inp >> conv >> L.Dropout(0.2, name='Drop') >> hid
    soft, sig, sq = (L.SoftmaxCE(name='Soft'), L.SigmoidCE(name='Sig'),
                     L.SquaredError(name='Sq'))
    hid >> L.FullyConnected(4, activation='linear', name='P1') >> soft
    hid >> L.FullyConnected(3, activation='linear', name='P2') >> sig
    hid >> L.FullyConnected(2, activation='sigmoid', name='P3') >> sq
    inp - 'labels' >> 'targets' - soft
    inp - 'multi' >> 'targets' - sig
    inp - 'values' >> 'targets' - sq
    mask = L.Mask(name='M')
    soft - 'loss' >> mask >> L.Loss(name='L1')
    inp - 'mask' >> 'mask' - mask
    sig - 'loss' >> L.Loss(importance=0.5, name='L2')
    sq - 'loss' >> L.Loss(importance=2.0, name='L3')
    return bs.Network.from_layer(hid)


def _data(T=2, B=3, seed=0):
    rnd = np.random.RandomState(seed)
    return {'default': rnd.randn(T, B, 5, 4, 2),
            'labels': rnd.randint(0, 4, (T, B, 1)),
            'multi': rnd.randint(0, 2, (T, B, 3)),
            'values': rnd.rand(T, B, 2),
            'mask': rnd.randint(0, 2, (T, B, 1))}


def test_every_layer_in_one_network_and_from_architecture():
    net = _all_layers_net()
    net.initialize(bs.initializers.Gaussian(0.1), seed=1)
    assert set(net.get_loss_values()) == {'total_loss', 'L1', 'L2', 'L3'}
    net.provide_external_data(_data())
    net.forward_pass(training_pass=True)
    net.backward_pass()
    losses = net.get_loss_values()
    assert np.isclose(losses['total_loss'],
                      losses['L1'] + losses['L2'] + losses['L3'])
    assert net.get('Conv.outputs.default').shape == (2, 3, 6, 2, 3)

    again = bs.Network.from_architecture(net.architecture)
    assert list(again.layers) == list(net.layers)
    again.set_parameters(net.get('parameters'))
    for n in (net, again):
        n.provide_external_data(_data())
        n.forward_pass()
    assert np.allclose(again.get('Soft.outputs.predictions'),
                       net.get('Soft.outputs.predictions'))
    assert again.get_loss_values() == net.get_loss_values()


def test_save_and_reload(tmp_path):
    net = _all_layers_net()
    net.initialize(bs.initializers.DenseSqrtFanInOut('tanh'),
                   fallback=bs.initializers.Uniform(0.05), seed=2)
    filename = str(tmp_path / 'net.hdf5')
    net.save_as_hdf5(filename)
    loaded = bs.Network.from_hdf5(filename)
    assert get_description(loaded.layers['Conv']) == \
        get_description(net.layers['Conv'])
    for n in (net, loaded):
        n.provide_external_data(_data())
        n.forward_pass()
    assert np.allclose(loaded.get('Sq.outputs.predictions'),
                       net.get('Sq.outputs.predictions'))


def _learnable_data(task, in_shape, out_shape, rnd, n):
    """Inputs and targets that a linear projection can fit: classes (or
    labels, or values) a fixed linear function of each input vector (of
    each pixel for images)."""
    x = rnd.randn(1, n, *in_shape)
    per_pixel = len(out_shape) > 1 and len(in_shape) > 1
    features = x if per_pixel else x.reshape(1, n, -1)
    A = rnd.randn(features.shape[-1], out_shape[-1] if per_pixel
                  else int(np.prod(out_shape)))
    scores = features @ A
    if not per_pixel:
        scores = scores.reshape((1, n) + out_shape)
    if task == 'classification':
        targets = scores.argmax(axis=-1)[..., None].astype(float)
    elif task == 'multi-label':
        targets = (scores > 0).astype(float)
    else:
        targets = scores
    return x, targets


def _by_hand(task, net, data):
    """Predictions and total loss of the network computed with numpy."""
    W = net.get('Output_projection.parameters.W')
    b = net.get('Output_projection.parameters.bias')
    x, t = data['default'], data['targets']
    n = x.shape[1]
    if W.ndim == 4:        # a 1x1 convolution: (K, 1, 1, C)
        a = np.einsum('tbhwc,kc->tbhwk', x, W[:, 0, 0, :]) + b
    else:
        a = x.reshape(1, n, -1) @ W + b
        if task != 'classification':
            a = a.reshape(t.shape)
    if task == 'classification':
        e = np.exp(a - a.max(axis=-1, keepdims=True))
        p = e / e.sum(axis=-1, keepdims=True)
        loss = -np.log(np.take_along_axis(p, t.astype(int), -1))
    elif task == 'multi-label':
        p = 1 / (1 + np.exp(-a))
        loss = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    else:
        p = a
        loss = 0.5 * (a - t) ** 2
    if 'mask' in data:
        loss = loss * data['mask']       # (1, n, 1): whole samples
    return p, loss.sum() / n


@pytest.mark.parametrize('task, in_shape, out_shape, kw', [
    ('classification', 4, 3, {}),
    ('classification', (3, 3, 2), (3, 3, 5), {}),
    ('multi-label', 4, 3, {}),
    ('regression', 4, (2, 2), {'use_conv': False}),
    ('regression', 4, 2, {'mask_name': 'mask'}),
])
def test_get_in_out_layers(task, in_shape, out_shape, kw):
    inp, out = bs.tools.get_in_out_layers(task, in_shape, out_shape, **kw)
    net = bs.Network.from_layer(inp >> out)
    net.set_handler(NumpyHandler(np.float64))
    net.initialize(bs.initializers.Gaussian(0.1), seed=3)
    rnd = np.random.RandomState(0)
    in_shape = (in_shape,) if isinstance(in_shape, int) else in_shape
    out_shape = (out_shape,) if isinstance(out_shape, int) else out_shape
    x, targets = _learnable_data(task, in_shape, out_shape, rnd, 60)
    data = {'default': x, 'targets': targets}
    if kw.get('mask_name'):
        data['mask'] = (rnd.rand(1, 60, 1) < 0.7).astype(float)
    net.provide_external_data(data)

    # outputs: shapes and values
    net.forward_pass()
    predictions = net.get('Output.outputs.predictions')
    assert predictions.shape == (1, 60) + out_shape
    expected, expected_loss = _by_hand(task, net, data)
    np.testing.assert_allclose(predictions, expected, rtol=1e-10,
                               atol=1e-12)
    first = net.get_loss_values()['total_loss']
    assert first == pytest.approx(expected_loss, rel=1e-10)

    # it learns the (linear) relation between inputs and targets
    stepper = bs.training.MomentumStepper(0.2, momentum=0.5)
    stepper.start(net)
    for _ in range(150):
        stepper.run()
    net.forward_pass()
    assert net.get_loss_values()['total_loss'] < 0.4 * first
    predictions = net.get('Output.outputs.predictions')
    if task == 'classification':
        accuracy = np.mean(predictions.argmax(-1) == targets[..., 0])
        assert accuracy > 0.85       # chance: 1 / out_shape[-1]
    elif task == 'multi-label':
        assert np.mean((predictions > 0.5) == targets) > 0.85


@pytest.mark.parametrize('handler', [None, DebugHandler(NumpyHandler())])
def test_small_network_trains(handler):
    rnd = np.random.RandomState(0)
    x = rnd.randn(1, 60, 4)
    y = (x[0, :, :1] + x[0, :, 1:2] > 0).astype(int)[None]
    inp, out = bs.tools.get_in_out_layers('classification', 4, 2)
    net = bs.Network.from_layer(
        inp >> bs.layers.Dropout(0.1) >>
        bs.layers.FullyConnected(8, activation='tanh') >> out)
    if handler is not None:
        net.set_handler(handler)
    net.initialize(bs.initializers.DenseSqrtFanIn('tanh'), fallback=0.0,
                   seed=1)
    net.provide_external_data({'default': x, 'targets': y})

    def loss():
        net.forward_pass()
        return net.get_loss_values()['total_loss']
    first = loss()
    stepper = bs.training.MomentumStepper(0.5, momentum=0.5)
    stepper.start(net)
    for _ in range(60):
        stepper.run()
    assert loss() < 0.5 * first
    accuracy = (net.get('Output.outputs.predictions').argmax(-1) ==
                y[..., 0]).mean()
    assert accuracy > 0.9


def test_small_conv_network_trains():
    rnd = np.random.RandomState(1)
    x = rnd.randn(1, 16, 4, 4, 1)
    y = (x[0, :, :2].sum(axis=(1, 2, 3)) > 0).astype(int)[None, :, None]
    inp, out = bs.tools.get_in_out_layers('classification', (4, 4, 1), 2)
    net = bs.Network.from_layer(
        inp >> bs.layers.Convolution2D(3, 3, padding=1) >>
        bs.layers.Pooling2D(2, stride=2) >> out)
    net.initialize(bs.initializers.DenseSqrtFanInOut(), fallback=0.0, seed=0)
    net.provide_external_data({'default': x, 'targets': y})
    net.forward_pass()
    first = net.get_loss_values()['total_loss']
    stepper = bs.training.SgdStepper(0.2)
    stepper.start(net)
    for _ in range(40):
        stepper.run()
    net.forward_pass()
    assert net.get_loss_values()['total_loss'] < 0.7 * first


def test_feature_shapes_are_flattened_and_restored():
    inp = bs.layers.Input({'default': ('T', 'B', 2, 3)})
    fc = bs.layers.FullyConnected([2, 2], name='FC')
    net = bs.Network.from_layer(inp >> fc >> bs.layers.Loss())
    assert net.layers['FC'].out_shapes['default'].shape == ('T', 'B', 2, 2)
    assert net.layers['FC'].parameter_shapes['W'].shape == (6, 4)
