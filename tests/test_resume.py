"""Resumed training equals uninterrupted training bit for bit, with the real
pieces: Dropout masks, shuffled Minibatches, monitors, SaveCheckpoint, and
a training process killed with SIGKILL.

Run as a script (``python test_resume.py DIR STEPPER K``) this file trains
in a child process that kills itself at the first update after epoch K.
"""
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.data_iterators import Minibatches

STEPPERS = {
    'momentum': lambda: bs.training.MomentumStepper(0.3, momentum=0.9),
    'adam': lambda: bs.training.AdamStepper(0.01)}


def setup(stepper, epochs, checkpoint=None, **checkpoint_kwargs):
    bs.global_rnd.set_seed(42)
    rnd = np.random.RandomState(0)
    x = rnd.rand(1, 30, 6).astype(np.float32)
    y = rnd.randint(0, 3, (1, 30, 1))
    inp, fc = bs.tools.get_in_out_layers('classification', 6, 3)
    net = bs.Network.from_layer(inp >> bs.layers.FullyConnected(8) >>
                                bs.layers.Dropout(0.5) >> fc)
    net.initialize(bs.initializers.Gaussian(0.3))
    trainer = bs.Trainer(STEPPERS[stepper](), verbose=False)
    trainer.add_hook(bs.hooks.MonitorLoss('valid_getter', name='validation'))
    if checkpoint is not None:
        trainer.add_hook(bs.hooks.SaveCheckpoint(checkpoint,
                                                 **checkpoint_kwargs))
    trainer.add_hook(bs.hooks.StopAfterEpoch(epochs))
    iters = {'training': Minibatches(7, default=x, targets=y),
             'valid_getter': Minibatches(8, default=x, targets=y)}
    return net, trainer, iters


def train(net, trainer, iters):
    trainer.train(net, iters['training'], valid_getter=iters['valid_getter'])


def uninterrupted(stepper, epochs=4):
    net, trainer, iters = setup(stepper, epochs)
    train(net, trainer, iters)
    return net.get('parameters'), trainer.logs


@pytest.mark.parametrize('stepper', sorted(STEPPERS))
@pytest.mark.parametrize('timescale, interval, at', [('epoch', 1, 2),
                                                     ('update', 3, 9)])
def test_resumed_training_equals_uninterrupted(tmp_path, stepper, timescale,
                                               interval, at):
    params, logs = uninterrupted(stepper)
    path = str(tmp_path / ('ckpt_{%s}.h5' % timescale))
    net, trainer, iters = setup(stepper, 2, path, timescale=timescale,
                                interval=interval)
    train(net, trainer, iters)

    net, trainer, iters = setup(stepper, 4, path, timescale=timescale,
                                interval=interval)
    trainer.resume(path.format(**{timescale: at}), net)
    train(net, trainer, iters)
    assert np.array_equal(net.get('parameters'), params)
    assert trainer.logs == logs


def test_training_continues_from_checkpoint_alone(tmp_path):
    params, logs = uninterrupted('adam')
    path = str(tmp_path / 'ckpt.h5')
    net, trainer, iters = setup('adam', 2, path)
    train(net, trainer, iters)

    _, _, iters = setup('adam', 4)   # the same data, new iterators
    trainer, net = bs.Trainer.from_checkpoint(path)
    assert list(trainer.hooks) == ['validation', 'SaveCheckpoint',
                                   'StopAfterEpoch']
    trainer.hooks['StopAfterEpoch'].max_epochs = 4
    train(net, trainer, iters)
    assert np.array_equal(net.get('parameters'), params)
    assert trainer.logs == logs


def child(directory, stepper, kill_epoch):
    net, trainer, iters = setup(stepper, 4,
                                os.path.join(directory, 'ckpt.h5'))

    class Kill(bs.hooks.StopAfterEpoch):
        def __call__(self, epoch_nr, update_nr, net, stepper, logs):
            if epoch_nr > kill_epoch:
                os.kill(os.getpid(), signal.SIGKILL)

    trainer.add_hook(Kill(0, name='kill', timescale='update'))
    train(net, trainer, iters)


@pytest.mark.parametrize('stepper', sorted(STEPPERS))
def test_resume_after_the_process_was_killed(tmp_path, stepper):
    result = subprocess.run(
        [sys.executable, __file__, str(tmp_path), stepper, '2'],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert sorted(os.listdir(str(tmp_path))) == ['ckpt.h5']
    params, logs = uninterrupted(stepper)
    net, trainer, iters = setup(stepper, 4, str(tmp_path / 'ckpt.h5'))
    trainer.resume(str(tmp_path / 'ckpt.h5'), net)
    assert trainer.current_epoch_nr == 2
    train(net, trainer, iters)
    assert np.array_equal(net.get('parameters'), params)
    assert trainer.logs == logs


if __name__ == '__main__':
    child(sys.argv[1], sys.argv[2], int(sys.argv[3]))
