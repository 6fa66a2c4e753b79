"""Shape templates of buffers (manual 9.4.2)."""
import numpy as np

__all__ = ['BufferStructure', 'StructureTemplate', 'ShapeError']

CONSTANT, BATCH_SIZED, TIME_SIZED = 0, 1, 2


class ShapeError(ValueError):
    """A buffer or input has a shape that does not fit."""


class BufferStructure:
    """The shape template of one buffer.

    ``BufferStructure(3)`` is a constant-size buffer of shape (3,),
    ``BufferStructure('B', 3)`` a batch-sized buffer (B, 3) and
    ``BufferStructure('T', 'B', 3)`` a time-sized buffer (T, B, 3).

    Parameters
    ----------
    *shape : int or 'T' or 'B'
        The shape template.
    context_size : int
        Only for time-sized buffers: extra time steps appended after the
        last one. Index -1 of such a buffer is then the state at t=-1, which
        is how recurrent layers read their context.
    is_backward_only : bool
        A buffer only needed for the backward pass (for example the deltas
        of an internal state).
    """

    def __init__(self, *shape, context_size=0, is_backward_only=False):
        shape = tuple(shape)
        if shape[:2] == ('T', 'B'):
            self.buffer_type = TIME_SIZED
        elif shape[:1] == ('B',):
            self.buffer_type = BATCH_SIZED
        else:
            self.buffer_type = CONSTANT
        feature_shape = shape[self.buffer_type:]
        if not all(isinstance(s, (int, np.integer)) and s >= 0
                   for s in feature_shape):
            raise ShapeError(
                'invalid shape template {}: after the optional leading '
                "'T', 'B' only non-negative ints are allowed".format(shape))
        if context_size and self.buffer_type != TIME_SIZED:
            raise ShapeError('only time-sized buffers can have a context, '
                             'got {} with context_size={}'.format(
                                 shape, context_size))
        self.shape = shape[:self.buffer_type] + tuple(
            int(s) for s in feature_shape)
        self.feature_shape = tuple(int(s) for s in feature_shape)
        self.feature_size = int(np.prod(self.feature_shape, dtype=np.int64))
        self.context_size = int(context_size)
        self.is_backward_only = bool(is_backward_only)

    @classmethod
    def from_tuple(cls, shape):
        """Build from a shape tuple; a shape without leading 'T'/'B' is
        read as the feature shape of a time-sized buffer."""
        if isinstance(shape, BufferStructure):
            return shape
        if isinstance(shape, (int, np.integer)):
            shape = (shape,)
        shape = tuple(shape)
        if shape[:1] not in (('T',), ('B',)):
            shape = ('T', 'B') + shape
        return cls(*shape)

    def get_shape(self, time_size, batch_size):
        """The full shape for T = ``time_size`` and B = ``batch_size``
        (time-sized buffers include their context steps)."""
        if self.buffer_type == TIME_SIZED:
            return (time_size + self.context_size, batch_size) + \
                self.feature_shape
        if self.buffer_type == BATCH_SIZED:
            return (batch_size,) + self.feature_shape
        return self.feature_shape

    def get_size(self, time_size, batch_size):
        return int(np.prod(self.get_shape(time_size, batch_size),
                           dtype=np.int64))

    def to_json(self):
        return list(self.shape)

    def __eq__(self, other):
        if not isinstance(other, BufferStructure):
            return NotImplemented
        return (self.shape == other.shape and
                self.context_size == other.context_size and
                self.is_backward_only == other.is_backward_only)

    def __hash__(self):
        return hash((self.shape, self.context_size))

    def __repr__(self):
        extras = ''
        if self.context_size:
            extras += ', context_size={}'.format(self.context_size)
        if self.is_backward_only:
            extras += ', is_backward_only=True'
        return 'BufferStructure({}{})'.format(
            ', '.join(repr(s) for s in self.shape), extras)


class StructureTemplate:
    """A pattern that input shapes are matched against.

    Entries: ``'T'``, ``'B'``, ``'F'`` (any feature size), an int (that
    exact size) or ``'...'`` (any number of further feature dimensions,
    only last). ``StructureTemplate('T', 'B', '...')`` accepts any
    time-sized input.
    """

    def __init__(self, *template):
        self.template = tuple(template)

    def matches(self, structure):
        shape = structure.shape
        template = self.template
        if template and template[-1] == '...':
            fixed = template[:-1]
            if len(shape) < len(fixed):
                return False
        else:
            fixed = template
            if len(shape) != len(fixed):
                return False
        for want, got in zip(fixed, shape):
            if want in ('T', 'B'):
                if got != want:
                    return False
            elif want == 'F':
                if not isinstance(got, int):
                    return False
            elif want != got:
                return False
        return True

    def __repr__(self):
        return '({})'.format(', '.join(repr(t) for t in self.template))
