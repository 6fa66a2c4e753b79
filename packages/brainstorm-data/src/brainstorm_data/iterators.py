"""The basic data iterators of the manual (8.4): Online, Minibatches and
Undivided.

Each takes the data as named items, ``Minibatches(100, default=x,
targets=y)`` or ``bs.Online(**h5py_file['training'])``, and yields dicts
mapping these names to (T, B, ...) numpy arrays of one batch.

Data items may be numpy arrays or anything that has ``shape`` and ``dtype``
and can be sliced like one, such as h5py datasets: those are never read
whole at construction, only the slice of each batch is read when it is
yielded (``Undivided`` reads everything when it is called). Other values
(lists) are converted with ``numpy.asarray``.

All items share the batch size B and the sequence length T. An item with
T = 1 next to longer ones is static (per-sequence) data, as the manual's
``static_data`` example (3.3): it is sliced along B only and never cut.

The data is checked when an iterator is created: every item must be shaped
(T, B, ...) with T, B > 0, and numpy arrays must hold no NaN or inf (one
pass over each array). Items read lazily (h5py datasets, memmaps) are
checked batch by batch as they are read. Errors name the item and the
index of the offending entry in the whole item.
"""
import numpy as np

from brainstorm.data_iterators import DataIterator, check_finite
from brainstorm.randomness import global_rnd
from brainstorm.training.checkpoint import (get_random_state,
                                            set_random_state)

__all__ = ['Online', 'Minibatches', 'Undivided']


def _as_sliceable(name, value):
    if all(hasattr(value, a) for a in ('shape', 'dtype', '__getitem__')):
        return value   # numpy array, h5py dataset, memmap ...: read lazily
    try:
        return np.asarray(value)
    except Exception as err:  # noqa: BLE001 - report which item
        raise ValueError('data item {!r} is not array-like: {}'.format(
            name, err)) from err


def _is_lazy(item):
    """Whether ``item`` is read slice by slice (h5py dataset, memmap ...)
    rather than held in memory as a numpy array."""
    return not isinstance(item, np.ndarray) or isinstance(item, np.memmap)


def _check_named_data(iterator_name, named_data):
    """Validate the items; return (items, data_shapes, T, B).

    Items held in memory are checked for NaN and inf here; lazy items are
    checked batch by batch (see ``_read``)."""
    if not named_data:
        raise ValueError(
            '{} needs at least one named data item, for example '
            '{}(default=inputs, targets=targets)'.format(iterator_name,
                                                         iterator_name))
    items, shapes = {}, {}
    for name, value in named_data.items():
        item = _as_sliceable(name, value)
        shape = tuple(int(s) for s in item.shape)
        if len(shape) < 3:
            raise ValueError(
                'data item {!r} has shape {}, but data must be shaped '
                '(T, B, features...), with at least one feature axis (use '
                '(1, B, ...) for non-sequential data: x.reshape((1,) + '
                'x.shape); class indices are (T, B, 1))'.format(name, shape))
        if 0 in shape[:2]:
            raise ValueError(
                'data item {!r} has shape {}: it holds no {} (T and B must '
                'be at least 1; is the data set or split empty?)'.format(
                    name, shape, 'sequences (B = 0)' if shape[1] == 0
                    else 'time steps (T = 0)'))
        items[name], shapes[name] = item, shape
    # The longest item is the reference for T; the first for B.
    t_ref = max(shapes, key=lambda n: shapes[n][0])
    b_ref = next(iter(shapes))
    T, B = shapes[t_ref][0], shapes[b_ref][1]
    for name, shape in shapes.items():
        if shape[1] != B:
            raise ValueError(
                'data items {!r} and {!r} have different batch sizes B: {!r} '
                'is {} and {!r} is {}; all data items must be shaped '
                '(T, B, ...) with the same B'.format(
                    b_ref, name, b_ref, shapes[b_ref], name, shape))
        if shape[0] not in (T, 1):
            raise ValueError(
                'data items {!r} and {!r} have different sequence lengths '
                'T: {!r} is {} and {!r} is {}; all data items must share T '
                '(or have T = 1 for static data)'.format(
                    t_ref, name, t_ref, shapes[t_ref], name, shape))
    for name, item in items.items():
        if not _is_lazy(item):
            check_finite(name, item)
    return items, shapes, T, B


def _read(name, item, index, shape, offset=0):
    """``item[index]`` as a numpy array; a lazy item's slice is checked for
    NaN and inf (``offset``: where it starts along B)."""
    array = np.asarray(item[index])
    if _is_lazy(item):
        check_finite(name, array, offset, shape)
    return array


def _sequence_length(mask):
    """1 + the last time step at which any sequence of ``mask`` is on."""
    on = np.asarray(mask).reshape(mask.shape[0], -1).any(axis=1)
    steps = np.flatnonzero(on)
    return int(steps[-1]) + 1 if len(steps) else 1


