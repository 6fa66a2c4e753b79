"""Finite-difference checks of layers and networks
(brainstorm.testing.gradient_check), with brainstorm-core alone."""
import types
from collections import OrderedDict

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.layers import BufferStructure, Layer, construction_function
from brainstorm.plugins import hookimpl, registry
from brainstorm.testing.gradient_check import (GradientCheckError,
                                               check_layer_gradients,
                                               check_network_gradients)
from brainstorm.testing.simple_layers import (TestAffine, TestSoftmaxLoss,
                                              use_simple_layers)


def _rows(array):
    return array.reshape((array.shape[0] * array.shape[1], -1))


class ScaleLayerImpl(Layer):
    """outputs = inputs * scale, with a learned vector ``scale``."""

    input_factor = 1.0
    gradient_factor = 1.0

    def setup(self, kwargs, in_shapes):
        n = in_shapes['default'].feature_size
        return (OrderedDict(default=BufferStructure('T', 'B', n)),
                OrderedDict(scale=BufferStructure(n)), OrderedDict())

    def forward_pass(self, buffers, training_pass=True):
        self.handler.mult_mv(_rows(buffers.inputs.default),
                             buffers.parameters.scale.reshape((1, -1)),
                             _rows(buffers.outputs.default))

    def input_deltas(self, buffers):
        h = self.handler
        dy = _rows(buffers.output_deltas.default)
        dx = h.allocate(dy.shape)
        h.mult_mv(dy, buffers.parameters.scale.reshape((1, -1)), dx)
        h.mult_st(self.input_factor, dx, dx)
        return dx

    def add_input_deltas(self, buffers):
        h = self.handler
        dx = _rows(buffers.input_deltas.default)
        h.add_tt(dx, self.input_deltas(buffers), dx)

    def backward_pass(self, buffers):
        h = self.handler
        self.add_input_deltas(buffers)
        dy = _rows(buffers.output_deltas.default)
        product = h.allocate(dy.shape)
        h.mult_tt(dy, _rows(buffers.inputs.default), product)
        total = h.allocate((1, dy.shape[1]))
        h.sum_t(product, 0, total)
        g = buffers.gradients.scale.reshape((1, -1))
        h.mult_add_st(self.gradient_factor, total, g)


class WrongInputFactorLayerImpl(ScaleLayerImpl):
    """The input deltas are twice what they should be."""

    input_factor = 2.0


class WrongGradientLayerImpl(ScaleLayerImpl):
    """The gradient of ``scale`` is half what it should be."""

    gradient_factor = 0.5


class OverwritingLayerImpl(ScaleLayerImpl):
    """Right values, but the input deltas are overwritten, not added to."""

    def add_input_deltas(self, buffers):
        self.handler.copy_to(self.input_deltas(buffers),
                             _rows(buffers.input_deltas.default))


class NoDeltasLayerImpl(ScaleLayerImpl):
    """Its only output takes no deltas."""

    takes_no_output_deltas_from = ('default',)


@construction_function(ScaleLayerImpl)
def Scale(name=None):
    """outputs = inputs * scale."""


@construction_function(WrongGradientLayerImpl)
def WrongGradient(name=None):
    """A Scale layer with a wrong gradient."""


@pytest.fixture(autouse=True)
def layers():
    plugin = types.SimpleNamespace(
        brainstorm_layers=hookimpl(lambda: [Scale, WrongGradient]))
    registry.register_module(plugin, 'test-gradient-check')
    try:
        with use_simple_layers():
            yield
    finally:
        registry.unregister_module('test-gradient-check')


def _small(errors, *paths):
    assert list(errors) == list(paths)
    assert all(0 <= e < 1e-6 for e in errors.values())


def test_error_is_an_assertion_error():
    assert issubclass(GradientCheckError, AssertionError)


@pytest.mark.parametrize('in_shape', [(3,), (2, 3)])
def test_test_affine_passes(in_shape):
    errors = check_layer_gradients(TestAffine, {'size': 2},
                                   {'default': in_shape})
    _small(errors, 'TestAffine.input_deltas.default',
           'TestAffine.gradients.W', 'TestAffine.gradients.bias')


