"""BatchNorm, Highway, Elementwise, Merge, NoOp, DeltasScaling, L1Decay,
L2Decay and the Mask modes: finite-difference checks of every delta and
gradient, values against numpy references, skipped deltas, and the
messages of construction errors."""
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.handlers import DebugHandler, NumpyHandler
from brainstorm.layers import LayerValidationError
from brainstorm.testing.gradient_check import (check_layer_gradients,
                                               check_network_gradients)
from brainstorm_layers.batch_norm import BatchNorm, BatchNormLayerImpl
from brainstorm_layers.deltas_scaling import DeltasScaling
from brainstorm_layers.elementwise import Elementwise
from brainstorm_layers.fully_connected import FullyConnected
from brainstorm_layers.highway import Highway
from brainstorm_layers.l1_decay import L1Decay
from brainstorm_layers.l2_decay import L2Decay
from brainstorm_layers.loss import Loss
from brainstorm_layers.mask import Mask
from brainstorm_layers.merge import Merge
from brainstorm_layers.noop import NoOp

SIZES = [(2, 3), (3, 2)]   # (T, B), both > 1
ACTIVATIONS = {'linear': lambda x: x, 'rel': lambda x: np.maximum(x, 0),
               'sigmoid': lambda x: 1 / (1 + np.exp(-x)), 'tanh': np.tanh}


def _checked(errors, *paths):
    assert list(errors) == list(paths)
    assert all(e < 1e-6 for e in errors.values())


def _net(layer, shapes):
    """Network Input -> layer, every Input item wired to the input of the
    same name, on a float64 DebugHandler."""
    inp = bs.layers.Input({k: ('T', 'B') + tuple(v)
                           for k, v in shapes.items()})
    for key in shapes:
        inp - key >> key - layer
    net = bs.Network.from_layer(layer)
    net.set_handler(DebugHandler(NumpyHandler(np.float64)))
    return net


def _run(layer, data, training_pass=False):
    net = _net(layer, {k: v.shape[2:] for k, v in data.items()})
    net.provide_external_data(data)
    net.forward_pass(training_pass=training_pass)
    return net


def _backward(net, deltas, name='Layer'):
    """Set the output deltas of layer ``name`` and run its backward pass
    alone (after the backward buffers are cleared)."""
    h = net.handler
    net.buffer_manager.clear_backward_buffers()
    for out_name, value in deltas.items():
        h.set_from_numpy(net.buffer[name].output_deltas[out_name],
                         np.asarray(value, dtype=np.float64))
    net.layers[name].backward_pass(net.buffer[name])


# -- BatchNorm ----------------------------------------------------------------

BN_PATHS = ['BatchNorm.input_deltas.default'] + [
    'BatchNorm.gradients.' + p for p in ('gamma', 'beta', 'mu', 'sigma')]


@pytest.mark.parametrize('shape, T, B', [((4,), 3, 2), ((2, 3), 2, 3),
                                         ((3, 4, 2), 2, 2)])
def test_batch_norm_gradients_training(shape, T, B):
    errors = check_layer_gradients(BatchNorm, {'decay': 0.7},
                                   {'default': shape}, training_pass=True,
                                   time_steps=T, batch_size=B)
    _checked(errors, *BN_PATHS)
    # the outputs do not depend on mu and sigma in training passes
    assert errors['BatchNorm.gradients.mu'] == 0
    assert errors['BatchNorm.gradients.sigma'] == 0


class RunningGradientsBatchNormLayerImpl(BatchNormLayerImpl):
    """BatchNorm plus the true derivatives with respect to mu and sigma
    after inference passes (which the layer leaves at zero: they are not
    trained), so that the finite-difference check covers everything."""

    def backward_pass(self, buffers):
        super().backward_pass(buffers)
        assert not self.last_pass_was_training
        h = self.handler
        C = self.n_features
        x = h.get_numpy_copy(buffers.inputs.default).reshape(-1, C)
        dy = h.get_numpy_copy(buffers.output_deltas.default).reshape(-1, C)
        gamma, mu, sigma = (h.get_numpy_copy(buffers.parameters[p])
                            for p in ('gamma', 'mu', 'sigma'))
        extra = {'mu': -(dy * gamma / sigma).sum(0),
                 'sigma': -(dy * gamma * (x - mu) / sigma ** 2).sum(0)}
        for p, value in extra.items():
            h.set_from_numpy(buffers.gradients[p],
                             h.get_numpy_copy(buffers.gradients[p]) + value)


