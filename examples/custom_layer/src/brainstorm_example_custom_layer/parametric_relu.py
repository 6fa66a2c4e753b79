"""ParametricRelu: a rectifier whose slope for negative inputs is learned,
one slope per input feature (He et al., 2015)."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)


class ParametricReluLayerImpl(Layer):
    """``y = max(x, 0) + slope * min(x, 0)`` element-wise.

    Inputs ``default`` of any shape (T, B, ...); the output has the same
    shape. The parameter ``slope`` holds one value per input feature (the
    feature dimensions flattened, F of them). Internals: ``negative``
    (``min(x, 0)``, kept for the slope's gradient) and, backward only,
    ``d_positive`` (the output deltas where ``x > 0``).
    """

    expected_inputs = {'default': StructureTemplate('T', 'B', '...')}
    expected_kwargs = set()

    def setup(self, kwargs, in_shapes):
        shape = in_shapes['default'].feature_shape
        self.n_features = in_shapes['default'].feature_size
        outputs = OrderedDict(default=BufferStructure('T', 'B', *shape))
        parameters = OrderedDict(slope=BufferStructure(self.n_features))
        internals = OrderedDict(
            negative=BufferStructure('T', 'B', *shape),
            d_positive=BufferStructure('T', 'B', *shape,
                                       is_backward_only=True))
        self._slope_sum = None
        return outputs, parameters, internals

    def set_handler(self, handler):
        super().set_handler(handler)
        self._slope_sum = None

    def _rows(self, array):
        """(T, B, ...) as (T * B, F)."""
        return array.reshape((array.shape[0] * array.shape[1],
                              self.n_features))

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        x = self._rows(buffers.inputs.default)
        y = self._rows(buffers.outputs.default)
        negative = self._rows(buffers.internals.negative)
        slope = buffers.parameters.slope.reshape((1, self.n_features))
        h.rel(x, y)                          # y = max(x, 0)
        h.subtract_tt(x, y, negative)        # min(x, 0)
        h.mult_add_mv(negative, slope, y)    # y += slope * min(x, 0)

    def backward_pass(self, buffers):
        h = self.handler
        dy = self._rows(buffers.output_deltas.default)
        negative = self._rows(buffers.internals.negative)
        d_positive = self._rows(buffers.internals.d_positive)

        # d slope = sum over all steps and sequences of dy * min(x, 0)
        h.mult_tt(dy, negative, d_positive)
        if self._slope_sum is None:
            self._slope_sum = h.allocate((1, self.n_features))
        h.sum_t(d_positive, 0, self._slope_sum)
        gradient = buffers.gradients.slope.reshape((1, self.n_features))
        h.add_tt(gradient, self._slope_sum, gradient)

        if not self.input_deltas_needed.get('default', True):
            return
        dx = self._rows(buffers.input_deltas.default)
        slope = buffers.parameters.slope.reshape((1, self.n_features))
        # dx += dy where x > 0, and dy * slope elsewhere
        h.rel_deriv(None, self._rows(buffers.inputs.default), dy, d_positive)
        h.add_tt(dx, d_positive, dx)
        h.subtract_tt(dy, d_positive, d_positive)
        h.mult_add_mv(d_positive, slope, dx)


@construction_function(ParametricReluLayerImpl)
def ParametricRelu(name=None):
    """A rectifier with a learned slope for negative inputs:
    ``y = max(x, 0) + slope * min(x, 0)``, one slope per input feature.

    The slope is the parameter ``slope``, shaped (F,) for F input features
    (inputs of any feature shape are flattened for it); initialise it like
    any parameter, e.g. ``net.initialize({'Act': {'slope': 0.25}})``.

    Parameters
    ----------
    name : str, optional
        Layer name.
    """
