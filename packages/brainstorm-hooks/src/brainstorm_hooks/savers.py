"""Savers: hooks that keep the network (or its parameters)."""
import math

from brainstorm.hooks import Hook

from brainstorm_hooks.logs import lookup_log

__all__ = ['SaveBestNetwork']


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
        self.best_value = value
        self.best_epoch, self.best_update = epoch_nr, update_nr
        if self.filename is None:
            self.parameters = net.get('parameters')
            where = 'kept its parameters'
        else:
            net.save_as_hdf5(self.filename)
            where = 'saved the network to {}'.format(self.filename)
        self.message('{} improved to {:.6g}; {}'.format(self.log_name, value,
                                                        where))

    def _is_better(self, value):
        if self.best_value is None:
            return True
        if self.criterion == 'max':
            return value > self.best_value
        return value < self.best_value

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
