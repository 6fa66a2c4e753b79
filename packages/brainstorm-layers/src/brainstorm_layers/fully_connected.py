"""FullyConnected: an affine map of the (flattened) inputs and an
activation function."""
from collections import OrderedDict

import numpy as np

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)

from brainstorm_layers._checks import (Argument, check_arguments,
                                       describe_options, one_of,
                                       positive_shape)

# activation -> (forward operation, derivative operation) of the handler
ACTIVATIONS = {'linear': None,
               'rel': ('rel', 'rel_deriv'),
               'sigmoid': ('sigmoid', 'sigmoid_deriv'),
               'tanh': ('tanh', 'tanh_deriv')}

ARGUMENTS = OrderedDict(
    size=Argument('a positive int or a non-empty tuple/list of positive '
                  'ints', positive_shape),
    activation=Argument(describe_options(sorted(ACTIVATIONS)),
                        one_of(*sorted(ACTIVATIONS)), default='rel'))


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
        args = check_arguments(self.get_layer_type(), self.name, kwargs,
                               ARGUMENTS)
        self.activation = args['activation']
        out_shape = args['size']
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
    check_arguments('FullyConnected', name,
                    {'size': size, 'activation': activation}, ARGUMENTS)
