"""Architectures (manual 9.3): the JSON-serialisable dict that describes a
network's layers and their connections, and turning one into layer objects.

For example::

    {'Input': {'@type': 'Input',
               '@outgoing_connections': {'default': ['Hid'],
                                         'targets': ['Out.targets']},
               'out_shapes': {'default': ['T', 'B', 784],
                              'targets': ['T', 'B', 1]}},
     'Hid': {'@type': 'FullyConnected', 'size': 100, 'activation': 'rel',
             '@outgoing_connections': {'default': ['Out']}},
     ...}

Connections name inputs in dotted notation ``LAYER.INPUT``; ``.default``
may be left out. ``@type`` is looked up in the plugin registry only.
"""
from collections import OrderedDict

from brainstorm.describable import get_description
from brainstorm.structure.construction import WiringError

__all__ = ['generate_architecture', 'instantiate_layers_from_architecture',
           'ArchitectureError']


class ArchitectureError(ValueError):
    """An architecture that does not describe a valid network."""


def _assign_names(layers):
    names = {}
    used = {}
    for layer in layers:
        if layer.name is not None:
            if layer.name in used:
                raise WiringError(
                    'two layers are named {!r}: {} and {}'.format(
                        layer.name, used[layer.name].layer_type,
                        layer.layer_type))
            used[layer.name] = layer
            names[id(layer)] = layer.name
    for layer in layers:
        if layer.name is not None:
            continue
        base = layer.layer_type
        candidate, i = base, 1
        while candidate in used:
            i += 1
            candidate = '{}_{}'.format(base, i)
        used[candidate] = layer
        names[id(layer)] = candidate
    return names


def generate_architecture(some_layer):
    """The architecture dict of every layer connected to ``some_layer`` (a
    ``ConstructionLayer``); unnamed layers get unique automatic names (the
    layer type, then ``_2``, ``_3`` ...)."""
    layers = some_layer.collect_connected_layers()
    names = _assign_names(layers)
    architecture = OrderedDict()
    for layer in layers:
        outgoing = OrderedDict()
        for out_name, target, in_name in layer.outgoing:
            entry = names[id(target)]
            if in_name != 'default':
                entry += '.' + in_name
            outgoing.setdefault(out_name, []).append(entry)
        description = OrderedDict()
        description['@type'] = layer.layer_type
        description['@outgoing_connections'] = outgoing
        for key, value in layer.kwargs.items():
            description[key] = get_description(value)
        architecture[names[id(layer)]] = description
    return dict(architecture)


def _parse_connections(architecture):
    """{target: {in_name: (source, out_name)}}, checked."""
    incoming = {name: OrderedDict() for name in architecture}
    for source, description in architecture.items():
        outgoing = description.get('@outgoing_connections', {})
        if not isinstance(outgoing, dict):
            raise ArchitectureError(
                'layer {!r}: @outgoing_connections must be a dict of output '
                'name -> list of inputs, got {!r}'.format(source, outgoing))
        for out_name, targets in outgoing.items():
            for entry in targets:
                target, _, in_name = entry.partition('.')
                in_name = in_name or 'default'
                if target not in architecture:
                    raise ArchitectureError(
                        'layer {!r} connects output {!r} to {!r}, but there '
                        'is no layer named {!r}'.format(source, out_name,
                                                        entry, target))
                if in_name in incoming[target]:
                    other = incoming[target][in_name]
                    raise ArchitectureError(
                        'input {!r} of layer {!r} is connected twice (from '
                        '{}.{} and {}.{})'.format(in_name, target, other[0],
                                                  other[1], source, out_name))
                incoming[target][in_name] = (source, out_name)
    return incoming


def _topological_order(architecture, incoming):
    order = []
    placed = set()
    remaining = list(architecture)
    while remaining:
        progress = False
        for name in list(remaining):
            sources = {src for src, _ in incoming[name].values()}
            if sources <= placed:
                order.append(name)
                placed.add(name)
                remaining.remove(name)
                progress = True
        if not progress:
            raise ArchitectureError(
                'the connections between layers {} form a cycle; networks '
                'must be acyclic'.format(', '.join(sorted(remaining))))
    return order


