"""ModifyStepperAttribute: stepper attributes follow a schedule during
training, the values are logged, and errors name the attribute."""
import json

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.describable import DescriptionError
from brainstorm.hooks import Hook
from brainstorm.training.schedules import (Constant, Exponential, Linear,
                                           MultiStep)
from brainstorm_hooks.modifiers import ModifyStepperAttribute
from brainstorm_hooks.stoppers import StopAfterEpoch


class Watch(Hook):
    """Records a stepper attribute after every update (update hooks run
    before the epoch hooks of an epoch's last update)."""

    def __init__(self, attr):
        super().__init__('watch', timescale='update')
        self.attr, self.values = attr, []

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        self.values.append(getattr(stepper, self.attr))


def train(stepper, net, train_iter, hooks, epochs=3, verbose=False):
    trainer = bs.Trainer(stepper, verbose=verbose)
    for hook in hooks:
        trainer.add_hook(hook)
    trainer.add_hook(StopAfterEpoch(epochs))
    trainer.train(net, train_iter)
    return trainer


class LrAtUpdate(Hook):
    """Records the learning rate each update runs with, by wrapping run."""

    def __init__(self):
        super().__init__('lr_at_update', timescale='update')
        self.rates = []

    def start(self, net, stepper, verbose, named_data_iters):
        super().start(net, stepper, verbose, named_data_iters)
        if getattr(stepper, '_wrapped', False):
            return
        original = stepper.run

        def run():
            self.rates.append(stepper.learning_rate)
            original()
        stepper.run, stepper._wrapped = run, True

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        pass


def test_registry_name():
    assert bs.hooks.ModifyStepperAttribute is ModifyStepperAttribute
    assert bs.registry.provider('hooks', 'ModifyStepperAttribute') == \
        'brainstorm-hooks'


def test_epoch_schedule_sets_the_learning_rate_of_each_epoch(net,
                                                             train_iter):
    rates = LrAtUpdate()
    hook = ModifyStepperAttribute(Exponential(0.1, factor=0.5))
    trainer = train(bs.training.SgdStepper(1.0), net, train_iter,
                    [rates, hook])
    # epoch e (1, 2, 3) trains with the value set after epoch e - 1
    assert rates.rates == pytest.approx([0.1] * 3 + [0.05] * 3 +
                                        [0.025] * 3)
    assert trainer.logs['ModifyStepperAttribute']['learning_rate'] == \
        pytest.approx([0.1, 0.05, 0.025, 0.0125])
    assert trainer.stepper.learning_rate == pytest.approx(0.0125)


def test_scheduled_rate_gives_the_same_parameters_as_manual_sgd(
        net, train_iter, helpers):
    """Training with the schedule equals plain SGD steps at those rates."""
    start = net.get('parameters')
    train(bs.training.SgdStepper(1.0), net, train_iter,
          [ModifyStepperAttribute(MultiStep(0.3, [1], [0.05]))], epochs=2)
    scheduled = net.get('parameters')

    other = helpers.build_net()
    other.set_parameters(start)
    for rate in (0.3, 0.05):
        for batch in train_iter():
            other.provide_external_data(batch)
            other.forward_pass(training_pass=True)
            other.backward_pass()
            other.set_parameters(other.get('parameters') -
                                 rate * other.get('gradients'))
    assert np.allclose(scheduled, other.get('parameters'), atol=1e-12)


def test_momentum_follows_a_linear_schedule(net, train_iter):
    watch = Watch('momentum')
    hook = ModifyStepperAttribute(Linear(0.5, 0.9, num_steps=2),
                                  attr_name='momentum', name='mom')
    trainer = train(bs.training.MomentumStepper(0.1, momentum=0.0), net,
                    train_iter, [hook, watch])
    assert trainer.logs['mom']['momentum'] == pytest.approx(
        [0.5, 0.7, 0.9, 0.9])
    assert watch.values == pytest.approx([0.5] * 3 + [0.7] * 3 +
                                         [0.9] * 3)


def test_update_timescale_sets_the_value_before_the_first_update(
        net, train_iter):
    rates = LrAtUpdate()
    hook = ModifyStepperAttribute(Linear(1.0, 0.0, 10, timescale='update'),
                                  timescale='update', interval=2)
    trainer = train(bs.training.SgdStepper(5.0), net, train_iter,
                    [rates, hook], epochs=2)
    # set to v(0) when training starts, then after updates 2 and 4
    assert rates.rates == pytest.approx([1.0, 1.0, 0.8, 0.8, 0.6, 0.6])
    assert trainer.logs['ModifyStepperAttribute']['learning_rate'] == \
        pytest.approx([0.8, 0.6, 0.4])
    assert hook.get_checkpoint_state() == {'last_epoch_nr': 2,
                                           'last_update_nr': 6}


def test_a_number_is_a_constant_schedule(net, train_iter):
    hook = ModifyStepperAttribute(0.02)
    assert hook.schedule == Constant(0.02)
    trainer = train(bs.training.SgdStepper(1.0), net, train_iter, [hook],
                    epochs=1)
    assert trainer.stepper.learning_rate == 0.02


def test_verbose_trainer_prints_the_value(net, train_iter, capsys):
    train(bs.training.SgdStepper(1.0), net, train_iter,
          [ModifyStepperAttribute(Exponential(0.1, 0.5), name='lr')],
          epochs=1, verbose=True)
    out = capsys.readouterr().out
    assert 'lr:\n  learning_rate: 0.1\n' in out
    assert 'learning_rate: 0.05' in out


