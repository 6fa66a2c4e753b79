"""The forward pass of every layer against a plain numpy computation.

Finite differences check deltas and gradients against the forward pass, so
a bug that the forward and the backward pass share (a wrong divisor in
average pooling, a wrong sign) passes them; these tests compare what each
layer computes (float64, on the NumpyHandler through the DebugHandler)
with numpy written from the layer's documentation."""
import itertools

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.handlers import DebugHandler, NumpyHandler
from brainstorm.plugins import registry

L = bs.layers
COVERED = set()
TOL = dict(rtol=1e-10, atol=1e-12)


def covers(*layer_types):
    """Marks a test as the forward-value test of these layer types."""
    def mark(fn):
        COVERED.update(layer_types)
        return fn
    return mark


def test_every_layer_of_brainstorm_layers_has_a_forward_value_test():
    layers = {n for n in registry.names('layers')
              if registry.provider('layers', n) == 'brainstorm-layers'}
    assert len(layers) == 24
    assert sorted(layers - COVERED) == []
    assert sorted(COVERED - layers) == []


# -- helpers ------------------------------------------------------------------
def run(layer, inputs, parameters=None, training_pass=False, context=None,
        templates=None):
    """Network ``Input -> layer`` (each input fed by an Input item of its
    name) on a float64 handler, run forward on ``inputs`` (full arrays,
    (T, B, ...) unless ``templates`` says otherwise)."""
    templates = templates or {}
    shapes = {name: templates.get(name, ('T', 'B') + value.shape[2:])
              for name, value in inputs.items()}
    inp = L.Input(shapes)
    for name in inputs:
        inp - name >> name - layer
    net = bs.Network.from_layer(layer)
    net.set_handler(DebugHandler(NumpyHandler(np.float64)))
    if parameters:
        net.initialize({layer.layer.name: parameters})
    net.provide_external_data(inputs)
    net.forward_pass(training_pass=training_pass, context=context)
    return net


def out(net, name='default', category='outputs'):
    return net.get('Layer.{}.{}'.format(category, name))


def act(name, x):
    return {'linear': lambda v: v, 'rel': lambda v: np.maximum(v, 0),
            'sigmoid': lambda v: 1 / (1 + np.exp(-v)),
            'tanh': np.tanh}[name](x)


def uniform(rnd, *shape):
    return rnd.uniform(-0.8, 0.8, shape)


ACTIVATIONS = ['linear', 'rel', 'sigmoid', 'tanh']


# -- feed-forward layers ------------------------------------------------------
@covers('FullyConnected')
@pytest.mark.parametrize('activation', ACTIVATIONS)
@pytest.mark.parametrize('in_shape, size', [((4,), 3), ((2, 3), (2, 2))])
def test_fully_connected(activation, in_shape, size):
    rnd = np.random.RandomState(1)
    x = rnd.randn(2, 3, *in_shape)
    units = int(np.prod(size))
    W, b = uniform(rnd, int(np.prod(in_shape)), units), uniform(rnd, units)
    net = run(L.FullyConnected(size, activation=activation, name='Layer'),
              {'default': x}, {'W': W, 'bias': b})
    expected = act(activation, x.reshape(2, 3, -1) @ W + b)
    np.testing.assert_allclose(
        out(net), expected.reshape((2, 3) + tuple(np.atleast_1d(size))),
        **TOL)


@covers('Elementwise')
@pytest.mark.parametrize('activation', ACTIVATIONS)
def test_elementwise(activation):
    x = np.random.RandomState(2).randn(3, 2, 2, 3) * 3
    net = run(L.Elementwise(activation=activation, name='Layer'),
              {'default': x})
    np.testing.assert_allclose(out(net), act(activation, x), **TOL)


@covers('NoOp', 'DeltasScaling')
@pytest.mark.parametrize('make', [lambda: L.NoOp(name='Layer'),
                                  lambda: L.DeltasScaling(-0.5,
                                                          name='Layer')])
def test_identities(make):
    x = np.random.RandomState(3).randn(2, 3, 4, 2)
    for training_pass in (False, True):
        net = run(make(), {'default': x}, training_pass=training_pass)
        np.testing.assert_array_equal(out(net), x)


