"""Stoppers: EarlyStopper, StopAfterThresholdReached, StopOnNan and
StopOnSigQuit inside Trainer.train, their messages, descriptions and
checkpoint states."""
import gc
import json
import math
import os
import signal

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.hooks import Hook
from brainstorm_hooks.logs import MissingLogError
from brainstorm_hooks.stoppers import (EarlyStopper, StopAfterEpoch,
                                       StopAfterThresholdReached, StopOnNan,
                                       StopOnSigQuit)


def run(trainer, net, train_iter, *hooks, max_epochs=20, **iters):
    for hook in hooks:
        trainer.add_hook(hook)
    trainer.add_hook(StopAfterEpoch(max_epochs))
    trainer.train(net, train_iter, **iters)
    return trainer


def test_registry_names():
    for cls in (EarlyStopper, StopAfterThresholdReached, StopOnNan,
                StopOnSigQuit):
        assert getattr(bs.hooks, cls.__name__) is cls
        assert bs.registry.provider('hooks', cls.__name__) == \
            'brainstorm-hooks'


# -- EarlyStopper ------------------------------------------------------------
def test_early_stopper_min_stops_after_patience_epochs(net, train_iter,
                                                       trainer, helpers):
    values = [5, 4, 3, 3.5, 3.2, 3.1, 1]
    stopper = EarlyStopper('mon.value', patience=3)
    run(trainer, net, train_iter, helpers.Scripted(values), stopper)
    # best 3 at epoch 2; epochs 3, 4, 5 bring no improvement
    assert trainer.current_epoch_nr == 5
    assert (stopper.best_value, stopper.best_epoch, stopper.since_best) == \
        (3.0, 2, 3)


def test_early_stopper_max_on_nested_log(net, train_iter, trainer, helpers):
    values = [0.1, 0.5, 0.4, 0.6, 0.6, 0.55, 0.58, 0.9]
    stopper = EarlyStopper('mon.nested.value', patience=3, criterion='max')
    run(trainer, net, train_iter, helpers.Scripted(values), stopper)
    # best 0.6 at epoch 3; an equal value is no improvement
    assert trainer.current_epoch_nr == 6
    assert stopper.best_value == 0.6 and stopper.best_epoch == 3


def test_early_stopper_default_patience_is_one_and_criterion_min(
        net, train_iter, trainer, helpers):
    stopper = EarlyStopper('mon.value')
    assert (stopper.patience, stopper.criterion) == (1, 'min')
    run(trainer, net, train_iter, helpers.Scripted([3, 2, 2.5, 1]), stopper)
    assert trainer.current_epoch_nr == 2


def test_early_stopper_counts_log_updates_not_calls(net, train_iter,
                                                    trainer, helpers):
    """Called after every update, it still waits for `patience` new values
    of the epoch-wise log (3 updates per epoch)."""
    stopper = EarlyStopper('mon.value', patience=2, timescale='update')
    run(trainer, net, train_iter, helpers.Scripted([5, 4, 4, 4, 4]),
        stopper)
    # values of epochs 2 and 3 do not improve; the update hook sees the
    # value of epoch 3 at update 10, the first of epoch 4
    assert (trainer.current_epoch_nr, trainer.current_update_nr) == (4, 10)
    # the value 4 logged at epoch 1 was seen at update 4, in epoch 2
    assert (stopper.best_epoch, stopper.best_update) == (2, 4)


def test_early_stopper_with_interval(net, train_iter, trainer, helpers):
    stopper = EarlyStopper('mon.value', patience=2, interval=2)
    run(trainer, net, train_iter, helpers.Scripted([5, 4, 4, 4, 4]),
        stopper)
    # called at epochs 0, 2, 4: two values (epochs 3, 4) without
    # improvement are seen at epoch 4
    assert trainer.current_epoch_nr == 4


def test_early_stopper_nan_is_never_an_improvement(net, train_iter, trainer,
                                                   helpers):
    stopper = EarlyStopper('mon.value', patience=2)
    run(trainer, net, train_iter,
        helpers.Scripted([1.0, math.nan, math.nan, 0.5]), stopper)
    assert trainer.current_epoch_nr == 2
    assert stopper.best_value == 1.0


