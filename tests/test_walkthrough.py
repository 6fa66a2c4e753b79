"""The manual's walkthrough (chapter 2, cifar10_cnn.py) as written, on small
synthetic data in the CIFAR-10 HDF5 layout (16x16 images instead of 32x32
so it runs in seconds) whose classes the network can learn in a few
epochs."""
import os

import h5py
import numpy as np
import pytest

import brainstorm as bs


def separable_images(rnd, n):
    """Noise images (std 1) with a bright block (+100) in one quadrant of
    one channel: quadrant and channel tell the class (10 of the 12
    combinations). The block has to stand out against the walkthrough's
    small initial weights (Gaussian(0.01)) for two epochs of 15 updates to
    learn it."""
    targets = rnd.randint(0, 10, (1, n, 1))
    images = rnd.randn(1, n, 16, 16, 3)
    for i, k in enumerate(targets[0, :, 0]):
        row, col = 8 * (k // 6), 8 * (k // 3 % 2)
        images[0, i, row:row + 8, col:col + 8, k % 3] += 100.0
    return images.astype(np.float32), targets


@pytest.fixture
def cifar_like(tmp_path, monkeypatch):
    rnd = np.random.RandomState(0)
    with h5py.File(str(tmp_path / 'CIFAR-10.hdf5'), 'w') as f:
        for split, n in (('training', 300), ('validation', 100)):
            images, targets = separable_images(rnd, n)
            f['normalized_split/{}/default'.format(split)] = images
            f['normalized_split/{}/targets'.format(split)] = targets
    monkeypatch.setenv('BRAINSTORM_DATA_DIR', str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_walkthrough(cifar_like, capsys):
    from brainstorm.data_iterators import Minibatches
    from brainstorm.initializers import Gaussian

    bs.global_rnd.set_seed(42)

    data_dir = os.environ.get('BRAINSTORM_DATA_DIR', '../data')
    data_file = os.path.join(data_dir, 'CIFAR-10.hdf5')
    ds = h5py.File(data_file, 'r')['normalized_split']

    getter_tr = Minibatches(20, default=ds['training']['default'],
                            targets=ds['training']['targets'])
    getter_va = Minibatches(20, default=ds['validation']['default'],
                            targets=ds['validation']['targets'])

    inp, fc = bs.tools.get_in_out_layers('classification', (16, 16, 3), 10)

    (inp >>
     bs.layers.Convolution2D(32, kernel_size=(5, 5), padding=2,
                             name='Conv1') >>
     bs.layers.Pooling2D(type="max", kernel_size=(3, 3), stride=(2, 2)) >>
     bs.layers.Convolution2D(32, kernel_size=(5, 5), padding=2,
                             name='Conv2') >>
     bs.layers.Pooling2D(type="max", kernel_size=(3, 3), stride=(2, 2)) >>
     bs.layers.Convolution2D(64, kernel_size=(5, 5), padding=2,
                             name='Conv3') >>
     bs.layers.Pooling2D(type="max", kernel_size=(3, 3), stride=(2, 2)) >>
     bs.layers.FullyConnected(64, name='FC') >>
     fc)

    network = bs.Network.from_layer(fc)

    # The walkthrough moves the network to the GPU here with
    # network.set_handler(PyCudaHandler()). Where no GPU can be used, the
    # handler says what is missing and the walkthrough goes on with the
    # default NumpyHandler; where one can, it trains there.
    from brainstorm.handlers import PyCudaHandler
    from brainstorm_cuda import CudaUnavailableError, is_available
    if is_available():
        network.set_handler(PyCudaHandler())
    else:
        with pytest.raises(CudaUnavailableError, match='install|GPU|nvcc'):
            PyCudaHandler()

    network.initialize({'Conv*': {'W': Gaussian(0.01), 'bias': 0},
                        'FC': {'W': Gaussian(0.1), 'bias': 0},
                        'Output_projection': {'W': Gaussian(0.1), 'bias': 0}})

    trainer = bs.Trainer(bs.training.MomentumStepper(learning_rate=0.01,
                                                     momentum=0.9))
    trainer.add_hook(bs.hooks.ProgressBar())

    scorers = [bs.scorers.Accuracy(out_name='Output.outputs.predictions')]
    trainer.train_scorers = scorers
    trainer.add_hook(bs.hooks.MonitorScores('valid_getter', scorers,
                                            name='validation'))

    trainer.add_hook(bs.hooks.SaveBestNetwork('validation.Accuracy',
                                              filename='cifar10_cnn_best.hdf5',
                                              name='best weights',
                                              criterion='max'))

    trainer.add_hook(bs.hooks.StopAfterEpoch(2))

    trainer.train(network, getter_tr, valid_getter=getter_va)

    print("Best validation accuracy:",
          max(trainer.logs["validation"]["Accuracy"]))

    out = capsys.readouterr().out
    assert 'Best validation accuracy:' in out
    accuracy = trainer.logs['validation']['Accuracy']
    assert len(accuracy) == 3   # epochs 0-2
    assert len(trainer.logs['rolling_training']['Accuracy']) == 2
    # it learned: chance is 0.1, the untrained network is at chance
    assert accuracy[0] < 0.3
    assert accuracy[-1] > 0.7
    losses = trainer.logs['rolling_training']['total_loss']
    assert losses[-1] < 0.85 * losses[0]
    assert 'Best validation accuracy: {}'.format(max(accuracy)) in out

    best = bs.Network.from_hdf5('cifar10_cnn_best.hdf5')
    assert set(best.layers) == set(network.layers)
    assert best.buffer['Conv1.parameters.W'].shape == (32, 5, 5, 3)
    # the saved network is the trained one: its predictions on the
    # validation images are class probabilities scoring the best accuracy
    images = ds['validation']['default'][()]
    targets = ds['validation']['targets'][()]
    best.provide_external_data({'default': images, 'targets': targets})
    best.forward_pass()
    predictions = best.get('Output.outputs.predictions')
    assert predictions.shape == (1, 100, 10)
    np.testing.assert_allclose(predictions.sum(axis=-1), 1, rtol=1e-5)
    assert (predictions >= 0).all()
    assert np.mean(predictions.argmax(-1) == targets[..., 0]) == \
        pytest.approx(max(accuracy), abs=1e-9)
