"""What the layers that compare an input with targets share: the inputs
``default`` and ``targets``, the check of the targets' shape, the outputs
``predictions`` and ``loss``, and scratch arrays.

Used by SoftmaxCE, SigmoidCE, SquaredLoss, SquaredError and
BinomialCrossEntropy.
"""
from collections import OrderedDict

from brainstorm.layers import BufferStructure, Layer, StructureTemplate

from brainstorm_layers._checks import shape_message
from brainstorm_layers._scratch import Scratch

__all__ = ['TargetsLayer']


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
    ``loss`` to ``default`` only.
    """

    expected_inputs = {'default': StructureTemplate('T', 'B', '...'),
                       'targets': StructureTemplate('T', 'B', '...')}
    computes_no_input_deltas_for = ('targets',)
    takes_no_output_deltas_from = ('predictions',)
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
