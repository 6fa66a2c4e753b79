"""Recurrent: a simple (Elman) recurrent layer over (flattened) inputs.

This module also holds what the other recurrent layers of the package
(``Lstm``, ``Clockwork``, ``ClockworkLstm``) share: their arguments, the
activation helpers and the clock of the clockwork layers.

Time layout: the output ``default`` is a time-sized buffer with
``context_size=1``, so it has T + 1 steps; step -1 (the last one, row T)
holds the state at t = -1, which the network fills from
``forward_pass(context=...)`` (or with zeros). Consumers see the first T
steps only.
"""
from collections import OrderedDict

from brainstorm.handlers.base_handler import (CELL_ACTIVATIONS, activate,
                                              activation_deriv)
from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)

from brainstorm_layers._checks import (Argument, check_arguments,
                                       describe_options, one_of,
                                       positive_int)
from brainstorm_layers._scratch import Scratch

# activation -> (forward operation, derivative operation) of the handler
ACTIVATIONS = CELL_ACTIVATIONS

ARGUMENTS = OrderedDict(
    size=Argument('a positive int', positive_int),
    activation=Argument(describe_options(sorted(ACTIVATIONS)),
                        one_of(*sorted(ACTIVATIONS)), default='tanh'))


# -- helpers shared by the recurrent layers -----------------------------------

def rows(array):
    """(T, B, ...) -> (T * B, features), a view (buffers are contiguous)."""
    return array.reshape((array.shape[0] * array.shape[1], -1))


class Clock:
    """The update rule of the clockwork layers for one pass.

    ``keeps(t)`` returns a (B, size) array that is non-zero exactly for the
    units that do *not* update at step t, i.e. where ``t % timing != 0``
    (t counts from 0 at the first step of every forward pass), computed
    with the handler's ``fill``, ``modulo_tt`` and ``broadcast_t``.
    """

    def __init__(self, handler, scratch, timing, batch_size):
        self.handler = handler
        self.timing = timing
        size = timing.shape[0]
        self.phase = scratch.get(handler, 'clock_phase', (size,))
        self.cond = scratch.get(handler, 'clock_cond', (batch_size, size))

    def keeps(self, t):
        h = self.handler
        h.fill(self.phase, float(t))
        h.modulo_tt(self.phase, self.timing, self.phase)
        h.broadcast_t(self.phase.reshape((1, self.phase.shape[0])), 0,
                      self.cond)
        return self.cond


def check_recurrent_arguments(layer_type, name, size, activation):
    """What the construction functions of the recurrent layers check."""
    check_arguments(layer_type, name,
                    {'size': size, 'activation': activation}, ARGUMENTS)


# -- the layer ----------------------------------------------------------------

