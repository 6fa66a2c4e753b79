"""The conformance suite (brainstorm.testing.conformance) with brainstorm-core
alone: the NumpyHandler and the DebugHandler pass it, it catches broken
handlers, and layer examples come through the plugin hook."""
import types
from collections import OrderedDict

import numpy as np
import pytest

from brainstorm.handlers import DebugHandler, NumpyHandler
from brainstorm.handlers.base_handler import OPERATIONS as HANDLER_OPERATIONS
from brainstorm.layers import BufferStructure, Layer, construction_function
from brainstorm.plugins import MissingPluginError, PluginError, hookimpl
from brainstorm.plugins import registry
from brainstorm.testing import conformance
from brainstorm.testing.conformance import (ConformanceError, LayerExample,
                                            check_all, check_layer_example,
                                            check_operation, check_training,
                                            layer_examples,
                                            layers_without_examples)
from brainstorm.testing.handler_conformance import _run_operation_check
from brainstorm.testing.simple_layers import TestAffine, TestSoftmaxLoss


class NoiseLayerImpl(Layer):
    """A random layer drawn through the handler: ``y = x * m + n`` with a
    probability mask ``m`` (p = 0.7) and Gaussian noise ``n``."""

    def setup(self, kwargs, in_shapes):
        shape = in_shapes['default'].feature_shape
        internals = OrderedDict(mask=BufferStructure('T', 'B', *shape),
                                noise=BufferStructure('T', 'B', *shape))
        return (OrderedDict(default=BufferStructure('T', 'B', *shape)),
                OrderedDict(), internals)

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        mask, noise = buffers.internals.mask, buffers.internals.noise
        h.generate_probability_mask(mask, 0.7)
        h.fill_gaussian(0.0, 0.1, noise)
        h.mult_tt(buffers.inputs.default, mask, buffers.outputs.default)
        h.add_tt(buffers.outputs.default, noise, buffers.outputs.default)

    def backward_pass(self, buffers):
        self.handler.mult_add_tt(buffers.output_deltas.default,
                                 buffers.internals.mask,
                                 buffers.input_deltas.default)


@construction_function(NoiseLayerImpl)
def Noise(name=None):
    """Random mask and noise (for these tests)."""


def _targets(T, B, shape, classes, seed=0):
    rnd = np.random.RandomState(seed)
    return rnd.randint(0, classes, (T, B) + shape).astype(float)


# examples of core's test layers: the layer checks run with core alone
CORE_EXAMPLES = [
    LayerExample(TestAffine, {'size': 3}, {'default': (4,)}),
    LayerExample(TestAffine, {'size': 2}, {'default': (2, 3)}, time_steps=3,
                 batch_size=2, id='TestAffine-image'),
    LayerExample(TestSoftmaxLoss, {}, {'default': (5,), 'targets': (1,)},
                 inputs={'targets': _targets(2, 4, (1,), 5)}, time_steps=2,
                 batch_size=4),
    LayerExample(NoiseLayerImpl, {}, {'default': (40,)}, time_steps=2,
                 batch_size=5),
]
EXAMPLES = layer_examples() + CORE_EXAMPLES
HANDLERS = {
    'numpy-float32': lambda: NumpyHandler(np.float32),
    'numpy-float64': lambda: NumpyHandler(np.float64),
    'debug-numpy': lambda: DebugHandler(NumpyHandler(np.float32)),
}


def _by_id(example_id):
    return next(e for e in CORE_EXAMPLES if e.id == example_id)


# -- the reference handlers pass ----------------------------------------------
def test_operations_are_re_exported():
    assert conformance.OPERATIONS is HANDLER_OPERATIONS


@pytest.mark.parametrize('handler', sorted(HANDLERS))
@pytest.mark.parametrize('op', conformance.OPERATIONS)
def test_reference_handlers_pass_every_operation(handler, op):
    check_operation(HANDLERS[handler], op)


@pytest.mark.parametrize('handler', sorted(HANDLERS))
@pytest.mark.parametrize('example', EXAMPLES, ids=lambda e: e.id)
def test_reference_handlers_pass_every_layer_example(handler, example):
    differences = check_layer_example(HANDLERS[handler], example)
    prefix = example.layer_type + '.'
    assert any(p.startswith(prefix + 'outputs.') for p in differences)
    assert any(p.startswith(prefix + 'input_deltas.') for p in differences)


