"""Wiring with >> and -, automatic names, architectures (manual 9.3)."""
import json

import pytest

import brainstorm as bs
from brainstorm.structure.architecture import (ArchitectureError,
                                               generate_architecture)
from brainstorm.plugins import MissingPluginError
from brainstorm.structure.construction import WiringError
from brainstorm.testing.simple_layers import (TestAffine, TestSoftmaxLoss,
                                              use_simple_layers)


@pytest.fixture(autouse=True)
def simple_layers():
    with use_simple_layers():
        yield


def test_chapter_3_2_named_inputs_and_outputs():
    inp = bs.layers.Input({'my_inputs': ('T', 'B', 50),
                           'my_targets': ('T', 'B', 1)})
    hid = TestAffine(100, name='Hidden')
    out = TestSoftmaxLoss(name='Output')
    inp - 'my_inputs' >> hid >> out
    inp - 'my_targets' >> 'targets' - out
    arch = generate_architecture(out.layer)
    assert arch['Input']['@outgoing_connections'] == {
        'my_inputs': ['Hidden'], 'my_targets': ['Output.targets']}
    assert arch['Hidden']['@outgoing_connections'] == {'default': ['Output']}
    assert arch['Hidden']['size'] == 100
    json.dumps(arch)
    net = bs.Network.from_layer(inp)     # any layer of the graph will do
    assert list(net.layers) == ['Input', 'Hidden', 'Output']
    assert net.layers['Output'].in_shapes['default'].shape == ('T', 'B', 100)


def test_selected_output_then_input_in_one_chain():
    inp = bs.layers.Input({'default': ('T', 'B', 4),
                           'targets': ('T', 'B', 1)})
    out = TestSoftmaxLoss(name='Out')
    a = TestAffine(3, name='A')
    inp >> a >> out
    result = inp - 'targets' >> 'targets' - out - 'loss'
    assert result.output_name == 'loss' and result.layer is out.layer
    arch = generate_architecture(out.layer)
    assert arch['Input']['@outgoing_connections']['targets'] == \
        ['Out.targets']


def test_automatic_names_are_unique():
    inp = bs.layers.Input({'default': (4,), 'targets': (1,)})
    out = TestSoftmaxLoss()
    inp >> TestAffine(3) >> TestAffine(3) >> TestAffine(2, name='TestAffine_3'
                                                         ) >> out
    inp - 'targets' >> 'targets' - out
    names = list(bs.Network.from_layer(out).layers)
    assert sorted(names) == ['Input', 'TestAffine', 'TestAffine_2',
                             'TestAffine_3', 'TestSoftmaxLoss']


def test_duplicate_explicit_names_are_an_error():
    inp = bs.layers.Input({'default': (4,)})
    inp >> TestAffine(3, name='X') >> TestAffine(3, name='X')
    with pytest.raises(WiringError, match="named 'X'"):
        bs.Network.from_layer(inp)


def test_an_input_connected_twice_is_an_error():
    inp = bs.layers.Input({'default': (4,), 'other': (4,)})
    a = TestAffine(3)
    inp >> a
    with pytest.raises(WiringError, match='connected twice'):
        inp - 'other' >> a


def test_construction_function_checks_arguments():
    with pytest.raises(TypeError, match='TestAffine'):
        TestAffine()
    with pytest.raises(TypeError):
        TestAffine(3, colour='red')
    with pytest.raises(ValueError, match="no '.'"):
        TestAffine(3, name='a.b')


def test_from_architecture_manual_style_dict():
    arch = {
        'Input': {'@type': 'Input',
                  '@outgoing_connections': {'default': ['hidden_layer'],
                                            'targets': ['output_layer.targets']},
                  'out_shapes': {'default': ('T', 'B', 784),
                                 'targets': ('T', 'B', 1)}},
        'hidden_layer': {'@type': 'TestAffine', 'size': 100,
                         '@outgoing_connections': {
                             'default': ['output_layer']}},
        'output_layer': {'@type': 'TestSoftmaxLoss',
                         '@outgoing_connections': {}},
    }
    net = bs.Network.from_architecture(arch)
    assert net.buffer['hidden_layer.parameters.W'].shape == (784, 100)
    assert net.get_loss_values() == {'total_loss': 0.0}


@pytest.mark.parametrize('change, message', [
    (lambda a: a.pop('Input'), 'exactly one Input'),
    (lambda a: a['H'].update({'@type': 'Nope'}), "no 'Nope'"),
    (lambda a: a['H'].update({'size': 3, 'colour': 1}), "'H'.*colour"),
    (lambda a: a['H']['@outgoing_connections'].update({'default': ['Zed']}),
     "no layer named 'Zed'"),
    (lambda a: a['Input']['@outgoing_connections'].update(
        {'default': ['H'], 'nope': ['O.extra']}), "have the outputs: default"),
    (lambda a: a['O']['@outgoing_connections'].update({'loss': ['H']}),
     'connected twice'),
    (lambda a: a.update({'Lonely': {'@type': 'TestAffine', 'size': 2}}),
     "Lonely.*not connected|Lonely.*not connected"),
])
def test_broken_architectures_say_what_is_wrong(change, message):
    arch = {
        'Input': {'@type': 'Input',
                  '@outgoing_connections': {'default': ['H'],
                                            'targets': ['O.targets']},
                  'out_shapes': {'default': [5], 'targets': [1]}},
        'H': {'@type': 'TestAffine', 'size': 3,
              '@outgoing_connections': {'default': ['O']}},
        'O': {'@type': 'TestSoftmaxLoss', '@outgoing_connections': {}},
    }
    change(arch)
    with pytest.raises((ArchitectureError, ValueError, AttributeError,
                        MissingPluginError), match=message):
        bs.Network.from_architecture(arch)


def test_wrong_input_shape_names_layer_and_shapes():
    inp = bs.layers.Input({'default': ('T', 'B', 4), 'targets': ('T', 'B', 2)})
    out = TestSoftmaxLoss(name='Out')
    inp >> out
    inp - 'targets' >> 'targets' - out
    with pytest.raises(ValueError, match="'Out'.*'targets'.*\\('T', 'B', 1\\)"
                       ".*\\('T', 'B', 2\\)"):
        bs.Network.from_layer(out)
