"""DeltasScaling: the identity forward, scaled deltas backward."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)

from brainstorm_layers._checks import Argument, check_arguments, finite_real

ARGUMENTS = OrderedDict(
    factor=Argument('a finite real number', finite_real))


class DeltasScalingLayerImpl(Layer):
    """``y = x`` in the forward pass; the backward pass adds
    ``factor * dy`` to the input deltas (so it is *not* the derivative of
    the forward pass unless ``factor == 1``: it scales the gradients of
    everything below it, e.g. -1 for gradient reversal)."""

    expected_inputs = {'default': StructureTemplate('T', 'B', '...')}
    expected_kwargs = {'factor'}

    def setup(self, kwargs, in_shapes):
        self.factor = check_arguments(self.get_layer_type(), self.name,
                                      kwargs, ARGUMENTS)['factor']
        shape = in_shapes['default'].feature_shape
        outputs = OrderedDict(default=BufferStructure('T', 'B', *shape))
        return outputs, OrderedDict(), OrderedDict()

    def forward_pass(self, buffers, training_pass=True):
        self.handler.copy_to(buffers.inputs.default, buffers.outputs.default)

    def backward_pass(self, buffers):
        if not self.input_deltas_needed.get('default', True):
            return
        self.handler.mult_add_st(self.factor, buffers.output_deltas.default,
                                 buffers.input_deltas.default)


@construction_function(DeltasScalingLayerImpl)
def DeltasScaling(factor, name=None):
    """Identity in the forward pass; multiplies the deltas by ``factor`` in
    the backward pass (e.g. ``factor=-1`` reverses the gradient).

    Parameters
    ----------
    factor : float
        The scaling factor of the deltas, a finite number.
    name : str, optional
        Layer name.
    """
    check_arguments('DeltasScaling', name, {'factor': factor}, ARGUMENTS)