@pytest.mark.parametrize('shape, T, B', [((4,), 3, 2), ((3, 4, 2), 2, 2)])
def test_batch_norm_gradients_inference(shape, T, B):
    C = shape[-1]
    sigma = np.random.RandomState(2).uniform(0.5, 1.5, C)
    errors = check_layer_gradients(
        RunningGradientsBatchNormLayerImpl, {}, {'default': shape},
        training_pass=False, time_steps=T, batch_size=B,
        parameters={'sigma': sigma})
    _checked(errors, *[p.replace('BatchNorm', 'RunningGradientsBatchNorm')
                       for p in BN_PATHS])


@pytest.mark.parametrize('training_pass', [True, False])
def test_batch_norm_leaves_running_gradients_zero(training_pass):
    rnd = np.random.RandomState(3)
    net = _net(BatchNorm(name='Layer'), {'default': (2, 2, 3)})
    net.initialize({'Layer': {'gamma': 1.5, 'beta': 0.1, 'mu': 0.2,
                              'sigma': 2.0}})
    net.provide_external_data({'default': rnd.randn(2, 3, 2, 2, 3)})
    net.forward_pass(training_pass=training_pass)
    _backward(net, {'default': rnd.randn(2, 3, 2, 2, 3)})
    assert np.all(net.get('Layer.gradients.mu') == 0)
    assert np.all(net.get('Layer.gradients.sigma') == 0)
    assert np.any(net.get('Layer.gradients.gamma') != 0)


def test_batch_norm_values_and_running_averages():
    rnd = np.random.RandomState(4)
    T, B, H, W, C = 2, 3, 2, 4, 3
    decay, eps = 0.8, 1e-3
    gamma, beta = rnd.uniform(0.5, 2, C), rnd.randn(C)
    net = _net(BatchNorm(name='Layer', decay=decay, epsilon=eps),
               {'default': (H, W, C)})
    net.initialize({'Layer': {'gamma': gamma, 'beta': beta, 'mu': 0,
                              'sigma': 1}})
    mu, sigma = np.zeros(C), np.ones(C)
    for _ in range(3):
        x = rnd.randn(T, B, H, W, C) * [1, 2, 3] + [0, -1, 5]
        net.provide_external_data({'default': x})
        net.forward_pass(training_pass=True)
        mean = x.reshape(-1, C).mean(0)
        std = np.sqrt(x.reshape(-1, C).var(0) + eps)
        assert np.allclose(net.get('Layer.outputs.default'),
                           gamma * (x - mean) / std + beta)
        assert np.allclose(net.get('Layer.internals.mean'), mean)
        assert np.allclose(net.get('Layer.internals.std'), std)
        mu = decay * mu + (1 - decay) * mean
        sigma = decay * sigma + (1 - decay) * std
        assert np.allclose(net.get('Layer.parameters.mu'), mu)
        assert np.allclose(net.get('Layer.parameters.sigma'), sigma)
    # inference passes use (and keep) the running averages, at any T and B
    x = rnd.randn(1, 2, H, W, C)
    net.provide_external_data({'default': x})
    net.forward_pass(training_pass=False)
    assert np.allclose(net.get('Layer.outputs.default'),
                       gamma * (x - mu) / sigma + beta)
    assert np.allclose(net.get('Layer.parameters.mu'), mu)
    assert np.allclose(net.get('Layer.parameters.sigma'), sigma)