def test_early_stopper_message(net, train_iter, helpers, capsys):
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=True)
    run(trainer, net, train_iter, helpers.Scripted([3, 2, 2.5]),
        EarlyStopper('mon.value', name='early'))
    out = capsys.readouterr().out
    assert 'early >> mon.value did not improve for 1 log updates ' \
        '(best: 2 at epoch 1, update 3)' in out


def test_early_stopper_on_rolling_training_loss(net, train_iter, trainer):
    stopper = EarlyStopper('rolling_training.total_loss', patience=1)
    run(trainer, net, train_iter, stopper, max_epochs=3)
    losses = trainer.logs['rolling_training']['total_loss']
    assert stopper.best_value == min(losses)
    assert stopper.seen == len(losses) == 3


def test_early_stopper_missing_log_names_it(net, train_iter, trainer,
                                            helpers):
    with pytest.raises(MissingLogError, match="'mon.valeu'.*mon.value"):
        run(trainer, net, train_iter, helpers.Scripted([1]),
            EarlyStopper('mon.valeu'))


@pytest.mark.parametrize('kwargs, match', [
    ({'log_name': 'validation'}, "EarlyStopper: log_name must be"),
    ({'log_name': 'v.a', 'patience': 0}, 'EarlyStopper: patience must be'),
    ({'log_name': 'v.a', 'patience': 1.5}, 'patience'),
    ({'log_name': 'v.a', 'criterion': 'best'},
     "EarlyStopper: criterion must be 'max' or 'min', got 'best'"),
])
def test_early_stopper_checks_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EarlyStopper(**kwargs)


def test_early_stopper_checkpoint_state(net, train_iter, trainer, helpers):
    values = [5, 4, 3, 3.5, 3.2, 3.1]
    first = EarlyStopper('mon.value', patience=3)
    run(trainer, net, train_iter, helpers.Scripted(values), first,
        max_epochs=3)
    state = first.get_checkpoint_state()
    assert state == {'seen': 4, 'best_value': 3.0, 'best_epoch': 2,
                     'best_update': 6, 'since_best': 1}
    resumed = EarlyStopper('mon.value', patience=3)
    resumed.set_checkpoint_state(json.loads(json.dumps(state)))
    logs = {'mon': {'value': values[:5]}}
    assert resumed(4, 12, net, None, logs) is None      # since_best 2
    logs['mon']['value'].append(3.1)
    with pytest.raises(StopIteration, match='did not improve for 3'):
        resumed(5, 15, net, None, logs)
    assert resumed.best_epoch == 2


# -- StopAfterThresholdReached ------------------------------------------------
def test_threshold_min_is_inclusive(net, train_iter, trainer, helpers):
    run(trainer, net, train_iter, helpers.Scripted([0.5, 0.3, 0.2, 0.1]),
        StopAfterThresholdReached('mon.value', threshold=0.2))
    assert trainer.current_epoch_nr == 2


def test_threshold_max(net, train_iter, helpers, capsys):
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=True)
    run(trainer, net, train_iter,
        helpers.Scripted([0.5, 0.9, 0.96, 0.975, 0.99]),
        StopAfterThresholdReached('mon.nested.value', threshold=0.97,
                                  criterion='max'))
    assert trainer.current_epoch_nr == 3
    assert 'StopAfterThresholdReached >> mon.nested.value reached 0.975 ' \
        '(threshold >= 0.97)' in capsys.readouterr().out


def test_threshold_never_reached_does_not_stop(net, train_iter, trainer,
                                               helpers):
    run(trainer, net, train_iter, helpers.Scripted([0.5, 0.4, 0.3]),
        StopAfterThresholdReached('mon.value', threshold=0.1), max_epochs=4)
    assert trainer.current_epoch_nr == 4


