"""Dropout: randomly zero inputs during training (inverted dropout)."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)

from brainstorm_layers._checks import Argument, check_arguments, real_in

ARGUMENTS = OrderedDict(
    drop_prob=Argument('a number in [0, 1)',
                       real_in(0.0, 1.0, high_closed=False), default=0.5))


class DropoutLayerImpl(Layer):
    """Multiplies the inputs by a random mask in training passes.

    Each unit is kept with probability ``1 - drop_prob`` and kept units are
    scaled by ``1 / (1 - drop_prob)``, so that inference passes are the
    identity. The scaled mask of the last pass is the internal ``mask``; the
    backward pass multiplies the deltas by it (the exact derivative).
    """

    expected_inputs = {'default': StructureTemplate('T', 'B', '...')}
    expected_kwargs = {'drop_prob'}

    def setup(self, kwargs, in_shapes):
        self.drop_prob = check_arguments(self.get_layer_type(), self.name,
                                         kwargs, ARGUMENTS)['drop_prob']
        shape = in_shapes['default'].feature_shape
        outputs = OrderedDict(default=BufferStructure('T', 'B', *shape))
        internals = OrderedDict(mask=BufferStructure('T', 'B', *shape))
        return outputs, OrderedDict(), internals

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        x, y = buffers.inputs.default, buffers.outputs.default
        mask = buffers.internals.mask
        if training_pass:
            keep = 1.0 - float(self.drop_prob)
            h.generate_probability_mask(mask, keep)
            h.mult_st(1.0 / keep, mask, mask)
            h.mult_tt(x, mask, y)
        else:
            h.fill(mask, 1.0)
            h.copy_to(x, y)

    def backward_pass(self, buffers):
        if not self.input_deltas_needed.get('default', True):
            return
        self.handler.mult_add_tt(buffers.output_deltas.default,
                                 buffers.internals.mask,
                                 buffers.input_deltas.default)


@construction_function(DropoutLayerImpl)
def Dropout(drop_prob=0.5, name=None):
    """Dropout: in training passes each input unit is set to zero with
    probability ``drop_prob`` and the others are scaled by
    ``1 / (1 - drop_prob)``; inference passes are the identity.

    Parameters
    ----------
    drop_prob : float
        Probability of dropping a unit, in [0, 1) (default 0.5).
    name : str, optional
        Layer name.
    """
    check_arguments('Dropout', name, {'drop_prob': drop_prob}, ARGUMENTS)
