"""SquaredError: half the squared error summed over features."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)


class SquaredErrorLayerImpl(Layer):
    """Regression output layer.

    Inputs ``default`` and ``targets`` of the same shape (T, B, ...).
    Outputs ``predictions`` (a copy of the inputs) and ``loss`` (T, B, 1) =
    ``0.5 * sum((x - t) ** 2)`` over all features of each sample. The
    internal ``diff`` holds ``x - t``. The deltas of the loss are
    back-propagated to ``default``; ``targets`` get none and
    ``predictions`` take none.
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
                              loss=BufferStructure('T', 'B', 1))
        internals = OrderedDict(diff=BufferStructure('T', 'B', *shape))
        self._square = None
        return outputs, OrderedDict(), internals

    def set_handler(self, handler):
        super().set_handler(handler)
        self._square = None

    def _rows(self, array):
        return array.reshape((array.shape[0] * array.shape[1], -1))

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        x = self._rows(buffers.inputs.default)
        diff = self._rows(buffers.internals.diff)
        h.copy_to(x, self._rows(buffers.outputs.predictions))
        h.subtract_tt(x, self._rows(buffers.inputs.targets), diff)
        if self._square is None or self._square.shape != diff.shape:
            self._square = h.allocate(diff.shape)
        h.mult_tt(diff, diff, self._square)
        loss = self._rows(buffers.outputs.loss)
        h.sum_t(self._square, 1, loss)
        h.mult_st(0.5, loss, loss)

    def backward_pass(self, buffers):
        if not self.input_deltas_needed.get('default', True):
            return
        self.handler.mult_add_mv(self._rows(buffers.internals.diff),
                                 self._rows(buffers.output_deltas.loss),
                                 self._rows(buffers.input_deltas.default))


@construction_function(SquaredErrorLayerImpl)
def SquaredError(name=None):
    """Regression output layer: ``loss = 0.5 * sum((x - t) ** 2)`` per
    sample (summed over features), ``predictions`` = x.

    Connect the targets (same shape as the inputs) to its ``targets`` input
    and its ``loss`` output to a Loss layer.

    Parameters
    ----------
    name : str, optional
        Layer name.
    """
