"""Highway: gate between a transformation H and the inputs x (Srivastava
et al. 2015)."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)

from brainstorm_layers._checks import shape_message


class HighwayLayerImpl(Layer):
    """``y = H * T + x * (1 - T)`` element-wise.

    Inputs ``H`` (the transformed inputs), ``T`` (the transform gate,
    usually the output of a sigmoid layer) and ``x`` (the carried inputs),
    all of the same shape (T, B, ...); output ``default`` of that shape.
    The backward pass adds ``dy * T`` to the deltas of ``H``,
    ``dy * (H - x)`` to those of ``T`` and ``dy * (1 - T)`` to those of
    ``x``. The backward-only internal ``tmp`` is scratch.
    """

    expected_inputs = {'H': StructureTemplate('T', 'B', '...'),
                       'T': StructureTemplate('T', 'B', '...'),
                       'x': StructureTemplate('T', 'B', '...')}

    def setup(self, kwargs, in_shapes):
        shape = in_shapes['H'].shape
        for in_name in ('T', 'x'):
            if in_shapes[in_name].shape != shape:
                raise self.error(shape_message(
                    in_name, shape, in_shapes[in_name].shape,
                    "the shape of input 'H': 'H', 'T' and 'x' must have the "
                    "same shape"))
        feature_shape = in_shapes['H'].feature_shape
        outputs = OrderedDict(default=BufferStructure('T', 'B',
                                                      *feature_shape))
        internals = OrderedDict(tmp=BufferStructure(
            'T', 'B', *feature_shape, is_backward_only=True))
        return outputs, OrderedDict(), internals

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        H, T, x = buffers.inputs.H, buffers.inputs.T, buffers.inputs.x
        y = buffers.outputs.default
        # y = x + T * (H - x)
        h.subtract_tt(H, x, y)
        h.mult_tt(y, T, y)
        h.add_tt(y, x, y)

    def backward_pass(self, buffers):
        h = self.handler
        needed = self.input_deltas_needed
        dy = buffers.output_deltas.default
        T = buffers.inputs.T
        tmp = buffers.internals.tmp
        if needed.get('H', True):
            h.mult_add_tt(dy, T, buffers.input_deltas.H)
        if needed.get('T', True):
            h.subtract_tt(buffers.inputs.H, buffers.inputs.x, tmp)
            h.mult_add_tt(dy, tmp, buffers.input_deltas.T)
        if needed.get('x', True):
            h.mult_st(-1.0, T, tmp)
            h.add_st(1.0, tmp, tmp)
            h.mult_add_tt(dy, tmp, buffers.input_deltas.x)


@construction_function(HighwayLayerImpl)
def Highway(name=None):
    """Highway layer: ``y = H * T + x * (1 - T)``.

    Connect the transformed inputs to its input ``H``, the transform gate
    (e.g. a sigmoid FullyConnected layer) to ``T`` and the carried inputs
    to ``x``; all three must have the same shape. For example::

        x >> FullyConnected(n, name='H') >> 'H' - hw
        x >> FullyConnected(n, activation='sigmoid', name='T') >> 'T' - hw
        x >> 'x' - hw

    Parameters
    ----------
    name : str, optional
        Layer name.
    """
