"""Stoppers: hooks that end the training.

A stopper ends the training by raising ``StopIteration(message)`` from its
call; the trainer finishes the round of hooks, prints the message when
verbose, and returns from ``train``. All but ``StopOnNan`` (which stops only
a training that failed) set ``can_stop_training = True``, so that
``Trainer.train`` does not warn that it runs until interrupted.
"""
import math
import signal
import threading
import weakref

import numpy as np

from brainstorm.data_iterators import describe_value, first_nonfinite
from brainstorm.hooks import Hook

from brainstorm_hooks.logs import lookup_log

__all__ = ['StopAfterEpoch', 'EarlyStopper', 'StopAfterThresholdReached',
           'StopOnNan', 'StopOnSigQuit']


class StopAfterEpoch(Hook):
    """Stop the training after a number of epochs.

    Parameters
    ----------
    max_epochs : int
        Number of epochs to train (0 stops before the first epoch).
    name : str, optional
        Name of the hook (default: 'StopAfterEpoch').
    timescale : {'epoch', 'update'}
        Called after epochs or after updates. With 'epoch' (the default)
        exactly ``max_epochs`` epochs are trained; with 'update' the
        training stops at the first update of epoch ``max_epochs``.
    interval : int
        Called every ``interval`` epochs/updates.
    verbose : bool, optional
        Whether the stop is reported; None follows the trainer.

    Examples
    --------
    >>> trainer.add_hook(bs.hooks.StopAfterEpoch(20))
    """

    can_stop_training = True

    def __init__(self, max_epochs, name=None, timescale='epoch', interval=1,
                 verbose=None):
        super().__init__(name, timescale, interval, verbose)
        try:
            valid = not isinstance(max_epochs, bool) and \
                int(max_epochs) == max_epochs and max_epochs >= 0
        except (TypeError, ValueError):
            valid = False
        if not valid:
            raise ValueError('{}: max_epochs must be an integer >= 0, got '
                             '{!r}'.format(type(self).__name__, max_epochs))
        self.max_epochs = int(max_epochs)

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if epoch_nr >= self.max_epochs:
            raise StopIteration('epoch limit of {} reached'.format(
                self.max_epochs))


def _check_log_name(hook_cls, log_name):
    if not isinstance(log_name, str) or '.' not in log_name.strip('.'):
        raise ValueError(
            "{}: log_name must be '<hook name>.<key>' (e.g. "
            "'validation.total_loss'), got {!r}".format(hook_cls.__name__,
                                                        log_name))
    return log_name


def _check_criterion(hook_cls, criterion):
    if criterion not in ('max', 'min'):
        raise ValueError("{}: criterion must be 'max' or 'min', got {!r}"
                         .format(hook_cls.__name__, criterion))
    return criterion


def _entries(logs, log_name):
    """The values logged under ``log_name`` so far; an empty list for a
    'rolling_training' entry before the first epoch (the trainer writes it
    only after an epoch)."""
    if log_name.split('.')[0] == 'rolling_training' and \
            'rolling_training' not in logs:
        return []
    return lookup_log(logs, log_name)


def _as_float(hook, log_name, value):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError('{} {!r}: the log {!r} holds {!r}, not a number'
                        .format(type(hook).__name__, hook.__name__, log_name,
                                value)) from None


class _LogWatcher(Hook):
    """Base of the stoppers that read the new values of one log entry.

    Every call reads the values logged under ``log_name`` since the previous
    call (one per call of the logging hook when both have the same
    timescale and interval, none when the logging hook did not run, several
    when it ran more often), so each logged value is looked at exactly once.
    """

    can_stop_training = True
    __undescribed__ = {'seen': 0}

    def __init__(self, log_name, criterion, name=None, timescale='epoch',
                 interval=1, verbose=None):
        super().__init__(name, timescale, interval, verbose)
        self.log_name = _check_log_name(type(self), log_name)
        self.criterion = _check_criterion(type(self), criterion)
        self.seen = 0

    def _new_values(self, logs):
        entries = _entries(logs, self.log_name)
        if len(entries) < self.seen:
            self.seen = 0    # the logs of another trainer
        new = entries[self.seen:]
        self.seen = len(entries)
        return [_as_float(self, self.log_name, v) for v in new]

    def get_checkpoint_state(self):
        """The running state as a JSON-serialisable dict."""
        return {'seen': self.seen}

    def set_checkpoint_state(self, state):
        """Restore what :meth:`get_checkpoint_state` returned."""
        self.seen = int(state.get('seen', 0))


