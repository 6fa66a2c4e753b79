"""Modifiers: hooks that change the training as it goes."""
import numbers

from brainstorm.describable import Describable
from brainstorm.hooks import Hook
from brainstorm.training.schedules import Constant

__all__ = ['ModifyStepperAttribute']


class ModifyStepperAttribute(Hook):
    """Set an attribute of the training stepper from a schedule.

    At every call the hook sets ``stepper.<attr_name> =
    schedule(epoch_nr, update_nr)`` and logs the value it set under
    ``attr_name``. It also sets the attribute when training starts, to the
    value of the schedule at its last call (at epoch 0, update 0 before
    any call), so that even the first update of an update-timescale
    schedule uses a scheduled value. The value set after epoch ``e`` (or
    update ``u``) is the one the next epoch (update) trains with. Its
    checkpoint state is the epoch and update of its last call; restoring
    it (when training resumes from a checkpoint) sets the attribute to the
    value of that call again.

    The schedule is called once per epoch and update number at which the
    hook sets a value: the value set when training starts is reused by a
    call at the same epoch and update (the epoch hooks' call at epoch 0),
    so 3 epochs with ``interval=1`` call it 4 times (epochs 0 to 3); a
    resumed training calls it once more when the checkpoint state is
    restored.

    Parameters
    ----------
    schedule : Schedule, callable or float
        A schedule of ``bs.training.schedules`` (``Linear``,
        ``Exponential``, ``MultiStep``, ``StepDecay``, ``Constant``), any
        callable ``schedule(epoch_nr, update_nr) -> value`` (which makes the
        hook non-describable), or a number (a constant value).
    attr_name : str
        The stepper attribute to set ('learning_rate', 'momentum' ...).
    timescale : {'epoch', 'update'}
        Called after epochs or after updates.
    interval : int
        Called every ``interval`` epochs/updates.
    name : str, optional
        Name of the hook and key of its logs (default:
        'ModifyStepperAttribute').
    verbose : bool, optional
        Whether the values set are printed; None follows the trainer.

    Raises
    ------
    AttributeError
        When training starts with a stepper that has no attribute
        ``attr_name``; the message names the attribute, the stepper and
        the attributes it has.

    Examples
    --------
    >>> schedule = bs.training.schedules.Exponential(0.1, factor=0.9)
    >>> trainer.add_hook(bs.hooks.ModifyStepperAttribute(schedule))
    >>> momentum = bs.training.schedules.Linear(0.5, 0.99, num_steps=20)
    >>> trainer.add_hook(bs.hooks.ModifyStepperAttribute(
    ...     momentum, attr_name='momentum', name='momentum_schedule'))
    >>> trainer.logs['ModifyStepperAttribute']['learning_rate']
    """

    __undescribed__ = {'last_epoch_nr': 0, 'last_update_nr': 0,
                       'stepper': None, '_last_value': None}
    __default_values__ = {'attr_name': 'learning_rate'}

    def __init__(self, schedule, attr_name='learning_rate', timescale='epoch',
                 interval=1, name=None, verbose=None):
        super().__init__(name, timescale, interval, verbose)
        if isinstance(schedule, numbers.Real) and \
                not isinstance(schedule, bool):
            schedule = Constant(schedule)
        if not callable(schedule):
            raise TypeError('ModifyStepperAttribute: schedule must be a '
                            'schedule (e.g. bs.training.schedules.Linear), a '
                            'callable(epoch_nr, update_nr) or a number, got '
                            '{!r}'.format(schedule))
        if not isinstance(attr_name, str) or not attr_name.isidentifier():
            raise ValueError('ModifyStepperAttribute: attr_name must be the '
                             'name of a stepper attribute, got {!r}'.format(
                                 attr_name))
        self.schedule = schedule
        self.attr_name = attr_name
        self.last_epoch_nr = 0
        self.last_update_nr = 0
        self.stepper = None
        # (schedule, epoch_nr, update_nr, value) of the last schedule call
        self._last_value = None

    def start(self, net, stepper, verbose, named_data_iters):
        super().start(net, stepper, verbose, named_data_iters)
        self.stepper = stepper
        self._set(stepper, self.last_epoch_nr, self.last_update_nr)

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        value = self._set(stepper, epoch_nr, update_nr)
        self.last_epoch_nr, self.last_update_nr = epoch_nr, update_nr
        try:
            return {self.attr_name: float(value)}
        except (TypeError, ValueError):
            return {self.attr_name: value}

    def _set(self, stepper, epoch_nr, update_nr):
        if not hasattr(stepper, self.attr_name):
            have = sorted(k for k in vars(stepper) if not k.startswith('_')
                          and k != 'net')
            raise AttributeError(
                '{} {!r}: the stepper {} has no attribute {!r} to modify '
                '(it has: {})'.format(type(self).__name__, self.__name__,
                                      type(stepper).__name__, self.attr_name,
                                      ', '.join(have) or 'none'))
        last = self._last_value
        if last is not None and last[0] is self.schedule and \
                last[1:3] == (epoch_nr, update_nr):
            value = last[3]
        else:
            value = self.schedule(epoch_nr, update_nr)
            self._last_value = (self.schedule, epoch_nr, update_nr, value)
        setattr(stepper, self.attr_name, value)
        return value

    def __describe__(self):
        if not isinstance(self.schedule, Describable):
            from brainstorm.describable import DescriptionError
            raise DescriptionError(
                '{}: the schedule {!r} is not describable; use a schedule of '
                'bs.training.schedules'.format(type(self).__name__,
                                               self.schedule))
        return super().__describe__()

    def get_checkpoint_state(self):
        """The running state as a JSON-serialisable dict."""
        return {'last_epoch_nr': int(self.last_epoch_nr),
                'last_update_nr': int(self.last_update_nr)}

    def set_checkpoint_state(self, state):
        """Restore what :meth:`get_checkpoint_state` returned."""
        self.last_epoch_nr = int(state.get('last_epoch_nr', 0))
        self.last_update_nr = int(state.get('last_update_nr', 0))
        if self.stepper is not None:
            self._set(self.stepper, self.last_epoch_nr, self.last_update_nr)
