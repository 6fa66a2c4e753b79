"""The ``brainstorm`` command: train, inspect and evaluate networks, list the
installed plugins and prepare datasets.

::

    brainstorm train [--spec SPEC | --architecture FILE] [--data FILE] ...
    brainstorm info NETWORK.hdf5
    brainstorm evaluate NETWORK.hdf5 DATA.hdf5
    brainstorm plugins
    brainstorm prepare {mnist,cifar10,cifar100,hutter} PATH... -o FILE.hdf5
    brainstorm plot LOGS.h5 [-o curves.png]

``brainstorm train`` without arguments runs the main job, the manual's
mnist_pi network (:func:`run_mnist_pi`, also used by
``examples/mnist_pi.py``). Data files have the layout of the manual's
examples: ``normalized_split/{training,validation,test}/{default,targets}``.

Exit status: 0 on success, 2 for a usage error, 1 when the command fails
(the reason is printed on stderr), 141 when the reader of the output closed
the pipe early (``brainstorm info FILE | head``), quietly.

Layers, hooks, scorers, steppers, handlers and datasets (the embedded
digits, dataset preparation: category ``datasets``, provided by
brainstorm-data) are looked up in the plugin registry.
"""
import argparse
import importlib.metadata
import inspect
import json
import os
import sys
import time
import warnings

import numpy as np

import brainstorm as bs
from brainstorm import distributed
from brainstorm.data_iterators import (check_data_shapes, check_finite,
                                       describe_value)
from brainstorm.fileio import FileFormatError, SaveError
from brainstorm.hooks import Hook
from brainstorm.plugins import (CATEGORIES, ENTRY_POINT_GROUP,
                                MissingPluginError, PluginError, registry)

__all__ = ['main', 'build_parser', 'run_mnist_pi', 'mnist_pi_network',
           'load_default_data', 'read_data_file', 'train_network',
           'use_handler', 'CommandError']

SPLIT_NAMES = ('training', 'validation', 'test')
GROUP = 'normalized_split'
TASK_TYPES = ('classification', 'multi-label', 'regression')

# Settings of the main job: the manual's on MNIST, and for the 1297 embedded
# 8x8 digits smaller batches and a larger step, which give a comparable
# number of useful updates.
HDF5_DEFAULTS = dict(epochs=500, batch_size=100, learning_rate=0.1)
DIGITS_DEFAULTS = dict(epochs=40, batch_size=20, learning_rate=0.5)


class CommandError(Exception):
    """A command failed for a reason the user can act on (exit status 1)."""


# -- data ---------------------------------------------------------------------
def _dataset(name, purpose='this command'):
    """The dataset function ``name`` from the plugin registry."""
    try:
        return registry.get('datasets', name)
    except MissingPluginError as err:
        raise CommandError('{} needs {} ({})'.format(purpose, name,
                                                     err)) from err


def load_digits_data():
    """The embedded digits of brainstorm-data (``load_digits()``)."""
    return _dataset('load_digits', 'training on the embedded digits')()


def load_default_data(verbose=True):
    """The main job's data and settings.

    ``MNIST.hdf5`` from the folder ``$BRAINSTORM_DATA_DIR`` (default
    ``../data``, as in the manual's examples) when it exists, the
    handwritten digits embedded in brainstorm-data otherwise.

    Returns
    -------
    tuple
        ({split: {'default': array, 'targets': array}}, {'epochs': int,
        'batch_size': int, 'learning_rate': float}).
    """
    data_dir = os.environ.get('BRAINSTORM_DATA_DIR', '../data')
    data_file = os.path.join(data_dir, 'MNIST.hdf5')
    if os.path.exists(data_file):
        if verbose:
            print('Data: {}'.format(data_file))
        data = read_data_file(data_file, in_memory=True)
        if verbose:
            print(split_summary(data, 'the splits stored in the file'))
        return data, dict(HDF5_DEFAULTS)
    if verbose:
        print('Data: the UCI handwritten digits embedded in brainstorm-data '
              '(set BRAINSTORM_DATA_DIR to a folder with MNIST.hdf5 to use '
              'MNIST)')
    data = load_digits_data()
    if verbose:
        print(split_summary(data, "the fixed split of brainstorm-data's "
                                  'load_digits(): its 1797 images shuffled '
                                  '(stratified by class, seed 0), then cut '
                                  'in three'))
    return data, dict(DIGITS_DEFAULTS)


def split_summary(data, origin):
    """One line saying how many examples (sequences) each split of
    ``data`` holds and where the split comes from (``origin``)."""
    parts, lengths = [], set()
    for split in SPLIT_NAMES:
        items = data.get(split, {})
        first = items.get('default', next(iter(items.values()), None))
        if first is None or len(first.shape) < 2:
            continue
        parts.append('{:,} {}'.format(int(first.shape[1]), split))
        lengths.add(int(first.shape[0]))
    what = 'examples' if lengths == {1} else 'sequences'
    if len(lengths) == 1 and lengths != {1}:
        what = 'sequences of {} steps'.format(lengths.pop())
    return 'Split: {} {} ({})'.format(', '.join(parts) or 'no data', what,
                                      origin)


def read_data_file(filename, group=GROUP, in_memory=False,
                   required=('training', 'validation')):
    """The splits of an HDF5 data file: ``{split: {name: dataset}}``.

    Parameters
    ----------
    filename : str
        HDF5 file with the groups ``group/<split>/<name>``.
    group : str
        The top-level group.
    in_memory : bool
        Read the arrays; otherwise return h5py datasets (read batch by
        batch by the iterators; the file stays open).
    required : tuple of str
        Splits that must exist.

    Raises
    ------
    CommandError
        If the file cannot be read or lacks the group or a required split.
    """
    import h5py
    from brainstorm.fileio import FileFormatError, describe_hdf5, open_hdf5
    try:
        f = open_hdf5(filename, 'data file')
    except OSError as err:
        raise CommandError('cannot read the data file {}: {}'.format(
            filename, err.strerror or err)) from err
    except FileFormatError as err:
        raise CommandError(str(err)) from err
    if not isinstance(f.get(group), h5py.Group):
        what = 'it is ' + describe_hdf5(f) if 'format' in f.attrs else \
            'it holds: ' + (', '.join(sorted(f)) or 'nothing')
        f.close()
        raise CommandError('{} has no group {!r} ({}); data files need '
                           '{}/{{training,validation,test}}/{{default,'
                           'targets}}'.format(filename, group, what, group))
    splits = {}
    try:
        for split in SPLIT_NAMES:
            if split in f[group]:
                items = f[group][split]
                splits[split] = {name: (items[name][()] if in_memory
                                        else items[name])
                                 for name in items
                                 if isinstance(items[name], h5py.Dataset)}
    except (OSError, KeyError, RuntimeError) as err:
        f.close()
        raise CommandError('{} is a damaged data file: reading it failed '
                           '({})'.format(filename, err)) from err
    missing = [s for s in required if s not in splits]
    if in_memory or missing:
        f.close()
    if missing:
        raise CommandError('{} has no {} in {!r} (it has: {})'.format(
            filename, ' or '.join('{!r}'.format(s) for s in missing), group,
            ', '.join(splits) or 'nothing'))
    return splits


