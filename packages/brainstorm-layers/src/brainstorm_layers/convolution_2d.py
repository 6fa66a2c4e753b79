"""Convolution2D: a 2D convolution of (T, B, H, W, C) images and an
activation function."""
from collections import OrderedDict
from numbers import Integral

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)

# activation -> (forward operation, derivative operation) of the handler
ACTIVATIONS = {'linear': None,
               'rel': ('rel', 'rel_deriv'),
               'sigmoid': ('sigmoid', 'sigmoid_deriv'),
               'tanh': ('tanh', 'tanh_deriv')}


def _is_int(value, minimum):
    return isinstance(value, Integral) and not isinstance(value, bool) and \
        value >= minimum


def _pair(value):
    """``value`` as a pair of positive ints, or None if it is not one."""
    if _is_int(value, 1):
        return (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            _is_int(v, 1) for v in value):
        return (int(value[0]), int(value[1]))
    return None


def _problems(num_filters, kernel_size, stride, padding, activation):
    """Messages for every invalid argument."""
    problems = []
    if not _is_int(num_filters, 1):
        problems.append('num_filters must be a positive int, got {!r}'.format(
            num_filters))
    for what, value in (('kernel_size', kernel_size), ('stride', stride)):
        if _pair(value) is None:
            problems.append('{} must be a positive int or a pair of them, '
                            'got {!r}'.format(what, value))
    if not _is_int(padding, 0):
        problems.append('padding must be an int >= 0, got {!r}'.format(
            padding))
    if activation not in ACTIVATIONS:
        problems.append('unknown activation {!r} (choose from {})'.format(
            activation, ', '.join(sorted(ACTIVATIONS))))
    return problems


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
        num_filters = kwargs.get('num_filters')
        kernel_size = kwargs.get('kernel_size')
        stride = kwargs.get('stride', (1, 1))
        padding = kwargs.get('padding', 0)
        self.activation = kwargs.get('activation', 'rel')
        problems = _problems(num_filters, kernel_size, stride, padding,
                             self.activation)
        if problems:
            raise self.error('; '.join(problems))
        self.num_filters = int(num_filters)
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = int(padding)
        height, width, channels = in_shapes['default'].feature_shape
        kh, kw = self.kernel_size
        p = self.padding
        if height + 2 * p < kh or width + 2 * p < kw:
            raise self.error(
                'kernel {}x{} does not fit inputs of {}x{} pixels with '
                'padding {}'.format(kh, kw, height, width, p))
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
    problems = _problems(num_filters, kernel_size, stride, padding,
                         activation)
    if problems:
        raise ValueError('Convolution2D: ' + '; '.join(problems))
