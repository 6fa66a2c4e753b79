"""FullyConnected: an affine map of the (flattened) inputs and an
activation function."""
from collections import OrderedDict
from numbers import Integral

import numpy as np

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)

# activation -> (forward operation, derivative operation) of the handler
ACTIVATIONS = {'linear': None,
               'rel': ('rel', 'rel_deriv'),
               'sigmoid': ('sigmoid', 'sigmoid_deriv'),
               'tanh': ('tanh', 'tanh_deriv')}


def _size_shape(size):
    """The output feature shape for ``size`` (an int or a shape), or None if
    it is not a valid size."""
    if isinstance(size, Integral) and not isinstance(size, bool):
        return (int(size),) if size > 0 else None
    if isinstance(size, (tuple, list)) and size and all(
            isinstance(s, Integral) and not isinstance(s, bool) and s > 0
            for s in size):
        return tuple(int(s) for s in size)
    return None


class FullyConnectedLayerImpl(Layer):
    """``outputs = act(inputs @ W + bias)`` over flattened input features.

    Parameters ``W`` (n_in, n_out) and ``bias`` (n_out,); internals ``H``
    (the pre-activation, T, B, n_out) and ``dH`` (its deltas, backward
    only), both left out for ``activation='linear'`` where ``H`` would be
    the output itself.
    """

    expected_inputs = {'default': StructureTemplate('T', 'B', '...')}
    expected_kwargs = {'size', 'activation'}

    def setup(self, kwargs, in_shapes):
        self.activation = kwargs.get('activation', 'rel')
        if self.activation not in ACTIVATIONS:
            raise self.error('unknown activation {!r} (choose from {})'.format(
                self.activation, ', '.join(sorted(ACTIVATIONS))))
        out_shape = _size_shape(kwargs.get('size'))
        if out_shape is None:
            raise self.error('size must be a positive int or a shape of '
                             'positive ints, got {!r}'.format(
                                 kwargs.get('size')))
        self.n_in = in_shapes['default'].feature_size
        self.n_out = int(np.prod(out_shape))
        outputs = OrderedDict(default=BufferStructure('T', 'B', *out_shape))
        parameters = OrderedDict(W=BufferStructure(self.n_in, self.n_out),
                                 bias=BufferStructure(self.n_out))
        internals = OrderedDict()
        if self.activation != 'linear':
            internals['H'] = BufferStructure('T', 'B', self.n_out)
            internals['dH'] = BufferStructure('T', 'B', self.n_out,
                                              is_backward_only=True)
        self._bias_sum = None
        return outputs, parameters, internals

    def set_handler(self, handler):
        super().set_handler(handler)
        self._bias_sum = None

    def _rows(self, array):
        return array.reshape((array.shape[0] * array.shape[1], -1))

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        x = self._rows(buffers.inputs.default)
        y = self._rows(buffers.outputs.default)
        if self.activation == 'linear':
            pre = y
        else:
            pre = self._rows(buffers.internals.H)
        h.dot_mm(x, buffers.parameters.W, pre)
        h.add_mv(pre, buffers.parameters.bias.reshape((1, self.n_out)), pre)
        if self.activation != 'linear':
            getattr(h, ACTIVATIONS[self.activation][0])(pre, y)

    def backward_pass(self, buffers):
        h = self.handler
        dy = self._rows(buffers.output_deltas.default)
        if self.activation == 'linear':
            dpre = dy
        else:
            dpre = self._rows(buffers.internals.dH)
            getattr(h, ACTIVATIONS[self.activation][1])(
                None, self._rows(buffers.outputs.default), dy, dpre)
        if self.input_deltas_needed.get('default', True):
            h.dot_add_mm(dpre, buffers.parameters.W,
                         self._rows(buffers.input_deltas.default),
                         transb=True)
        h.dot_add_mm(self._rows(buffers.inputs.default), dpre,
                     buffers.gradients.W, transa=True)
        if self._bias_sum is None:
            self._bias_sum = h.allocate((1, self.n_out))
        h.sum_t(dpre, 0, self._bias_sum)
        db = buffers.gradients.bias.reshape((1, self.n_out))
        h.add_tt(db, self._bias_sum, db)


@construction_function(FullyConnectedLayerImpl)
def FullyConnected(size, activation='rel', name=None):
    """A fully connected layer: ``act(x @ W + bias)``.

    Inputs of any feature shape are flattened.

    Parameters
    ----------
    size : int or tuple[int]
        Number of units, or the feature shape of the outputs (W then has
        ``prod(size)`` columns).
    activation : {'rel', 'linear', 'sigmoid', 'tanh'}
        Activation function (default 'rel').
    name : str, optional
        Layer name.
    """
    if _size_shape(size) is None:
        raise ValueError('FullyConnected: size must be a positive int or a '
                         'shape of positive ints, got {!r}'.format(size))
    if activation not in ACTIVATIONS:
        raise ValueError('FullyConnected: unknown activation {!r} (choose '
                         'from {})'.format(activation,
                                           ', '.join(sorted(ACTIVATIONS))))
