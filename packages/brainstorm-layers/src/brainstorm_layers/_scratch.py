"""Temporary arrays that layers keep between passes."""

__all__ = ['Scratch']


class Scratch:
    """Temporary arrays of one layer: allocated through the layer's handler
    on first use, and again when the handler or the shape changes (the
    network's buffers are resized with T and B)."""

    def __init__(self):
        self._handler = None
        self._arrays = {}

    def get(self, handler, key, shape):
        """An array of ``shape`` for ``key`` (content undefined)."""
        if handler is not self._handler:
            self._handler = handler
            self._arrays = {}
        shape = tuple(shape)
        array = self._arrays.get(key)
        if array is None or tuple(array.shape) != shape:
            array = self._arrays[key] = handler.allocate(shape)
        return array