def test_batch_norm_in_a_network():
    """Gradients of the layers below and above a BatchNorm (training
    pass) and of an L2Decay penalty, against finite differences of
    total_loss."""
    inp = bs.layers.Input({'default': ('T', 'B', 3)})
    hid = FullyConnected(4, activation='linear', name='Hid')
    bn = BatchNorm(name='BN')
    out = FullyConnected(2, activation='tanh', name='Out')
    inp >> hid >> bn >> out >> Loss(name='L')
    bn >> L2Decay(name='Decay') - 'loss' >> Loss(importance=0.1,
                                                 name='Penalty')
    net = bs.Network.from_layer(inp)
    net.initialize(bs.initializers.Gaussian(0.5),
                   BN={'gamma': 1.0, 'beta': 0.0, 'mu': 0.0, 'sigma': 1.0})
    data = {'default': np.random.RandomState(5).randn(2, 3, 3)}
    errors = check_network_gradients(net, data, training_pass=True,
                                     check_inputs=True)
    assert {'Hid.gradients.W', 'BN.gradients.gamma', 'Out.gradients.W',
            'Input.output_deltas.default'} <= set(errors)


# -- Highway ------------------------------------------------------------------

@pytest.mark.parametrize('T, B', SIZES)
@pytest.mark.parametrize('shape', [(3,), (2, 3)])
def test_highway_gradients(T, B, shape):
    errors = check_layer_gradients(
        Highway, {}, {'H': shape, 'T': shape, 'x': shape},
        time_steps=T, batch_size=B)
    _checked(errors, 'Highway.input_deltas.H', 'Highway.input_deltas.T',
             'Highway.input_deltas.x')


def test_highway_values():
    rnd = np.random.RandomState(6)
    H, T, x = rnd.randn(2, 3, 4), rnd.rand(2, 3, 4), rnd.randn(2, 3, 4)
    net = _run(Highway(name='Layer'), {'H': H, 'T': T, 'x': x})
    assert np.allclose(net.get('Layer.outputs.default'), H * T + x * (1 - T))


# -- Elementwise, NoOp, DeltasScaling -----------------------------------------

@pytest.mark.parametrize('activation', sorted(ACTIVATIONS))
@pytest.mark.parametrize('T, B', SIZES)
def test_elementwise_gradients(activation, T, B):
    errors = check_layer_gradients(Elementwise, {'activation': activation},
                                   {'default': (2, 3)}, time_steps=T,
                                   batch_size=B)
    _checked(errors, 'Elementwise.input_deltas.default')


@pytest.mark.parametrize('activation', sorted(ACTIVATIONS))
def test_elementwise_values(activation):
    x = np.random.RandomState(7).randn(2, 3, 2, 2)
    net = _run(Elementwise(activation, name='Layer'), {'default': x})
    assert np.allclose(net.get('Layer.outputs.default'),
                       ACTIVATIONS[activation](x))


def test_elementwise_default_is_rel():
    x = np.random.RandomState(8).randn(2, 2, 3)
    net = _run(Elementwise(name='Layer'), {'default': x})
    assert np.allclose(net.get('Layer.outputs.default'), np.maximum(x, 0))


@pytest.mark.parametrize('T, B', SIZES)
def test_noop_gradients_and_values(T, B):
    errors = check_layer_gradients(NoOp, {}, {'default': (2, 3)},
                                   time_steps=T, batch_size=B)
    _checked(errors, 'NoOp.input_deltas.default')
    x = np.random.RandomState(9).randn(T, B, 2, 3)
    assert np.array_equal(_run(NoOp(name='Layer'), {'default': x}).get(
        'Layer.outputs.default'), x)


@pytest.mark.parametrize('T, B', SIZES)
def test_deltas_scaling_with_factor_one_is_the_identity(T, B):
    errors = check_layer_gradients(DeltasScaling, {'factor': 1.0},
                                   {'default': (3,)}, time_steps=T,
                                   batch_size=B)
    _checked(errors, 'DeltasScaling.input_deltas.default')


