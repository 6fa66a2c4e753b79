"""Data iterators: where networks get their (T, B, ...) data (manual 8.4).

The iterators (``Minibatches``, ``Online``, ``Undivided`` ...) come from
plugins (brainstorm-data) and resolve by name here:
``from brainstorm.data_iterators import Minibatches``.
"""
import numpy as np

from brainstorm.plugins import make_namespace

__all__ = ['DataIterator', 'first_nonfinite', 'check_finite',
           'check_data_shapes']


class DataIterator:
    """Base class of data iterators.

    Parameters
    ----------
    data_shapes : dict[str, tuple[int]]
        The names of the data items this iterator provides and their shapes
        (the full (T, B, ...) shape of the whole data).
    length : int or None
        Number of batches one pass yields (None if unknown, ``math.inf``
        for an iterator whose pass never ends: its epochs never end).

    Calling an iterator with a handler, ``it(handler)``, returns a
    generator of dicts mapping names to (T, B, ...) arrays of one batch.
    """

    def __init__(self, data_shapes, length):
        self.data_shapes = data_shapes
        self.length = length

    def __call__(self, handler=None):
        raise NotImplementedError


def first_nonfinite(array):
    """``(index, value)`` of the first NaN or infinite entry of the numpy
    array ``array`` (in C order), or None when every entry is finite.

    Arrays of integers and booleans are always finite. Finite real arrays
    cost a minimum and a maximum (which NaN propagates through; no
    temporary array); the search for the entry runs only when one of them
    is not finite.
    """
    kind = array.dtype.kind
    if kind not in 'fc' or array.size == 0:
        return None
    if kind == 'f':
        if np.isfinite(np.minimum.reduce(array, axis=None)) and \
                np.isfinite(np.maximum.reduce(array, axis=None)):
            return None
    elif np.isfinite(array).all():
        return None
    bad = np.flatnonzero(~np.isfinite(array))
    index = tuple(int(i) for i in np.unravel_index(bad[0], array.shape))
    return index, array[index]


def describe_value(value):
    """``NaN``, ``inf``, ``-inf`` or the number, for messages."""
    value = value.item() if hasattr(value, 'item') else value
    if isinstance(value, float):
        if value != value:
            return 'NaN'
        if value in (float('inf'), float('-inf')):
            return 'inf' if value > 0 else '-inf'
    return repr(value)


def check_finite(name, array, offset=0, shape=None):
    """Raise a ValueError naming the data item ``name`` and the index of its
    first NaN or infinite entry, if ``array`` (a numpy array) has one.

    Parameters
    ----------
    name : str
        The data item's name.
    array : numpy.ndarray
        (T, B, ...) data: a whole item or one batch of it.
    offset : int
        Where ``array`` starts along B in the whole item (for a batch), so
        that the message gives the index in the user's data.
    shape : tuple of int, optional
        The shape of the whole item (default: ``array.shape``).
    """
    found = first_nonfinite(array)
    if found is None:
        return
    index, value = found
    if offset and len(index) > 1:
        index = (index[0], index[1] + offset) + index[2:]
    raise ValueError(
        'data item {!r} holds {} at index {} (of shape {}); data must be '
        'finite: remove or repair that sequence (B index {})'.format(
            name, describe_value(value), index,
            tuple(array.shape) if shape is None else tuple(shape),
            index[1] if len(index) > 1 else index[0]))


def check_data_shapes(network, data_shapes, where):
    """Raise a ShapeError if an item of ``data_shapes`` (``{name: (T, B,
    ...)}``, a data iterator's ``data_shapes``) that ``network`` takes as
    input has another feature shape than that input; ``where`` names the
    data in the message (``'Trainer.train: training_data_iter'``). Items
    the network does not take are left to ``provide_external_data``."""
    from brainstorm.structure.buffer_structure import ShapeError
    out_shapes = network.layers['Input'].out_shapes
    for name, shape in (data_shapes or {}).items():
        structure = out_shapes.get(name)
        if structure is None or shape is None:
            continue
        shape = tuple(shape)
        nt = structure.buffer_type
        if len(shape) < nt or shape[nt:] != structure.feature_shape:
            raise ShapeError(
                "{} gives data item {!r} shaped {}, but the network's input "
                '{!r} takes {}'.format(where, name, shape, name,
                                       shape_template(structure.shape)))


def shape_template(shape):
    """``(T, B, 784)`` for the template ``('T', 'B', 784)``."""
    return '({})'.format(', '.join(str(s) for s in shape))


__getattr__, __dir__ = make_namespace('data_iterators', globals(), __name__)
