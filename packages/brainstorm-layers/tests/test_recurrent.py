"""The recurrent layers: Recurrent, Lstm, Clockwork and ClockworkLstm.

Finite-difference checks of all deltas and gradients, values against plain
numpy references, continuing sequences through the context, and argument
errors."""
import re

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.handlers import DebugHandler, NumpyHandler
from brainstorm.handlers.base_handler import OPERATIONS
from brainstorm.layers import LayerValidationError
from brainstorm.plugins import registry
from brainstorm.testing.gradient_check import (GradientCheckError,
                                               check_layer_gradients)
from brainstorm_layers.clockwork import Clockwork
from brainstorm_layers.clockwork_lstm import ClockworkLstm
from brainstorm_layers.lstm import Lstm
from brainstorm_layers.recurrent import Recurrent

L = bs.layers
ACTIVATIONS = ['linear', 'rel', 'sigmoid', 'tanh']
LAYERS = {'Recurrent': Recurrent, 'Lstm': Lstm, 'Clockwork': Clockwork,
          'ClockworkLstm': ClockworkLstm}
LSTM_PARAMS = ['Wz', 'Wi', 'Wf', 'Wo', 'Rz', 'Ri', 'Rf', 'Ro',
               'bz', 'bi', 'bf', 'bo']
PARAMS = {'Recurrent': ['W', 'R', 'bias'], 'Lstm': LSTM_PARAMS,
          'Clockwork': ['W', 'R', 'bias', 'timing'],
          'ClockworkLstm': LSTM_PARAMS + ['timing']}
# the deltas the backward pass leaves in the context steps
CONTEXT_DELTAS = {'Recurrent': ['output_deltas.default'],
                  'Clockwork': ['output_deltas.default'],
                  'Lstm': ['output_deltas.default', 'internals.dCa'],
                  'ClockworkLstm': ['output_deltas.default', 'internals.dCa']}
SIZE = 4
TIMING = [1, 2, 4, 3]        # unit 0 every step, unit 1 every 2nd, ...


def _fixed(layer_type):
    """Explicit parameter values for a gradient check."""
    return {'timing': TIMING} if 'Clockwork' in layer_type else {}


def _checked_paths(layer_type, context=True):
    """The buffers check_layer_gradients checks, in order."""
    return (['{}.input_deltas.default'.format(layer_type)] +
            ['{}.gradients.{}'.format(layer_type, p)
             for p in PARAMS[layer_type]] +
            ['{}.{}[context]'.format(layer_type, d)
             for d in (CONTEXT_DELTAS[layer_type] if context else [])])


# -- finite differences -------------------------------------------------------

@pytest.mark.parametrize('activation', ACTIVATIONS)
@pytest.mark.parametrize('in_shape', [(3,), (2, 2)])
@pytest.mark.parametrize('layer_type', sorted(LAYERS))
def test_gradients(layer_type, in_shape, activation):
    errors = check_layer_gradients(
        LAYERS[layer_type], {'size': SIZE, 'activation': activation},
        {'default': in_shape}, time_steps=4, batch_size=3,
        parameters=_fixed(layer_type))
    # from a random context: its products and its deltas are checked too
    assert list(errors) == _checked_paths(layer_type)
    assert all(e < 1e-6 for e in errors.values())


@pytest.mark.parametrize('layer_type', sorted(LAYERS))
@pytest.mark.parametrize('T, B', [(1, 2), (7, 1)])
def test_gradients_single_step_and_long_sequence(layer_type, T, B):
    errors = check_layer_gradients(
        LAYERS[layer_type], {'size': 3}, {'default': (2,)}, time_steps=T,
        batch_size=B, parameters={'timing': [1, 2, 3]}
        if 'Clockwork' in layer_type else None)
    assert list(errors) == _checked_paths(layer_type)