class EarlyStopper(_LogWatcher):
    """Stop the training when a log entry has not improved for some time.

    Each value logged under ``log_name`` is compared with the best one so
    far: a strictly better value (smaller for ``criterion='min'``, larger
    for ``'max'``) becomes the new best; any other value, NaN included,
    counts as one log update without improvement. After ``patience`` such
    updates in a row the training stops. Values are looked at once each, as
    they appear, so the hook works with any timescale and interval; it
    should normally have those of the hook that logs the entry and be added
    after it.

    Parameters
    ----------
    log_name : str
        The entry to watch, ``'<hook name>.<key>'``, where ``<key>`` may be
        a dotted path into nested logs: ``'validation.Accuracy'``,
        ``'rolling_training.total_loss'``.
    patience : int
        Number of log updates without improvement before stopping (>= 1).
    criterion : {'min', 'max'}
        Whether smaller or larger values are better.
    name : str, optional
        Name of the hook (default: 'EarlyStopper').
    timescale : {'epoch', 'update'}
        Called after epochs or after updates.
    interval : int
        Called every ``interval`` epochs/updates.
    verbose : bool, optional
        Whether the stop is reported; None follows the trainer.

    Attributes
    ----------
    best_value : float or None
        The best value seen so far.
    best_epoch, best_update : int or None
        Epoch and update number of the call that saw it.
    since_best : int
        Log updates since the best value.

    Raises
    ------
    MissingLogError
        (a KeyError) when no log entry has the name ``log_name``.

    Examples
    --------
    >>> trainer.add_hook(bs.hooks.MonitorScores('valid_getter',
    ...                                         [bs.scorers.Accuracy()],
    ...                                         name='validation'))
    >>> trainer.add_hook(bs.hooks.EarlyStopper('validation.Accuracy',
    ...                                        patience=10,
    ...                                        criterion='max'))
    """

    __undescribed__ = {'best_value': None, 'best_epoch': None,
                       'best_update': None, 'since_best': 0}
    __default_values__ = {'patience': 1, 'criterion': 'min'}

    def __init__(self, log_name, patience=1, criterion='min', name=None,
                 timescale='epoch', interval=1, verbose=None):
        super().__init__(log_name, criterion, name, timescale, interval,
                         verbose)
        if isinstance(patience, bool) or not isinstance(patience, int) or \
                patience < 1:
            raise ValueError('EarlyStopper: patience must be an integer >= '
                             '1, got {!r}'.format(patience))
        self.patience = patience
        self.best_value = None
        self.best_epoch = None
        self.best_update = None
        self.since_best = 0

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        for value in self._new_values(logs):
            if self._is_better(value):
                self.best_value = value
                self.best_epoch, self.best_update = epoch_nr, update_nr
                self.since_best = 0
            else:
                self.since_best += 1
        if self.since_best >= self.patience:
            best = 'none' if self.best_value is None else \
                '{:.6g} at epoch {}, update {}'.format(
                    self.best_value, self.best_epoch, self.best_update)
            raise StopIteration(
                '{} did not improve for {} log updates (best: {})'.format(
                    self.log_name, self.since_best, best))

    def _is_better(self, value):
        if math.isnan(value):
            return False
        if self.best_value is None:
            return True
        if self.criterion == 'max':
            return value > self.best_value
        return value < self.best_value

    def get_checkpoint_state(self):
        state = super().get_checkpoint_state()
        state.update(best_value=self.best_value, best_epoch=self.best_epoch,
                     best_update=self.best_update,
                     since_best=self.since_best)
        return state

    def set_checkpoint_state(self, state):
        super().set_checkpoint_state(state)
        best = state.get('best_value')
        self.best_value = None if best is None else float(best)
        self.best_epoch = state.get('best_epoch')
        self.best_update = state.get('best_update')
        self.since_best = int(state.get('since_best', 0))


class StopAfterThresholdReached(_LogWatcher):
    """Stop the training when a log entry reaches a threshold.

    Stops as soon as a value logged under ``log_name`` is at or below
    ``threshold`` (``criterion='min'``: an error that became small enough)
    or at or above it (``'max'``: an accuracy that became large enough).
    Each logged value is looked at once, as it appears.

    Parameters
    ----------
    log_name : str
        The entry to watch, ``'<hook name>.<key>'`` in dotted notation.
    threshold : float
        The value to reach.
    criterion : {'min', 'max'}
        Whether the value must fall to the threshold or rise to it.
    name : str, optional
        Name of the hook (default: 'StopAfterThresholdReached').
    timescale : {'epoch', 'update'}
        Called after epochs or after updates.
    interval : int
        Called every ``interval`` epochs/updates.
    verbose : bool, optional
        Whether the stop is reported; None follows the trainer.

    Examples
    --------
    >>> trainer.add_hook(bs.hooks.StopAfterThresholdReached(
    ...     'validation.Accuracy', threshold=0.97, criterion='max'))
    >>> trainer.add_hook(bs.hooks.StopAfterThresholdReached(
    ...     'validation.total_loss', threshold=0.2, criterion='min'))
    """

    __default_values__ = {'criterion': 'min'}

    def __init__(self, log_name, threshold, criterion='min', name=None,
                 timescale='epoch', interval=1, verbose=None):
        super().__init__(log_name, criterion, name, timescale, interval,
                         verbose)
        try:
            self.threshold = float(threshold)
        except (TypeError, ValueError):
            self.threshold = math.nan
        if math.isnan(self.threshold) or isinstance(threshold, bool):
            raise ValueError('StopAfterThresholdReached: threshold must be a '
                             'number, got {!r}'.format(threshold))

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        for value in self._new_values(logs):
            if value <= self.threshold if self.criterion == 'min' \
                    else value >= self.threshold:
                raise StopIteration('{} reached {:.6g} (threshold {} {:.6g})'
                                    .format(self.log_name, value,
                                            '<=' if self.criterion == 'min'
                                            else '>=', self.threshold))


