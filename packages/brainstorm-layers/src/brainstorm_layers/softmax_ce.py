"""SoftmaxCE: softmax outputs and cross-entropy against class indices."""
from collections import OrderedDict

import numpy as np

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)


class SoftmaxCELayerImpl(Layer):
    """Softmax over the last feature axis and the cross-entropy loss.

    Inputs ``default`` (T, B, ..., K) and ``targets`` (T, B, ..., 1) holding
    class indices in [0, K). Outputs ``predictions`` (the softmax, same
    shape as ``default``) and ``loss`` (T, B, ..., 1) = ``-log p[target]``
    per sample (probabilities are clipped to the smallest positive number
    of the dtype before the log). The deltas of the loss are back-propagated
    to ``default``; ``targets`` get none and ``predictions`` take none.
    """

    expected_inputs = {'default': StructureTemplate('T', 'B', '...'),
                       'targets': StructureTemplate('T', 'B', '...')}
    computes_no_input_deltas_for = ('targets',)
    takes_no_output_deltas_from = ('predictions',)

    def setup(self, kwargs, in_shapes):
        shape = in_shapes['default'].feature_shape
        if not shape:
            raise self.error("input 'default' needs at least one feature "
                             'dimension (the classes)')
        expected = shape[:-1] + (1,)
        if in_shapes['targets'].feature_shape != expected:
            raise self.error(
                "input 'targets' must hold one class index per sample, shape "
                "{} for inputs of shape {}, but receives {}".format(
                    ('T', 'B') + expected, ('T', 'B') + shape,
                    in_shapes['targets'].shape))
        self.n_classes = shape[-1]
        outputs = OrderedDict(
            predictions=BufferStructure('T', 'B', *shape),
            loss=BufferStructure('T', 'B', *expected))
        self._onehot = None
        return outputs, OrderedDict(), OrderedDict()

    def set_handler(self, handler):
        super().set_handler(handler)
        self._onehot = None

    def _rows(self, array):
        return array.reshape((-1, array.shape[-1]))

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        p = self._rows(buffers.outputs.predictions)
        loss = self._rows(buffers.outputs.loss)
        h.softmax_m(self._rows(buffers.inputs.default), p)
        h.index_m_by_v(p, self._rows(buffers.inputs.targets), loss)
        h.clip_t(loss, float(np.finfo(h.dtype).tiny), 1.0, loss)
        h.log_t(loss, loss)
        h.mult_st(-1.0, loss, loss)

    def backward_pass(self, buffers):
        if not self.input_deltas_needed.get('default', True):
            return
        h = self.handler
        p = self._rows(buffers.outputs.predictions)
        if self._onehot is None or self._onehot.shape != p.shape:
            self._onehot = h.allocate(p.shape)
        diff = self._onehot
        h.binarize_v(self._rows(buffers.inputs.targets), diff)
        h.subtract_tt(p, diff, diff)
        h.mult_add_mv(diff, self._rows(buffers.output_deltas.loss),
                      self._rows(buffers.input_deltas.default))


@construction_function(SoftmaxCELayerImpl)
def SoftmaxCE(name=None):
    """Softmax output layer with cross-entropy loss.

    Connect the class indices to its ``targets`` input (shape (T, B, 1))
    and its ``loss`` output to a Loss layer; ``predictions`` holds the
    class probabilities.

    Parameters
    ----------
    name : str, optional
        Layer name.
    """