@pytest.mark.parametrize('layer_type', sorted(LAYERS))
def test_gradients_from_a_zero_context(layer_type):
    errors = check_layer_gradients(
        LAYERS[layer_type], {'size': 3}, {'default': (2,)}, time_steps=3,
        parameters={'timing': [1, 2, 3]} if 'Clockwork' in layer_type
        else None, context=False)
    assert list(errors) == _checked_paths(layer_type, context=False)


@pytest.mark.parametrize('layer_type', ['Lstm', 'ClockworkLstm'])
@pytest.mark.parametrize('bug, path', [
    ('context share of the R gradients', 'gradients.Rz'),
    ('no cell deltas in the context step', 'internals.dCa[context]')])
def test_the_random_context_catches_context_bugs(layer_type, bug, path,
                                                 monkeypatch):
    """Bugs that a zero context hides: the check names the buffer."""
    from brainstorm_layers import lstm
    original = lstm.LstmLayerImpl.backward_pass

    def backward_pass(self, buffers):
        original(self, buffers)
        y, ints = buffers.outputs.default, buffers.internals
        T = y.shape[0] - 1
        if bug == 'no cell deltas in the context step':
            ints.dCa[T:] = 0.0
        else:
            buffers.gradients.Rz[...] -= y[T].T @ ints.dZa[0]

    monkeypatch.setattr(lstm.LstmLayerImpl, 'backward_pass', backward_pass)
    kwargs = dict(time_steps=3, parameters={'timing': [1, 2, 3]}
                  if 'Clockwork' in layer_type else None)
    with pytest.raises(GradientCheckError,
                       match=re.escape('{}.{}: the backward pass differs'
                                       .format(layer_type, path))):
        check_layer_gradients(layer_type, {'size': 3}, {'default': (2,)},
                              **kwargs)
    # invisible from a zero context
    check_layer_gradients(layer_type, {'size': 3}, {'default': (2,)},
                          context=False, **kwargs)


@pytest.mark.parametrize('layer_type', sorted(LAYERS))
def test_gradients_with_a_context(layer_type):
    """By hand, as check_layer_gradients does by default: the context is
    random, so the products with y[-1] (gradients of the R's) count,
    and step -1 of the output deltas (and of dCa) must hold the deltas of
    the context."""
    rnd = np.random.RandomState(8)
    T, B, S = 3, 2, 3
    net = _network(LAYERS[layer_type](S, name='Layer'), (2,))
    _random_parameters(net, 'Layer', rnd,
                       [1, 2, 3] if 'Clockwork' in layer_type else None)
    net.provide_external_data({'default': rnd.randn(T, B, 2)})
    context = {'Layer.outputs.default': rnd.randn(1, B, S)}
    if 'Lstm' in layer_type:
        context['Layer.internals.Ca'] = rnd.randn(1, B, S)
    deltas = rnd.randn(T + 1, B, S)
    deltas[T] = 0.0
    h, buffers = net.handler, net.buffer.Layer

    def objective():
        net.forward_pass(context=context)
        return float(np.sum(net.get('Layer.outputs.default') *
                            deltas[:T]))

    def numeric(get, put):
        value, result = get(), []
        for i in range(value.size):
            f = []
            for step in (1e-6, -1e-6):
                changed = value.copy()
                changed.flat[i] += step
                put(changed)
                f.append(objective())
            result.append((f[0] - f[1]) / 2e-6)
        put(value)
        return np.reshape(result, value.shape)

    net.forward_pass(context=context)
    _backward(net, 'Layer', deltas)
    for pname in PARAMS[layer_type]:
        if pname == 'timing':
            continue
        view = buffers.parameters[pname]
        expected = numeric(lambda: h.get_numpy_copy(view),
                           lambda v: h.set_from_numpy(view, v))
        assert np.allclose(net.get('Layer.gradients.' + pname), expected,
                           atol=1e-6), pname
    delta_buffers = {'Layer.outputs.default': buffers.output_deltas.default}
    if 'Lstm' in layer_type:
        delta_buffers['Layer.internals.Ca'] = buffers.internals.dCa
    for path, delta_view in delta_buffers.items():
        expected = numeric(lambda: context[path].copy(),
                           lambda v: context.__setitem__(path, v))
        assert np.allclose(h.get_numpy_copy(delta_view)[T:], expected,
                           atol=1e-6), path


