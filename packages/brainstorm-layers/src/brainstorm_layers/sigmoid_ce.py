"""SigmoidCE: sigmoid outputs and binary cross-entropy per dimension."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)


class SigmoidCELayerImpl(Layer):
    """Sigmoid outputs and the binary cross-entropy loss of each dimension.

    Inputs ``default`` and ``targets`` (targets in [0, 1]) of the same
    shape (T, B, ...). Outputs ``predictions`` = sigmoid(x) and ``loss`` of
    the same shape, ``-t log p - (1 - t) log(1 - p)`` per dimension (not
    summed), computed stably as ``max(x, 0) - x t + log(1 + exp(-|x|))``.
    The deltas of the loss are back-propagated to ``default``; ``targets``
    get none and ``predictions`` take none.
    """

    expected_inputs = {'default': StructureTemplate('T', 'B', '...'),
                       'targets': StructureTemplate('T', 'B', '...')}
    computes_no_input_deltas_for = ('targets',)
    takes_no_output_deltas_from = ('predictions',)

    def setup(self, kwargs, in_shapes):
        shape = in_shapes['default'].feature_shape
        if in_shapes['targets'].feature_shape != shape:
            raise self.error(
                "input 'targets' must have the shape of the input 'default' "
                '{}, but receives {}'.format(in_shapes['default'].shape,
                                             in_shapes['targets'].shape))
        outputs = OrderedDict(predictions=BufferStructure('T', 'B', *shape),
                              loss=BufferStructure('T', 'B', *shape))
        self._tmp = None
        return outputs, OrderedDict(), OrderedDict()

    def set_handler(self, handler):
        super().set_handler(handler)
        self._tmp = None

    def _scratch(self, like):
        if self._tmp is None or self._tmp.shape != like.shape:
            self._tmp = self.handler.allocate(like.shape)
        return self._tmp

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        x, t = buffers.inputs.default, buffers.inputs.targets
        loss = buffers.outputs.loss
        h.sigmoid(x, buffers.outputs.predictions)
        tmp = self._scratch(x)
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
        if not self.input_deltas_needed.get('default', True):
            return
        h = self.handler
        p = buffers.outputs.predictions
        diff = self._scratch(p)
        h.subtract_tt(p, buffers.inputs.targets, diff)
        h.mult_add_tt(diff, buffers.output_deltas.loss,
                      buffers.input_deltas.default)


@construction_function(SigmoidCELayerImpl)
def SigmoidCE(name=None):
    """Sigmoid output layer with binary cross-entropy loss per dimension
    (multi-label classification).

    Connect targets in [0, 1] (same shape as the inputs) to its
    ``targets`` input and its ``loss`` output to a Loss layer.

    Parameters
    ----------
    name : str, optional
        Layer name.
    """
