"""Monitors: hooks that evaluate the network on a data set and log it, or
log statistics of the buffers of one layer."""
from collections import OrderedDict

import numpy as np

from brainstorm.hooks import Hook
from brainstorm.scorers import Scorer, gather_losses_and_scores

__all__ = ['MonitorLoss', 'MonitorScores', 'MonitorLayerParameters',
           'MonitorLayerGradients', 'MonitorLayerDeltas',
           'MonitorLayerInOuts', 'MissingIteratorError', 'MissingLayerError',
           'buffer_statistics']


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


class _MonitorLayer(Hook):
    """Base class of the hooks that log statistics of one layer's buffers.

    Subclasses set ``categories`` (the buffer categories read, such as
    'parameters') and ``with_norm``; with one category the logs are
    ``{buffer: {stat: value}}``, with several
    ``{category: {buffer: {stat: value}}}``.
    """

    categories = ()
    with_norm = False

    def __init__(self, layer_name, name=None, timescale='epoch', interval=1,
                 verbose=None):
        super().__init__(name, timescale, interval, verbose)
        if not isinstance(layer_name, str):
            raise TypeError('{}: layer_name must be the name (str) of a '
                            'layer of the network, got {!r}'.format(
                                type(self).__name__, layer_name))
        self.layer_name = layer_name

    def start(self, net, stepper, verbose, named_data_iters):
        super().start(net, stepper, verbose, named_data_iters)
        if self.layer_name not in net.layers:
            raise MissingLayerError(
                '{} {!r}: the network has no layer named {!r} (layers: '
                '{})'.format(type(self).__name__, self.__name__,
                             self.layer_name, ', '.join(net.layers)))
        if not self._buffer_paths(net):
            having = [name for name in net.layers
                      if self._buffer_paths(net, name)]
            raise ValueError(
                '{} {!r}: layer {!r} has no {} to monitor (layers that '
                'have: {})'.format(type(self).__name__, self.__name__,
                                   self.layer_name,
                                   ' or '.join(self.categories),
                                   ', '.join(having) or 'none'))

    def _buffer_paths(self, net, layer_name=None):
        """(keys in the logs, buffer path) of every buffer monitored."""
        layer_name = layer_name or self.layer_name
        layer_buffers = net.buffer[layer_name]
        paths = []
        for category in self.categories:
            for buffer_name in layer_buffers[category].keys():
                if not self._is_monitored(net, layer_name, category,
                                          buffer_name):
                    continue
                keys = (buffer_name,) if len(self.categories) == 1 \
                    else (category, buffer_name)
                paths.append((keys, '{}.{}.{}'.format(layer_name, category,
                                                      buffer_name)))
        return paths

    def _is_monitored(self, net, layer_name, category, buffer_name):
        return True

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        result = OrderedDict()
        for keys, path in self._buffer_paths(net):
            node = result
            for key in keys[:-1]:
                node = node.setdefault(key, OrderedDict())
            node[keys[-1]] = buffer_statistics(net.get(path),
                                               norm=self.with_norm)
        return result


class MonitorLayerParameters(_MonitorLayer):
    """Monitor some statistics about all the parameters of a layer.

    Logs, for each parameter buffer of the layer (``W``, ``bias`` ...), its
    ``min``, ``max``, ``mean``, ``std`` (over all entries) and ``norm`` (the
    Euclidean norm of all entries): ``trainer.logs[name]['W']['mean']`` is a
    list with one value per call.

    Parameters
    ----------
    layer_name : str
        Name of the layer whose parameters are monitored.
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
    MissingLayerError
        (a KeyError) when training starts with a network that has no layer
        ``layer_name``; the message lists the layers.
    ValueError
        When training starts and the layer has no parameters.

    Examples
    --------
    >>> trainer.add_hook(bs.hooks.MonitorLayerParameters('Hid',
    ...                                                  name='hid_params'))
    >>> trainer.logs['hid_params']['W']['std']   # epoch 0, 1, ...
    """

    categories = ('parameters',)
    with_norm = True


