"""Checkpoints: Trainer.save_checkpoint / resume / from_checkpoint continue a
training bit for bit (dropout masks, shuffling, stepper state, hook states,
logs), also after the training process was killed.

Run as a script (``python test_checkpoint.py DIR K``) this file trains in a
child process that writes a checkpoint after every epoch and kills itself
with SIGKILL at the first update of epoch K + 1.
"""
import json
import os
import signal
import subprocess
import sys
import types
import warnings
from collections import OrderedDict

import h5py
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.data_iterators import DataIterator
from brainstorm.describable import create_from_description, get_description
from brainstorm.hooks import Hook
from brainstorm.layers.base_layer import (BufferStructure, Layer,
                                          construction_function)
from brainstorm.plugins import hookimpl, registry
from brainstorm.scorers import Scorer, gather_losses_and_scores
from brainstorm.testing.simple_layers import (TestAffine, TestSoftmaxLoss,
                                              use_simple_layers)
from brainstorm.training.checkpoint import (decode_values, encode_values,
                                            get_random_state,
                                            set_random_state)


# -- a dropout layer, a shuffling iterator, hooks with state -----------------
class TestDropoutLayerImpl(Layer):
    """Inverted dropout (keeps units with probability 0.5)."""

    __test__ = False

    def setup(self, kwargs, in_shapes):
        feature = in_shapes['default'].feature_size
        outputs = OrderedDict(default=BufferStructure('T', 'B', feature))
        internals = OrderedDict(mask=BufferStructure('T', 'B', feature))
        return outputs, OrderedDict(), internals

    def forward_pass(self, buffers, training_pass=True):
        h, mask = self.handler, buffers.internals.mask
        if training_pass:
            h.generate_probability_mask(mask, 0.5)
            h.mult_st(2.0, mask, mask)
        else:
            h.fill(mask, 1.0)
        h.mult_tt(buffers.inputs.default, mask, buffers.outputs.default)

    def backward_pass(self, buffers):
        self.handler.mult_add_tt(buffers.output_deltas.default,
                                 buffers.internals.mask,
                                 buffers.input_deltas.default)


@construction_function(TestDropoutLayerImpl)
def TestDropout(name=None):
    """Dropout for these tests."""