@pytest.mark.parametrize('factor', [2.5, -1, 0])
def test_deltas_scaling_scales_deltas_only(factor):
    rnd = np.random.RandomState(10)
    x, dy = rnd.randn(2, 3, 4), rnd.randn(2, 3, 4)
    net = _run(DeltasScaling(factor, name='Layer'), {'default': x})
    net.compute_all_deltas = True
    assert np.array_equal(net.get('Layer.outputs.default'), x)
    _backward(net, {'default': dy})
    dx0 = rnd.randn(2, 3, 4)   # deltas are added to what is there
    net.handler.set_from_numpy(net.buffer.Layer.input_deltas.default, dx0)
    net.layers['Layer'].backward_pass(net.buffer.Layer)
    assert np.allclose(net.get('Layer.input_deltas.default'),
                       dx0 + factor * dy)


def test_deltas_scaling_scales_the_gradients_below():
    def gradient(factor):
        inp = bs.layers.Input({'default': ('T', 'B', 3)})
        inp >> FullyConnected(2, name='Hid') >> DeltasScaling(factor) >> \
            L2Decay() - 'loss' >> Loss()
        net = bs.Network.from_layer(inp)
        net.set_handler(DebugHandler(NumpyHandler(np.float64)))
        net.initialize(bs.initializers.Gaussian(1.0), seed=1)
        net.provide_external_data(
            {'default': np.random.RandomState(11).randn(2, 3, 3)})
        net.forward_pass(training_pass=True)
        net.backward_pass()
        return net.get('Hid.gradients.W')
    assert np.allclose(gradient(-0.5), -0.5 * gradient(1.0))


# -- Merge --------------------------------------------------------------------

@pytest.mark.parametrize('T, B', SIZES)
@pytest.mark.parametrize('shape_1, shape_2', [((3,), (2,)),
                                              ((2, 3), (2, 1)),
                                              ((2, 2, 1), (2, 2, 3))])
def test_merge_gradients(T, B, shape_1, shape_2):
    errors = check_layer_gradients(
        Merge, {}, {'inputs_1': shape_1, 'inputs_2': shape_2},
        time_steps=T, batch_size=B)
    _checked(errors, 'Merge.input_deltas.inputs_1',
             'Merge.input_deltas.inputs_2')


def test_merge_values():
    rnd = np.random.RandomState(12)
    a, b = rnd.randn(2, 3, 2, 3), rnd.randn(2, 3, 2, 1)
    net = _run(Merge(name='Layer'), {'inputs_1': a, 'inputs_2': b})
    assert net.layers['Layer'].out_shapes['default'].shape == \
        ('T', 'B', 2, 4)
    assert np.array_equal(net.get('Layer.outputs.default'),
                          np.concatenate([a, b], axis=-1))


def test_merge_of_one_output_with_itself():
    rnd = np.random.RandomState(13)
    x, dy = rnd.randn(2, 3, 3), rnd.randn(2, 3, 6)
    inp = bs.layers.Input({'default': ('T', 'B', 3)})
    merge = Merge(name='Layer')
    inp >> 'inputs_1' - merge
    inp >> 'inputs_2' - merge
    net = bs.Network.from_layer(merge)
    net.set_handler(DebugHandler(NumpyHandler(np.float64)))
    net.compute_all_deltas = True
    net.provide_external_data({'default': x})
    net.forward_pass()
    assert np.array_equal(net.get('Layer.outputs.default'),
                          np.concatenate([x, x], axis=-1))
    _backward(net, {'default': dy})
    assert np.allclose(net.get('Input.output_deltas.default'),
                       dy[..., :3] + dy[..., 3:])


# -- L1Decay, L2Decay ---------------------------------------------------------

@pytest.mark.parametrize('layer, path', [(L1Decay, 'L1Decay'),
                                         (L2Decay, 'L2Decay')])
@pytest.mark.parametrize('T, B', SIZES)
@pytest.mark.parametrize('shape', [(4,), (2, 3), ('B', 3)])
def test_decay_gradients(layer, path, T, B, shape):
    errors = check_layer_gradients(layer, {}, {'default': shape},
                                   time_steps=T, batch_size=B)
    _checked(errors, path + '.input_deltas.default')


