"""Savers: hooks that keep the network (or its parameters) and the logs.

Every file is written to a temporary file beside its target and renamed
into place, so an interrupted save leaves the previous file intact.

A save that fails (disk full, no permission ...) raises
:class:`brainstorm.SaveError`, which stops training: ``trainer.train``
raises it, with a message naming the file and the reason, and the network,
the trainer and its logs stay as they were in memory, so they can be saved
elsewhere (or training resumed) once there is room. The savers do not
swallow the error and go on training, because the file a user relies on
would then silently be missing or out of date.
"""
import math
import os
import string

import numpy as np

from brainstorm.distributed import is_writer
from brainstorm.hooks import Hook

from brainstorm_hooks.logs import lookup_log, save_logs

__all__ = ['SaveBestNetwork', 'SaveNetwork', 'SaveLogs']


class SaveBestNetwork(Hook):
    """Save the network whenever a log entry reaches its best value so far.

    After each call the latest value of the entry ``log_name`` is compared
    with the best seen so far; when it is strictly better (larger for
    ``criterion='max'``, smaller for ``'min'``) the network is saved with
    ``net.save_as_hdf5(filename)`` (an atomic write), or, without a
    filename, a copy of its parameters is kept in ``self.parameters`` (put
    them back with :meth:`load_parameters`). NaN values never count as best.

    The ``timescale`` and ``interval`` should be those of the hook that logs
    the entry, and that hook must be added to the trainer before this one.

    Parameters
    ----------
    log_name : str
        The entry to watch, ``'<hook name>.<key>'`` where ``<key>`` may be a
        dotted path into nested logs: ``'validation.Accuracy'``,
        ``'rolling_training.total_loss'``.
    filename : str, optional
        HDF5 file the network is saved to (None: keep the parameters in
        memory).
    criterion : {'max', 'min'}
        Whether larger or smaller values are better.
    name : str, optional
        Name of the hook (default: 'SaveBestNetwork').
    timescale : {'epoch', 'update'}
        Called after epochs or after updates.
    interval : int
        Called every ``interval`` epochs/updates.
    verbose : bool, optional
        Whether saves are reported; None follows the trainer.

    Attributes
    ----------
    best_value : float or None
        The best value seen so far (kept across ``train`` calls, so that
        resumed training only saves real improvements).
    best_epoch, best_update : int or None
        Epoch and update number at which it was seen.
    parameters : numpy.ndarray or None
        The parameters of the best network (only when ``filename`` is None).

    Notes
    -----
    The hook's running state (``best_value``, ``best_epoch``,
    ``best_update`` and the kept ``parameters``) is what
    :meth:`get_checkpoint_state` returns, so a training resumed from a
    checkpoint saves only what improves on the best value before the
    interruption.

    Examples
    --------
    >>> trainer.add_hook(bs.hooks.SaveBestNetwork('validation.Accuracy',
    ...                                           filename='best_acc.h5',
    ...                                           criterion='max'))
    >>> trainer.add_hook(bs.hooks.SaveBestNetwork('validation.total_loss',
    ...                                           criterion='min',
    ...                                           name='best_loss'))
    >>> trainer.train(net, getter_tr, valid_getter=getter_va)
    >>> trainer.hooks['best_loss'].load_parameters(net)
    """

    __undescribed__ = {'best_value': None, 'best_epoch': None,
                       'best_update': None, 'parameters': None}
    __default_values__ = {'filename': None, 'criterion': 'max'}

    def __init__(self, log_name, filename=None, criterion='max', name=None,
                 timescale='epoch', interval=1, verbose=None):
        super().__init__(name, timescale, interval, verbose)
        if not isinstance(log_name, str) or '.' not in log_name.strip('.'):
            raise ValueError(
                "{}: log_name must be '<hook name>.<key>' (e.g. "
                "'validation.Accuracy'), got {!r}".format(
                    type(self).__name__, log_name))
        if criterion not in ('max', 'min'):
            raise ValueError("{}: criterion must be 'max' or 'min', got "
                             '{!r}'.format(type(self).__name__, criterion))
        self.log_name = log_name
        self.filename = None if filename is None else str(filename)
        self.criterion = criterion
        self.best_value = None
        self.best_epoch = None
        self.best_update = None
        self.parameters = None

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if self.log_name.split('.')[0] == 'rolling_training' and \
                'rolling_training' not in logs:
            return  # the trainer logs it only after the first epoch
        entries = lookup_log(logs, self.log_name)
        if not entries:
            return
        try:
            value = float(entries[-1])
        except (TypeError, ValueError):
            raise TypeError('{} {!r}: the log {!r} holds {!r}, not a number'
                            .format(type(self).__name__, self.__name__,
                                    self.log_name, entries[-1])) from None
        if math.isnan(value) or not self._is_better(value):
            return
        if self.filename is None:
            self.parameters = net.get('parameters')
            where = 'kept its parameters'
        else:
            if is_writer():   # rank 0 of a data-parallel job
                net.save_as_hdf5(self.filename)
            where = 'saved the network to {}'.format(self.filename)
        # only once saved: after a failed save the next call tries again
        self.best_value = value
        self.best_epoch, self.best_update = epoch_nr, update_nr
        self.message('{} improved to {:.6g}; {}'.format(self.log_name, value,
                                                        where))

    def _is_better(self, value):
        if self.best_value is None:
            return True
        if self.criterion == 'max':
            return value > self.best_value
        return value < self.best_value

    def get_checkpoint_state(self):
        """The best value so far, where it was seen, and the kept parameters
        (as a list of floats, only when ``filename`` is None)."""
        def plain(value, kind):
            return None if value is None else kind(value)
        state = {'best_value': plain(self.best_value, float),
                 'best_epoch': plain(self.best_epoch, int),
                 'best_update': plain(self.best_update, int),
                 'parameters': None, 'parameters_dtype': None}
        if self.parameters is not None:
            state['parameters'] = np.asarray(self.parameters).reshape(
                -1).tolist()
            state['parameters_dtype'] = self.parameters.dtype.name
        return state

    def set_checkpoint_state(self, state):
        """Restore what :meth:`get_checkpoint_state` returned."""
        self.best_value = state.get('best_value')
        self.best_epoch = state.get('best_epoch')
        self.best_update = state.get('best_update')
        parameters = state.get('parameters')
        self.parameters = None if parameters is None else np.array(
            parameters, dtype=state.get('parameters_dtype') or 'float64')

    def load_parameters(self, net):
        """Set the parameters of ``net`` to the best ones kept in memory.

        Raises
        ------
        RuntimeError
            If no parameters were kept (a filename was given, or no value
            was an improvement yet).
        """
        if self.parameters is None:
            raise RuntimeError(
                '{} {!r} holds no parameters: {}'.format(
                    type(self).__name__, self.__name__,
                    'it saves to {!r}, load that with '
                    'bs.Network.from_hdf5'.format(self.filename)
                    if self.filename else 'no best value was seen yet'))
        net.set_parameters(self.parameters)


