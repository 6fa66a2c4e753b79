"""One conformance suite for handlers: operations, layers and training.

A handler (a GPU handler, a third-party one, the ``NumpyHandler`` and the
``DebugHandler`` themselves) proves itself by computing what the reference
computes, at three levels:

1. Operations (:func:`check_operation`): every operation in
   :data:`OPERATIONS` on random inputs (the checks live in the internal
   module ``handler_conformance``).
2. Layers (:func:`check_layer_example`): every example layer configuration
   the installed plugins publish through the ``brainstorm_layer_examples``
   hook (:func:`layer_examples`), built as a network ``Input -> layer`` on
   the handler under test and on the reference, with the same parameters
   and inputs (and context, for recurrent layers); one training forward
   pass and one backward pass; every output, internal, parameter, input
   delta, output delta and gradient is compared.
3. Training (:func:`check_training`): a few updates of a small mnist_pi
   network (``examples/mnist_pi.py``: input dropout, two rectified hidden
   layers with dropout, softmax output with ``ConstrainL2Norm(1)``,
   momentum) on the digits embedded in brainstorm-data; the loss of every
   step must track the reference's.

The reference
-------------
At every level the reference is the
:class:`~brainstorm.testing.reference_handler.ReferenceHandler`: every
operation in plain float64 numpy, written from the semantics that
:class:`~brainstorm.handlers.base_handler.Handler` documents and sharing no
code with the ``NumpyHandler``. The ``NumpyHandler``'s own run is therefore
a real comparison (against a reference of its own dtype it would compare
itself with itself): a wrong divisor in its average pooling fails the
pooling operations, the average-pooling layer examples and ``check_all``.
Layers run the same layer code on both sides, so these checks prove the
handler, not the layers: the layers' deltas and gradients are checked
against finite differences (:mod:`brainstorm.testing.gradient_check`),
their forward values against plain numpy in the layer plugins' own tests.
Running the layer on the reference rather than comparing the handler's
float64 run with finite differences keeps the check exact for every
buffer (internals, forward values, a float32 handler, random layers with
the mask the handler drew) and leaves derivatives to the gradient checks.
The reference's ``allocate`` gives arrays full of NaN, so a layer reading
scratch memory it never wrote shows NaN there; NaN never compares equal,
not even to NaN.

:func:`check_all` runs everything. A handler plugin's test suite::

    import pytest
    from brainstorm.testing import conformance

    @pytest.mark.parametrize('op', conformance.OPERATIONS)
    def test_operation(op):
        conformance.check_operation(MyHandler, op)

    @pytest.mark.parametrize('example', conformance.layer_examples(),
                             ids=lambda example: example.id)
    def test_layer(example):
        conformance.check_layer_example(MyHandler, example)

    def test_training():
        conformance.check_training(MyHandler)

``handler_factory`` is a function returning a fresh handler (a handler
class works), or a handler instance.

Randomness
----------
Random draws cannot agree between handlers (a GPU handler has its own
generator), so they are replayed: while the handler under test runs, its
``generate_probability_mask`` and ``fill_gaussian`` are wrapped (instance
attributes, removed afterwards) to record what they drew, and the reference
gets those very values, in the same order, instead of its own. Dropout is
thereby checked exactly: its outputs, its ``mask`` internal and its deltas
must equal the reference's computed with the mask the handler drew. Each
recorded probability mask is also checked to hold only 0 and 1, with a
fraction of ones within five standard deviations (plus ``1 / n``) of the
requested probability; the operation check of
``generate_probability_mask`` tests its statistics on larger arrays. A
layer must therefore draw its random numbers through these two handler
operations (not from ``handler.rnd`` directly).

Tolerances
----------
Layer results are compared elementwise with
``|handler - reference| <= atol * scale + rtol * |reference|``, where
``scale`` is ``max(1, max |reference|)`` over the buffer and ``(rtol,
atol)`` is :func:`default_tolerances`
of the handler's dtype (float64: 1e-7, 1e-9; float32: 1e-4, 1e-5; float16:
1e-2, 1e-2): the reference computes in float64 from the same (rounded)
inputs, so these leave room for the handler's own rounding. Training
losses must satisfy ``|loss - reference| <= tol * max(1, |reference|)`` at
every step, and the parameters after the
last step ``|parameter - reference| <= tol * max(1, max |reference|)``,
with ``tol`` from :func:`training_tolerance` (float64: 1e-6, float32: 1e-3,
float16: 5e-2), which leaves room for rounding differences that a few
updates amplify (the float32 ``NumpyHandler``'s losses stay about 1e-7
from the float64 reference's).
"""
import contextlib
import dataclasses
import math
import zlib
from collections import OrderedDict

