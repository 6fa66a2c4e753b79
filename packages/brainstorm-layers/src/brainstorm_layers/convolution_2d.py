"""Convolution2D: a 2D convolution of (T, B, H, W, C) images and an
activation function."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)

from brainstorm_layers._checks import (Argument, check_arguments,
                                       check_window_fits, describe_options,
                                       int_at_least, int_pair, one_of,
                                       positive_int)

# activation -> (forward operation, derivative operation) of the handler
ACTIVATIONS = {'linear': None,
               'rel': ('rel', 'rel_deriv'),
               'sigmoid': ('sigmoid', 'sigmoid_deriv'),
               'tanh': ('tanh', 'tanh_deriv')}

_PAIR = 'a positive int or a pair (tuple/list) of positive ints'
ARGUMENTS = OrderedDict(
    num_filters=Argument('a positive int', positive_int),
    kernel_size=Argument(_PAIR, int_pair),
    stride=Argument(_PAIR, int_pair, default=(1, 1)),
    padding=Argument('an int >= 0', int_at_least(0), default=0),
    activation=Argument(describe_options(sorted(ACTIVATIONS)),
                        one_of(*sorted(ACTIVATIONS)), default='rel'))


class Convolution2DLayerImpl(Layer):
    """Convolution (correlation) of (T, B, H, W, C) images with
    ``num_filters`` kernels, zero padding on all sides, then the activation.

    Parameters ``W`` (num_filters, kh, kw, C) and ``bias`` (num_filters,);
    outputs (T, B, Ho, Wo, num_filters) with ``Ho = (H + 2 p - kh) // sh +
    1`` (likewise Wo). Internals ``H`` (pre-activation) and ``dH`` (its
    deltas, backward only), left out for ``activation='linear'``.
    """

    expected_inputs = {'default': StructureTemplate('T', 'B', 'F', 'F', 'F')}
    expected_kwargs = {'num_filters', 'kernel_size', 'stride', 'padding',
                       'activation'}

    def setup(self, kwargs, in_shapes):
        args = check_arguments(self.get_layer_type(), self.name, kwargs,
                               ARGUMENTS)
        self.activation = args['activation']
        self.num_filters = args['num_filters']
        self.kernel_size = args['kernel_size']
        self.stride = args['stride']
        self.padding = args['padding']
        height, width, channels = in_shapes['default'].feature_shape
        check_window_fits(self, 'kernel', self.kernel_size, self.padding,
                          in_shapes['default'])
        kh, kw = self.kernel_size
        p = self.padding
        out_h = (height + 2 * p - kh) // self.stride[0] + 1
        out_w = (width + 2 * p - kw) // self.stride[1] + 1
        out_shape = ('T', 'B', out_h, out_w, self.num_filters)
        outputs = OrderedDict(default=BufferStructure(*out_shape))
        parameters = OrderedDict(
            W=BufferStructure(self.num_filters, kh, kw, channels),
            bias=BufferStructure(self.num_filters))
        internals = OrderedDict()
        if self.activation != 'linear':
            internals['H'] = BufferStructure(*out_shape)
            internals['dH'] = BufferStructure(*out_shape,
                                              is_backward_only=True)
        return outputs, parameters, internals

    @staticmethod
    def _images(array):
        return array.reshape((array.shape[0] * array.shape[1],) +
                             tuple(array.shape[2:]))

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        y = self._images(buffers.outputs.default)
        pre = y if self.activation == 'linear' else \
            self._images(buffers.internals.H)
        h.conv2d_forward_batch(self._images(buffers.inputs.default),
                               buffers.parameters.W, buffers.parameters.bias,
                               pre, self.padding, self.stride)
        if self.activation != 'linear':
            getattr(h, ACTIVATIONS[self.activation][0])(pre, y)

    def backward_pass(self, buffers):
        h = self.handler
        dy = self._images(buffers.output_deltas.default)
        if self.activation == 'linear':
            dpre = dy
        else:
            dpre = self._images(buffers.internals.dH)
            getattr(h, ACTIVATIONS[self.activation][1])(
                None, self._images(buffers.outputs.default), dy, dpre)
        in_deltas = self._images(buffers.input_deltas.default) \
            if self.input_deltas_needed.get('default', True) else None
        h.conv2d_backward_batch(
            self._images(buffers.inputs.default), buffers.parameters.W,
            self.padding, self.stride, in_deltas, dpre,
            buffers.gradients.W, buffers.gradients.bias)


@construction_function(Convolution2DLayerImpl)
def Convolution2D(num_filters, kernel_size, stride=(1, 1), padding=0,
                  activation='rel', name=None):
    """A 2D convolution layer for (T, B, H, W, C) images.

    Parameters
    ----------
    num_filters : int
        Number of filters (output channels).
    kernel_size : int or tuple[int, int]
        Kernel height and width.
    stride : int or tuple[int, int]
        Vertical and horizontal step (default (1, 1)).
    padding : int
        Zero padding on all four sides (default 0).
    activation : {'rel', 'linear', 'sigmoid', 'tanh'}
        Activation function (default 'rel').
    name : str, optional
        Layer name.
    """
    check_arguments('Convolution2D', name, {
        'num_filters': num_filters, 'kernel_size': kernel_size,
        'stride': stride, 'padding': padding, 'activation': activation},
        ARGUMENTS)
