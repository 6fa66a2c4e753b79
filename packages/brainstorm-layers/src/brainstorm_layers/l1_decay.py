"""L1Decay: an L1 penalty on activations, as a loss for a Loss layer."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)
from brainstorm.structure.buffer_structure import BATCH_SIZED, TIME_SIZED


class TimeOrBatchSized(StructureTemplate):
    """Matches any time-sized (T, B, ...) or batch-sized (B, ...) input
    (the inputs a Loss layer takes)."""

    def __init__(self):
        super().__init__('T', 'B', '...')

    def matches(self, structure):
        return structure.buffer_type in (TIME_SIZED, BATCH_SIZED)

    def __repr__(self):
        return "('T', 'B', ...) or ('B', ...)"


class DecayLayer(Layer):
    """What L1Decay and L2Decay share: input ``default`` (T, B, ...) or
    (B, ...), output ``loss`` (T, B, 1) or (B, 1): the penalty of each time
    step and sequence, summed over the features. Like the ``loss`` of
    SquaredLoss or SigmoidCE it is meant for a Loss layer, which sums it,
    divides by the batch size and weights it with its ``importance``; the
    backward pass multiplies the derivative of the penalty by the deltas of
    ``loss``. The internal ``tmp`` (shape of the input) is scratch."""

    expected_inputs = {'default': TimeOrBatchSized()}

    def setup(self, kwargs, in_shapes):
        structure = in_shapes['default']
        lead = ('T', 'B') if structure.buffer_type == TIME_SIZED else ('B',)
        outputs = OrderedDict(loss=BufferStructure(*lead, 1))
        internals = OrderedDict(tmp=BufferStructure(
            *lead, *structure.feature_shape))
        return outputs, OrderedDict(), internals

    @staticmethod
    def _rows(array, loss):
        """(rows, features) view: one row per entry of ``loss``."""
        rows = 1
        for size in loss.shape[:-1]:
            rows *= size
        return array.reshape((rows, -1))

    def _penalty(self, x, out):
        """``out = elementwise penalty of x``."""
        raise NotImplementedError

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        loss = buffers.outputs.loss
        tmp = self._rows(buffers.internals.tmp, loss)
        self._penalty(self._rows(buffers.inputs.default, loss), tmp)
        h.sum_t(tmp, 1, self._rows(loss, loss))


class L1DecayLayerImpl(DecayLayer):
    """``loss = sum(|x|)`` over the features of each time step and
    sequence; the backward pass adds ``dloss * sign(x)`` to the input
    deltas."""

    def _penalty(self, x, out):
        self.handler.abs_t(x, out)

    def backward_pass(self, buffers):
        if not self.input_deltas_needed.get('default', True):
            return
        h = self.handler
        loss = buffers.outputs.loss
        x = self._rows(buffers.inputs.default, loss)
        tmp = self._rows(buffers.internals.tmp, loss)
        h.sign_t(x, tmp)
        h.mult_add_mv(tmp, self._rows(buffers.output_deltas.loss, loss),
                      self._rows(buffers.input_deltas.default, loss))


@construction_function(L1DecayLayerImpl)
def L1Decay(name=None):
    """An L1 penalty on the activations of a layer: ``loss = sum(|x|)``
    over the features, one value per time step and sequence (T, B, 1).

    Like SquaredLoss, it only computes the loss: wire its ``loss`` output
    to a Loss layer, whose ``importance`` is the weight of the penalty (and
    which divides by the batch size, as for every loss)::

        hidden >> L1Decay() - 'loss' >> Loss(importance=1e-4)

    Parameters
    ----------
    name : str, optional
        Layer name.
    """
