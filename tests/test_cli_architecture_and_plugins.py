"""``brainstorm info --architecture`` (an architecture JSON to edit and to
train with ``brainstorm train --architecture``), and ``brainstorm train``
naming every missing plugin class at once."""
import json
import os
import re

import pytest

import brainstorm as bs
import brainstorm.cli as cli
from brainstorm.plugins import MissingPluginError, registry
from brainstorm_data import load_digits, save_as_hdf5


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """A small digits data file and a saved network with a hidden layer of
    12 units."""
    folder = tmp_path_factory.mktemp('architecture')
    data = str(folder / 'digits.hdf5')
    save_as_hdf5(load_digits(split=(200, 50, 50), flatten=True), data)
    inp, fc = bs.tools.get_in_out_layers('classification', 64, 10)
    net = bs.Network.from_layer(inp >> bs.layers.FullyConnected(
        12, name='Hid') >> fc)
    net.initialize(bs.initializers.Gaussian(0.1))
    network = str(folder / 'net.hdf5')
    net.save_as_hdf5(network)
    return {'data': data, 'network': network, 'net': net}


def test_info_architecture_prints_json_that_train_reads_back(
        files, tmp_path, capsys):
    code, out, err = run(['info', files['network'], '--architecture'],
                         capsys)
    assert code == 0, err
    architecture = json.loads(out)
    assert architecture == json.loads(json.dumps(
        files['net'].architecture))
    assert architecture['Hid']['size'] == 12
    # readable: one key per line, shapes on one line
    assert '"size": 12,\n' in out
    assert '"default": ["T", "B", 64]' in out

    # edit it (a larger hidden layer) and train the edited network
    architecture['Hid']['size'] = 20
    edited = tmp_path / 'edited.json'
    edited.write_text(json.dumps(architecture))
    output = str(tmp_path / 'best.hdf5')
    code, out, err = run(['train', '--architecture', str(edited), '--data',
                          files['data'], '--epochs', '1', '--batch-size',
                          '20', '--no-progress', '-o', output], capsys)
    assert code == 0, err
    trained = bs.Network.from_hdf5(output)
    assert trained.buffer['Hid.parameters.W'].shape == (64, 20)


def test_info_without_architecture_prints_the_summary(files, capsys):
    code, out, _ = run(['info', files['network']], capsys)
    assert code == 0
    assert out.startswith('File: {}'.format(files['network']))
    with pytest.raises(ValueError):
        json.loads(out)


def test_readable_json_round_trips_any_architecture_value():
    value = {'a': {'b': [1, 2.5, 'x'], 'c': {}, 'd': [], 'e': None,
                   'f': [[1, 2], {'g': True}], 'h': 'q"uote'}}
    text = cli._readable_json(value)
    assert json.loads(text) == value
    assert '"b": [1, 2.5, "x"]' in text


@pytest.fixture
def without(monkeypatch):
    """Take registered classes out of the registry for one test, as if the
    plugin providing them were not installed."""
    registry.load()

    def remove(category, *names):
        monkeypatch.setitem(registry._classes, category, {
            k: v for k, v in registry._classes[category].items()
            if k not in names})
    return remove


def test_train_names_every_missing_plugin_class_at_once(files, tmp_path,
                                                        capsys, without):
    without('hooks', 'ProgressBar', 'SaveBestNetwork')
    without('data_iterators', 'Minibatches')
    output = str(tmp_path / 'best.hdf5')
    code, out, err = run(['train', '--data', files['data'], '--epochs', '1',
                          '-o', output], capsys)
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[0] == ('brainstorm train: error: brainstorm train needs 3 '
                        'classes that are not available:')
    assert '  brainstorm-hooks (not installed): hook ProgressBar, hook ' \
        'SaveBestNetwork' in lines
    assert '  brainstorm-data (not installed): data iterator Minibatches' \
        in lines
    assert lines[-1] == (
        'Install them: pip install brainstorm-data brainstorm-hooks (from '
        'the root of the brainstorm repository: pip install '
        'packages/brainstorm-data packages/brainstorm-hooks)')
    assert not os.path.exists(output)
    assert 'Epoch' not in out


def test_train_names_every_unknown_layer_handler_and_scorer(
        files, tmp_path, capsys):
    architecture = json.loads(json.dumps(files['net'].architecture))
    architecture['Hid']['@type'] = 'Swoosh'
    architecture['Output']['@type'] = 'SoftmaxCEX'
    path = tmp_path / 'net.json'
    path.write_text(json.dumps(architecture))
    code, _, err = run(['train', '--architecture', str(path), '--data',
                        files['data'], '--handler', 'AbacusHandler',
                        '--scorer', 'Accuracy', '--scorer', 'Nope'], capsys)
    assert code == 1
    assert 'needs 4 classes that are not available' in err
    assert re.search(r"layers '(Swoosh|SoftmaxCEX)', '(Swoosh|SoftmaxCEX)': "
                     r'no installed plugin provides them \(available: ', err)
    assert "handler 'AbacusHandler': no installed plugin provides it" in err
    assert "scorer 'Nope': no installed plugin provides it (available: " \
        'Accuracy' in err


def test_from_architecture_names_every_missing_layer_type(files):
    architecture = json.loads(json.dumps(files['net'].architecture))
    architecture['Hid']['@type'] = 'Swoosh'
    architecture['Output']['@type'] = 'SoftmaxCEX'
    with pytest.raises(MissingPluginError) as info:
        bs.Network.from_architecture(architecture)
    message = str(info.value)
    assert message.startswith('the architecture names 2 layer types that '
                              'are not available: ')
    assert "'Swoosh'" in message and "'SoftmaxCEX'" in message
    # one missing type keeps its own message
    architecture['Output']['@type'] = 'SoftmaxCE'
    with pytest.raises(MissingPluginError,
                       match=r"^brainstorm\.layers has no 'Swoosh'"):
        bs.Network.from_architecture(architecture)
