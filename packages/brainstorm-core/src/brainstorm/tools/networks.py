"""Building networks: ``get_in_out_layers`` and ``create_net_from_spec``
(manual 8.3)."""
from brainstorm.plugins import registry
from brainstorm.tools.spec import SpecError, parse_spec

__all__ = ['get_in_out_layers', 'create_net_from_spec']

_LOSS_LAYERS = {'classification': 'SoftmaxCE', 'multi-label': 'SigmoidCE',
                'regression': 'SquaredError'}


def _layer(layer_type):
    from brainstorm.layers.base_layer import layer_constructor_of
    return layer_constructor_of(registry.get('layers', layer_type,
                                             namespace='brainstorm.layers'))


def _as_shape(shape):
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(s) for s in shape)


def get_in_out_layers(task_type, in_shape, out_shape, data_name='default',
                      targets_name='targets', projection_name=None,
                      outlayer_name=None, mask_name=None, use_conv=None,
                      *, out_layer_name=None):
    """Prepare the input and output layers of a network.

    Returns an Input layer and a projection layer (FullyConnected, or a 1x1
    Convolution2D when ``use_conv``) already connected to the output layer
    for ``task_type`` ('classification': SoftmaxCE, 'multi-label':
    SigmoidCE, 'regression': SquaredError), which receives the targets from
    the Input layer and feeds a Loss layer (through a Mask layer when
    ``mask_name`` is given).

    Parameters
    ----------
    task_type : str
        One of 'classification', 'multi-label', 'regression'.
    in_shape : int or tuple[int]
        Feature shape of the input data.
    out_shape : int or tuple[int]
        Feature shape of the network output (number of classes for
        classification).
    data_name, targets_name : str
        Names of the input data and targets.
    projection_name : str, optional
        Name of the projection layer (default ``outlayer_name +
        '_projection'``, or 'Output_projection').
    outlayer_name : str, optional
        Name of the output layer (default 'Output'). The manual spells it
        both ``outlayer_name`` and ``out_layer_name``; either keyword works.
    mask_name : str, optional
        Name of a (T, B, 1) mask in the data: the loss only counts where it
        is 1.
    use_conv : bool, optional
        Whether the projection is a 1x1 convolution; by default it is when
        ``out_shape`` has more than one dimension.

    Returns
    -------
    tuple (Input layer, projection layer)

    Examples
    --------
    >>> inp, out = get_in_out_layers('classification', 784, 10)
    >>> net = Network.from_layer(inp >> layers.FullyConnected(1000) >> out)
    """
    if task_type not in _LOSS_LAYERS:
        raise ValueError('task_type must be one of {}, got {!r}'.format(
            ', '.join(repr(t) for t in _LOSS_LAYERS), task_type))
    if out_layer_name is not None:
        if outlayer_name is not None and outlayer_name != out_layer_name:
            raise TypeError('get_in_out_layers: outlayer_name={!r} and '
                            'out_layer_name={!r} name the same argument; give '
                            'one'.format(outlayer_name, out_layer_name))
        outlayer_name = out_layer_name
    in_shape, out_shape = _as_shape(in_shape), _as_shape(out_shape)
    outlayer_name = outlayer_name or 'Output'
    projection_name = projection_name or outlayer_name + '_projection'
    if use_conv is None:
        use_conv = len(out_shape) > 1
    if task_type == 'classification':
        targets_shape = out_shape[:-1] + (1,)
    else:
        targets_shape = out_shape
    out_shapes = {data_name: ('T', 'B') + in_shape,
                  targets_name: ('T', 'B') + targets_shape}
    if mask_name:
        out_shapes[mask_name] = ('T', 'B', 1)
    from brainstorm.layers import Input
    inp = Input(out_shapes=out_shapes)
    if use_conv:
        projection = _layer('Convolution2D')(
            out_shape[-1], kernel_size=(1, 1), activation='linear',
            name=projection_name)
    else:
        size = out_shape[0] if len(out_shape) == 1 else list(out_shape)
        projection = _layer('FullyConnected')(size, activation='linear',
                                              name=projection_name)
    output = _layer(_LOSS_LAYERS[task_type])(name=outlayer_name)
    loss = _layer('Loss')()
    projection >> output
    inp - targets_name >> 'targets' - output
    if mask_name:
        mask = _layer('Mask')()
        output - 'loss' >> mask >> loss
        inp - mask_name >> 'mask' - mask
    else:
        output - 'loss' >> loss
    return inp, projection


