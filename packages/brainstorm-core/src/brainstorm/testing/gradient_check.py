"""Finite-difference checks of layers and networks, for the test suites of
layer plugins.

:func:`check_layer_gradients` builds a network ``Input -> layer`` around one
layer and compares the deltas and gradients its backward pass computes with
central finite differences of the objective

    f = sum_k sum(output_k * R_k)

for fixed random arrays ``R_k`` over the outputs the layer takes deltas
from (for a loss layer, ``is_loss_layer = True``: ``f = sum(loss)``, the
loss its backward pass differentiates); layers with recurrent state start
from a random context, whose deltas are checked as well, and a check that
can compare nothing fails. :func:`check_network_gradients`
checks that ``Network.backward_pass`` computes the gradient of
``get_loss_values()['total_loss']``.

Use a float64 handler (the default ``DebugHandler(NumpyHandler(float64))``)::

    from brainstorm.testing.gradient_check import check_layer_gradients

    def test_my_layer_gradients():
        check_layer_gradients(MyLayer, {'size': 3}, {'default': (4,)})
"""
import json
from collections import OrderedDict

import numpy as np

__all__ = ['check_layer_gradients', 'check_network_gradients',
           'GradientCheckError']


class GradientCheckError(AssertionError):
    """Deltas or gradients differ from their finite-difference estimate."""


def _float64_handler():
    from brainstorm.handlers import DebugHandler, NumpyHandler
    return DebugHandler(NumpyHandler(np.float64))


def _resolve(layer):
    """(construction function or None, implementation class) of ``layer``:
    a construction function, a Layer subclass or a registered name."""
    from brainstorm.layers.base_layer import Layer, layer_impl_of
    if isinstance(layer, str):
        from brainstorm.plugins import registry
        layer = registry.get('layers', layer, namespace='brainstorm.layers')
    if isinstance(layer, type) and issubclass(layer, Layer):
        return None, layer
    if callable(layer) and hasattr(layer, 'impl_class'):
        return layer, layer_impl_of(layer)
    raise TypeError('check_layer_gradients needs a layer construction '
                    'function, a Layer subclass or a layer name, got '
                    '{!r}'.format(layer))


def _template(shape):
    """A shape template: feature shapes are read as time-sized."""
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(shape)
    if shape[:1] in (('T',), ('B',)):
        return shape
    return ('T', 'B') + shape


def _build_network(layer, kwargs, in_shapes, handler, seed):
    from brainstorm.layers.base_layer import generic_constructor
    from brainstorm.layers.input_layer import InputLayerImpl
    from brainstorm.structure.buffer_structure import BufferStructure
    from brainstorm.structure.buffers import BufferManager
    from brainstorm.structure.network import Network
    from brainstorm.describable import get_description

    constructor, impl = _resolve(layer)
    wrapper = (constructor or generic_constructor(impl))(**dict(kwargs))
    name = wrapper.layer.name or impl.get_layer_type()
    # the kwargs as a network from an architecture gets them (JSON values)
    layer_kwargs = json.loads(json.dumps(get_description(
        dict(wrapper.layer.kwargs))))
    templates = OrderedDict((n, _template(s)) for n, s in in_shapes.items())
    architecture = OrderedDict()
    architecture['Input'] = {
        '@type': 'Input',
        '@outgoing_connections': {n: ['{}.{}'.format(name, n)]
                                  for n in templates},
        'out_shapes': {n: list(t) for n, t in templates.items()}}
    architecture[name] = dict(layer_kwargs, **{
        '@type': impl.get_layer_type(), '@outgoing_connections': {}})
    layers = OrderedDict()
    layers['Input'] = InputLayerImpl(
        'Input', OrderedDict(), {},
        architecture['Input']['@outgoing_connections'],
        out_shapes=dict(templates))
    layer_in_shapes = OrderedDict(
        (n, BufferStructure(*t)) for n, t in templates.items())
    layers[name] = impl(name, layer_in_shapes,
                        {n: ('Input', n) for n in templates}, {},
                        **layer_kwargs)
    buffer_manager = BufferManager(layers, handler)
    net = Network(layers, buffer_manager, architecture, seed=seed,
                  handler=handler)
    net.compute_all_deltas = True
    return net, name


