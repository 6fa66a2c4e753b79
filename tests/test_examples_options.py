"""The examples' options: --seed, --epochs / --updates and the network size,
with defaults sized for a CPU and stated in --help."""
import importlib.util
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.cli import main as brainstorm_command

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / 'examples'


def load_example(name):
    spec = importlib.util.spec_from_file_location(
        name.replace('.py', '_options_example'), EXAMPLES / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def help_text(name):
    result = subprocess.run([sys.executable, str(EXAMPLES / name), '--help'],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return ' '.join(result.stdout.split())


@pytest.mark.parametrize('name, expected', [
    ('mnist_pi.py', ['--seed SEED seed of bs.global_rnd (default: 42)',
                     '--hidden HIDDEN units of each of the two hidden layers '
                     "(default: 1200, the manual's size)",
                     '40 on the embedded digits, about 20 seconds on a CPU '
                     'of two cores']),
    ('hutter_lstm.py', ['--seed SEED seed of bs.global_rnd (default: 42)',
                        '--hidden HIDDEN number of LSTM cells (default: 256, '
                        'sized for a CPU',
                        '--epochs EPOCHS number of epochs (default: 5)',
                        '0 for all of it (default: 500, sized for a CPU)',
                        '0 for all (default: 50)']),
    ('cifar10_cnn.py', ['--seed SEED seed of bs.global_rnd (default: 42)',
                        '--epochs EPOCHS number of epochs (default: 10, '
                        'sized for a CPU; the manual trains 20)',
                        '0 for all 400 of CIFAR-10 (default: 0)',
                        "twice as many (default: 32, the manual's)",
                        "FullyConnected layer (default: 64, the manual's)"]),
])
def test_help_states_the_defaults(name, expected):
    text = help_text(name)
    for line in expected:
        assert line in text, (name, line, text)


def test_mnist_pi_seed_and_hidden(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('BRAINSTORM_DATA_DIR', str(tmp_path / 'nothing'))
    example = load_example('mnist_pi.py')

    def train(seed, output):
        example.main(['--epochs', '1', '--hidden', '16', '--seed', str(seed),
                      '--output', str(tmp_path / output)])
        return bs.Network.from_hdf5(str(tmp_path / output))

    first, again, other = train(3, 'a.hdf5'), train(3, 'b.hdf5'), \
        train(4, 'c.hdf5')
    capsys.readouterr()
    assert first.buffer['Hid1.parameters.W'].shape == (64, 16)
    assert first.buffer['Hid2.parameters.W'].shape == (16, 16)
    np.testing.assert_array_equal(first.buffer.parameters,
                                  again.buffer.parameters)
    assert not np.array_equal(first.buffer.parameters,
                              other.buffer.parameters)
    with pytest.raises(SystemExit):
        example.main(['--hidden', '0'])
    assert 'expected a positive integer, got 0' in capsys.readouterr().err


@pytest.fixture(scope='module')
def text_file(tmp_path_factory):
    """A Hutter-layout file from a plain text of 6000 bytes, prepared with
    the default split (5400 / 300 / 300 bytes) and sequences of 10."""
    folder = tmp_path_factory.mktemp('text')
    source = folder / 'corpus.txt'
    rnd = np.random.RandomState(0)
    words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'slept']
    source.write_text(' '.join(rnd.choice(words, 2000))[:6000])
    output = folder / 'Text.hdf5'
    assert brainstorm_command(['prepare', 'hutter', str(source), '-o',
                               str(output), '--seq-len', '10']) == 0
    return output


def test_hutter_lstm_updates_valid_batches_hidden_and_seed(text_file,
                                                           tmp_path, capsys):
    example = load_example('hutter_lstm.py')
    output = tmp_path / 'best.hdf5'
    args = ['--data', str(text_file), '--hidden', '8', '--batch-size', '4',
            '--epochs', '2', '--updates', '3', '--valid-batches', '2',
            '--sample', '5', '--output', str(output)]
    trainer = example.main(args + ['--seed', '7'])
    capsys.readouterr()
    # 2 epochs of 3 updates, instead of 134 minibatches of the 539 sequences
    assert trainer.current_update_nr == 6
    network = bs.Network.from_hdf5(str(output))
    assert network.buffer['Lstm.parameters.Wz'].shape[1] == 8
    again = example.main(args + ['--seed', '7'])
    other = example.main(args + ['--seed', '8'])
    capsys.readouterr()
    assert again.logs['validation']['total_loss'] == \
        trainer.logs['validation']['total_loss']
    assert other.logs['validation']['total_loss'] != \
        trainer.logs['validation']['total_loss']
    # all training data with --updates 0: (5400 - 1) // 10 = 539 sequences
    every = example.main(args[:8] + ['--epochs', '1', '--updates', '0',
                                     '--valid-batches', '1', '--sample',
                                     '0', '--output', str(output)])
    capsys.readouterr()
    assert every.current_update_nr == 135      # ceil(539 / 4)


def test_cifar10_cnn_updates_filters_and_hidden(tmp_path, capsys):
    sys.path.insert(0, str(pathlib.Path(__file__).parent))
    try:
        from test_examples import write_cifar10_archive
    finally:
        sys.path.pop(0)
    archive = tmp_path / 'cifar-10-python.tar.gz'
    write_cifar10_archive(archive, np.random.RandomState(1), per_batch=60)
    data = tmp_path / 'CIFAR-10.hdf5'
    assert brainstorm_command(['prepare', 'cifar10', str(archive), '-o',
                               str(data), '--validation-size', '100']) == 0
    output = tmp_path / 'best.hdf5'
    trainer = load_example('cifar10_cnn.py').main([
        '--data', str(data), '--cpu', '--epochs', '1', '--updates', '1',
        '--filters', '4', '--hidden', '8', '--seed', '5', '--output',
        str(output)])
    capsys.readouterr()
    assert trainer.current_update_nr == 1      # of the 2 batches of 100
    network = bs.Network.from_hdf5(str(output))
    assert network.buffer['Conv1.parameters.W'].shape == (4, 5, 5, 3)
    assert network.buffer['Conv3.parameters.W'].shape == (8, 5, 5, 4)
    assert network.buffer['FC.parameters.W'].shape == (3 * 3 * 8, 8)
