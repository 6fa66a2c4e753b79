"""Network (manual 8.1): buffers, get, running, context, initialize,
modifiers, handlers, HDF5."""
import types
from collections import OrderedDict

import h5py
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.handlers import DebugHandler, NumpyHandler
from brainstorm.initializers import InitializationError, Initializer
from brainstorm.layers import BufferStructure, Layer, construction_function
from brainstorm.plugins import hookimpl, registry
from brainstorm.structure.buffer_structure import ShapeError
from brainstorm.testing.simple_layers import (TestAffine, TestSoftmaxLoss,
                                              use_simple_layers)
from brainstorm.value_modifiers import ValueModifier


class ToyRnnLayerImpl(Layer):
    """h_t = tanh(x_t W + h_{t-1} R): a recurrent layer with context."""
    expected_kwargs = {'size'}

    def setup(self, kwargs, in_shapes):
        n, m = in_shapes['default'].feature_size, kwargs['size']
        out = OrderedDict(default=BufferStructure('T', 'B', m,
                                                  context_size=1))
        params = OrderedDict(W=BufferStructure(n, m),
                             R=BufferStructure(m, m))
        return out, params, OrderedDict()

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        x, y = buffers.inputs.default, buffers.outputs.default
        W, R = buffers.parameters.W, buffers.parameters.R
        for t in range(x.shape[0]):
            h.dot_mm(x[t], W, y[t])
            h.dot_add_mm(y[t - 1], R, y[t])
            h.tanh(y[t], y[t])

    def backward_pass(self, buffers):
        raise NotImplementedError


@construction_function(ToyRnnLayerImpl)
def ToyRnn(size, name=None):
    """A toy recurrent layer."""


class AddOne(ValueModifier):
    def __call__(self, handler, view):
        handler.add_st(1.0, view, view)


class Double(ValueModifier):
    def __call__(self, handler, view):
        handler.mult_st(2.0, view, view)


class NeedsMatrix(Initializer):
    def __call__(self, shape):
        self._assert_at_least_2d(shape)
        return np.full(shape, 7.0)


@pytest.fixture(autouse=True)
def layers():
    plugin = types.SimpleNamespace(
        brainstorm_layers=hookimpl(lambda: [ToyRnn]))
    registry.register_module(plugin, 'toy-rnn')
    with use_simple_layers():
        yield
    registry.unregister_module('toy-rnn')


def make_net(hidden=3, n_in=4, classes=2, rnn=False):
    inp = bs.layers.Input({'default': ('T', 'B', n_in),
                           'targets': ('T', 'B', 1)})
    out = TestSoftmaxLoss(name='Output')
    middle = ToyRnn(hidden, name='Hid') if rnn else TestAffine(hidden,
                                                               name='Hid')
    inp >> middle >> TestAffine(classes, name='Proj') >> out
    inp - 'targets' >> 'targets' - out
    return bs.Network.from_layer(out)


def data(T=2, B=3, n_in=4, classes=2, seed=0):
    rnd = np.random.RandomState(seed)
    return {'default': rnd.randn(T, B, n_in).astype(np.float32),
            'targets': rnd.randint(0, classes, (T, B, 1)).astype(np.float32)}


def test_buffer_paths_and_get():
    net = make_net()
    assert net.buffer['Hid.parameters.W'].shape == (4, 3)
    assert net.buffer.Hid.parameters.W is not None
    assert net.buffer['parameters'].shape == (4 * 3 + 3 + 3 * 2 + 2,)
    net.provide_external_data(data(T=2, B=3))
    assert net.buffer['Hid.outputs.default'].shape == (2, 3, 3)
    assert net.buffer['Proj.inputs.default'].shape == (2, 3, 3)
    w = net.get('Hid.parameters.W')
    w[:] = 5                        # a copy
    assert not np.any(net.get('Hid.parameters.W') == 5)
    for bad in ('Nope.parameters.W', 'Hid.nothing.W', 'Hid.parameters.Q',
                ''):
        with pytest.raises(KeyError):
            net.get(bad)
    assert set(net.get('Hid.parameters')) == {'W', 'bias'}
    assert net.get('Hid')['outputs']['default'].shape == (2, 3, 3)


def test_parameters_are_views_of_one_flat_buffer():
    net = make_net()
    net.initialize(0.0)
    net.buffer['Hid.parameters.bias'][:] = 3
    flat = net.get('parameters')
    assert flat[12:15].tolist() == [3, 3, 3]
    assert net.get('gradients').shape == flat.shape


def test_inputs_are_views_of_source_outputs_and_deltas_accumulate():
    net = make_net()
    net.initialize(bs_gauss(), seed=1)
    net.provide_external_data(data())
    net.forward_pass()
    assert np.array_equal(net.get('Proj.inputs.default'),
                          net.get('Hid.outputs.default'))
    net.backward_pass()
    assert np.array_equal(net.get('Proj.input_deltas.default'),
                          net.get('Hid.output_deltas.default'))
    assert np.any(net.get('gradients') != 0)