import numpy as np

from brainstorm.handlers.base_handler import OPERATIONS, Handler
from brainstorm.layers.base_layer import (layer_constructor_of,
                                          layer_type_of)
from brainstorm.plugins import MissingPluginError, PluginError, registry
from brainstorm.testing.gradient_check import _build_network
from brainstorm.testing.handler_conformance import (_run_operation_check,
                                                    default_tolerances)
from brainstorm.testing.reference_handler import ReferenceHandler

__all__ = ['OPERATIONS', 'LayerExample', 'ConformanceError',
           'check_operation', 'layer_examples', 'layers_without_examples',
           'check_layer_example', 'check_training', 'check_all',
           'training_tolerance', 'default_tolerances']

_SOURCE_LAYER = 'Input'


class ConformanceError(AssertionError):
    """A handler computes something other than the reference does."""


@dataclasses.dataclass
class LayerExample:
    """One layer configuration for :func:`check_layer_example`.

    Plugins publish these through the ``brainstorm_layer_examples`` hook.

    Parameters
    ----------
    layer : str, construction function or Layer subclass
        The layer (a name is looked up in the registry).
    kwargs : dict
        Arguments of the layer.
    in_shapes : dict[str, tuple]
        Input name -> feature shape (read as ``('T', 'B', ...)``) or a full
        template such as ``('B', 3)``.
    inputs : dict[str, numpy.ndarray], optional
        Values of some inputs (targets, masks, probabilities), full
        ``(T, B, ...)`` arrays; others are drawn from a standard normal.
    time_steps, batch_size : int
        T and B of the inputs.
    id : str, optional
        A readable name, unique among all examples (default: the layer
        type), e.g. ``'Convolution2D-stride2'``.
    context : bool
        Start the forward pass from a random context (for layers with
        recurrent state: ``forward_pass(context=...)``).
    parameters : dict[str, array_like], optional
        Values of some parameters (broadcast to their shape); the others
        are uniform in [-0.5, 0.5].
    plugin : str
        The plugin that published the example (set by
        :func:`layer_examples`).
    """

    layer: object
    kwargs: dict
    in_shapes: dict
    inputs: dict = dataclasses.field(default=None, repr=False)
    time_steps: int = 2
    batch_size: int = 3
    id: str = None
    context: bool = False
    parameters: dict = dataclasses.field(default=None, repr=False)
    plugin: str = dataclasses.field(default=None, compare=False)

    def __post_init__(self):
        if self.layer_type is None:
            raise TypeError('LayerExample needs a layer name, construction '
                            'function or Layer subclass, got {!r}'.format(
                                self.layer))
        if self.id is None:
            self.id = self.layer_type
        if not isinstance(self.id, str) or not self.id:
            raise TypeError('LayerExample: id must be a non-empty str, got '
                            '{!r}'.format(self.id))
        if not isinstance(self.kwargs, dict):
            raise TypeError('LayerExample {!r}: kwargs must be a dict, got '
                            '{!r}'.format(self.id, self.kwargs))
        if not isinstance(self.in_shapes, dict) or not self.in_shapes:
            raise TypeError('LayerExample {!r}: in_shapes must be a non-empty '
                            'dict, got {!r}'.format(self.id, self.in_shapes))
        for arg in ('time_steps', 'batch_size'):
            value = getattr(self, arg)
            if isinstance(value, bool) or not isinstance(
                    value, (int, np.integer)) or value < 1:
                raise ValueError('LayerExample {!r}: {} must be a positive '
                                 'int, got {!r}'.format(self.id, arg, value))

    @property
    def layer_type(self):
        """The layer type the example checks."""
        if isinstance(self.layer, str):
            return self.layer
        return layer_type_of(self.layer)