@covers('Dropout')
@pytest.mark.parametrize('drop_prob', [0.0, 0.25, 0.6])
def test_dropout(drop_prob):
    x = np.random.RandomState(4).randn(3, 4, 50)
    net = run(L.Dropout(drop_prob, name='Layer'), {'default': x})
    np.testing.assert_array_equal(out(net), x)       # inference: identity
    net = run(L.Dropout(drop_prob, name='Layer'), {'default': x},
              training_pass=True)
    mask = out(net, 'mask', 'internals')
    keep = 1 - drop_prob
    kept = mask != 0
    np.testing.assert_allclose(mask[kept], 1 / keep, **TOL)
    assert abs(kept.mean() - keep) <= 5 * np.sqrt(keep * (1 - keep) / 600)
    np.testing.assert_allclose(out(net), np.where(kept, x / keep, 0), **TOL)


@covers('BatchNorm')
@pytest.mark.parametrize('in_shape', [(4,), (3, 2, 3)])
def test_batch_norm(in_shape):
    rnd = np.random.RandomState(5)
    x = rnd.randn(2, 5, *in_shape) * 2 + 1
    n = in_shape[-1]
    P = {'gamma': rnd.uniform(0.5, 2, n), 'beta': uniform(rnd, n),
         'mu': uniform(rnd, n), 'sigma': rnd.uniform(0.5, 2, n)}
    decay, eps = 0.7, 1e-3
    net = run(L.BatchNorm(decay=decay, epsilon=eps, name='Layer'),
              {'default': x}, P)
    np.testing.assert_allclose(
        out(net), P['gamma'] * (x - P['mu']) / P['sigma'] + P['beta'],
        **TOL)
    net = run(L.BatchNorm(decay=decay, epsilon=eps, name='Layer'),
              {'default': x}, P, training_pass=True)
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axis=axes)
    std = np.sqrt(((x - mean) ** 2).mean(axis=axes) + eps)
    np.testing.assert_allclose(
        out(net), P['gamma'] * (x - mean) / std + P['beta'], **TOL)
    np.testing.assert_allclose(net.get('Layer.parameters.mu'),
                               decay * P['mu'] + (1 - decay) * mean, **TOL)
    np.testing.assert_allclose(net.get('Layer.parameters.sigma'),
                               decay * P['sigma'] + (1 - decay) * std,
                               **TOL)


@covers('Highway')
def test_highway():
    rnd = np.random.RandomState(6)
    H, x = rnd.randn(2, 3, 4), rnd.randn(2, 3, 4)
    T = rnd.rand(2, 3, 4)
    net = run(L.Highway(name='Layer'), {'H': H, 'T': T, 'x': x})
    np.testing.assert_allclose(out(net), H * T + x * (1 - T), **TOL)


@covers('Merge')
def test_merge():
    rnd = np.random.RandomState(7)
    a, b = rnd.randn(2, 3, 2, 3), rnd.randn(2, 3, 2, 1)
    net = run(L.Merge(name='Layer'), {'inputs_1': a, 'inputs_2': b})
    np.testing.assert_array_equal(out(net), np.concatenate([a, b], -1))


@covers('Mask')
@pytest.mark.parametrize('shape, mask_shape', [((4,), (1,)), ((4,), (4,)),
                                               ((2, 3, 2), (2, 3, 1))])
def test_mask(shape, mask_shape):
    rnd = np.random.RandomState(8)
    x = rnd.randn(3, 2, *shape)
    mask = rnd.randint(0, 2, (3, 2) + mask_shape).astype(float)
    net = run(L.Mask(name='Layer'), {'default': x, 'mask': mask})
    np.testing.assert_allclose(out(net), x * mask, **TOL)


# -- images -------------------------------------------------------------------
def windows(h, w, kh, kw, padding, stride):
    """(i, j, rows inside, columns inside) of every output position."""
    ho = (h + 2 * padding - kh) // stride[0] + 1
    wo = (w + 2 * padding - kw) // stride[1] + 1
    for i, j in itertools.product(range(ho), range(wo)):
        r0, c0 = i * stride[0] - padding, j * stride[1] - padding
        yield (i, j, [r for r in range(r0, r0 + kh) if 0 <= r < h],
               [c for c in range(c0, c0 + kw) if 0 <= c < w])


