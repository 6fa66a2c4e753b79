"""SoftmaxCE: softmax outputs and cross-entropy against class indices."""
import numpy as np

from brainstorm.layers import construction_function

from brainstorm_layers._checks import shape_message
from brainstorm_layers._targets import TargetsLayer, check_class_indices


class SoftmaxCELayerImpl(TargetsLayer):
    """Softmax over the last feature axis and the cross-entropy loss.

    Inputs ``default`` (T, B, ..., K) and ``targets`` (T, B, ..., 1) holding
    class indices in [0, K). Outputs ``predictions`` (the softmax, same
    shape as ``default``; 'probabilities' before 0.5) and ``loss``
    (T, B, ..., 1) = ``-log p[target]`` per sample (probabilities are
    clipped to the smallest positive number of the dtype before the log).
    The deltas of the loss are back-propagated to ``default``; ``targets``
    get none and ``predictions`` take none.
    """

    targets_note = ("one class index per sample: the shape of input "
                    "'default' with a last dimension of 1")

    def targets_feature_shape(self, feature_shape):
        if not feature_shape:
            raise self.error(shape_message(
                'default', ('T', 'B', 'K'), ('T', 'B') + feature_shape,
                'at least one feature dimension: the K classes'))
        return feature_shape[:-1] + (1,)

    def loss_feature_shape(self, feature_shape):
        return feature_shape[:-1] + (1,)

    def check_input_data(self, in_name, item_name, data):
        """Targets must be class indices in [0, K): anything else would be
        an IndexError in the handler, or a silently wrong loss (-1 wraps
        around to the last class, 2.5 is truncated to 2)."""
        if in_name == 'targets':
            check_class_indices(self, item_name, data,
                                self.in_shapes['default'].feature_shape[-1])

    @staticmethod
    def _rows(array):
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
        if not self.default_deltas_needed:
            return
        h = self.handler
        p = self._rows(buffers.outputs.predictions)
        diff = self._scratch('onehot', p.shape)
        h.binarize_v(self._rows(buffers.inputs.targets), diff)
        h.subtract_tt(p, diff, diff)                       # p - onehot(t)
        h.mult_add_mv(diff, self._rows(buffers.output_deltas.loss),
                      self._rows(buffers.input_deltas.default))


@construction_function(SoftmaxCELayerImpl)
def SoftmaxCE(name=None):
    """Softmax output layer with cross-entropy loss (single-label
    classification).

    Connect the class indices to its ``targets`` input (shape (T, B, 1),
    or (T, B, ..., 1) for inputs (T, B, ..., K)) and its ``loss`` output to
    a Loss layer; ``predictions`` holds the class probabilities.

    Parameters
    ----------
    name : str, optional
        Layer name.
    """
