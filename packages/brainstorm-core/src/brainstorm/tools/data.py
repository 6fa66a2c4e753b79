"""Data preparation helpers (manual history, 0.5): :func:`shuffle_data` and
:func:`split` shuffle and split data shaped (T, B, ...) along the batch axis,
keeping the named items of a dict (inputs and targets) together.

Also available as ``brainstorm_data.prepare.shuffle_data`` and
``brainstorm_data.prepare.split``.
"""
import numpy as np

from brainstorm.randomness import global_rnd

__all__ = ['shuffle_data', 'split']


def _named_arrays(data, what):
    if isinstance(data, dict):
        if not data:
            raise ValueError('{}: got an empty dict'.format(what))
        items = {name: np.asarray(value) for name, value in data.items()}
    else:
        items = {None: np.asarray(data)}
    sizes = {}
    for name, array in items.items():
        if array.ndim < 2:
            raise ValueError('{}: data{} must be shaped (T, B, ...), got '
                             'shape {}'.format(
                                 what, '' if name is None else
                                 ' item {!r}'.format(name), array.shape))
        sizes[name] = array.shape[1]
    if len(set(sizes.values())) > 1:
        raise ValueError('{}: all data items must have the same batch size '
                         'B (axis 1), got {}'.format(
                             what, ', '.join('{!r}: {}'.format(n, items[n]
                                                              .shape)
                                             for n in items)))
    return items, next(iter(sizes.values()))


def _same_kind(data, items):
    return items if isinstance(data, dict) else items[None]


def shuffle_data(data, seed=None):
    """Shuffle data shaped (T, B, ...) along the batch axis.

    Parameters
    ----------
    data : array_like or dict
        One array, or a dict of named arrays sharing B, all shuffled with
        the same permutation (so inputs stay with their targets).
    seed : int, optional
        Seed of the permutation; by default it is drawn from
        ``bs.global_rnd``.

    Returns
    -------
    numpy.ndarray or dict
        Shuffled copies, of the same kind as ``data``.
    """
    items, batch = _named_arrays(data, 'shuffle_data')
    permutation = global_rnd.create_random_state(seed).permutation(batch)
    return _same_kind(data, {name: array[:, permutation]
                             for name, array in items.items()})


def split(data, sizes):
    """Split data shaped (T, B, ...) into consecutive parts along the batch
    axis.

    Parameters
    ----------
    data : array_like or dict
        One array, or a dict of named arrays sharing B.
    sizes : sequence of int or of float
        The size of each part, as counts of sequences (summing to at most
        B) or as fractions of B (summing to at most 1; the part boundaries
        are rounded). Sequences after the last part are left out.

    Returns
    -------
    list
        One array (or dict of arrays) per part, of the same kind as
        ``data``.

    Examples
    --------
    >>> train, valid = bs.tools.split({'default': x, 'targets': y},
    ...                                [0.8, 0.2])
    """
    items, batch = _named_arrays(data, 'split')
    sizes = list(sizes)
    if not sizes or any(isinstance(s, bool) or
                        not isinstance(s, (int, float, np.integer,
                                           np.floating)) or s < 0
                        for s in sizes):
        raise ValueError('split: sizes must be non-negative counts or '
                         'fractions, got {!r}'.format(sizes))
    if all(isinstance(s, (int, np.integer)) for s in sizes):
        if sum(sizes) > batch:
            raise ValueError('split: sizes {} ask for {} sequences, but the '
                             'data has B = {}'.format(sizes, sum(sizes),
                                                      batch))
        bounds = np.cumsum([0] + [int(s) for s in sizes])
    else:
        if sum(sizes) > 1 + 1e-9:
            raise ValueError('split: fractions {} sum to {}, more than 1'
                             .format(sizes, sum(sizes)))
        bounds = np.rint(np.cumsum([0.0] + [float(s) for s in sizes]) *
                         batch).astype(int)
    return [_same_kind(data, {name: array[:, a:b]
                              for name, array in items.items()})
            for a, b in zip(bounds[:-1], bounds[1:])]
