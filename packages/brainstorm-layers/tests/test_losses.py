"""The loss layers: finite-difference checks of the new ones, forward values
of every one against numpy, and how the network's total loss sums them."""
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.handlers import DebugHandler, NumpyHandler
from brainstorm.plugins import registry
from brainstorm.testing.gradient_check import (check_layer_gradients,
                                               check_network_gradients)
from brainstorm_layers.binomial_cross_entropy import BinomialCrossEntropy
from brainstorm_layers.fully_connected import FullyConnected
from brainstorm_layers.loss import Loss
from brainstorm_layers.sigmoid_ce import SigmoidCE
from brainstorm_layers.softmax_ce import SoftmaxCE
from brainstorm_layers.squared_difference import SquaredDifference
from brainstorm_layers.squared_error import SquaredError
from brainstorm_layers.squared_loss import SquaredLoss

SIZES = [(2, 3), (3, 2)]                   # (T, B), both > 1
SHAPES = [(1,), (4,), (2, 3), (2, 1, 3)]   # feature shapes


def _checked(errors, *paths):
    assert list(errors) == list(paths)
    assert all(e < 1e-6 for e in errors.values())


def run_layer(layer, data, dtype=np.float64):
    """Input -> layer, each data item wired to the input of the same name;
    the network after a forward pass."""
    shapes = {key: ('T', 'B') + value.shape[2:] for key, value in data.items()}
    inp = bs.layers.Input(shapes)
    for key in data:
        inp - key >> key - layer
    net = bs.Network.from_layer(layer)
    net.set_handler(DebugHandler(NumpyHandler(dtype)))
    net.provide_external_data(data)
    net.forward_pass()
    return net


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# -- finite differences (the new layers) --------------------------------------

@pytest.mark.parametrize('T, B', SIZES)
@pytest.mark.parametrize('shape', SHAPES)
def test_binomial_cross_entropy_gradients(T, B, shape):
    rnd = np.random.RandomState(11)
    y = rnd.uniform(0.05, 0.95, (T, B) + shape)
    t = rnd.rand(T, B, *shape)
    t[0, 0] = np.round(t[0, 0])            # hard 0/1 targets too
    errors = check_layer_gradients(
        BinomialCrossEntropy, {}, {'default': shape, 'targets': shape},
        inputs={'default': y, 'targets': t}, time_steps=T, batch_size=B)
    _checked(errors, 'BinomialCrossEntropy.input_deltas.default')


@pytest.mark.parametrize('T, B', SIZES)
@pytest.mark.parametrize('shape', SHAPES)
def test_squared_loss_gradients(T, B, shape):
    errors = check_layer_gradients(
        SquaredLoss, {}, {'default': shape, 'targets': shape},
        time_steps=T, batch_size=B)
    _checked(errors, 'SquaredLoss.input_deltas.default')


@pytest.mark.parametrize('T, B', SIZES)
@pytest.mark.parametrize('shape', SHAPES)
def test_squared_difference_gradients(T, B, shape):
    errors = check_layer_gradients(
        SquaredDifference, {}, {'inputs_1': shape, 'inputs_2': shape},
        time_steps=T, batch_size=B)
    _checked(errors, 'SquaredDifference.input_deltas.inputs_1',
             'SquaredDifference.input_deltas.inputs_2')


@pytest.mark.parametrize('T, B', SIZES)
def test_squared_error_per_dimension_gradients(T, B):
    errors = check_layer_gradients(
        SquaredError, {}, {'default': (2, 3), 'targets': (2, 3)},
        time_steps=T, batch_size=B)
    _checked(errors, 'SquaredError.input_deltas.default')


# -- forward values -----------------------------------------------------------

@pytest.mark.parametrize('dtype', [np.float64, np.float32])
def test_softmax_ce_values(dtype):
    rnd = np.random.RandomState(1)
    x = rnd.randn(3, 2, 2, 5) * 2
    t = rnd.randint(0, 5, (3, 2, 2, 1))
    net = run_layer(SoftmaxCE(name='L'), {'default': x, 'targets': t},
                    dtype)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else {}
    assert set(net.buffer['L'].outputs) == {'predictions', 'loss'}
    assert np.allclose(net.get('L.outputs.predictions'), p, **tol)
    loss = net.get('L.outputs.loss')
    assert loss.shape == (3, 2, 2, 1)            # one loss per sample
    assert np.allclose(loss, -np.log(np.take_along_axis(p, t, axis=-1)),
                       **tol)


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
def test_sigmoid_ce_values(dtype):
    rnd = np.random.RandomState(2)
    x = rnd.randn(3, 2, 2, 3) * 2
    t = rnd.rand(3, 2, 2, 3)
    net = run_layer(SigmoidCE(name='L'), {'default': x, 'targets': t}, dtype)
    p = sigmoid(x)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else {}
    assert np.allclose(net.get('L.outputs.predictions'), p, **tol)
    loss = net.get('L.outputs.loss')
    assert loss.shape == x.shape                  # per dimension
    assert np.allclose(loss, -t * np.log(p) - (1 - t) * np.log(1 - p), **tol)


