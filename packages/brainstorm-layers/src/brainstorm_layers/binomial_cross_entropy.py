"""BinomialCrossEntropy: binary cross-entropy of probabilities against
targets, per dimension."""
import numpy as np

from brainstorm.layers import construction_function

from brainstorm_layers._targets import TargetsLayer


class BinomialCrossEntropyLayerImpl(TargetsLayer):
    """Binary cross-entropy between probabilities and targets.

    Inputs ``default`` (probabilities in (0, 1), e.g. the outputs of a
    sigmoid layer) and ``targets`` (in [0, 1]) of the same shape
    (T, B, ...). Output ``loss`` of the same shape,
    ``-(t log y + (1 - t) log(1 - y))`` per dimension (not summed), where
    ``y`` and ``1 - y`` are clipped to the smallest positive number of the
    dtype before the log, so that probabilities of exactly 0 or 1 give a
    large but finite loss. The deltas of the loss,
    ``dloss * ((1 - t) / (1 - y) - t / y)`` (with the same clipping), go to
    ``default``; ``targets`` get none.

    Unlike SigmoidCE this layer takes probabilities, not logits: prefer
    SigmoidCE after a linear layer, which is exact for any input.
    """

    has_predictions = False
    takes_no_output_deltas_from = ()

    def _logs(self, y, tmp_y, tmp_1my):
        """tmp_y = clip(y), tmp_1my = clip(1 - y) (clipped to [tiny, 1])."""
        h = self.handler
        tiny = float(np.finfo(h.dtype).tiny)
        h.clip_t(y, tiny, 1.0, tmp_y)
        h.mult_st(-1.0, y, tmp_1my)
        h.add_st(1.0, tmp_1my, tmp_1my)
        h.clip_t(tmp_1my, tiny, 1.0, tmp_1my)

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        y, t = buffers.inputs.default, buffers.inputs.targets
        loss = buffers.outputs.loss
        a = self._scratch('a', y.shape)
        b = self._scratch('b', y.shape)
        self._logs(y, a, b)
        h.log_t(a, a)                    # log y
        h.log_t(b, b)                    # log(1 - y)
        h.mult_tt(t, a, loss)            # t log y
        h.mult_st(-1.0, t, a)            # (1 - t) log(1 - y)
        h.add_st(1.0, a, a)
        h.mult_add_tt(a, b, loss)
        h.mult_st(-1.0, loss, loss)

    def backward_pass(self, buffers):
        if not self.default_deltas_needed:
            return
        h = self.handler
        y, t = buffers.inputs.default, buffers.inputs.targets
        a = self._scratch('a', y.shape)
        b = self._scratch('b', y.shape)
        self._logs(y, a, b)
        h.divide_tt(t, a, a)             # t / y
        c = self._scratch('c', y.shape)
        h.mult_st(-1.0, t, c)            # (1 - t) / (1 - y)
        h.add_st(1.0, c, c)
        h.divide_tt(c, b, b)
        h.subtract_tt(b, a, b)           # (1 - t) / (1 - y) - t / y
        h.mult_add_tt(b, buffers.output_deltas.loss,
                      buffers.input_deltas.default)


@construction_function(BinomialCrossEntropyLayerImpl)
def BinomialCrossEntropy(name=None):
    """Binary cross-entropy of probabilities against targets, per dimension:
    ``loss = -(t log y + (1 - t) log(1 - y))``.

    Connect probabilities (e.g. a FullyConnected layer with
    ``activation='sigmoid'``) to its default input, targets in [0, 1] of
    the same shape to its ``targets`` input, and its ``loss`` output to a
    Loss layer.

    Parameters
    ----------
    name : str, optional
        Layer name.
    """
