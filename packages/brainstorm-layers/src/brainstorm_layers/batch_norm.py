"""BatchNorm: batch normalization (Ioffe & Szegedy 2015) of each feature of
the last axis."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)

from brainstorm_layers._checks import Argument, check_arguments, real_in

ARGUMENTS = OrderedDict(
    decay=Argument('a number in [0, 1]', real_in(0.0, 1.0), default=0.9),
    epsilon=Argument('a positive number',
                     real_in(0.0, None, low_closed=False), default=1e-5))


class BatchNormLayerImpl(Layer):
    """Normalizes each feature of the last axis over all other axes (T, B
    and, for images (T, B, H, W, C), H and W), then scales and shifts it:
    ``y = gamma * x_hat + beta`` with ``x_hat = (x - mean) / std``.

    Parameters (all of shape (C,), C the size of the last axis):

    ``gamma``, ``beta``
        the learned scale and shift;
    ``mu``, ``sigma``
        running averages of the batch mean and of the batch standard
        deviation ``sqrt(var + epsilon)``. They are not trained: their
        gradients stay zero. Every training pass updates them,
        ``running = decay * running + (1 - decay) * batch_statistic``.

    Training passes normalize with the statistics of the batch (``mean``
    over all M = T * B (* H * W) rows, biased variance ``var``,
    ``std = sqrt(var + epsilon)``), and the backward pass differentiates
    through them. Inference passes (``training_pass=False``) normalize with
    ``mu`` and ``sigma`` (constants for the backward pass).

    Internals: ``x_hat`` (the normalized inputs), ``mean`` and ``std`` (C,)
    (the statistics the last forward pass normalized with: the batch's in
    training passes, copies of ``mu`` and ``sigma`` in inference passes),
    and backward-only scratch buffers.

    Initialize the parameters explicitly, e.g. ``net.initialize(..., BN=
    {'gamma': 1, 'beta': 0, 'mu': 0, 'sigma': 1})``: a random ``sigma``
    (zero or negative) breaks inference passes until training has replaced
    it.
    """

    expected_inputs = {'default': StructureTemplate('T', 'B', '...')}
    expected_kwargs = {'decay', 'epsilon'}

    def setup(self, kwargs, in_shapes):
        args = check_arguments(self.get_layer_type(), self.name, kwargs,
                               ARGUMENTS)
        self.decay = args['decay']
        self.epsilon = args['epsilon']
        in_shape = in_shapes['default']
        shape = in_shape.feature_shape
        if not shape or shape[-1] < 1:
            raise self.error(
                "input 'default' needs a non-empty last (feature) axis to "
                "normalize, but receives shape {}".format(in_shape.shape))
        self.n_features = shape[-1]
        C = self.n_features
        outputs = OrderedDict(default=BufferStructure('T', 'B', *shape))
        parameters = OrderedDict(
            (name, BufferStructure(C))
            for name in ('gamma', 'beta', 'mu', 'sigma'))
        internals = OrderedDict()
        internals['x_hat'] = BufferStructure('T', 'B', *shape)
        internals['mean'] = BufferStructure(C)
        internals['std'] = BufferStructure(C)
        internals['tmp'] = BufferStructure('T', 'B', *shape,
                                           is_backward_only=True)
        for name in ('sum_dy', 'sum_dy_x_hat', 'scale'):
            internals[name] = BufferStructure(C, is_backward_only=True)
        # whether the last forward pass was a training pass (the backward
        # pass differentiates through the batch statistics only then)
        self.last_pass_was_training = True
        return outputs, parameters, internals

    def _rows(self, array):
        return array.reshape((-1, self.n_features))

    def _vec(self, array):
        return array.reshape((1, self.n_features))

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        x = self._rows(buffers.inputs.default)
        y = self._rows(buffers.outputs.default)
        x_hat = self._rows(buffers.internals.x_hat)
        mean = self._vec(buffers.internals.mean)
        std = self._vec(buffers.internals.std)
        mu = self._vec(buffers.parameters.mu)
        sigma = self._vec(buffers.parameters.sigma)
        self.last_pass_was_training = bool(training_pass)
        if training_pass:
            m = float(x.shape[0])
            h.sum_t(x, 0, mean)
            h.mult_st(1.0 / m, mean, mean)
            h.subtract_mv(x, mean, x_hat)          # centered inputs
            h.mult_tt(x_hat, x_hat, y)             # y as scratch
            h.sum_t(y, 0, std)
            h.mult_st(1.0 / m, std, std)           # biased variance
            h.add_st(self.epsilon, std, std)
            h.sqrt_t(std, std)
            for running, batch in ((mu, mean), (sigma, std)):
                h.mult_st(self.decay, running, running)
                h.mult_add_st(1.0 - self.decay, batch, running)
        else:
            h.copy_to(mu, mean)
            h.copy_to(sigma, std)
            h.subtract_mv(x, mean, x_hat)
        h.divide_mv(x_hat, std, x_hat)
        h.mult_mv(x_hat, self._vec(buffers.parameters.gamma), y)
        h.add_mv(y, self._vec(buffers.parameters.beta), y)

    def backward_pass(self, buffers):
        h = self.handler
        dy = self._rows(buffers.output_deltas.default)
        x_hat = self._rows(buffers.internals.x_hat)
        tmp = self._rows(buffers.internals.tmp)
        sum_dy = self._vec(buffers.internals.sum_dy)
        sum_dy_x_hat = self._vec(buffers.internals.sum_dy_x_hat)
        # gamma and beta
        h.sum_t(dy, 0, sum_dy)
        h.mult_tt(dy, x_hat, tmp)
        h.sum_t(tmp, 0, sum_dy_x_hat)
        d_gamma = self._vec(buffers.gradients.gamma)
        h.add_tt(d_gamma, sum_dy_x_hat, d_gamma)
        d_beta = self._vec(buffers.gradients.beta)
        h.add_tt(d_beta, sum_dy, d_beta)
        # mu and sigma are not trained: their gradients stay untouched
        if not self.input_deltas_needed.get('default', True):
            return
        scale = self._vec(buffers.internals.scale)
        h.divide_tt(self._vec(buffers.parameters.gamma),
                    self._vec(buffers.internals.std), scale)
        dx = self._rows(buffers.input_deltas.default)
        if not self.last_pass_was_training:
            h.mult_add_mv(dy, scale, dx)
            return
        # dx = gamma / std * (dy - mean(dy) - x_hat * mean(dy * x_hat))
        m = float(dy.shape[0])
        h.mult_st(1.0 / m, sum_dy_x_hat, sum_dy_x_hat)
        h.mult_mv(x_hat, sum_dy_x_hat, tmp)
        h.subtract_tt(dy, tmp, tmp)
        h.mult_st(1.0 / m, sum_dy, sum_dy)
        h.subtract_mv(tmp, sum_dy, tmp)
        h.mult_add_mv(tmp, scale, dx)


@construction_function(BatchNormLayerImpl)
def BatchNorm(decay=0.9, epsilon=1e-5, name=None):
    """Batch normalization of each feature of the last axis, over all other
    axes (T, B and, for images, H and W): ``y = gamma * (x - mean) / std +
    beta``.

    Training passes use the statistics of the batch and update the running
    averages ``mu`` and ``sigma`` (parameters whose gradients are zero):
    ``running = decay * running + (1 - decay) * batch_statistic``;
    inference passes use the running averages. ``std`` is
    ``sqrt(var + epsilon)`` with the biased batch variance.

    Initialize ``gamma`` (e.g. 1), ``beta`` (0), ``mu`` (0) and ``sigma``
    (1) explicitly.

    Parameters
    ----------
    decay : float
        Decay of the running averages, in [0, 1] (default 0.9).
    epsilon : float
        Positive number added to the variance (default 1e-5).
    name : str, optional
        Layer name.
    """
    check_arguments('BatchNorm', name, {'decay': decay, 'epsilon': epsilon},
                    ARGUMENTS)
