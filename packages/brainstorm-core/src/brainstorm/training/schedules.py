"""Schedules: values that change with the epoch or update number.

A schedule is called as ``schedule(epoch_nr, update_nr)`` and returns the
value for that point of the training; it reads the epoch number or the
update number, as its ``timescale`` says. The ``ModifyStepperAttribute``
hook (brainstorm-hooks) uses schedules to change a stepper attribute such
as the learning rate or the momentum during training::

    >>> lr = bs.training.schedules.Exponential(0.1, factor=0.9,
    ...                                        minimum=0.001)
    >>> trainer.add_hook(bs.hooks.ModifyStepperAttribute(lr))

All schedules are Describable: ``bs.get_description(schedule)`` is plain
JSON and ``bs.create_from_description`` gives back an equal schedule.

In the formulas, ``t`` is the epoch number (``timescale='epoch'``) or the
update number (``timescale='update'``) the schedule is called with.
"""
import math
import numbers

from brainstorm.describable import Describable

__all__ = ['Schedule', 'Constant', 'Linear', 'Exponential', 'MultiStep',
           'StepDecay']


class Schedule(Describable):
    """Base class of schedules.

    Subclasses implement ``value_at(t)``; calling the schedule picks ``t``
    according to ``timescale``.

    Parameters
    ----------
    timescale : {'epoch', 'update'}
        Whether ``t`` is the epoch number or the update number.
    """

    __default_values__ = {'timescale': 'epoch'}

    def __init__(self, timescale='epoch'):
        if timescale not in ('epoch', 'update'):
            raise ValueError("{}: timescale must be 'epoch' or 'update', got "
                             '{!r}'.format(type(self).__name__, timescale))
        self.timescale = timescale

    def __call__(self, epoch_nr, update_nr):
        """The value at epoch ``epoch_nr`` / update ``update_nr``."""
        t = epoch_nr if self.timescale == 'epoch' else update_nr
        return self.value_at(t)

    def value_at(self, t):
        """The value at step ``t`` of the schedule's timescale."""
        raise NotImplementedError

    def __eq__(self, other):
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self):
        return hash(type(self).__name__)

    def __repr__(self):
        return '{}({})'.format(type(self).__name__, ', '.join(
            '{}={!r}'.format(k, v) for k, v in self.__dict__.items()))

    # -- argument checks shared by the schedules ------------------------------
    def _number(self, name, value, allow_none=False):
        if value is None and allow_none:
            return None
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not math.isfinite(value):
            raise ValueError('{}: {} must be a finite number, got {!r}'.format(
                type(self).__name__, name, value))
        return float(value)

    def _count(self, name, value, minimum):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
                or value < minimum:
            raise ValueError('{}: {} must be an integer >= {}, got {!r}'
                             .format(type(self).__name__, name, minimum,
                                     value))
        return int(value)


class Constant(Schedule):
    """The same value at every step: ``v(t) = value``.

    Parameters
    ----------
    value : float
        The value.

    Examples
    --------
    >>> bs.training.schedules.Constant(0.9)(5, 500)
    0.9
    """

    def __init__(self, value):
        super().__init__('epoch')
        self.value = self._number('value', value)

    def value_at(self, t):
        return self.value


class Linear(Schedule):
    """Change linearly from an initial to a final value in ``num_steps``
    steps, then stay at the final value.

    The value after ``t`` steps is::

        v(t) = initial_value + (final_value - initial_value)
                               * min(t, num_steps) / num_steps

    Parameters
    ----------
    initial_value : float
        The value at ``t = 0``.
    final_value : float
        The value from ``t = num_steps`` on.
    num_steps : int
        Number of epochs/updates the change takes (>= 1).
    timescale : {'epoch', 'update'}
        Whether ``t`` counts epochs or updates.

    Examples
    --------
    >>> momentum = bs.training.schedules.Linear(0.5, 0.9, num_steps=10)
    >>> momentum(5, 1000)
    0.7
    """

    def __init__(self, initial_value, final_value, num_steps,
                 timescale='epoch'):
        super().__init__(timescale)
        self.initial_value = self._number('initial_value', initial_value)
        self.final_value = self._number('final_value', final_value)
        self.num_steps = self._count('num_steps', num_steps, 1)

    def value_at(self, t):
        fraction = min(max(t, 0), self.num_steps) / self.num_steps
        return self.initial_value + \
            (self.final_value - self.initial_value) * fraction


