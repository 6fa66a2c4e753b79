"""Trainer (manual 8.2) and steppers."""
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.data_iterators import DataIterator
from brainstorm.describable import create_from_description, get_description
from brainstorm.hooks import Hook
from brainstorm.testing.simple_layers import (TestAffine, TestSoftmaxLoss,
                                              use_simple_layers)


@pytest.fixture(autouse=True)
def layers():
    with use_simple_layers():
        yield


class Batches(DataIterator):
    def __init__(self, n_batches=3, B=4, seed=0):
        rnd = np.random.RandomState(seed)
        self.batches = [{'default': rnd.randn(1, B, 4).astype(np.float32),
                         'targets': rnd.randint(0, 2, (1, B, 1)).astype(
                             np.float32)} for _ in range(n_batches)]
        super().__init__({'default': (1, B * n_batches, 4)}, n_batches)

    def __call__(self, handler=None):
        yield from self.batches


class Recorder(Hook):
    can_stop_training = True

    def __init__(self, calls, stop_at=None, value=None, **kwargs):
        super().__init__(**kwargs)
        self.calls, self.stop_at, self.value = calls, stop_at, value

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        self.calls.append((self.__name__, epoch_nr, update_nr))
        if self.stop_at is not None and epoch_nr >= self.stop_at:
            raise StopIteration('enough')
        if self.value is not None:
            return {'value': self.value, 'nested': {'x': epoch_nr}}


def make_net():
    inp = bs.layers.Input({'default': ('T', 'B', 4),
                           'targets': ('T', 'B', 1)})
    out = TestSoftmaxLoss(name='Output')
    inp >> TestAffine(2, name='A') >> out
    inp - 'targets' >> 'targets' - out
    net = bs.Network.from_layer(out)
    net.initialize(0.1, seed=1)
    return net


def test_hooks_are_called_by_timescale_interval_and_order(capsys):
    calls = []
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=False)
    trainer.add_hook(Recorder(calls, name='first', value=1.5))
    trainer.add_hook(Recorder(calls, name='upd', timescale='update',
                              interval=2))
    trainer.add_hook(Recorder(calls, name='stop', stop_at=2))
    trainer.add_hook(Recorder(calls, name='after'))
    trainer.train(make_net(), Batches(3))
    assert calls == [('first', 0, 0), ('stop', 0, 0), ('after', 0, 0),
                     ('upd', 1, 2),
                     ('first', 1, 3), ('stop', 1, 3), ('after', 1, 3),
                     ('upd', 2, 4), ('upd', 2, 6),
                     ('first', 2, 6), ('stop', 2, 6), ('after', 2, 6)]
    assert trainer.current_epoch_nr == 2
    assert trainer.logs['first']['value'] == [1.5, 1.5, 1.5]
    assert trainer.logs['first']['nested']['x'] == [0, 1, 2]
    assert len(trainer.logs['rolling_training']['total_loss']) == 2
    assert capsys.readouterr().out == ''


def test_verbose_trainer_prints_logs(capsys):
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=True)
    trainer.add_hook(Recorder([], name='mon', value=0.25))
    trainer.add_hook(Recorder([], name='stop', stop_at=1))
    trainer.train(make_net(), Batches(2))
    out = capsys.readouterr().out
    assert 'mon:' in out and 'value: 0.25' in out and 'enough' in out


def test_duplicate_hook_name_raises():
    trainer = bs.Trainer(bs.training.SgdStepper())
    trainer.add_hook(Recorder([], name='x'))
    with pytest.raises(ValueError, match="'x'"):
        trainer.add_hook(Recorder([], name='x'))


def test_training_reduces_the_loss():
    net = make_net()
    trainer = bs.Trainer(bs.training.MomentumStepper(0.5, momentum=0.5),
                         verbose=False)
    trainer.add_hook(Recorder([], stop_at=30))
    trainer.train(net, Batches(3))
    losses = trainer.logs['rolling_training']['total_loss']
    assert losses[-1] < 0.7 * losses[0]


def stepper_run(stepper, grad_sequence, p0):
    """Run a stepper on a fake network whose gradient is given."""
    class FakeNet:
        handler = bs.handlers.NumpyHandler(np.float64)

        def __init__(self):
            self.buffer = type('B', (), {})()
            self.buffer.parameters = np.array(p0, dtype=np.float64)
            self.buffer.gradients = np.zeros_like(self.buffer.parameters)
            self.grads = iter(grad_sequence)
            self.seen = []

        def forward_pass(self, training_pass=False):
            self.seen.append(self.buffer.parameters.copy())

        def backward_pass(self):
            self.buffer.gradients[:] = next(self.grads)

        def apply_weight_modifiers(self):
            pass
    net = FakeNet()
    stepper.start(net)
    for _ in grad_sequence:
        stepper.run()
    return net


