"""Schedules (bs.training.schedules): values against their formulas,
timescales, argument checks and JSON round trips."""
import json
import math

import pytest

import brainstorm as bs
from brainstorm.training import schedules
from brainstorm.training.schedules import (Constant, Exponential, Linear,
                                           MultiStep, StepDecay)


def test_reachable_as_bs_training_schedules():
    assert bs.training.schedules is schedules
    for cls in (Constant, Linear, Exponential, MultiStep, StepDecay):
        assert getattr(bs.training.schedules, cls.__name__) is cls
        assert bs.registry.describable_class(cls.__name__) is cls
        assert bs.registry.provider('describables', cls.__name__) == \
            'brainstorm-core'


def test_constant():
    s = Constant(0.9)
    assert [s(e, u) for e, u in [(0, 0), (3, 17), (100, 10 ** 6)]] == \
        [0.9, 0.9, 0.9]


@pytest.mark.parametrize('t', [0, 1, 3, 7, 8, 20])
def test_linear_follows_formula(t):
    s = Linear(0.5, 0.1, num_steps=8)
    expected = 0.5 + (0.1 - 0.5) * min(t, 8) / 8
    assert s(t, 999) == pytest.approx(expected, abs=1e-15)


def test_linear_values():
    s = Linear(0.5, 0.9, num_steps=4)
    assert [s(e, 0) for e in range(6)] == pytest.approx(
        [0.5, 0.6, 0.7, 0.8, 0.9, 0.9])


def test_update_timescale_reads_the_update_number():
    s = Linear(1.0, 0.0, num_steps=100, timescale='update')
    assert s(3, 25) == pytest.approx(0.75)
    assert s(0, 25) == s(50, 25)
    e = Exponential(1.0, 0.5, timescale='update')
    assert e(100, 2) == 0.25


@pytest.mark.parametrize('t', [0, 1, 2, 5, 10])
def test_exponential_follows_formula(t):
    s = Exponential(0.2, factor=0.7)
    assert s(t, 0) == pytest.approx(0.2 * 0.7 ** t, rel=1e-14)


def test_exponential_bounds():
    decay = Exponential(0.1, factor=0.5, minimum=0.02)
    assert [decay(e, 0) for e in range(5)] == pytest.approx(
        [0.1, 0.05, 0.025, 0.02, 0.02])
    growth = Exponential(0.5, factor=1.5, maximum=0.99)
    assert [growth(e, 0) for e in range(3)] == pytest.approx(
        [0.5, 0.75, 0.99])


def test_multistep():
    s = MultiStep(0.1, steps=[10, 20], values=[0.01, 0.001])
    assert [s(e, 0) for e in (0, 9, 10, 15, 19, 20, 100)] == \
        [0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001]
    assert MultiStep(3.0, [], [])(50, 0) == 3.0


@pytest.mark.parametrize('t', [0, 1, 2, 3, 4, 5, 6, 7, 11])
def test_step_decay_follows_formula(t):
    s = StepDecay(0.1, factor=0.5, step_size=2, start=3)
    expected = 0.1 * 0.5 ** math.floor(max(t - 3, 0) / 2)
    assert s(t, 0) == pytest.approx(expected, rel=1e-14)


def test_step_decay_decreases_after_start_epoch_down_to_minimum():
    s = StepDecay(0.1, factor=0.5, start=2, minimum=0.02)
    assert [s(e, 0) for e in range(6)] == pytest.approx(
        [0.1, 0.1, 0.1, 0.05, 0.025, 0.02])


@pytest.mark.parametrize('schedule', [
    Constant(0.9),
    Linear(0.5, 0.9, num_steps=4),
    Linear(1.0, 0.0, 100, timescale='update'),
    Exponential(0.1, 0.5, minimum=0.02, maximum=0.09),
    Exponential(0.1, 0.5),
    MultiStep(0.1, [10, 20], [0.01, 0.001], timescale='update'),
    StepDecay(0.1, 0.5, step_size=3, start=2, minimum=1e-4),
    StepDecay(0.1, 0.5),
])
def test_json_round_trip(schedule):
    text = json.dumps(bs.get_description(schedule))
    again = bs.create_from_description(json.loads(text))
    assert type(again) is type(schedule)
    assert again == schedule
    assert again is not schedule
    for e, u in [(0, 0), (1, 7), (3, 30), (12, 150), (25, 400)]:
        assert again(e, u) == schedule(e, u)


def test_description_leaves_out_defaults():
    assert bs.get_description(StepDecay(0.1, 0.5)) == \
        {'@type': 'StepDecay', 'initial_value': 0.1, 'factor': 0.5}
    assert bs.get_description(Linear(1, 2, 3, timescale='update')) == \
        {'@type': 'Linear', 'initial_value': 1.0, 'final_value': 2.0,
         'num_steps': 3, 'timescale': 'update'}


@pytest.mark.parametrize('make, match', [
    (lambda: Linear(0.1, 0.2, 0), 'Linear: num_steps must be an integer'),
    (lambda: Linear(0.1, 0.2, 2.5), 'num_steps'),
    (lambda: Linear('a', 0.2, 2), 'Linear: initial_value must be a finite'),
    (lambda: Linear(0.1, 0.2, 2, timescale='batch'),
     "Linear: timescale must be 'epoch' or 'update', got 'batch'"),
    (lambda: Exponential(0.1, 0), 'Exponential: factor must be > 0'),
    (lambda: Exponential(0.1, 0.5, minimum=1, maximum=0.5), 'minimum'),
    (lambda: MultiStep(0.1, [5, 5], [1, 2]), 'strictly increasing'),
    (lambda: MultiStep(0.1, [5, 6], [1]), '2 steps and 1 values'),
    (lambda: StepDecay(0.1, 0.5, step_size=0), 'StepDecay: step_size'),
    (lambda: StepDecay(0.1, 0.5, start=-1), 'StepDecay: start'),
    (lambda: Constant(float('nan')), 'Constant: value'),
])
def test_arguments_are_checked(make, match):
    with pytest.raises(ValueError, match=match):
        make()
