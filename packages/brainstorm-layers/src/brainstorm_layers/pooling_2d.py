"""Pooling2D: max or average pooling over (T, B, H, W, C) images."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)


def _pair(value, what):
    if isinstance(value, int):
        value = (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) and v > 0
                                  for v in value):
        raise ValueError('Pooling2D: {} must be a positive int or a pair of '
                         'them, got {!r}'.format(what, value))
    return value


class Pooling2DLayerImpl(Layer):
    """Pools windows of ``kernel_size`` moved by ``stride`` over zero-padded
    (max: never picking padding) images; channels are pooled separately."""

    expected_inputs = {'default': StructureTemplate('T', 'B', 'F', 'F', 'F')}
    expected_kwargs = {'kernel_size', 'type', 'stride', 'padding'}

    def setup(self, kwargs, in_shapes):
        self.kernel_size = _pair(kwargs['kernel_size'], 'kernel_size')
        self.stride = _pair(kwargs.get('stride', (1, 1)), 'stride')
        self.padding = int(kwargs.get('padding', 0))
        self.type = kwargs.get('type', 'max')
        if self.type not in ('max', 'avg'):
            raise self.error("type must be 'max' or 'avg', got {!r}".format(
                self.type))
        height, width, channels = in_shapes['default'].feature_shape
        kh, kw = self.kernel_size
        p = self.padding
        if height + 2 * p < kh or width + 2 * p < kw:
            raise self.error(
                'kernel {} does not fit the input of {}x{} (padding {})'
                .format(self.kernel_size, height, width, p))
        if p >= min(kh, kw) and self.type == 'max':
            raise self.error('padding {} must be smaller than the kernel {} '
                             'for max pooling'.format(p, self.kernel_size))
        out_h = (height + 2 * p - kh) // self.stride[0] + 1
        out_w = (width + 2 * p - kw) // self.stride[1] + 1
        shape = ('T', 'B', out_h, out_w, channels)
        outputs = OrderedDict(default=BufferStructure(*shape))
        internals = OrderedDict()
        if self.type == 'max':
            internals['argmax'] = BufferStructure(*shape)
        return outputs, OrderedDict(), internals

    @staticmethod
    def _images(array):
        return array.reshape((array.shape[0] * array.shape[1],) +
                             tuple(array.shape[2:]))

    def forward_pass(self, buffers, training_pass=True):
        x = self._images(buffers.inputs.default)
        y = self._images(buffers.outputs.default)
        if self.type == 'max':
            self.handler.maxpool2d_forward_batch(
                x, self.kernel_size, y, self.padding, self.stride,
                self._images(buffers.internals.argmax))
        else:
            self.handler.avgpool2d_forward_batch(
                x, self.kernel_size, y, self.padding, self.stride)

    def backward_pass(self, buffers):
        x = self._images(buffers.inputs.default)
        y = self._images(buffers.outputs.default)
        dx = self._images(buffers.input_deltas.default)
        dy = self._images(buffers.output_deltas.default)
        if self.type == 'max':
            self.handler.maxpool2d_backward_batch(
                x, self.kernel_size, y, self.padding, self.stride,
                self._images(buffers.internals.argmax), dx, dy)
        else:
            self.handler.avgpool2d_backward_batch(
                x, self.kernel_size, y, self.padding, self.stride, dx, dy)


@construction_function(Pooling2DLayerImpl)
def Pooling2D(kernel_size, type='max', stride=(1, 1), padding=0, name=None):
    """Max or average pooling of (T, B, H, W, C) images.

    Parameters
    ----------
    kernel_size : int or tuple[int, int]
        Height and width of the pooling window.
    type : {'max', 'avg'}
        Max pooling (padding never wins) or average pooling (over the window
        positions inside the image).
    stride : int or tuple[int, int]
        Step between windows (default (1, 1)).
    padding : int
        Zero padding on all four sides.
    """
    _pair(kernel_size, 'kernel_size')
    _pair(stride, 'stride')
    if type not in ('max', 'avg'):
        raise ValueError("Pooling2D: type must be 'max' or 'avg', got "
                         "{!r}".format(type))
    if not isinstance(padding, int) or padding < 0:
        raise ValueError('Pooling2D: padding must be an int >= 0, got '
                         '{!r}'.format(padding))