def _iterator(network, items, batch_size, where, shuffle=True):
    """A Minibatches iterator over the items of ``items`` that ``network``
    takes as inputs.

    Raises
    ------
    CommandError
        If an input is missing, or the data is empty, not shaped (T, B,
        ...) with the network's feature shapes, or holds NaN or inf (items
        in memory are checked here, h5py datasets batch by batch); the
        message names the split ``where``."""
    missing = [n for n in network.input_names if n not in items]
    if missing:
        raise CommandError(
            "the network's input{} {} {} not in the {} data (it has: "
            '{})'.format('s' if len(missing) > 1 else '',
                         ', '.join(repr(n) for n in missing),
                         'are' if len(missing) > 1 else 'is', where,
                         ', '.join(sorted(items)) or 'nothing'))
    iterator = registry.get('data_iterators', 'Minibatches',
                            namespace='brainstorm.data_iterators')
    try:
        getter = iterator(batch_size, shuffle=shuffle,
                          **{n: items[n] for n in network.input_names})
        check_data_shapes(network, getter.data_shapes,
                          'the {} data'.format(where))
    except ValueError as err:
        raise CommandError('{}{}'.format(
            '' if str(err).startswith('the {} data'.format(where)) else
            'the {} data: '.format(where), err)) from err
    return getter


def _labels(items, split):
    """The targets of a split as a numpy array."""
    if 'targets' not in items:
        raise CommandError('the {} data has no {!r} (it has: {})'.format(
            split, 'targets', ', '.join(sorted(items)) or 'nothing'))
    return np.asarray(items['targets'][()])


def _class_count(data, num_classes=None):
    """The number of classes of classification data, checking the labels
    of every split.

    Labels must be class indices: integers from 0 (to ``num_classes`` - 1
    where given). Without ``num_classes`` the count is 1 + the largest
    label of all splits, and the training split must hold examples of
    every class below: one stray label (255 among 0..9, or a class the
    training data never shows) must not silently change the network.

    Raises
    ------
    CommandError
        Naming the split, the label, its index and the valid range.
    """
    labels = {split: _labels(data[split], split)
              for split in SPLIT_NAMES if split in data}
    seen = {split: _scan_labels(split, y, num_classes)
            for split, y in labels.items()}
    if num_classes is not None:
        return num_classes
    largest = {split: int(classes[-1])
               for split, classes in seen.items() if len(classes)}
    if not largest:
        return 1
    top_split = max(largest, key=lambda split: largest[split])
    count = largest[top_split] + 1
    trained = seen.get('training', np.zeros(0, np.int64))
    if len(trained) < count:
        y = labels[top_split]
        index = tuple(int(i) for i in np.unravel_index(
            int(np.argmax(y == count - 1)), y.shape))
        gaps = _missing_ranges(trained, count)
        raise CommandError(
            'the largest label is {} (the {} data, index {}), but the '
            'training data has no example of class{} {}: is it a stray '
            'label? Fix the labels, or give --num-classes to train {} '
            'classes anyway'.format(
                count - 1, top_split, index,
                'es' if count - len(trained) > 1 else '', gaps, count))
    return count


def _scan_labels(split, y, num_classes, chunk_size=2 ** 22):
    """The sorted distinct labels of ``y``, after checking chunk by chunk
    that every label is a class index (below ``num_classes`` if given)."""
    flat = y.reshape(-1)
    seen = np.zeros(0, np.int64)
    integral = y.dtype.kind in 'iub'
    for start in range(0, flat.size, chunk_size):
        part = flat[start:start + chunk_size]
        with np.errstate(invalid='ignore'):
            valid = part >= 0
            if not integral:
                valid &= part == np.floor(part)
            if num_classes is not None:
                valid &= part < num_classes
        if not valid.all():
            index = tuple(int(i) for i in np.unravel_index(
                start + int(np.argmin(valid)), y.shape))
            raise CommandError(
                'the {} data holds the label {} at index {} (targets of '
                'shape {}); labels must be class indices: integers from 0 '
                '{}'.format(split, describe_value(y[index]), index, y.shape,
                            'to {} (--num-classes {})'.format(
                                num_classes - 1, num_classes)
                            if num_classes is not None else 'up'))
        part = part.astype(np.int64)
        if part.max() < 2 ** 16:
            part = np.flatnonzero(np.bincount(part))
        seen = np.union1d(seen, part)
    return seen


def _missing_ranges(seen, count, most=4):
    """'3, 10 to 254' for the numbers in [0, count) that the sorted array
    ``seen`` lacks (the first ``most`` ranges)."""
    bounds = np.concatenate([[-1], seen[seen < count], [count]])
    parts = ['{}'.format(a + 1) if b - a == 2 else
             '{} to {}'.format(a + 1, b - 1)
             for a, b in zip(bounds[:-1], bounds[1:]) if b - a > 1]
    return ', '.join(parts[:most]) + (', ...' if len(parts) > most else '')