class _BatchIterator(DataIterator):
    """Yields the data in contiguous blocks of ``batch_size`` sequences."""

    def __init__(self, batch_size, shuffle, cut_according_to, named_data):
        name = type(self).__name__
        if isinstance(batch_size, bool) or \
                not isinstance(batch_size, (int, np.integer)) or \
                batch_size < 1:
            raise ValueError('{}: batch_size must be a positive integer, '
                             'got {!r}'.format(name, batch_size))
        self.data, shapes, self.T, self.B = _check_named_data(name,
                                                              named_data)
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.cut_according_to = cut_according_to
        self.rnd = global_rnd.create_random_state()
        super().__init__(shapes, -(-self.B // self.batch_size))

    def _cut_item(self):
        name = self.cut_according_to
        if name is None or name not in self.data or self.T == 1:
            return None
        if self.data_shapes[name][0] != self.T:
            return None   # a static item cannot tell sequence lengths
        return name

    def _batch(self, start, stop, cut_name):
        batch, T, mask = {}, self.T, None
        shapes = self.data_shapes
        if cut_name is not None:
            mask = _read(cut_name, self.data[cut_name],
                         (slice(None), slice(start, stop)), shapes[cut_name],
                         start)
            T = _sequence_length(mask)
        for name, item in self.data.items():
            if name == cut_name:
                batch[name] = mask[:T]
            else:
                steps = slice(None) if shapes[name][0] == 1 else slice(T)
                batch[name] = _read(name, item, (steps, slice(start, stop)),
                                    shapes[name], start)
        return batch

    def get_checkpoint_state(self):
        """The state of the shuffling generator, as a JSON-serialisable
        dict (the Trainer writes it into checkpoints)."""
        return {'rnd': get_random_state(self.rnd)}

    def set_checkpoint_state(self, state):
        """Restore what :meth:`get_checkpoint_state` returned: the next
        pass yields the batches in the order it would have then."""
        set_random_state(self.rnd, state['rnd'])

    def __call__(self, handler=None):
        """Return a generator of batches: dicts of (T, B, ...) numpy arrays.

        Parameters
        ----------
        handler : Handler, optional
            Not used: batches are numpy arrays, which the network copies
            into its handler's buffers.
        """
        order = self.rnd.permutation(self.length) if self.shuffle \
            else range(self.length)
        cut_name = self._cut_item()
        for i in order:
            start = int(i) * self.batch_size
            yield self._batch(start, min(start + self.batch_size, self.B),
                              cut_name)


class Minibatches(_BatchIterator):
    """Minibatch iterator for inputs and targets.

    The data is divided into consecutive minibatches of ``batch_size``
    sequences (the last one may be smaller). If a data item named
    ``cut_according_to`` exists (a (T, B, 1) mask), each minibatch is cut
    along T to the length of its longest sequence.

    Parameters
    ----------
    batch_size : int
        Number of sequences per minibatch.
    shuffle : bool
        Yield the minibatches in a random order (drawn anew in every pass
        from a generator seeded from ``bs.global_rnd`` at construction).
        Only the order of minibatches is randomised; instances are never
        re-shuffled across minibatches.
    cut_according_to : str or None
        Name of the mask item used to cut sequences; None never cuts.
    **named_data : array_like
        The data items, each shaped (T, B, ...): numpy arrays or h5py
        datasets (read one minibatch at a time).
    """

    def __init__(self, batch_size=1, shuffle=True, cut_according_to='mask',
                 **named_data):
        super().__init__(batch_size, shuffle, cut_according_to, named_data)


class Online(_BatchIterator):
    """Online iterator: yields one sequence at a time, shaped (T, 1, ...).

    Parameters
    ----------
    shuffle : bool
        Yield the sequences in a random order (drawn anew in every pass from
        a generator seeded from ``bs.global_rnd`` at construction).
    cut_according_to : str or None
        Name of a (T, B, 1) mask item; when present, each sequence is cut to
        its length. None never cuts.
    **named_data : array_like
        The data items, each shaped (T, B, ...): numpy arrays or h5py
        datasets (read one sequence at a time).
    """

    def __init__(self, shuffle=True, cut_according_to='mask', **named_data):
        super().__init__(1, shuffle, cut_according_to, named_data)


class Undivided(DataIterator):
    """Processes the entire data in one block (only one iteration).

    Parameters
    ----------
    **named_data : array_like
        The data items, each shaped (T, B, ...). Numpy arrays are yielded
        as they are; h5py datasets are read whole each time the iterator is
        called.
    """

    def __init__(self, **named_data):
        self.data, shapes, self.T, self.B = _check_named_data('Undivided',
                                                              named_data)
        super().__init__(shapes, 1)

    def __call__(self, handler=None):
        """Return a generator yielding all data as one batch.

        Parameters
        ----------
        handler : Handler, optional
            Not used: the batch holds numpy arrays.
        """
        yield {name: _read(name, item, (), self.data_shapes[name])
               for name, item in self.data.items()}