class Noise(Initializer):
    def __call__(self, shape):
        return self.random.randn(*shape)


def bs_gauss():
    return Noise()


def test_total_loss_is_what_backward_differentiates():
    net = make_net()
    handler = NumpyHandler(np.float64)
    net.set_handler(handler)
    net.initialize({'default': 0.0}, Hid={'W': np.random.RandomState(1)
                                          .randn(4, 3)},
                   Proj={'W': np.random.RandomState(2).randn(3, 2)})
    d = data()
    net.provide_external_data(d)
    net.forward_pass()
    net.backward_pass()
    grad = net.get('gradients')
    params = net.get('parameters')
    eps = 1e-6
    for i in range(0, params.size, 3):
        p = params.copy()
        p[i] += eps
        net.set_parameters(p)
        net.forward_pass()
        up = net.get_loss_values()['total_loss']
        p[i] -= 2 * eps
        net.set_parameters(p)
        net.forward_pass()
        down = net.get_loss_values()['total_loss']
        assert abs((up - down) / (2 * eps) - grad[i]) < 1e-6


def test_provide_external_data_checks_names_and_shapes():
    net = make_net()
    with pytest.raises(KeyError, match="'targets'"):
        net.provide_external_data({'default': np.zeros((1, 2, 4))})
    net.provide_external_data({'default': np.zeros((1, 2, 4))},
                              all_inputs=False)
    with pytest.raises(KeyError, match="no input named 'bogus'"):
        net.provide_external_data({'bogus': np.zeros((1, 2, 4))},
                                  all_inputs=False)
    with pytest.raises(ShapeError, match="'default'.*\\(1, 2, 5\\)"):
        net.provide_external_data({'default': np.zeros((1, 2, 5)),
                                   'targets': np.zeros((1, 2, 1))})
    with pytest.raises(ShapeError, match='T=1, B=3'):
        net.provide_external_data({'default': np.zeros((1, 2, 4)),
                                   'targets': np.zeros((1, 3, 1))})
    net.provide_external_data(data(T=3, B=5))
    assert net.get_input('default').shape == (3, 5, 4)
    net.provide_external_data(data(T=1, B=2))   # shrinks: views re-sliced
    assert net.get('Hid.outputs.default').shape == (1, 2, 3)


def test_get_loss_values_with_several_loss_layers():
    inp = bs.layers.Input({'default': ('T', 'B', 4),
                           'targets': ('T', 'B', 1)})
    l1, l2 = TestSoftmaxLoss(name='L1'), TestSoftmaxLoss(name='L2')
    inp >> TestAffine(2) >> l1
    inp >> TestAffine(2) >> l2
    inp - 'targets' >> 'targets' - l1
    inp - 'targets' >> 'targets' - l2
    net = bs.Network.from_layer(l1)
    net.initialize(0.1)
    net.provide_external_data(data())
    net.forward_pass()
    losses = net.get_loss_values()
    assert set(losses) == {'total_loss', 'L1', 'L2'}
    assert losses['total_loss'] == pytest.approx(losses['L1'] + losses['L2'])


def test_context_continues_sequences():
    net = make_net(rnn=True)
    net.initialize({'default': 0.0}, Hid={'W': np.random.RandomState(3)
                                          .randn(4, 3) * 0.5,
                                          'R': np.random.RandomState(4)
                                          .randn(3, 3) * 0.5})
    d = data(T=6, B=2)
    net.provide_external_data(d)
    net.forward_pass()
    whole = net.get('Hid.outputs.default')
    assert whole.shape == (6, 2, 3)
    first = {k: v[:3] for k, v in d.items()}
    second = {k: v[3:] for k, v in d.items()}
    net.provide_external_data(first)
    net.forward_pass()
    context = net.get_context()
    assert list(context) == ['Hid.outputs.default']
    net.provide_external_data(second)
    net.forward_pass(context=context)
    assert np.allclose(net.get('Hid.outputs.default'), whole[3:], atol=1e-6)
    net.forward_pass()          # without context: starts from zeros again
    assert not np.allclose(net.get('Hid.outputs.default'), whole[3:])
    with pytest.raises(ShapeError):
        net.forward_pass(context={'Hid.outputs.default': np.zeros((1, 5, 3))})


