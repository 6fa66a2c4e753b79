"""Lstm: a long short-term memory layer without peephole connections, as in
Brainstorm 0.5."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)

from brainstorm_layers._checks import check_arguments
from brainstorm_layers._scratch import Scratch
from brainstorm_layers.recurrent import (ARGUMENTS,
                                         check_recurrent_arguments, rows)

GATES = ('z', 'i', 'f', 'o')


class LstmLayerImpl(Layer):
    """An LSTM layer (no peepholes) over flattened input features::

        z[t] = act(x[t] @ Wz + y[t-1] @ Rz + bz)        block input
        i[t] = sigmoid(x[t] @ Wi + y[t-1] @ Ri + bi)    input gate
        f[t] = sigmoid(x[t] @ Wf + y[t-1] @ Rf + bf)    forget gate
        o[t] = sigmoid(x[t] @ Wo + y[t-1] @ Ro + bo)    output gate
        c[t] = z[t] * i[t] + c[t-1] * f[t]              cell state
        y[t] = act(c[t]) * o[t]                         output

    Parameters (Brainstorm 0.5 names): ``Wz, Wi, Wf, Wo`` (n_in, size),
    ``Rz, Ri, Rf, Ro`` (size, size), ``bz, bi, bf, bo`` (size,).

    Buffers: the output ``default`` and the internal ``Ca`` (the cell state
    c) have ``context_size=1``, so step -1 of each holds the state at
    t = -1 (zeros, or ``forward_pass(context=...)``) and ``get_context()``
    returns both. Internals ``Zb, Ib, Fb, Ob`` hold z, i, f, o (the
    pre-activations are computed in place), ``Cb`` holds act(c) (left out
    for ``activation='linear'``, where it is ``Ca``); the backward-only
    ``dZa, dIa, dFa, dOa`` hold the deltas of the gate pre-activations and
    ``dCa`` (context_size=1) those of the cell state.

    The input projections of all time steps are one matrix product per
    gate ((T * B, n_in) x (n_in, size)), bias included; each time step then
    only adds the recurrent products and calls the handler's fused
    ``lstm_cell_forward`` (gate nonlinearities, cell update and output in
    one operation; ``lstm_cell_backward`` going back). Every array handed
    to the handler is contiguous. The backward pass runs back through time,
    adding the recurrent deltas into the output deltas of step t-1 (so
    afterwards ``output_deltas.default`` holds the total deltas of the
    outputs and its step -1 those of the context), then computes the input
    deltas and the gradients of the W's and b's as products over all T * B
    rows and those of the R's as one product over steps 0..T-2 of the
    outputs plus one for the context.
    """

    expected_inputs = {'default': StructureTemplate('T', 'B', '...')}
    expected_kwargs = {'size', 'activation'}

    def setup(self, kwargs, in_shapes):
        args = check_arguments(self.get_layer_type(), self.name, kwargs,
                               ARGUMENTS)
        self.size = size = args['size']
        self.activation = args['activation']
        self.n_in = n_in = in_shapes['default'].feature_size
        self._scratch = Scratch()
        outputs = OrderedDict(default=BufferStructure('T', 'B', size,
                                                      context_size=1))
        parameters = OrderedDict()
        for gate in GATES:
            parameters['W' + gate] = BufferStructure(n_in, size)
        for gate in GATES:
            parameters['R' + gate] = BufferStructure(size, size)
        for gate in GATES:
            parameters['b' + gate] = BufferStructure(size)
        self._extra_parameters(parameters)
        internals = OrderedDict()
        for gate in GATES:
            internals[gate.upper() + 'b'] = BufferStructure('T', 'B', size)
        internals['Ca'] = BufferStructure('T', 'B', size, context_size=1)
        if self.activation != 'linear':
            internals['Cb'] = BufferStructure('T', 'B', size)
        for gate in GATES:
            internals['d' + gate.upper() + 'a'] = BufferStructure(
                'T', 'B', size, is_backward_only=True)
        internals['dCa'] = BufferStructure('T', 'B', size, context_size=1,
                                           is_backward_only=True)
        return outputs, parameters, internals

    # hooks of the clockwork variant
    def _extra_parameters(self, parameters):
        pass

    def _clock(self, buffers, batch_size):
        return None

    def _gates(self, buffers, prefix, suffix):
        return [buffers[prefix + g.upper() + suffix] for g in GATES]

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        act = self.activation
        linear = act == 'linear'
        p = buffers.parameters
        ints = buffers.internals
        y = buffers.outputs.default                    # (T + 1, B, size)
        T, B = y.shape[0] - 1, y.shape[1]
        C = ints.Ca                                    # (T + 1, B, size)
        Cb = C if linear else ints.Cb
        gates = self._gates(ints, '', 'b')             # Zb, Ib, Fb, Ob
        Rs = [p['R' + g] for g in GATES]

        x = rows(buffers.inputs.default)
        for gate, G in zip(GATES, gates):
            G_rows = rows(G)
            h.dot_mm(x, p['W' + gate], G_rows)
            h.add_mv(G_rows, p['b' + gate].reshape((1, self.size)), G_rows)

        clock = self._clock(buffers, B)
        for t in range(T):
            y_prev, y_t, c_prev, c_t = y[t - 1], y[t], C[t - 1], C[t]
            z, i, f, o = [G[t] for G in gates]
            for g_t, R in zip((z, i, f, o), Rs):
                h.dot_add_mm(y_prev, R, g_t)           # y[-1]: the context
            cb_t = c_t if linear else Cb[t]
            h.lstm_cell_forward(z, i, f, o, c_prev, c_t, cb_t, y_t, act)
            keeps = clock.keeps(t) if clock is not None and t > 0 else None
            if keeps is not None:
                # kept units: state and output of step t-1 (Cb[t-1] holds
                # act(c[t-1]), what act(c[t]) would compute from the copy)
                h.copy_to_if(c_prev, c_t, keeps)
                if not linear:
                    h.copy_to_if(Cb[t - 1], Cb[t], keeps)
                h.copy_to_if(y_prev, y_t, keeps)

    def backward_pass(self, buffers):
        h = self.handler
        act = self.activation
        linear = act == 'linear'
        p = buffers.parameters
        ints = buffers.internals
        y = buffers.outputs.default
        dy = buffers.output_deltas.default             # (T + 1, B, size)
        T, B = y.shape[0] - 1, y.shape[1]
        C, dC = ints.Ca, ints.dCa                      # (T + 1, B, size)
        Cb = C if linear else ints.Cb
        gates = self._gates(ints, '', 'b')             # Zb, Ib, Fb, Ob
        dgates = self._gates(ints, 'd', 'a')           # dZa, dIa, dFa, dOa
        Rs = [p['R' + g] for g in GATES]

        clock = self._clock(buffers, B)
        h.fill(dC[T - 1], 0.0)      # dC[t] receives its share from step t+1
        for t in range(T - 1, -1, -1):
            dy_t, dy_prev = dy[t], dy[t - 1]           # [-1]: the context
            dc_t, dc_prev = dC[t], dC[t - 1]
            z, i, f, o = [G[t] for G in gates]
            dz, di, df, do = [dG[t] for dG in dgates]
            keeps = clock.keeps(t) if clock is not None and t > 0 else None
            if keeps is not None:
                # kept units copied y[t-1]: their deltas go there unchanged
                h.add_into_if(dy_t, dy_prev, keeps)
                h.fill_if(dy_t, 0.0, keeps)
            h.lstm_cell_backward(z, i, f, o, C[t - 1], Cb[t], dy_t, dc_t,
                                 dc_prev, dz, di, df, do, act)
            if keeps is not None:
                # kept cells copied c[t-1]: their deltas go there unchanged
                # and none into the discarded update (their dy_t is 0, so
                # dc_t and do are unchanged there)
                h.copy_to_if(dc_t, dc_prev, keeps)
                h.fill_if(dc_t, 0.0, keeps)
                for dg_t in (dz, di, df):
                    h.fill_if(dg_t, 0.0, keeps)
            for dg_t, R in zip((dz, di, df, do), Rs):
                h.dot_add_mm(dg_t, R, dy_prev, transb=True)

        x = rows(buffers.inputs.default)
        grads = buffers.gradients
        dgate_rows = [rows(dG) for dG in dgates]
        if self.input_deltas_needed.get('default', True):
            dx = rows(buffers.input_deltas.default)
            for gate, dG_rows in zip(GATES, dgate_rows):
                h.dot_add_mm(dG_rows, p['W' + gate], dx, transb=True)
        bias_sum = self._scratch.get(h, 'bias_sum', (self.size,))
        y_rows = rows(y[:T - 1]) if T > 1 else None
        for gate, dG, dG_rows in zip(GATES, dgates, dgate_rows):
            h.dot_add_mm(x, dG_rows, grads['W' + gate], transa=True)
            dR = grads['R' + gate]
            if y_rows is not None:  # y[t-1] for t = 1..T-1
                h.dot_add_mm(y_rows, rows(dG[1:]), dR, transa=True)
            h.dot_add_mm(y[T], dG[0], dR, transa=True)     # the context
            h.sum_t(dG_rows, 0, bias_sum)
            db = grads['b' + gate]
            h.add_tt(db, bias_sum, db)


@construction_function(LstmLayerImpl)
def Lstm(size, activation='tanh', name=None):
    """An LSTM layer without peepholes (Brainstorm 0.5 style)::

        z[t] = act(x[t] Wz + y[t-1] Rz + bz)
        i[t], f[t], o[t] = sigmoid(x[t] W* + y[t-1] R* + b*)  (* = i, f, o)
        c[t] = z[t] * i[t] + c[t-1] * f[t]
        y[t] = act(c[t]) * o[t]

    Inputs of any feature shape are flattened. The output and the cell
    state ``Ca`` carry context (step -1), so ``net.get_context()`` /
    ``forward_pass(context=...)`` continue sequences across calls.

    Parameters
    ----------
    size : int
        Number of cells.
    activation : {'tanh', 'linear', 'rel', 'sigmoid'}
        Activation function of the block input and of the cell output
        (default 'tanh'); the gates always use the sigmoid.
    name : str, optional
        Layer name.
    """
    check_recurrent_arguments('Lstm', name, size, activation)
