"""Mask: multiply the inputs by a mask (per sample or per feature)."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)


class MaskLayerImpl(Layer):
    """``outputs = inputs * mask``.

    Inputs ``default`` (T, B, ...) and ``mask``, either (T, B, 1) (one value
    per sample, applied to all its features) or of the shape of
    ``default`` (one value per feature). The mask gets no deltas.
    """

    expected_inputs = {'default': StructureTemplate('T', 'B', '...'),
                       'mask': StructureTemplate('T', 'B', '...')}
    computes_no_input_deltas_for = ('mask',)

    def setup(self, kwargs, in_shapes):
        shape = in_shapes['default'].feature_shape
        mask_shape = in_shapes['mask'].feature_shape
        if mask_shape not in ((1,), shape):
            raise self.error(
                "input 'mask' must have the shape ('T', 'B', 1) or that of "
                "the input 'default' {}, but receives {}".format(
                    in_shapes['default'].shape, in_shapes['mask'].shape))
        outputs = OrderedDict(default=BufferStructure('T', 'B', *shape))
        return outputs, OrderedDict(), OrderedDict()

    def _rows(self, array):
        return array.reshape((array.shape[0] * array.shape[1], -1))

    def forward_pass(self, buffers, training_pass=True):
        self.handler.mult_mv(self._rows(buffers.inputs.default),
                             self._rows(buffers.inputs.mask),
                             self._rows(buffers.outputs.default))

    def backward_pass(self, buffers):
        if not self.input_deltas_needed.get('default', True):
            return
        self.handler.mult_add_mv(self._rows(buffers.output_deltas.default),
                                 self._rows(buffers.inputs.mask),
                                 self._rows(buffers.input_deltas.default))


@construction_function(MaskLayerImpl)
def Mask(name=None):
    """Multiply the inputs by a mask given as the input ``mask``:
    (T, B, 1) to mask whole samples (e.g. the padding of sequences of
    different lengths) or the shape of the inputs to mask single features.

    Parameters
    ----------
    name : str, optional
        Layer name.
    """