def create_net_from_spec(task_type, in_shape, out_shape, spec,
                         data_name='default', targets_name='targets',
                         mask_name=None, use_conv=None):
    """Create a complete network from a spec line such as ``'F50 F20 F50'``.

    The spec lists the hidden layers between the Input layer and the output
    layers that :func:`get_in_out_layers` makes for ``task_type``. Capital
    letters give the layer type and are followed by the layer's arguments:

    * ``F`` FullyConnected, ``R`` Recurrent, ``L`` Lstm: an optional
      activation letter, then the size (mandatory): ``'F100'``,
      ``'Ft100'``, ``'Ls20'``.
    * ``B`` BatchNorm: no arguments.
    * ``D`` Dropout: an optional dropout probability: ``'D'`` (0.5),
      ``'D.2'``, ``'D0.25'``.
    * ``C`` Convolution2D: an optional activation letter, the number of
      filters and the kernel size (both mandatory), then optionally ``p``
      with the padding and/or ``s`` with the stride (in either order):
      ``'C32:3'`` (32 filters of 3x3), ``'Cs32:3'`` (sigmoid),
      ``'C32:5p2'`` (padding 2), ``'C64:3p1s2'`` (stride (2, 2)).
    * ``P`` Pooling2D: optionally ``m`` (max, the default) or ``a``
      (average), the kernel size (mandatory), then optionally ``p`` and/or
      ``s`` as for Convolution2D: ``'P2'``, ``'P3s2'``, ``'Pa2s2'``.

    Activation letters: ``l`` linear, ``r`` rel, ``s`` sigmoid, ``t``
    tanh; without one a layer keeps its default (rel for FullyConnected
    and Convolution2D, tanh for Recurrent and Lstm). Whitespace is allowed
    everywhere in these letter forms and ignored completely, inside numbers
    too.

    Any registered layer, a plugin's included, can also be named, with
    keyword arguments (Python literals) in parentheses where it needs
    some: ``'F64 Swish F10'``, ``'F64 Swish(beta=2) F10'``,
    ``'Dropout(drop_prob=0.1)'``; a letter takes keyword arguments the
    same way (``"F(size=64, activation='tanh')"``). Plugins may register
    letters of their own (hook ``brainstorm_spec_letters``). The complete
    grammar is in :mod:`brainstorm.tools.spec`. Layers get the names that
    unnamed layers get (``'FullyConnected'``, ``'FullyConnected_2'`` ...).

    Parameters
    ----------
    task_type : str
        One of 'classification', 'regression', 'multi-label'.
    in_shape : int or tuple[int]
        Feature shape of the input data; images are (height, width,
        channels).
    out_shape : int or tuple[int]
        Output shape / number of classes.
    spec : str
        The line describing the hidden layers, as above ('' for none).
    data_name : str
        Name of the input data (default 'default').
    targets_name : str
        Name of the targets (default 'targets').
    mask_name : str, optional
        Name of a mask in the data, to count the loss only where it is 1.
    use_conv : bool, optional
        Whether the projection layer is a 1x1 convolution (default: when
        ``out_shape`` has more than one dimension).

    Returns
    -------
    brainstorm.structure.Network
        The network, initialized with ``DenseSqrtFanInOut`` (scaled for
        its activation function) for layers with an activation function,
        and ``Gaussian()`` as default and fallback (biases, BatchNorm).

    Raises
    ------
    SpecError
        A ``ValueError`` quoting the spec and pointing at the layer it
        could not read or build.

    Examples
    --------
    The mnist_pi example:

    >>> net = create_net_from_spec('classification', 784, 10,
    ...                            'D.2 F1200 D F1200 D')

    The cifar10_cnn example (images are (32, 32, 3)):

    >>> net = create_net_from_spec(
    ...     'classification', (32, 32, 3), 10,
    ...     'C32:5p2 P3s2 C32:5p2 P3s2 C64:5p2 P3s2 F64')
    """
    layers = parse_spec(spec)
    inp, projection = get_in_out_layers(
        task_type, in_shape, out_shape, data_name=data_name,
        targets_name=targets_name, mask_name=mask_name, use_conv=use_conv)
    names = _spec_layer_names(layers)
    wire = inp - data_name
    for layer, name in zip(layers, names):
        try:
            hidden = _layer(layer.layer_type)(name=name, **layer.kwargs)
        except (TypeError, ValueError) as err:
            raise _spec_error(spec, layer, err, in_shape) from None
        wire = wire >> hidden
    wire >> projection

    from brainstorm.structure import Network
    try:
        net = Network.from_layer(projection)
    except ValueError as err:
        culprit = [layer for layer, name in zip(layers, names)
                   if 'layer {!r}'.format(name) in str(err)]
        if not culprit:
            raise
        raise _spec_error(spec, culprit[0], err, in_shape) from None
    _initialize(net)
    return net


def _spec_layer_names(layers):
    """The automatic names of unnamed layers (type, type_2, type_3 ...)."""
    counts, names = {}, []
    for layer in layers:
        n = counts[layer.layer_type] = counts.get(layer.layer_type, 0) + 1
        names.append(layer.layer_type if n == 1 else
                     '{}_{}'.format(layer.layer_type, n))
    return names


def _spec_error(spec, layer, err, in_shape):
    reason = 'cannot build {!r} ({}): {}'.format(layer.text, layer.layer_type,
                                                err)
    shape = _as_shape(in_shape)
    if len(shape) == 3 and shape[0] in (1, 3, 4) and min(shape[1:]) > 4:
        reason += (' (images are (height, width, channels): did you mean '
                   'in_shape={}?)'.format((shape[1], shape[2], shape[0])))
    return SpecError(spec, layer.position, reason)


def _initialize(net):
    from brainstorm import initializers
    init = {}
    for name, layer in net.layers.items():
        activation = getattr(layer, 'activation', None) or \
            layer.kwargs.get('activation')
        if layer.parameter_shapes and isinstance(activation, str):
            init[name] = initializers.DenseSqrtFanInOut(activation)
    net.initialize(init, default=initializers.Gaussian(),
                   fallback=initializers.Gaussian())