def _check_input_layer(architecture):
    inputs = [n for n, d in architecture.items() if d.get('@type') == 'Input']
    if len(inputs) != 1:
        raise ArchitectureError(
            'a network needs exactly one Input layer, found {}{}'.format(
                len(inputs), ': ' + ', '.join(inputs) if inputs else ''))
    if inputs[0] != 'Input':
        raise ArchitectureError(
            "the Input layer must be named 'Input', not {!r}".format(
                inputs[0]))


def _check_connected(architecture, incoming):
    neighbours = {name: set() for name in architecture}
    for target, ins in incoming.items():
        for source, _ in ins.values():
            neighbours[target].add(source)
            neighbours[source].add(target)
    seen, todo = {'Input'}, ['Input']
    while todo:
        for other in neighbours[todo.pop()]:
            if other not in seen:
                seen.add(other)
                todo.append(other)
    unconnected = sorted(set(architecture) - seen)
    if unconnected:
        raise ArchitectureError(
            'layers {} are not connected to the Input layer'.format(
                ', '.join(unconnected)))


def _layer_implementations(architecture, registry):
    """{@type: Layer implementation} of every layer type ``architecture``
    names; a MissingPluginError names every type that is not available,
    not only the first."""
    from brainstorm.plugins import MissingPluginError
    impls, errors = {}, []
    for description in architecture.values():
        layer_type = description['@type']
        if layer_type in impls:
            continue
        try:
            impls[layer_type] = registry.layer_impl(layer_type)
        except MissingPluginError as err:
            impls[layer_type] = None
            errors.append(err)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise MissingPluginError(
            'the architecture names {} layer types that are not available: '
            '{}'.format(len(errors), '; '.join(str(e) for e in errors)),
            name=errors[0].name)
    return impls


def instantiate_layers_from_architecture(architecture):
    """Create the layer objects of ``architecture``, in topological order.

    Returns
    -------
    OrderedDict[str, brainstorm.layers.Layer]
    """
    from brainstorm.plugins import registry
    if not isinstance(architecture, dict) or not architecture:
        raise ArchitectureError('an architecture is a non-empty dict of '
                                'layer name -> layer description')
    for name, description in architecture.items():
        if '.' in name:
            raise ArchitectureError(
                "invalid layer name {!r}: names contain no '.'".format(name))
        if not isinstance(description, dict) or '@type' not in description:
            raise ArchitectureError(
                'layer {!r} has no @type'.format(name))
    _check_input_layer(architecture)
    incoming = _parse_connections(architecture)
    _check_connected(architecture, incoming)
    order = _topological_order(architecture, incoming)
    impls = _layer_implementations(architecture, registry)
    layers = OrderedDict()
    for name in order:
        description = architecture[name]
        impl = impls[description['@type']]
        kwargs = {k: v for k, v in description.items()
                  if not k.startswith('@')}
        in_shapes = OrderedDict()
        for in_name, (source, out_name) in incoming[name].items():
            out_shapes = layers[source].out_shapes
            if out_name not in out_shapes:
                raise ArchitectureError(
                    'layer {!r} connects its output {!r} to {!r}, but {} '
                    'layers have the outputs: {}'.format(
                        source, out_name, name,
                        architecture[source]['@type'],
                        ', '.join(out_shapes)))
            in_shapes[in_name] = _without_context(out_shapes[out_name])
        outgoing = description.get('@outgoing_connections', {})
        layers[name] = impl(name, in_shapes, dict(incoming[name]),
                            dict(outgoing), **kwargs)
    return layers


def _without_context(structure):
    from brainstorm.structure.buffer_structure import BufferStructure
    if structure.context_size == 0:
        return structure
    return BufferStructure(*structure.shape)
