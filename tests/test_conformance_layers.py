"""The conformance suite with the layer catalogue and the digits installed:
every layer of brainstorm-layers has examples, the suite passes the
NumpyHandler and the DebugHandler and catches broken handlers at the layer
and the training level."""
import numpy as np
import pytest

from brainstorm.handlers import DebugHandler, NumpyHandler
from brainstorm.plugins import registry
from brainstorm.testing.conformance import (ConformanceError, check_all,
                                            check_layer_example,
                                            check_training, layer_examples,
                                            layers_without_examples)

EXAMPLES = {example.id: example for example in layer_examples()}
LAYERS_EXAMPLES = [e for e in EXAMPLES.values()
                   if e.plugin == 'brainstorm-layers']


def _ids(prefix):
    return [i for i, e in EXAMPLES.items() if e.layer_type == prefix]


# -- the examples of brainstorm-layers ----------------------------------------
def test_every_layer_of_brainstorm_layers_has_an_example():
    assert layers_without_examples('brainstorm-layers') == []
    layers = {n for n in registry.names('layers')
              if registry.provider('layers', n) == 'brainstorm-layers'}
    assert len(layers) >= 24
    assert layers == {e.layer_type for e in LAYERS_EXAMPLES}


def test_convolution_and_pooling_examples_vary_stride_padding_and_sizes():
    for layer in ('Convolution2D', 'Pooling2D'):
        kwargs = [EXAMPLES[i].kwargs for i in _ids(layer)]
        assert len(kwargs) >= 4
        assert any(k.get('stride', 1) not in (1, (1, 1)) for k in kwargs)
        assert any(k.get('padding', 0) for k in kwargs)
        assert any(isinstance(k['kernel_size'], tuple) and
                   k['kernel_size'][0] != k['kernel_size'][1]
                   for k in kwargs)
        shapes = [EXAMPLES[i].in_shapes['default'] for i in _ids(layer)]
        assert any(h % 2 or w % 2 for h, w, _ in shapes)
    pool_types = {EXAMPLES[i].kwargs['type'] for i in _ids('Pooling2D')}
    assert pool_types == {'max', 'avg'}


def test_recurrent_examples_run_several_steps_from_a_context():
    for layer in ('Recurrent', 'Lstm', 'Clockwork', 'ClockworkLstm'):
        examples = [EXAMPLES[i] for i in _ids(layer)]
        assert all(e.time_steps > 1 for e in examples)
        assert any(e.context for e in examples)


def test_examples_are_the_same_on_every_call():
    again = {e.id: e for e in layer_examples()}
    assert list(again) == list(EXAMPLES)
    for example_id in ('Mask', 'SoftmaxCE', 'BinomialCrossEntropy'):
        for name, value in EXAMPLES[example_id].inputs.items():
            np.testing.assert_array_equal(again[example_id].inputs[name],
                                          value)


# -- broken handlers are caught -----------------------------------------------
class _WrongConvBackward(NumpyHandler):
    """The weight gradient of the first filter is 2% too large."""

    def conv2d_backward_batch(self, inputs, weights, padding, stride,
                              in_deltas, out_deltas, weight_deltas,
                              bias_deltas):
        before = weight_deltas[0].copy()
        super().conv2d_backward_batch(inputs, weights, padding, stride,
                                      in_deltas, out_deltas, weight_deltas,
                                      bias_deltas)
        weight_deltas[0] += 0.02 * (weight_deltas[0] - before)


class _WrongDotAdd(NumpyHandler):
    """dot_add_mm adds 0.9 times the product (gradients too small)."""

    def dot_add_mm(self, a, b, out, transa=False, transb=False):
        product = np.zeros_like(out)
        super().dot_mm(a, b, product, transa, transb)
        out += 0.9 * product


class _WrongDot(NumpyHandler):
    """dot_mm ignores the last term of every sum."""

    def dot_mm(self, a, b, out, transa=False, transb=False):
        a, b = (a.T if transa else a), (b.T if transb else b)
        np.dot(a[:, :-1], b[:-1], out=out)