def test_paths_use_the_layer_name():
    errors = check_layer_gradients(TestAffine, {'size': 2, 'name': 'Hid'},
                                   {'default': (3,)}, time_steps=1,
                                   batch_size=4)
    _small(errors, 'Hid.input_deltas.default', 'Hid.gradients.W',
           'Hid.gradients.bias')


def test_loss_layer_objective_is_its_loss():
    targets = np.random.RandomState(0).randint(0, 4, (2, 3, 1))
    errors = check_layer_gradients(TestSoftmaxLoss, {},
                                   {'default': (4,), 'targets': (1,)},
                                   inputs={'targets': targets})
    _small(errors, 'TestSoftmaxLoss.input_deltas.default')


def test_layer_class_construction_function_and_name_are_accepted():
    for layer in (ScaleLayerImpl, Scale, 'Scale'):
        errors = check_layer_gradients(layer, {}, {'default': (3,)})
        _small(errors, 'Scale.input_deltas.default', 'Scale.gradients.scale')
    with pytest.raises(TypeError):
        check_layer_gradients(42, {}, {'default': (3,)})


def test_wrong_input_deltas_are_reported():
    with pytest.raises(GradientCheckError,
                       match=r"^WrongInputFactor layer 'WrongInputFactor': "
                             r"WrongInputFactor\.input_deltas\.default: "
                             r".*max abs error"):
        check_layer_gradients(WrongInputFactorLayerImpl, {},
                              {'default': (3,)})


def test_wrong_gradient_is_reported_with_its_path():
    with pytest.raises(GradientCheckError,
                       match=r"WrongGradient layer 'WrongGradient': "
                             r"WrongGradient\.gradients\.scale: "):
        check_layer_gradients(WrongGradientLayerImpl, {}, {'default': (3,)})


def test_explicit_parameters_are_used():
    # with scale = 0 every delta is 0, so the wrong factor cannot show
    errors = check_layer_gradients(WrongInputFactorLayerImpl, {},
                                   {'default': (3,)},
                                   parameters={'scale': 0.0})
    assert errors['WrongInputFactor.input_deltas.default'] == 0.0


def test_overwriting_deltas_is_reported():
    with pytest.raises(GradientCheckError,
                       match=r"Overwriting\.input_deltas\.default"):
        check_layer_gradients(OverwritingLayerImpl, {}, {'default': (3,)})
    errors = check_layer_gradients(OverwritingLayerImpl, {},
                                   {'default': (3,)},
                                   check_accumulation=False)
    _small(errors, 'Overwriting.input_deltas.default',
           'Overwriting.gradients.scale')


def test_max_entries_still_finds_a_wrong_buffer():
    with pytest.raises(GradientCheckError, match=r'gradients\.scale'):
        check_layer_gradients(WrongGradientLayerImpl, {}, {'default': (6,)},
                              max_entries=2)


def test_argument_errors():
    with pytest.raises(ValueError, match='in_shapes is required'):
        check_layer_gradients(TestAffine, {'size': 2})
    with pytest.raises(ValueError, match='in_shapes is required'):
        check_layer_gradients(TestAffine, {'size': 2}, {})
    with pytest.raises(ValueError, match=r'unknown input\(s\) nope'):
        check_layer_gradients(TestAffine, {'size': 2}, {'default': (3,)},
                              inputs={'nope': np.zeros((2, 3, 3))})
    with pytest.raises(ValueError, match=r"no parameter\(s\) R"):
        check_layer_gradients(TestAffine, {'size': 2}, {'default': (3,)},
                              parameters={'R': 0.0})
    with pytest.raises(ValueError, match='nothing to check'):
        check_layer_gradients(NoDeltasLayerImpl, {}, {'default': (3,)})
    with pytest.raises(ValueError, match='max_entries must be None or at '
                                         'least 1, got 0'):
        check_layer_gradients(TestAffine, {'size': 2}, {'default': (3,)},
                              max_entries=0)
    with pytest.raises(ValueError, match="context=True, but TestAffine "
                                         "layer 'TestAffine' has no buffers "
                                         "with a context"):
        check_layer_gradients(TestAffine, {'size': 2}, {'default': (3,)},
                              context=True)