class StopOnNan(Hook):
    """Stop the training when NaN or infinite values appear.

    Checks, at every call, the network's parameters, the training loss and
    the latest value of each log entry in ``logs_to_check``; the message
    says where the invalid value was found: the parameter's buffer path
    (``'Hid.parameters.W'``) with the index and value of its first invalid
    entry, the log name, or the training loss (and, where the last batch
    shows it, which loss layer), and when: epoch and update. Data given to
    the network is checked for NaN and inf when it is provided, so what
    this hook finds appeared during training (the training diverged).

    Parameters
    ----------
    logs_to_check : list[str] or tuple[str]
        Log entries to check, in dotted notation (``'validation.total_loss'``).
        Their values may be numbers or arrays.
    check_parameters : bool
        Whether the parameters of the network are checked.
    check_training_loss : bool
        Whether the training loss is checked: with ``timescale='epoch'`` the
        mean training loss of the last epoch (``rolling_training.total_loss``),
        with ``'update'`` the loss of the last training batch.
    name : str, optional
        Name of the hook (default: 'StopOnNan').
    timescale : {'epoch', 'update'}
        Called after epochs or after updates.
    interval : int
        Called every ``interval`` epochs/updates.
    verbose : bool, optional
        Whether the stop is reported; None follows the trainer.

    Attributes
    ----------
    reason : str or None
        The message of the stop, None while everything was finite (reset
        when training starts).

    Examples
    --------
    >>> trainer.add_hook(bs.hooks.StopOnNan(['validation.total_loss']))
    """

    __undescribed__ = {'reason': None}
    __default_values__ = {'logs_to_check': [], 'check_parameters': True,
                          'check_training_loss': True}

    def __init__(self, logs_to_check=(), check_parameters=True,
                 check_training_loss=True, name=None, timescale='epoch',
                 interval=1, verbose=None):
        super().__init__(name, timescale, interval, verbose)
        if isinstance(logs_to_check, str):
            logs_to_check = [logs_to_check]
        self.logs_to_check = [_check_log_name(type(self), n)
                              for n in logs_to_check]
        self.check_parameters = bool(check_parameters)
        self.check_training_loss = bool(check_training_loss)
        self.reason = None

    def start(self, net, stepper, verbose, named_data_iters):
        super().start(net, stepper, verbose, named_data_iters)
        self.reason = None

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        try:
            self._check(net, logs)
        except StopIteration as stop:
            self.reason = '{} at epoch {}, update {}: the training ' \
                'diverged'.format(stop.args[0], epoch_nr, update_nr)
            raise StopIteration(self.reason) from None

    def _check(self, net, logs):
        if self.check_parameters:
            where = self._invalid_parameter(net)
            if where is not None:
                raise StopIteration('NaN or inf found in the parameters '
                                    '{}'.format(where))
        if self.check_training_loss:
            if self.timescale == 'update':
                loss = net.get_loss_values()['total_loss']
                if not math.isfinite(loss):
                    raise StopIteration('NaN or inf found in the training '
                                        'loss of the last batch ({}{})'.format(
                                            loss, _invalid_losses(net)))
            else:
                losses = logs.get('rolling_training', {}).get('total_loss')
                if losses and not math.isfinite(losses[-1]):
                    raise StopIteration(
                        'NaN or inf found in the training loss '
                        '(rolling_training.total_loss = {}{})'.format(
                            losses[-1], _invalid_losses(net)))
        for log_name in self.logs_to_check:
            entries = _entries(logs, log_name)
            if not entries:
                continue
            try:
                finite = np.isfinite(np.asarray(entries[-1],
                                                dtype=np.float64)).all()
            except (TypeError, ValueError):
                raise TypeError('StopOnNan {!r}: the log {!r} holds {!r}, '
                                'not numbers'.format(self.__name__, log_name,
                                                     entries[-1])) from None
            if not finite:
                raise StopIteration('NaN or inf found in the log {} ({})'
                                    .format(log_name, entries[-1]))

    @staticmethod
    def _invalid_parameter(net):
        """Path of the first parameter with a NaN or inf, with the index and
        value of its first such entry; None if all are finite."""
        handler = net.handler
        if handler.is_fully_finite(net.buffer['parameters']):
            return None
        for layer_name in net.layers:
            layer_buffers = net.buffer[layer_name]
            if 'parameters' not in layer_buffers:
                continue
            for param_name, array in layer_buffers['parameters'].items():
                if not handler.is_fully_finite(array):
                    found = first_nonfinite(handler.get_numpy_copy(array))
                    return '{}.parameters.{}{}'.format(
                        layer_name, param_name, '' if found is None else
                        ' ({} at index {})'.format(describe_value(found[1]),
                                                   found[0]))
        return 'parameters'