def test_sgd_momentum_and_nesterov_updates():
    g = [np.array([1.0, -2.0]), np.array([0.5, 0.5])]
    net = stepper_run(bs.training.SgdStepper(0.1), g, [0.0, 0.0])
    assert np.allclose(net.buffer.parameters, -0.1 * (g[0] + g[1]))

    net = stepper_run(bs.training.MomentumStepper(
        0.1, momentum=0.9, scale_learning_rate=False), g, [0.0, 0.0])
    v1 = -0.1 * g[0]
    v2 = 0.9 * v1 - 0.1 * g[1]
    assert np.allclose(net.buffer.parameters, v1 + v2)

    net = stepper_run(bs.training.MomentumStepper(0.1, momentum=0.9), g,
                      [0.0, 0.0])
    v1 = -0.01 * g[0]
    v2 = 0.9 * v1 - 0.01 * g[1]
    assert np.allclose(net.buffer.parameters, v1 + v2)

    net = stepper_run(bs.training.NesterovStepper(
        0.1, momentum=0.9, scale_learning_rate=False), g, [0.0, 0.0])
    # the second gradient is taken after the momentum step
    p1 = -0.1 * g[0]
    assert np.allclose(net.seen[1], p1 + 0.9 * (-0.1 * g[0]))
    assert np.allclose(net.buffer.parameters,
                       net.seen[1] - 0.1 * g[1])


def test_steppers_and_trainer_are_describable():
    for stepper in (bs.training.SgdStepper(0.3),
                    bs.training.MomentumStepper(0.2, momentum=0.8),
                    bs.training.NesterovStepper(0.1, momentum=0.5)):
        d = get_description(stepper)
        s2 = create_from_description(d)
        assert type(s2) is type(stepper)
        assert s2.learning_rate == stepper.learning_rate
    t = create_from_description(get_description(
        bs.Trainer(bs.training.SgdStepper(0.3), verbose=False)))
    assert t.stepper.learning_rate == 0.3 and t.verbose is False
    assert t.logs == {} and t.current_epoch_nr == 0


def test_global_seed_reseeds_the_handler_of_every_network():
    def mask():
        bs.global_rnd.set_seed(7)
        net = make_net()
        m = np.zeros((6, 6), dtype=np.float32)
        net.handler.generate_probability_mask(m, 0.5)
        return m
    first = mask()
    assert 0 < first.sum() < 36
    assert np.array_equal(first, mask())


# -- a training no hook can stop ----------------------------------------------

class Monitor(Hook):
    """A hook that stops nothing (can_stop_training is False) but ends the
    test's training anyway, after ``stop_after`` calls."""

    def __init__(self, stop_after=2, **kwargs):
        super().__init__(**kwargs)
        self.stop_after, self.count = stop_after, 0

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        self.count += 1
        if self.count >= self.stop_after:
            raise StopIteration('test over')


class Endless(Batches):
    """Batches again and again: one pass never ends."""

    def __init__(self):
        super().__init__(2)
        self.length = float('inf')

    def __call__(self, handler=None):
        while True:
            yield from self.batches


UNSTOPPABLE = (
    'Trainer.train: no hook can stop the training, so it runs until '
    'interrupted (Ctrl+C); add one, such as bs.hooks.StopAfterEpoch(10) (a '
    'hook of your own that stops training by raising StopIteration says so '
    'with the class attribute can_stop_training = True)')


def test_training_that_no_hook_can_stop_warns_at_the_start():
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=False)
    trainer.add_hook(Monitor())
    with pytest.warns(RuntimeWarning) as record:
        trainer.train(make_net(), Batches(2))
    assert [str(w.message) for w in record] == [UNSTOPPABLE]
    assert record[0].filename == __file__

    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=False)
    with pytest.warns(RuntimeWarning, match='no hook can stop the training'):
        with pytest.raises(KeyboardInterrupt):
            trainer.train(make_net(), Interrupting())


class Interrupting(Batches):
    """Stands in for the user's Ctrl+C during the first epoch."""

    def __call__(self, handler=None):
        yield self.batches[0]
        raise KeyboardInterrupt


def test_a_hook_that_can_stop_the_training_gives_no_warning(recwarn):
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=False)
    trainer.add_hook(Recorder([], stop_at=1))
    trainer.train(make_net(), Batches(2))
    assert not [w for w in recwarn if 'interrupted' in str(w.message)]


def test_an_endless_iterator_needs_an_update_hook_that_can_stop_it(recwarn):
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=False)
    trainer.add_hook(Recorder([], stop_at=1))      # epoch hook: never called
    trainer.add_hook(Monitor(3, timescale='update'))
    with pytest.warns(RuntimeWarning) as record:
        trainer.train(make_net(), Endless())
    assert [str(w.message) for w in record] == [
        "Trainer.train: the training data iterator never ends (length inf), "
        "so no epoch ends and only hooks with timescale='update' are called, "
        "but none of them can stop the training, so it runs until "
        "interrupted (Ctrl+C); add a hook that stops it with "
        "timescale='update', such as bs.hooks.EarlyStopper(..., "
        "timescale='update') (a hook of your own that stops training by "
        "raising StopIteration says so with the class attribute "
        "can_stop_training = True)"]
    assert trainer.current_update_nr == 3

    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=False)
    stopper = Recorder([], stop_at=1, timescale='update')
    trainer.add_hook(stopper)
    recwarn.clear()
    trainer.train(make_net(), Endless())
    assert not [w for w in recwarn if 'interrupted' in str(w.message)]