class RecurrentLayerImpl(Layer):
    """``y[t] = act(x[t] @ W + y[t-1] @ R + bias)`` over flattened input
    features.

    Parameters ``W`` (n_in, size), ``R`` (size, size) and ``bias`` (size,).
    The output ``default`` (T, B, size) has ``context_size=1``: ``y[-1]``
    is the state at t = -1. Internal ``dHa`` (backward only) holds the
    deltas of the pre-activations; it is left out for
    ``activation='linear'``.

    The forward pass computes ``x @ W + bias`` for all time steps in one
    matrix product (into the output buffer) and then, step by step, adds
    ``y[t-1] @ R`` and applies the activation in place. The backward pass
    runs back through time adding ``dHa[t] @ R.T`` into the output deltas
    of step t-1 (so after it ``output_deltas.default`` holds the total
    deltas of the outputs, recurrent contributions included, and its step
    -1 those of the context); input deltas and the gradients of ``W``,
    ``R`` and ``bias`` are then single products over all T * B rows.
    """

    expected_inputs = {'default': StructureTemplate('T', 'B', '...')}
    expected_kwargs = {'size', 'activation'}

    def setup(self, kwargs, in_shapes):
        args = check_arguments(self.get_layer_type(), self.name, kwargs,
                               ARGUMENTS)
        self.size = size = args['size']
        self.activation = args['activation']
        self.n_in = in_shapes['default'].feature_size
        self._scratch = Scratch()
        outputs = OrderedDict(default=BufferStructure('T', 'B', size,
                                                      context_size=1))
        parameters = OrderedDict()
        parameters['W'] = BufferStructure(self.n_in, size)
        parameters['R'] = BufferStructure(size, size)
        parameters['bias'] = BufferStructure(size)
        self._extra_parameters(parameters)
        internals = OrderedDict()
        if self.activation != 'linear':
            internals['dHa'] = BufferStructure('T', 'B', size,
                                               is_backward_only=True)
        return outputs, parameters, internals

    # hooks of the clockwork variant
    def _extra_parameters(self, parameters):
        pass

    def _clock(self, buffers, batch_size):
        return None

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        W, R, bias = (buffers.parameters.W, buffers.parameters.R,
                      buffers.parameters.bias)
        y = buffers.outputs.default                    # (T + 1, B, size)
        T, B = y.shape[0] - 1, y.shape[1]
        pre = rows(y[:T])
        h.dot_mm(rows(buffers.inputs.default), W, pre)
        h.add_mv(pre, bias.reshape((1, self.size)), pre)
        clock = self._clock(buffers, B)
        for t in range(T):
            y_t = y[t]
            h.dot_add_mm(y[t - 1], R, y_t)             # y[-1]: the context
            activate(h, self.activation, y_t, y_t)
            if clock is not None and t > 0:
                h.copy_to_if(y[t - 1], y_t, clock.keeps(t))

    def backward_pass(self, buffers):
        h = self.handler
        W, R = buffers.parameters.W, buffers.parameters.R
        y = buffers.outputs.default
        dy = buffers.output_deltas.default             # (T + 1, B, size)
        T, B = y.shape[0] - 1, y.shape[1]
        linear = self.activation == 'linear'
        dH = dy[:T] if linear else buffers.internals.dHa
        clock = self._clock(buffers, B)
        for t in range(T - 1, -1, -1):
            dy_t, dy_prev = dy[t], dy[t - 1]           # dy[-1]: the context
            if clock is not None and t > 0:
                # kept units copied y[t-1]: their deltas go there unchanged
                keeps = clock.keeps(t)
                h.add_into_if(dy_t, dy_prev, keeps)
                h.fill_if(dy_t, 0.0, keeps)
            if linear:
                dH_t = dy_t
            else:
                dH_t = dH[t]
                activation_deriv(h, self.activation, y[t], dy_t, dH_t)
            h.dot_add_mm(dH_t, R, dy_prev, transb=True)

        x = rows(buffers.inputs.default)
        dH_rows = rows(dH)
        if self.input_deltas_needed.get('default', True):
            h.dot_add_mm(dH_rows, W, rows(buffers.input_deltas.default),
                         transb=True)
        grads = buffers.gradients
        h.dot_add_mm(x, dH_rows, grads.W, transa=True)
        if T > 1:   # y[t-1] for t = 1..T-1, then the context y[-1] for t=0
            h.dot_add_mm(rows(y[:T - 1]), rows(dH[1:]), grads.R,
                         transa=True)
        h.dot_add_mm(y[T], dH[0], grads.R, transa=True)
        bias_sum = self._scratch.get(h, 'bias_sum', (self.size,))
        h.sum_t(dH_rows, 0, bias_sum)
        h.add_tt(grads.bias, bias_sum, grads.bias)


@construction_function(RecurrentLayerImpl)
def Recurrent(size, activation='tanh', name=None):
    """A simple recurrent layer:
    ``y[t] = act(x[t] @ W + y[t-1] @ R + bias)``.

    Inputs of any feature shape are flattened. ``y[-1]`` is the context:
    zeros, or the state passed to ``forward_pass(context=...)`` (from
    ``net.get_context()``) to continue sequences.

    Parameters
    ----------
    size : int
        Number of units.
    activation : {'tanh', 'linear', 'rel', 'sigmoid'}
        Activation function (default 'tanh').
    name : str, optional
        Layer name.
    """
    check_recurrent_arguments('Recurrent', name, size, activation)
