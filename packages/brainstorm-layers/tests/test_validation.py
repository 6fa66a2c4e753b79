"""Construction-time validation: every argument and input shape is checked,
and every message names the layer type and name, the argument or input,
what was expected and what was received -- the same message whether the
layer is built by its construction function or from an architecture."""
import inspect
import re

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.layers import LayerValidationError
from brainstorm_layers import (convolution_2d, dropout, fully_connected, loss,
                               pooling_2d)

L = bs.layers

FC_SIZE = 'a positive int or a non-empty tuple/list of positive ints'
ACTIVATION = "one of 'linear', 'rel', 'sigmoid', 'tanh'"
PAIR = 'a positive int or a pair (tuple/list) of positive ints'

# layer type, valid arguments, argument, bad value, what is expected
BAD_ARGUMENTS = [
    ('FullyConnected', {'size': 3}, 'size', 0, FC_SIZE),
    ('FullyConnected', {'size': 3}, 'size', -2, FC_SIZE),
    ('FullyConnected', {'size': 3}, 'size', '10', FC_SIZE),
    ('FullyConnected', {'size': 3}, 'size', 2.0, FC_SIZE),
    ('FullyConnected', {'size': 3}, 'size', True, FC_SIZE),
    ('FullyConnected', {'size': 3}, 'size', (), FC_SIZE),
    ('FullyConnected', {'size': 3}, 'size', (3, 0), FC_SIZE),
    ('FullyConnected', {'size': 3}, 'activation', 'relu', ACTIVATION),
    ('FullyConnected', {'size': 3}, 'activation', None, ACTIVATION),
    ('Dropout', {}, 'drop_prob', 1.0, 'a number in [0, 1)'),
    ('Dropout', {}, 'drop_prob', -0.1, 'a number in [0, 1)'),
    ('Dropout', {}, 'drop_prob', '0.5', 'a number in [0, 1)'),
    ('Dropout', {}, 'drop_prob', float('nan'), 'a number in [0, 1)'),
    ('Loss', {}, 'importance', 'high', 'a finite real number'),
    ('Loss', {}, 'importance', float('inf'), 'a finite real number'),
    ('Loss', {}, 'importance', True, 'a finite real number'),
    ('Convolution2D', {'num_filters': 2, 'kernel_size': 3}, 'num_filters',
     0, 'a positive int'),
    ('Convolution2D', {'num_filters': 2, 'kernel_size': 3}, 'num_filters',
     2.5, 'a positive int'),
    ('Convolution2D', {'num_filters': 2, 'kernel_size': 3}, 'kernel_size',
     (3, 3, 3), PAIR),
    ('Convolution2D', {'num_filters': 2, 'kernel_size': 3}, 'kernel_size',
     (0, 3), PAIR),
    ('Convolution2D', {'num_filters': 2, 'kernel_size': 3}, 'stride', 0,
     PAIR),
    ('Convolution2D', {'num_filters': 2, 'kernel_size': 3}, 'padding', -1,
     'an int >= 0'),
    ('Convolution2D', {'num_filters': 2, 'kernel_size': 3}, 'padding', 1.0,
     'an int >= 0'),
    ('Convolution2D', {'num_filters': 2, 'kernel_size': 3}, 'activation',
     'soft', ACTIVATION),
    ('Pooling2D', {'kernel_size': 2}, 'kernel_size', 'big', PAIR),
    ('Pooling2D', {'kernel_size': 2}, 'kernel_size', (2, 2.0), PAIR),
    ('Pooling2D', {'kernel_size': 2}, 'type', 'mean', "one of 'max', 'avg'"),
    ('Pooling2D', {'kernel_size': 2}, 'stride', (1, 1, 1), PAIR),
    ('Pooling2D', {'kernel_size': 2}, 'padding', -1, 'an int >= 0'),
    ('Pooling2D', {'kernel_size': 2}, 'padding', True, 'an int >= 0'),
    ('Pooling2D', {'kernel_size': (3, 2)}, 'padding', 2,
     r'an int < 2 (the smaller side of the kernel 3x2) for max pooling'),
]

