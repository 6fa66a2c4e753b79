"""Wiring layers with ``>>`` and ``-`` (the objects layer construction
functions return).

``a >> b`` connects the default output of ``a`` to the default input of
``b``; ``a - 'out'`` selects another output of ``a`` and ``'in' - b``
another input of ``b``::

    inp - 'targets' >> 'targets' - out - 'loss' >> loss
"""
import itertools

__all__ = ['ConstructionWrapper', 'ConstructionLayer', 'WiringError']


class WiringError(ValueError):
    """Layers were wired in a way that cannot form a network."""


class ConstructionLayer:
    """One layer of an architecture under construction."""

    _counter = itertools.count()

    def __init__(self, impl_class, name=None, **kwargs):
        self.impl_class = impl_class
        self.layer_type = impl_class.get_layer_type()
        self.name = name
        self.kwargs = kwargs
        self.incoming = []   # (source ConstructionLayer, out_name, in_name)
        self.outgoing = []   # (out_name, target ConstructionLayer, in_name)
        self.creation_index = next(self._counter)

    def connect(self, out_name, target, in_name):
        for src, _, existing_in in target.incoming:
            if existing_in == in_name:
                raise WiringError(
                    'input {!r} of {} is connected twice (from {} and {}); '
                    'an input takes exactly one connection'.format(
                        in_name, target, src, self))
        self.outgoing.append((out_name, target, in_name))
        target.incoming.append((self, out_name, in_name))

    def collect_connected_layers(self):
        """All layers connected to this one, directly or indirectly."""
        seen = {id(self): self}
        todo = [self]
        while todo:
            layer = todo.pop()
            neighbours = [src for src, _, _ in layer.incoming] + \
                [tgt for _, tgt, _ in layer.outgoing]
            for other in neighbours:
                if id(other) not in seen:
                    seen[id(other)] = other
                    todo.append(other)
        return sorted(seen.values(), key=lambda l: l.creation_index)

    def __repr__(self):
        if self.name:
            return '<{} {!r}>'.format(self.layer_type, self.name)
        return '<{} (unnamed)>'.format(self.layer_type)


class ConstructionWrapper:
    """What layer construction functions return: a layer plus the input and
    output selected for the next ``>>``."""

    def __init__(self, layer, input_name='default', output_name='default'):
        self.layer = layer
        self.input_name = input_name
        self.output_name = output_name

    @classmethod
    def create(cls, impl_class, name=None, **kwargs):
        if name is not None and not isinstance(name, str):
            raise TypeError('layer name must be a str, got {!r}'.format(name))
        if name is not None and ('.' in name or not name):
            raise ValueError("invalid layer name {!r}: names must be "
                             "non-empty and contain no '.'".format(name))
        return cls(ConstructionLayer(impl_class, name=name, **kwargs))

    def __rshift__(self, other):
        if isinstance(other, str):
            return _PendingInput(self, other)
        if not isinstance(other, ConstructionWrapper):
            return NotImplemented
        self.layer.connect(self.output_name, other.layer, other.input_name)
        return other

    def __sub__(self, other):
        if not isinstance(other, str):
            return NotImplemented
        return ConstructionWrapper(self.layer, self.input_name, other)

    def __rsub__(self, other):
        if not isinstance(other, str):
            return NotImplemented
        return ConstructionWrapper(self.layer, other, self.output_name)

    def __repr__(self):
        return '<{} {} in={!r} out={!r}>'.format(
            type(self).__name__, self.layer, self.input_name,
            self.output_name)


class _PendingInput:
    """``layer >> 'name'``: waits for ``- other_layer``."""

    def __init__(self, source, input_name):
        self.source = source
        self.input_name = input_name

    def __sub__(self, other):
        if not isinstance(other, ConstructionWrapper):
            return NotImplemented
        target = ConstructionWrapper(other.layer, self.input_name,
                                     other.output_name)
        return self.source >> target
