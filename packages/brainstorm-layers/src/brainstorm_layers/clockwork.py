"""Clockwork: a recurrent layer whose units update at different rates
(Koutnik et al., "A Clockwork RNN", 2014), as in Brainstorm 0.5."""
from brainstorm.layers import BufferStructure, construction_function

from brainstorm_layers.recurrent import (Clock, RecurrentLayerImpl,
                                         check_recurrent_arguments)


class ClockworkLayerImpl(RecurrentLayerImpl):
    """A :class:`~brainstorm_layers.recurrent.RecurrentLayerImpl` whose
    unit ``j`` only updates every ``timing[j]`` steps.

    The update rule: at time step t (counted from 0 at the first step of
    every forward pass)::

        u[t]    = act(x[t] @ W + y[t-1] @ R + bias)
        y[t][j] = u[t][j]      where t % timing[j] == 0
        y[t][j] = y[t-1][j]    otherwise (the unit keeps its state)

    so at t = 0 every unit updates. ``timing`` is a parameter (size,) of
    periods, positive integers, that the user sets through
    ``net.initialize`` (e.g. ``{'Clockwork': {'timing': [1, 1, 2, 2, 4,
    4]}}``); its gradient is always zero, so training leaves it alone
    (unless a weight modifier changes it). Because t restarts at 0 in
    every forward pass, a sequence continued through ``context`` keeps the
    phases of the whole sequence only when the earlier chunks are a
    multiple of every period long.

    The backward pass sends the deltas of a kept unit unchanged to step
    t-1 (and none into the discarded update ``u[t]``).
    """

    def _extra_parameters(self, parameters):
        parameters['timing'] = BufferStructure(self.size)

    def _clock(self, buffers, batch_size):
        return Clock(self.handler, self._scratch, buffers.parameters.timing,
                     batch_size)


@construction_function(ClockworkLayerImpl)
def Clockwork(size, activation='tanh', name=None):
    """A clockwork recurrent layer: like ``Recurrent``, but unit ``j``
    updates only at the steps t with ``t % timing[j] == 0`` (t counted from
    0 in every forward pass) and keeps its previous state otherwise.

    Parameters ``W`` (n_in, size), ``R`` (size, size), ``bias`` (size,) and
    ``timing`` (size,): the period of each unit, positive integers; set it
    with ``net.initialize(..., Clockwork={'timing': [1, 1, 2, 2, ...]})``.
    Its gradient is always zero.

    Parameters
    ----------
    size : int
        Number of units.
    activation : {'tanh', 'linear', 'rel', 'sigmoid'}
        Activation function (default 'tanh').
    name : str, optional
        Layer name.
    """
    check_recurrent_arguments('Clockwork', name, size, activation)

