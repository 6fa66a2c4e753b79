"""The Layer protocol: what every layer, built-in or third-party, implements.

A layer is two things in one file:

* a *construction function* (``FullyConnected(size, activation='rel',
  name=None)``) that validates its arguments and returns the wiring object
  used with ``>>``; it is made by decorating a function with
  :func:`construction_function`;
* an *implementation class* deriving from :class:`Layer` that declares its
  inputs, computes the shapes of its outputs, parameters and internals in
  :meth:`Layer.setup`, and runs :meth:`Layer.forward_pass` /
  :meth:`Layer.backward_pass` through its handler.

Layers own no memory: buffers are views handed in by the network.
"""
import functools
import inspect
from collections import OrderedDict

from brainstorm.describable import Describable
from brainstorm.structure.buffer_structure import (BufferStructure,
                                                   ShapeError,
                                                   StructureTemplate)

__all__ = ['Layer', 'LayerValidationError', 'construction_function',
           'BufferStructure', 'StructureTemplate']


class LayerValidationError(ValueError):
    """A layer got arguments or input shapes it cannot work with."""


class Layer(Describable):
    """Base class of layer implementations.

    Class attributes a layer sets:

    ``expected_inputs``
        dict input name -> :class:`StructureTemplate` (default: one time-sized
        input named 'default').
    ``expected_kwargs``
        set of the keyword arguments the layer accepts (besides ``name``).
    ``computes_no_input_deltas_for``
        input names whose deltas the layer never computes (e.g. targets).
    ``takes_no_output_deltas_from``
        output names whose deltas the layer ignores (e.g. predictions of a
        loss layer).
    ``outputs_independent_of``
        dict input name -> names of the outputs the forward pass computes
        correctly without that input (e.g. ``{'targets': ('predictions',)}``
        for a loss layer); when inputs are missing from the data, the
        network still runs the layer for those outputs (see
        ``Network.forward_pass``), and skips it otherwise.
    ``layer_type``
        the registered name (default: the class name without ``LayerImpl``).
    """

    expected_inputs = {'default': StructureTemplate('T', 'B', '...')}
    expected_kwargs = set()
    computes_no_input_deltas_for = ()
    takes_no_output_deltas_from = ()
    outputs_independent_of = {}

    def __init__(self, name, in_shapes, incoming_connections,
                 outgoing_connections, **kwargs):
        self.name = name
        self.in_shapes = in_shapes
        self.incoming = incoming_connections
        self.outgoing = outgoing_connections
        self.kwargs = kwargs
        self.handler = None
        # Set by the network: False for inputs whose deltas nothing uses
        # (no parameters upstream), so the layer may skip computing them.
        self.input_deltas_needed = {name: True for name in in_shapes}
        self._validate_kwargs(kwargs)
        self._validate_in_shapes(in_shapes)
        outputs, parameters, internals = self.setup(kwargs, in_shapes)
        self.out_shapes = _as_structures(outputs)
        self.parameter_shapes = _as_structures(parameters)
        self.internal_shapes = _as_structures(internals)
        self.gradient_shapes = OrderedDict(self.parameter_shapes)

    @classmethod
    def get_layer_type(cls):
        return cls.__dict__.get('layer_type') or _strip(cls.__name__)

    # -- to be implemented by layers --------------------------------------
    def setup(self, kwargs, in_shapes):
        """Return ``(outputs, parameters, internals)``: three dicts mapping
        names to :class:`BufferStructure` (or shape tuples)."""
        raise NotImplementedError

    def forward_pass(self, buffers, training_pass=True):
        raise NotImplementedError

    def backward_pass(self, buffers):
        raise NotImplementedError

    def check_input_data(self, in_name, item_name, data):
        """Optional: check the values of data the network is given.

        ``Network.provide_external_data`` calls it for every input
        ``in_name`` of this layer that reads an item of the Input layer
        directly, with the item's name and its (T, B, ...) numpy array (a
        batch, or the whole data set); arrays already on the handler's
        device are not checked. A layer that needs valid values there
        (class indices in range ...) raises a ``ValueError`` naming
        ``item_name``, the offending value, its index and what is valid.
        It runs on every batch, so it should cost one vectorised pass over
        ``data`` at most. The base class accepts everything, and the
        network does not call layers that keep it.
        """

    # -- helpers -------------------------------------------------------------
    def set_handler(self, handler):
        self.handler = handler

    def error(self, message):
        """A LayerValidationError naming this layer."""
        return LayerValidationError('{} layer {!r}: {}'.format(
            self.get_layer_type(), self.name, message))

    def _validate_kwargs(self, kwargs):
        unexpected = set(kwargs) - set(self.expected_kwargs)
        if unexpected:
            raise self.error('unexpected argument(s) {}; it accepts {}'.format(
                ', '.join(sorted(unexpected)),
                ', '.join(sorted(self.expected_kwargs)) or 'none'))

    def _validate_in_shapes(self, in_shapes):
        for in_name in in_shapes:
            if in_name not in self.expected_inputs:
                raise self.error('has no input named {!r} (inputs: {})'.format(
                    in_name, ', '.join(sorted(self.expected_inputs))))
        for in_name, template in self.expected_inputs.items():
            if in_name not in in_shapes:
                raise self.error('input {!r} is not connected'.format(in_name))
            if not template.matches(in_shapes[in_name]):
                raise self.error(
                    'input {!r} expects shape {}, but receives {}'.format(
                        in_name, template, in_shapes[in_name].shape))

    def __describe__(self):
        description = {'@type': self.get_layer_type(), 'name': self.name}
        description.update(self.kwargs)
        return description