def test_threshold_sees_values_logged_between_its_calls(net, train_iter,
                                                       trainer, helpers):
    # reached at epoch 1 only; the stopper runs at epochs 0 and 2
    hook = StopAfterThresholdReached('mon.value', threshold=0.2,
                                     interval=2)
    run(trainer, net, train_iter, helpers.Scripted([0.5, 0.1, 0.6, 0.6]),
        hook)
    assert trainer.current_epoch_nr == 2
    assert hook.get_checkpoint_state() == {'seen': 3}


def test_threshold_checks_arguments():
    with pytest.raises(ValueError, match='threshold must be a number'):
        StopAfterThresholdReached('v.a', threshold='high')
    with pytest.raises(ValueError, match='criterion'):
        StopAfterThresholdReached('v.a', 0.5, criterion='above')


# -- StopOnNan ----------------------------------------------------------------
class Poison(Hook):
    """Writes ``value`` into one entry of a parameter at epoch ``at``."""

    def __init__(self, path, at, value=np.nan):
        super().__init__('poison')
        self.path, self.at, self.value = path, at, value

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if epoch_nr == self.at:
            view = net.buffer[self.path]
            values = net.handler.get_numpy_copy(view)
            values.flat[1] = self.value
            net.handler.set_from_numpy(view, values)


@pytest.mark.parametrize('path, value', [('A.parameters.W', np.nan),
                                         ('A.parameters.bias', np.inf)])
def test_stop_on_nan_names_the_parameter(net, train_iter, helpers, capsys,
                                         path, value):
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=True)
    run(trainer, net, train_iter, Poison(path, 2, value),
        StopOnNan(check_training_loss=False))
    assert trainer.current_epoch_nr == 2
    assert 'StopOnNan >> NaN or inf found in the parameters {}'.format(
        path) in capsys.readouterr().out


def test_stop_on_nan_ignores_parameters_when_told(net, train_iter, trainer):
    run(trainer, net, train_iter, Poison('A.parameters.W', 2),
        StopOnNan(check_parameters=False, check_training_loss=False),
        max_epochs=4)
    assert trainer.current_epoch_nr == 4


def test_stop_on_nan_training_loss_of_the_epoch(net, train_iter, helpers,
                                                capsys):
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=True)
    run(trainer, net, train_iter, Poison('A.parameters.W', 1),
        StopOnNan(check_parameters=False))
    # epoch 2 trains with a NaN weight: its mean loss is NaN
    assert trainer.current_epoch_nr == 2
    assert math.isnan(trainer.logs['rolling_training']['total_loss'][-1])
    assert 'StopOnNan >> NaN or inf found in the training loss ' \
        '(rolling_training.total_loss = nan)' in capsys.readouterr().out


def test_stop_on_nan_training_loss_of_the_batch(net, train_iter, helpers,
                                                capsys):
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=True)
    run(trainer, net, train_iter, Poison('A.parameters.W', 1),
        StopOnNan(check_parameters=False, timescale='update'))
    # the first update of epoch 2 (update 4) sees a NaN loss
    assert (trainer.current_epoch_nr, trainer.current_update_nr) == (2, 4)
    assert 'NaN or inf found in the training loss of the last batch (nan)' \
        in capsys.readouterr().out


def test_stop_on_nan_checks_logs(net, train_iter, helpers, capsys):
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=True)
    run(trainer, net, train_iter, helpers.Scripted([1.0, 2.0, -math.inf]),
        StopOnNan(['mon.value'], name='nan'))
    assert trainer.current_epoch_nr == 2
    assert 'nan >> NaN or inf found in the log mon.value (-inf)' in \
        capsys.readouterr().out


def test_stop_on_nan_checks_array_logs(net, train_iter, trainer, helpers):
    values = [np.array([1.0, 2.0]), np.array([1.0, np.nan])]
    run(trainer, net, train_iter, helpers.Scripted(values),
        StopOnNan(['mon.nested.value']))
    assert trainer.current_epoch_nr == 1


def test_stop_on_nan_goes_on_while_all_is_finite(net, train_iter, trainer,
                                                 helpers):
    run(trainer, net, train_iter, helpers.Scripted([1.0, 2.0]),
        StopOnNan(['mon.value', 'rolling_training.total_loss']),
        max_epochs=3)
    assert trainer.current_epoch_nr == 3