class MonitorLayerGradients(_MonitorLayer):
    """Monitor some statistics about all the gradients of a layer.

    Logs, for the gradient of each parameter of the layer, its ``min``,
    ``max``, ``mean``, ``std`` and ``norm`` (Euclidean):
    ``trainer.logs[name]['W']['norm']``. The gradients are those of the last
    backward pass, i.e. of the last update (all zeros before the first
    one), after the gradient modifiers.

    Parameters
    ----------
    layer_name : str
        Name of the layer whose gradients are monitored.
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
    MissingLayerError
        (a KeyError) when training starts with a network that has no layer
        ``layer_name``; the message lists the layers.
    ValueError
        When training starts and the layer has no parameters.

    Examples
    --------
    >>> trainer.add_hook(bs.hooks.MonitorLayerGradients(
    ...     'Hid', name='hid_grads', timescale='update', interval=10))
    >>> trainer.logs['hid_grads']['W']['norm']
    """

    categories = ('gradients',)
    with_norm = True


class MonitorLayerDeltas(_MonitorLayer):
    """Monitor some statistics about all the deltas of a layer.

    Logs the ``min``, ``max``, ``mean`` and ``std`` of each input delta
    and output delta of the layer, as they are after the last backward pass:
    ``trainer.logs[name]['output_deltas']['default']['std']``,
    ``trainer.logs[name]['input_deltas']['default']['max']``. The trainer
    computes all of them while this hook is added (also the input deltas
    that no parameter needs, which it skips otherwise); deltas that the
    layer never computes (the targets of a loss layer) are left out.

    The buffers are read when the hook is called: add it before hooks that
    run the network on other data (such as ``MonitorScores``), which
    overwrite them when their batches have another size. Before the first
    update all deltas are zero.

    Parameters
    ----------
    layer_name : str
        Name of the layer whose deltas are monitored.
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
    MissingLayerError
        (a KeyError) when training starts with a network that has no layer
        ``layer_name``; the message lists the layers.

    Examples
    --------
    >>> trainer.add_hook(bs.hooks.MonitorLayerDeltas('Hid', name='deltas',
    ...                                              timescale='update'))
    >>> trainer.logs['deltas']['output_deltas']['default']['std']
    """

    categories = ('input_deltas', 'output_deltas')

    def deltas_read(self, net):
        return ['{}.{}'.format(self.layer_name, category)
                for category in self.categories]

    def _is_monitored(self, net, layer_name, category, buffer_name):
        return net.deltas_computed('{}.{}.{}'.format(layer_name, category,
                                                     buffer_name))


class MonitorLayerInOuts(_MonitorLayer):
    """Monitor some statistics about all the inputs and outputs of a layer.

    Logs the ``min``, ``max``, ``mean`` and ``std`` of each input and
    output of the layer (time steps of a recurrent context left out):
    ``trainer.logs[name]['outputs']['default']['mean']``,
    ``trainer.logs[name]['inputs']['default']['min']``.

    The buffers hold the last forward pass when the hook is called: that of
    the last training batch, or of the last batch a hook called before it
    (such as ``MonitorScores``) ran the network on.

    Parameters
    ----------
    layer_name : str
        Name of the layer whose inputs and outputs are monitored.
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
    MissingLayerError
        (a KeyError) when training starts with a network that has no layer
        ``layer_name``; the message lists the layers.

    Examples
    --------
    >>> trainer.add_hook(bs.hooks.MonitorLayerInOuts('Hid', name='hid'))
    >>> trainer.logs['hid']['outputs']['default']['max']
    """

    categories = ('inputs', 'outputs')


def buffer_statistics(array, norm=False):
    """Minimum, maximum, mean and standard deviation of all entries.

    Parameters
    ----------
    array : array_like
        The values (any shape).
    norm : bool
        Whether to add the Euclidean norm of all entries.

    Returns
    -------
    OrderedDict
        ``'min'``, ``'max'``, ``'mean'``, ``'std'`` (population standard
        deviation) and, with ``norm``, ``'norm'``, as floats computed in
        float64; all NaN for an empty array.
    """
    values = np.asarray(array, dtype=np.float64).reshape(-1)
    names = ['min', 'max', 'mean', 'std'] + (['norm'] if norm else [])
    if values.size == 0:
        return OrderedDict((n, float('nan')) for n in names)
    stats = OrderedDict([('min', float(values.min())),
                         ('max', float(values.max())),
                         ('mean', float(values.mean())),
                         ('std', float(values.std()))])
    if norm:
        stats['norm'] = float(np.sqrt(np.dot(values, values)))
    return stats


class MissingLayerError(KeyError):
    """A layer monitor names a layer the network does not have."""

    def __str__(self):
        return str(self.args[0]) if self.args else ''


class MissingIteratorError(KeyError):
    """No data iterator of the name a monitor needs was given."""

    def __str__(self):
        return str(self.args[0]) if self.args else ''


def _plain(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return value