class _ContiguousOnly(NumpyHandler):
    """A NumpyHandler that refuses arrays that are not C-contiguous (GPU
    kernels of a future handler may assume dense arrays)."""


def _contiguous_only(op):
    def checked(self, *args, **kwargs):
        for arg in list(args) + list(kwargs.values()):
            if isinstance(arg, np.ndarray) and not arg.flags.c_contiguous:
                raise AssertionError('{} got a non-contiguous array of shape '
                                     '{}'.format(op, arg.shape))
        return getattr(NumpyHandler, op)(self, *args, **kwargs)
    return checked


for _op in OPERATIONS:
    setattr(_ContiguousOnly, _op, _contiguous_only(_op))


@pytest.mark.parametrize('layer_type', sorted(LAYERS))
def test_every_array_handed_to_the_handler_is_contiguous(layer_type):
    errors = check_layer_gradients(
        LAYERS[layer_type], {'size': 3}, {'default': (2, 2)},
        handler=DebugHandler(_ContiguousOnly(np.float64)), time_steps=3,
        batch_size=2, max_entries=3,
        parameters={'timing': [1, 2, 3]} if 'Clockwork' in layer_type
        else None)
    assert list(errors) == _checked_paths(layer_type)


@pytest.mark.parametrize('layer_type', sorted(LAYERS))
def test_by_name_through_the_registry(layer_type):
    assert getattr(L, layer_type).layer_type == layer_type
    assert registry.provider('layers', layer_type) == 'brainstorm-layers'
    errors = check_layer_gradients(layer_type, {'size': 2},
                                   {'default': (1,)},
                                   parameters=_fixed(layer_type) and
                                   {'timing': [1, 2]})
    assert list(errors) == _checked_paths(layer_type)


# -- numpy references ---------------------------------------------------------

def _act(name, x):
    return {'linear': lambda v: v, 'rel': lambda v: np.maximum(v, 0),
            'sigmoid': lambda v: 1 / (1 + np.exp(-v)),
            'tanh': np.tanh}[name](x)


def reference(layer_type, x, P, activation, y0, c0):
    """Outputs (T, B, S) and cells (T, B, S) or None, step by step."""
    T, B = x.shape[:2]
    x = x.reshape(T, B, -1)
    timing = np.asarray(P['timing'], float) if 'timing' in P else None
    y_prev, c_prev, ys, cs = y0, c0, [], []
    for t in range(T):
        keep = None if timing is None else (t % timing != 0)
        if layer_type in ('Recurrent', 'Clockwork'):
            y = _act(activation, x[t] @ P['W'] + y_prev @ P['R'] + P['bias'])
        else:
            g = {k: x[t] @ P['W' + k] + y_prev @ P['R' + k] + P['b' + k]
                 for k in 'zifo'}
            c = (_act(activation, g['z']) * _act('sigmoid', g['i']) +
                 c_prev * _act('sigmoid', g['f']))
            if keep is not None:
                c = np.where(keep, c_prev, c)
            y = _act(activation, c) * _act('sigmoid', g['o'])
            cs.append(c)
            c_prev = c
        if keep is not None:
            y = np.where(keep, y_prev, y)
        ys.append(y)
        y_prev = y
    return np.stack(ys), (np.stack(cs) if cs else None)


def _network(layer, in_shape, dtype=np.float64):
    inp = L.Input({'default': ('T', 'B') + tuple(in_shape)})
    inp >> layer
    net = bs.Network.from_layer(layer)
    net.set_handler(DebugHandler(NumpyHandler(dtype)))
    return net


