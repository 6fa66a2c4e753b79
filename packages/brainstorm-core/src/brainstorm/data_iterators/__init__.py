"""Data iterators: where networks get their (T, B, ...) data (manual 8.4).

The iterators (``Minibatches``, ``Online``, ``Undivided`` ...) come from
plugins (brainstorm-data) and resolve by name here:
``from brainstorm.data_iterators import Minibatches``.
"""
from brainstorm.plugins import make_namespace

__all__ = ['DataIterator']


class DataIterator:
    """Base class of data iterators.

    Parameters
    ----------
    data_shapes : dict[str, tuple[int]]
        The names of the data items this iterator provides and their shapes
        (the full (T, B, ...) shape of the whole data).
    length : int or None
        Number of batches one pass yields (None if unknown).

    Calling an iterator with a handler, ``it(handler)``, returns a
    generator of dicts mapping names to (T, B, ...) arrays of one batch.
    """

    def __init__(self, data_shapes, length):
        self.data_shapes = data_shapes
        self.length = length

    def __call__(self, handler=None):
        raise NotImplementedError


__getattr__, __dir__ = make_namespace('data_iterators', globals(), __name__)