def test_decay_values_and_total_loss():
    rnd = np.random.RandomState(14)
    x = rnd.randn(2, 3, 2, 3)
    l1 = _run(L1Decay(name='Layer'), {'default': x})
    assert l1.get('Layer.outputs.loss').shape == (2, 3, 1)
    assert np.allclose(l1.get('Layer.outputs.loss')[..., 0],
                       np.abs(x).sum(axis=(2, 3)))
    l2 = _run(L2Decay(name='Layer'), {'default': x})
    assert np.allclose(l2.get('Layer.outputs.loss')[..., 0],
                       0.5 * (x ** 2).sum(axis=(2, 3)))
    # behind a Loss layer: importance * sum / batch size
    inp = bs.layers.Input({'default': ('T', 'B', 2, 3)})
    inp >> L1Decay() - 'loss' >> Loss(importance=0.3, name='A')
    inp >> L2Decay() - 'loss' >> Loss(importance=2.0, name='B')
    net = bs.Network.from_layer(inp)
    net.set_handler(DebugHandler(NumpyHandler(np.float64)))
    net.provide_external_data({'default': x})
    net.forward_pass()
    losses = net.get_loss_values()
    assert np.isclose(losses['A'], 0.3 * np.abs(x).sum() / 3)
    assert np.isclose(losses['B'], 2.0 * 0.5 * (x ** 2).sum() / 3)
    assert np.isclose(losses['total_loss'], losses['A'] + losses['B'])


def test_decay_network_gradients():
    inp = bs.layers.Input({'default': ('T', 'B', 3)})
    hid = FullyConnected(4, activation='tanh', name='Hid')
    inp >> hid >> L1Decay() - 'loss' >> Loss(importance=0.5, name='A')
    hid >> L2Decay() - 'loss' >> Loss(importance=0.2, name='B')
    net = bs.Network.from_layer(inp)
    net.initialize(bs.initializers.Gaussian(0.5))
    errors = check_network_gradients(
        net, {'default': np.random.RandomState(15).randn(3, 2, 3)})
    assert set(errors) == {'Hid.gradients.W', 'Hid.gradients.bias'}


# -- Mask ---------------------------------------------------------------------

MASK_CASES = [((4,), (1,)), ((4,), (4,)), ((2, 3), (1,)), ((2, 3), (2, 3)),
              ((2, 3), (2, 1)), ((2, 2, 3), (2, 2, 1))]


@pytest.mark.parametrize('T, B', SIZES)
@pytest.mark.parametrize('shape, mask_shape', MASK_CASES)
def test_mask_gradients(T, B, shape, mask_shape):
    mask = np.random.RandomState(16).randint(0, 2, (T, B) + mask_shape)
    errors = check_layer_gradients(
        Mask, {}, {'default': shape, 'mask': mask_shape},
        inputs={'mask': mask}, time_steps=T, batch_size=B)
    _checked(errors, 'Mask.input_deltas.default')


@pytest.mark.parametrize('shape, mask_shape', MASK_CASES)
def test_mask_values_and_deltas(shape, mask_shape):
    rnd = np.random.RandomState(17)
    x = rnd.randn(3, 2, *shape)
    dy = rnd.randn(3, 2, *shape)
    mask = rnd.randint(0, 2, (3, 2) + mask_shape).astype(float)
    if mask_shape == (1,):   # whole time steps: numpy broadcasting needs
        ref = mask.reshape((3, 2) + (1,) * len(shape))   # one axis each
    else:
        ref = mask
    net = _run(Mask(name='Layer'), {'default': x, 'mask': mask})
    net.compute_all_deltas = True
    assert np.array_equal(net.get('Layer.outputs.default'), x * ref)
    _backward(net, {'default': dy})
    assert np.allclose(net.get('Input.output_deltas.default'), dy * ref)
    assert np.all(net.get('Input.output_deltas.mask') == 0)