class Shuffled(DataIterator):
    """Batches of 4 of 20 sequences, in an order shuffled in every pass by a
    generator drawn from bs.global_rnd."""

    def __init__(self, seed=0, B=20, batch_size=4):
        rnd = np.random.RandomState(seed)
        self.x = rnd.randn(1, B, 4)
        self.y = rnd.randint(0, 3, (1, B, 1)).astype(float)
        self.batch_size = batch_size
        self.rnd = bs.global_rnd.create_random_state()
        super().__init__({'default': self.x.shape}, B // batch_size)

    def get_checkpoint_state(self):
        return {'rnd': get_random_state(self.rnd)}

    def set_checkpoint_state(self, state):
        set_random_state(self.rnd, state['rnd'])

    def __call__(self, handler=None):
        for i in self.rnd.permutation(self.length):
            s = slice(i * self.batch_size, (i + 1) * self.batch_size)
            yield {'default': self.x[:, s], 'targets': self.y[:, s]}


class Fixed(DataIterator):
    """The same batches in every pass (no checkpoint state)."""

    def __init__(self, seed=5):
        rnd = np.random.RandomState(seed)
        self.batches = [{'default': rnd.randn(1, 3, 4),
                         'targets': rnd.randint(0, 3, (1, 3, 1)).astype(
                             float)} for _ in range(2)]
        super().__init__({'default': (1, 6, 4)}, 2)

    def __call__(self, handler=None):
        yield from self.batches


class Validation(Hook):
    """Logs the loss on the iterator 'valid' (numpy float32 and a tuple in
    the logs, to check that their types survive)."""

    def start(self, net, stepper, verbose, named_data_iters):
        super().start(net, stepper, verbose, named_data_iters)
        self.iterator = named_data_iters['valid']

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        loss = gather_losses_and_scores(net, [], self.iterator)['total_loss']
        return {'loss': np.float32(loss), 'where': (epoch_nr, update_nr)}


class Patience(Hook):
    """A hook with running state: counts calls since the training loss last
    improved, and logs it."""

    __undescribed__ = {'best': None, 'waited': 0}

    def __init__(self, name=None, timescale='epoch', interval=1):
        super().__init__(name, timescale, interval)
        self.best, self.waited = None, 0

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        losses = logs.get('rolling_training', {}).get('total_loss', [])
        if losses and (self.best is None or losses[-1] < self.best):
            self.best, self.waited = losses[-1], 0
        else:
            self.waited += 1
        return {'waited': self.waited}

    def get_checkpoint_state(self):
        return {'best': self.best, 'waited': self.waited}

    def set_checkpoint_state(self, state):
        self.best, self.waited = state['best'], state['waited']


class Checkpoint(Hook):
    """Asks the trainer for a checkpoint (as brainstorm-hooks'
    SaveCheckpoint does)."""

    def __init__(self, filename, name=None, timescale='epoch', interval=1):
        super().__init__(name, timescale, interval)
        self.filename = filename

    def attach_trainer(self, trainer):
        self.trainer = trainer

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        self.trainer.save_checkpoint(self.filename.format(epoch=epoch_nr,
                                                          update=update_nr))


Checkpoint.__undescribed__ = {'trainer': None}


class StopAt(Hook):
    can_stop_training = True

    def __init__(self, epochs, name=None):
        super().__init__(name)
        self.epochs = epochs

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if epoch_nr >= self.epochs:
            raise StopIteration('done')


class KillAt(Hook):
    """Kills its own process with SIGKILL at update ``update``."""

    def __init__(self, update):
        super().__init__(timescale='update')
        self.update = update

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if update_nr == self.update:
            os.kill(os.getpid(), signal.SIGKILL)


class Closeness(Scorer):
    """Mean predicted probability of the target class."""

    def __call__(self, true_labels, predicted, mask=None):
        index = true_labels.astype(int).reshape(-1)
        flat = predicted.reshape(len(index), -1)
        return np.float32(flat[np.arange(len(index)), index].mean())


PLUGIN = types.SimpleNamespace(
    brainstorm_layers=hookimpl(lambda: [TestDropout]),
    brainstorm_hooks=hookimpl(lambda: [Patience, StopAt, Checkpoint]),
    brainstorm_scorers=hookimpl(lambda: [Closeness]))


@pytest.fixture(autouse=True)
def plugins():
    with use_simple_layers():
        registry.register_module(PLUGIN, 'test-checkpoint')
        try:
            yield
        finally:
            registry.unregister_module('test-checkpoint')


STEPPERS = {
    'momentum': lambda: bs.training.MomentumStepper(0.5, momentum=0.9),
    'adam': lambda: bs.training.AdamStepper(0.05),
    'nesterov': lambda: bs.training.NesterovStepper(0.3, momentum=0.5),
    'rmsprop': lambda: bs.training.RmsPropStepper(0.01)}


def setup(stepper='adam', epochs=4):
    """Network, trainer (with stateful hooks) and iterators of one run."""
    bs.global_rnd.set_seed(11)
    inp = bs.layers.Input({'default': ('T', 'B', 4),
                           'targets': ('T', 'B', 1)})
    out = TestSoftmaxLoss(name='Output')
    inp >> TestAffine(6, name='A') >> TestDropout(name='Drop') >> \
        TestAffine(3, name='B') >> out
    inp - 'targets' >> 'targets' - out
    net = bs.Network.from_layer(out)
    n = net.buffer_manager.num_parameters
    net.set_parameters(np.random.RandomState(3).randn(n) * 0.5)
    trainer = bs.Trainer(STEPPERS[stepper](), verbose=False)
    trainer.train_scorers = [Closeness()]
    trainer.add_hook(Validation())
    trainer.add_hook(Patience(name='patience'))
    trainer.add_hook(Patience(name='patience_upd', timescale='update',
                              interval=3))
    trainer.add_hook(StopAt(epochs))
    iters = {'training_data_iter': Shuffled(), 'valid': Shuffled(seed=1)}
    return net, trainer, iters


def train(net, trainer, iters):
    iters = dict(iters)
    trainer.train(net, iters.pop('training_data_iter'), **iters)


def uninterrupted(stepper='adam', epochs=4):
    net, trainer, iters = setup(stepper, epochs)
    train(net, trainer, iters)
    return net.get('parameters'), trainer.logs, bs.global_rnd.randint(2**30)


def assert_same_run(net, trainer, reference):
    params, logs, global_draw = reference
    assert np.array_equal(net.get('parameters'), params)
    assert trainer.logs == logs
    assert bs.global_rnd.randint(2**30) == global_draw
    # numpy types in the logs survive
    assert type(trainer.logs['Validation']['loss'][-1]) is np.float32
    assert type(trainer.logs['rolling_training']['Closeness'][-1]) is \
        type(logs['rolling_training']['Closeness'][-1])


# -- resuming gives the uninterrupted run -------------------------------------
@pytest.mark.parametrize('stepper', sorted(STEPPERS))
def test_resume_after_an_epoch_is_bit_exact(tmp_path, stepper):
    reference = uninterrupted(stepper)
    path = str(tmp_path / 'ckpt_{epoch}.h5')

    net, trainer, iters = setup(stepper, epochs=2)
    trainer.add_hook(Checkpoint(path))
    train(net, trainer, iters)
    assert not np.array_equal(net.get('parameters'), reference[0])

    net, trainer, iters = setup(stepper)
    trainer.add_hook(Checkpoint(path))
    trainer.resume(path.format(epoch=2), net)
    assert (trainer.current_epoch_nr, trainer.current_update_nr) == (2, 10)
    assert trainer.logs['patience']['waited'] == \
        reference[1]['patience']['waited'][:3]
    train(net, trainer, iters)
    assert_same_run(net, trainer, reference)


def test_resume_in_the_middle_of_an_epoch_is_bit_exact(tmp_path):
    reference = uninterrupted('momentum')
    path = str(tmp_path / 'ckpt_{update}.h5')
    net, trainer, iters = setup('momentum', epochs=3)
    trainer.add_hook(Checkpoint(path, timescale='update', interval=7))
    train(net, trainer, iters)
    for update in (7, 14):   # epoch 2, update 2 of 5 / epoch 3, 4 of 5
        net, trainer, iters = setup('momentum')
        trainer.resume(path.format(update=update), net)
        assert trainer.current_update_nr == update
        train(net, trainer, iters)
        assert_same_run(net, trainer, reference)


def test_resume_from_epoch_0_and_resume_again(tmp_path):
    reference = uninterrupted('rmsprop', epochs=3)
    path = str(tmp_path / 'ckpt.h5')
    net, trainer, iters = setup('rmsprop', epochs=0)
    trainer.add_hook(Checkpoint(path))
    train(net, trainer, iters)
    assert trainer.logs['patience']['waited'] == [1]
    for stop in (1, 3):   # resume, stop, resume from the new checkpoint
        net, trainer, iters = setup('rmsprop', epochs=stop)
        trainer.add_hook(Checkpoint(path))
        trainer.resume(path, net)
        train(net, trainer, iters)
    assert_same_run(net, trainer, reference)


def test_checkpoint_written_after_train_returns(tmp_path):
    reference = uninterrupted('adam', epochs=3)
    net, trainer, iters = setup('adam', epochs=1)
    train(net, trainer, iters)
    trainer.save_checkpoint(str(tmp_path / 'end.h5'))
    net, trainer, iters = setup('adam', epochs=3)
    trainer.resume(str(tmp_path / 'end.h5'), net)
    train(net, trainer, iters)
    assert_same_run(net, trainer, reference)


def test_from_checkpoint_recreates_trainer_and_network(tmp_path):
    reference = uninterrupted('momentum')
    path = str(tmp_path / 'ckpt.h5')
    net, trainer, iters = setup('momentum', epochs=2)
    trainer.add_hook(Checkpoint(path, name='ckpt'))
    train(net, trainer, iters)

    bs.global_rnd.set_seed(999)   # other random states: all are restored
    iters = {'training_data_iter': Shuffled(), 'valid': Shuffled(seed=1)}
    with pytest.warns(RuntimeWarning, match="'Validation'"):
        trainer, net = bs.Trainer.from_checkpoint(path)
    assert list(trainer.hooks) == ['patience', 'patience_upd', 'StopAt',
                                   'ckpt']
    assert trainer.hooks['ckpt'].filename == path
    assert type(trainer.stepper) is bs.training.MomentumStepper
    assert trainer.stepper.momentum == 0.9 and trainer.verbose is False
    assert [type(s) for s in trainer.train_scorers] == [Closeness]
    # the hook that could not be described is added again by hand
    validation = Validation()
    trainer.add_hook(validation)
    trainer.hooks.move_to_end('Validation', last=False)
    trainer.hooks['StopAt'].epochs = 4
    train(net, trainer, iters)
    assert_same_run(net, trainer, reference)


def test_resume_restores_changed_stepper_attributes(tmp_path):
    net, trainer, iters = setup('adam', epochs=1)
    trainer.stepper.learning_rate = 0.125   # as a schedule would
    trainer.add_hook(Checkpoint(str(tmp_path / 'c.h5')))
    train(net, trainer, iters)
    net, trainer, iters = setup('adam')
    trainer.resume(str(tmp_path / 'c.h5'), net)
    assert trainer.stepper.learning_rate == 0.125


def test_a_checkpoint_is_a_network_file(tmp_path):
    path = str(tmp_path / 'ckpt.h5')
    net, trainer, iters = setup('adam', epochs=1)
    trainer.add_hook(Checkpoint(path))
    train(net, trainer, iters)
    loaded = bs.Network.from_hdf5(path)
    assert np.array_equal(loaded.get('parameters'), net.get('parameters'))
    with h5py.File(path, 'r') as f:
        group = f['checkpoint']
        assert group.attrs['format'] == 'brainstorm-checkpoint'
        assert group.attrs['format_version'] == 1
        position = json.loads(group.attrs['trainer'])['position']
        assert (position['epoch'], position['update']) == (1, 5)
        assert json.loads(group.attrs['stepper'])['@type'] == 'AdamStepper'
        assert int(group['stepper/t'][()]) == 5
        assert np.array_equal(group['stepper/m'][()],
                              trainer.stepper.get_state()['m'])
        hooks = json.loads(group.attrs['hooks'])
        assert [h['name'] for h in hooks] == [
            'Validation', 'patience', 'patience_upd', 'StopAt', 'Checkpoint']
        assert hooks[1]['state']['waited'] == 0
        assert hooks[1]['description'] == {'@type': 'Patience',
                                           'name': 'patience'}
        assert hooks[0]['description'] is None   # holds an iterator
        random = json.loads(group.attrs['random'])
        assert set(random['iterators']) == {'training_data_iter', 'valid'}
    assert os.listdir(str(tmp_path)) == ['ckpt.h5']   # no temporary files


def test_checkpoint_holds_the_logs_of_later_hooks_of_the_round(tmp_path):
    path = str(tmp_path / 'ckpt.h5')
    net, trainer, iters = setup('adam', epochs=1)
    trainer.hooks.move_to_end('Validation')   # after the checkpoint hook
    trainer.add_hook(Checkpoint(path))
    trainer.hooks.move_to_end('Validation')
    train(net, trainer, iters)
    net, trainer2, iters = setup('adam')
    trainer2.resume(path, net)
    assert trainer2.logs == trainer.logs
    assert len(trainer2.logs['Validation']['loss']) == 2


# -- errors and warnings ------------------------------------------------------
def test_save_checkpoint_before_train_raises(tmp_path):
    trainer = bs.Trainer(bs.training.SgdStepper())
    with pytest.raises(RuntimeError, match='before train'):
        trainer.save_checkpoint(str(tmp_path / 'x.h5'))


@pytest.fixture
def checkpoint(tmp_path):
    path = str(tmp_path / 'ckpt.h5')
    net, trainer, iters = setup('adam', epochs=1)
    trainer.add_hook(Checkpoint(path))
    train(net, trainer, iters)
    return path


def test_resume_refuses_another_architecture(checkpoint):
    inp = bs.layers.Input({'default': ('T', 'B', 4),
                           'targets': ('T', 'B', 1)})
    out = TestSoftmaxLoss(name='Output')
    inp >> TestAffine(3, name='A') >> out
    inp - 'targets' >> 'targets' - out
    trainer = bs.Trainer(bs.training.AdamStepper())
    with pytest.raises(ValueError, match='does not have the architecture of '
                                         'the one saved in .*ckpt.h5'):
        trainer.resume(checkpoint, bs.Network.from_layer(out))


def test_resume_refuses_another_stepper(checkpoint):
    net, _, _ = setup('adam')
    trainer = bs.Trainer(bs.training.MomentumStepper())
    with pytest.raises(ValueError, match='saved with a AdamStepper, but this '
                                         'trainer has a MomentumStepper'):
        trainer.resume(checkpoint, net)


def test_resume_refuses_a_network_file(tmp_path):
    net, trainer, _ = setup()
    net.save_as_hdf5(str(tmp_path / 'net.h5'))
    with pytest.raises(ValueError, match='net.h5 is not a brainstorm '
                                         'checkpoint'):
        trainer.resume(str(tmp_path / 'net.h5'), net)


def test_train_refuses_another_network_after_resume(checkpoint):
    net, trainer, iters = setup('adam')
    trainer.resume(checkpoint, net)
    other, _, _ = setup('adam')
    with pytest.raises(ValueError, match='another network'):
        trainer.train(other, iters['training_data_iter'],
                      valid=iters['valid'])


def test_missing_hooks_and_iterators_are_reported(checkpoint):
    net, trainer, iters = setup('adam', epochs=2)
    del trainer.hooks['patience']
    with pytest.warns(RuntimeWarning) as record:
        trainer.resume(checkpoint, net)
        trainer.train(net, iters['training_data_iter'], valid=Fixed())
    messages = [str(w.message) for w in record]
    assert any("hook(s) 'patience'" in m for m in messages)
    assert any("iterator 'valid', but it has no set_checkpoint_state" in m
               for m in messages)


def test_interrupted_write_keeps_the_previous_checkpoint(tmp_path,
                                                          monkeypatch):
    path = str(tmp_path / 'ckpt.h5')
    net, trainer, iters = setup('adam', epochs=1)
    trainer.add_hook(Checkpoint(path))
    train(net, trainer, iters)
    before = open(path, 'rb').read()

    def fail(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, 'replace', fail)
    with pytest.raises(KeyboardInterrupt):
        trainer.save_checkpoint(path)
    assert open(path, 'rb').read() == before
    assert os.listdir(str(tmp_path)) == ['ckpt.h5']


# -- pieces -------------------------------------------------------------------
def test_hook_base_has_an_empty_checkpoint_state():
    hook = StopAt(3)
    assert hook.get_checkpoint_state() == {}
    hook.set_checkpoint_state({'anything': 1})
    assert get_description(hook) == {'@type': 'StopAt', 'epochs': 3}


def test_values_keep_their_numpy_types_through_json():
    value = {'f32': np.float32(0.1), 'f64': 0.1, 'nan': float('nan'),
             'arr': np.arange(6, dtype=np.int16).reshape(2, 3),
             'tuple': (1, np.float64(2.5)), '@odd': {'@scalar': 'x'},
             'nested': [OrderedDict(b=1, a=2)]}
    decoded = decode_values(json.loads(json.dumps(encode_values(value))))
    assert set(decoded) == set(value)
    assert type(decoded['f32']) is np.float32 and \
        decoded['f32'] == np.float32(0.1)
    assert np.isnan(decoded['nan'])
    assert decoded['arr'].dtype == np.int16 and \
        np.array_equal(decoded['arr'], value['arr'])
    assert decoded['tuple'] == (1, 2.5) and \
        type(decoded['tuple'][1]) is np.float64
    assert decoded['@odd'] == {'@scalar': 'x'}
    assert list(decoded['nested'][0]) == ['b', 'a']
    with pytest.raises(TypeError, match='object'):
        encode_values({'x': object()})
    with pytest.raises(TypeError, match='keys must be str'):
        encode_values({1: 2})


def test_random_states_round_trip_with_the_fast_generator():
    rnd = bs.global_rnd.create_random_state(5)
    rnd.randn(3)
    rnd.generator.random(4)
    state = json.loads(json.dumps(get_random_state(rnd)))
    expected = rnd.randn(5), rnd.generator.random(5), rnd.get_seed()
    other = bs.global_rnd.create_random_state(6)
    set_random_state(other, state)
    assert np.array_equal(other.randn(5), expected[0])
    assert np.array_equal(other.generator.random(5), expected[1])
    assert other.get_seed() == 5
    fresh = bs.global_rnd.create_random_state(7)
    state = get_random_state(fresh)
    assert state['generator'] is None
    fresh.generator.random(1)
    set_random_state(fresh, state)
    assert fresh._generator is None


def test_descriptions_of_a_trainer_leave_out_checkpoint_bookkeeping(
        checkpoint):
    net, trainer, iters = setup('adam')
    trainer.resume(checkpoint, net)
    trainer.hooks.clear()
    description = get_description(trainer)
    assert set(description) == {'@type', 'stepper', 'verbose', 'hooks',
                                'train_scorers'}
    loaded = create_from_description(description)
    assert loaded._resume is None and loaded._net is None


# -- a killed process ---------------------------------------------------------
def child(directory, kill_epoch):
    net, trainer, iters = setup('momentum', epochs=6)
    trainer.add_hook(Checkpoint(os.path.join(directory, 'ckpt.h5')))
    updates_per_epoch = iters['training_data_iter'].length
    trainer.add_hook(KillAt(kill_epoch * updates_per_epoch + 1))
    train(net, trainer, iters)


def test_resume_after_the_process_was_killed(tmp_path):
    kill_epoch = 2
    result = subprocess.run([sys.executable, __file__, str(tmp_path),
                             str(kill_epoch)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == -signal.SIGKILL, result.stderr
    reference = uninterrupted('momentum', epochs=6)
    net, trainer, iters = setup('momentum', epochs=6)
    trainer.add_hook(Checkpoint(str(tmp_path / 'ckpt.h5')))
    trainer.resume(str(tmp_path / 'ckpt.h5'), net)
    assert trainer.current_epoch_nr == kill_epoch
    train(net, trainer, iters)
    assert_same_run(net, trainer, reference)


if __name__ == '__main__':
    warnings.simplefilter('error')
    with use_simple_layers():
        registry.register_module(PLUGIN, 'test-checkpoint')
        child(sys.argv[1], int(sys.argv[2]))