# -- handlers and comparisons ------------------------------------------------
def _make_handler(handler_factory):
    if isinstance(handler_factory, Handler):
        return handler_factory
    if not callable(handler_factory):
        raise TypeError('handler_factory must be a Handler or a function '
                        'returning one, got {!r}'.format(handler_factory))
    handler = handler_factory()
    if not isinstance(handler, Handler):
        raise TypeError('handler_factory {!r} returned {!r}, not a '
                        'Handler'.format(handler_factory, handler))
    return handler


def _reference_for(handler):
    return ReferenceHandler(seed=0)


def training_tolerance(dtype):
    """Relative tolerance of the training losses for a handler of this
    dtype (see the module docstring)."""
    size = np.dtype(dtype).itemsize
    if size >= 8:
        return 1e-6
    if size >= 4:
        return 1e-3
    return 5e-2


def _difference(got, expected, rtol, atol):
    """(max abs difference, index of the worst violation or None)."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    # NaN on either side (both sides included) is a difference
    error = np.nan_to_num(np.abs(got - expected), nan=np.inf)
    finite = expected[np.isfinite(expected)]
    scale = max(1.0, float(np.abs(finite).max()) if finite.size else 1.0)
    bad = ~(error <= atol * scale + rtol * np.abs(expected))  # NaN: bad
    largest = float(error.max()) if error.size else 0.0
    if not bad.any():
        return largest, None, scale
    index = np.unravel_index(int(np.argmax(np.where(bad, error, -1))),
                             error.shape)
    return largest, tuple(int(i) for i in index), scale


class _Comparison:
    """Compares buffers of the tested and the reference network and
    collects the differences."""

    def __init__(self, label, tested, reference, rtol, atol):
        self.label = label
        self.tested = tested
        self.reference = reference
        self.rtol = rtol
        self.atol = atol
        self.failures = []
        self.differences = OrderedDict()

    def buffer(self, path):
        view = self.tested.buffer[path]
        got = self.tested.handler.get_numpy_copy(view)
        expected = self.reference.handler.get_numpy_copy(
            self.reference.buffer[path])
        if not isinstance(got, np.ndarray) or got.shape != expected.shape:
            self.failures.append(
                '{}: get_numpy_copy returned {} of shape {} (expected shape '
                '{})'.format(path, type(got).__name__,
                             getattr(got, 'shape', None), expected.shape))
            return
        largest, index, scale = _difference(got, expected, self.rtol,
                                            self.atol)
        self.differences[path] = largest
        if index is not None:
            self.failures.append(
                '{}: largest difference {:.3g}; at index {}: handler {!r}, '
                'reference {!r} (allowed: {:g} * {:.3g} + {:g} * '
                '|reference|)'.format(
                    path, largest, index, float(got[index]),
                    float(expected[index]), self.atol, scale, self.rtol))

    def category(self, layer, category, names):
        for name in names:
            self.buffer('{}.{}.{}'.format(layer, category, name))

    def raise_failures(self, after):
        if self.failures:
            raise ConformanceError(
                '{}: {} buffer(s) differ from the {!r} reference after {}:'
                '\n  {}'.format(self.label, len(self.failures),
                                self.reference.handler, after,
                                '\n  '.join(self.failures)))


# -- randomness: record on the handler, replay on the reference -------------
def _check_mask(label, values, probability):
    if not np.all((values == 0) | (values == 1)):
        bad = values[(values != 0) & (values != 1)]
        raise ConformanceError(
            '{}: generate_probability_mask({:g}) gave values other than 0 '
            'and 1 (e.g. {!r})'.format(label, probability, float(bad[0])))
    n = values.size
    if n == 0:
        return
    fraction = float(values.mean())
    bound = 5 * math.sqrt(probability * (1 - probability) / n) + 1.0 / n
    if abs(fraction - probability) > bound:
        raise ConformanceError(
            '{}: generate_probability_mask({:g}) set a fraction of {:.3f} of '
            '{} values to 1 (allowed: {:g} +- {:.3f})'.format(
                label, probability, fraction, n, probability, bound))


@contextlib.contextmanager
def _patched(handler, replacements):
    own = vars(handler)
    saved = {name: own[name] for name in replacements if name in own}
    try:
        for name, function in replacements.items():
            setattr(handler, name, function)
    except AttributeError as err:
        raise TypeError('the conformance suite wraps the random operations '
                        'of {!r} as instance attributes, but it does not '
                        'allow them ({})'.format(handler, err)) from err
    try:
        yield
    finally:
        for name in replacements:
            if name in saved:
                own[name] = saved[name]
            else:
                own.pop(name, None)


def _recording(handler, draws, label):
    """Context in which ``handler``'s random operations append
    ``(op, arguments, values)`` to ``draws``."""
    original_mask = handler.generate_probability_mask
    original_gaussian = handler.fill_gaussian

    def generate_probability_mask(mask, probability):
        original_mask(mask, probability)
        values = handler.get_numpy_copy(mask)
        _check_mask(label, values, float(probability))
        draws.append(('generate_probability_mask', (float(probability),),
                      values))

    def fill_gaussian(mean, std, out):
        original_gaussian(mean, std, out)
        draws.append(('fill_gaussian', (float(mean), float(std)),
                      handler.get_numpy_copy(out)))

    return _patched(handler, {
        'generate_probability_mask': generate_probability_mask,
        'fill_gaussian': fill_gaussian})


@contextlib.contextmanager
def _replaying(reference, draws, label):
    """Context in which the reference's random operations return the
    recorded ``draws`` in order; all of them must be used."""

    def take(op, arguments, out):
        if not draws:
            raise ConformanceError(
                '{}: the reference called {}{} but the handler under test '
                'drew nothing more; layers must draw the same random values '
                'in the same order on every handler'.format(label, op,
                                                            arguments))
        drawn_op, drawn_arguments, values = draws.pop(0)
        if (drawn_op, drawn_arguments, values.shape) != \
                (op, arguments, tuple(out.shape)):
            raise ConformanceError(
                '{}: the reference called {}{} for shape {} where the handler '
                'under test called {}{} for shape {}'.format(
                    label, op, arguments, tuple(out.shape), drawn_op,
                    drawn_arguments, values.shape))
        reference.set_from_numpy(out, values.astype(reference.dtype))

    def generate_probability_mask(mask, probability):
        take('generate_probability_mask', (float(probability),), mask)

    def fill_gaussian(mean, std, out):
        take('fill_gaussian', (float(mean), float(std)), out)

    with _patched(reference, {
            'generate_probability_mask': generate_probability_mask,
            'fill_gaussian': fill_gaussian}):
        yield
    if draws:
        raise ConformanceError(
            '{}: the handler under test drew {} random array(s) that the '
            'reference did not ({}, ...)'.format(label, len(draws),
                                                 draws[0][0]))


# -- level 1: operations -----------------------------------------------------
def check_operation(handler_factory, op, rtol=None, atol=None, seed=42):
    """Check one handler operation against the float64 reference on
    random inputs: each check draws inputs (odd shapes; several strides,
    paddings and kernels for the image operations), runs the operation on
    the handler (``create_from_numpy`` / ``get_numpy_copy``) and on the
    reference, compares the outputs with :func:`default_tolerances`,
    checks that the inputs are unchanged and that results keep the
    handler's dtype; random operations are checked statistically.

    Parameters
    ----------
    handler_factory : callable or Handler
        Returns the handler to check.
    op : str
        One of :data:`OPERATIONS`.
    rtol, atol : float, optional
        Tolerances (default: those of the handler's dtype).
    seed : int
        Seed of the inputs.

    Raises
    ------
    AssertionError
        Naming the operation and the argument that differs.
    """
    _run_operation_check(_make_handler(handler_factory), op, rtol=rtol,
                         atol=atol, seed=seed)


# -- level 2: layers ---------------------------------------------------------
def layer_examples():
    """Every example layer configuration of the installed plugins.

    Returns
    -------
    list[LayerExample]
        In plugin order, each with ``plugin`` set.

    Raises
    ------
    PluginError
        If a plugin publishes something other than a LayerExample, or two
        examples share an id.
    """
    registry.load()
    caller = registry.plugin_manager.hook.brainstorm_layer_examples
    examples = []
    seen = {}
    for impl in caller.get_hookimpls():
        for example in impl.function() or []:
            if not isinstance(example, LayerExample):
                raise PluginError(
                    'plugin {!r}: brainstorm_layer_examples must return '
                    'LayerExample objects, got {!r}'.format(
                        impl.plugin_name, example))
            if example.id in seen:
                raise PluginError(
                    'two layer examples have the id {!r}: from {!r} and '
                    '{!r}'.format(example.id, seen[example.id],
                                  impl.plugin_name))
            seen[example.id] = impl.plugin_name
            example.plugin = impl.plugin_name
            examples.append(example)
    return examples


def layers_without_examples(plugin=None):
    """Registered layer types that no example checks.

    The ``Input`` layer is left out: it feeds every example network.

    Parameters
    ----------
    plugin : str, optional
        Only the layers this plugin (distribution) registers, e.g.
        ``'brainstorm-layers'``.

    Returns
    -------
    list[str]
        Sorted layer types.
    """
    covered = {example.layer_type for example in layer_examples()}
    return [name for name in registry.names('layers')
            if name != _SOURCE_LAYER and name not in covered and
            (plugin is None or registry.provider('layers', name) == plugin)]


def _example_data(example, net, rnd, dtype, label):
    expected = net.layers[_SOURCE_LAYER].out_shapes
    given = dict(example.inputs or {})
    unknown = sorted(set(given) - set(expected))
    if unknown:
        raise ValueError('{}: inputs given for unknown input(s) {} (the '
                         'layer has {})'.format(label, ', '.join(unknown),
                                                ', '.join(expected)))
    data = OrderedDict()
    for in_name, structure in expected.items():
        shape = structure.get_shape(example.time_steps, example.batch_size)
        if in_name in given:
            value = np.asarray(given[in_name])
            if value.shape != tuple(shape):
                raise ValueError(
                    '{}: input {!r} has shape {}, but time_steps={} and '
                    'batch_size={} need {}'.format(
                        label, in_name, value.shape, example.time_steps,
                        example.batch_size, tuple(shape)))
        else:
            value = rnd.randn(*shape)
        data[in_name] = value.astype(dtype)
    return data


def _example_parameters(example, impl, net, rnd, dtype, label):
    given = dict(example.parameters or {})
    unknown = sorted(set(given) - set(impl.parameter_shapes))
    if unknown:
        raise ValueError('{}: the layer has no parameter(s) {} (it has: '
                         '{})'.format(label, ', '.join(unknown),
                                      ', '.join(impl.parameter_shapes) or
                                      'none'))
    values = OrderedDict()
    for pname in impl.parameter_shapes:
        shape = tuple(net.buffer[impl.name].parameters[pname].shape)
        if pname in given:
            value = np.broadcast_to(np.asarray(given[pname], np.float64),
                                    shape)
        else:
            value = rnd.uniform(-0.5, 0.5, shape)
        values[pname] = np.ascontiguousarray(value, dtype=dtype)
    return values


def check_layer_example(handler_factory, example, rtol=None, atol=None,
                        seed=0):
    """Check one layer configuration on a handler against the reference.

    The network ``Input -> layer`` of ``example`` is built twice, on
    ``handler_factory()`` and on the float64
    :class:`~brainstorm.testing.reference_handler.ReferenceHandler`, with
    the same parameters, inputs and (with ``example.context``) a
    random context. After a training forward pass the outputs, the
    forward internals and the parameters (layers such as BatchNorm update
    some in training passes) are compared; then the output deltas are set
    to the same random values, the input deltas and gradients start from
    the same random values (layers add into them), the layer's backward
    pass runs, and the input deltas, gradients, output deltas (recurrent
    layers add into those of earlier steps and the context) and all
    internals are compared. Full buffers are compared, context steps
    included. Random draws of the handler are replayed on the reference
    (see the module docstring).

    Parameters
    ----------
    handler_factory : callable or Handler
        Returns the handler to check.
    example : LayerExample
        From :func:`layer_examples`, or made by hand.
    rtol, atol : float, optional
        Tolerances (default: those of the handler's dtype, see the module
        docstring).
    seed : int
        Seed of the inputs, parameters and deltas.

    Returns
    -------
    OrderedDict
        Buffer path -> largest absolute difference, for every buffer
        compared.

    Raises
    ------
    ConformanceError
        Naming the example, every buffer path that differs, its largest
        difference and where it is.
    """
    if not isinstance(example, LayerExample):
        raise TypeError('check_layer_example needs a LayerExample, got '
                        '{!r}'.format(example))
    handler = _make_handler(handler_factory)
    reference = _reference_for(handler)
    dtype = handler.dtype
    d_rtol, d_atol = default_tolerances(dtype)
    rtol = d_rtol if rtol is None else rtol
    atol = d_atol if atol is None else atol
    label = 'layer example {!r} ({}) on {!r}'.format(
        example.id, example.layer_type, handler)
    rnd = np.random.RandomState((seed + zlib.crc32(example.id.encode()))
                                % 2 ** 31)

    tested, name = _build_network(example.layer, example.kwargs,
                                  example.in_shapes, handler, seed)
    expected, _ = _build_network(example.layer, example.kwargs,
                                 example.in_shapes, reference, seed)
    impl, ref_impl = tested.layers[name], expected.layers[name]

    data = _example_data(example, tested, rnd, dtype, label)
    tested.provide_external_data(data)
    expected.provide_external_data(data)
    for pname, value in _example_parameters(example, impl, tested, rnd,
                                            dtype, label).items():
        handler.set_from_numpy(tested.buffer[name].parameters[pname], value)
        reference.set_from_numpy(expected.buffer[name].parameters[pname],
                                 value.copy())
    context = None
    if example.context:
        context = OrderedDict(
            (path, rnd.randn(*value.shape).astype(dtype))
            for path, value in expected.get_context().items())
        if not context:
            raise ValueError('{}: context=True, but the layer has no '
                             'buffers with a context'.format(label))

    # forward
    draws = []
    with _recording(handler, draws, label):
        tested.forward_pass(training_pass=True, context=context)
    with _replaying(reference, draws, label):
        expected.forward_pass(training_pass=True, context=context)
    comparison = _Comparison(label, tested, expected, rtol, atol)
    comparison.category(name, 'outputs', impl.out_shapes)
    comparison.category(name, 'internals', [
        n for n, s in impl.internal_shapes.items() if not s.is_backward_only])
    comparison.category(name, 'parameters', impl.parameter_shapes)
    comparison.raise_failures('the forward pass')

    # backward
    tested.buffer_manager.clear_backward_buffers()
    expected.buffer_manager.clear_backward_buffers()
    starts = []
    for out_name in impl.out_shapes:
        if out_name not in impl.takes_no_output_deltas_from:
            starts.append('{}.output_deltas.{}'.format(name, out_name))
    starts += ['{}.input_deltas.{}'.format(name, n) for n in impl.in_shapes]
    starts += ['{}.gradients.{}'.format(name, n)
               for n in impl.parameter_shapes]
    for path in starts:
        shape = tuple(tested.buffer[path].shape)
        value = rnd.randn(*shape).astype(dtype)
        handler.set_from_numpy(tested.buffer[path], value)
        reference.set_from_numpy(expected.buffer[path], value.copy())
    with _recording(handler, draws, label):
        impl.backward_pass(tested.buffer[name])
    with _replaying(reference, draws, label):
        ref_impl.backward_pass(expected.buffer[name])
    comparison.category(name, 'input_deltas', impl.in_shapes)
    comparison.category(name, 'gradients', impl.parameter_shapes)
    comparison.category(name, 'output_deltas', impl.out_shapes)
    comparison.category(name, 'internals', impl.internal_shapes)
    comparison.raise_failures('the backward pass')
    return comparison.differences


# -- level 3: training -------------------------------------------------------
_TRAINING_NEEDS = (
    ('layers', 'Dropout'), ('layers', 'FullyConnected'),
    ('layers', 'SoftmaxCE'), ('layers', 'Loss'),
    ('initializers', 'Gaussian'), ('value_modifiers', 'ConstrainL2Norm'),
    ('steppers', 'MomentumStepper'), ('datasets', 'load_digits'))


def _training_parts():
    """The registered objects check_training uses, by name."""
    parts, missing = {}, []
    for category, name in _TRAINING_NEEDS:
        try:
            parts[name] = registry.get(category, name)
        except MissingPluginError as err:
            missing.append(str(err))
    if missing:
        raise MissingPluginError(
            'check_training trains a small mnist_pi network on the digits '
            'embedded in brainstorm-data and needs brainstorm-layers and '
            'brainstorm-data (pip install brainstorm-layers '
            'brainstorm-data); missing:\n  ' + '\n  '.join(missing))
    return parts


def _training_network(parts, handler, in_shape, hidden):
    from brainstorm.layers.input_layer import Input
    from brainstorm.structure.network import Network
    dropout = layer_constructor_of(parts['Dropout'])
    fully_connected = layer_constructor_of(parts['FullyConnected'])
    softmax_ce = layer_constructor_of(parts['SoftmaxCE'])
    loss = layer_constructor_of(parts['Loss'])
    inp = Input(out_shapes={'default': ('T', 'B') + tuple(in_shape),
                            'targets': ('T', 'B', 1)})
    out = softmax_ce(name='Output')
    (inp >> dropout(drop_prob=0.2) >>
     fully_connected(hidden, name='Hid1', activation='rel') >>
     dropout(drop_prob=0.5) >>
     fully_connected(hidden, name='Hid2', activation='rel') >>
     dropout(drop_prob=0.5) >>
     fully_connected(10, name='FC', activation='linear') >> out)
    inp - 'targets' >> 'targets' - out
    out - 'loss' >> loss(name='Loss')
    net = Network.from_layer(out)
    net.set_handler(handler)
    net.set_weight_modifiers({'FC': parts['ConstrainL2Norm'](1)})
    return net


def check_training(handler_factory, steps=10, batch_size=20, hidden=64,
                   learning_rate=0.5, rtol=None, seed=1):
    """Train a small mnist_pi network on a handler and on the float64
    reference and compare the loss of every step.

    The network of ``examples/mnist_pi.py`` with ``hidden`` instead of 1200
    units per hidden layer (Dropout 0.2, two rectified FullyConnected
    layers each followed by Dropout 0.5, a linear projection to 10
    classes with ``ConstrainL2Norm(1)``, SoftmaxCE, Loss), initialised
    with ``Gaussian(0.2)`` (seeded; larger than the manual's 0.01 so that a
    few updates change the loss clearly), trained with
    ``MomentumStepper(learning_rate, momentum=0.9)`` on the first
    ``steps * batch_size`` training digits of brainstorm-data's
    ``load_digits()``, in order (the settings of the mnist_pi job on the
    embedded digits). Both networks start from the same parameters;
    dropout masks the handler draws are replayed on the reference. The
    loss of every step must agree within ``rtol * max(1, |reference|)``,
    and the parameters after the last step within ``rtol`` times the
    largest parameter.

    Parameters
    ----------
    handler_factory : callable or Handler
        Returns the handler to check.
    steps : int
        Number of updates.
    batch_size, hidden, learning_rate
        Size of the minibatches and of the hidden layers; step size.
    rtol : float, optional
        Relative tolerance of the losses (default:
        :func:`training_tolerance` of the handler's dtype).
    seed : int
        Seed of the initial parameters.

    Returns
    -------
    tuple[list[float], list[float]]
        The losses of the handler and of the reference, one per step.

    Raises
    ------
    MissingPluginError
        If brainstorm-layers or brainstorm-data is not installed.
    ConformanceError
        Listing the losses of every step and marking those that differ, or
        giving the largest parameter difference.
    """
    parts = _training_parts()
    handler = _make_handler(handler_factory)
    reference = _reference_for(handler)
    tol = training_tolerance(handler.dtype) if rtol is None else rtol
    label = 'check_training on {!r}'.format(handler)
    digits = parts['load_digits']()['training']
    needed = steps * batch_size
    available = digits['default'].shape[1]
    if needed > available:
        raise ValueError('check_training: steps * batch_size = {} but the '
                         'embedded digits have only {} training '
                         'samples'.format(needed, available))
    in_shape = digits['default'].shape[2:]

    tested = _training_network(parts, handler, in_shape, hidden)
    expected = _training_network(parts, reference, in_shape, hidden)
    tested.initialize(parts['Gaussian'](0.2), seed=seed)
    handler.rnd.set_seed(seed)    # the same dropout masks in every call
    expected.set_parameters(tested.get('parameters'))
    steppers = []
    for net in (tested, expected):
        stepper = parts['MomentumStepper'](learning_rate=learning_rate,
                                           momentum=0.9)
        stepper.start(net)
        steppers.append(stepper)

    losses, reference_losses = [], []
    draws = []
    for step in range(steps):
        batch = {name: digits[name][:, step * batch_size:
                                    (step + 1) * batch_size]
                 for name in ('default', 'targets')}
        step_label = '{}, step {}'.format(label, step)
        tested.provide_external_data(batch)
        with _recording(handler, draws, step_label):
            steppers[0].run()
        losses.append(tested.get_loss_values()['total_loss'])
        expected.provide_external_data(batch)
        with _replaying(reference, draws, step_label):
            steppers[1].run()
        reference_losses.append(expected.get_loss_values()['total_loss'])

    bad = [step for step, (got, want) in enumerate(zip(losses,
                                                       reference_losses))
           if not abs(got - want) <= tol * max(1.0, abs(want))]
    if not bad:
        largest, index, scale = _difference(
            tested.get('parameters'), expected.get('parameters'), 0.0, tol)
        if index is not None:
            raise ConformanceError(
                '{}: the losses agree, but after {} steps the parameters '
                'differ from the {!r} reference by up to {:.3g} (allowed: '
                '{:g} * {:.3g}, the largest parameter)'.format(
                    label, steps, reference, largest, tol, scale))
    if bad:
        rows = ['step {:2d}: handler {:.7g}, reference {:.7g}{}'.format(
            step, got, want, '   <- differs' if step in bad else '')
            for step, (got, want) in enumerate(zip(losses,
                                                   reference_losses))]
        raise ConformanceError(
            '{}: the training loss differs from the {!r} reference at step '
            '{} (first of {}; allowed: {:g} * max(1, |reference|)):\n  '
            '{}'.format(label, reference, bad[0], len(bad), tol,
                        '\n  '.join(rows)))
    return losses, reference_losses


# -- everything --------------------------------------------------------------
def check_all(handler_factory, steps=10):
    """Run every operation check, every layer example and the training
    check; raise one error listing all failures.

    Parameters
    ----------
    handler_factory : callable or Handler
        Returns the handler to check (called once per check).
    steps : int
        Number of training updates.

    Raises
    ------
    MissingPluginError
        If brainstorm-layers or brainstorm-data is not installed (checked
        first).
    ConformanceError
        Listing every failing operation, layer example and the training.
    """
    _training_parts()
    failures = []

    def run(what, check, *args, **kwargs):
        try:
            check(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 - collect all failures
            failures.append('{}: {}: {}'.format(what, type(err).__name__,
                                                err))

    for op in OPERATIONS:
        run('operation ' + op, check_operation, handler_factory, op)
    examples = layer_examples()
    for example in examples:
        run('layer example ' + example.id, check_layer_example,
            handler_factory, example)
    run('training', check_training, handler_factory, steps=steps)
    if failures:
        raise ConformanceError(
            '{} of {} conformance checks fail:\n{}'.format(
                len(failures), len(OPERATIONS) + len(examples) + 1,
                '\n'.join(failures)))