# inputs a network needs for each layer type (feature shapes)
IN_SHAPES = {'FullyConnected': {'default': [4]},
             'Dropout': {'default': [4]},
             'Loss': {'default': [4]},
             'Convolution2D': {'default': [5, 5, 2]},
             'Pooling2D': {'default': [5, 5, 2]}}


def _message(layer_type, name, argument, value, expected):
    label = '{} layer (unnamed)'.format(layer_type) if name is None else \
        '{} layer {!r}'.format(layer_type, name)
    return '{}: argument {!r}: expected {}, but received {!r}'.format(
        label, argument, expected, value)


def _architecture(layer_description, in_shapes):
    return {
        'Input': {'@type': 'Input', 'out_shapes': in_shapes,
                  '@outgoing_connections': {
                      name: ['Bad' + ('' if name == 'default' else
                                      '.' + name)] for name in in_shapes}},
        'Bad': dict(layer_description, **{'@outgoing_connections': {}})}


def _from_architecture(layer_type, kwargs, in_shapes):
    description = dict(kwargs, **{'@type': layer_type})
    return bs.Network.from_architecture(_architecture(description,
                                                      in_shapes))


@pytest.mark.parametrize('name', [None, 'Bad'])
@pytest.mark.parametrize('layer_type, valid, argument, value, expected',
                         BAD_ARGUMENTS)
def test_construction_function_messages(name, layer_type, valid, argument,
                                        value, expected):
    kwargs = dict(valid, **{argument: value})
    with pytest.raises(LayerValidationError) as info:
        getattr(L, layer_type)(name=name, **kwargs)
    assert str(info.value) == _message(layer_type, name, argument, value,
                                       expected)


@pytest.mark.parametrize('layer_type, valid, argument, value, expected',
                         [a for a in BAD_ARGUMENTS
                          if not (isinstance(a[3], float) and
                                  not np.isfinite(a[3]))])
def test_architecture_messages_are_the_same(layer_type, valid, argument,
                                            value, expected):
    """A network from an architecture (or a file) never calls the
    construction function: setup checks the same things with the same
    message. (Tuples arrive as lists from JSON; nan and inf are not
    JSON.)"""
    kwargs = dict(valid, **{argument: value})
    with pytest.raises(LayerValidationError) as info:
        _from_architecture(layer_type, kwargs, IN_SHAPES[layer_type])
    json_value = list(value) if isinstance(value, tuple) else value
    assert str(info.value) == _message(layer_type, 'Bad', argument,
                                       json_value, expected)


def test_every_problem_is_reported_at_once():
    with pytest.raises(LayerValidationError) as info:
        L.Convolution2D(0, (3, 3, 3), stride=0, padding=-1,
                        activation='relu', name='Conv')
    message = str(info.value)
    assert message.startswith("Convolution2D layer 'Conv': argument "
                              "'num_filters'")
    for argument in ('num_filters', 'kernel_size', 'stride', 'padding',
                     'activation'):
        assert "argument {!r}: expected".format(argument) in message
    assert message.count('; ') == 4


@pytest.mark.parametrize('layer_type, kwargs, missing, expected', [
    ('FullyConnected', {}, 'size', FC_SIZE),
    ('Convolution2D', {'kernel_size': 3}, 'num_filters', 'a positive int'),
    ('Convolution2D', {'num_filters': 3}, 'kernel_size', PAIR),
    ('Pooling2D', {}, 'kernel_size', PAIR),
])
def test_missing_required_arguments_in_architectures(layer_type, kwargs,
                                                     missing, expected):
    with pytest.raises(LayerValidationError) as info:
        _from_architecture(layer_type, kwargs, IN_SHAPES[layer_type])
    assert str(info.value) == (
        "{} layer 'Bad': argument {!r} is required (expected {}), but was "
        "not given".format(layer_type, missing, expected))