def test_initialize_patterns():
    net = make_net()
    net.initialize({'H*': {'W': 1, 'b*': 2}, 'default': 3})
    assert np.all(net.get('Hid.parameters.W') == 1)
    assert np.all(net.get('Hid.parameters.bias') == 2)
    assert np.all(net.get('Proj.parameters.W') == 3)
    net.initialize(default=0, Proj={'bias': [1, 2]})
    assert net.get('Proj.parameters.bias').tolist() == [1, 2]
    net.initialize({'Proj': 5, 'H*': {'default': 4}},
                   Proj=6)   # keyword arguments take precedence
    assert np.all(net.get('Proj.parameters.W') == 6)
    assert np.all(net.get('Hid.parameters.W') == 4)
    net.initialize({'*': {'W': NeedsMatrix(), 'bias': NeedsMatrix()},
                    'fallback': -1})
    assert np.all(net.get('Hid.parameters.W') == 7)
    assert np.all(net.get('Hid.parameters.bias') == -1)


@pytest.mark.parametrize('spec, message', [
    ({'Hid': 1}, 'no initializer for Proj.parameters.W'),
    ({'*': 1, 'P*': 2}, 'matches several patterns'),
    ({'default': 1, 'Nope': 2}, "'Nope' match no parameter"),
    ({'default': 1, 'Hid': {'W': [1, 2]}}, 'does not fit'),
    ({'default': NeedsMatrix()}, 'Hid.parameters.bias.*no fallback'),
])
def test_initialize_errors(spec, message):
    net = make_net()
    with pytest.raises((ValueError, InitializationError), match=message):
        net.initialize(spec)


def test_initialize_seed_is_reproducible():
    net = make_net()
    net.initialize(Noise(), seed=1234)
    a = net.get('parameters')
    net.initialize(Noise(), seed=1234)
    assert np.array_equal(a, net.get('parameters'))
    net.initialize(Noise(), seed=4321)
    assert not np.array_equal(a, net.get('parameters'))


def test_weight_and_gradient_modifiers_in_list_order():
    net = make_net()
    net.initialize(1.0)
    net.set_weight_modifiers(Hid={'W': [AddOne(), Double()]})
    net.apply_weight_modifiers()
    assert np.all(net.get('Hid.parameters.W') == 4)
    assert np.all(net.get('Proj.parameters.W') == 1)
    net.set_gradient_modifiers(default=Double())
    net.provide_external_data(data())
    net.forward_pass()
    net.set_gradient_modifiers(default=[])
    net.backward_pass()
    plain = net.get('gradients')
    net.set_gradient_modifiers(default=Double())
    net.backward_pass()
    assert np.allclose(net.get('gradients'), 2 * plain)
    with pytest.raises(ValueError, match='fallback'):
        net.set_weight_modifiers(fallback=Double())
    with pytest.raises(TypeError, match='not a ValueModifier'):
        net.set_weight_modifiers(Hid=3)


def test_set_handler_keeps_parameters_both_ways():
    net = make_net()
    net.initialize({'default': 0.5, 'Hid': {'W': 0.25}})
    before = net.get('parameters')
    net.set_handler(DebugHandler(NumpyHandler(np.float64)))
    assert net.buffer['parameters'].dtype == np.float64
    assert np.array_equal(net.get('parameters'), before)
    net.provide_external_data(data())
    net.forward_pass()
    net.backward_pass()
    net.set_handler(NumpyHandler(np.float32))
    assert np.array_equal(net.get('parameters'), before)


def test_save_and_load_hdf5(tmp_path):
    net = make_net()
    net.initialize({'default': 0.1, 'Hid': {'W': np.arange(12).reshape(4, 3)}})
    filename = str(tmp_path / 'net.hdf5')
    net.save_as_hdf5(filename, comment='after epoch 3')
    with h5py.File(filename, 'r') as f:
        assert f.attrs['comment'] == 'after epoch 3'
        assert f['layers/Hid/W'].shape == (4, 3)
    loaded = bs.Network.from_hdf5(filename)
    assert loaded.architecture == net.architecture
    assert np.array_equal(loaded.get('parameters'), net.get('parameters'))
    d = data()
    for n in (net, loaded):
        n.provide_external_data(d)
        n.forward_pass()
    assert np.allclose(loaded.get('Output.outputs.predictions'),
                       net.get('Output.outputs.predictions'))


def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    net = make_net()
    net.initialize(0.5)
    filename = str(tmp_path / 'net.hdf5')
    net.save_as_hdf5(filename)
    net.initialize(0.7)

    def broken(self, path):
        raise RuntimeError('disk full')
    monkeypatch.setattr(bs.Network, 'get', broken)
    with pytest.raises(RuntimeError):
        net.save_as_hdf5(filename)
    monkeypatch.undo()
    assert np.allclose(bs.Network.from_hdf5(filename).get('parameters'), 0.5)
    assert [p.name for p in tmp_path.iterdir()] == ['net.hdf5']


def test_default_output():
    assert make_net().default_output == 'Output.outputs.predictions'