@pytest.mark.parametrize('layer', [SquaredLoss, SquaredError])
@pytest.mark.parametrize('dtype', [np.float64, np.float32])
def test_squared_loss_and_error_values(layer, dtype):
    rnd = np.random.RandomState(3)
    x, t = rnd.randn(3, 2, 2, 3), rnd.randn(3, 2, 2, 3)
    net = run_layer(layer(name='L'), {'default': x, 'targets': t}, dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else {}
    assert set(net.buffer['L'].outputs) == {'predictions', 'loss'}
    assert np.allclose(net.get('L.outputs.predictions'), x, **tol)
    loss = net.get('L.outputs.loss')
    assert loss.shape == x.shape                  # per dimension
    assert np.allclose(loss, 0.5 * (x - t) ** 2, **tol)
    assert np.allclose(net.get('L.internals.diff'), x - t, **tol)


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
def test_squared_difference_values(dtype):
    rnd = np.random.RandomState(4)
    a, b = rnd.randn(3, 2, 4), rnd.randn(3, 2, 4)
    net = run_layer(SquaredDifference(name='L'),
                    {'inputs_1': a, 'inputs_2': b}, dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else {}
    assert list(net.buffer['L'].outputs) == ['default']
    out = net.get('L.outputs.default')
    assert out.shape == a.shape                   # not summed
    assert np.allclose(out, (a - b) ** 2, **tol)  # no factor one half


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
def test_binomial_cross_entropy_values(dtype):
    rnd = np.random.RandomState(5)
    y = rnd.uniform(0.01, 0.99, (3, 2, 2, 3))
    t = rnd.rand(3, 2, 2, 3)
    net = run_layer(BinomialCrossEntropy(name='L'),
                    {'default': y, 'targets': t}, dtype)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else {}
    assert list(net.buffer['L'].outputs) == ['loss']
    loss = net.get('L.outputs.loss')
    assert loss.shape == y.shape                  # per dimension
    assert np.allclose(loss, -(t * np.log(y) + (1 - t) * np.log(1 - y)),
                       **tol)


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
def test_binomial_cross_entropy_at_zero_and_one_stays_finite(dtype):
    y = np.array([[[0.0, 1.0, 0.0, 1.0]]])
    t = np.array([[[0.0, 1.0, 1.0, 0.0]]])
    net = run_layer(BinomialCrossEntropy(name='L'),
                    {'default': y, 'targets': t}, dtype)
    loss = net.get('L.outputs.loss')[0, 0]
    assert np.isfinite(loss).all()
    assert np.allclose(loss[:2], 0)               # right and certain
    tiny = np.finfo(dtype).tiny
    assert np.allclose(loss[2:], -np.log(tiny), rtol=1e-5)
    net.compute_all_deltas = True
    net.backward_pass()
    assert np.isfinite(net.get('L.input_deltas.default')).all()


def test_binomial_cross_entropy_matches_sigmoid_ce():
    rnd = np.random.RandomState(6)
    x, t = rnd.randn(2, 3, 4), rnd.rand(2, 3, 4)
    sig = run_layer(SigmoidCE(name='L'), {'default': x, 'targets': t})
    bce = run_layer(BinomialCrossEntropy(name='L'),
                    {'default': sigmoid(x), 'targets': t})
    assert np.allclose(bce.get('L.outputs.loss'), sig.get('L.outputs.loss'))


@pytest.mark.parametrize('importance', [1.0, 0.25, 3])
@pytest.mark.parametrize('T, B', [(1, 4), (3, 2)])
def test_loss_values(importance, T, B):
    x = np.random.RandomState(7).randn(T, B, 2, 3)
    net = run_layer(Loss(importance=importance, name='L'), {'default': x})
    expected = importance * x.sum() / B        # summed over time, / batch
    assert net.get('L.outputs.loss').shape == (1,)
    assert np.isclose(net.get('L.outputs.loss')[0], expected)
    assert net.get_loss_values() == {'total_loss': pytest.approx(expected)}
    net.compute_all_deltas = True
    net.backward_pass()
    assert np.allclose(net.get('L.input_deltas.default'), importance / B)


# -- the network's total loss -------------------------------------------------

def _all_losses_net():
    """Every loss layer, each feeding a Loss layer of its own importance."""
    L = bs.layers
    inp = L.Input({'x': ('T', 'B', 3), 'labels': ('T', 'B', 1),
                   'multi': ('T', 'B', 2), 'values': ('T', 'B', 2),
                   'other': ('T', 'B', 2)})
    hid = FullyConnected(4, activation='tanh', name='Hid')
    inp - 'x' >> hid
    outputs = {
        'Soft': (SoftmaxCE(name='Soft'), 'labels', 4, 'linear'),
        'Sig': (SigmoidCE(name='Sig'), 'multi', 2, 'linear'),
        'SqE': (SquaredError(name='SqE'), 'values', 2, 'linear'),
        'SqL': (SquaredLoss(name='SqL'), 'values', 2, 'linear'),
        'BCE': (BinomialCrossEntropy(name='BCE'), 'multi', 2, 'sigmoid'),
    }
    importances = {'Soft': 1.0, 'Sig': 0.5, 'SqE': 2.0, 'SqL': 0.3,
                   'BCE': 1.5, 'Diff': 0.7}
    for name, (layer, targets, size, activation) in outputs.items():
        hid >> FullyConnected(size, activation=activation,
                              name='P' + name) >> layer
        inp - targets >> 'targets' - layer
        layer - 'loss' >> Loss(importance=importances[name],
                               name='Loss' + name)
    diff = SquaredDifference(name='Diff')
    hid >> FullyConnected(2, activation='linear', name='PDiff') >> \
        'inputs_1' - diff
    inp - 'other' >> 'inputs_2' - diff
    diff >> Loss(importance=importances['Diff'], name='LossDiff')
    net = bs.Network.from_layer(hid)
    net.initialize(bs.initializers.Gaussian(0.5), seed=3)
    return net, importances


def _data(T, B, seed=0):
    rnd = np.random.RandomState(seed)
    return {'x': rnd.randn(T, B, 3), 'labels': rnd.randint(0, 4, (T, B, 1)),
            'multi': rnd.randint(0, 2, (T, B, 2)).astype(float),
            'values': rnd.randn(T, B, 2), 'other': rnd.randn(T, B, 2)}


@pytest.mark.parametrize('T, B', [(1, 5), (3, 2)])
def test_total_loss_sums_every_loss_layer_divided_by_batch_size(T, B):
    net, importances = _all_losses_net()
    net.set_handler(DebugHandler(NumpyHandler(np.float64)))
    net.provide_external_data(_data(T, B))
    net.forward_pass()
    losses = net.get_loss_values()
    assert set(losses) == {'total_loss'} | {'Loss' + n for n in importances}
    total = 0.0
    for name, importance in importances.items():
        out = 'outputs.default' if name == 'Diff' else 'outputs.loss'
        per_dimension = net.get('{}.{}'.format(name, out))
        assert per_dimension.shape[:2] == (T, B)
        # sum over time steps, samples and features; divided by B only
        expected = importance * per_dimension.sum() / B
        assert np.isclose(losses['Loss' + name], expected)
        total += expected
    assert np.isclose(losses['total_loss'], total)
    assert np.isclose(losses['total_loss'],
                      sum(v for k, v in losses.items() if k != 'total_loss'))


def test_total_loss_against_numpy_reference():
    """total_loss from the layers' definitions, computed in numpy from the
    network's own projections."""
    T, B = 2, 3
    net, importances = _all_losses_net()
    data = _data(T, B, seed=1)
    net.provide_external_data(data)
    net.forward_pass()
    p = {n: net.get('P{}.outputs.default'.format(n)) for n in importances}
    soft = np.exp(p['Soft']) / np.exp(p['Soft']).sum(-1, keepdims=True)
    sig, m, v = sigmoid(p['Sig']), data['multi'], data['values']
    reference = {
        'Soft': -np.log(np.take_along_axis(soft, data['labels'], -1)),
        'Sig': -m * np.log(sig) - (1 - m) * np.log(1 - sig),
        'SqE': 0.5 * (p['SqE'] - v) ** 2,
        'SqL': 0.5 * (p['SqL'] - v) ** 2,
        'BCE': -(m * np.log(p['BCE']) + (1 - m) * np.log(1 - p['BCE'])),
        'Diff': (p['Diff'] - data['other']) ** 2,
    }
    total = sum(importances[n] * reference[n].sum() / B for n in reference)
    assert np.isclose(net.get_loss_values()['total_loss'], total)


def test_network_gradient_of_every_loss_layer():
    net, _ = _all_losses_net()
    errors = check_network_gradients(net, _data(2, 3, seed=2),
                                     check_inputs=True)
    assert 'PBCE.gradients.W' in errors and 'PDiff.gradients.W' in errors
    # inputs_2 of SquaredDifference gets deltas, targets get none
    assert {k for k in errors if k.startswith('Input.')} == {
        'Input.output_deltas.x', 'Input.output_deltas.other'}


def test_squared_difference_deltas_of_inputs_without_parameters():
    """inputs_2 comes straight from the Input layer: a plain backward pass
    computes its deltas, 2 (b - a); with compute_all_deltas = False they
    are skipped, and the buffer says so instead of holding zeros."""
    inp = bs.layers.Input({'a': ('T', 'B', 3), 'b': ('T', 'B', 3)})
    diff = SquaredDifference(name='D')
    inp - 'a' >> FullyConnected(3, activation='linear', name='FC') >> \
        'inputs_1' - diff
    inp - 'b' >> 'inputs_2' - diff
    diff >> Loss(name='L')
    net = bs.Network.from_layer(diff)
    net.set_handler(DebugHandler(NumpyHandler(np.float64)))
    assert net.layers['D'].input_deltas_needed == {'inputs_1': True,
                                                   'inputs_2': True}
    rnd = np.random.RandomState(8)
    net.set_parameters(rnd.randn(net.buffer_manager.num_parameters))
    a, b = rnd.randn(2, 4, 3), rnd.randn(2, 4, 3)
    net.provide_external_data({'a': a, 'b': b})
    net.forward_pass()
    net.backward_pass()
    y = net.get('FC.outputs.default')
    assert np.allclose(net.get('D.input_deltas.inputs_1'), 2 * (y - b) / 4)
    assert np.allclose(net.get('D.input_deltas.inputs_2'), 2 * (b - y) / 4)
    net.compute_all_deltas = False
    assert net.layers['D'].input_deltas_needed == {'inputs_1': True,
                                                   'inputs_2': False}
    net.backward_pass()
    assert np.allclose(net.get('D.input_deltas.inputs_1'), 2 * (y - b) / 4)
    assert np.isnan(net.buffer.D.input_deltas.inputs_2).all()
    with pytest.raises(ValueError, match=r'D\.input_deltas\.inputs_2 was '
                       r'not computed by the last backward pass'):
        net.get('D.input_deltas.inputs_2')


# -- registration and interface -----------------------------------------------

@pytest.mark.parametrize('name', ['SquaredLoss', 'SquaredDifference',
                                  'BinomialCrossEntropy'])
def test_new_layers_resolve_by_name(name):
    constructor = getattr(bs.layers, name)
    assert constructor.layer_type == name
    assert registry.provider('layers', name) == 'brainstorm-layers'


@pytest.mark.parametrize('layer, deltas_to, outputs', [
    (SoftmaxCE, ('default',), ('predictions', 'loss')),
    (SigmoidCE, ('default',), ('predictions', 'loss')),
    (SquaredError, ('default',), ('predictions', 'loss')),
    (SquaredLoss, ('default',), ('predictions', 'loss')),
    (BinomialCrossEntropy, ('default',), ('loss',)),
    (SquaredDifference, ('inputs_1', 'inputs_2'), ('default',)),
])
def test_interfaces(layer, deltas_to, outputs):
    impl = layer.impl_class
    inputs = set(impl.expected_inputs)
    assert set(deltas_to) == inputs - set(impl.computes_no_input_deltas_for)
    if 'predictions' in outputs:
        assert impl.takes_no_output_deltas_from == ('predictions',)
    assert not getattr(impl, 'is_loss_layer', False)   # only Loss is one
    shapes = {n: (2,) if layer is not SoftmaxCE or n == 'default' else (1,)
              for n in inputs}
    data = {n: np.random.RandomState(0).rand(1, 2, *s)
            for n, s in shapes.items()}
    if layer is SoftmaxCE:
        data['targets'] = np.zeros((1, 2, 1))
    net = run_layer(layer(name='L'), data)
    assert tuple(net.buffer['L'].outputs) == outputs


def test_networks_with_the_new_layers_survive_their_architecture():
    net, _ = _all_losses_net()
    again = bs.Network.from_architecture(net.architecture)
    again.set_parameters(net.get('parameters'))
    data = _data(2, 2, seed=4)
    for n in (net, again):
        n.provide_external_data(data)
        n.forward_pass()
    assert np.isclose(net.get_loss_values()['total_loss'],
                      again.get_loss_values()['total_loss'])
    assert again.architecture['BCE']['@type'] == 'BinomialCrossEntropy'
    assert again.architecture['Diff']['@type'] == 'SquaredDifference'
