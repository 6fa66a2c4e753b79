"""Looking at a network: ``get_network_info``, ``print_network_info`` and
``draw_network`` (manual 8.3)."""
import os

import numpy as np

from brainstorm.fileio import write_bytes_atomically

__all__ = ['get_network_info', 'print_network_info', 'draw_network']

_SOURCE_SUFFIXES = ('.gv', '.dot')


def _shape(shape):
    return '(' + ', '.join(str(s) for s in shape) + \
        (',)' if len(shape) == 1 else ')')


def _count(n):
    return '{:,}'.format(n)


def _arguments(layer):
    if layer.get_layer_type() == 'Input':
        return ''
    return ', '.join('{}={!r}'.format(k, tuple(v) if isinstance(v, list)
                                      else v)
                     for k, v in sorted(layer.kwargs.items()))


def _input_names(layer):
    """The connected inputs in the order the layer declares them."""
    declared = [n for n in layer.expected_inputs if n in layer.incoming]
    return declared + [n for n in layer.incoming if n not in declared]


def get_network_info(network):
    """Detailed information about the network as a string.

    It lists the data the network takes, then for every layer (in the order
    of the forward pass) its type and arguments, the shapes of its inputs
    (and where they come from), outputs and parameters, and its number of
    parameters; the last line gives the total number of parameters.

    Parameters
    ----------
    network : brainstorm.structure.Network
        A network for which the details are returned.

    Returns
    -------
    str

    Examples
    --------
    >>> print(get_network_info(net))    # doctest: +SKIP
    Network: 5 layers, 55 parameters
    Data: default (T, B, 4), targets (T, B, 1)
    <BLANKLINE>
    Input: Input
        outputs     default (T, B, 4), targets (T, B, 1)
    Hid: FullyConnected(activation='rel', size=5)
        inputs      default (T, B, 4) <- Input.outputs.default
        outputs     default (T, B, 5)
        parameters  W (4, 5) 20, bias (5,) 5: 25 parameters
    ...
    Total: 55 parameters
    """
    total = network.buffer_manager.num_parameters
    lines = ['Network: {} layers, {} parameters'.format(
        len(network.layers), _count(total))]
    if 'Input' in network.layers:
        lines.append('Data: ' + ', '.join(
            '{} {}'.format(name, _shape(s.shape)) for name, s in
            network.layers['Input'].out_shapes.items()))
    lines.append('')
    for name, layer in network.layers.items():
        arguments = _arguments(layer)
        lines.append('{}: {}{}'.format(
            name, layer.get_layer_type(),
            '({})'.format(arguments) if arguments else ''))
        for i, in_name in enumerate(_input_names(layer)):
            src, out_name = layer.incoming[in_name]
            lines.append('    {:12}{} {} <- {}.outputs.{}'.format(
                'inputs' if i == 0 else '', in_name,
                _shape(layer.in_shapes[in_name].shape), src, out_name))
        if layer.out_shapes:
            lines.append('    outputs     ' + ', '.join(
                '{} {}'.format(out_name, _shape(s.shape))
                for out_name, s in layer.out_shapes.items()))
        if layer.parameter_shapes:
            sizes = {p: s.feature_size
                     for p, s in layer.parameter_shapes.items()}
            lines.append('    parameters  {}: {} parameters'.format(
                ', '.join('{} {} {}'.format(p, _shape(s.shape),
                                            _count(sizes[p]))
                          for p, s in layer.parameter_shapes.items()),
                _count(int(np.sum(list(sizes.values()))))))
    lines.append('Total: {} parameters'.format(_count(total)))
    return '\n'.join(lines)


def print_network_info(network):
    """Print detailed information about the network.

    Per layer: its inputs, outputs and parameters with their shapes, and how
    many parameters it holds; at the end the count of the whole network
    (the text of :func:`get_network_info`).

    Parameters
    ----------
    network : brainstorm.structure.Network
        A network for which the details are printed.
    """
    print(get_network_info(network))


def draw_network(network, file_name='network.png'):
    """Write a diagram for a network to a file.

    Every layer is a box with its name and type; every connection an arrow
    labelled with the output and input it joins (where they are not
    'default') and the feature shape it carries. The format follows the
    extension of ``file_name`` ('png', 'svg', 'pdf' ...); '.gv' and '.dot'
    write the DOT source itself.

    Parameters
    ----------
    network : brainstorm.structure.Network
        Network to be drawn.
    file_name : str, optional
        Defaults to 'network.png'.

    Returns
    -------
    graphviz.Digraph
        The graph (its DOT text is ``.source``).

    Notes
    -----
    This tool requires the ``graphviz`` Python package (``pip install
    graphviz``, or ``pip install brainstorm-core[viz]``) and, for every
    format but the DOT source, the Graphviz ``dot`` program.

    Raises
    ------
    ImportError
        If ``graphviz`` can not be imported.
    RuntimeError
        If the Graphviz ``dot`` program is needed but not installed.
    brainstorm.SaveError
        If the file cannot be written.
    """
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            'draw_network needs the graphviz Python package (pip install '
            'graphviz, or pip install brainstorm-core[viz]) and the Graphviz '
            '`dot` program (https://graphviz.org/download/, e.g. apt-get '
            'install graphviz) to render diagrams') from None
    graph = _network_graph(network, graphviz)
    file_name = os.fspath(file_name)
    suffix = os.path.splitext(file_name)[1].lower()
    if suffix in _SOURCE_SUFFIXES:
        data = graph.source.encode('utf-8')
    else:
        try:
            data = graph.pipe(format=suffix[1:] or 'png')
        except graphviz.ExecutableNotFound:
            raise RuntimeError(
                'draw_network: writing {!r} needs the Graphviz `dot` program, '
                'which is not installed (https://graphviz.org/download/, '
                'e.g. apt-get install graphviz); a file name ending in .dot '
                'or .gv writes the DOT source without it'.format(
                    file_name)) from None
    write_bytes_atomically(file_name, data)
    return graph


def _network_graph(network, graphviz):
    """A graphviz.Digraph of the network: node ``layer<i>`` for the i-th
    layer (layer names may hold characters DOT would misread)."""
    graph = graphviz.Digraph(name='network', graph_attr={'rankdir': 'BT'},
                             node_attr={'shape': 'box'})
    ids = {name: 'layer{}'.format(i)
           for i, name in enumerate(network.layers)}
    for name, layer in network.layers.items():
        graph.node(ids[name], label='{}\\n{}'.format(name,
                                                    layer.get_layer_type()))
    for name, layer in network.layers.items():
        for in_name, (src, out_name) in layer.incoming.items():
            label = _shape(layer.in_shapes[in_name].feature_shape)
            if (out_name, in_name) != ('default', 'default'):
                label = '{} -> {}\\n{}'.format(out_name, in_name, label)
            graph.edge(ids[src], ids[name], label=label)
    return graph