def _random_parameters(net, name, rnd, timing=None):
    values = {}
    for pname, view in net.buffer[name].parameters.items():
        values[pname] = rnd.uniform(-0.7, 0.7, view.shape)
    if timing is not None:
        values['timing'] = np.asarray(timing, float)
    net.initialize({name: values})
    return values


@pytest.mark.parametrize('activation', ACTIVATIONS)
@pytest.mark.parametrize('layer_type', sorted(LAYERS))
def test_values_match_numpy_reference(layer_type, activation):
    rnd = np.random.RandomState(7)
    size, in_shape = 4, (3, 2)
    net = _network(LAYERS[layer_type](size, activation=activation,
                                      name='Layer'), in_shape)
    is_lstm = 'Lstm' in layer_type
    P = _random_parameters(net, 'Layer', rnd,
                           TIMING if 'Clockwork' in layer_type else None)
    # two runs of different T and B on the same network, with a context
    for T, B in ((6, 2), (3, 5)):
        x = rnd.randn(T, B, *in_shape)
        y0, c0 = rnd.randn(B, size), rnd.randn(B, size)
        context = {'Layer.outputs.default': y0[None]}
        if is_lstm:
            context['Layer.internals.Ca'] = c0[None]
        net.provide_external_data({'default': x})
        net.forward_pass(context=context)
        y, c = reference(layer_type, x, P, activation, y0, c0)
        assert np.allclose(net.get('Layer.outputs.default'), y, atol=1e-12)
        assert np.allclose(net.buffer.Layer.outputs.default[-1], y0)
        if is_lstm:
            assert np.allclose(net.get('Layer.internals.Ca'), c, atol=1e-12)
            assert np.allclose(net.get('Layer.internals.Fb'), _act(
                'sigmoid', x.reshape(T, B, -1) @ P['Wf'] +
                np.concatenate([y0[None], y[:-1]]) @ P['Rf'] + P['bf']))
        assert sorted(net.get_context()) == sorted(context)


def test_clockwork_units_keep_their_state_between_updates():
    rnd = np.random.RandomState(2)
    net = _network(Clockwork(4, name='Layer'), (2,))
    _random_parameters(net, 'Layer', rnd, timing=[1, 2, 4, 3])
    net.provide_external_data({'default': rnd.randn(8, 2, 2)})
    net.forward_pass()
    y = net.get('Layer.outputs.default')
    for t in range(1, 8):
        for unit, period in enumerate([1, 2, 4, 3]):
            same = np.array_equal(y[t, :, unit], y[t - 1, :, unit])
            assert same == (t % period != 0), (t, unit)


@pytest.mark.parametrize('plain, clockwork', [(Recurrent, Clockwork),
                                              (Lstm, ClockworkLstm)])
def test_clockwork_with_unit_periods_is_the_plain_layer(plain, clockwork):
    rnd = np.random.RandomState(3)
    x = rnd.randn(5, 2, 3)
    outputs = []
    for make in (plain, clockwork):
        net = _network(make(3, name='Layer'), (3,))
        values = {p: np.random.RandomState(4).uniform(-1, 1, v.shape)
                  for p, v in net.buffer.Layer.parameters.items()}
        values['timing'] = np.ones(3)
        net.initialize({'Layer': {p: values[p] for p in
                                  net.buffer.Layer.parameters.keys()}})
        net.provide_external_data({'default': x})
        net.forward_pass()
        outputs.append(net.get('Layer.outputs.default'))
    assert np.allclose(outputs[0], outputs[1])


def test_timing_is_set_through_initialize_and_gets_no_gradient():
    net = _network(Clockwork(6), (3,))
    net.initialize({'default': bs.initializers.Gaussian(0.1),
                    'Clockwork': {'timing': [1, 1, 2, 2, 4, 4]}}, seed=1)
    assert net.get('Clockwork.parameters.timing').tolist() == \
        [1, 1, 2, 2, 4, 4]
    net.provide_external_data({'default': np.ones((5, 2, 3))})
    net.forward_pass()
    net.buffer_manager.clear_backward_buffers()
    net.handler.fill(net.buffer.Clockwork.output_deltas.default, 1.0)
    net.layers['Clockwork'].backward_pass(net.buffer.Clockwork)
    assert not net.get('Clockwork.gradients.timing').any()
    assert net.get('Clockwork.gradients.W').any()