def test_layer_example_compares_every_buffer():
    differences = check_layer_example(NumpyHandler(np.float64),
                                      _by_id('TestAffine'))
    assert set(differences) == {
        'TestAffine.outputs.default', 'TestAffine.parameters.W',
        'TestAffine.parameters.bias', 'TestAffine.input_deltas.default',
        'TestAffine.gradients.W', 'TestAffine.gradients.bias',
        'TestAffine.output_deltas.default'}
    # the parameters and output deltas are set, not computed
    for path in ('TestAffine.parameters.W', 'TestAffine.parameters.bias',
                 'TestAffine.output_deltas.default'):
        assert differences[path] == 0.0
    # against the float64 reference, not the NumpyHandler itself: products
    # summed in another order differ in the last bits
    assert 0.0 < max(differences.values()) < 1e-12


def test_handler_factory_may_be_a_handler_or_a_class():
    check_operation(NumpyHandler(np.float64), 'dot_mm')
    check_layer_example(NumpyHandler, _by_id('TestAffine'))
    with pytest.raises(TypeError, match="returned 3, not a Handler"):
        check_layer_example(lambda: 3, _by_id('TestAffine'))
    with pytest.raises(TypeError, match='needs a LayerExample'):
        check_layer_example(NumpyHandler, 'TestAffine')


# -- broken handlers fail -----------------------------------------------------
class _WrongDotAdd(NumpyHandler):
    """dot_add_mm adds 0.9 times the product."""

    def dot_add_mm(self, a, b, out, transa=False, transb=False):
        product = np.zeros_like(out)
        super().dot_mm(a, b, product, transa, transb)
        out += 0.9 * product


class _WrongSoftmax(NumpyHandler):
    def softmax_m(self, m, out):
        super().softmax_m(m, out)
        out[:, 0] += 1e-3


class _FixedMask(NumpyHandler):
    """Keeps every unit, whatever the probability."""

    def generate_probability_mask(self, mask, probability):
        mask[...] = 1.0


