"""Monitors: hooks that evaluate the network on a data set and log it."""
from collections import OrderedDict

from brainstorm.hooks import Hook
from brainstorm.scorers import Scorer, gather_losses_and_scores

__all__ = ['MonitorLoss', 'MonitorScores', 'MissingIteratorError']


class MonitorLoss(Hook):
    """Monitor the losses of the network on the data of a named iterator.

    Logs ``'total_loss'`` and, when the network has several Loss layers,
    the loss of each by layer name, averaged over the data (batches weighted
    by their size). Inference passes are used (``training_pass=False``).

    Parameters
    ----------
    iter_name : str
        Name of the data iterator, as given to ``trainer.train(net,
        train_iter, <iter_name>=...)``.
    name : str, optional
        Key of the logs in ``trainer.logs`` (default: class name).
    timescale : {'epoch', 'update'}
        Called after epochs or after updates.
    interval : int
        Called every ``interval`` epochs/updates.
    verbose : bool, optional
        Whether the logs are printed; None follows the trainer.

    Raises
    ------
    MissingIteratorError
        (a KeyError) when training starts without an iterator of that name.

    Examples
    --------
    >>> trainer.add_hook(bs.hooks.MonitorLoss('valid_getter',
    ...                                       name='validation'))
    >>> trainer.train(net, getter_tr, valid_getter=getter_va)
    >>> trainer.logs['validation']['total_loss']   # epoch 0, 1, ...
    """

    __undescribed__ = {'data_iter': None}

    def __init__(self, iter_name, name=None, timescale='epoch', interval=1,
                 verbose=None):
        super().__init__(name, timescale, interval, verbose)
        if not isinstance(iter_name, str):
            raise TypeError('{}: iter_name must be the name (str) of a data '
                            'iterator given to Trainer.train, got {!r}'
                            .format(type(self).__name__, iter_name))
        self.iter_name = iter_name
        self.data_iter = None

    def start(self, net, stepper, verbose, named_data_iters):
        super().start(net, stepper, verbose, named_data_iters)
        if self.iter_name not in named_data_iters:
            raise MissingIteratorError(
                '{} {!r}: no data iterator named {!r} was given to '
                'Trainer.train (available: {}); pass it as '
                'trainer.train(net, training_iter, {}=...)'.format(
                    type(self).__name__, self.__name__, self.iter_name,
                    ', '.join(repr(n) for n in sorted(named_data_iters)),
                    self.iter_name))
        self.data_iter = named_data_iters[self.iter_name]

    def _evaluate(self, net, scorers):
        if self.data_iter is None:
            raise RuntimeError('{} {!r} was called before start()'.format(
                type(self).__name__, self.__name__))
        results = gather_losses_and_scores(net, scorers, self.data_iter)
        return OrderedDict((key, _plain(value))
                           for key, value in results.items())

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        return self._evaluate(net, [])


class MonitorScores(MonitorLoss):
    """Monitor the losses and several scores on the data of a named iterator.

    Logs what :class:`MonitorLoss` logs plus the aggregated score of each
    scorer under its name (``scorer.__name__``), so that
    ``trainer.logs[name]['Accuracy']`` holds one value per call.

    Parameters
    ----------
    iter_name : str
        Name of the data iterator, as given to ``Trainer.train``.
    scorers : list[brainstorm.scorers.Scorer]
        The scorers to evaluate; their names must be distinct and differ
        from 'total_loss' (and from the names of Loss layers, which are
        logged too when there are several).
    name : str, optional
        Key of the logs in ``trainer.logs`` (default: class name).
    timescale : {'epoch', 'update'}
        Called after epochs or after updates.
    interval : int
        Called every ``interval`` epochs/updates.
    verbose : bool, optional
        Whether the logs are printed; None follows the trainer.

    Examples
    --------
    >>> scorers = [bs.scorers.Accuracy(out_name='Output.outputs.predictions')]
    >>> trainer.add_hook(bs.hooks.MonitorScores('valid_getter', scorers,
    ...                                         name='validation'))
    """

    def __init__(self, iter_name, scorers, name=None, timescale='epoch',
                 interval=1, verbose=None):
        super().__init__(iter_name, name, timescale, interval, verbose)
        if isinstance(scorers, Scorer):
            scorers = [scorers]
        scorers = list(scorers)
        seen = {'total_loss'}
        for scorer in scorers:
            if not isinstance(scorer, Scorer):
                raise TypeError('{}: scorers must be Scorer instances, got '
                                '{!r}'.format(type(self).__name__, scorer))
            if scorer.__name__ in seen:
                raise ValueError(
                    '{}: two entries would be logged as {!r}; give the '
                    'scorers distinct name=...'.format(type(self).__name__,
                                                       scorer.__name__))
            seen.add(scorer.__name__)
        self.scorers = scorers

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        return self._evaluate(net, self.scorers)


class MissingIteratorError(KeyError):
    """No data iterator of the name a monitor needs was given."""

    def __str__(self):
        return str(self.args[0]) if self.args else ''


def _plain(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return value
