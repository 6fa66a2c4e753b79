"""A plugin's layer in spec strings: the ParametricRelu layer of the
examples/custom_layer distribution (installed in the test environment) by
name in ``create_net_from_spec`` and ``brainstorm train --spec``, a letter a
plugin registers for it, and the conflict a letter clash is."""
import types
import warnings

import numpy as np
import pytest

import brainstorm as bs
import brainstorm.cli as cli
from brainstorm.plugins import hookimpl, registry
from brainstorm.tools import SpecError, create_net_from_spec
from brainstorm_data import load_digits, save_as_hdf5


@pytest.fixture
def letters(monkeypatch):
    monkeypatch.delenv('BRAINSTORM_PLUGINS_STRICT', raising=False)
    names = []

    def register(name, mapping):
        module = types.ModuleType(name.replace('-', '_'))
        module.brainstorm_spec_letters = hookimpl(lambda: mapping)
        registry.register_module(module, name)
        names.append(name)
    yield register
    for name in names:
        registry.unregister_module(name)


def test_the_plugin_layer_is_installed():
    assert registry.provider('layers', 'ParametricRelu') == \
        'brainstorm-example-custom-layer'


def test_a_plugin_layer_by_name_in_a_spec():
    net = create_net_from_spec('classification', 6, 3,
                               'F8 ParametricRelu F5 ParametricRelu()')
    assert list(net.layers) == [
        'Input', 'FullyConnected', 'ParametricRelu', 'FullyConnected_2',
        'ParametricRelu_2', 'Output_projection', 'Output', 'Loss']
    assert type(net.layers['ParametricRelu']).__name__ == \
        'ParametricReluLayerImpl'
    assert net.buffer['ParametricRelu.parameters.slope'].shape == (8,)
    # the network runs, and the layer computes what it says
    net.set_handler(bs.handlers.NumpyHandler(np.float64))
    net.buffer['ParametricRelu.parameters.slope'][:] = 0.25
    x = np.random.RandomState(1).randn(2, 3, 6)
    net.provide_external_data({'default': x,
                               'targets': np.zeros((2, 3, 1))})
    net.forward_pass()
    hidden = net.get('FullyConnected.outputs.default')
    out = net.get('ParametricRelu.outputs.default')
    np.testing.assert_allclose(out, np.where(hidden > 0, hidden,
                                             0.25 * hidden))


def test_builtin_layers_by_name_and_letters_with_keyword_arguments():
    net = create_net_from_spec(
        'classification', 6, 3,
        "F(size=7, activation='tanh') Dropout(drop_prob=0.1) D (drop_prob=0.3)"
        ' BatchNorm')
    assert net.layers['FullyConnected'].kwargs == {'size': 7,
                                                   'activation': 'tanh'}
    assert net.layers['Dropout'].kwargs == {'drop_prob': 0.1}
    assert net.layers['Dropout_2'].kwargs == {'drop_prob': 0.3}
    assert 'BatchNorm' in net.layers


def test_a_plugin_layer_with_wrong_arguments_is_pointed_at():
    with pytest.raises(SpecError) as info:
        create_net_from_spec('classification', 6, 3,
                             'F8 ParametricRelu(slope=2)')
    assert info.value.position == 3
    assert "cannot build 'ParametricRelu(slope=2)' (ParametricRelu)" in \
        info.value.reason
    assert "unexpected keyword argument 'slope'" in info.value.reason


def test_a_plugin_letter_in_a_spec(letters):
    letters('prelu-letter', {'A': 'ParametricRelu'})
    net = create_net_from_spec('regression', 4, 2, 'F6 A F3 A')
    assert [type(layer).__name__ for layer in net.layers.values()][1:5] == [
        'FullyConnectedLayerImpl', 'ParametricReluLayerImpl',
        'FullyConnectedLayerImpl', 'ParametricReluLayerImpl']


def test_a_letter_clash_is_reported_like_any_plugin_conflict(letters):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        letters('prelu-letter', {'D': 'ParametricRelu'})
        with pytest.raises(SpecError) as info:
            create_net_from_spec('classification', 6, 3, 'F8 D')
    assert [str(w.message) for w in caught] == [
        "two brainstorm plugins provide the spec letter 'D': "
        "'brainstorm-core' and 'prelu-letter'; neither is used, the other "
        'names are; uninstall one of them, or set '
        'BRAINSTORM_PLUGINS_STRICT=1 to make this an error']
    assert info.value.position == 3
    assert "two brainstorm plugins provide the spec letter 'D': " \
        "'brainstorm-core' and 'prelu-letter', so neither is used" in \
        info.value.reason
    # the layer name still works
    net = create_net_from_spec('classification', 6, 3, 'F8 Dropout')
    assert 'Dropout' in net.layers


def test_brainstorm_train_with_a_plugin_layer_in_the_spec(tmp_path, capsys):
    data = str(tmp_path / 'digits.hdf5')
    save_as_hdf5(load_digits(split=(200, 50, 50), flatten=True), data)
    output = str(tmp_path / 'net.hdf5')
    code = cli.main(['train', '--spec', 'F16 ParametricRelu Dropout('
                     'drop_prob=0.1)', '--data', data, '--epochs', '1',
                     '--batch-size', '20', '--stepper', 'sgd', '-o', output])
    out, err = capsys.readouterr()
    assert code == 0, err
    net = bs.Network.from_hdf5(output)
    assert net.buffer['ParametricRelu.parameters.slope'].shape == (16,)
    assert net.layers['Dropout'].kwargs == {'drop_prob': 0.1}
