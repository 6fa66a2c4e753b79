"""Mask: multiply the inputs by a mask (per time step, per position or per
feature)."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)

from brainstorm_layers._checks import shape_message


class MaskLayerImpl(Layer):
    """``outputs = inputs * mask``.

    Inputs ``default`` (T, B, ...) and ``mask``, of one of the shapes

    * (T, B, 1): one value per time step and sequence, applied to all its
      features (e.g. zeros for the padding of sequences of different
      lengths);
    * the shape of ``default``: one value per feature;
    * that shape with a last axis of 1, e.g. (T, B, H, W, 1) for images
      (T, B, H, W, C): one value per position, applied to all channels.

    The mask gets no deltas; the deltas of ``default`` are the output
    deltas times the mask.
    """

    expected_inputs = {'default': StructureTemplate('T', 'B', '...'),
                       'mask': StructureTemplate('T', 'B', '...')}
    computes_no_input_deltas_for = ('mask',)

    def setup(self, kwargs, in_shapes):
        shape = in_shapes['default'].feature_shape
        mask_shape = in_shapes['mask'].feature_shape
        allowed = [(1,), shape]
        if len(shape) > 1:
            allowed.insert(1, shape[:-1] + (1,))
        if mask_shape not in allowed:
            expected = ' or '.join(str(('T', 'B') + s) for s in
                                   _unique(allowed))
            raise self.error(shape_message(
                'mask', expected, in_shapes['mask'].shape,
                "one value per time step and sequence{}, or per feature of "
                "input 'default'".format(
                    ', per position (for all of the last axis)'
                    if len(shape) > 1 else '')))
        # computed as (rows, cols) * (rows, 1 or cols): cols is the size of
        # the last axis when the mask is given per position, else all
        # features
        if len(shape) > 1 and mask_shape == shape[:-1] + (1,):
            self.cols = shape[-1]
        else:
            self.cols = in_shapes['default'].feature_size
        outputs = OrderedDict(default=BufferStructure('T', 'B', *shape))
        return outputs, OrderedDict(), OrderedDict()

    def _views(self, data, mask):
        data = data.reshape((-1, self.cols))
        return data, mask.reshape((data.shape[0], -1))

    def forward_pass(self, buffers, training_pass=True):
        x, mask = self._views(buffers.inputs.default, buffers.inputs.mask)
        self.handler.mult_mv(x, mask,
                             buffers.outputs.default.reshape(x.shape))

    def backward_pass(self, buffers):
        if not self.input_deltas_needed.get('default', True):
            return
        dy, mask = self._views(buffers.output_deltas.default,
                               buffers.inputs.mask)
        self.handler.mult_add_mv(
            dy, mask, buffers.input_deltas.default.reshape(dy.shape))


def _unique(shapes):
    result = []
    for shape in shapes:
        if shape not in result:
            result.append(shape)
    return result


@construction_function(MaskLayerImpl)
def Mask(name=None):
    """Multiply the inputs by a mask given as the input ``mask``, of shape

    * (T, B, 1) to mask whole time steps of each sequence (e.g. the padding
      of sequences of different lengths),
    * the shape of the inputs to mask single features, or
    * the shape of the inputs with a last axis of 1 (e.g. (T, B, H, W, 1)
      for images) to mask positions across all channels.

    The mask's shape is checked when the network is built.

    Parameters
    ----------
    name : str, optional
        Layer name.
    """
