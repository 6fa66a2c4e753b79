"""Elementwise: apply an activation function to every input."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)

from brainstorm_layers._checks import (Argument, check_arguments,
                                       describe_options, one_of)
from brainstorm_layers.fully_connected import ACTIVATIONS

ARGUMENTS = OrderedDict(
    activation=Argument(describe_options(sorted(ACTIVATIONS)),
                        one_of(*sorted(ACTIVATIONS)), default='rel'))


class ElementwiseLayerImpl(Layer):
    """``y = act(x)`` element-wise, for inputs of any shape (T, B, ...).

    The activations are those of FullyConnected ('linear', 'rel',
    'sigmoid', 'tanh'). The backward-only internal ``d_act`` (left out for
    'linear') holds ``dy * act'(x)`` before it is added to the input
    deltas.
    """

    expected_inputs = {'default': StructureTemplate('T', 'B', '...')}
    expected_kwargs = {'activation'}

    def setup(self, kwargs, in_shapes):
        self.activation = check_arguments(self.get_layer_type(), self.name,
                                          kwargs, ARGUMENTS)['activation']
        shape = in_shapes['default'].feature_shape
        outputs = OrderedDict(default=BufferStructure('T', 'B', *shape))
        internals = OrderedDict()
        if self.activation != 'linear':
            internals['d_act'] = BufferStructure('T', 'B', *shape,
                                                 is_backward_only=True)
        return outputs, OrderedDict(), internals

    def forward_pass(self, buffers, training_pass=True):
        x, y = buffers.inputs.default, buffers.outputs.default
        if self.activation == 'linear':
            self.handler.copy_to(x, y)
        else:
            getattr(self.handler, ACTIVATIONS[self.activation][0])(x, y)

    def backward_pass(self, buffers):
        if not self.input_deltas_needed.get('default', True):
            return
        h = self.handler
        dy, dx = buffers.output_deltas.default, buffers.input_deltas.default
        if self.activation == 'linear':
            h.add_tt(dx, dy, dx)
            return
        d_act = buffers.internals.d_act
        getattr(h, ACTIVATIONS[self.activation][1])(
            buffers.inputs.default, buffers.outputs.default, dy, d_act)
        h.add_tt(dx, d_act, dx)


@construction_function(ElementwiseLayerImpl)
def Elementwise(activation='rel', name=None):
    """Applies an activation function to every input: ``y = act(x)``.

    Parameters
    ----------
    activation : {'rel', 'linear', 'sigmoid', 'tanh'}
        Activation function (default 'rel').
    name : str, optional
        Layer name.
    """
    check_arguments('Elementwise', name, {'activation': activation},
                    ARGUMENTS)
