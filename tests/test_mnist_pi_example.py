"""examples/mnist_pi.py, the README's main job, in a short run."""
import importlib.util
import pathlib

import h5py
import numpy as np

import brainstorm as bs

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / 'examples' / \
    'mnist_pi.py'


def load_example():
    spec = importlib.util.spec_from_file_location('mnist_pi_example',
                                                  EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mnist_pi_on_the_embedded_digits(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('BRAINSTORM_DATA_DIR', str(tmp_path / 'nothing'))
    output = tmp_path / 'best.hdf5'
    result = load_example().main(['--epochs', '3', '--output', str(output)])
    out = capsys.readouterr().out
    assert 'embedded' in out
    assert 'Best validation accuracy:' in out
    assert 'Test accuracy of the best network' in out
    assert output.exists()
    assert result['Accuracy'] > 0.8      # 3 epochs already learn a lot
    net = bs.Network.from_hdf5(str(output))
    assert net.buffer['Hid1.parameters.W'].shape == (64, 1200)


def test_mnist_pi_reads_mnist_hdf5_from_the_data_dir(tmp_path, monkeypatch,
                                                     capsys):
    rnd = np.random.RandomState(0)
    with h5py.File(str(tmp_path / 'MNIST.hdf5'), 'w') as f:
        for split, n in (('training', 200), ('validation', 100),
                         ('test', 100)):
            f['normalized_split/{}/default'.format(split)] = rnd.rand(
                1, n, 28, 28, 1).astype(np.float32)
            f['normalized_split/{}/targets'.format(split)] = rnd.randint(
                0, 10, (1, n, 1))
    monkeypatch.setenv('BRAINSTORM_DATA_DIR', str(tmp_path))
    output = tmp_path / 'best.hdf5'
    load_example().main(['--epochs', '1', '--output', str(output)])
    assert 'MNIST.hdf5' in capsys.readouterr().out
    assert bs.Network.from_hdf5(str(output)).buffer[
        'Hid1.parameters.W'].shape == (784, 1200)
