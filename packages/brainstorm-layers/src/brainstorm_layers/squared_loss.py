"""SquaredLoss: half the squared difference of inputs and targets, per
dimension (added in 0.5)."""
from collections import OrderedDict

from brainstorm.layers import BufferStructure, construction_function

from brainstorm_layers._targets import TargetsLayer


class SquaredLossLayerImpl(TargetsLayer):
    """Regression output layer with the interface of SigmoidCE.

    Inputs ``default`` and ``targets`` of the same shape (T, B, ...).
    Outputs ``predictions`` (a copy of the inputs) and ``loss`` of the same
    shape, ``0.5 * (x - t) ** 2`` per dimension. The internal ``diff``
    holds ``x - t``. The deltas of the loss are back-propagated to
    ``default`` (``dx += dloss * (x - t)``); ``targets`` get none and
    ``predictions`` take none.
    """

    def internal_structures(self, feature_shape):
        return OrderedDict(diff=BufferStructure('T', 'B', *feature_shape))

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        x, loss = buffers.inputs.default, buffers.outputs.loss
        diff = buffers.internals.diff
        h.copy_to(x, buffers.outputs.predictions)
        h.subtract_tt(x, buffers.inputs.targets, diff)
        h.mult_tt(diff, diff, loss)
        h.mult_st(0.5, loss, loss)

    def backward_pass(self, buffers):
        if not self.default_deltas_needed:
            return
        self.handler.mult_add_tt(buffers.internals.diff,
                                 buffers.output_deltas.loss,
                                 buffers.input_deltas.default)


@construction_function(SquaredLossLayerImpl)
def SquaredLoss(name=None):
    """Regression output layer: ``loss = 0.5 * (x - t) ** 2`` per dimension
    (not summed), ``predictions`` = x.

    Its interface is that of SigmoidCE and SoftmaxCE: connect the targets
    (same shape as the inputs) to its ``targets`` input and its ``loss``
    output to a Loss layer.

    Parameters
    ----------
    name : str, optional
        Layer name.
    """