class Exponential(Schedule):
    """Multiply by a constant factor every step, optionally within bounds.

    The value after ``t`` steps is::

        v(t) = clip(initial_value * factor ** t, minimum, maximum)

    Parameters
    ----------
    initial_value : float
        The value at ``t = 0``.
    factor : float
        The factor per step (> 0): below 1 the value decays, above 1 it
        grows.
    minimum : float, optional
        The value never goes below this (None: no bound).
    maximum : float, optional
        The value never goes above this (None: no bound).
    timescale : {'epoch', 'update'}
        Whether ``t`` counts epochs or updates.

    Examples
    --------
    >>> lr = bs.training.schedules.Exponential(0.1, factor=0.5,
    ...                                        minimum=0.02)
    >>> [lr(epoch, 0) for epoch in range(4)]
    [0.1, 0.05, 0.025, 0.02]
    """

    __default_values__ = {'minimum': None, 'maximum': None}

    def __init__(self, initial_value, factor, minimum=None, maximum=None,
                 timescale='epoch'):
        super().__init__(timescale)
        self.initial_value = self._number('initial_value', initial_value)
        self.factor = self._number('factor', factor)
        if self.factor <= 0:
            raise ValueError('Exponential: factor must be > 0, got {!r}'
                             .format(factor))
        self.minimum = self._number('minimum', minimum, allow_none=True)
        self.maximum = self._number('maximum', maximum, allow_none=True)
        if self.minimum is not None and self.maximum is not None and \
                self.minimum > self.maximum:
            raise ValueError('Exponential: minimum ({!r}) is larger than '
                             'maximum ({!r})'.format(minimum, maximum))

    def value_at(self, t):
        return _clip(self.initial_value * self.factor ** max(t, 0),
                     self.minimum, self.maximum)


class MultiStep(Schedule):
    """Jump to given values at given steps.

    The value after ``t`` steps is::

        v(t) = initial_value               for t < steps[0]
        v(t) = values[i]                   for steps[i] <= t < steps[i + 1]
        v(t) = values[-1]                  for t >= steps[-1]

    Parameters
    ----------
    initial_value : float
        The value before the first step.
    steps : list[int]
        Epochs/updates at which the value changes, strictly increasing.
    values : list[float]
        The value from each step on; as many as ``steps``.
    timescale : {'epoch', 'update'}
        Whether ``t`` counts epochs or updates.

    Examples
    --------
    >>> lr = bs.training.schedules.MultiStep(0.1, steps=[10, 20],
    ...                                      values=[0.01, 0.001])
    >>> [lr(epoch, 0) for epoch in (9, 10, 19, 20, 100)]
    [0.1, 0.01, 0.01, 0.001, 0.001]
    """

    def __init__(self, initial_value, steps, values, timescale='epoch'):
        super().__init__(timescale)
        self.initial_value = self._number('initial_value', initial_value)
        try:
            steps, values = list(steps), list(values)
        except TypeError:
            raise ValueError('MultiStep: steps and values must be lists, got '
                             '{!r} and {!r}'.format(steps, values)) from None
        self.steps = [self._count('steps[{}]'.format(i), s, 0)
                      for i, s in enumerate(steps)]
        self.values = [self._number('values[{}]'.format(i), v)
                       for i, v in enumerate(values)]
        if len(self.steps) != len(self.values):
            raise ValueError('MultiStep: steps and values must be equally '
                             'long, got {} steps and {} values'.format(
                                 len(self.steps), len(self.values)))
        if any(b <= a for a, b in zip(self.steps, self.steps[1:])):
            raise ValueError('MultiStep: steps must be strictly increasing, '
                             'got {!r}'.format(steps))

    def value_at(self, t):
        value = self.initial_value
        for step, step_value in zip(self.steps, self.values):
            if t < step:
                break
            value = step_value
        return value


class StepDecay(Schedule):
    """Keep the initial value until step ``start``, then multiply it by
    ``factor`` every ``step_size`` steps, optionally down to a minimum::

        v(t) = max(initial_value * factor ** floor(max(t - start, 0)
                                                   / step_size), minimum)

    With ``start=10, step_size=1`` the value decreases after every epoch
    from epoch 10 on (``v(10) = initial_value``, ``v(11) = initial_value *
    factor``); with ``start=0, step_size=5`` it decreases every 5 epochs.

    Parameters
    ----------
    initial_value : float
        The value up to step ``start``.
    factor : float
        The factor applied every ``step_size`` steps after ``start`` (> 0).
    step_size : int
        Number of epochs/updates between two changes (>= 1).
    start : int
        The last step with the initial value (>= 0).
    minimum : float, optional
        The value never goes below this (None: no bound).
    timescale : {'epoch', 'update'}
        Whether ``t`` counts epochs or updates.

    Examples
    --------
    >>> lr = bs.training.schedules.StepDecay(0.1, factor=0.5, start=2)
    >>> [lr(epoch, 0) for epoch in range(5)]
    [0.1, 0.1, 0.1, 0.05, 0.025]
    """

    __default_values__ = {'step_size': 1, 'start': 0, 'minimum': None}

    def __init__(self, initial_value, factor, step_size=1, start=0,
                 minimum=None, timescale='epoch'):
        super().__init__(timescale)
        self.initial_value = self._number('initial_value', initial_value)
        self.factor = self._number('factor', factor)
        if self.factor <= 0:
            raise ValueError('StepDecay: factor must be > 0, got {!r}'.format(
                factor))
        self.step_size = self._count('step_size', step_size, 1)
        self.start = self._count('start', start, 0)
        self.minimum = self._number('minimum', minimum, allow_none=True)

    def value_at(self, t):
        changes = max(t - self.start, 0) // self.step_size
        return _clip(self.initial_value * self.factor ** changes,
                     self.minimum, None)


def _clip(value, minimum, maximum):
    if minimum is not None and value < minimum:
        return minimum
    if maximum is not None and value > maximum:
        return maximum
    return value
