"""L2Decay: an L2 penalty on activations, as a loss for a Loss layer."""
from brainstorm.layers import construction_function

from brainstorm_layers.l1_decay import DecayLayer


class L2DecayLayerImpl(DecayLayer):
    """``loss = 0.5 * sum(x ** 2)`` over the features of each time step and
    sequence; the backward pass adds ``dloss * x`` to the input deltas."""

    def _penalty(self, x, out):
        self.handler.mult_tt(x, x, out)
        self.handler.mult_st(0.5, out, out)

    def backward_pass(self, buffers):
        if not self.input_deltas_needed.get('default', True):
            return
        loss = buffers.outputs.loss
        self.handler.mult_add_mv(
            self._rows(buffers.inputs.default, loss),
            self._rows(buffers.output_deltas.loss, loss),
            self._rows(buffers.input_deltas.default, loss))


@construction_function(L2DecayLayerImpl)
def L2Decay(name=None):
    """An L2 penalty on the activations of a layer: ``loss = 0.5 *
    sum(x ** 2)`` over the features, one value per time step and sequence
    (T, B, 1).

    Like SquaredLoss, it only computes the loss: wire its ``loss`` output
    to a Loss layer, whose ``importance`` is the weight of the penalty (and
    which divides by the batch size, as for every loss)::

        hidden >> L2Decay() - 'loss' >> Loss(importance=1e-4)

    Parameters
    ----------
    name : str, optional
        Layer name.
    """
