"""The Network: layers, their memory, and everything users do with them."""
import copy
import json
import os
import re
import tempfile
from collections import OrderedDict

import numpy as np

from brainstorm.describable import get_description
from brainstorm.initializers import InitializationError, evaluate_initializer
from brainstorm.randomness import global_rnd
from brainstorm.structure.architecture import (
    generate_architecture, instantiate_layers_from_architecture)
from brainstorm.structure.buffer_structure import (BATCH_SIZED, TIME_SIZED,
                                                   ShapeError)
from brainstorm.structure.buffers import BufferManager, BufferView
from brainstorm.structure.construction import ConstructionWrapper
from brainstorm.value_modifiers import ValueModifier

__all__ = ['Network']

FILE_FORMAT = 'brainstorm-network'
FILE_FORMAT_VERSION = 1


class Network:
    """A directed acyclic graph of layers, their memory and their handler.

    Create networks with :meth:`from_layer`, :meth:`from_architecture` or
    :meth:`from_hdf5` rather than with this constructor.
    """

    def __init__(self, layers, buffer_manager, architecture, seed=None,
                 handler=None):
        from brainstorm.handlers import default_handler
        self.layers = layers
        self.buffer_manager = buffer_manager
        self.architecture = architecture
        self.handler = None
        self.rnd = global_rnd.create_random_state(seed)
        self.weight_modifiers = OrderedDict()
        self.gradient_modifiers = OrderedDict()
        self._loss_layers = [name for name, layer in layers.items()
                             if getattr(layer, 'is_loss_layer', False)]
        self._set_handler(handler or buffer_manager.handler or
                          default_handler)
        self.compute_all_deltas = False

    @property
    def compute_all_deltas(self):
        """Whether the backward pass computes every delta, down to the Input
        layer. By default (False) layers skip input deltas that nothing
        uses: those flowing to layers with no parameters upstream (such as
        the Input layer)."""
        return self._compute_all_deltas

    @compute_all_deltas.setter
    def compute_all_deltas(self, value):
        self._compute_all_deltas = bool(value)
        trainable = {}
        for name, layer in self.layers.items():
            sources = [src for src, _ in layer.incoming.values()]
            trainable[name] = bool(layer.parameter_shapes) or any(
                trainable[src] for src in sources)
            layer.input_deltas_needed = {
                in_name: self._compute_all_deltas or trainable[src]
                for in_name, (src, _) in layer.incoming.items()}

    # -- creation ----------------------------------------------------------------
    @classmethod
    def from_layer(cls, some_layer):
        """Create a network from any layer of a ``>>``-wired architecture.

        Parameters
        ----------
        some_layer : ConstructionWrapper
            Any layer of the wiring (usually the last one).
        """
        if not isinstance(some_layer, ConstructionWrapper):
            raise TypeError('from_layer needs a layer created with a layer '
                            'construction function, got {!r}'.format(
                                some_layer))
        return cls.from_architecture(generate_architecture(some_layer.layer))

    @classmethod
    def from_architecture(cls, architecture):
        """Create a network from an architecture dict (manual 9.3)."""
        from brainstorm.handlers import default_handler
        architecture = json.loads(json.dumps(architecture))
        layers = instantiate_layers_from_architecture(architecture)
        buffer_manager = BufferManager(layers, default_handler)
        return cls(layers, buffer_manager, architecture,
                   handler=default_handler)

    @classmethod
    def from_hdf5(cls, filename):
        """Load a network saved with :meth:`save_as_hdf5`."""
        import h5py
        with h5py.File(filename, 'r') as f:
            if f.attrs.get('format') != FILE_FORMAT:
                raise ValueError('{} is not a brainstorm network file'.format(
                    filename))
            description = json.loads(f.attrs['description'])
            parameters = f['parameters'][()]
        net = cls.from_architecture(description['architecture'])
        if parameters.size != net.buffer_manager.num_parameters:
            raise ValueError(
                '{}: the file holds {} parameters but its architecture has '
                '{}'.format(filename, parameters.size,
                            net.buffer_manager.num_parameters))
        net.set_parameters(parameters)
        return net

    def get_description(self):
        return {'@type': 'Network', 'architecture': self.architecture,
                'handler': get_description(self.handler)}

    def save_as_hdf5(self, filename, comment=''):
        """Save the description and parameters of this network to an HDF5
        file (written to a temporary file beside it and renamed into place,
        so an interrupted save never leaves a broken file).

        Parameters
        ----------
        filename : str
            The file to write; its directory must exist.
        comment : str
            Stored in the file as the attribute ``comment``.
        """
        def write(f):
            f.attrs['format'] = FILE_FORMAT
            f.attrs['format_version'] = FILE_FORMAT_VERSION
            f.attrs['description'] = json.dumps(self.get_description())
            f.attrs['comment'] = comment
            f.create_dataset('parameters', data=self.get('parameters'))
            for lname, layer in self.layers.items():
                for pname in layer.parameter_shapes:
                    path = '{}.parameters.{}'.format(lname, pname)
                    f.create_dataset('layers/{}/{}'.format(lname, pname),
                                     data=self.get(path))
        write_hdf5_atomically(filename, write)

    # -- handler -------------------------------------------------------------------
    def _set_handler(self, handler):
        handler.rnd.set_seed(self.rnd.generate_seed())
        if handler is not self.buffer_manager.handler:
            self.buffer_manager.set_handler(handler)
        elif self.buffer_manager.views is None:
            self.buffer_manager.resize(1, 1)
        self.handler = handler
        for layer in self.layers.values():
            layer.set_handler(handler)

    def set_handler(self, new_handler):
        """Move this network to ``new_handler`` (parameters are kept)."""
        self._set_handler(new_handler)

    # -- buffers -------------------------------------------------------------------
    @property
    def buffer(self):
        """Views of all buffers: ``net.buffer['Hid.parameters.W']``,
        ``net.buffer.Hid.outputs.default``, ``net.buffer['parameters']``."""
        return self.buffer_manager.views

    def _lookup(self, buffer_path):
        if not isinstance(buffer_path, str):
            raise KeyError(buffer_path)
        try:
            view = self.buffer[buffer_path]
        except KeyError:
            raise KeyError(self._bad_path_message(buffer_path)) from None
        return view

    def _bad_path_message(self, path):
        parts = path.split('.')
        if parts[0] not in self.buffer:
            return 'no buffer {!r}: no layer named {!r} (layers: {})'.format(
                path, parts[0], ', '.join(self.layers))
        if len(parts) > 1 and parts[1] not in self.buffer[parts[0]]:
            return 'no buffer {!r}: layers have {}'.format(
                path, ', '.join(self.buffer[parts[0]]))
        have = ', '.join(self.buffer['.'.join(parts[:2])]) \
            if len(parts) > 2 else ''
        return 'no buffer {!r} ({}.{} has: {})'.format(
            path, parts[0], parts[1] if len(parts) > 1 else '',
            have or 'nothing')

    def get(self, buffer_path):
        """A numpy copy of the buffer at ``buffer_path``.

        ``'parameters'``/``'gradients'`` give the flat vectors,
        ``'LAYER.CATEGORY.NAME'`` one buffer (time-sized buffers without
        their context steps), ``'LAYER.CATEGORY'`` a dict of them.

        Raises
        ------
        KeyError
            If no buffer has that path.
        """
        view = self._lookup(buffer_path)
        if isinstance(view, BufferView):
            return {name: self.get('{}.{}'.format(buffer_path, name))
                    for name in view.keys()}
        arr = self.handler.get_numpy_copy(view)
        T = self.buffer_manager.time_size
        parts = buffer_path.split('.')
        if len(parts) == 3 and parts[1] in ('outputs', 'internals',
                                            'output_deltas'):
            category = parts[1]
            key = (parts[0], category, parts[2])
            slot = self.buffer_manager.own.get(key)
            if slot is not None and slot.structure.context_size:
                arr = arr[:T]
        return arr

    def get_input(self, input_name):
        """A numpy copy of the data item ``input_name`` last provided."""
        return self.get('Input.outputs.' + input_name)

    @property
    def layout(self):
        """The memory layout tree (manual 9.4; see docs/ARCHITECTURE.md)."""
        return self.buffer_manager.layout

    @property
    def input_names(self):
        return list(self.layers['Input'].out_shapes)

    @property
    def default_output(self):
        """Path of the output scorers use by default: the one output named
        'predictions' (layer 'Output' first)."""
        candidates = ['{}.outputs.predictions'.format(n)
                      for n, l in self.layers.items()
                      if 'predictions' in l.out_shapes]
        if 'Output.outputs.predictions' in candidates:
            return 'Output.outputs.predictions'
        if len(candidates) == 1:
            return candidates[0]
        raise ValueError(
            'cannot choose a default output: {} layers have a '
            "'predictions' output; give the scorer an out_name".format(
                len(candidates)))

    def set_parameters(self, values):
        """Set the flat parameter vector from a numpy array."""
        values = np.asarray(values).reshape(-1)
        expected = self.buffer_manager.num_parameters
        if values.size != expected:
            raise ShapeError('the network has {} parameters, got {}'.format(
                expected, values.size))
        self.handler.set_from_numpy(self.buffer['parameters'],
                                    values.astype(self.handler.dtype))

    # -- running -------------------------------------------------------------------
    def provide_external_data(self, data, all_inputs=True):
        """Provide the named (T, B, ...) data items for the next passes.

        Parameters
        ----------
        data : dict[str, array]
            Copied into the outputs of the Input layer.
        all_inputs : bool
            If False, items of the Input layer may be missing.
        """
        input_layer = self.layers['Input']
        out_shapes = input_layer.out_shapes
        unknown = set(data) - set(out_shapes)
        if unknown:
            raise KeyError('the network has no input named {} (inputs: '
                           '{})'.format(', '.join(repr(u) for u in sorted(
                               unknown)), ', '.join(out_shapes)))
        if all_inputs:
            missing = [n for n in out_shapes if n not in data]
            if missing:
                raise KeyError('data for input {} missing (got: {})'.format(
                    ', '.join(repr(m) for m in missing), ', '.join(data)))
        time_size = batch_size = None
        for name, array in data.items():
            structure = out_shapes[name]
            shape = tuple(array.shape)
            nt = structure.buffer_type
            if shape[nt:] != structure.feature_shape or len(shape) < nt:
                raise ShapeError(
                    'input {!r}: expected shape {} but got {}'.format(
                        name, structure.shape, shape))
            if nt == TIME_SIZED:
                t, b = shape[0], shape[1]
            elif nt == BATCH_SIZED:
                t, b = time_size, shape[0]
            else:
                t, b = time_size, batch_size
            if (time_size is not None and t is not None and
                    t != time_size) or (batch_size is not None and
                                        b is not None and b != batch_size):
                raise ShapeError(
                    'input {!r} has T={}, B={} but other inputs have T={}, '
                    'B={}'.format(name, t, b, time_size, batch_size))
            time_size = t if t is not None else time_size
            batch_size = b if b is not None else batch_size
        if time_size is None:
            time_size = 1
        if batch_size is None:
            batch_size = self.buffer_manager.batch_size or 1
        self.buffer_manager.resize(time_size, batch_size)
        views = self.buffer.Input.outputs
        for name, array in data.items():
            target = views[name]
            if isinstance(array, self.handler.array_type) and \
                    not isinstance(array, np.ndarray):
                self.handler.copy_to(array, target)
            else:
                self.handler.set_from_numpy(
                    target, np.asarray(array, dtype=self.handler.dtype))

    def forward_pass(self, training_pass=False, context=None):
        """Run the forward pass on the data last provided.

        Parameters
        ----------
        training_pass : bool
            Whether this pass belongs to training (changes the behaviour of
            layers such as Dropout).
        context : dict, optional
            A state from :meth:`get_context`, used as the state at t = -1 to
            continue a batch of sequences; None starts from zeros.
        """
        self._apply_context(context)
        for name, layer in self.layers.items():
            if name != 'Input':
                layer.forward_pass(self.buffer[name], training_pass)

    def backward_pass(self):
        """Compute all deltas and gradients of the loss for the last forward
        pass, then apply the gradient modifiers."""
        self.buffer_manager.clear_backward_buffers()
        for name, layer in reversed(self.layers.items()):
            if name != 'Input':
                layer.backward_pass(self.buffer[name])
        self.apply_gradient_modifiers()

    def get_context(self):
        """The state at the last time step of every recurrent buffer, to be
        passed as ``context`` to :meth:`forward_pass`."""
        T = self.buffer_manager.time_size
        context = OrderedDict()
        for path, (view, size) in \
                self.buffer_manager.context_buffers().items():
            context[path] = self.handler.get_numpy_copy(view[T - size:T])
        return context

    def _apply_context(self, context):
        buffers = self.buffer_manager.context_buffers()
        T = self.buffer_manager.time_size
        if context is not None:
            unknown = set(context) - set(buffers)
            if unknown:
                raise KeyError('context has entries for unknown buffers: '
                               '{}'.format(', '.join(sorted(unknown))))
        for path, (view, size) in buffers.items():
            target = view[T:T + size]
            if context is None or path not in context:
                self.handler.fill(target, 0.0)
                continue
            value = np.asarray(context[path])
            if value.shape != tuple(target.shape):
                raise ShapeError('context {!r} has shape {} but the network '
                                 'needs {}'.format(path, value.shape,
                                                   tuple(target.shape)))
            self.handler.set_from_numpy(target,
                                        value.astype(self.handler.dtype))

    def get_loss_values(self):
        """The losses of the last forward pass: 'total_loss', and the loss of
        each Loss layer by name when there are several."""
        losses = OrderedDict()
        total = 0.0
        for name in self._loss_layers:
            value = float(np.sum(self.handler.get_numpy_copy(
                self.buffer[name].outputs.loss)))
            losses[name] = value
            total += value
        result = OrderedDict([('total_loss', total)])
        if len(self._loss_layers) > 1:
            result.update(losses)
        return result

    # -- initialisation and modifiers ------------------------------------------------
    def initialize(self, default_or_init_dict=None, seed=None, **kwargs):
        """Initialize the parameters (manual 8.1).

        Patterns map layer names (``*`` is a wildcard, anywhere, any number
        of times) to an initializer or to a dict mapping parameter-name
        patterns to initializers. 'default' matches what no other pattern
        matches and 'fallback' is used where the initializer raised
        InitializationError. Initializers are Initializer objects, scalars,
        or anything that converts to an array of the parameter's shape.
        Keyword arguments take precedence over entries of the dict.

        Raises
        ------
        ValueError
            If a parameter matches no initializer or several, or a pattern
            matches no parameter.
        """
        init_dict = _merge_spec(default_or_init_dict, kwargs, 'initialize')
        rnd = self.rnd.create_random_state(seed)
        for lname, pname, value, fallback in self._resolve_patterns(
                init_dict, 'initialize', use_fallback=True):
            view = self.buffer[lname].parameters[pname]
            shape = tuple(view.shape)
            path = '{}.parameters.{}'.format(lname, pname)
            try:
                array = evaluate_initializer(value, shape, rnd)
            except InitializationError as err:
                if fallback is None:
                    raise InitializationError(
                        '{}: {} and no fallback initializer is set'.format(
                            path, err)) from None
                try:
                    array = evaluate_initializer(fallback, shape, rnd)
                except InitializationError as err2:
                    raise InitializationError('{}: the fallback failed too: '
                                              '{}'.format(path, err2)) from None
            self.handler.set_from_numpy(
                view, np.ascontiguousarray(array, dtype=self.handler.dtype))

    def _parameter_names(self):
        return [(lname, pname) for lname, layer in self.layers.items()
                for pname in layer.parameter_shapes]

    def _resolve_patterns(self, spec, what, use_fallback):
        """Yield (layer, parameter, value, fallback) for every parameter."""
        special = ('default', 'fallback') if use_fallback else ('default',)
        layer_patterns = [p for p in spec if p not in special]
        for key in spec:
            if key == 'fallback' and not use_fallback:
                raise ValueError('{}: there is no fallback for value '
                                 'modifiers'.format(what))
        used = set()
        for lname, pname in self._parameter_names():
            path = '{}.parameters.{}'.format(lname, pname)
            values, fallbacks = [], []
            for pattern in layer_patterns:
                if not _matches(pattern, lname):
                    continue
                entry = spec[pattern]
                if isinstance(entry, dict):
                    sub = [p for p in entry if p not in special]
                    hits = [p for p in sub if _matches(p, pname)]
                    if len(hits) > 1:
                        raise ValueError(
                            '{}: {} matches several patterns of {!r}: '
                            '{}'.format(what, path, pattern, hits))
                    if hits:
                        values.append(('{}: {}'.format(pattern, hits[0]),
                                       entry[hits[0]]))
                    elif 'default' in entry:
                        values.append(('{}: default'.format(pattern),
                                       entry['default']))
                    if use_fallback and 'fallback' in entry:
                        fallbacks.append(entry['fallback'])
                    if hits or 'default' in entry or 'fallback' in entry:
                        used.add(pattern)
                else:
                    values.append((pattern, entry))
                    used.add(pattern)
            if len(values) > 1:
                raise ValueError('{}: {} matches several patterns: {}'.format(
                    what, path, ', '.join(repr(p) for p, _ in values)))
            if values:
                value = values[0][1]
            elif 'default' in spec:
                value = spec['default']
            elif what == 'initialize':
                raise ValueError(
                    'initialize: no initializer for {} (no pattern matches '
                    "it and no 'default' is given)".format(path))
            else:
                continue
            if len(fallbacks) > 1:
                raise ValueError('{}: {} has several fallbacks'.format(
                    what, path))
            fallback = fallbacks[0] if fallbacks else spec.get('fallback')
            yield lname, pname, value, fallback
        unused = [p for p in layer_patterns if p not in used]
        if unused:
            raise ValueError(
                '{}: pattern(s) {} match no parameter (parameters: '
                '{})'.format(what, ', '.join(repr(u) for u in unused),
                             ', '.join('{}.{}'.format(l, p) for l, p in
                                       self._parameter_names())))

    def _set_modifiers(self, store, what, default_or_mod_dict, kwargs):
        spec = _merge_spec(default_or_mod_dict, kwargs, what)
        store.clear()
        for lname, pname, value, _ in self._resolve_patterns(
                spec, what, use_fallback=False):
            mods = value if isinstance(value, (list, tuple)) else [value]
            installed = []
            for mod in mods:
                if not isinstance(mod, ValueModifier):
                    raise TypeError('{}: {}.{} got {!r}, which is not a '
                                    'ValueModifier'.format(what, lname, pname,
                                                           mod))
                mod = copy.copy(mod)
                mod.layer_name, mod.view_name = lname, pname
                installed.append(mod)
            if installed:
                store.setdefault(lname, OrderedDict())[pname] = installed

    def set_weight_modifiers(self, default_or_mod_dict=None, **kwargs):
        """Install ValueModifiers applied to parameters after every update
        (patterns as in :meth:`initialize`, without fallback; a list of
        modifiers is applied in order)."""
        self._set_modifiers(self.weight_modifiers, 'set_weight_modifiers',
                            default_or_mod_dict, kwargs)

    def set_gradient_modifiers(self, default_or_mod_dict=None, **kwargs):
        """Install ValueModifiers applied to gradients after every backward
        pass (patterns as in :meth:`initialize`, without fallback).

        A modifier whose ``needs_parameters`` attribute is True (weight
        decays) is called as ``mod(handler, gradients, parameters)``, with
        the parameter the gradient belongs to."""
        self._set_modifiers(self.gradient_modifiers,
                            'set_gradient_modifiers', default_or_mod_dict,
                            kwargs)

    def apply_weight_modifiers(self):
        for lname, mods in self.weight_modifiers.items():
            for pname, modifiers in mods.items():
                for mod in modifiers:
                    mod(self.handler, self.buffer[lname].parameters[pname])

    def apply_gradient_modifiers(self):
        for lname, mods in self.gradient_modifiers.items():
            for pname, modifiers in mods.items():
                gradients = self.buffer[lname].gradients[pname]
                for mod in modifiers:
                    if getattr(mod, 'needs_parameters', False):
                        mod(self.handler, gradients,
                            self.buffer[lname].parameters[pname])
                    else:
                        mod(self.handler, gradients)

    def __repr__(self):
        return '<Network: {} layers, {} parameters>'.format(
            len(self.layers), self.buffer_manager.num_parameters)


def _merge_spec(default_or_dict, kwargs, what):
    if isinstance(default_or_dict, dict):
        spec = dict(default_or_dict)
    elif default_or_dict is None:
        spec = {}
    else:
        spec = {'default': default_or_dict}
    spec.update(kwargs)
    if not spec:
        raise ValueError('{}: nothing given'.format(what))
    return spec


_pattern_cache = {}


def _matches(pattern, name):
    regex = _pattern_cache.get(pattern)
    if regex is None:
        regex = re.compile('^' + '.*'.join(re.escape(p) for p in
                                           pattern.split('*')) + '$')
        _pattern_cache[pattern] = regex
    return regex.match(name) is not None


def write_hdf5_atomically(filename, write):
    """Call ``write(h5py_file)`` on a temporary file beside ``filename`` and
    rename it into place: an interrupted write leaves the old file intact."""
    filename = os.fspath(filename)
    directory = os.path.dirname(os.path.abspath(filename))
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(filename) + '.',
                               suffix='.tmp', dir=directory)
    os.close(fd)
    import h5py
    try:
        with h5py.File(tmp, 'w') as f:
            write(f)
        os.replace(tmp, filename)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
