"""ClockworkLstm: an LSTM layer whose cells update at different rates, as
in Brainstorm 0.5."""
from brainstorm.layers import BufferStructure, construction_function

from brainstorm_layers.lstm import LstmLayerImpl
from brainstorm_layers.recurrent import Clock, check_recurrent_arguments


class ClockworkLstmLayerImpl(LstmLayerImpl):
    """An :class:`~brainstorm_layers.lstm.LstmLayerImpl` whose cell ``j``
    only updates every ``timing[j]`` steps.

    The update rule: at time step t (counted from 0 at the first step of
    every forward pass) the gates and the candidate state are computed as
    in the Lstm; then, where ``t % timing[j] != 0``, cell ``j`` keeps its
    previous state and output::

        c[t][j] = c[t-1][j],   y[t][j] = y[t-1][j]

    (``Cb`` then holds act(c[t-1][j])); where ``t % timing[j] == 0`` it
    updates as usual. At t = 0 every cell updates. ``timing`` is a
    parameter (size,) of periods, positive integers, that the user sets
    through ``net.initialize`` (e.g. ``{'ClockworkLstm': {'timing': [1, 2,
    4, 8]}}``); its gradient is always zero. Because t restarts at 0 in
    every forward pass, a sequence continued through ``context`` keeps the
    phases of the whole sequence only when the earlier chunks are a
    multiple of every period long.

    The backward pass sends the deltas of a kept cell's output and state
    unchanged to step t-1 (and none into the discarded update).

    Each step runs the Lstm's fused handler operations
    (``lstm_cell_forward`` / ``lstm_cell_backward``) for all cells; the
    kept cells are then restored with ``copy_to_if`` (state, ``Cb`` and
    output from step t-1) and, going back, their deltas moved to step t-1
    and cleared (``copy_to_if``, ``fill_if``).
    """

    def _extra_parameters(self, parameters):
        parameters['timing'] = BufferStructure(self.size)

    def _clock(self, buffers, batch_size):
        return Clock(self.handler, self._scratch, buffers.parameters.timing,
                     batch_size)


@construction_function(ClockworkLstmLayerImpl)
def ClockworkLstm(size, activation='tanh', name=None):
    """A clockwork LSTM layer: like ``Lstm``, but cell ``j`` updates (state
    and output) only at the steps t with ``t % timing[j] == 0`` (t counted
    from 0 in every forward pass) and keeps its previous state and output
    otherwise.

    Parameters as ``Lstm`` plus ``timing`` (size,): the period of each
    cell, positive integers; set it with ``net.initialize(...,
    ClockworkLstm={'timing': [1, 2, 4, ...]})``. Its gradient is always
    zero.

    Parameters
    ----------
    size : int
        Number of cells.
    activation : {'tanh', 'linear', 'rel', 'sigmoid'}
        Activation function of the block input and of the cell output
        (default 'tanh').
    name : str, optional
        Layer name.
    """
    check_recurrent_arguments('ClockworkLstm', name, size, activation)
