"""What the layers that compare an input with targets share: the inputs
``default`` and ``targets``, the check of the targets' shape, the outputs
``predictions`` and ``loss``, and scratch arrays.

Used by SoftmaxCE, SigmoidCE, SquaredLoss, SquaredError and
BinomialCrossEntropy; ``check_class_indices`` by the layers whose targets
are class indices (SoftmaxCE).
"""
from collections import OrderedDict

import numpy as np

from brainstorm.data_iterators import describe_value
from brainstorm.layers import BufferStructure, Layer, StructureTemplate

from brainstorm_layers._checks import shape_message
from brainstorm_layers._scratch import Scratch

__all__ = ['TargetsLayer', 'check_class_indices']


def check_class_indices(layer, item_name, data, num_classes):
    """Raise a ValueError if ``data`` (a numpy array) holds anything but
    class indices: integers in [0, ``num_classes``). The message names the
    data item, the first offending value and its index, the valid range and
    ``layer``. Costs a minimum and a maximum (and, for floating-point data,
    one comparison with the rounded values) when all is well."""
    if data.size == 0:
        return
    low, high = data.min(), data.max()
    integral = data.dtype.kind in 'iub'
    if low >= 0 and high < num_classes and (
            integral or np.array_equal(data, np.floor(data))):
        return
    with np.errstate(invalid='ignore'):
        valid = (data >= 0) & (data < num_classes)
        if not integral:
            valid &= data == np.floor(data)
    index = tuple(int(i) for i in np.unravel_index(
        np.flatnonzero(~valid)[0], data.shape))
    raise ValueError(
        'data item {!r} holds {} at index {} (of shape {}), but {} layer {!r} '
        'takes class indices: integers from 0 to {} for its {} classes'
        .format(item_name, describe_value(data[index]), index,
                tuple(data.shape), layer.get_layer_type(), layer.name,
                num_classes - 1, num_classes))


class TargetsLayer(Layer):
    """Base class of the layers with the inputs ``default`` and ``targets``
    (T, B, ...) whose ``loss`` output is meant for a Loss layer.

    ``setup`` checks the shape of ``targets`` against
    :meth:`targets_feature_shape` (by default: that of ``default``) and
    returns the outputs ``predictions`` (shape of ``default``, where
    ``has_predictions``) and ``loss`` (:meth:`loss_feature_shape`, by
    default one loss per dimension of ``default``) and the internals of
    :meth:`internal_structures`. ``targets`` get no deltas and
    ``predictions`` take none: the backward pass propagates the deltas of
    ``loss`` to ``default`` only. ``predictions`` do not depend on
    ``targets`` (``outputs_independent_of``), so they are computed from
    data without targets.
    """

    expected_inputs = {'default': StructureTemplate('T', 'B', '...'),
                       'targets': StructureTemplate('T', 'B', '...')}
    computes_no_input_deltas_for = ('targets',)
    takes_no_output_deltas_from = ('predictions',)
    outputs_independent_of = {'targets': ('predictions',)}
    has_predictions = True
    targets_note = "the shape of input 'default'"
    """Explains the expected targets shape in messages."""

    def targets_feature_shape(self, feature_shape):
        """The feature shape ``targets`` must have for inputs ``default`` of
        ``feature_shape``."""
        return feature_shape

    def loss_feature_shape(self, feature_shape):
        """The feature shape of ``loss`` for inputs of ``feature_shape``."""
        return feature_shape

    def internal_structures(self, feature_shape):
        """The internals (name -> BufferStructure) for inputs of
        ``feature_shape``."""
        return OrderedDict()

    def setup(self, kwargs, in_shapes):
        shape = in_shapes['default'].feature_shape
        expected = self.targets_feature_shape(shape)
        if in_shapes['targets'].feature_shape != expected:
            raise self.error(shape_message(
                'targets', ('T', 'B') + tuple(expected),
                in_shapes['targets'].shape, self.targets_note))
        outputs = OrderedDict()
        if self.has_predictions:
            outputs['predictions'] = BufferStructure('T', 'B', *shape)
        outputs['loss'] = BufferStructure('T', 'B',
                                          *self.loss_feature_shape(shape))
        self.scratch = Scratch()
        return outputs, OrderedDict(), self.internal_structures(shape)

    def _scratch(self, key, shape):
        return self.scratch.get(self.handler, key, shape)

    @property
    def default_deltas_needed(self):
        """Whether the deltas of ``default`` are used downstream (the
        network sets it to False where nothing upstream has parameters)."""
        return self.input_deltas_needed.get('default', True)