def _check_files_finite(network, data, chunk_size=2 ** 24):
    """Check the items of every split that are read from files (h5py
    datasets; arrays in memory are checked by the iterators) for NaN and
    inf before training, chunk by chunk along B (about ``chunk_size``
    entries each)."""
    for split in SPLIT_NAMES:
        for name, item in data.get(split, {}).items():
            if isinstance(item, np.ndarray) or \
                    name not in network.input_names or \
                    item.dtype.kind not in 'fc' or len(item.shape) < 2:
                continue
            per_sequence = max(1, int(np.prod(item.shape)) //
                               max(1, item.shape[1]))
            step = max(1, chunk_size // per_sequence)
            for start in range(0, item.shape[1], step):
                try:
                    check_finite(name, np.asarray(item[:, start:start + step]),
                                 start, item.shape)
                except ValueError as err:
                    raise CommandError('the {} data: {}'.format(split, err)) \
                        from err


def _check_targets(network, data):
    """Check the targets of every split against the network (class
    indices in range ...; ``Network.check_external_data``) before training,
    so that a bad label in the test data does not wait for the end."""
    if 'targets' not in network.input_names:
        return
    for split in SPLIT_NAMES:
        if split in data and 'targets' in data[split]:
            try:
                network.check_external_data(
                    {'targets': _labels(data[split], split)})
            except ValueError as err:
                raise CommandError('the {} data: {}'.format(split, err)) \
                    from err


# -- networks -----------------------------------------------------------------
def mnist_pi_network(in_shape, num_classes=10, hidden=1200):
    """The manual's mnist_pi network, initialised: input dropout 0.2, two
    FullyConnected layers of 1200 rectified units with dropout 0.5, a
    softmax output whose weights are constrained to an L2 norm of 1.

    Parameters
    ----------
    in_shape : tuple of int
        Feature shape of the input data.
    num_classes : int
        Number of classes.
    hidden : int
        Units of each hidden layer (the manual's 1200).
    """
    inp, fc = bs.tools.get_in_out_layers('classification', in_shape,
                                         num_classes, projection_name='FC')
    network = bs.Network.from_layer(
        inp >>
        bs.layers.Dropout(drop_prob=0.2) >>
        bs.layers.FullyConnected(hidden, name='Hid1', activation='rel') >>
        bs.layers.Dropout(drop_prob=0.5) >>
        bs.layers.FullyConnected(hidden, name='Hid2', activation='rel') >>
        bs.layers.Dropout(drop_prob=0.5) >>
        fc
    )
    network.initialize(bs.initializers.Gaussian(0.01))
    network.set_weight_modifiers({'FC': bs.value_modifiers.ConstrainL2Norm(1)})
    return network


def _task_out_shape(task_type, data, num_classes=None):
    """The output shape of a --spec or mnist_pi network: the number of
    classes (see ``_class_count``) or the targets' feature shape."""
    if task_type == 'classification':
        return _class_count(data, num_classes)
    return tuple(int(s) for s in data['training']['targets'].shape[2:])


def network_from_architecture_file(filename):
    """A network from a JSON file holding an architecture dict (manual
    9.3), or a network description with an 'architecture' entry."""
    try:
        with open(filename) as f:
            architecture = json.load(f)
    except (OSError, ValueError) as err:
        raise CommandError('cannot read the architecture file {}: {}'.format(
            filename, err)) from err
    if isinstance(architecture, dict) and 'architecture' in architecture:
        architecture = architecture['architecture']
    if not isinstance(architecture, dict):
        raise CommandError('{}: an architecture is a JSON object mapping '
                           'layer names to layer descriptions, got {}'.format(
                               filename, type(architecture).__name__))
    return bs.Network.from_architecture(architecture)


# -- training -----------------------------------------------------------------
def _scorer(name):
    return registry.get('scorers', name, namespace='brainstorm.scorers')()


def train_network(network, data, stepper, epochs, batch_size, output,
                  scorers=('Accuracy',), progress=True, verbose=True,
                  logs=None, network_name=None):
    """Train ``network`` with a progress bar and the validation scores after
    every epoch, save the best network to ``output``, and score that saved
    network on the test data (if there is any).

    The best network is the one of highest validation accuracy when
    'Accuracy' is among the scorers, of lowest validation loss otherwise,
    among the networks of epochs 1 and later (the network before training
    is never saved as the best one) whose parameters, training loss and
    validation loss are finite.

    All splits are checked before training: the data (see
    :func:`_iterator`) and the targets of every split against the network
    (class indices in range ...).

    Parameters
    ----------
    network : Network
    data : dict
        {'training' | 'validation' [| 'test']: {name: array or h5py
        dataset shaped (T, B, ...)}}.
    stepper : brainstorm.training.TrainingStepper
    epochs : int
    batch_size : int
        Minibatch size of the training data.
    output : str
        HDF5 file of the best network.
    scorers : sequence of str
        Names of registered scorers.
    progress : bool
        Show a progress bar (on terminals).
    verbose : bool
        Print the settings (network, stepper and its effective step size,
        epochs), a line per epoch (the training loss, averaged over the
        epoch's minibatches, the validation loss and scores, the wall time
        of the epoch) and the results.
    logs : str, optional
        HDF5 file the trainer logs are saved to after every epoch (the
        ``SaveLogs`` hook of brainstorm-hooks; ``brainstorm plot`` draws
        them).
    network_name : str, optional
        What the network is, for the settings (e.g. ``'mnist_pi'``).

    Returns
    -------
    tuple
        (the Trainer, the test results of the best network as returned by
        ``bs.tools.evaluate``, or None without test data).

    Raises
    ------
    CommandError
        If the data is unfit (empty, NaN, a label out of range ...), if no
        network was saved (the training diverged before a network was
        better than nothing, or no validation value was finite), or if the
        training diverged (after the best network so far was saved and
        scored).
    """
    comm = distributed.world()
    if comm.rank != 0:   # a data-parallel job: rank 0 prints and writes
        verbose = False   # (the same hooks on every rank: the progress
        # bar shows itself on rank 0 only)
    getter_tr = _iterator(network, data['training'], batch_size, 'training')
    getter_va = _iterator(network, data['validation'], 100, 'validation')
    getter_te = _iterator(network, data['test'], 100, 'test',
                          shuffle=False) if 'test' in data else None
    _check_targets(network, data)
    _check_files_finite(network, data)
    score_list = [_scorer(name) for name in scorers]
    if 'Accuracy' in scorers:
        best_log, criterion = 'validation.Accuracy', 'max'
    else:
        best_log, criterion = 'validation.total_loss', 'min'

    trainer = bs.Trainer(stepper, verbose=verbose)
    if progress:
        trainer.add_hook(bs.hooks.ProgressBar())
    # the validation scores and the saves are printed by the table of
    # epochs (_EpochTable), one line per epoch
    trainer.add_hook(bs.hooks.MonitorScores('valid_getter', score_list,
                                            name='validation',
                                            verbose=False))
    divergence = bs.hooks.StopOnNan(['validation.total_loss'])
    trainer.add_hook(divergence)
    saver = bs.hooks.SaveBestNetwork(best_log, filename=output,
                                     name='best weights',
                                     criterion=criterion, verbose=False)
    trainer.add_hook(_TrainedAndFinite(saver, divergence))
    trainer.add_hook(_EpochTable(saver))
    trainer.add_hook(bs.hooks.StopAfterEpoch(epochs))
    if logs is not None:   # last: it saves what the others logged
        trainer.add_hook(bs.hooks.SaveLogs(logs, name='logs',
                                           verbose=False))
    key = best_log.split('.', 1)[1]
    what = 'accuracy' if key == 'Accuracy' else key
    if verbose:
        print('Handler: {!r}'.format(network.handler), file=sys.stderr)
        print(network_summary(network, network_name))
        print('Stepper: {}'.format(describe_stepper(stepper)))
        # a data-parallel job: each update takes a batch on every rank
        updates = -(-getter_tr.length // comm.size) if getter_tr.length \
            else '?'
        print('Training: {} epoch{} of {} update{} (batches of {}{}); after '
              'every epoch the network of highest validation {} is saved '
              'to {}{}'.format(
                  epochs, '' if epochs == 1 else 's', updates,
                  '' if updates == 1 else 's', batch_size,
                  ' on each of {} processes'.format(comm.size)
                  if comm.size > 1 else '',
                  what if criterion == 'max' else what + ' (lowest)',
                  output, '' if logs is None else
                  ', the logs to {} (brainstorm plot {} draws them)'.format(
                      logs, logs)))
    trainer.train(network, getter_tr, valid_getter=getter_va)

    if saver.best_value is None:
        stale = ' ({} is left from an earlier run)'.format(output) \
            if os.path.exists(output) else ''
        if divergence.reason is not None:
            raise CommandError('{}; no network was saved{}'.format(
                divergence.reason, stale))
        raise CommandError('no network was saved{}: the validation {} was '
                           'never a number'.format(stale, what))
    if verbose:
        print('Best validation {}: {} (epoch {})'.format(
            what, _number(saver.best_value), saver.best_epoch))
    result = None
    if getter_te is not None:
        if comm.size > 1:   # the file is rank 0's; the others may not see it
            best_net = bs.Network.from_hdf5(output) if comm.rank == 0 \
                else network
            distributed.broadcast_parameters(comm, best_net)
        else:
            best_net = bs.Network.from_hdf5(output)
        result = bs.tools.evaluate(best_net, getter_te, score_list)
        if verbose:
            if 'Accuracy' in result:
                print('Test accuracy of the best network ({}): {:.4f}'.format(
                    output, result['Accuracy']))
            else:
                print('Test results of the best network ({}): {}'.format(
                    output, _format_results(result)))
    if divergence.reason is not None:
        raise CommandError('{}; the best network before that (epoch {}) is '
                           'in {}'.format(divergence.reason, saver.best_epoch,
                                          output))
    return trainer, result


class _TrainedAndFinite(Hook):
    """Calls ``hook`` (a SaveBestNetwork) from epoch 1 on, and only while
    ``divergence`` (a StopOnNan called before it) found nothing: neither the
    untrained network nor a diverged one is ever the best network."""

    def __init__(self, hook, divergence):
        super().__init__(hook.__name__, hook.timescale, hook.interval,
                         hook.verbose)
        self.hook, self.divergence = hook, divergence

    def start(self, net, stepper, verbose, named_data_iters):
        super().start(net, stepper, verbose, named_data_iters)
        self.hook.start(net, stepper, verbose, named_data_iters)

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if epoch_nr >= 1 and self.divergence.reason is None:
            return self.hook(epoch_nr, update_nr, net, stepper, logs)


def _number(value):
    """A logged value with a fixed number of decimals."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    if value != value or value in (float('inf'), float('-inf')):
        return str(value)
    return '{:.4e}'.format(value) if abs(value) >= 1e6 else \
        '{:.4f}'.format(value)


class _EpochTable(Hook):
    """Prints a line per epoch: the training loss (the mean over the
    epoch's minibatches), the validation loss and scores, the wall time of
    the epoch (training and validation), and whether the network was saved
    as the best one (``saver`` is the SaveBestNetwork)."""

    def __init__(self, saver):
        super().__init__('epochs')
        self.saver = saver
        self._columns = self._last = None

    def start(self, net, stepper, verbose, named_data_iters):
        super().start(net, stepper, verbose, named_data_iters)
        self._last = time.perf_counter()

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        now, last = time.perf_counter(), self._last
        self._last = now
        if not self.run_verbosity or not distributed.is_writer():
            return
        validation = dict(_flat_last(logs.get('validation', {})))
        training = logs.get('rolling_training', {}).get('total_loss', [])
        if self._columns is None:
            self._columns = ['total_loss'] + [k for k in validation
                                              if k != 'total_loss']
            titles = ['epoch', 'training loss'] + [
                'validation loss' if k == 'total_loss' else 'validation ' + k
                for k in self._columns] + ['time (s)']
            self._widths = [max(len(t), 10) for t in titles]
            self._widths[0] = 5
            print('  '.join(t.rjust(w) for t, w in zip(titles,
                                                        self._widths)))
        cells = [str(epoch_nr),
                 _number(training[-1]) if epoch_nr > 0 and training
                 else '-']
        cells += [_number(validation[k]) if k in validation else '-'
                  for k in self._columns]
        cells.append('{:.2f}'.format(now - last) if epoch_nr > 0 else '-')
        line = '  '.join(c.rjust(w) for c, w in zip(cells, self._widths))
        if epoch_nr > 0 and self.saver.best_epoch == epoch_nr:
            line += '  saved'
        print(line)


def _flat_last(node, prefix=''):
    """(dotted name, last value) of every entry of a hook's logs."""
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _flat_last(value, prefix + key + '.')
        elif value:
            yield prefix + key, value[-1]


def network_summary(network, name=None):
    """The network for the settings of ``brainstorm train``: its name, its
    size, and a line per layer (type, arguments, parameters)."""
    total = network.buffer_manager.num_parameters
    lines = ['Network: {}{} layers, {:,} parameters'.format(
        name + ', ' if name else '', len(network.layers), total)]
    width = max(len(n) for n in network.layers)
    for layer_name, layer in network.layers.items():
        arguments = ', '.join(
            '{}={!r}'.format(k, tuple(v) if isinstance(v, list) else v)
            for k, v in sorted(layer.kwargs.items())) \
            if layer.get_layer_type() != 'Input' else ''
        count = sum(int(np.prod(s.shape))
                    for s in layer.parameter_shapes.values()) \
            if layer.parameter_shapes else 0
        lines.append('  {}  {}{}{}'.format(
            layer_name.ljust(width), layer.get_layer_type(),
            '({})'.format(arguments) if arguments else '',
            ': {:,} parameters'.format(count) if count else ''))
    return '\n'.join(lines)


def describe_stepper(stepper):
    """The stepper with its settings and, for the momentum steppers, the
    step size they really use: with ``scale_learning_rate`` (the default)
    the gradient is scaled by (1 - momentum) x learning_rate."""
    names = [n for n in ('learning_rate', 'momentum', 'scale_learning_rate',
                         'decay', 'beta1', 'beta2', 'epsilon')
             if hasattr(stepper, n)]
    text = '{}({})'.format(type(stepper).__name__, ', '.join(
        '{}={}'.format(n, getattr(stepper, n)) for n in names))
    momentum = getattr(stepper, 'momentum', None)
    if momentum is not None and hasattr(stepper, 'learning_rate'):
        if getattr(stepper, 'scale_learning_rate', False):
            text += ('; effective step size (1 - momentum) x learning_rate '
                     '= (1 - {}) x {} = {:.6g}'.format(
                         momentum, stepper.learning_rate,
                         (1 - momentum) * stepper.learning_rate))
        else:
            text += '; step size = learning_rate = {}'.format(
                stepper.learning_rate)
    return text


def run_mnist_pi(epochs=None, batch_size=None, learning_rate=None,
                 output='mnist_pi_best.hdf5', progress=True, seed=42,
                 hidden=1200):
    """The main job: train the manual's mnist_pi network.

    On ``MNIST.hdf5`` from ``$BRAINSTORM_DATA_DIR`` (500 epochs, batches of
    100, learning rate 0.1) or, without it, on the digits embedded in
    brainstorm-data (40 epochs, batches of 20, learning rate 0.5), with a
    momentum stepper (momentum 0.9), a progress bar, the validation
    accuracy after every epoch, the best network saved to ``output`` and
    its test accuracy printed.

    Parameters
    ----------
    epochs, batch_size, learning_rate : optional
        Override the settings above.
    output : str
        Where the best network is saved.
    progress : bool
        Show a progress bar (on terminals).
    seed : int
        Seed of ``bs.global_rnd``.
    hidden : int
        Units of each hidden layer (see :func:`mnist_pi_network`).

    Returns
    -------
    dict
        The test results of the best network ('Accuracy', 'total_loss').
    """
    bs.global_rnd.set_seed(seed)
    data, defaults = load_default_data()
    epochs = epochs or defaults['epochs']
    batch_size = batch_size or defaults['batch_size']
    learning_rate = learning_rate or defaults['learning_rate']
    network = mnist_pi_network(data['training']['default'].shape[2:], 10,
                               hidden=hidden)
    use_handler(network)
    stepper = bs.training.MomentumStepper(learning_rate=learning_rate,
                                          momentum=0.9)
    return train_network(network, data, stepper, epochs, batch_size,
                         output, progress=progress,
                         network_name='mnist_pi')[1]


def _stepper_names():
    names = {}
    for name in registry.names('steppers'):
        short = name[:-len('Stepper')] if name.endswith('Stepper') else name
        names[short.lower()] = name
    return names


def _stepper_class(parser, args):
    class_name = _stepper_names()[args.stepper]
    stepper_class = registry.get('steppers', class_name,
                                 namespace='brainstorm.training')
    if args.momentum is not None and \
            'momentum' not in inspect.signature(stepper_class).parameters:
        parser.error('--momentum: the {} stepper ({}) has no momentum'
                     .format(args.stepper, class_name))
    return stepper_class


def _make_stepper(parser, args):
    stepper_class = _stepper_class(parser, args)
    kwargs = {}
    if args.learning_rate is not None:
        kwargs['learning_rate'] = args.learning_rate
    if 'momentum' in inspect.signature(stepper_class).parameters:
        kwargs['momentum'] = 0.9 if args.momentum is None else args.momentum
    return stepper_class(**kwargs)


def _make_handler(name):
    handler_class = registry.get('handlers', name,
                                 namespace='brainstorm.handlers')
    parameters = inspect.signature(handler_class).parameters
    if 'handler' in parameters and \
            parameters['handler'].default is inspect.Parameter.empty:
        # a wrapping handler (DebugHandler) around the default one
        numpy_handler = registry.get('handlers', 'NumpyHandler')
        return handler_class(numpy_handler())
    try:
        return handler_class()
    except TypeError as err:
        raise CommandError('--handler {}: it cannot be created without '
                           'arguments ({})'.format(name, err)) from err


def use_handler(network, name=None):
    """Put ``network`` on the handler class registered as ``name``, or
    without a name on the fastest CPU handler installed
    (:func:`brainstorm.handlers.best_cpu_handler`); returns the handler.
    (:func:`train_network` says on stderr which handler runs, one line.)"""
    if name is not None:
        handler = _make_handler(name)
    else:
        handler = bs.handlers.best_cpu_handler()
    if name is not None or type(handler) is not type(network.handler):
        network.set_handler(handler)
    return network.handler


# hooks train_network adds, and the classes the mnist_pi network and the
# output layers of get_in_out_layers take from plugins
_TRAIN_HOOKS = ('MonitorScores', 'StopOnNan', 'SaveBestNetwork',
                'StopAfterEpoch')
_MNIST_PI_CLASSES = (('layers', 'Dropout'), ('layers', 'FullyConnected'),
                     ('initializers', 'Gaussian'),
                     ('value_modifiers', 'ConstrainL2Norm'))


def _architecture_layer_types(filename):
    """The ``@type`` of every layer of an architecture JSON file (empty
    when the file cannot be read: network_from_architecture_file reports
    that)."""
    try:
        with open(filename) as f:
            architecture = json.load(f)
    except (OSError, ValueError):
        return []
    if isinstance(architecture, dict) and 'architecture' in architecture:
        architecture = architecture['architecture']
    if not isinstance(architecture, dict):
        return []
    return [layer['@type'] for layer in architecture.values()
            if isinstance(layer, dict) and isinstance(layer.get('@type'), str)]


def _spec_layer_types(spec):
    """The layer types a spec string names (empty when it does not parse:
    create_net_from_spec reports that)."""
    try:
        from brainstorm.tools.spec import parse_spec
        return [layer.layer_type for layer in parse_spec(spec)]
    except (ImportError, ValueError, TypeError):
        return []


def _classes_needed_for_training(args):
    """(category, name) of every registered class that ``brainstorm
    train`` with these arguments will look up."""
    from brainstorm.tools.networks import _LOSS_LAYERS
    needed = []
    if args.data is None and not os.path.exists(os.path.join(
            os.environ.get('BRAINSTORM_DATA_DIR', '../data'), 'MNIST.hdf5')):
        needed.append(('datasets', 'load_digits'))
    needed.append(('data_iterators', 'Minibatches'))
    if args.handler is not None:
        needed.append(('handlers', args.handler))
    if args.architecture is not None:
        needed += [('layers', t)
                   for t in _architecture_layer_types(args.architecture)]
        needed.append(('initializers', 'Gaussian'))
    else:
        if args.spec is not None:
            needed += [('layers', t) for t in _spec_layer_types(args.spec)]
            if args.init_std is not None:
                needed.append(('initializers', 'Gaussian'))
        else:
            needed += list(_MNIST_PI_CLASSES)
        needed += [('layers', 'FullyConnected'),
                   ('layers', _LOSS_LAYERS[args.task]), ('layers', 'Loss')]
    if not args.no_progress:
        needed.append(('hooks', 'ProgressBar'))
    needed += [('hooks', name) for name in _TRAIN_HOOKS]
    if getattr(args, 'logs', None) is not None:
        needed.append(('hooks', 'SaveLogs'))
    scorers = args.scorer or (['Accuracy'] if args.task == 'classification'
                              else [])
    needed += [('scorers', name) for name in scorers]
    return list(dict.fromkeys(needed))


def check_plugins_installed(needed, what='this command'):
    """Look up every (category, name) of ``needed`` in the plugin registry
    and raise one error naming all that are missing.

    Raises
    ------
    CommandError
        Listing each missing class with the distribution that provides it
        (grouped, with one ``pip install`` line for all of them), or the
        reason it is unavailable (a plugin that failed to load, a name two
        plugins provide, a name no known plugin provides).
    """
    from brainstorm.plugins import PluginConflictError, _suggested_distribution
    by_dist, unknown, other = {}, {}, []
    for category, name in needed:
        try:
            registry.get(category, name)
        except PluginConflictError as err:
            other.append(str(err))
        except MissingPluginError as err:
            dist = _suggested_distribution(category, name)
            if dist is None:
                unknown.setdefault(category, []).append(name)
            elif dist in registry.failures:
                other.append(str(err))
            else:
                by_dist.setdefault(dist, []).append('{} {}'.format(
                    category.rstrip('s').replace('_', ' '), name))
    count = sum(len(v) for v in by_dist.values()) + len(other) + \
        sum(len(v) for v in unknown.values())
    if not count:
        return
    for category, names in unknown.items():
        other.append('{} {}: no installed plugin provides {} (available: '
                     '{})'.format(category.rstrip('s').replace('_', ' ') +
                                  ('s' if len(names) > 1 else ''), ', '.join(
                         repr(name) for name in names),
                         'them' if len(names) > 1 else 'it',
                         ', '.join(registry.names(category)) or 'none'))
    lines = ['{} needs {} class{} that {} not available:'.format(
        what, count, 'es' if count > 1 else '', 'are' if count > 1 else 'is')]
    lines += ['  {} (not installed): {}'.format(dist, ', '.join(names))
              for dist, names in by_dist.items()]
    lines += ['  {}'.format(message) for message in other]
    if by_dist:
        lines.append('Install {}: pip install {} (from the root of the '
                     'brainstorm repository: pip install {})'.format(
                         'them' if len(by_dist) > 1 else 'it',
                         ' '.join(by_dist), ' '.join(
                             'packages/' + dist for dist in by_dist)))
    raise CommandError('\n'.join(lines))


def cmd_train(parser, args):
    custom = args.spec is not None or args.architecture is not None
    if not custom and args.task != 'classification':
        parser.error('--task {}: the mnist_pi network is a classifier; give '
                     '--spec or --architecture'.format(args.task))
    if args.num_classes is not None and args.task != 'classification':
        parser.error('--num-classes: only for --task classification')
    _stepper_class(parser, args)
    check_plugins_installed(_classes_needed_for_training(args),
                            'brainstorm train')
    bs.global_rnd.set_seed(args.seed)
    if not distributed.is_writer():
        _discard_stdout()   # a data-parallel job: only rank 0 prints
    if args.data is not None:
        print('Data: {}'.format(args.data))
        data = read_data_file(args.data, args.group)
        print(split_summary(data, 'the splits stored in the file under '
                                  '{}/'.format(args.group)))
        defaults = dict(HDF5_DEFAULTS)
    else:
        data, defaults = load_default_data()
    if args.learning_rate is None and args.stepper in ('sgd', 'momentum',
                                                       'nesterov'):
        args.learning_rate = defaults['learning_rate']
    stepper = _make_stepper(parser, args)

    training = data['training']
    for name in ('default', 'targets'):
        if name not in training:
            raise CommandError('the training data has no {!r} (it has: {})'
                               .format(name, ', '.join(sorted(training))))
    in_shape = tuple(int(s) for s in training['default'].shape[2:])
    if args.architecture is None or args.num_classes is not None:
        # an architecture has its classes: train_network checks the labels
        out_shape = _task_out_shape(args.task, data, args.num_classes)
    if args.spec is not None:
        network = bs.tools.create_net_from_spec(args.task, in_shape,
                                                out_shape, args.spec)
        if args.init_std is not None:
            network.initialize(bs.initializers.Gaussian(args.init_std))
    elif args.architecture is not None:
        network = network_from_architecture_file(args.architecture)
        network.initialize(bs.initializers.Gaussian(args.init_std or 0.01))
    else:
        network = mnist_pi_network(in_shape, out_shape)
    use_handler(network, args.handler)
    default_output = 'best_network.hdf5' if custom else 'mnist_pi_best.hdf5'
    scorers = args.scorer or (['Accuracy'] if args.task == 'classification'
                              else [])
    if args.spec is not None:
        network_name = '--spec {!r}'.format(args.spec)
    elif args.architecture is not None:
        network_name = 'the architecture of {}'.format(args.architecture)
    else:
        network_name = 'mnist_pi'
    train_network(network, data, stepper,
                  args.epochs or defaults['epochs'],
                  args.batch_size or defaults['batch_size'],
                  args.output or default_output, scorers=scorers,
                  progress=not args.no_progress, logs=args.logs,
                  network_name=network_name)
    return 0


# -- plot ---------------------------------------------------------------------
def cmd_plot(parser, args):
    if not os.path.exists(args.logs):
        raise CommandError('no such logs file: {} (brainstorm train --logs '
                           'FILE writes one)'.format(args.logs))
    output = args.output or os.path.splitext(args.logs)[0] + '.png'
    save_logs = registry.get('hooks', 'SaveLogs', namespace='brainstorm.hooks')
    try:
        curves = save_logs.plot(args.logs, output, title=args.title)
    except ImportError as err:
        raise CommandError(str(err)) from err
    except ValueError as err:
        raise CommandError(str(err)) from err
    print('Wrote {}: {}'.format(output, '; '.join(
        '{} ({})'.format('loss' if quantity == 'total_loss' else quantity,
                         ', '.join('training' if hook == 'rolling_training'
                                   else hook for hook in lines))
        for quantity, lines in curves.items())))
    return 0


# -- info and evaluate --------------------------------------------------------
def _load_network(filename):
    if not os.path.exists(filename):
        raise CommandError('no such network file: {}'.format(filename))
    try:
        return bs.Network.from_hdf5(filename)
    except OSError as err:
        raise CommandError('cannot read the network file {}: {}'.format(
            filename, err.strerror or err)) from err
    except bs.FileFormatError as err:
        raise CommandError(str(err)) from err


def _readable_json(value, depth=0):
    """``value`` as JSON for people to edit: one key per line, lists of
    numbers and strings (shapes, connections) on one line."""
    nested = isinstance(value, dict) or (isinstance(value, list) and any(
        isinstance(item, (dict, list)) for item in value))
    if not value or not nested:
        return json.dumps(value)
    pad, end = '  ' * (depth + 1), '  ' * depth
    if isinstance(value, dict):
        items = ['{}{}: {}'.format(pad, json.dumps(str(key)),
                                   _readable_json(item, depth + 1))
                 for key, item in value.items()]
        return '{\n' + ',\n'.join(items) + '\n' + end + '}'
    items = [pad + _readable_json(item, depth + 1) for item in value]
    return '[\n' + ',\n'.join(items) + '\n' + end + ']'


def cmd_info(parser, args):
    network = _load_network(args.network)
    if args.architecture:
        # JSON that `brainstorm train --architecture` and
        # bs.Network.from_architecture read back
        print(_readable_json(network.architecture))
        return 0
    print('File: {}'.format(args.network))
    print(bs.tools.get_network_info(network))
    return 0


def _format_results(results):
    return ', '.join('{}: {:.4f}'.format(k, v) for k, v in results.items())


def cmd_evaluate(parser, args):
    network = _load_network(args.network)
    data = read_data_file(args.data, args.group, required=(args.split,))
    scorers = [_scorer(name) for name in (args.scorer or ['Accuracy'])]
    getter = _iterator(network, data[args.split], args.batch_size,
                       args.split, shuffle=False)
    results = bs.tools.evaluate(network, getter, scorers)
    print('{} on {} ({}/{}):'.format(args.network, args.data, args.group,
                                     args.split))
    for key, value in results.items():
        print('  {}: {:.4f}'.format(key, value))
    return 0


# -- plugins ------------------------------------------------------------------
def _distributions():
    """{entry-point name: (distribution name, version)} of the installed
    brainstorm plugins."""
    dists = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist is not None else ep.name
        version = ep.dist.version if ep.dist is not None else None
        dists.setdefault(ep.name, (dist, version))
    return dists


def cmd_new_plugin(parser, args):
    from brainstorm.scaffold import ScaffoldError, new_plugin
    try:
        root = new_plugin(args.name, args.directory, layer=args.layer)
    except ScaffoldError as err:
        parser.error(str(err))
    print('wrote the plugin distribution {} ({} files); next:\n'
          '    cd {}\n    pip install -e ".[test]"\n    python -m pytest'
          .format(root, sum(1 for p in root.rglob('*') if p.is_file()),
                  root))
    return 0


def cmd_plugins(parser, args):
    with warnings.catch_warnings():
        # failures and conflicts are listed below
        warnings.simplefilter('ignore', RuntimeWarning)
        registry.load()
    provided = registry.plugin_info()
    dists = _distributions()
    names = [name for name, _ in registry.plugin_manager.list_name_plugin()]
    for name in sorted(set(names) | set(provided)):
        dist, version = dists.get(name, (name, None))
        print('{} {}'.format(dist, version or '(not installed)'))
        contributions = provided.get(name, {})
        if not contributions:
            print('  provides nothing')
        for category in CATEGORIES:
            if category in contributions:
                print('  {}: {}'.format(category.replace('_', ' '),
                                        ', '.join(sorted(
                                            contributions[category]))))
    if registry.conflicts:
        print('Provided by several plugins, so not used (uninstall all but '
              'one):')
        for (category, name), plugins in sorted(registry.conflicts.items()):
            versions = [dists.get(p, (p, None)) for p in plugins]
            print('  {} {!r}: {}'.format(
                category.rstrip('s').replace('_', ' '), name, ', '.join(
                    dist if version is None else '{} {}'.format(dist, version)
                    for dist, version in versions)))
    if registry.failures:
        print('Failed to load:')
        for dist, message in sorted(registry.failures.items()):
            version = dists.get(dist, (dist, None))[1]
            print('  {} {}: {}'.format(dist, version or '', message))
    return 1 if registry.failures or registry.conflicts else 0


# -- prepare ------------------------------------------------------------------
def _mnist_paths(paths, standard):
    if len(paths) == 1 and os.path.isdir(paths[0]):
        found = {}
        for key, name in standard.items():
            for candidate in (name, name[:-len('.gz')]):
                path = os.path.join(paths[0], candidate)
                if os.path.exists(path):
                    found[key] = path
                    break
        missing = [standard[k] for k in standard if k not in found]
        if missing:
            raise CommandError('{} lacks the MNIST file{} {}'.format(
                paths[0], 's' if len(missing) > 1 else '',
                ', '.join(missing)))
        return found
    if len(paths) != 4:
        raise CommandError('mnist takes the four files {} (or the folder '
                           'holding them), got {} path{}'.format(
                               ', '.join(standard.values()), len(paths),
                               '' if len(paths) == 1 else 's'))
    found = {}
    for path in paths:
        base = os.path.basename(path)
        keys = [k for k, name in standard.items()
                if base.startswith(name.split('-idx')[0])]
        if len(keys) != 1:
            raise CommandError(
                '{}: cannot tell which MNIST file this is; the names start '
                'with train-images, train-labels, t10k-images or '
                't10k-labels'.format(path))
        if keys[0] in found:
            raise CommandError('{} and {} are both {}'.format(
                found[keys[0]], path, standard[keys[0]]))
        found[keys[0]] = path
    return found


def _split_part(text):
    """A part of ``prepare hutter --split``: a byte count, or a percentage
    of the file such as ``90%``."""
    if text.endswith('%'):
        try:
            value = float(text[:-1])
        except ValueError:
            value = -1.0
        if not 0 <= value <= 100:
            raise argparse.ArgumentTypeError(
                'expected a percentage from 0% to 100%, got {!r}'.format(
                    text))
        return value / 100
    return _non_negative_int(text)


def _text_split(split):
    """``--split`` as prepare_hutter takes it: None (the default), 3 byte
    counts or 3 fractions."""
    if split is None:
        return None
    kinds = {type(part) for part in split}
    if len(kinds) > 1:
        raise CommandError('--split {}: give 3 byte counts or 3 percentages, '
                           'not both'.format(' '.join(
                               '{:g}%'.format(100 * p) if isinstance(p, float)
                               else str(p) for p in split)))
    return tuple(split)


def cmd_prepare(parser, args):
    if args.dataset != 'hutter':
        for option, value in (('--member', args.member),
                              ('--split', args.split)):
            if value is not None:
                parser.error('{}: only for hutter (text files)'.format(
                    option))
    prepare = _dataset('prepare_' + args.dataset, 'brainstorm prepare')
    for path in args.paths:
        if not os.path.exists(path):
            raise CommandError('no such file: {}'.format(path))
    options = {'compression': args.compression}
    if args.dataset != 'hutter' and args.validation_size is not None:
        options['validation_size'] = args.validation_size
    if args.dataset == 'mnist':
        files = _mnist_paths(args.paths, prepare.standard_files)
        prepare(files['train_images'], files['train_labels'],
                files['test_images'], files['test_labels'], args.output,
                **options)
    else:
        if len(args.paths) != 1:
            raise CommandError('{} takes one archive, got {} paths'.format(
                args.dataset, len(args.paths)))
        archive = args.paths[0]
        if args.dataset == 'cifar100':
            options['label_type'] = args.label_type
        elif args.dataset == 'hutter':
            options.update(split=_text_split(args.split),
                           seq_len=args.seq_len, member=args.member,
                           log=print)
        try:
            prepare(archive, args.output, **options)
        except ValueError as err:   # they name the file and what is wrong
            raise CommandError(str(err)) from err
    print('Wrote {}'.format(args.output))
    return 0


# -- the parser ---------------------------------------------------------------
def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            'expected a positive integer, got {!r}'.format(text)) from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            'expected a positive integer, got {}'.format(value))
    return value


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(
            'expected an integer >= 0, got {!r}'.format(text))
    return value


# argument types for scripts built on this module (the examples)
positive_int, non_negative_int = _positive_int, _non_negative_int


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(
            'expected a positive number, got {!r}'.format(text))
    return value


def build_parser():
    """The argument parser of the ``brainstorm`` command."""
    parser = argparse.ArgumentParser(
        prog='brainstorm',
        description='Train, inspect and evaluate brainstorm networks, list '
                    'the installed plugins, prepare datasets.',
        epilog='Exit status: 0 on success, 2 for usage errors, 1 when the '
               'command fails.')
    parser.add_argument('--version', action='version',
                        version='brainstorm {}'.format(bs.__version__))
    commands = parser.add_subparsers(dest='command', metavar='COMMAND')
    commands.required = True

    train = commands.add_parser(
        'train', help='train a network',
        description='Train a network given as a spec string (--spec) or an '
                    'architecture JSON file (--architecture), or else the '
                    "manual's mnist_pi network. Without arguments this runs "
                    'the main job: mnist_pi on MNIST.hdf5 from '
                    '$BRAINSTORM_DATA_DIR, or on the digits embedded in '
                    'brainstorm-data. Shows a progress bar and the '
                    'validation scores after every epoch, saves the best '
                    'network and prints its test accuracy.')
    model = train.add_mutually_exclusive_group()
    model.add_argument('--spec', help="network spec string for "
                                      "bs.tools.create_net_from_spec, e.g. "
                                      "'D.2 F1200 D F1200 D'; any "
                                      "installed layer can be named, with "
                                      "keyword arguments in parentheses: "
                                      "'F64 Dropout(drop_prob=0.1) F64' "
                                      "(grammar: docs/spec-strings.md)")
    model.add_argument('--architecture', metavar='FILE',
                       help='JSON file holding an architecture dict')
    train.add_argument('--task', choices=TASK_TYPES,
                       default='classification',
                       help='task type of --spec networks (default: '
                            'classification)')
    train.add_argument('--data', metavar='FILE',
                       help='HDF5 data file (default: the main job\'s data)')
    train.add_argument('--group', default=GROUP,
                       help='top-level group of the data file (default: '
                            '%(default)s)')
    train.add_argument('--num-classes', type=_positive_int,
                       help='number of classes of a classification task '
                            '(default: 1 + the largest label of all splits, '
                            'where the training data must show every '
                            'class; with --architecture: that of the '
                            'network); labels outside 0..N-1 are an error')
    train.add_argument('--epochs', type=_positive_int,
                       help='number of epochs (default: 500 on a data file, '
                            '40 on the embedded digits)')
    train.add_argument('--batch-size', type=_positive_int,
                       help='minibatch size (default: 100 on a data file, '
                            '20 on the embedded digits)')
    steppers = sorted(_stepper_names())
    train.add_argument('--stepper', choices=steppers, default='momentum',
                       help='training stepper (default: %(default)s)')
    train.add_argument('--learning-rate', type=_positive_float,
                       help='learning rate (default for sgd, momentum and '
                            'nesterov: 0.1 on a data file, 0.5 on the '
                            "embedded digits; the stepper's own default for "
                            'the others). The momentum and nesterov '
                            "steppers scale it, as the manual's "
                            'MomentumStepper does (scale_learning_rate=True):'
                            ' each step adds (1 - momentum) x learning_rate '
                            'x the gradient to the velocity, so 0.5 with '
                            'momentum 0.9 is a step size of 0.05 where other '
                            'frameworks would use 0.5; the settings printed '
                            'at the start give the effective step size')
    train.add_argument('--momentum', type=float,
                       help='momentum of the momentum and nesterov steppers '
                            '(default: 0.9); see --learning-rate for how it '
                            'scales the step size')
    train.add_argument('--handler', metavar='NAME',
                       help='handler class, e.g. NumpyHandler (default: '
                            'the fastest CPU handler installed, '
                            'brainstorm.handlers.best_cpu_handler)')
    train.add_argument('--scorer', action='append', metavar='NAME',
                       help='scorer logged on the validation data after '
                            'every epoch (repeatable; default: Accuracy for '
                            'classification)')
    train.add_argument('--init-std', type=_positive_float,
                       help='initialise --spec and --architecture networks '
                            'with Gaussian(INIT_STD) (default: 0.01 for '
                            '--architecture; --spec networks keep the '
                            'initialisation of create_net_from_spec)')
    train.add_argument('--seed', type=int, default=42,
                       help='seed of bs.global_rnd (default: %(default)s)')
    train.add_argument('--output', '-o', metavar='FILE',
                       help='where the best network is saved (default: '
                            'mnist_pi_best.hdf5, or best_network.hdf5 for '
                            '--spec and --architecture)')
    train.add_argument('--no-progress', action='store_true',
                       help='no progress bar')
    train.add_argument('--logs', metavar='FILE',
                       help='save the trainer logs (training loss, '
                            'validation loss and scores of every epoch) to '
                            'this HDF5 file after every epoch, in the format '
                            "of brainstorm-hooks' SaveLogs; draw them with "
                            '`brainstorm plot FILE`')
    train.set_defaults(func=cmd_train, parser=train)

    info = commands.add_parser(
        'info', help="print a saved network's structure",
        description='Print the inputs, layers, outputs and parameter counts '
                    'of a network saved with save_as_hdf5.')
    info.add_argument('network', metavar='FILE', help='saved network')
    info.add_argument('--architecture', action='store_true',
                      help='print only the architecture (net.architecture) '
                           'as JSON, to edit and train with `brainstorm '
                           'train --architecture FILE`')
    info.set_defaults(func=cmd_info, parser=info)

    evaluate = commands.add_parser(
        'evaluate', help='score a saved network on a data file',
        description='Run a saved network over one split of an HDF5 data '
                    'file and print its loss and scores.')
    evaluate.add_argument('network', metavar='FILE', help='saved network')
    evaluate.add_argument('data', metavar='DATA', help='HDF5 data file')
    evaluate.add_argument('--split', default='test', choices=SPLIT_NAMES,
                          help='which split (default: %(default)s)')
    evaluate.add_argument('--group', default=GROUP,
                          help='top-level group of the data file (default: '
                               '%(default)s)')
    evaluate.add_argument('--scorer', action='append', metavar='NAME',
                          help='scorer to use (repeatable; default: '
                               'Accuracy)')
    evaluate.add_argument('--batch-size', type=_positive_int, default=100,
                          help='minibatch size (default: %(default)s)')
    evaluate.set_defaults(func=cmd_evaluate, parser=evaluate)

    plugins = commands.add_parser(
        'plugins', help='list the installed brainstorm plugins',
        description='List every installed brainstorm plugin with its '
                    'distribution, version and what it provides, and the '
                    'plugins that failed to load with the reason (exit '
                    'status 1 if any did).')
    plugins.set_defaults(func=cmd_plugins, parser=plugins)

    scaffold = commands.add_parser(
        'new-plugin', help='write a new plugin distribution with one layer',
        description='Write a ready plugin distribution into DIR/NAME: '
                    'pyproject.toml (hatchling, the dependency on '
                    'brainstorm-core, the entry point), a layer with '
                    'forward and backward passes, the plugin module, a '
                    'README and tests (gradient check, save/load, '
                    'conformance example). Then: cd DIR/NAME && pip '
                    'install -e ".[test]" && python -m pytest. The guide: '
                    'docs/writing-a-plugin.md.')
    scaffold.add_argument('name', metavar='NAME',
                          help='distribution name, e.g. brainstorm-swish '
                               '(the import name is made from it: '
                               'brainstorm_swish)')
    scaffold.add_argument('--directory', metavar='DIR', default='.',
                          help='where the NAME folder is made (default: the '
                               'current directory)')
    scaffold.add_argument('--layer', metavar='LAYER',
                          help='name of the layer (default: from NAME '
                               'without a leading brainstorm-, e.g. Swish)')
    scaffold.set_defaults(func=cmd_new_plugin, parser=scaffold)

    prep = commands.add_parser(
        'prepare', help='convert a downloaded dataset to HDF5',
        description='Convert the distribution files of a dataset into an '
                    'HDF5 data file (normalized_split/{training,validation,'
                    'test}/{default,targets}). mnist: the four idx files '
                    '(or their folder); cifar10 / cifar100: the python '
                    'version tar.gz; hutter: enwik8.zip or any text file '
                    '(plain, gzip, bzip2, xz or zip; cut into byte '
                    'sequences whose targets are the next byte). Needs '
                    'brainstorm-data.')
    prep.add_argument('dataset', choices=('mnist', 'cifar10', 'cifar100',
                                          'hutter'))
    prep.add_argument('paths', nargs='+', metavar='PATH',
                      help='downloaded file(s)')
    prep.add_argument('-o', '--output', required=True, metavar='FILE',
                      help='HDF5 file to write')
    prep.add_argument('--validation-size', type=_non_negative_int,
                      help='training examples held out for validation '
                           '(mnist, cifar; default: 10000)')
    prep.add_argument('--label-type', choices=('fine', 'coarse'),
                      default='fine',
                      help='cifar100 targets (default: %(default)s)')
    prep.add_argument('--split', type=_split_part, nargs=3,
                      metavar=('TRAIN', 'VALID', 'TEST'),
                      help='hutter: bytes of each part, or percentages of '
                           'the file such as 80%% 10%% 10%% (default: 90%% '
                           '5%% 5%%, which is 90000000 5000000 5000000 for '
                           'enwik8)')
    prep.add_argument('--member', metavar='NAME',
                      help='hutter: the file to read from a zip archive '
                           '(default: its only file)')
    prep.add_argument('--seq-len', type=_positive_int, default=100,
                      help='hutter: sequence length (default: %(default)s)')
    prep.add_argument('--compression', choices=('gzip', 'lzf'),
                      help='compress the HDF5 datasets')
    prep.set_defaults(func=cmd_prepare, parser=prep)

    plot = commands.add_parser(
        'plot', help='draw the training curves of a logs file',
        description='Draw the training and validation curves (the loss and '
                    'every score, epoch by epoch; training and validation '
                    'values of the same quantity on the same axes) of a '
                    'logs file written by `brainstorm train --logs FILE` '
                    "or brainstorm-hooks' SaveLogs hook into an image. "
                    'Needs matplotlib: pip install brainstorm-hooks[plot].')
    plot.add_argument('logs', metavar='LOGS', help='HDF5 logs file')
    plot.add_argument('-o', '--output', metavar='FILE',
                      help='image to write; the extension picks the format '
                           '(.png, .svg, .pdf; default: LOGS with .png)')
    plot.add_argument('--title', help='title of the figure (default: the '
                                      "logs file's name)")
    plot.set_defaults(func=cmd_plot, parser=plot)
    return parser


def main(argv=None):
    """Run the ``brainstorm`` command with the arguments ``argv`` (default:
    ``sys.argv[1:]``) and return its exit status.

    When the reader of the output goes away (``brainstorm info FILE |
    head``), the command ends quietly with the status of a process ended by
    SIGPIPE (141), as Unix tools do, without an error message."""
    try:
        status = _main(argv)
        sys.stdout.flush()   # a closed pipe shows here for buffered output
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    if status:
        # a rank of a data-parallel job that failed ends the whole job (the
        # others may wait for it); nothing happens in a single process
        distributed.abort_job(status, 'brainstorm {}'.format(
            ' '.join(sys.argv[1:2] if argv is None else list(argv)[:1])))
    return status


# 128 + SIGPIPE: the exit status of Unix tools writing to a closed pipe
EXIT_BROKEN_PIPE = 141


def _discard_stdout():
    """Send what is left for stdout to devnull, so that Python's flush at
    exit does not fail on the closed pipe again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):   # no file descriptor
        pass
    finally:
        os.close(devnull)


def _main(argv):
    with warnings.catch_warnings(record=True) as caught:
        # building the parser loads the plugins; a plugin that fails to
        # load or clashes with another is reported below ('plugins' lists
        # them itself), or is fatal with BRAINSTORM_PLUGINS_STRICT=1
        warnings.simplefilter('always', RuntimeWarning)
        try:
            parser = build_parser()
        except PluginError as err:
            print('brainstorm: error: {}'.format(err), file=sys.stderr)
            return 1
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:   # --help, --version, usage errors
        return stop.code if isinstance(stop.code, int) else 2
    if args.command != 'plugins':
        for warning in caught:
            print('brainstorm: warning: {}'.format(warning.message),
                  file=sys.stderr)
    try:
        return args.func(args.parser, args)
    except SystemExit as stop:   # parser.error inside a command
        return stop.code if isinstance(stop.code, int) else 2
    except KeyboardInterrupt:
        print('brainstorm {}: interrupted'.format(args.command),
              file=sys.stderr)
        return 130
    except BrokenPipeError:
        raise   # handled by main
    except (CommandError, MissingPluginError, SaveError,
            FileFormatError) as err:
        message = str(err)   # these name the file and what is wrong
    except Exception as err:  # noqa: BLE001 - reported, not a traceback
        message = '{}: {}'.format(type(err).__name__, err)
    print('brainstorm {}: error: {}'.format(args.command, message),
          file=sys.stderr)
    return 1


if __name__ == '__main__':
    sys.exit(main())
