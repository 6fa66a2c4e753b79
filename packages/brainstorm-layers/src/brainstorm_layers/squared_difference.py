"""SquaredDifference: the element-wise squared difference of two inputs."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)

from brainstorm_layers._checks import shape_message
from brainstorm_layers._scratch import Scratch


class SquaredDifferenceLayerImpl(Layer):
    """``outputs = (inputs_1 - inputs_2) ** 2`` per dimension.

    Inputs ``inputs_1`` and ``inputs_2`` of the same shape (T, B, ...);
    output ``default`` of that shape (since 0.5 neither summed over
    features nor scaled by one half). It is not a loss layer by itself:
    connect it to a Loss layer to minimise it. Both inputs get deltas,
    ``+-2 (inputs_1 - inputs_2) * dout``.
    """

    expected_inputs = {'inputs_1': StructureTemplate('T', 'B', '...'),
                       'inputs_2': StructureTemplate('T', 'B', '...')}

    def setup(self, kwargs, in_shapes):
        shape = in_shapes['inputs_1'].feature_shape
        if in_shapes['inputs_2'].feature_shape != shape:
            raise self.error(shape_message(
                'inputs_2', ('T', 'B') + shape, in_shapes['inputs_2'].shape,
                "the shape of input 'inputs_1'"))
        self.scratch = Scratch()
        outputs = OrderedDict(default=BufferStructure('T', 'B', *shape))
        return outputs, OrderedDict(), OrderedDict()

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        y = buffers.outputs.default
        h.subtract_tt(buffers.inputs.inputs_1, buffers.inputs.inputs_2, y)
        h.mult_tt(y, y, y)

    def backward_pass(self, buffers):
        needed = [name for name in ('inputs_1', 'inputs_2')
                  if self.input_deltas_needed.get(name, True)]
        if not needed:
            return
        h = self.handler
        a, b = buffers.inputs.inputs_1, buffers.inputs.inputs_2
        grad = self.scratch.get(h, 'grad', a.shape)
        h.subtract_tt(a, b, grad)                # 2 (a - b) * dout
        h.mult_st(2.0, grad, grad)
        h.mult_tt(grad, buffers.output_deltas.default, grad)
        if 'inputs_1' in needed:
            d1 = buffers.input_deltas.inputs_1
            h.add_tt(d1, grad, d1)
        if 'inputs_2' in needed:
            d2 = buffers.input_deltas.inputs_2
            h.subtract_tt(d2, grad, d2)


@construction_function(SquaredDifferenceLayerImpl)
def SquaredDifference(name=None):
    """The squared difference of two inputs, per dimension:
    ``(inputs_1 - inputs_2) ** 2`` (no factor one half).

    Wire its inputs by name (``a >> 'inputs_1' - layer``,
    ``b >> 'inputs_2' - layer``); to minimise the difference connect its
    output to a Loss layer.

    Parameters
    ----------
    name : str, optional
        Layer name.
    """