# -- context: a sequence in two halves ----------------------------------------

def _backward(net, out_name, deltas):
    """net.backward_pass, but starting from the given deltas of the
    output of layer ``out_name``."""
    net.buffer_manager.clear_backward_buffers()
    view = net.buffer[out_name].output_deltas.default
    net.handler.set_from_numpy(view, deltas)
    for name, layer in reversed(list(net.layers.items())):
        if name != 'Input':
            layer.backward_pass(net.buffer[name])


@pytest.mark.parametrize('stack', [
    ['Recurrent'], ['Lstm'], ['Clockwork'], ['ClockworkLstm'],
    ['Lstm', 'Clockwork'], ['ClockworkLstm', 'Recurrent']])
def test_context_continues_a_sequence(stack):
    """Whole sequence (T = 8) vs two halves with get_context(): the second
    half's outputs and deltas equal the whole run's (the halves are a
    multiple of every clockwork period long)."""
    rnd = np.random.RandomState(5)
    inp = L.Input({'default': ('T', 'B', 2, 2)})
    layer = inp
    for i, layer_type in enumerate(stack):
        layer = layer >> LAYERS[layer_type](3, name='R{}'.format(i))
    out = layer >> L.FullyConnected(2, activation='linear', name='Out')
    net = bs.Network.from_layer(out)
    net.set_handler(DebugHandler(NumpyHandler(np.float64)))
    net.compute_all_deltas = True
    init = {'default': bs.initializers.Gaussian(0.5)}
    for i, layer_type in enumerate(stack):
        if 'Clockwork' in layer_type:
            init['R{}'.format(i)] = {'timing': [1, 2, 4],
                                     'default': bs.initializers.Gaussian(0.5)}
    net.initialize(init, seed=3)
    x = rnd.randn(8, 2, 2, 2)
    deltas = rnd.randn(8, 2, 2)

    net.provide_external_data({'default': x})
    net.forward_pass()
    whole = {n: net.get(n + '.outputs.default') for n in net.layers
             if n != 'Input'}
    _backward(net, 'Out', deltas)
    whole_dx = net.get('Input.output_deltas.default')

    net.provide_external_data({'default': x[:4]})
    net.forward_pass()
    context = net.get_context()
    expected = sorted('R{}.outputs.default'.format(i)
                      for i in range(len(stack))) + sorted(
        'R{}.internals.Ca'.format(i) for i, t in enumerate(stack)
        if 'Lstm' in t)
    assert sorted(context) == sorted(expected)
    net.provide_external_data({'default': x[4:]})
    net.forward_pass(context=context)
    for name, value in whole.items():
        assert np.allclose(net.get(name + '.outputs.default'), value[4:],
                           atol=1e-12), name
    _backward(net, 'Out', deltas[4:])
    assert np.allclose(net.get('Input.output_deltas.default'), whole_dx[4:],
                       atol=1e-12)

    # without the context the second half starts from zeros
    net.forward_pass()
    name = 'R{}'.format(len(stack) - 1)
    assert not np.allclose(net.get(name + '.outputs.default'),
                           whole[name][4:])


# -- input deltas nobody needs ------------------------------------------------

@pytest.mark.parametrize('layer_type', sorted(LAYERS))
def test_skips_input_deltas_nobody_needs(layer_type):
    rnd = np.random.RandomState(6)
    net = _network(LAYERS[layer_type](3, name='Layer'), (2,))
    _random_parameters(net, 'Layer', rnd,
                       [1, 2, 3] if 'Clockwork' in layer_type else None)
    net.provide_external_data({'default': rnd.randn(4, 2, 2)})
    gradients = []
    for compute_all in (False, True):
        net.compute_all_deltas = compute_all
        assert net.layers['Layer'].input_deltas_needed['default'] == \
            compute_all
        net.forward_pass()
        _backward(net, 'Layer', np.ones((5, 2, 3)))
        gradients.append(net.get('gradients'))
        assert net.get('Input.output_deltas.default').any() == compute_all
    assert np.allclose(gradients[0], gradients[1])