class SaveNetwork(Hook):
    """Periodically save the network to an HDF5 file.

    Saves the network with ``net.save_as_hdf5`` every ``interval``
    epochs/updates; with the default epoch timescale this is once before
    training (epoch 0) and after every epoch. The file is written atomically
    (a temporary file beside it, renamed into place), so an interrupted save
    leaves the previous file intact. The filename may hold the format
    fields ``{epoch}`` and ``{update}`` (epoch and update number, format
    specifications allowed) to keep one file per save.

    Parameters
    ----------
    filename : str
        HDF5 file to write, e.g. ``'net.h5'`` (overwritten each time) or
        ``'net_{epoch:03d}.h5'``.
    name : str, optional
        Name of the hook (default: 'SaveNetwork').
    timescale : {'epoch', 'update'}
        Called after epochs or after updates.
    interval : int
        Called every ``interval`` epochs/updates.
    verbose : bool, optional
        Whether saves are reported; None follows the trainer.

    Raises
    ------
    ValueError
        If the filename holds a format field other than ``{epoch}`` and
        ``{update}``, or an invalid format specification.

    Examples
    --------
    >>> trainer.add_hook(bs.hooks.SaveNetwork('last.h5'))
    >>> trainer.add_hook(bs.hooks.SaveNetwork('net_{epoch:03d}.h5',
    ...                                       name='every_5', interval=5))
    >>> net = bs.Network.from_hdf5('net_010.h5')
    """

    def __init__(self, filename, name=None, timescale='epoch', interval=1,
                 verbose=None):
        super().__init__(name, timescale, interval, verbose)
        self.filename = _check_filename(type(self).__name__, filename)

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        filename = self.filename.format(epoch=epoch_nr, update=update_nr)
        if is_writer():   # rank 0 of a data-parallel job
            net.save_as_hdf5(filename)
        self.message('saved the network to {}'.format(filename))


