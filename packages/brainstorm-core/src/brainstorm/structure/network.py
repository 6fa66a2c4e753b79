"""The Network: layers, their memory, and everything users do with them."""
import copy
import json
import re
from collections import OrderedDict

import numpy as np

from brainstorm.data_iterators import check_finite, shape_template
from brainstorm.describable import get_description
from brainstorm.fileio import (FileFormatError, check_format, read_dataset,
                              read_hdf5, read_json_attribute,
                              write_hdf5_atomically)
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

    # the inputs the last provide_external_data got (None: none yet), and
    # {buffer path: missing inputs it needs} for the outputs and internals
    # the last forward pass did not compute
    _provided_inputs = None
    _not_computed = {}

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
        self._unreadable_deltas = {}
        self.compute_all_deltas = True
        #: None, or a callable ``reducer(net)`` that :meth:`backward_pass`
        #: calls once the layers have computed the gradients, before the
        #: gradient modifiers: data-parallel training averages the
        #: gradients over its processes there (see brainstorm.distributed)
        self.gradient_reducer = None
        _check_deltas_reach_parameters(layers)

    @property
    def compute_all_deltas(self):
        """Whether every backward pass computes every delta, down to the
        Input layer (default True).

        Set it to False to let layers skip the input deltas that no
        parameter's gradient depends on (those flowing into layers without
        parameters upstream, such as the Input layer); ``Trainer.train``
        does so by itself for the deltas no hook reads (see
        :meth:`Hook.deltas_read <brainstorm.hooks.Hook.deltas_read>`). A
        skipped delta buffer is filled with NaN by the backward pass, and
        :meth:`get` refuses to read it, so that it can never pass for a
        computed value.
        """
        return self._compute_all_deltas

    @compute_all_deltas.setter
    def compute_all_deltas(self, value):
        self._compute_all_deltas = bool(value)
        self._configure_deltas(skip=not self._compute_all_deltas)

    def _configure_deltas(self, skip, keep=()):
        """Decide which input deltas layers compute.

        With ``skip``, inputs whose source has no parameters upstream get
        no deltas, except for the source outputs in ``keep`` (a set of
        ``(layer, output)`` pairs) and everything downstream of them. Sets
        ``layer.input_deltas_needed`` and records the output-delta buffers
        that no layer computes (``self._uncomputed_deltas``: path -> why),
        which :meth:`backward_pass` fills with NaN.
        """
        keep = set(keep)
        trainable, wanted = {}, {}
        for name, layer in self.layers.items():
            trainable[name] = bool(layer.parameter_shapes) or any(
                trainable[src] for src, _ in layer.incoming.values())
        # complete deltas of a kept output need complete deltas of every
        # layer downstream of it (like parameters, this flows forward)
        for name, layer in self.layers.items():
            wanted[name] = any((name, out) in keep
                               for out in layer.out_shapes) or any(
                wanted[src] for src, _ in layer.incoming.values())
        skipped = set()
        for name, layer in self.layers.items():
            needed = {}
            for in_name, (src, out) in layer.incoming.items():
                needed[in_name] = not skip or trainable[src] or wanted[src]
                if not needed[in_name]:
                    skipped.add((src, out))
            layer.input_deltas_needed = needed
        uncomputed = OrderedDict()
        for name, layer in self.layers.items():
            for in_name, (src, out) in layer.incoming.items():
                path = '{}.output_deltas.{}'.format(src, out)
                if (src, out) in skipped and not trainable[src]:
                    uncomputed[path] = (
                        'it was skipped, since no parameter depends on it '
                        '(net.compute_all_deltas was False, or '
                        'Trainer.train skipped it because no hook declares '
                        'it in deltas_read()); set net.compute_all_deltas = '
                        'True and run the backward pass again')
                elif in_name in layer.computes_no_input_deltas_for and \
                        not trainable[src]:
                    uncomputed.setdefault(path, (
                        '{} layer {!r} computes no deltas for its input '
                        '{!r}'.format(layer.get_layer_type(), name, in_name)))
        self._uncomputed_deltas = uncomputed

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
        """Load a network saved with :meth:`save_as_hdf5` (or a checkpoint,
        which is also a network file).

        Raises
        ------
        FileNotFoundError, PermissionError
            If the file cannot be opened.
        brainstorm.FileFormatError
            If the file is not a brainstorm network file (the message says
            what it is instead), is damaged, or holds an architecture that
            cannot be built; the message names the file.
        brainstorm.MissingPluginError
            If the architecture names a layer no installed plugin provides.
        """
        what = 'brainstorm network file'
        with read_hdf5(filename, what) as f:
            filename = f.filename
            check_format(f, filename, FILE_FORMAT, FILE_FORMAT_VERSION, what)
            description = read_json_attribute(f, 'description', filename,
                                              what)
            parameters = read_dataset(f, 'parameters', filename, what)
        if not isinstance(description, dict) or \
                not isinstance(description.get('architecture'), dict):
            raise FileFormatError('{} is a damaged {}: its description holds '
                                  'no architecture'.format(filename, what),
                                  filename)
        from brainstorm.plugins import MissingPluginError
        try:
            net = cls.from_architecture(description['architecture'])
        except MissingPluginError as err:
            raise MissingPluginError('{} needs a class that is not '
                                     'installed: {}'.format(filename, err),
                                     name=err.name) from err
        except (ValueError, TypeError, KeyError) as err:
            raise FileFormatError('{} holds an architecture that cannot be '
                                  'built: {}'.format(filename, err),
                                  filename) from err
        if parameters.size != net.buffer_manager.num_parameters:
            raise FileFormatError(
                '{}: the file holds {} parameters but its architecture has '
                '{}'.format(filename, parameters.size,
                            net.buffer_manager.num_parameters), filename)
        net.set_parameters(parameters)
        return net

    def get_description(self):
        return {'@type': 'Network', 'architecture': self.architecture,
                'handler': get_description(self.handler)}

    def save_as_hdf5(self, filename, comment=''):
        """Save the description and parameters of this network to an HDF5
        file (written to a temporary file beside it and renamed into place,
        so an interrupted or failed save never leaves a broken file; see
        :mod:`brainstorm.fileio`).

        Parameters
        ----------
        filename : str
            The file to write; its directory must exist.
        comment : str
            Stored in the file as the attribute ``comment``.

        Raises
        ------
        brainstorm.SaveError
            If the file cannot be written (disk full, no permission ...):
            the message names the file and the reason, and an existing file
            is unchanged.
        """
        write_hdf5_atomically(filename,
                              lambda f: self._write_hdf5(f, comment))

    def _write_hdf5(self, f, comment):
        """Write what :meth:`save_as_hdf5` saves into the open h5py file
        ``f``."""
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
        self._check_deltas_readable(buffer_path)
        self._check_forward_readable(buffer_path)
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

    def _delta_source(self, buffer_path):
        """'SRC.output_deltas.OUT' for a delta path (input deltas are the
        output deltas of the layer that feeds the input), else None."""
        parts = buffer_path.split('.')
        if len(parts) != 3 or parts[1] not in ('input_deltas',
                                               'output_deltas'):
            return None
        if parts[1] == 'input_deltas':
            src, out = self.layers[parts[0]].incoming[parts[2]]
            return '{}.output_deltas.{}'.format(src, out)
        return buffer_path

    def deltas_computed(self, buffer_path):
        """Whether backward passes compute the delta buffer at
        ``buffer_path`` (``'LAYER.input_deltas.NAME'`` or
        ``'LAYER.output_deltas.NAME'``) as things are set now (see
        :attr:`compute_all_deltas`)."""
        self._lookup(buffer_path)
        return self._delta_source(buffer_path) not in self._uncomputed_deltas

    def _check_deltas_readable(self, buffer_path):
        why = self._unreadable_deltas.get(self._delta_source(buffer_path))
        if why is not None:
            raise ValueError('{} was not computed by the last backward pass '
                             '(the buffer holds NaN): {}'.format(buffer_path,
                                                                 why))

    def _skip_deltas_except(self, buffer_paths):
        """Skip (as with ``compute_all_deltas = False``) every delta that
        no parameter depends on, except those at ``buffer_paths`` (delta
        paths, or 'LAYER.input_deltas' / 'LAYER.output_deltas' for all of a
        layer's). ``compute_all_deltas = ...`` undoes it."""
        keep = set()
        for path in buffer_paths:
            view = self._lookup(path)
            names = list(view.keys()) if isinstance(view, BufferView) \
                else [path.split('.')[2]]
            layer_name, category = path.split('.')[:2]
            if category not in ('input_deltas', 'output_deltas'):
                raise ValueError('{!r} is not a delta buffer'.format(path))
            for name in names:
                source = self._delta_source('.'.join((layer_name, category,
                                                      name)))
                src, _, out = source.split('.')
                keep.add((src, out))
        self._configure_deltas(skip=True, keep=keep)

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

        Raises
        ------
        ShapeError
            If an item is not shaped (T, B, ...) with the feature shape of
            its input, holds no sequences or time steps, or the items
            disagree on T or B.
        ValueError
            If an item holds NaN or inf, or a value a layer reading it
            refuses (a class index out of range ...; see
            ``Layer.check_input_data``). Numpy arrays are checked (one
            pass each); arrays already on the handler's device are not.
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
                    "data item {!r} has shape {}, but the network's input "
                    '{!r} takes {}{}'.format(
                        name, shape, name, shape_template(structure.shape),
                        '; data is shaped (T, B, ...), use (1, B, ...) for '
                        'non-sequential data' if len(shape) !=
                        len(structure.shape) else ''))
            if 0 in shape[:nt]:
                raise ShapeError(
                    'data item {!r} has shape {}: it holds no {}'.format(
                        name, shape, 'sequences (B = 0)' if shape[nt - 1] == 0
                        else 'time steps (T = 0)'))
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
        self.check_external_data(data)
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
        self._provided_inputs = frozenset(data)

    def check_external_data(self, data):
        """Check the values of data items as :meth:`provide_external_data`
        does, without providing them: each layer that reads an item
        directly checks it (``Layer.check_input_data``: class indices in
        range ...), then it is checked for NaN and inf. ``data`` maps input
        names to numpy arrays (batches or whole data sets; items may be
        left out); arrays already on the handler's device are skipped.

        Raises
        ------
        ValueError
            Naming the item, the offending value and its index.
        """
        checks = getattr(self, '_input_checks', None)
        if checks is None:
            from brainstorm.layers.base_layer import Layer
            checks = self._input_checks = {}
            for layer in self.layers.values():
                if type(layer).check_input_data is Layer.check_input_data:
                    continue
                for in_name, (source, item) in layer.incoming.items():
                    if source == 'Input':
                        checks.setdefault(item, []).append((layer, in_name))
        for name, array in data.items():
            if not isinstance(array, np.ndarray):
                if isinstance(array, self.handler.array_type):
                    continue   # already on the device
                array = np.asarray(array)
            for layer, in_name in checks.get(name, ()):
                layer.check_input_data(in_name, name, array)
            check_finite(name, array)

    def forward_pass(self, training_pass=False, context=None):
        """Run the forward pass on the data last provided.

        Inputs that the last :meth:`provide_external_data` left out
        (``all_inputs=False``, such as the targets when only predictions are
        wanted) are never read as data of an earlier call: a layer that
        needs such an input is skipped, unless the layer declares outputs
        that do not depend on it (``Layer.outputs_independent_of``, e.g.
        the predictions of a loss layer), which it computes (reading zeros
        in place of the missing data). Every output that was not computed,
        and the missing inputs, hold NaN afterwards, and :meth:`get` (for
        them and the internals of those layers) and :meth:`get_loss_values`
        raise a ``ValueError`` naming the missing input.

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
        missing = self._missing_inputs()
        if missing:
            self._not_computed = self._forward_without(missing,
                                                       training_pass)
            return
        for name, layer in self.layers.items():
            if name != 'Input':
                layer.forward_pass(self.buffer[name], training_pass)
        self._not_computed = {}

    def _forward_without(self, missing, training_pass):
        """The forward pass without the Input items ``missing``; returns
        {buffer path: the missing inputs it needed} for the outputs and
        internals it did not compute (filled with NaN)."""
        absent = OrderedDict()
        for item in missing:
            absent['Input.outputs.' + item] = [item]
            self.handler.fill(self.buffer.Input.outputs[item], 0.0)
        for name, layer in self.layers.items():
            if name == 'Input':
                continue
            lacking = {}
            for in_name, (src, out) in layer.incoming.items():
                needs = absent.get('{}.outputs.{}'.format(src, out))
                if needs is not None:
                    lacking[in_name] = needs
            buffers = self.buffer[name]
            if not lacking:
                layer.forward_pass(buffers, training_pass)
                continue
            needs = sorted({i for items in lacking.values() for i in items})
            kept = set(layer.out_shapes)
            for in_name in lacking:
                kept &= set(layer.outputs_independent_of.get(in_name, ()))
            if kept:
                for in_name in lacking:   # zeros, not NaN or old data
                    self.handler.fill(buffers.inputs[in_name], 0.0)
                layer.forward_pass(buffers, training_pass)
            for out in layer.out_shapes:
                if out not in kept:
                    absent['{}.outputs.{}'.format(name, out)] = needs
            for internal in layer.internal_shapes:
                absent['{}.internals.{}'.format(name, internal)] = needs
        for path in absent:
            if '.outputs.' in path:
                self.handler.fill(self.buffer[path], np.nan)
        return absent

    def _missing_inputs(self):
        """Names of the Input items that the last provide_external_data
        left out, in the Input layer's order."""
        if self._provided_inputs is None:
            return []
        return [name for name in self.layers['Input'].out_shapes
                if name not in self._provided_inputs]

    def _not_provided(self, inputs, which=', which'):
        """"the input 'x', which was not in the data ..." for messages."""
        got = ', '.join(repr(n) for n in sorted(self._provided_inputs))
        return 'the input{} {}{} {} not in the data given to ' \
               'provide_external_data (it got {})'.format(
                   '' if len(inputs) == 1 else 's',
                   ', '.join(repr(i) for i in inputs), which,
                   'was' if len(inputs) == 1 else 'were', got or 'nothing')

    def _check_forward_readable(self, buffer_path):
        """Refuse to read what the last data or forward pass did not set."""
        parts = buffer_path.split('.')
        if len(parts) != 3 or parts[1] not in ('outputs', 'internals'):
            return
        if parts[0] == 'Input':
            if parts[2] in self._missing_inputs():
                raise ValueError('{} holds no data: {}'.format(
                    buffer_path, self._not_provided([parts[2]], which='')))
        elif buffer_path in self._not_computed:
            raise ValueError(
                '{} was not computed by the last forward pass: it needs '
                '{}'.format(buffer_path, self._not_provided(
                    self._not_computed[buffer_path])))

    def backward_pass(self):
        """Compute all deltas and gradients of the loss for the last forward
        pass, then let :attr:`gradient_reducer` (if set) combine the
        gradients, then apply the gradient modifiers.

        Every delta buffer holds its true value afterwards, except where
        :attr:`compute_all_deltas` is False (or ``Trainer.train`` skipped
        deltas no hook reads) and for inputs whose layer computes no deltas
        (the targets of loss layers, the mask of Mask): those buffers hold
        NaN and :meth:`get` raises an error naming why.

        Raises
        ------
        ValueError
            If the last forward pass ran without some inputs (see
            :meth:`forward_pass`): there is no loss to differentiate."""
        if self._not_computed:
            inputs = sorted({i for items in self._not_computed.values()
                             for i in items})
            raise ValueError(
                'backward_pass: the last forward pass lacked {}; provide '
                'all inputs (with the targets) for a backward '
                'pass'.format(self._not_provided(inputs)))
        self.buffer_manager.clear_backward_buffers()
        for path in self._uncomputed_deltas:
            self.handler.fill(self.buffer[path], np.nan)
        self._unreadable_deltas = self._uncomputed_deltas
        for name, layer in reversed(self.layers.items()):
            if name != 'Input':
                layer.backward_pass(self.buffer[name])
        if self.gradient_reducer is not None:
            self.gradient_reducer(self)
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
        skipped = [n for n in self._loss_layers
                   if n + '.outputs.loss' in self._not_computed]
        if skipped:
            inputs = sorted({i for n in skipped
                             for i in self._not_computed[n + '.outputs.loss']})
            raise ValueError(
                'get_loss_values: the last forward pass computed no loss '
                'for {} {}: it needs {}; provide all inputs (with the '
                'targets) to compute losses'.format(
                    'layer' if len(skipped) == 1 else 'layers',
                    ', '.join(repr(n) for n in skipped),
                    self._not_provided(inputs)))
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


def _check_deltas_reach_parameters(layers):
    """Refuse wiring where a loss depends on an output whose deltas its
    layer ignores (``takes_no_output_deltas_from``, such as the predictions
    of SoftmaxCE): the gradient of that loss would silently miss every
    parameter before that layer."""
    consumers = {name: [] for name in layers}
    for name, layer in layers.items():
        for in_name, (src, out) in layer.incoming.items():
            if in_name not in layer.computes_no_input_deltas_for:
                consumers[src].append((name, out))
    reaches_loss = {}
    for name, layer in reversed(layers.items()):
        reaches_loss[name] = getattr(layer, 'is_loss_layer', False) or any(
            reaches_loss[dst] for dst, _ in consumers[name])
    for name, layer in layers.items():
        for out in layer.takes_no_output_deltas_from:
            for dst, src_out in consumers[name]:
                if src_out == out and reaches_loss[dst]:
                    raise ValueError(
                        "{} layer {!r} passes no deltas back from its output "
                        "{!r}, but that output feeds {!r}, which a loss "
                        "depends on: the gradient of that loss would miss "
                        "everything before {!r}. Compute that loss from "
                        "another layer's output instead".format(
                            layer.get_layer_type(), name, out, dst, name))


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
