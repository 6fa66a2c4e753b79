"""SigmoidCE: sigmoid outputs and binary cross-entropy per dimension."""
from brainstorm.layers import construction_function

from brainstorm_layers._targets import TargetsLayer


class SigmoidCELayerImpl(TargetsLayer):
    """Sigmoid outputs and the binary cross-entropy loss of each dimension.

    Inputs ``default`` and ``targets`` (targets in [0, 1]) of the same
    shape (T, B, ...). Outputs ``predictions`` = sigmoid(x) and ``loss`` of
    the same shape, ``-t log p - (1 - t) log(1 - p)`` per dimension (not
    summed, since 0.5), computed stably as
    ``max(x, 0) - x t + log(1 + exp(-|x|))``. The deltas of the loss are
    back-propagated to ``default``; ``targets`` get none and
    ``predictions`` take none.
    """

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        x, t = buffers.inputs.default, buffers.inputs.targets
        loss = buffers.outputs.loss
        h.sigmoid(x, buffers.outputs.predictions)
        tmp = self._scratch('tmp', x.shape)
        h.abs_t(x, tmp)                  # log(1 + exp(-|x|))
        h.mult_st(-1.0, tmp, tmp)
        h.exp_t(tmp, tmp)
        h.add_st(1.0, tmp, tmp)
        h.log_t(tmp, tmp)
        h.rel(x, loss)                   # + max(x, 0)
        h.add_tt(loss, tmp, loss)
        h.mult_tt(x, t, tmp)             # - x * t
        h.subtract_tt(loss, tmp, loss)

    def backward_pass(self, buffers):
        if not self.default_deltas_needed:
            return
        h = self.handler
        p = buffers.outputs.predictions
        diff = self._scratch('tmp', p.shape)
        h.subtract_tt(p, buffers.inputs.targets, diff)    # p - t
        h.mult_add_tt(diff, buffers.output_deltas.loss,
                      buffers.input_deltas.default)


@construction_function(SigmoidCELayerImpl)
def SigmoidCE(name=None):
    """Sigmoid output layer with binary cross-entropy loss per dimension
    (multi-label classification).

    Connect targets in [0, 1] (same shape as the inputs) to its
    ``targets`` input and its ``loss`` output to a Loss layer;
    ``predictions`` holds sigmoid(x).

    Parameters
    ----------
    name : str, optional
        Layer name.
    """
