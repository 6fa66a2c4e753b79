"""Memory of a network: the layout (manual 9.4), the BufferManager that
allocates it, and BufferViews, the named views layers work on.

There is one flat buffer per buffer type: constant (parameters, gradients
and other fixed-size buffers), batch-sized and time-sized. Every array is a
contiguous block of its flat buffer, so reshaping it to 2D for a matrix
product never copies. Deltas (and internals needed only by the backward
pass) sit together after the forward buffers, so one ``fill`` zeroes them
before a backward pass. When T or B change, the batch- and time-sized flat
buffers grow if needed and the views are sliced anew.

A time-sized buffer with ``context_size`` c is (T + c, B, ...): its last c
steps hold the state at t = -c .. -1 (index -1 is t = -1), which is how
recurrent layers see their context. Layers that read such a buffer as input
see only its first T steps.
"""
from collections import OrderedDict

from brainstorm.structure.buffer_structure import (BATCH_SIZED, CONSTANT,
                                                   TIME_SIZED)

__all__ = ['BufferView', 'BufferManager', 'CATEGORIES']

# Buffer categories of a layer, in layout order.
CATEGORIES = ('inputs', 'outputs', 'parameters', 'internals', 'gradients',
              'input_deltas', 'output_deltas')


class BufferView:
    """Named buffers, reachable as attributes, items or dotted paths.

    For example::

        buffers.outputs.default
        net.buffer['Hid']['parameters']['W']
        net.buffer['Hid.parameters.W']
    """

    def __init__(self, names, arrays, full_buffer=None):
        self._names = tuple(names)
        self._entries = dict(zip(names, arrays))
        self._full_buffer = full_buffer

    def __getattr__(self, name):
        if name.startswith('_'):
            raise AttributeError(name)
        try:
            return self._entries[name]
        except KeyError:
            raise AttributeError('no buffer named {!r} here (have: {})'.format(
                name, ', '.join(self._names) or 'none')) from None

    def __getitem__(self, key):
        if isinstance(key, int):
            return self._entries[self._names[key]]
        first, _, rest = key.partition('.')
        if first not in self._entries:
            raise KeyError(key)
        entry = self._entries[first]
        if rest:
            if not isinstance(entry, BufferView):
                raise KeyError(key)
            return entry[rest]
        return entry

    def __contains__(self, key):
        try:
            self[key]
            return True
        except KeyError:
            return False

    def __iter__(self):
        return iter(self._names)

    def __len__(self):
        return len(self._names)

    def keys(self):
        return list(self._names)

    def values(self):
        return [self._entries[n] for n in self._names]

    def items(self):
        return [(n, self._entries[n]) for n in self._names]

    def __repr__(self):
        return 'BufferView({})'.format(', '.join(self._names))


class _Slot:
    """Where one array lives: its structure, buffer type and region."""

    __slots__ = ('structure', 'region', 'index')

    def __init__(self, structure, region, index):
        self.structure = structure
        self.region = region      # 'forward' or 'backward'
        self.index = index        # position within (type, region)