def _compare(what, analytic, numeric, rtol, atol):
    """Max abs error; raise GradientCheckError if not within tolerance."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    error = np.abs(analytic - numeric)
    bad = ~(error <= atol + rtol * np.abs(numeric))   # NaN is bad too
    error = np.nan_to_num(error, nan=np.inf)
    max_error = float(error.max()) if error.size else 0.0
    if bad.any():
        index = np.unravel_index(int(np.argmax(np.where(bad, error, -1))),
                                 error.shape)
        raise GradientCheckError(
            '{}: the backward pass differs from finite differences (max abs '
            'error {:.3g}; at index {}: backward pass {!r}, finite '
            'differences {!r}; rtol={}, atol={})'.format(
                what, max_error, tuple(int(i) for i in index),
                float(analytic[index]), float(numeric[index]), rtol, atol))
    return max_error


def _entries(size, max_entries, rnd):
    if max_entries is None or size <= max_entries:
        return np.arange(size)
    return np.sort(rnd.choice(size, max_entries, replace=False))


class _HandlerArray:
    """A buffer of the network to perturb."""

    def __init__(self, handler, view):
        self.handler, self.view = handler, view

    def get(self):
        return self.handler.get_numpy_copy(self.view)

    def put(self, value):
        self.handler.set_from_numpy(self.view, value)


class _ContextArray:
    """An entry of the context that every forward pass starts from."""

    def __init__(self, context, path):
        self.context, self.path = context, path

    def get(self):
        return np.array(self.context[self.path], dtype=np.float64)

    def put(self, value):
        self.context[self.path] = np.array(value, dtype=np.float64)


def _numeric_gradient(array, objective, eps, entries):
    """Central differences of ``objective()`` w.r.t. the entries of
    ``array`` (a _HandlerArray or _ContextArray) with the flat indices
    ``entries`` (others are 0)."""
    original = array.get()
    flat = original.reshape(-1).copy()
    numeric = np.zeros(flat.size)
    for i in entries:
        value = flat[i]
        results = []
        for step in (eps, -eps):
            flat[i] = value + step
            array.put(flat.reshape(original.shape))
            results.append(objective())
        flat[i] = value
        numeric[i] = (results[0] - results[1]) / (2 * eps)
    array.put(original)
    return numeric.reshape(original.shape)


def _check_all(analytic, objective, label, eps, rtol, atol, max_entries,
               rnd):
    """Compare every {path: (array to perturb, backward-pass result)} with
    finite differences; {path: max abs error}.

    Raises GradientCheckError if nothing could be compared: no buffer, no
    entry, or every checked entry zero in both the backward pass and the
    finite differences (the objective depends on none of them)."""
    if not analytic:
        raise GradientCheckError(
            '{}: nothing to check (no input deltas, no parameters, no '
            'context)'.format(label))
    errors = OrderedDict()
    compared = 0
    for path, (array, grad) in analytic.items():
        entries = _entries(grad.size, max_entries, rnd)
        numeric = _numeric_gradient(array, objective, eps, entries)
        checked = np.zeros(grad.size, dtype=bool)
        checked[entries] = True
        checked = checked.reshape(grad.shape)
        errors[path] = _compare('{}: {}'.format(label, path),
                                np.where(checked, grad, 0.0),
                                np.where(checked, numeric, 0.0), rtol, atol)
        compared += int(np.count_nonzero(checked & ((grad != 0) |
                                                    (numeric != 0))))
    if not compared:
        raise GradientCheckError(
            '{}: nothing was compared: every checked entry of {} is 0 in '
            'the backward pass and in the finite differences, so the '
            'objective depends on none of them'.format(
                label, ', '.join(analytic)))
    return errors


def check_layer_gradients(layer, kwargs=None, in_shapes=None, inputs=None,
                          handler=None, training_pass=False, time_steps=2,
                          batch_size=3, seed=1234, eps=1e-6, rtol=1e-5,
                          atol=1e-6, parameters=None, param_scale=0.5,
                          max_entries=None, check_accumulation=True,
                          context=None):
    """Check a layer's input deltas and parameter gradients against central
    finite differences.

    A network ``Input -> layer`` is built (every input of the layer fed by
    an item of the Input layer named like it) and run forward; the
    objective is ``sum_k sum(output_k * R_k)`` over the outputs the layer
    takes deltas from, with fixed random ``R_k`` (``sum(loss)`` for loss
    layers). The output deltas are set to ``R_k`` and the layer's
    ``backward_pass`` is called directly (after the backward buffers are
    cleared, and the input deltas and gradients filled with random values
    whose change is what is compared). Inputs in
    ``computes_no_input_deltas_for`` are not checked. The handler's random
    state is reset before every forward pass, so that random layers
    (Dropout) draw the same values each time.

    Layers with recurrent state (buffers with a context, such as the
    outputs of Recurrent, Lstm, Clockwork and ClockworkLstm) start every
    forward pass from a random context by default, so that the products
    with the state at t = -1 count, and the deltas the backward pass leaves
    in the context steps are checked too: those of an output in its
    ``output_deltas`` (path ``'L.output_deltas.N[context]'``), those of an
    internal ``N`` in the backward-only internal ``'dN'`` where the layer
    has one (the Lstm's ``dCa``: ``'L.internals.dCa[context]'``).

    A check that can compare nothing fails: a layer with neither input
    deltas nor parameters (nor a context), or one whose deltas and
    gradients are all zero in the backward pass and in the finite
    differences.

    Parameters
    ----------
    layer : construction function, Layer subclass or str
        The layer to check (a name is looked up in the registry).
    kwargs : dict, optional
        Arguments of the layer.
    in_shapes : dict[str, tuple]
        Input name -> feature shape (read as ('T', 'B', ...)) or a full
        template such as ``('B', 3)``.
    inputs : dict[str, numpy.ndarray], optional
        Explicit values of some inputs (e.g. integer targets), full
        (T, B, ...) arrays; others are drawn from a standard normal.
    handler : Handler, optional
        Default: ``DebugHandler(NumpyHandler(np.float64))``.
    training_pass : bool
        Whether forward passes are training passes.
    time_steps, batch_size : int
        T and B of the random inputs.
    seed : int
        Seed of inputs, parameters and the ``R_k``.
    eps : float
        Step of the central differences.
    rtol, atol : float
        Tolerance: ``|backward - numeric| <= atol + rtol * |numeric|``.
    parameters : dict[str, numpy.ndarray], optional
        Explicit parameter values; others are uniform in
        ``[-param_scale, param_scale]``.
    param_scale : float
        Range of random parameters.
    max_entries : int, optional
        Check at most this many (random) entries per buffer.
    check_accumulation : bool
        Fill the input deltas and gradients with random values before the
        backward pass and check what it added to them (layers must add into
        deltas and gradients, never overwrite them).
    context : bool or dict, optional
        Start every forward pass from a context: None (default) a random
        one (standard normal) where the layer has buffers with a context,
        True the same but an error where it has none, False zeros, or a
        dict as :meth:`Network.get_context` returns it.

    Returns
    -------
    OrderedDict
        Buffer path -> max abs error, for every buffer checked.

    Raises
    ------
    GradientCheckError
        Naming the layer, the buffer path and the max error; or saying
        that nothing could be compared.
    """
    kwargs = kwargs or {}
    if not in_shapes:
        raise ValueError('check_layer_gradients: in_shapes is required')
    if max_entries is not None and max_entries < 1:
        raise ValueError('check_layer_gradients: max_entries must be None or '
                         'at least 1, got {!r}'.format(max_entries))
    handler = handler or _float64_handler()
    rnd = np.random.RandomState(seed)
    net, name = _build_network(layer, kwargs, in_shapes, handler, seed)
    impl = net.layers[name]
    label = '{} layer {!r}'.format(impl.get_layer_type(), name)

    # data
    input_layer = net.layers['Input']
    data = {}
    inputs = dict(inputs or {})
    for in_name, structure in input_layer.out_shapes.items():
        if in_name in inputs:
            data[in_name] = np.asarray(inputs.pop(in_name), dtype=np.float64)
        else:
            shape = structure.get_shape(time_steps, batch_size)
            data[in_name] = rnd.randn(*shape)
    if inputs:
        raise ValueError('check_layer_gradients: inputs given for unknown '
                         'input(s) {}'.format(', '.join(sorted(inputs))))
    net.provide_external_data(data)

    # parameters
    parameters = dict(parameters or {})
    for pname in impl.parameter_shapes:
        view = net.buffer[name].parameters[pname]
        if pname in parameters:
            value = np.asarray(parameters.pop(pname), dtype=np.float64)
            value = np.broadcast_to(value, view.shape)
        else:
            value = rnd.uniform(-param_scale, param_scale, view.shape)
        handler.set_from_numpy(view, np.ascontiguousarray(
            value, dtype=handler.dtype))
    if parameters:
        raise ValueError('check_layer_gradients: {} has no parameter(s) '
                         '{}'.format(label, ', '.join(sorted(parameters))))

    # objective weights R_k
    is_loss = getattr(impl, 'is_loss_layer', False)
    weights = OrderedDict()
    for out_name in impl.out_shapes:
        shape = tuple(net.buffer[name].outputs[out_name].shape)
        if is_loss:
            if out_name == 'loss':
                weights[out_name] = np.ones(shape)
        elif out_name not in impl.takes_no_output_deltas_from:
            weights[out_name] = rnd.randn(*shape)
    if not weights:
        raise ValueError('check_layer_gradients: {} has no output that takes '
                         'deltas, so there is nothing to check'.format(label))

    start_context = _layer_context(net, name, label, context, rnd)

    def forward():
        handler.rnd.reset()
        net.forward_pass(training_pass=training_pass, context=start_context)

    def objective():
        forward()
        return sum(float(np.sum(handler.get_numpy_copy(
            net.buffer[name].outputs[out_name]) * r))
            for out_name, r in weights.items())

    # backward pass with output deltas R_k; with check_accumulation the
    # input deltas and gradients start from random values D0, and
    # (result - D0) is compared: a layer must add into them
    forward()
    net.buffer_manager.clear_backward_buffers()
    for out_name, r in weights.items():
        handler.set_from_numpy(net.buffer[name].output_deltas[out_name],
                               r.astype(handler.dtype))
    targets = OrderedDict()   # path -> (view to perturb, result view)
    for in_name in impl.in_shapes:
        if in_name not in impl.computes_no_input_deltas_for:
            targets['{}.input_deltas.{}'.format(name, in_name)] = (
                net.buffer.Input.outputs[in_name],
                net.buffer[name].input_deltas[in_name])
    for pname in impl.parameter_shapes:
        targets['{}.gradients.{}'.format(name, pname)] = (
            net.buffer[name].parameters[pname],
            net.buffer[name].gradients[pname])
    start = {}
    for path, (_, result) in targets.items():
        start[path] = rnd.randn(*result.shape) if check_accumulation \
            else np.zeros(result.shape)
        handler.set_from_numpy(result, start[path].astype(handler.dtype))
    impl.backward_pass(net.buffer[name])
    analytic = OrderedDict(
        (path, (_HandlerArray(handler, view),
                handler.get_numpy_copy(result) - start[path]))
        for path, (view, result) in targets.items())
    # the deltas of the context: the derivative of the objective (which
    # includes the context steps of the outputs, weighted by R_k) w.r.t. the
    # context, as the backward pass left it in the context steps
    for path, deltas in _context_deltas(net, name, start_context).items():
        analytic[path] = deltas

    return _check_all(analytic, objective, label, eps, rtol, atol,
                      max_entries, rnd)


def _layer_context(net, name, label, context, rnd):
    """The context every forward pass of the check starts from, or None."""
    paths = net.get_context()
    if context is False:
        return None
    if isinstance(context, dict):
        return OrderedDict((path, np.array(value, dtype=np.float64))
                           for path, value in context.items())
    if context not in (None, True):
        raise TypeError('check_layer_gradients: context must be None, a '
                        'bool or a dict, got {!r}'.format(context))
    if not paths:
        if context:
            raise ValueError('check_layer_gradients: context=True, but {} '
                             'has no buffers with a context'.format(label))
        return None
    return OrderedDict((path, rnd.randn(*value.shape))
                       for path, value in paths.items())


def _context_deltas(net, name, context):
    """{path: (_ContextArray, deltas in the context steps)} for the context
    entries whose deltas the layer computes."""
    result = OrderedDict()
    if not context:
        return result
    handler, T = net.handler, net.buffer_manager.time_size
    buffers = net.buffer[name]
    for path in context:
        lname, category, buffer_name = path.split('.')
        if lname != name:
            continue
        if category == 'outputs':
            delta_name = 'output_deltas.' + buffer_name
            view = buffers.output_deltas[buffer_name]
        elif 'd' + buffer_name in buffers.internals.keys():
            delta_name = 'internals.d' + buffer_name
            view = buffers.internals['d' + buffer_name]
        else:
            continue
        result['{}.{}[context]'.format(name, delta_name)] = (
            _ContextArray(context, path),
            handler.get_numpy_copy(view)[T:].astype(np.float64))
    return result


def _inputs_taking_deltas(net):
    """Data items of the Input layer that some layer computes deltas for
    (not targets, masks ...)."""
    names = []
    for out_name in net.layers['Input'].out_shapes:
        for layer in net.layers.values():
            if any(src == ('Input', out_name) and
                   in_name not in layer.computes_no_input_deltas_for
                   for in_name, src in layer.incoming.items()):
                names.append(out_name)
                break
    return names


def check_network_gradients(net, data, handler=None, training_pass=False,
                            eps=1e-6, rtol=1e-5, atol=1e-6, max_entries=None,
                            seed=1234, check_inputs=False):
    """Check that ``net.backward_pass()`` computes the gradient of
    ``net.get_loss_values()['total_loss']``.

    Parameters
    ----------
    net : Network
        A network with at least one loss layer. It is moved to ``handler``
        (default ``DebugHandler(NumpyHandler(np.float64))``; pass the
        network's own handler to keep it) and its parameters are kept.
    data : dict[str, numpy.ndarray]
        The data to provide.
    training_pass : bool
        Whether forward passes are training passes (the handler's random
        state is reset before each of them).
    eps, rtol, atol : float
        Step of the central differences and the tolerance.
    max_entries : int, optional
        Check at most this many (random) entries per parameter.
    seed : int
        Seed of the choice of entries.
    check_inputs : bool
        Also check the deltas of the Input layer's outputs that some layer
        computes deltas for (sets ``net.compute_all_deltas``).

    Returns
    -------
    OrderedDict
        Buffer path -> max abs error.

    Raises
    ------
    GradientCheckError
        Naming the buffer path and the max error.
    """
    handler = handler or _float64_handler()
    if net.handler is not handler:
        net.set_handler(handler)
    if check_inputs:
        net.compute_all_deltas = True
    rnd = np.random.RandomState(seed)
    net.provide_external_data(data)

    def forward():
        handler.rnd.reset()
        net.forward_pass(training_pass=training_pass)

    def objective():
        forward()
        return net.get_loss_values()['total_loss']

    forward()
    net.backward_pass()
    analytic = OrderedDict()
    for lname, layer in net.layers.items():
        for pname in layer.parameter_shapes:
            analytic['{}.gradients.{}'.format(lname, pname)] = (
                _HandlerArray(handler, net.buffer[lname].parameters[pname]),
                handler.get_numpy_copy(net.buffer[lname].gradients[pname]))
    if check_inputs:
        for in_name in _inputs_taking_deltas(net):
            analytic['Input.output_deltas.{}'.format(in_name)] = (
                _HandlerArray(handler, net.buffer.Input.outputs[in_name]),
                handler.get_numpy_copy(
                    net.buffer.Input.output_deltas[in_name]))
    return _check_all(analytic, objective, 'network', eps, rtol, atol,
                      max_entries, rnd)