@covers('Convolution2D')
@pytest.mark.parametrize('kwargs', [
    dict(num_filters=3, kernel_size=3, activation='rel'),
    dict(num_filters=2, kernel_size=(2, 3), stride=(2, 1), padding=1,
         activation='tanh'),
    dict(num_filters=1, kernel_size=(3, 1), stride=2, padding=2,
         activation='linear'),
])
def test_convolution_2d(kwargs):
    rnd = np.random.RandomState(9)
    T, B, h, w, c = 2, 2, 5, 4, 2
    x = rnd.randn(T, B, h, w, c)
    kh, kw = np.broadcast_to(kwargs['kernel_size'], 2)
    f = kwargs['num_filters']
    stride = tuple(np.broadcast_to(kwargs.get('stride', 1), 2))
    padding = kwargs.get('padding', 0)
    W, b = uniform(rnd, f, kh, kw, c), uniform(rnd, f)
    net = run(L.Convolution2D(name='Layer', **kwargs), {'default': x},
              {'W': W, 'bias': b})
    y = out(net)
    xp = np.zeros((T, B, h + 2 * padding, w + 2 * padding, c))
    xp[:, :, padding:padding + h, padding:padding + w] = x
    count = 0
    for i, j, _, _ in windows(h, w, kh, kw, padding, stride):
        r, q = i * stride[0], j * stride[1]
        patch = xp[:, :, r:r + kh, q:q + kw]                # (T, B, kh, kw, c)
        expected = act(kwargs['activation'], np.einsum(
            'tbhwc,fhwc->tbf', patch, W) + b)
        np.testing.assert_allclose(y[:, :, i, j], expected, **TOL)
        count += 1
    assert y.shape[2] * y.shape[3] == count


@covers('Pooling2D')
@pytest.mark.parametrize('kwargs', [
    dict(kernel_size=2, stride=2),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=1),
    dict(kernel_size=3, padding=1),
    dict(kernel_size=(2, 3), stride=2, padding=1),
])
@pytest.mark.parametrize('pool_type', ['max', 'avg'])
def test_pooling_2d(kwargs, pool_type):
    rnd = np.random.RandomState(10)
    T, B, h, w, c = 2, 3, 5, 4, 2
    x = rnd.randn(T, B, h, w, c)
    kh, kw = np.broadcast_to(kwargs['kernel_size'], 2)
    stride = tuple(np.broadcast_to(kwargs.get('stride', 1), 2))
    padding = kwargs.get('padding', 0)
    net = run(L.Pooling2D(type=pool_type, name='Layer', **kwargs),
              {'default': x})
    y = out(net)
    count = 0
    for i, j, rows, cols in windows(h, w, kh, kw, padding, stride):
        inside = x[:, :, rows][:, :, :, cols]       # (T, B, r, q, c)
        flat = inside.reshape(T, B, -1, c)
        if pool_type == 'avg':
            # the mean over the positions inside the image only
            expected = flat.sum(axis=2) / (len(rows) * len(cols))
        else:
            expected = flat.max(axis=2)
            best = flat.argmax(axis=2)
            positions = np.array([r * w + q for r in rows for q in cols])
            np.testing.assert_array_equal(
                out(net, 'argmax', 'internals')[:, :, i, j],
                positions[best])
        np.testing.assert_allclose(y[:, :, i, j], expected, **TOL)
        count += 1
    assert y.shape[2] * y.shape[3] == count


# -- losses and output layers -------------------------------------------------
@covers('SoftmaxCE')
@pytest.mark.parametrize('shape', [(5,), (2, 3, 4)])
def test_softmax_ce(shape):
    rnd = np.random.RandomState(11)
    x = rnd.randn(2, 3, *shape) * 3
    targets = rnd.randint(0, shape[-1], (2, 3) + shape[:-1] + (1,))
    net = run(L.SoftmaxCE(name='Layer'),
              {'default': x, 'targets': targets.astype(float)})
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(out(net, 'predictions'), p, **TOL)
    np.testing.assert_allclose(
        out(net, 'loss'), -np.log(np.take_along_axis(p, targets, -1)),
        **TOL)