def test_missing_attribute_is_named_before_training(net, train_iter):
    before = net.get('parameters')
    hook = ModifyStepperAttribute(0.9, attr_name='momentum')
    with pytest.raises(AttributeError) as err:
        train(bs.training.SgdStepper(0.1), net, train_iter, [hook])
    message = str(err.value)
    assert "ModifyStepperAttribute 'ModifyStepperAttribute': the stepper " \
        "SgdStepper has no attribute 'momentum'" in message
    assert 'learning_rate' in message
    assert (net.get('parameters') == before).all()


@pytest.mark.parametrize('schedule, attr_name, error, match', [
    ('fast', 'learning_rate', TypeError, 'schedule must be a schedule'),
    (None, 'learning_rate', TypeError, 'got None'),
    (0.1, 'learning rate', ValueError, "attr_name .* got 'learning rate'"),
    (0.1, 3, ValueError, 'attr_name'),
])
def test_arguments_are_checked(schedule, attr_name, error, match):
    with pytest.raises(error, match=match):
        ModifyStepperAttribute(schedule, attr_name=attr_name)


def test_any_callable_works_but_is_not_describable(net, train_iter):
    hook = ModifyStepperAttribute(lambda epoch, update: 0.1 / (1 + epoch))
    trainer = train(bs.training.SgdStepper(1.0), net, train_iter, [hook],
                    epochs=2)
    assert trainer.logs['ModifyStepperAttribute']['learning_rate'] == \
        pytest.approx([0.1, 0.05, 0.1 / 3])
    with pytest.raises(DescriptionError, match='not describable'):
        bs.get_description(hook)


def test_description_round_trip(net, train_iter):
    hook = ModifyStepperAttribute(
        MultiStep(0.1, [1, 2], [0.01, 0.001]), attr_name='learning_rate',
        timescale='epoch', interval=1, name='lr')
    text = json.dumps(bs.get_description(hook))
    assert json.loads(text) == {
        '@type': 'ModifyStepperAttribute', 'name': 'lr',
        'schedule': {'@type': 'MultiStep', 'initial_value': 0.1,
                     'steps': [1, 2], 'values': [0.01, 0.001]}}
    again = bs.create_from_description(json.loads(text))
    assert isinstance(again, ModifyStepperAttribute)
    assert again.schedule == hook.schedule and again.__name__ == 'lr'
    trainer = train(bs.training.SgdStepper(1.0), net, train_iter, [again])
    assert trainer.logs['lr']['learning_rate'] == [0.1, 0.01, 0.001, 0.001]


def test_checkpoint_state_sets_the_value_on_resume(net, train_iter):
    state = {'last_epoch_nr': 3, 'last_update_nr': 9}
    hook = ModifyStepperAttribute(Exponential(0.1, 0.5))
    hook.set_checkpoint_state(json.loads(json.dumps(state)))
    assert hook.get_checkpoint_state() == state
    stepper = bs.training.SgdStepper(1.0)
    hook.start(net, stepper, False, {})
    assert stepper.learning_rate == pytest.approx(0.0125)


def test_resumed_training_goes_on_with_the_scheduled_value(helpers,
                                                           train_iter,
                                                           tmp_path):
    """A checkpoint after epoch 2, resumed with fresh hooks, trains epochs
    3 and 4 exactly as the uninterrupted run."""
    def setup(epochs):
        trainer = bs.Trainer(bs.training.SgdStepper(1.0), verbose=False)
        trainer.add_hook(ModifyStepperAttribute(
            Linear(0.5, 0.05, 10, timescale='update'), timescale='update',
            interval=2, name='lr'))
        trainer.add_hook(StopAfterEpoch(epochs))
        return trainer, helpers.build_net()

    whole, net = setup(4)
    whole.train(net, train_iter)

    first, net_a = setup(2)
    first.train(net_a, train_iter)
    first.save_checkpoint(str(tmp_path / 'ckpt.h5'))
    resumed, net_b = setup(4)
    resumed.resume(str(tmp_path / 'ckpt.h5'), net_b)
    resumed.train(net_b, train_iter)

    assert resumed.hooks['lr'].get_checkpoint_state() == \
        {'last_epoch_nr': 4, 'last_update_nr': 12}
    assert resumed.logs['lr']['learning_rate'] == \
        whole.logs['lr']['learning_rate']
    assert np.array_equal(net_b.get('parameters'), net.get('parameters'))


class CountingSchedule:
    """A schedule that records every call."""

    def __init__(self):
        self.calls = []

    def __call__(self, epoch_nr, update_nr):
        self.calls.append((epoch_nr, update_nr))
        return 0.1 / (1 + epoch_nr)


def test_the_schedule_is_called_once_per_epoch_and_once_at_the_start(
        net, train_iter):
    schedule = CountingSchedule()
    trainer = train(bs.training.SgdStepper(1.0), net, train_iter,
                    [ModifyStepperAttribute(schedule)], epochs=3)
    # at the start (epoch 0) and after epochs 1, 2, 3: not twice at epoch 0
    assert schedule.calls == [(0, 0), (1, 3), (2, 6), (3, 9)]
    assert trainer.logs['ModifyStepperAttribute']['learning_rate'] == \
        pytest.approx([0.1, 0.05, 0.1 / 3, 0.025])


def test_the_schedule_is_called_once_per_interval_of_updates(net,
                                                             train_iter):
    schedule = CountingSchedule()
    train(bs.training.SgdStepper(1.0), net, train_iter,
          [ModifyStepperAttribute(schedule, timescale='update', interval=2)],
          epochs=3)
    # at the start, then after updates 2, 4, 6, 8 (9 updates in all)
    assert schedule.calls == [(0, 0), (1, 2), (2, 4), (2, 6), (3, 8)]
