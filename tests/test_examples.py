"""The examples: cifar10_cnn.py and hutter_lstm.py in smoke mode on small
files in the real distribution formats (converted by ``brainstorm prepare``),
and the layer of the plugin distribution in examples/custom_layer used by
name."""
import importlib.metadata
import importlib.util
import io
import math
import os
import pathlib
import pickle
import re
import subprocess
import sys
import tarfile
import zipfile
from collections import OrderedDict

import h5py
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.cli import main as brainstorm_command

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / 'examples'
CUSTOM_LAYER_DIST = 'brainstorm-example-custom-layer'


def run_example(name, *args, env=None, cwd=None):
    environment = dict(os.environ)
    environment.update(env or {})
    return subprocess.run([sys.executable, str(EXAMPLES / name)] +
                          [str(a) for a in args],
                          capture_output=True, text=True, env=environment,
                          cwd=cwd, timeout=300)


def load_example(name):
    spec = importlib.util.spec_from_file_location(
        name.replace('.py', '_example'), EXAMPLES / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- CIFAR-10 -----------------------------------------------------------------
def write_cifar10_archive(path, rnd, per_batch=10, test_size=10):
    """A cifar-10-python.tar.gz of the real layout: five training batches,
    a test batch and batches.meta, pickled dicts with bytes keys; images as
    rows of 3072 bytes (the red, green and blue 32x32 planes)."""
    def batch(n, label):
        return {b'batch_label': label,
                b'labels': [int(c) for c in rnd.randint(0, 10, n)],
                b'data': rnd.randint(0, 256, (n, 3072)).astype(np.uint8),
                b'filenames': [b'image_%d.png' % i for i in range(n)]}

    members = OrderedDict()
    for i in range(1, 6):
        members['data_batch_{}'.format(i)] = batch(
            per_batch, b'training batch %d of 5' % i)
    members['test_batch'] = batch(test_size, b'testing batch 1 of 1')
    members['batches.meta'] = {
        b'label_names': [b'airplane', b'automobile', b'bird', b'cat',
                         b'deer', b'dog', b'frog', b'horse', b'ship',
                         b'truck'],
        b'num_cases_per_batch': per_batch, b'num_vis': 3072}
    with tarfile.open(str(path), 'w:gz') as tar:
        for name, content in members.items():
            data = pickle.dumps(content, protocol=2)
            info = tarfile.TarInfo('cifar-10-batches-py/' + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.fixture(scope='module')
def cifar10_dir(tmp_path_factory):
    """A data folder holding CIFAR-10.hdf5: 30 training, 20 validation and
    10 test images."""
    folder = tmp_path_factory.mktemp('cifar')
    archive = folder / 'cifar-10-python.tar.gz'
    write_cifar10_archive(archive, np.random.RandomState(3))
    output = folder / 'CIFAR-10.hdf5'
    assert brainstorm_command(['prepare', 'cifar10', str(archive), '-o',
                               str(output), '--validation-size', '20']) == 0
    return folder


def test_cifar10_cnn_smoke(cifar10_dir, tmp_path):
    output = tmp_path / 'best.hdf5'
    result = run_example('cifar10_cnn.py', '--smoke', '--cpu', '--output',
                         output, env={'BRAINSTORM_DATA_DIR': cifar10_dir},
                         cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'Data: {}'.format(cifar10_dir / 'CIFAR-10.hdf5') in result.stdout
    match = re.search(r'Best validation accuracy: (\S+)', result.stdout)
    assert match, result.stdout
    accuracy = float(match.group(1))
    # 20 validation images (smoke mode learns nothing: it checks the path
    # from the distribution file; test_cifar10_cnn_learns checks learning)
    assert accuracy * 20 == pytest.approx(round(accuracy * 20), abs=1e-9)

    network = bs.Network.from_hdf5(str(output))
    assert network.buffer['Conv1.parameters.W'].shape == (32, 5, 5, 3)
    assert network.buffer['Conv3.parameters.W'].shape == (64, 5, 5, 32)
    # 32x32 images pooled (3x3, stride 2) three times: 15, 7, 3
    assert network.buffer['FC.parameters.W'].shape == (3 * 3 * 64, 64)
    assert network.buffer['Output_projection.parameters.W'].shape == (64, 10)
    # the saved network is the one that scored the best validation accuracy
    # (smoke mode validates on the first 20 images: all of them here)
    with h5py.File(str(cifar10_dir / 'CIFAR-10.hdf5'), 'r') as f:
        valid = f['normalized_split/validation']
        getter = bs.Minibatches(10, shuffle=False,
                                default=valid['default'][()],
                                targets=valid['targets'][()])
        scores = bs.tools.evaluate(network, getter, [bs.scorers.Accuracy()])
    assert scores['Accuracy'] == pytest.approx(accuracy, abs=1e-9)


def write_learnable_cifar10(path, rnd, sizes):
    """A file of the layout `brainstorm prepare cifar10` writes, with noise
    images (std 1) holding a bright 16x16 block (+300) whose quadrant and
    channel tell the class (10 of the 12 combinations): the manual's
    network, with its small initial weights, learns it in a few updates."""
    with h5py.File(str(path), 'w') as f:
        for split, n in sizes.items():
            targets = rnd.randint(0, 10, (1, n, 1))
            images = rnd.randn(1, n, 32, 32, 3)
            for i, k in enumerate(targets[0, :, 0]):
                row, col = 16 * (k // 6), 16 * (k // 3 % 2)
                images[0, i, row:row + 16, col:col + 16, k % 3] += 300.0
            group = f.create_group('normalized_split/' + split)
            group['default'] = images.astype(np.float32)
            group['targets'] = targets.astype(np.uint8)


def test_cifar10_cnn_learns(tmp_path):
    data = tmp_path / 'learnable.hdf5'
    write_learnable_cifar10(data, np.random.RandomState(4),
                            {'training': 400, 'validation': 100,
                             'test': 10})
    output = tmp_path / 'best.hdf5'
    result = run_example('cifar10_cnn.py', '--cpu', '--epochs', 2,
                         '--data', data, '--output', output, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    accuracy = float(re.search(r'Best validation accuracy: (\S+)',
                               result.stdout).group(1))
    assert accuracy > 0.7       # chance: 0.1; 8 updates of 100 images
    network = bs.Network.from_hdf5(str(output))
    with h5py.File(str(data), 'r') as f:
        valid = {name: f['normalized_split/validation'][name][()]
                 for name in ('default', 'targets')}
    network.provide_external_data(valid)
    network.forward_pass()
    predictions = network.get('Output.outputs.predictions')
    assert predictions.shape == (1, 100, 10)
    np.testing.assert_allclose(predictions.sum(axis=-1), 1, rtol=1e-5)
    assert np.mean(predictions.argmax(-1) == valid['targets'][..., 0]) == \
        pytest.approx(accuracy, abs=1e-9)


def test_cifar10_cnn_names_the_prepare_command_when_data_is_missing(
        tmp_path):
    result = run_example('cifar10_cnn.py', '--smoke',
                         env={'BRAINSTORM_DATA_DIR': tmp_path / 'nothing'},
                         cwd=tmp_path)
    assert result.returncode == 1
    missing = str(tmp_path / 'nothing' / 'CIFAR-10.hdf5')
    assert 'no CIFAR-10 data file {!r}'.format(missing) in result.stderr
    assert 'brainstorm prepare cifar10 cifar-10-python.tar.gz -o {}'.format(
        missing) in result.stderr
    assert 'Traceback' not in result.stderr


def test_cifar10_cnn_rejects_a_file_of_another_layout(tmp_path):
    data = tmp_path / 'other.hdf5'
    with h5py.File(str(data), 'w') as f:
        f['training/default'] = np.zeros((1, 2, 3))
    result = run_example('cifar10_cnn.py', '--smoke', '--data', data,
                         cwd=tmp_path)
    assert result.returncode == 1
    assert 'lacks normalized_split/training/default' in result.stderr
    assert 'brainstorm prepare cifar10' in result.stderr


# -- Hutter Prize -------------------------------------------------------------
SEQ_LEN = 10


def wiki_text(rnd, size):
    """MediaWiki-like UTF-8 text of ``size`` bytes."""
    words = ['the', 'brain', 'storm', 'network', 'layer', 'Zürich', 'café',
             '[[link]]', "'''bold'''", '&lt;ref&gt;', '{{cite}}', 'of']
    parts, length = [], 0
    while length < size:
        word = words[rnd.randint(len(words))]
        parts.append(word)
        length += len(word.encode('utf-8')) + 1
    return ' '.join(parts).encode('utf-8')[:size]


@pytest.fixture(scope='module')
def hutter_file(tmp_path_factory):
    """Hutter.hdf5 from an enwik8.zip of 400 bytes: 19 training, 9
    validation and 9 test sequences of 10 symbols."""
    folder = tmp_path_factory.mktemp('hutter')
    text = wiki_text(np.random.RandomState(5), 400)
    archive = folder / 'enwik8.zip'
    with zipfile.ZipFile(str(archive), 'w',
                         compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr('enwik8', text)
    output = folder / 'Hutter.hdf5'
    assert brainstorm_command([
        'prepare', 'hutter', str(archive), '-o', str(output), '--split',
        '200', '100', '100', '--seq-len', str(SEQ_LEN)]) == 0
    return output, text


def one_hot_numpy(symbols, vocab_size):
    result = np.zeros(symbols.shape[:-1] + (vocab_size,))
    for index in np.ndindex(*symbols.shape[:-1]):
        result[index + (int(symbols[index + (0,)]),)] = 1
    return result


def test_hutter_lstm_smoke(hutter_file, tmp_path):
    data, text = hutter_file
    output = tmp_path / 'best.hdf5'
    result = run_example('hutter_lstm.py', '--smoke', '--data', data,
                         '--output', output, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with h5py.File(str(data), 'r') as f:
        alphabet = f['normalized_split'].attrs['alphabet']
        valid = {name: f['normalized_split/validation'][name][()]
                 for name in ('default', 'targets')}
    vocab_size = len(alphabet)
    assert vocab_size == len(set(text))
    assert 'Data: {} ({} symbols, sequences of {} steps)'.format(
        data, vocab_size, SEQ_LEN) in result.stdout

    match = re.search(r'Best validation loss: (\S+) nats per sequence '
                      r'\((\S+) bits per character\)', result.stdout)
    assert match, result.stdout
    loss, bits = float(match.group(1)), float(match.group(2))
    assert bits == pytest.approx(loss / SEQ_LEN / math.log(2), abs=1e-4)
    # an untrained model is near log(K) nats per symbol
    assert 0.5 * math.log(vocab_size) < loss / SEQ_LEN < \
        2 * math.log(vocab_size)

    network = bs.Network.from_hdf5(str(output))
    assert network.buffer['Lstm.parameters.Wz'].shape == (vocab_size, 16)
    assert network.buffer['Output_projection.parameters.W'].shape == \
        (16, vocab_size)
    # the saved network is the one of the best validation loss (smoke mode
    # validates on the first 4 sequences)
    getter = bs.Minibatches(
        4, shuffle=False,
        default=one_hot_numpy(valid['default'][:, :4], vocab_size),
        targets=valid['targets'][:, :4])
    assert bs.tools.evaluate(network, getter)['total_loss'] == \
        pytest.approx(loss, abs=1e-5)

    header = 'Sample of 20 symbols after the first validation sequence:\n'
    assert header in result.stdout
    sample = result.stdout.split(header, 1)[1][:-1]
    assert sample
    assert set(sample) <= set(text.decode('utf-8')) | {'\ufffd'}


def test_hutter_lstm_feeds_one_hot_symbols(hutter_file):
    data, _ = hutter_file
    example = load_example('hutter_lstm.py')
    with h5py.File(str(data), 'r') as f:
        vocab_size = len(f['normalized_split'].attrs['alphabet'])
        x = f['normalized_split/training/default'][()]
        y = f['normalized_split/training/targets'][()]
    for getter in (example.one_hot(bs.Minibatches(5, shuffle=False,
                                                  default=x, targets=y),
                                   vocab_size),
                   example.OneHotInputs(bs.Minibatches(5, shuffle=False,
                                                       default=x, targets=y),
                                        vocab_size)):
        assert tuple(getter.data_shapes['default']) == \
            (SEQ_LEN, x.shape[1], vocab_size)
        assert tuple(getter.data_shapes['targets']) == y.shape
        batches = list(getter())
        assert len(batches) == 4    # 19 sequences in batches of 5
        np.testing.assert_array_equal(
            np.concatenate([b['default'] for b in batches], axis=1),
            one_hot_numpy(x, vocab_size))
        np.testing.assert_array_equal(
            np.concatenate([b['targets'] for b in batches], axis=1), y)


def test_hutter_lstm_names_the_prepare_command_when_data_is_missing(
        tmp_path):
    result = run_example('hutter_lstm.py', '--smoke',
                         env={'BRAINSTORM_DATA_DIR': tmp_path}, cwd=tmp_path)
    assert result.returncode == 1
    missing = str(tmp_path / 'Hutter.hdf5')
    assert 'no Hutter Prize data file {!r}'.format(missing) in result.stderr
    assert 'brainstorm prepare hutter enwik8.zip -o {}'.format(missing) in \
        result.stderr


# -- the custom layer plugin --------------------------------------------------
@pytest.fixture(scope='module')
def custom_layer():
    try:
        importlib.metadata.distribution(CUSTOM_LAYER_DIST)
    except importlib.metadata.PackageNotFoundError:
        pytest.fail('the example plugin distribution {} is not installed: '
                    'pip install -e examples/custom_layer'.format(
                        CUSTOM_LAYER_DIST), pytrace=False)
    return bs.layers.ParametricRelu


def parametric_relu(x, slope):
    flat = x.reshape(x.shape[:2] + (-1,))
    return (np.maximum(flat, 0) + slope * np.minimum(flat, 0)).reshape(
        x.shape)


def test_custom_layer_comes_from_its_own_distribution(custom_layer):
    info = bs.plugins.registry.plugin_info()
    assert info[CUSTOM_LAYER_DIST] == {'layers': ['ParametricRelu']}
    entry_points = [ep for ep in importlib.metadata.entry_points(
        group='brainstorm') if ep.name == CUSTOM_LAYER_DIST]
    assert [ep.value for ep in entry_points] == \
        ['brainstorm_example_custom_layer.plugin']


def build_wired_network(custom_layer):
    inp, out = bs.tools.get_in_out_layers('classification', (2, 3), 4)
    network = bs.Network.from_layer(
        inp >> bs.layers.FullyConnected((2, 3), activation='linear',
                                        name='Hid') >>
        custom_layer(name='Act') >> out)
    network.initialize({'default': bs.initializers.Gaussian(0.5),
                        'Act': {'slope': np.linspace(-0.5, 0.5, 6)}})
    return network


def test_custom_layer_in_wiring_architecture_and_file(custom_layer,
                                                      tmp_path):
    network = build_wired_network(custom_layer)
    assert network.buffer['Act.parameters.slope'].shape == (6,)
    rnd = np.random.RandomState(0)
    data = {'default': rnd.randn(3, 5, 2, 3),
            'targets': rnd.randint(0, 4, (3, 5, 1))}
    network.provide_external_data(data)
    network.forward_pass()
    hidden = network.get('Hid.outputs.default')
    assert (hidden < 0).any() and (hidden > 0).any()
    expected = parametric_relu(hidden, np.linspace(-0.5, 0.5, 6))
    np.testing.assert_allclose(network.get('Act.outputs.default'), expected,
                               rtol=1e-5, atol=1e-6)
    loss = network.get_loss_values()['total_loss']

    # the network's own architecture names the layer by its type
    architecture = network.architecture
    assert architecture['Act']['@type'] == 'ParametricRelu'
    rebuilt = bs.Network.from_architecture(architecture)
    rebuilt.set_parameters(network.get('parameters'))
    rebuilt.provide_external_data(data)
    rebuilt.forward_pass()
    np.testing.assert_allclose(rebuilt.get('Act.outputs.default'), expected,
                               rtol=1e-5, atol=1e-6)

    filename = str(tmp_path / 'prelu.hdf5')
    network.save_as_hdf5(filename)
    loaded = bs.Network.from_hdf5(filename)
    assert type(loaded.layers['Act']).__name__ == 'ParametricReluLayerImpl'
    np.testing.assert_array_equal(loaded.get('Act.parameters.slope'),
                                  network.get('Act.parameters.slope'))
    loaded.provide_external_data(data)
    loaded.forward_pass()
    assert loaded.get_loss_values()['total_loss'] == pytest.approx(loss)


def test_custom_layer_in_a_hand_written_architecture(custom_layer):
    architecture = {
        'Input': {'@type': 'Input',
                  'out_shapes': {'default': ['T', 'B', 4]},
                  '@outgoing_connections': {'default': ['Act.default']}},
        'Act': {'@type': 'ParametricRelu', '@outgoing_connections': {}}}
    network = bs.Network.from_architecture(architecture)
    slope = np.array([0.0, 0.1, -1.0, 2.0])
    network.initialize({'Act': {'slope': slope}})
    x = np.random.RandomState(1).randn(2, 3, 4)
    network.provide_external_data({'default': x})
    network.forward_pass()
    np.testing.assert_allclose(network.get('Act.outputs.default'),
                               parametric_relu(x, slope), rtol=1e-5,
                               atol=1e-6)


def test_custom_layer_rejects_arguments_naming_itself(custom_layer):
    with pytest.raises(TypeError, match='ParametricRelu'):
        custom_layer(slope=0.25)
    architecture = {
        'Input': {'@type': 'Input',
                  'out_shapes': {'default': ['T', 'B', 4]},
                  '@outgoing_connections': {'default': ['Act.default']}},
        'Act': {'@type': 'ParametricRelu', 'slope': 0.25,
                '@outgoing_connections': {}}}
    with pytest.raises(ValueError, match=r"ParametricRelu layer 'Act': "
                                         r"unexpected argument\(s\) slope"):
        bs.Network.from_architecture(architecture)


@pytest.mark.parametrize('in_shape', [(4,), (2, 3)])
def test_custom_layer_gradients(custom_layer, in_shape):
    from brainstorm.testing.gradient_check import check_layer_gradients
    errors = check_layer_gradients('ParametricRelu', {},
                                   {'default': in_shape}, time_steps=3)
    assert set(errors) == {'ParametricRelu.input_deltas.default',
                           'ParametricRelu.gradients.slope'}
    assert max(errors.values()) < 1e-7


def test_custom_layer_gradients_within_a_network(custom_layer):
    from brainstorm.testing.gradient_check import check_network_gradients
    network = build_wired_network(custom_layer)
    rnd = np.random.RandomState(2)
    errors = check_network_gradients(
        network, {'default': rnd.randn(2, 3, 2, 3),
                  'targets': rnd.randint(0, 4, (2, 3, 1))})
    assert 'Act.gradients.slope' in errors
    assert max(errors.values()) < 1e-7


def test_custom_layer_slope_learns(custom_layer):
    """Data where negative inputs should pass scaled by 0.5: the slope
    moves from 0 towards it."""
    bs.global_rnd.set_seed(7)
    network = bs.Network.from_architecture({
        'Input': {'@type': 'Input',
                  'out_shapes': {'default': ['T', 'B', 3],
                                 'targets': ['T', 'B', 3]},
                  '@outgoing_connections': {'default': ['Act.default'],
                                            'targets': ['Out.targets']}},
        'Act': {'@type': 'ParametricRelu',
                '@outgoing_connections': {'default': ['Out.default']}},
        'Out': {'@type': 'SquaredError',
                '@outgoing_connections': {'loss': ['Loss.default']}},
        'Loss': {'@type': 'Loss', '@outgoing_connections': {}}})
    network.initialize({'Act': {'slope': 0.0}})
    x = np.random.RandomState(3).randn(1, 200, 3)
    targets = parametric_relu(x, 0.5)
    trainer = bs.Trainer(bs.training.SgdStepper(learning_rate=0.2),
                         verbose=False)
    trainer.add_hook(bs.hooks.StopAfterEpoch(30))
    trainer.train(network, bs.Minibatches(50, default=x, targets=targets))
    np.testing.assert_allclose(network.get('Act.parameters.slope'), 0.5,
                               atol=0.02)


def test_custom_layer_joins_the_handler_conformance_suite(custom_layer):
    from brainstorm.handlers.debug_handler import DebugHandler
    from brainstorm.handlers.numpy_handler import NumpyHandler
    from brainstorm.testing.conformance import (check_layer_example,
                                                layer_examples,
                                                layers_without_examples)
    assert 'ParametricRelu' not in layers_without_examples()
    examples = [e for e in layer_examples()
                if e.layer_type == 'ParametricRelu']
    assert [e.plugin for e in examples] == [CUSTOM_LAYER_DIST]
    for example in examples:
        check_layer_example(lambda: DebugHandler(NumpyHandler(np.float64)),
                            example)