class SaveLogs(Hook):
    """Periodically save the trainer logs to an HDF5 file.

    Writes the whole ``trainer.logs`` every ``interval`` epochs/updates
    (by default before training and after every epoch) with
    :func:`brainstorm_hooks.logs.save_logs`: a group per (nested) dict and
    one dataset per list of logged values, so that
    ``f['validation']['Accuracy'][:]`` holds the values of
    ``trainer.logs['validation']['Accuracy']``;
    :func:`brainstorm_hooks.logs.load_logs` reads the file back into nested
    dicts of lists. The file is written atomically (a temporary file beside
    it, renamed into place), so an interrupted save leaves the previous file
    intact. It holds what the hooks called before it logged in the same
    round, so add it last. The filename may hold the format fields
    ``{epoch}`` and ``{update}``.

    Parameters
    ----------
    filename : str
        HDF5 file to write.
    name : str, optional
        Name of the hook (default: 'SaveLogs').
    timescale : {'epoch', 'update'}
        Called after epochs or after updates.
    interval : int
        Called every ``interval`` epochs/updates.
    verbose : bool, optional
        Whether saves are reported; None follows the trainer.

    Raises
    ------
    ValueError
        If the filename holds a format field other than ``{epoch}`` and
        ``{update}``; when saving, if a log name cannot name an HDF5 group
        or dataset (it contains '/', or is '.').

    Examples
    --------
    >>> trainer.add_hook(bs.hooks.SaveLogs('logs.h5'))
    >>> trainer.train(net, getter_tr, valid_getter=getter_va)
    >>> from brainstorm_hooks.logs import load_logs
    >>> load_logs('logs.h5')['validation']['Accuracy']
    """

    def __init__(self, filename, name=None, timescale='epoch', interval=1,
                 verbose=None):
        super().__init__(name, timescale, interval, verbose)
        self.filename = _check_filename(type(self).__name__, filename)

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        filename = self.filename.format(epoch=epoch_nr, update=update_nr)
        if is_writer():   # rank 0 of a data-parallel job
            save_logs(filename, logs, epoch_nr=epoch_nr,
                      update_nr=update_nr)
        self.message('saved the logs to {}'.format(filename))

    @staticmethod
    def plot(logs, filename, title=None):
        """Draw the training and validation curves of a logs file (or of
        ``trainer.logs``) into an image: the same as
        :func:`brainstorm_hooks.plotting.plot_logs`, reachable through the
        registry (``bs.hooks.SaveLogs.plot``; ``brainstorm plot`` uses it).
        Needs matplotlib (``pip install brainstorm-hooks[plot]``)."""
        from brainstorm_hooks.plotting import plot_logs
        return plot_logs(logs, filename, title=title)


def _check_filename(hook_type, filename):
    """The filename as str, checked to hold only {epoch} and {update}."""
    try:
        filename = os.fspath(filename)
    except TypeError:
        raise TypeError('{}: filename must be a str or path, got {!r}'
                        .format(hook_type, filename)) from None
    if not isinstance(filename, str):
        filename = os.fsdecode(filename)
    try:
        fields = [field for _, field, _, _ in
                  string.Formatter().parse(filename) if field is not None]
    except ValueError as err:
        raise ValueError('{}: filename {!r} is not a valid format string '
                         '({})'.format(hook_type, filename, err)) from None
    unknown = [f for f in fields if f not in ('epoch', 'update')]
    if unknown:
        raise ValueError(
            '{}: filename {!r} holds the format field {!r}; only {{epoch}} '
            'and {{update}} are filled in (write {{{{ and }}}} for literal '
            'braces)'.format(hook_type, filename, '{' + unknown[0] + '}'))
    try:
        filename.format(epoch=0, update=0)
    except (ValueError, TypeError) as err:
        raise ValueError('{}: filename {!r} has an invalid format '
                         'specification ({})'.format(hook_type, filename,
                                                     err)) from None
    return filename