def test_stop_on_nan_missing_log(net, train_iter, trainer):
    with pytest.raises(MissingLogError, match='validation.total_loss'):
        run(trainer, net, train_iter, StopOnNan(['validation.total_loss']))


def test_stop_on_nan_names_the_entry_and_when_it_appeared(net, train_iter,
                                                          helpers, capsys):
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=True)
    hook = StopOnNan(check_training_loss=False)
    run(trainer, net, train_iter, Poison('A.parameters.W', 2), hook)
    message = ('NaN or inf found in the parameters A.parameters.W (NaN at '
               'index (0, 1)) at epoch 2, update 6: the training diverged')
    assert 'StopOnNan >> {}\n'.format(message) in capsys.readouterr().out
    assert hook.reason == message
    # a new training starts with no reason
    hook.start(net, trainer.stepper, False, {})
    assert hook.reason is None


def two_loss_net():
    """Two TestSoftmaxLoss layers 'Out1' and 'Out2' on affine layers 'A1'
    and 'A2' of the same input."""
    from brainstorm.testing.simple_layers import TestAffine, TestSoftmaxLoss
    inp = bs.layers.Input({'default': ('T', 'B', 4),
                           'targets': ('T', 'B', 1)})
    outs = []
    for i in (1, 2):
        out = TestSoftmaxLoss(name='Out{}'.format(i))
        inp >> TestAffine(3, name='A{}'.format(i)) >> out
        inp - 'targets' >> 'targets' - out
        outs.append(out)
    net = bs.Network.from_layer(outs[1])
    net.set_parameters(np.random.RandomState(0).randn(
        net.buffer_manager.num_parameters) * 0.5)
    return net


@pytest.mark.parametrize('timescale, expected', [
    ('update', 'NaN or inf found in the training loss of the last batch '
               "(nan; not finite in the last batch: the loss of layer "
               "'Out2') at epoch 2, update 4: the training diverged"),
    ('epoch', 'NaN or inf found in the training loss '
              '(rolling_training.total_loss = nan; not finite in the last '
              "batch: the loss of layer 'Out2') at epoch 2, update 6: the "
              'training diverged')])
def test_stop_on_nan_names_the_loss_layer(train_iter, timescale, expected):
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=False)
    hook = StopOnNan(check_parameters=False, timescale=timescale)
    run(trainer, two_loss_net(), train_iter, Poison('A2.parameters.W', 1),
        hook)
    assert hook.reason == expected


# -- StopOnSigQuit ------------------------------------------------------------
@pytest.fixture
def original_sigquit():
    original = signal.getsignal(signal.SIGQUIT)
    yield original
    signal.signal(signal.SIGQUIT, original)


class SendSigQuit(Hook):
    """Sends SIGQUIT to this process at the first update of an epoch."""

    def __init__(self, epoch, original):
        super().__init__('sender', timescale='update')
        self.epoch, self.original = epoch, original
        self.sent_at = None

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if epoch_nr == self.epoch and self.sent_at is None:
            # never send it without a handler: it would end the process
            assert signal.getsignal(signal.SIGQUIT) is not self.original
            os.kill(os.getpid(), signal.SIGQUIT)
            self.sent_at = update_nr


def test_sigquit_stops_after_the_next_call(net, train_iter, helpers,
                                           original_sigquit, capsys):
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=True)
    sender = SendSigQuit(2, original_sigquit)
    hook = StopOnSigQuit()
    run(trainer, net, train_iter, sender, hook)
    # sent during epoch 2; the epoch-wise hook stops after it
    assert sender.sent_at == 4
    assert trainer.current_epoch_nr == 2
    assert 'StopOnSigQuit >> received SIGQUIT: training stopped at epoch ' \
        '2, update 6' in capsys.readouterr().out
    # this process goes on, with the previous handler back
    assert signal.getsignal(signal.SIGQUIT) is original_sigquit
    assert not hook.installed


