"""A training job that the tests run as one process or as several ranks
under mpiexec (``python job.py SETTINGS_JSON``).

It trains a small classifier on fixed random data with ``bs.Trainer`` and
writes, into the folder ``report`` of the settings, ``rank<r>.npz`` (the
final parameters) and ``rank<r>.json`` (the trainer's logs, the
communicator); hooks that write files write into the working directory.
Settings (JSON object): stepper ('momentum' | 'adam'), dropout (bool),
batch (per rank), updates (stop after so many, or None) or epochs, files
(add MonitorScores, SaveBestNetwork, SaveLogs and SaveCheckpoint),
resume (a checkpoint to continue from), fail ('raise' | 'kill' at update
3 on rank fail_rank), hidden (units of the hidden layer; a dict
{rank: units} gives ranks different networks), samples (training
sequences, or {rank: n}).
"""
import json
import os
import signal
import sys

import numpy as np

import brainstorm as bs
from brainstorm import distributed


def per_rank(value, rank, default):
    if isinstance(value, dict):
        return value.get(str(rank), default)
    return default if value is None else value


def main():
    settings = json.loads(sys.argv[1])
    comm = distributed.world()
    rank = comm.rank
    rnd = np.random.RandomState(0)
    samples = per_rank(settings.get('samples'), rank, 400)
    x = rnd.randn(1, 400, 20).astype(np.float32)[:, :samples]
    t = rnd.randint(0, 5, (1, 400, 1)).astype(np.float32)[:, :samples]
    xv = rnd.randn(1, 150, 20).astype(np.float32)
    tv = rnd.randint(0, 5, (1, 150, 1)).astype(np.float32)

    bs.global_rnd.set_seed(1)
    inp, out = bs.tools.get_in_out_layers('classification', 20, 5)
    layers = inp
    if settings.get('dropout'):
        layers = layers >> bs.layers.Dropout(0.3)
    hidden = per_rank(settings.get('hidden'), rank, 16)
    net = bs.Network.from_layer(
        layers >> bs.layers.FullyConnected(hidden, activation='tanh') >>
        out)
    net.initialize(bs.initializers.Gaussian(0.3))
    if settings.get('stepper') == 'adam':
        stepper = bs.training.AdamStepper(learning_rate=0.01)
    else:
        stepper = bs.training.MomentumStepper(learning_rate=0.1,
                                              momentum=0.9)
    trainer = bs.Trainer(stepper, verbose=settings.get('verbose', False))
    getter = bs.data_iterators.Minibatches(batch_size=settings['batch'],
                                           shuffle=False, default=x,
                                           targets=t)
    getter_va = bs.data_iterators.Minibatches(batch_size=50, shuffle=False,
                                              default=xv, targets=tv)
    if settings.get('files'):
        trainer.add_hook(bs.hooks.MonitorScores(
            'valid_getter', [bs.scorers.Accuracy()], name='validation'))
        trainer.add_hook(bs.hooks.SaveBestNetwork(
            'validation.Accuracy', filename='best.hdf5', criterion='max'))
        trainer.add_hook(bs.hooks.SaveCheckpoint('ckpt_{epoch}.hdf5'))
        trainer.add_hook(bs.hooks.SaveLogs('logs.h5'))
    trainer.train_scorers = [bs.scorers.Accuracy()]
    fail = settings.get('fail')
    if fail:
        trainer.add_hook(FailAt(fail, settings.get('fail_rank', 1), rank))
    if settings.get('updates') is not None:
        trainer.add_hook(StopAfterUpdates(settings['updates']))
    else:
        trainer.add_hook(bs.hooks.StopAfterEpoch(settings['epochs']))
    if settings.get('resume'):
        trainer.resume(settings['resume'], net)
    trainer.train(net, getter, valid_getter=getter_va)

    report = settings['report']
    np.savez(os.path.join(report, 'rank{}.npz'.format(rank)),
             parameters=net.handler.get_numpy_copy(net.buffer.parameters))
    with open(os.path.join(report, 'rank{}.json'.format(rank)), 'w') as f:
        json.dump({'logs': trainer.logs, 'communicator': repr(comm),
                   'updates': trainer.current_update_nr}, f, default=float)


class StopAfterUpdates(bs.hooks.Hook):
    can_stop_training = True

    def __init__(self, updates):
        super().__init__(timescale='update', interval=1)
        self.updates = updates

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if update_nr >= self.updates:
            raise StopIteration()


class FailAt(bs.hooks.Hook):
    def __init__(self, how, fail_rank, rank):
        super().__init__(timescale='update', interval=1)
        self.how, self.fail_rank, self.rank = how, fail_rank, rank

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if update_nr == 3 and self.rank == self.fail_rank:
            if self.how == 'kill':
                os.kill(os.getpid(), signal.SIGKILL)
            raise RuntimeError('the disk of rank {} is on fire'.format(
                self.rank))


if __name__ == '__main__':
    main()