class BufferManager:
    """Allocates the memory of a network's layers and hands out views.

    Parameters
    ----------
    layers : OrderedDict[str, Layer]
        The layers in topological order.
    handler : Handler
        Allocates the flat buffers.
    """

    def __init__(self, layers, handler):
        self.layers = layers
        self.handler = handler
        self.time_size = None
        self.batch_size = None
        self._plan(layers)
        self.layout = self._make_layout()
        self._flat = {}
        self._capacity = {BATCH_SIZED: 0, TIME_SIZED: 0}
        self._allocate_constant()
        self.views = None

    # -- planning ------------------------------------------------------------
    def _plan(self, layers):
        # (buffer type, region) -> list of structures; own buffers per layer
        self._order = {(t, r): [] for t in (CONSTANT, BATCH_SIZED, TIME_SIZED)
                       for r in ('forward', 'backward')}
        self._params = []
        self.own = OrderedDict()   # (layer, category, name) -> _Slot/param
        param_offset = 0
        for lname, layer in layers.items():
            for pname, structure in layer.parameter_shapes.items():
                size = structure.feature_size
                self._params.append((lname, pname, structure,
                                     param_offset, param_offset + size))
                param_offset += size
            for category, region in (('outputs', 'forward'),
                                     ('internals', None),
                                     ('output_deltas', 'backward')):
                shapes = layer.internal_shapes if category == 'internals' \
                    else layer.out_shapes
                for name, structure in shapes.items():
                    reg = region or ('backward' if structure.is_backward_only
                                     else 'forward')
                    key = (structure.buffer_type, reg)
                    slot = _Slot(structure, reg, len(self._order[key]))
                    self._order[key].append(structure)
                    self.own[(lname, category, name)] = slot
        self.num_parameters = param_offset
        self._param_slices = {(l, p): (a, b)
                              for l, p, _, a, b in self._params}

    def _make_layout(self):
        """The layout tree (manual 9.4) of this network: a dict per layer and
        category; array nodes give '@shape', '@buffer_type', '@region' and
        '@slice' (start, stop in feature units within their flat buffer
        and region, or within the parameter vector)."""
        layout = OrderedDict()
        starts = {}
        for key, structures in self._order.items():
            pos, offsets = 0, []
            for s in structures:
                offsets.append((pos, pos + s.feature_size))
                pos += s.feature_size
            starts[key] = offsets
        params = self._param_slices
        for li, (lname, layer) in enumerate(self.layers.items()):
            node = OrderedDict([('@type', 'BufferView'), ('@index', li)])
            for ci, category in enumerate(CATEGORIES):
                cnode = OrderedDict([('@type', 'BufferView'),
                                     ('@index', ci)])
                for ai, (name, structure, where) in enumerate(
                        self._arrays_of(lname, layer, category)):
                    anode = OrderedDict([('@type', 'array'), ('@index', ai),
                                         ('@shape', structure.shape),
                                         ('@buffer_type',
                                          structure.buffer_type)])
                    if where[0] == 'param':
                        anode['@region'] = where[1]
                        anode['@slice'] = params[(where[2], name)]
                    else:
                        slot = where[1]
                        anode['@region'] = slot.region
                        anode['@slice'] = starts[(structure.buffer_type,
                                                  slot.region)][slot.index]
                    if structure.context_size:
                        anode['@context_size'] = structure.context_size
                    cnode[name] = anode
                node[category] = cnode
            layout[lname] = node
        return layout

    def _arrays_of(self, lname, layer, category):
        """(name, structure, where) of one category of a layer."""
        result = []
        if category in ('parameters', 'gradients'):
            for pname, structure in layer.parameter_shapes.items():
                result.append((pname, structure, ('param', category, lname)))
        elif category in ('outputs', 'internals', 'output_deltas'):
            for (l, c, name), slot in self.own.items():
                if l == lname and c == category:
                    result.append((name, slot.structure, ('own', slot)))
        else:
            source_category = 'outputs' if category == 'inputs' \
                else 'output_deltas'
            for in_name, (src, out_name) in layer.incoming.items():
                slot = self.own[(src, source_category, out_name)]
                result.append((in_name, slot.structure, ('own', slot)))
        return result

    # -- allocation ------------------------------------------------------------
    def _region_sizes(self, buffer_type, time_size, batch_size):
        sizes = {}
        for region in ('forward', 'backward'):
            sizes[region] = sum(
                s.get_size(time_size, batch_size)
                for s in self._order[(buffer_type, region)])
        return sizes

    def _allocate_constant(self):
        sizes = self._region_sizes(CONSTANT, 0, 0)
        total = 2 * self.num_parameters + sizes['forward'] + sizes['backward']
        self._flat[CONSTANT] = self.handler.zeros((max(total, 1),))

    def resize(self, time_size, batch_size):
        """Make room for T = ``time_size``, B = ``batch_size`` and slice the
        views anew (a no-op when both are unchanged)."""
        if (time_size, batch_size) == (self.time_size, self.batch_size) and \
                self.views is not None:
            return False
        for buffer_type in (BATCH_SIZED, TIME_SIZED):
            sizes = self._region_sizes(buffer_type, time_size, batch_size)
            needed = sizes['forward'] + sizes['backward']
            if buffer_type not in self._flat or \
                    needed > self._capacity[buffer_type]:
                capacity = max(needed, 1, self._capacity[buffer_type])
                self._flat[buffer_type] = self.handler.zeros((capacity,))
                self._capacity[buffer_type] = capacity
        self.time_size, self.batch_size = time_size, batch_size
        self.views = self._make_views()
        return True

    def _make_views(self):
        T, B = self.time_size, self.batch_size
        arrays = {}
        self._regions = {}
        for buffer_type in (CONSTANT, BATCH_SIZED, TIME_SIZED):
            flat = self._flat[buffer_type]
            if buffer_type == CONSTANT:
                pos = 2 * self.num_parameters
            else:
                pos = 0
            for region in ('forward', 'backward'):
                start = pos
                for structure in self._order[(buffer_type, region)]:
                    size = structure.get_size(T, B)
                    arrays.setdefault((buffer_type, region), []).append(
                        flat[pos:pos + size].reshape(
                            structure.get_shape(T, B)))
                    pos += size
                self._regions[(buffer_type, region)] = flat[start:pos]
        const = self._flat[CONSTANT]
        P = self.num_parameters
        self.parameters = const[:P]
        self.gradients = const[P:2 * P]

        layer_views = []
        for lname, layer in self.layers.items():
            category_views = []
            for category in CATEGORIES:
                names, arrs = [], []
                for name, structure, where in self._arrays_of(
                        lname, layer, category):
                    if where[0] == 'param':
                        flat = self.parameters if category == 'parameters' \
                            else self.gradients
                        a, b = self._param_slices[(lname, name)]
                        arr = flat[a:b].reshape(structure.feature_shape)
                    else:
                        slot = where[1]
                        arr = arrays[(structure.buffer_type, slot.region)][
                            slot.index]
                        if category in ('inputs', 'input_deltas') and \
                                structure.context_size:
                            arr = arr[:T]
                    names.append(name)
                    arrs.append(arr)
                full = None
                if category in ('parameters', 'gradients') and names:
                    owned = [(a, b) for l, _, _, a, b in self._params
                             if l == lname]
                    flat = self.parameters if category == 'parameters' \
                        else self.gradients
                    full = flat[owned[0][0]:owned[-1][1]]
                category_views.append(BufferView(names, arrs, full))
            layer_views.append(BufferView(CATEGORIES, category_views))
        names = list(self.layers) + ['parameters', 'gradients']
        return BufferView(names, layer_views + [self.parameters,
                                                self.gradients])

    def clear_backward_buffers(self):
        """Zero all deltas, backward-only internals and gradients."""
        h = self.handler
        if self.num_parameters:
            h.fill(self.gradients, 0.0)
        for buffer_type in (CONSTANT, BATCH_SIZED, TIME_SIZED):
            region = self._regions[(buffer_type, 'backward')]
            if region.size:
                h.fill(region, 0.0)

    def context_buffers(self):
        """Paths and views of every time-sized buffer with a context
        (forward region only: outputs and internals)."""
        result = OrderedDict()
        for (lname, category, name), slot in self.own.items():
            if category == 'output_deltas' or slot.region != 'forward':
                continue
            if slot.structure.context_size:
                path = '{}.{}.{}'.format(lname, category, name)
                result[path] = (self.views[lname][category][name],
                                slot.structure.context_size)
        return result

    def set_handler(self, handler):
        """Move all memory to ``handler`` (parameters are kept)."""
        params = self.handler.get_numpy_copy(self.parameters) \
            if self.num_parameters else None
        self.handler = handler
        self._flat = {}
        self._capacity = {BATCH_SIZED: 0, TIME_SIZED: 0}
        self._allocate_constant()
        T, B = self.time_size, self.batch_size
        self.time_size = self.batch_size = None
        self.views = None
        if T is not None:
            self.resize(T, B)
        else:
            self.resize(1, 1)
        if params is not None:
            handler.set_from_numpy(self.parameters,
                                   params.astype(handler.dtype))