def _invalid_losses(net):
    """'; loss layer 'X' ...' naming the loss layers whose loss in the last
    batch is not finite, when there are several; '' otherwise."""
    losses = net.get_loss_values()
    if len(losses) < 3:      # 'total_loss' and one loss layer, or none
        return ''
    bad = [name for name, value in losses.items()
           if name != 'total_loss' and not math.isfinite(value)]
    if not bad:
        return ''
    return '; not finite in the last batch: the loss of {} {}'.format(
        'layer' if len(bad) == 1 else 'layers',
        ', '.join(repr(name) for name in bad))


def _restore_sigquit(handler, previous):
    """Put ``previous`` back if ``handler`` is still the SIGQUIT handler."""
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGQUIT) is handler:
            signal.signal(signal.SIGQUIT, signal.SIG_DFL if previous is None
                          else previous)
    except (ValueError, TypeError, OSError):
        pass   # interpreter shutting down


class StopOnSigQuit(Hook):
    """Stop the training after the next call once a SIGQUIT was received.

    Pressing Ctrl+\\ (or ``kill -QUIT <pid>``) while training ends the
    training cleanly at the next call of this hook, and the program goes on
    after ``trainer.train`` instead of quitting.

    The handler is installed by ``start`` (when ``trainer.train`` begins; a
    SIGQUIT received before that is forgotten) and stays installed while
    training runs. The handler that was there before is put back when this
    hook stops the training, when :meth:`restore_handler` is called, or when
    the hook is garbage-collected (or the interpreter exits); so when
    another hook ended the training, call ``hook.restore_handler()`` to give
    SIGQUIT its usual meaning back at once. Signal handlers can only be
    installed from the main thread, and only where SIGQUIT exists (not on
    Windows).

    Parameters
    ----------
    name : str, optional
        Name of the hook (default: 'StopOnSigQuit').
    timescale : {'epoch', 'update'}
        Called after epochs or after updates.
    interval : int
        Called every ``interval`` epochs/updates.
    verbose : bool, optional
        Whether the stop is reported; None follows the trainer.

    Examples
    --------
    >>> trainer.add_hook(bs.hooks.StopOnSigQuit())
    >>> trainer.train(net, getter_tr)     # Ctrl+\\ ends the training here
    >>> net.save_as_hdf5('interrupted.h5')
    """

    can_stop_training = True
    __undescribed__ = {'received': False, '_finalizer': None}

    def __init__(self, name=None, timescale='epoch', interval=1,
                 verbose=None):
        super().__init__(name, timescale, interval, verbose)
        self.received = False
        self._finalizer = None

    @property
    def installed(self):
        """Whether this hook's SIGQUIT handler is installed."""
        return self._finalizer is not None and self._finalizer.alive

    def start(self, net, stepper, verbose, named_data_iters):
        super().start(net, stepper, verbose, named_data_iters)
        self.received = False
        if self.installed:
            return
        if not hasattr(signal, 'SIGQUIT'):
            raise OSError('StopOnSigQuit: this platform has no SIGQUIT')
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError('StopOnSigQuit: signal handlers can only be '
                               'installed from the main thread; call '
                               'trainer.train from the main thread')
        hook_ref = weakref.ref(self)

        def on_sigquit(signum, frame):
            hook = hook_ref()
            if hook is not None:
                hook.received = True

        previous = signal.signal(signal.SIGQUIT, on_sigquit)
        # the finalizer holds the handlers, not the hook: the hook can be
        # garbage-collected while its handler is installed
        self._finalizer = weakref.finalize(self, _restore_sigquit,
                                           on_sigquit, previous)

    def restore_handler(self):
        """Put back the SIGQUIT handler that was there before ``start``."""
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if self.received:
            self.received = False
            self.restore_handler()
            raise StopIteration('received SIGQUIT: training stopped at '
                                'epoch {}, update {}'.format(epoch_nr,
                                                             update_nr))