def test_mask_whole_time_steps_of_sequences():
    """A (T, B, 1) mask zeroes the padding of shorter sequences."""
    x = np.ones((4, 2, 3))
    mask = np.ones((4, 2, 1))
    mask[2:, 0] = 0   # the first sequence has length 2
    net = _run(Mask(name='Layer'), {'default': x, 'mask': mask})
    out = net.get('Layer.outputs.default')
    assert np.all(out[2:, 0] == 0) and np.all(out[:2, 0] == 1)
    assert np.all(out[:, 1] == 1)


# -- deltas nothing needs are skipped -----------------------------------------

SKIP_CASES = [
    (lambda: NoOp(name='Layer'), {'default': (3,)}, ['default']),
    (lambda: Elementwise('tanh', name='Layer'), {'default': (3,)},
     ['default']),
    (lambda: DeltasScaling(2.0, name='Layer'), {'default': (3,)},
     ['default']),
    (lambda: Highway(name='Layer'), {'H': (3,), 'T': (3,), 'x': (3,)},
     ['default']),
    (lambda: Merge(name='Layer'), {'inputs_1': (3,), 'inputs_2': (2,)},
     ['default']),
    (lambda: Mask(name='Layer'), {'default': (3,), 'mask': (1,)},
     ['default']),
    (lambda: BatchNorm(name='Layer'), {'default': (3,)}, ['default']),
    (lambda: L1Decay(name='Layer'), {'default': (3,)}, ['loss']),
    (lambda: L2Decay(name='Layer'), {'default': (3,)}, ['loss']),
]


@pytest.mark.parametrize('make, shapes, outputs', SKIP_CASES)
def test_input_deltas_skipped_only_where_not_needed(make, shapes, outputs):
    rnd = np.random.RandomState(18)
    for compute_all in (False, True):
        net = _net(make(), shapes)
        net.compute_all_deltas = compute_all
        if net.buffer_manager.num_parameters:
            net.initialize(1.0)
        net.provide_external_data(
            {k: rnd.uniform(0.1, 1, (2, 3) + v) for k, v in shapes.items()})
        net.forward_pass(training_pass=True)
        _backward(net, {o: rnd.randn(*net.buffer.Layer.output_deltas[o].shape)
                        for o in outputs})
        deltas = [net.get('Input.output_deltas.' + k) for k in shapes
                  if k != 'mask']
        assert all(np.any(d != 0) == compute_all for d in deltas)


# -- construction errors ------------------------------------------------------

@pytest.mark.parametrize('make, match', [
    (lambda: BatchNorm(decay=1.5),
     r"BatchNorm layer \(unnamed\): argument 'decay': expected a number in "
     r"\[0, 1\], but received 1.5"),
    (lambda: BatchNorm(name='BN', epsilon=0),
     r"BatchNorm layer 'BN': argument 'epsilon': expected a positive "
     r"number, but received 0"),
    (lambda: BatchNorm(decay='0.9'), r"argument 'decay'.*'0.9'"),
    (lambda: Elementwise('softmax'),
     r"Elementwise layer \(unnamed\): argument 'activation': expected one "
     r"of 'linear', 'rel', 'sigmoid', 'tanh', but received 'softmax'"),
    (lambda: DeltasScaling('2'),
     r"DeltasScaling layer \(unnamed\): argument 'factor': expected a "
     r"finite real number, but received '2'"),
    (lambda: DeltasScaling(float('inf'), name='D'),
     r"DeltasScaling layer 'D': argument 'factor'"),
])
def test_construction_argument_errors(make, match):
    with pytest.raises(LayerValidationError, match=match):
        make()


def test_construction_signature_errors():
    with pytest.raises(TypeError, match='DeltasScaling'):
        DeltasScaling()
    with pytest.raises(TypeError, match='NoOp'):
        NoOp(size=3)
    with pytest.raises(TypeError, match='L2Decay'):
        L2Decay(importance=0.1)