def _strip(class_name):
    return class_name[:-len('LayerImpl')] if class_name.endswith(
        'LayerImpl') else class_name


def _as_structures(mapping):
    result = OrderedDict()
    for key, value in (mapping or {}).items():
        if isinstance(value, BufferStructure):
            result[key] = value
        else:
            result[key] = BufferStructure(*value)
    return result


# -- construction functions --------------------------------------------------

def construction_function(impl_class):
    """Turn a function into the construction function of ``impl_class``.

    The decorated function declares the layer's arguments (its signature is
    what users call) and may validate them (raise ``ValueError`` or
    ``TypeError``); it returns nothing. The result returns a
    ``ConstructionWrapper`` to wire with ``>>``::

        @construction_function(FullyConnectedLayerImpl)
        def FullyConnected(size, activation='rel', name=None):
            '''A fully connected layer.'''
            if activation not in ACTIVATIONS: raise ValueError(...)
    """
    def decorate(func):
        signature = inspect.signature(func)
        layer_type = func.__name__

        @functools.wraps(func)
        def construct(*args, **kwargs):
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as err:
                raise TypeError('{}{}: {}'.format(layer_type, signature,
                                                  err)) from None
            bound.apply_defaults()
            func(*bound.args, **bound.kwargs)
            arguments = dict(bound.arguments)
            name = arguments.pop('name', None)
            extra = {}
            for pname, param in signature.parameters.items():
                if param.kind is param.VAR_KEYWORD:
                    extra = arguments.pop(pname)
            arguments.update(extra)
            from brainstorm.structure.construction import ConstructionWrapper
            return ConstructionWrapper.create(impl_class, name=name,
                                              **arguments)

        construct.impl_class = impl_class
        construct.layer_type = layer_type
        if impl_class.__dict__.get('layer_type') is None and \
                _strip(impl_class.__name__) != layer_type:
            impl_class.layer_type = layer_type
        return construct
    return decorate


def generic_constructor(impl_class):
    """The construction function of a Layer class registered without one."""
    layer_type = impl_class.get_layer_type()

    def construct(name=None, **kwargs):
        from brainstorm.structure.construction import ConstructionWrapper
        return ConstructionWrapper.create(impl_class, name=name, **kwargs)
    construct.__name__ = construct.__qualname__ = layer_type
    construct.__doc__ = impl_class.__doc__
    construct.impl_class = impl_class
    construct.layer_type = layer_type
    return construct


def layer_type_of(item):
    if isinstance(item, type) and issubclass(item, Layer):
        return item.get_layer_type()
    if callable(item) and hasattr(item, 'impl_class'):
        return item.layer_type
    return None


def layer_impl_of(item):
    if isinstance(item, type) and issubclass(item, Layer):
        return item
    return item.impl_class


def layer_constructor_of(item):
    if isinstance(item, type) and issubclass(item, Layer):
        return generic_constructor(item)
    return item


__all__ += ['ShapeError']
