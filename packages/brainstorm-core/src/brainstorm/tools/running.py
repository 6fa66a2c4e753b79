"""Running a network over data: ``evaluate``, ``extract`` and
``extract_and_save`` (manual 8.3)."""
import numpy as np

from brainstorm.structure.buffer_structure import (BATCH_SIZED, CONSTANT,
                                                   TIME_SIZED)

__all__ = ['evaluate', 'extract', 'extract_and_save']

_CATEGORIES = ('inputs', 'outputs', 'internals', 'parameters', 'gradients',
               'input_deltas', 'output_deltas')


def evaluate(network, iter, scorers=(), out_name='', targets_name='targets',
             mask_name=None):
    """Evaluate the loss and one or more scores of a network on some data.

    Typically used on held-out data after training. Every batch of ``iter`` is run through the network in an
    inference pass (no dropout); the losses are averaged over the sequences
    and each scorer aggregates its batch scores (by default the mean over
    all counted entries, so unequal batches weigh by their size).

    Parameters
    ----------
    network : brainstorm.structure.Network
        Network to be evaluated.
    iter : brainstorm.DataIterator
        A data iterator which produces the data on which the scores are
        computed.
    scorers : tuple[brainstorm.scorers.Scorer]
        A list or tuple of Scorers (or a single one).
    out_name : str, optional
        Name of the network output which is scored against the targets
        (for scorers without an ``out_name`` of their own; default: the
        network's 'predictions' output).
    targets_name : str, optional
        Name of the targets data provided by ``iter``.
    mask_name : str, optional
        Name of the mask data provided by ``iter``.

    Returns
    -------
    dict[str, float]
        'total_loss' (and the loss of each Loss layer by name when there are
        several), and each scorer's score under its name.

    Raises
    ------
    ShapeError
        If a data item of ``iter`` does not have the feature shape of the
        network's input of that name.
    ValueError
        If ``iter`` yields no batch, or the data holds NaN, inf or values
        a layer refuses (see ``Network.provide_external_data``).

    Examples
    --------
    >>> acc = bs.scorers.Accuracy()
    >>> bs.tools.evaluate(net, getter_te, [acc])['Accuracy']
    """
    from brainstorm.data_iterators import check_data_shapes
    from brainstorm.scorers import Scorer, gather_losses_and_scores
    if isinstance(scorers, Scorer):
        scorers = [scorers]
    check_data_shapes(network, getattr(iter, 'data_shapes', None),
                      'evaluate: the data iterator')
    return gather_losses_and_scores(network, list(scorers), iter,
                                    out_name=out_name,
                                    targets_name=targets_name,
                                    mask_name=mask_name or '')


def extract(network, iter, buffer_names):
    """Apply the network to some data and return the requested buffers.

    Every batch of ``iter`` is run through the network in an inference pass
    and the requested buffers are collected; the batches are concatenated
    along the batch axis, so the result holds one entry per requested
    buffer, with the data in (T, B, ...) order ((B, ...) for batch-sized
    buffers), B counting all sequences of ``iter``. The data may leave out
    inputs that the requested buffers do not depend on, such as the targets
    when only predictions or hidden features are wanted. The results come in
    the order in which ``iter`` yields the data: give a shuffling iterator
    ``shuffle=False`` to keep the order of the data.

    Parameters
    ----------
    network : brainstorm.structure.Network
        Network using which the features should be generated.
    iter : brainstorm.DataIterator
        A data iterator which produces the data on which the features are
        computed.
    buffer_names : list[str]
        Name of the buffer views to be saved (in dotted notation):
        ``'Output.outputs.predictions'``, ``'Hid1.internals.H'``,
        ``'Hid1.inputs.default'`` ... (a single str is taken as a list of
        one).

    Returns
    -------
    dict[str, np.ndarray]

    Raises
    ------
    KeyError
        If the network has no buffer of one of the names.
    ValueError
        For buffers that do not depend on the data (parameters, gradients),
        for deltas (extract runs no backward pass), or when batches of different lengths T are concatenated.
    """
    buffer_names = _check_buffer_names(network, buffer_names)
    collected = {name: [] for name in buffer_names}
    for batch in _extracted_batches(network, iter, buffer_names):
        for name, value in batch.items():
            collected[name].append(value)
    result = {}
    for name, (axis, empty) in buffer_names.items():
        parts = collected[name]
        if not parts:
            result[name] = np.zeros(empty, dtype=network.handler.dtype)
            continue
        _check_same_length(name, axis, parts)
        result[name] = np.concatenate(parts, axis=axis)
    return result