def test_float32_and_architecture_round_trip():
    net = _network(Lstm(5, name='Layer'), (3,), dtype=np.float32)
    net.initialize(bs.initializers.Gaussian(0.3), seed=2)
    x = np.random.RandomState(1).randn(4, 2, 3).astype(np.float32)
    net.provide_external_data({'default': x})
    net.forward_pass()
    again = bs.Network.from_architecture(net.architecture)
    again.set_handler(NumpyHandler(np.float32))
    again.set_parameters(net.get('parameters'))
    again.provide_external_data({'default': x})
    again.forward_pass()
    assert net.architecture['Layer']['@type'] == 'Lstm'
    assert np.allclose(again.get('Layer.outputs.default'),
                       net.get('Layer.outputs.default'), atol=1e-6)


# -- argument errors ----------------------------------------------------------

@pytest.mark.parametrize('layer_type', sorted(LAYERS))
@pytest.mark.parametrize('kwargs, match', [
    ({'size': 0}, r"argument 'size': expected a positive int, but received "
                  r"0"),
    ({'size': -3}, r"argument 'size': expected a positive int"),
    ({'size': 2.5}, r"argument 'size': expected a positive int"),
    ({'size': '8'}, r"argument 'size': expected a positive int"),
    ({'size': True}, r"argument 'size': expected a positive int"),
    ({'size': (4,)}, r"argument 'size': expected a positive int"),
    ({'size': 4, 'activation': 'relu'},
     r"argument 'activation': expected one of 'linear', 'rel', 'sigmoid', "
     r"'tanh', but received 'relu'"),
    ({'size': 4, 'activation': None}, r"argument 'activation'"),
])
def test_construction_errors(layer_type, kwargs, match):
    with pytest.raises(LayerValidationError,
                       match=r'{} layer \(unnamed\): {}'.format(layer_type,
                                                                 match)):
        LAYERS[layer_type](**kwargs)
    with pytest.raises(ValueError, match=r"{} layer 'enc': ".format(
            layer_type)):
        LAYERS[layer_type](name='enc', **kwargs)


@pytest.mark.parametrize('layer_type', sorted(LAYERS))
def test_call_errors(layer_type):
    with pytest.raises(TypeError, match=layer_type):
        LAYERS[layer_type]()
    with pytest.raises(TypeError, match=layer_type):
        LAYERS[layer_type](4, activaton='tanh')


def _architecture(layer_description, in_shapes):
    return {
        'Input': {'@type': 'Input', 'out_shapes': in_shapes,
                  '@outgoing_connections': {'default': ['Bad']}},
        'Bad': dict(layer_description, **{'@outgoing_connections': {}})}


@pytest.mark.parametrize('layer_type', sorted(LAYERS))
@pytest.mark.parametrize('description, in_shapes, match', [
    ({'size': 0}, {'default': [4]}, r"argument 'size': expected a positive"),
    ({'size': 3, 'activation': 'soft'}, {'default': [4]},
     r"argument 'activation'"),
    ({}, {'default': [4]}, r"argument 'size' is required"),
    ({'size': 3, 'peepholes': True}, {'default': [4]},
     r'unexpected argument'),
    ({'size': 3}, {'default': ['B', 4]}, r"input 'default'"),
])
def test_validation_errors_from_architectures(layer_type, description,
                                               in_shapes, match):
    description = dict(description, **{'@type': layer_type})
    with pytest.raises(LayerValidationError,
                       match=r"{} layer 'Bad': {}".format(layer_type, match)):
        bs.Network.from_architecture(_architecture(description, in_shapes))
