"""NoOp: the identity."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)


class NoOpLayerImpl(Layer):
    """``y = x`` for inputs of any shape (T, B, ...); the output deltas are
    added to the input deltas unchanged."""

    expected_inputs = {'default': StructureTemplate('T', 'B', '...')}

    def setup(self, kwargs, in_shapes):
        shape = in_shapes['default'].feature_shape
        outputs = OrderedDict(default=BufferStructure('T', 'B', *shape))
        return outputs, OrderedDict(), OrderedDict()

    def forward_pass(self, buffers, training_pass=True):
        self.handler.copy_to(buffers.inputs.default, buffers.outputs.default)

    def backward_pass(self, buffers):
        if not self.input_deltas_needed.get('default', True):
            return
        dx = buffers.input_deltas.default
        self.handler.add_tt(dx, buffers.output_deltas.default, dx)


@construction_function(NoOpLayerImpl)
def NoOp(name=None):
    """The identity: ``y = x`` (e.g. to give an output a name, or to join
    the graph at one point).

    Parameters
    ----------
    name : str, optional
        Layer name.
    """
