"""Merge: concatenate two inputs along their last axis."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)

from brainstorm_layers._checks import shape_message


class MergeLayerImpl(Layer):
    """Concatenates ``inputs_1`` (T, B, ..., N1) and ``inputs_2``
    (T, B, ..., N2) along the last axis into ``default``
    (T, B, ..., N1 + N2); all other axes must agree. The backward pass
    splits the output deltas and adds the parts to the two input deltas.

    Both inputs may be the same output of one layer (then its deltas get
    both parts, through the backward-only internal ``d_inputs_2``).
    """

    expected_inputs = {'inputs_1': StructureTemplate('T', 'B', '...'),
                       'inputs_2': StructureTemplate('T', 'B', '...')}

    def setup(self, kwargs, in_shapes):
        shape_1 = in_shapes['inputs_1'].feature_shape
        shape_2 = in_shapes['inputs_2'].feature_shape
        if not shape_1 or not shape_2 or len(shape_1) != len(shape_2) or \
                shape_1[:-1] != shape_2[:-1]:
            expected = ('T', 'B') + shape_1[:-1] + ('N2',) if shape_1 \
                else ('T', 'B', 'N2')
            raise self.error(shape_message(
                'inputs_2', expected, in_shapes['inputs_2'].shape,
                "the shape of input 'inputs_1' {} in all but the last "
                "axis".format(in_shapes['inputs_1'].shape)))
        out_shape = shape_1[:-1] + (shape_1[-1] + shape_2[-1],)
        outputs = OrderedDict(default=BufferStructure('T', 'B', *out_shape))
        internals = OrderedDict()
        # the same output wired to both inputs: its deltas are one array,
        # which split_add_tt may not get twice
        self.same_source = self.incoming.get('inputs_1') is not None and \
            self.incoming.get('inputs_1') == self.incoming.get('inputs_2')
        if self.same_source:
            internals['d_inputs_2'] = BufferStructure(
                'T', 'B', *shape_2, is_backward_only=True)
        return outputs, OrderedDict(), internals

    def forward_pass(self, buffers, training_pass=True):
        self.handler.merge_tt(buffers.inputs.inputs_1,
                              buffers.inputs.inputs_2,
                              buffers.outputs.default)

    def backward_pass(self, buffers):
        needed = self.input_deltas_needed
        if not (needed.get('inputs_1', True) or
                needed.get('inputs_2', True)):
            return
        h = self.handler
        dy = buffers.output_deltas.default
        d1 = buffers.input_deltas.inputs_1
        if self.same_source:
            d2 = buffers.internals.d_inputs_2
            h.fill(d2, 0.0)
            h.split_add_tt(dy, d1, d2)
            h.add_tt(d1, d2, d1)
        else:
            # adds into both (also where only one is needed: that costs
            # nothing worth saving and the buffer exists anyway)
            h.split_add_tt(dy, d1, buffers.input_deltas.inputs_2)


@construction_function(MergeLayerImpl)
def Merge(name=None):
    """Concatenates its inputs ``inputs_1`` and ``inputs_2`` along the last
    (feature) axis.

    Shapes (T, B, ..., N1) and (T, B, ..., N2), equal in all other axes,
    give (T, B, ..., N1 + N2). Wire the two inputs by name::

        a >> 'inputs_1' - merge
        b >> 'inputs_2' - merge

    Parameters
    ----------
    name : str, optional
        Layer name.
    """