@pytest.mark.parametrize('layer_type', ['FullyConnected', 'Loss',
                                        'SquaredLoss', 'BinomialCrossEntropy',
                                        'SquaredDifference'])
def test_unexpected_arguments(layer_type):
    # construction functions: a TypeError naming the layer and signature
    with pytest.raises(TypeError, match=r'^{}\('.format(layer_type)):
        getattr(L, layer_type)(colour='red')
    # architectures: the Layer base class
    shapes = {'SquaredDifference': {'inputs_1': [2], 'inputs_2': [2]},
              'FullyConnected': {'default': [2]}, 'Loss': {'default': [2]}}
    kwargs = {'size': 2} if layer_type == 'FullyConnected' else {}
    with pytest.raises(LayerValidationError,
                       match=r"^{} layer 'Bad': unexpected argument\(s\) "
                             r"colour".format(layer_type)):
        _from_architecture(layer_type, dict(kwargs, colour='red'),
                           shapes.get(layer_type, {'default': [2],
                                                   'targets': [2]}))


# -- valid values -------------------------------------------------------------

@pytest.mark.parametrize('make', [
    lambda: L.FullyConnected(np.int64(3)),
    lambda: L.FullyConnected([2, 3], activation='linear'),
    lambda: L.Dropout(0.0), lambda: L.Dropout(np.float32(0.25)),
    lambda: L.Loss(0), lambda: L.Loss(-1.5), lambda: L.Loss(np.float64(2)),
    lambda: L.Convolution2D(np.int32(2), [3, 1], stride=[2, 1],
                            padding=np.int64(0)),
    lambda: L.Pooling2D([3, 3], type='avg', padding=3),
    lambda: L.Pooling2D(3, padding=2),
])
def test_valid_arguments_are_accepted(make):
    make()


@pytest.mark.parametrize('module, constructor', [
    (fully_connected, 'FullyConnected'), (dropout, 'Dropout'),
    (loss, 'Loss'), (convolution_2d, 'Convolution2D'),
    (pooling_2d, 'Pooling2D')])
def test_declared_defaults_are_those_of_the_construction_function(
        module, constructor):
    """setup fills in the declared defaults for arguments an architecture
    leaves out: they must be the construction function's."""
    signature = inspect.signature(getattr(module, constructor))
    parameters = {n: p for n, p in signature.parameters.items()
                  if n != 'name'}
    assert list(parameters) == list(module.ARGUMENTS)
    for arg_name, parameter in parameters.items():
        argument = module.ARGUMENTS[arg_name]
        if parameter.default is inspect.Parameter.empty:
            assert argument.required
        else:
            assert argument.default == parameter.default
    assert set(module.ARGUMENTS) == \
        getattr(module, constructor + 'LayerImpl').expected_kwargs


def test_architecture_defaults_fill_in():
    net = _from_architecture('Pooling2D', {'kernel_size': [2, 2]},
                             {'default': [4, 4, 1]})
    layer = net.layers['Bad']
    assert (layer.type, layer.stride, layer.padding) == ('max', (1, 1), 0)
    net = _from_architecture('Dropout', {}, {'default': [3]})
    assert net.layers['Bad'].drop_prob == 0.5


# -- input shapes -------------------------------------------------------------

def _shape_error(layer_type, kwargs, in_shapes):
    with pytest.raises(LayerValidationError) as info:
        _from_architecture(layer_type, kwargs, in_shapes)
    return str(info.value)


@pytest.mark.parametrize('layer_type', ['SigmoidCE', 'SquaredError',
                                        'SquaredLoss', 'BinomialCrossEntropy'])
@pytest.mark.parametrize('targets', [[3], [4, 1], [2, 2]])
def test_targets_must_have_the_inputs_shape(layer_type, targets):
    message = _shape_error(layer_type, {}, {'default': [4],
                                            'targets': targets})
    assert message == (
        "{} layer 'Bad': input 'targets' expects shape ('T', 'B', 4) (the "
        "shape of input 'default'), but receives {}".format(
            layer_type, str(('T', 'B') + tuple(targets))))