@covers('SigmoidCE')
def test_sigmoid_ce():
    rnd = np.random.RandomState(12)
    x, t = rnd.randn(2, 3, 4) * 3, rnd.rand(2, 3, 4)
    t[0, 0] = np.round(t[0, 0])
    net = run(L.SigmoidCE(name='Layer'), {'default': x, 'targets': t})
    p = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(out(net, 'predictions'), p, **TOL)
    np.testing.assert_allclose(
        out(net, 'loss'), -(t * np.log(p) + (1 - t) * np.log(1 - p)),
        rtol=1e-9, atol=1e-12)


@covers('BinomialCrossEntropy')
def test_binomial_cross_entropy():
    rnd = np.random.RandomState(13)
    y, t = rnd.uniform(0.05, 0.95, (2, 3, 3)), rnd.rand(2, 3, 3)
    net = run(L.BinomialCrossEntropy(name='Layer'),
              {'default': y, 'targets': t})
    np.testing.assert_allclose(
        out(net, 'loss'), -(t * np.log(y) + (1 - t) * np.log(1 - y)),
        **TOL)


@covers('SquaredError', 'SquaredLoss')
@pytest.mark.parametrize('make', [L.SquaredError, L.SquaredLoss])
def test_squared_error_and_loss(make):
    rnd = np.random.RandomState(14)
    x, t = rnd.randn(2, 3, 2, 3), rnd.randn(2, 3, 2, 3)
    net = run(make(name='Layer'), {'default': x, 'targets': t})
    np.testing.assert_array_equal(out(net, 'predictions'), x)
    np.testing.assert_allclose(out(net, 'loss'), 0.5 * (x - t) ** 2, **TOL)


@covers('SquaredDifference')
def test_squared_difference():
    rnd = np.random.RandomState(15)
    a, b = rnd.randn(2, 3, 3, 2), rnd.randn(2, 3, 3, 2)
    net = run(L.SquaredDifference(name='Layer'),
              {'inputs_1': a, 'inputs_2': b})
    np.testing.assert_allclose(out(net), (a - b) ** 2, **TOL)


@covers('Loss')
@pytest.mark.parametrize('importance', [1.0, 0.25])
@pytest.mark.parametrize('template', [None, ('B', 2)])
def test_loss(importance, template):
    rnd = np.random.RandomState(16)
    if template is None:
        x, templates = rnd.randn(2, 4, 3), None
    else:
        x, templates = rnd.randn(4, 2), {'default': template}
    net = run(L.Loss(importance=importance, name='Layer'), {'default': x},
              templates=templates)
    expected = importance * x.sum() / 4
    np.testing.assert_allclose(out(net, 'loss'), [expected], **TOL)
    assert net.get_loss_values()['total_loss'] == pytest.approx(expected,
                                                                rel=1e-12)


@covers('L1Decay', 'L2Decay')
@pytest.mark.parametrize('template', [None, ('B', 3)])
def test_decay_losses(template):
    rnd = np.random.RandomState(17)
    if template is None:
        x, templates, features = rnd.randn(2, 3, 2, 3), None, (2, 3)
    else:
        x, templates, features = rnd.randn(3, 3), {'default': template}, (1,)
    l1 = run(L.L1Decay(name='Layer'), {'default': x}, templates=templates)
    l2 = run(L.L2Decay(name='Layer'), {'default': x}, templates=templates)
    for net, expected in ((l1, np.abs(x).sum(axis=features)),
                          (l2, 0.5 * (x ** 2).sum(axis=features))):
        loss = out(net, 'loss')
        np.testing.assert_allclose(loss.reshape(expected.shape), expected,
                                   **TOL)
        assert loss.shape == expected.shape + (1,)

# -- recurrent layers ---------------------------------------------------------
# Recurrent, Lstm, Clockwork and ClockworkLstm are compared with a step by
# step numpy computation, from a random context and for two T and B, in
# test_recurrent.py (test_values_match_numpy_reference).
COVERED.update(('Recurrent', 'Lstm', 'Clockwork', 'ClockworkLstm'))