def _architecture(layer_description, in_shapes):
    return {
        'Input': {'@type': 'Input', 'out_shapes': {
            k: ['T', 'B'] + list(v) for k, v in in_shapes.items()},
            '@outgoing_connections': {
                name: ['Bad' + ('' if name == 'default' else '.' + name)]
                for name in in_shapes}},
        'Bad': dict(layer_description, **{'@outgoing_connections': {}})}


@pytest.mark.parametrize('description, in_shapes, match', [
    ({'@type': 'Highway'}, {'H': [3], 'T': [3], 'x': [4]},
     r"Highway layer 'Bad': input 'x' expects shape \('T', 'B', 3\) "
     r"\(the shape of input 'H'.*\), but receives \('T', 'B', 4\)"),
    ({'@type': 'Highway'}, {'H': [2, 3], 'T': [3, 2], 'x': [2, 3]},
     r"Highway layer 'Bad': input 'T' expects shape \('T', 'B', 2, 3\)"),
    ({'@type': 'Highway'}, {'H': [3], 'x': [3]},
     r"Highway layer 'Bad': input 'T' is not connected"),
    ({'@type': 'Merge'}, {'inputs_1': [2, 3], 'inputs_2': [3, 3]},
     r"Merge layer 'Bad': input 'inputs_2' expects shape "
     r"\('T', 'B', 2, 'N2'\) \(the shape of input 'inputs_1' "
     r"\('T', 'B', 2, 3\) in all but the last axis\), but receives "
     r"\('T', 'B', 3, 3\)"),
    ({'@type': 'Merge'}, {'inputs_1': [2, 3], 'inputs_2': [6]},
     r"Merge layer 'Bad': input 'inputs_2'"),
    ({'@type': 'Mask'}, {'default': [4], 'mask': [2]},
     r"Mask layer 'Bad': input 'mask' expects shape \('T', 'B', 1\) or "
     r"\('T', 'B', 4\) \(one value per time step and sequence, or per "
     r"feature of input 'default'\), but receives \('T', 'B', 2\)"),
    ({'@type': 'Mask'}, {'default': [2, 3], 'mask': [3, 1]},
     r"Mask layer 'Bad': input 'mask' expects shape \('T', 'B', 1\) or "
     r"\('T', 'B', 2, 1\) or \('T', 'B', 2, 3\) .*per position.*but "
     r"receives \('T', 'B', 3, 1\)"),
    ({'@type': 'BatchNorm', 'decay': -0.1}, {'default': [3]},
     r"BatchNorm layer 'Bad': argument 'decay'"),
    ({'@type': 'Elementwise', 'activation': 'relu'}, {'default': [3]},
     r"Elementwise layer 'Bad': argument 'activation'"),
    ({'@type': 'DeltasScaling'}, {'default': [3]},
     r"DeltasScaling layer 'Bad': argument 'factor' is required"),
    ({'@type': 'NoOp', 'factor': 2}, {'default': [3]},
     r"NoOp layer 'Bad': unexpected argument\(s\) factor"),
    ({'@type': 'L1Decay', 'importance': 2}, {'default': [3]},
     r"L1Decay layer 'Bad': unexpected argument\(s\) importance"),
])
def test_validation_errors_name_layer_and_problem(description, in_shapes,
                                                   match):
    with pytest.raises(LayerValidationError, match=match):
        bs.Network.from_architecture(_architecture(description, in_shapes))


def test_registered_and_described():
    for name in ('BatchNorm', 'Highway', 'Elementwise', 'Merge', 'NoOp',
                 'DeltasScaling', 'L1Decay', 'L2Decay', 'Mask'):
        assert getattr(bs.layers, name).layer_type == name
    inp = bs.layers.Input({'default': ('T', 'B', 3)})
    net = bs.Network.from_layer(inp >> BatchNorm(decay=0.5, name='BN') >>
                                DeltasScaling(-1.0, name='DS'))
    assert net.architecture['BN']['decay'] == 0.5
    assert net.architecture['BN']['epsilon'] == 1e-5
    assert net.architecture['DS']['factor'] == -1.0
    again = bs.Network.from_architecture(net.architecture)
    assert again.layers['BN'].decay == 0.5