@pytest.mark.parametrize('default, targets, expected', [
    ([4], [4], "('T', 'B', 1)"),
    ([3, 5], [3], "('T', 'B', 3, 1)"),
    ([3, 5], [2, 1], "('T', 'B', 3, 1)"),
])
def test_softmax_ce_targets_are_class_indices(default, targets, expected):
    message = _shape_error('SoftmaxCE', {}, {'default': default,
                                             'targets': targets})
    assert message == (
        "SoftmaxCE layer 'Bad': input 'targets' expects shape {} (one class "
        "index per sample: the shape of input 'default' with a last "
        "dimension of 1), but receives {}".format(
            expected, str(('T', 'B') + tuple(targets))))


def test_softmax_ce_needs_a_class_dimension():
    message = _shape_error('SoftmaxCE', {}, {'default': [],
                                             'targets': [1]})
    assert message == (
        "SoftmaxCE layer 'Bad': input 'default' expects shape ('T', 'B', "
        "'K') (at least one feature dimension: the K classes), but receives "
        "('T', 'B')")


def test_squared_difference_inputs_must_have_the_same_shape():
    message = _shape_error('SquaredDifference', {},
                           {'inputs_1': [2, 3], 'inputs_2': [3, 2]})
    assert message == (
        "SquaredDifference layer 'Bad': input 'inputs_2' expects shape ('T', "
        "'B', 2, 3) (the shape of input 'inputs_1'), but receives ('T', 'B', "
        "3, 2)")


@pytest.mark.parametrize('layer_type, kwargs', [
    ('Convolution2D', {'num_filters': 2, 'kernel_size': [5, 2],
                       'padding': 1}),
    ('Pooling2D', {'kernel_size': [5, 2], 'type': 'avg', 'padding': 1}),
])
def test_kernel_must_fit_the_images(layer_type, kwargs):
    message = _shape_error(layer_type, kwargs, {'default': [2, 3, 1]})
    assert message == (
        "{} layer 'Bad': kernel 5x2 does not fit: input 'default' expects "
        "images of at least 3x1 pixels (with padding 1), but receives shape "
        "('T', 'B', 2, 3, 1)".format(layer_type))


@pytest.mark.parametrize('layer_type, kwargs', [
    ('Convolution2D', {'num_filters': 2, 'kernel_size': 1}),
    ('Pooling2D', {'kernel_size': 1}),
])
def test_images_must_be_images(layer_type, kwargs):
    message = _shape_error(layer_type, kwargs, {'default': [4, 4]})
    assert message == (
        "{} layer 'Bad': input 'default' expects shape ('T', 'B', 'F', 'F', "
        "'F'), but receives ('T', 'B', 4, 4)".format(layer_type))


@pytest.mark.parametrize('layer_type, in_shapes, missing', [
    ('SigmoidCE', {'default': [2]}, 'targets'),
    ('BinomialCrossEntropy', {'default': [2]}, 'targets'),
    ('SquaredDifference', {'inputs_1': [2]}, 'inputs_2'),
])
def test_unconnected_inputs(layer_type, in_shapes, missing):
    message = _shape_error(layer_type, {}, in_shapes)
    assert message == "{} layer 'Bad': input {!r} is not connected".format(
        layer_type, missing)


def test_messages_name_the_layer_given_by_wiring():
    inp = L.Input({'default': ('T', 'B', 4), 'targets': ('T', 'B', 3)})
    out = L.SquaredLoss(name='Regression')
    inp >> out
    inp - 'targets' >> 'targets' - out
    with pytest.raises(LayerValidationError,
                       match=re.escape("SquaredLoss layer 'Regression': "
                                       "input 'targets' expects shape ('T', "
                                       "'B', 4)")):
        bs.Network.from_layer(out)