def extract_and_save(network, iter, buffer_names, file_name):
    """Save the desired buffer values of a network to an HDF5 file.

    For example the predictions on a whole dataset, or any mix of inputs,
    outputs and internals named by their dotted paths. The file gets one
    dataset per buffer, named by its dotted name and holding what
    :func:`extract` returns for it; batches are written as they come (the
    data need not fit in memory). The file is written to a temporary file
    beside ``file_name`` and renamed into place when complete.

    Parameters
    ----------
    network : brainstorm.structure.Network
        Network using which the features should be generated.
    iter : brainstorm.DataIterator
        A data iterator which produces the data on which the features are
        computed.
    buffer_names : list[str]
        Name of the buffer views to be saved (in dotted notation). See
        example.
    file_name : str
        Name of the hdf5 file (including extension) in which the features
        should be saved.

    Examples
    --------
    >>> getter = Minibatches(100, default=x_test, shuffle=False)
    >>> extract_and_save(network,
    ...                  getter,
    ...                  ['Output.outputs.predictions',
    ...                   'Hid1.internals.H'],
    ...                  'network_features.hdf5')
    """
    from brainstorm.fileio import write_hdf5_atomically
    buffer_names = _check_buffer_names(network, buffer_names)

    def write(f):
        sizes = {name: 0 for name in buffer_names}
        for batch in _extracted_batches(network, iter, buffer_names):
            for name, value in batch.items():
                axis = buffer_names[name][0]
                if name not in f:
                    maxshape = list(value.shape)
                    maxshape[axis] = None
                    f.create_dataset(name, data=value,
                                     maxshape=tuple(maxshape),
                                     chunks=True)
                else:
                    dataset = f[name]
                    _check_same_length(name, axis, [dataset, value])
                    shape = list(dataset.shape)
                    shape[axis] += value.shape[axis]
                    dataset.resize(tuple(shape))
                    index = [slice(None)] * value.ndim
                    index[axis] = slice(sizes[name], shape[axis])
                    dataset[tuple(index)] = value
                sizes[name] += value.shape[axis]
        for name, (_, empty) in buffer_names.items():
            if name not in f:
                f.create_dataset(name, shape=empty,
                                 dtype=network.handler.dtype)

    write_hdf5_atomically(file_name, write)


def _check_buffer_names(network, buffer_names):
    """{name: (batch axis, shape without data)} for the requested buffers,
    in the given order."""
    if isinstance(buffer_names, str):
        buffer_names = [buffer_names]
    layout = network.layout
    checked = {}
    for name in buffer_names:
        if not isinstance(name, str):
            raise TypeError('buffer names must be str, got {!r}'.format(name))
        parts = name.split('.')
        node = layout.get(parts[0]) if len(parts) == 3 else None
        node = node.get(parts[1]) if node and parts[1] in _CATEGORIES \
            else None
        node = node.get(parts[2]) if node else None
        if not isinstance(node, dict):
            raise KeyError(
                'extract: no buffer {!r} (buffer names are '
                'LAYER.CATEGORY.NAME with a category among {}; layers: '
                '{})'.format(name, ', '.join(_CATEGORIES),
                             ', '.join(network.layers)))
        if parts[1] in ('input_deltas', 'output_deltas'):
            raise ValueError(
                'extract: {!r} is a delta buffer, and extract runs forward '
                '(inference) passes only, which leave deltas alone; for '
                'deltas run net.provide_external_data(...), '
                'net.forward_pass() and net.backward_pass() and read '
                'net.get({!r})'.format(name, name))
        buffer_type = node['@buffer_type']
        if buffer_type == CONSTANT:
            raise ValueError(
                'extract: {!r} does not depend on the data (shape {}); '
                'read it with network.get({!r})'.format(
                    name, tuple(node['@shape']), name))
        empty = tuple(0 if isinstance(s, str) else s for s in node['@shape'])
        checked[name] = ({BATCH_SIZED: 0, TIME_SIZED: 1}[buffer_type], empty)
    return checked


def _extracted_batches(network, iter, buffer_names):
    """Yield {name: numpy array} after the forward pass of each batch.
    The data may leave out inputs (such as the targets) that the requested
    buffers do not need."""
    for data in iter(handler=network.handler):
        network.provide_external_data(data, all_inputs=False)
        network.forward_pass(training_pass=False)
        yield {name: network.get(name) for name in buffer_names}


def _check_same_length(name, axis, parts):
    if axis == 1 and len({p.shape[0] for p in parts}) > 1:
        raise ValueError(
            'extract: the batches give {!r} with different numbers of time '
            'steps ({}); batches can only be concatenated along the batch '
            'axis when their lengths T agree'.format(
                name, ', '.join(str(t) for t in
                                sorted({p.shape[0] for p in parts}))))
