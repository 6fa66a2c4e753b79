"""Loss: marks a value to be minimised."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)
from brainstorm.structure.buffer_structure import BATCH_SIZED, TIME_SIZED

from brainstorm_layers._checks import Argument, check_arguments, finite_real

ARGUMENTS = OrderedDict(
    importance=Argument('a finite real number', finite_real, default=1.0))


class _TimeOrBatchSized(StructureTemplate):
    """Matches any time-sized (T, B, ...) or batch-sized (B, ...) input."""

    def __init__(self):
        super().__init__('T', 'B', '...')

    def matches(self, structure):
        return structure.buffer_type in (TIME_SIZED, BATCH_SIZED)

    def __repr__(self):
        return "('T', 'B', ...) or ('B', ...)"


class LossLayerImpl(Layer):
    """Sums its input into the scalar ``loss`` output:
    ``loss = importance * sum(inputs) / B`` with B the batch size.

    The network's total loss is the sum of the losses of all Loss layers,
    and the backward pass starts here: it adds ``importance / B`` to every
    input delta (the deltas of ``loss`` are not used).
    """

    expected_inputs = {'default': _TimeOrBatchSized()}
    expected_kwargs = {'importance'}
    takes_no_output_deltas_from = ('loss',)
    is_loss_layer = True

    def setup(self, kwargs, in_shapes):
        self.importance = check_arguments(self.get_layer_type(), self.name,
                                          kwargs, ARGUMENTS)['importance']
        self.batch_axis = 1 if in_shapes['default'].buffer_type == \
            TIME_SIZED else 0
        outputs = OrderedDict(loss=BufferStructure(1))
        return outputs, OrderedDict(), OrderedDict()

    def _scale(self, inputs):
        return float(self.importance) / inputs.shape[self.batch_axis]

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        x, loss = buffers.inputs.default, buffers.outputs.loss
        h.sum_t(x, None, loss)
        h.mult_st(self._scale(x), loss, loss)

    def backward_pass(self, buffers):
        if not self.input_deltas_needed.get('default', True):
            return
        dx = buffers.input_deltas.default
        self.handler.add_st(self._scale(dx), dx, dx)


@construction_function(LossLayerImpl)
def Loss(importance=1.0, name=None):
    """Marks its input as a loss to be minimised (every network that is
    trained needs one).

    ``loss = importance * sum(inputs) / batch_size``; the network's
    ``get_loss_values()['total_loss']`` is the sum over all Loss layers.

    Parameters
    ----------
    importance : float
        Weight of this loss, a finite number (default 1.0).
    name : str, optional
        Layer name.
    """
    check_arguments('Loss', name, {'importance': importance}, ARGUMENTS)