def test_sigquit_with_update_timescale(net, train_iter, trainer,
                                       original_sigquit):
    sender = SendSigQuit(2, original_sigquit)
    run(trainer, net, train_iter, sender,
        StopOnSigQuit(timescale='update'))
    assert (trainer.current_epoch_nr, trainer.current_update_nr) == (2, 4)


def test_sigquit_handler_installed_only_while_needed(net, original_sigquit):
    hook = StopOnSigQuit()
    assert signal.getsignal(signal.SIGQUIT) is original_sigquit
    hook.start(net, None, False, {})
    assert hook.installed
    assert signal.getsignal(signal.SIGQUIT) is not original_sigquit
    hook.start(net, None, False, {})          # a second start keeps it
    hook.restore_handler()
    assert signal.getsignal(signal.SIGQUIT) is original_sigquit
    hook.restore_handler()                    # harmless when not installed


def test_sigquit_handler_restored_when_hook_is_collected(net,
                                                         original_sigquit):
    hook = StopOnSigQuit()
    hook.start(net, None, False, {})
    assert signal.getsignal(signal.SIGQUIT) is not original_sigquit
    del hook
    gc.collect()
    assert signal.getsignal(signal.SIGQUIT) is original_sigquit


def test_sigquit_before_training_is_forgotten(net, train_iter, trainer,
                                              original_sigquit):
    hook = StopOnSigQuit()
    hook.start(net, None, False, {})
    os.kill(os.getpid(), signal.SIGQUIT)
    assert hook.received
    run(trainer, net, train_iter, hook, max_epochs=2)
    assert trainer.current_epoch_nr == 2
    hook.restore_handler()


# -- descriptions -------------------------------------------------------------
@pytest.mark.parametrize('hook', [
    EarlyStopper('validation.Accuracy', patience=10, criterion='max'),
    EarlyStopper('validation.total_loss', name='es', timescale='update',
                 interval=3),
    StopAfterThresholdReached('validation.Accuracy', 0.97, criterion='max'),
    StopOnNan(['validation.total_loss'], check_parameters=False),
    StopOnNan(),
    StopOnSigQuit(interval=2, verbose=False),
])
def test_descriptions_round_trip(hook):
    description = bs.get_description(hook)
    again = bs.create_from_description(json.loads(json.dumps(description)))
    assert type(again) is type(hook)
    assert bs.get_description(again) == description
    assert again.__name__ == hook.__name__
    assert again.get_checkpoint_state() == hook.get_checkpoint_state()


def test_description_leaves_out_running_state():
    hook = EarlyStopper('mon.value', patience=2)
    hook.best_value, hook.since_best, hook.seen = 3.0, 1, 5
    assert bs.get_description(hook) == {'@type': 'EarlyStopper',
                                        'log_name': 'mon.value',
                                        'patience': 2}
    again = bs.create_from_description(bs.get_description(hook))
    assert (again.best_value, again.since_best, again.seen) == (None, 0, 0)


def test_stoppers_say_that_they_can_stop_the_training():
    for cls in (StopAfterEpoch, EarlyStopper, StopAfterThresholdReached,
                StopOnSigQuit):
        assert cls.can_stop_training is True
    # it stops only a training that failed: a healthy one runs on
    assert StopOnNan.can_stop_training is False
    assert Hook.can_stop_training is False


def test_training_with_a_stopper_does_not_warn(net, train_iter, recwarn):
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=False)
    run(trainer, net, train_iter, max_epochs=1)
    assert not [w for w in recwarn if 'until interrupted' in str(w.message)]


def test_training_with_only_stop_on_nan_warns(net, train_iter):
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=False)
    trainer.add_hook(StopOnNan())
    trainer.add_hook(bs.hooks.ProgressBar())

    class Interrupting:
        length = train_iter.length

        def __call__(self, handler=None):
            raise KeyboardInterrupt
            yield

    with pytest.warns(RuntimeWarning, match=r'no hook can stop the training, '
                                            r'so it runs until interrupted '
                                            r'\(Ctrl\+C\); add one, such as '
                                            r'bs.hooks.StopAfterEpoch\(10\)'):
        with pytest.raises(KeyboardInterrupt):
            trainer.train(net, Interrupting())