class _OwnRandomStream(NumpyHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stream = np.random.default_rng(7)

    def generate_probability_mask(self, mask, probability):
        mask[...] = self.stream.random(mask.shape) < probability


class _MaskOfTwos(NumpyHandler):
    def generate_probability_mask(self, mask, probability):
        super().generate_probability_mask(mask, probability)
        mask *= 2


class _PreciseProducts(NumpyHandler):
    """float32 results from float64 products: other rounding, still right."""

    def dot_mm(self, a, b, out, transa=False, transb=False):
        a, b = (a.T if transa else a), (b.T if transb else b)
        out[...] = a.astype(np.float64) @ b.astype(np.float64)

    def dot_add_mm(self, a, b, out, transa=False, transb=False):
        a, b = (a.T if transa else a), (b.T if transb else b)
        out[...] = out + a.astype(np.float64) @ b.astype(np.float64)


def test_wrong_conv_backward_fails_the_convolution_example():
    with pytest.raises(ConformanceError) as info:
        check_layer_example(_WrongConvBackward, EXAMPLES['Convolution2D'])
    message = str(info.value)
    assert "layer example 'Convolution2D' (Convolution2D)" in message
    assert 'after the backward pass' in message
    assert 'Convolution2D.gradients.W: largest difference' in message
    assert 'Convolution2D.gradients.bias' not in message
    assert 'Convolution2D.input_deltas' not in message
    # the same handler passes the layers that do not use it
    check_layer_example(_WrongConvBackward, EXAMPLES['Pooling2D-max'])


@pytest.mark.parametrize('handler_class, first_bad_step', [
    (_WrongDot, 0),          # the forward pass is wrong at once
    (_WrongDotAdd, 1),       # the gradients: visible after the first update
])
def test_wrong_dot_fails_training(handler_class, first_bad_step):
    with pytest.raises(ConformanceError,
                       match=r'(?s)check_training on NumpyHandler\(float32\)'
                             r': the training loss differs .* at step '
                             r'{}.*step  0: handler'.format(first_bad_step)):
        check_training(handler_class)


def test_dropout_is_checked_with_the_mask_the_handler_drew():
    for example_id in ('Dropout', 'Dropout-0.2-image'):
        differences = check_layer_example(_OwnRandomStream,
                                          EXAMPLES[example_id])
        assert differences['Dropout.internals.mask'] == 0.0
        # float32 against the float64 reference: rounding only
        assert differences['Dropout.input_deltas.default'] < 1e-6
    with pytest.raises(ConformanceError,
                       match=r'generate_probability_mask\(0.5\) gave values '
                             r'other than 0 and 1 \(e.g. 2.0\)'):
        check_layer_example(_MaskOfTwos, EXAMPLES['Dropout'])


def test_check_all_lists_failures_of_every_level():
    with pytest.raises(ConformanceError) as info:
        check_all(_WrongDot)
    message = str(info.value)
    assert 'operation dot_mm:' in message
    assert 'layer example FullyConnected-tanh:' in message
    assert 'layer example Convolution2D:' not in message
    assert 'training:' in message


@pytest.mark.parametrize('handler_factory', [
    lambda: NumpyHandler(np.float32), lambda: NumpyHandler(np.float64),
    lambda: DebugHandler(NumpyHandler(np.float32))],
    ids=['float32', 'float64', 'debug'])
def test_a_wrong_divisor_in_the_numpy_handler_itself_is_caught(
        handler_factory, monkeypatch):
    """Average pooling of the NumpyHandler (not of a subclass) counts the
    padding: the reference shares no code with it, so its own run fails."""
    def counts_with_padding(self, inputs, window, outputs, padding, stride):
        return np.asarray(window[0] * window[1], dtype=inputs.dtype)

    monkeypatch.setattr(NumpyHandler, '_avg_counts', counts_with_padding)
    with pytest.raises(ConformanceError) as info:
        check_all(handler_factory)
    message = str(info.value)
    assert 'operation avgpool2d_forward_batch:' in message
    assert 'operation avgpool2d_backward_batch:' in message
    assert ('layer example Pooling2D-avg-padding-stride: ConformanceError: '
            "layer example 'Pooling2D-avg-padding-stride' (Pooling2D) on "
            in message)
    assert 'Pooling2D.outputs.default: largest difference' in message
    # without padding every window lies inside: the divisor is right there
    assert 'layer example Pooling2D-avg:' not in message
    assert 'layer example Pooling2D-max' not in message
    assert 'training:' not in message
    assert message.startswith('3 of ')


# -- correct handlers pass ----------------------------------------------------
@pytest.mark.parametrize('handler_factory', [
    lambda: NumpyHandler(np.float32), lambda: NumpyHandler(np.float64),
    lambda: DebugHandler(NumpyHandler(np.float32)), _OwnRandomStream,
    _PreciseProducts], ids=['float32', 'float64', 'debug', 'own-random',
                            'precise'])
def test_correct_handlers_pass_check_all(handler_factory):
    check_all(handler_factory)


def test_training_tracks_the_reference():
    losses, reference = check_training(_PreciseProducts, steps=10)
    assert len(losses) == len(reference) == 10
    np.testing.assert_allclose(losses, reference, rtol=1e-5)
    assert losses != reference            # other rounding, within tolerance
    # the updates matter: the network learns
    assert max(reference[-3:]) < reference[0] - 1.0


def test_training_needs_enough_digits():
    with pytest.raises(ValueError, match='steps \\* batch_size = 4000 but '
                                         'the embedded digits have only '
                                         '1297'):
        check_training(NumpyHandler, steps=200, batch_size=20)