class NoInputDeltasLayerImpl(ScaleLayerImpl):
    """No parameters, and it computes no deltas for its only input."""

    computes_no_input_deltas_for = ('default',)

    def setup(self, kwargs, in_shapes):
        outputs, _, internals = super().setup(kwargs, in_shapes)
        return outputs, OrderedDict(), internals

    def forward_pass(self, buffers, training_pass=True):
        self.handler.copy_to(buffers.inputs.default, buffers.outputs.default)

    def backward_pass(self, buffers):
        pass


class ConstantLayerImpl(NoInputDeltasLayerImpl):
    """Outputs 1 whatever its inputs: every delta is 0."""

    computes_no_input_deltas_for = ()

    def forward_pass(self, buffers, training_pass=True):
        self.handler.fill(buffers.outputs.default, 1.0)


def test_a_check_that_compares_nothing_fails():
    with pytest.raises(GradientCheckError,
                       match=r"^NoInputDeltas layer 'NoInputDeltas': "
                             r"nothing to check \(no input deltas, no "
                             r"parameters, no context\)"):
        check_layer_gradients(NoInputDeltasLayerImpl, {}, {'default': (3,)})
    with pytest.raises(GradientCheckError,
                       match=r"^Constant layer 'Constant': nothing was "
                             r"compared: every checked entry of "
                             r"Constant.input_deltas.default is 0"):
        check_layer_gradients(ConstantLayerImpl, {}, {'default': (3,)})
    # a zero buffer beside a non-zero one is a result like any other
    errors = check_layer_gradients(WrongInputFactorLayerImpl, {},
                                   {'default': (3,)},
                                   parameters={'scale': 0.0})
    assert errors['WrongInputFactor.input_deltas.default'] == 0.0


def _network(middle):
    inp = bs.layers.Input({'default': ('T', 'B', 4),
                           'targets': ('T', 'B', 1)})
    out = TestSoftmaxLoss(name='Output')
    inp >> TestAffine(3, name='Hid') >> middle >> TestAffine(
        2, name='Proj') >> out
    inp - 'targets' >> 'targets' - out
    net = bs.Network.from_layer(out)
    n = net.buffer_manager.num_parameters
    net.set_parameters(np.random.RandomState(2).uniform(-1, 1, n))
    return net


def _data(T=2, B=3):
    rnd = np.random.RandomState(5)
    return {'default': rnd.randn(T, B, 4),
            'targets': rnd.randint(0, 2, (T, B, 1)).astype(float)}


def test_network_of_simple_layers_passes_and_keeps_parameters():
    net = _network(Scale(name='S'))
    before = net.get('parameters')
    errors = check_network_gradients(net, _data())
    _small(errors, 'Hid.gradients.W', 'Hid.gradients.bias',
           'S.gradients.scale', 'Proj.gradients.W', 'Proj.gradients.bias')
    assert net.handler.dtype == np.float64
    assert np.array_equal(net.get('parameters'),
                          before.astype(np.float64))


def test_network_input_deltas_with_check_inputs():
    net = _network(Scale(name='S'))
    errors = check_network_gradients(net, _data(T=1, B=4),
                                     check_inputs=True)
    assert 'Input.output_deltas.default' in errors
    assert 'Input.output_deltas.targets' not in errors
    assert errors['Input.output_deltas.default'] < 1e-6


def test_network_with_a_wrong_layer_is_reported():
    net = _network(WrongGradient(name='S'))
    with pytest.raises(GradientCheckError,
                       match=r'^network: S\.gradients\.scale: '):
        check_network_gradients(net, _data())