class _OwnRandomStream(NumpyHandler):
    """Draws from a generator of its own (as a GPU handler would)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stream = np.random.default_rng(12345)

    def generate_probability_mask(self, mask, probability):
        mask[...] = self.stream.random(mask.shape) < probability

    def fill_gaussian(self, mean, std, out):
        out[...] = self.stream.normal(mean, std, out.shape)


class _PreciseProducts(NumpyHandler):
    """float32 results from float64 products: other rounding, still right."""

    def dot_mm(self, a, b, out, transa=False, transb=False):
        a, b = (a.T if transa else a), (b.T if transb else b)
        out[...] = a.astype(np.float64) @ b.astype(np.float64)

    def dot_add_mm(self, a, b, out, transa=False, transb=False):
        a, b = (a.T if transa else a), (b.T if transb else b)
        out[...] = out + a.astype(np.float64) @ b.astype(np.float64)


def test_wrong_gradient_product_is_caught_naming_layer_and_buffer():
    with pytest.raises(ConformanceError) as info:
        check_layer_example(_WrongDotAdd, _by_id('TestAffine'))
    message = str(info.value)
    assert "layer example 'TestAffine'" in message
    assert 'after the backward pass' in message
    assert 'TestAffine.gradients.W: largest difference' in message
    assert 'TestAffine.input_deltas.default: largest difference' in message
    assert 'TestAffine.gradients.bias' not in message   # no product there


def test_wrong_forward_operation_is_caught_after_the_forward_pass():
    with pytest.raises(ConformanceError,
                       match=r"(?s)'TestSoftmaxLoss'.*forward pass.*"
                             r"TestSoftmaxLoss.outputs.predictions: largest "
                             r"difference 0.001"):
        check_layer_example(_WrongSoftmax, _by_id('TestSoftmaxLoss'))


def test_random_draws_are_replayed_on_the_reference():
    # another random stream: the reference uses what the handler drew
    differences = check_layer_example(_OwnRandomStream, _by_id('Noise'))
    assert differences['Noise.internals.mask'] == 0.0
    assert differences['Noise.internals.noise'] == 0.0
    # float32 against the float64 reference: rounding only
    assert differences['Noise.input_deltas.default'] < 1e-6


def test_a_mask_of_the_wrong_probability_is_caught():
    with pytest.raises(ConformanceError,
                       match=r'generate_probability_mask\(0.7\) set a '
                             r'fraction of 1.000 of 400 values to 1'):
        check_layer_example(_FixedMask, _by_id('Noise'))


def test_tolerances_admit_other_rounding():
    for example in CORE_EXAMPLES:
        check_layer_example(_PreciseProducts, example)


def _divide_by_one_more(monkeypatch):
    """A bug in the NumpyHandler itself: average pooling divides the sum of
    a full window by kh * kw + 1."""
    original = NumpyHandler.avgpool2d_forward_batch

    def avgpool2d_forward_batch(self, inputs, window, outputs, padding,
                                stride):
        original(self, inputs, window, outputs, padding, stride)
        outputs *= window[0] * window[1] / (window[0] * window[1] + 1.0)

    monkeypatch.setattr(NumpyHandler, 'avgpool2d_forward_batch',
                        avgpool2d_forward_batch)


@pytest.mark.parametrize('handler', sorted(HANDLERS))
def test_a_bug_of_the_numpy_handler_itself_is_caught(handler, monkeypatch):
    # the reference shares no code with the NumpyHandler
    check_operation(HANDLERS[handler], 'avgpool2d_forward_batch')
    _divide_by_one_more(monkeypatch)
    with pytest.raises(AssertionError,
                       match="avgpool2d_forward_batch: argument 'outputs'"):
        check_operation(HANDLERS[handler], 'avgpool2d_forward_batch')
    check_operation(HANDLERS[handler], 'avgpool2d_backward_batch')


class _NanSoftmax(NumpyHandler):
    def softmax_m(self, m, out):
        out[...] = np.nan


def test_nan_never_equals_nan():
    # even where the reference gives NaN too
    with pytest.raises(AssertionError, match=r"softmax_m: argument 'out'.*"
                                             r"the handler gave NaN"):
        _run_operation_check(_NanSoftmax(np.float64), 'softmax_m',
                             reference=_NanSoftmax(np.float64))


class UnwrittenScratchLayerImpl(NoiseLayerImpl):
    """Adds a scratch array it never wrote to its inputs."""

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        scratch = h.allocate(buffers.inputs.default.shape)
        h.add_tt(buffers.inputs.default, scratch, buffers.outputs.default)


def test_reading_memory_never_written_is_caught():
    example = LayerExample(UnwrittenScratchLayerImpl, {}, {'default': (3,)})
    with pytest.raises(ConformanceError,
                       match=r"UnwrittenScratch.outputs.default: largest "
                             r"difference inf; .* reference nan"):
        check_layer_example(NumpyHandler(np.float64), example)


def test_tolerance_arguments():
    example = _by_id('TestAffine')
    check_layer_example(_WrongDotAdd, example, rtol=1.0, atol=10.0)
    with pytest.raises(ConformanceError):
        check_layer_example(_PreciseProducts, example, rtol=0, atol=0)


def test_random_state_patches_are_removed():
    handler = _OwnRandomStream()
    check_layer_example(handler, _by_id('Noise'))
    assert 'generate_probability_mask' not in vars(handler)
    assert 'fill_gaussian' not in vars(handler)


# -- examples -----------------------------------------------------------------
def test_layer_example_defaults_and_validation():
    example = LayerExample(TestAffine, {'size': 2}, {'default': (3,)})
    assert (example.id, example.layer_type) == ('TestAffine', 'TestAffine')
    assert (example.time_steps, example.batch_size) == (2, 3)
    assert LayerExample('FancyLayer', {}, {'default': (3,)}).id == \
        'FancyLayer'
    with pytest.raises(ValueError, match="'TestAffine': time_steps must be "
                                         "a positive int, got 0"):
        LayerExample(TestAffine, {}, {'default': (3,)}, time_steps=0)
    with pytest.raises(TypeError, match='in_shapes must be a non-empty'):
        LayerExample(TestAffine, {}, {})
    with pytest.raises(TypeError, match='needs a layer name'):
        LayerExample(3, {}, {'default': (3,)})


def test_example_inputs_and_parameters_are_checked():
    bad_shape = LayerExample(TestSoftmaxLoss, {},
                             {'default': (5,), 'targets': (1,)},
                             inputs={'targets': np.zeros((2, 2, 1))})
    with pytest.raises(ValueError, match=r"input 'targets' has shape "
                                         r"\(2, 2, 1\), but time_steps=2 and "
                                         r"batch_size=3 need \(2, 3, 1\)"):
        check_layer_example(NumpyHandler, bad_shape)
    unknown = LayerExample(TestAffine, {'size': 2}, {'default': (3,)},
                           parameters={'R': 1.0})
    with pytest.raises(ValueError, match=r'no parameter\(s\) R \(it has: '
                                         r'W, bias\)'):
        check_layer_example(NumpyHandler, unknown)
    no_context = LayerExample(TestAffine, {'size': 2}, {'default': (3,)},
                              context=True)
    with pytest.raises(ValueError, match='no buffers with a context'):
        check_layer_example(NumpyHandler, no_context)


class _ScaledProduct(NumpyHandler):
    """dot_mm gives 1.1 times the product."""

    def dot_mm(self, a, b, out, transa=False, transb=False):
        super().dot_mm(a, b, out, transa, transb)
        out *= 1.1


def test_explicit_parameters_are_used():
    # with W = 0 the forward product is 0 however it is scaled; the
    # backward pass uses dot_add_mm only
    zero_weights = LayerExample(TestAffine, {'size': 2}, {'default': (3,)},
                                parameters={'W': 0.0, 'bias': [1.0, -2.0]},
                                id='TestAffine-zero-weights')
    check_layer_example(_ScaledProduct, zero_weights)
    with pytest.raises(ConformanceError,
                       match='TestAffine.outputs.default: largest'):
        check_layer_example(_ScaledProduct, _by_id('TestAffine'))


def _examples_plugin(examples, layers=()):
    module = types.ModuleType('examples_plugin')

    @hookimpl
    def brainstorm_layers():
        return list(layers)

    @hookimpl
    def brainstorm_layer_examples():
        return list(examples)

    module.brainstorm_layers = brainstorm_layers
    module.brainstorm_layer_examples = brainstorm_layer_examples
    return module


@pytest.fixture
def plugin():
    names = []

    def register(examples, layers=(), name='examples-plugin'):
        registry.register_module(_examples_plugin(examples, layers), name)
        names.append(name)

    yield register
    for name in names:
        registry.unregister_module(name)


def test_plugins_publish_examples_through_the_hook(plugin):
    before = [e.id for e in layer_examples()]
    plugin(CORE_EXAMPLES[:2] + [CORE_EXAMPLES[3]],
           layers=[TestAffine, TestSoftmaxLoss, Noise])
    examples = layer_examples()
    ids = [e.id for e in examples]
    assert set(before) <= set(ids) and len(ids) == len(before) + 3
    ours = [e for e in examples if e.plugin == 'examples-plugin']
    assert [e.id for e in ours] == ['TestAffine', 'TestAffine-image',
                                    'Noise']
    assert layers_without_examples('examples-plugin') == ['TestSoftmaxLoss']
    assert 'TestSoftmaxLoss' in layers_without_examples()
    assert 'Input' not in layers_without_examples()
    for example in ours:
        check_layer_example(NumpyHandler, example)


def test_plugin_examples_must_be_layer_examples_with_unique_ids(plugin):
    plugin([{'layer': 'TestAffine'}], name='bad-examples')
    with pytest.raises(PluginError, match="plugin 'bad-examples': "
                                          "brainstorm_layer_examples must "
                                          "return LayerExample objects"):
        layer_examples()
    registry.unregister_module('bad-examples')
    plugin(CORE_EXAMPLES[:1], name='first')
    plugin(CORE_EXAMPLES[:1], name='second')
    with pytest.raises(PluginError, match="two layer examples have the id "
                                          "'TestAffine'"):
        layer_examples()


def test_examples_do_not_change_other_categories(plugin):
    layers = registry.names('layers')
    handlers = registry.names('handlers')
    plugin(CORE_EXAMPLES[:1])
    assert registry.names('layers') == layers
    assert registry.names('handlers') == handlers


# -- training needs the layer catalogue and the digits ------------------------
def test_check_training_says_what_to_install(monkeypatch):
    original = registry.get

    def without_plugins(category, name, namespace=None):
        if category in ('layers', 'datasets', 'initializers',
                        'value_modifiers'):
            raise MissingPluginError('brainstorm.{} has no {!r}: it is '
                                     'provided by some package'.format(
                                         category, name))
        return original(category, name, namespace)

    monkeypatch.setattr(registry, 'get', without_plugins)
    for check in (check_training, check_all):
        with pytest.raises(MissingPluginError,
                           match=r"(?s)needs brainstorm-layers and "
                                 r"brainstorm-data \(pip install "
                                 r"brainstorm-layers brainstorm-data\); "
                                 r"missing:.*'FullyConnected'.*"
                                 r"'load_digits'"):
            check(NumpyHandler)
