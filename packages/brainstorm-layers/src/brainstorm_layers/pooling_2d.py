"""Pooling2D: max or average pooling over (T, B, H, W, C) images."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, LayerValidationError,
                               StructureTemplate, construction_function)

from brainstorm_layers._checks import (Argument, check_arguments,
                                       check_window_fits, describe_options,
                                       int_at_least, int_pair, layer_label,
                                       one_of)

_PAIR = 'a positive int or a pair (tuple/list) of positive ints'
TYPES = ('max', 'avg')
ARGUMENTS = OrderedDict(
    kernel_size=Argument(_PAIR, int_pair),
    type=Argument(describe_options(TYPES), one_of(*TYPES), default='max'),
    stride=Argument(_PAIR, int_pair, default=(1, 1)),
    padding=Argument('an int >= 0', int_at_least(0), default=0))


def _check(name, given):
    """The checked arguments; also padding < kernel size for max pooling
    (a window entirely in the padding would have no maximum)."""
    args = check_arguments('Pooling2D', name, given, ARGUMENTS)
    if args['type'] == 'max' and args['padding'] >= min(args['kernel_size']):
        raise LayerValidationError(
            "{}: argument 'padding': expected an int < {} (the smaller side "
            "of the kernel {}x{}) for max pooling, but received {!r}".format(
                layer_label('Pooling2D', name), min(args['kernel_size']),
                args['kernel_size'][0], args['kernel_size'][1],
                args['padding']))
    return args


class Pooling2DLayerImpl(Layer):
    """Pools windows of ``kernel_size`` moved by ``stride`` over zero-padded
    (max: never picking padding) images; channels are pooled separately."""

    expected_inputs = {'default': StructureTemplate('T', 'B', 'F', 'F', 'F')}
    expected_kwargs = {'kernel_size', 'type', 'stride', 'padding'}

    def setup(self, kwargs, in_shapes):
        args = _check(self.name, kwargs)
        self.kernel_size = args['kernel_size']
        self.stride = args['stride']
        self.padding = args['padding']
        self.type = args['type']
        height, width, channels = in_shapes['default'].feature_shape
        check_window_fits(self, 'kernel', self.kernel_size, self.padding,
                          in_shapes['default'])
        kh, kw = self.kernel_size
        p = self.padding
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
        Zero padding on all four sides (default 0); smaller than the
        kernel for max pooling.
    name : str, optional
        Layer name.
    """
    _check(name, {'kernel_size': kernel_size, 'type': type,
                  'stride': stride, 'padding': padding})
