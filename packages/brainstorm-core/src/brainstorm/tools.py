"""Tools (manual 8.3): helpers to build, run and inspect networks."""
from brainstorm.plugins import registry

__all__ = ['get_in_out_layers', 'evaluate']

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
                      outlayer_name=None, mask_name=None, use_conv=None):
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
        Name of the output layer (default 'Output').
    mask_name : str, optional
        Name of a (T, B, 1) mask in the data: the loss only counts where it
        is 1.
    use_conv : bool, optional
        Whether the projection is a 1x1 convolution; by default it is when
        ``out_shape`` has more than one dimension.

    Returns
    -------
    tuple (Input layer, projection layer)

    Example
    -------
    >>> inp, out = get_in_out_layers('classification', 784, 10)
    >>> net = Network.from_layer(inp >> layers.FullyConnected(1000) >> out)
    """
    if task_type not in _LOSS_LAYERS:
        raise ValueError('task_type must be one of {}, got {!r}'.format(
            ', '.join(repr(t) for t in _LOSS_LAYERS), task_type))
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


def evaluate(network, iter, scorers=(), out_name='', targets_name='targets',
             mask_name=None):
    """Evaluate the losses and scores of ``network`` on the data of
    ``iter`` (inference passes).

    Returns
    -------
    dict
        'total_loss' (and per Loss layer losses) averaged over the data,
        and each scorer's score under its name.
    """
    from brainstorm.scorers import gather_losses_and_scores
    return gather_losses_and_scores(network, list(scorers), iter,
                                    out_name=out_name,
                                    targets_name=targets_name,
                                    mask_name=mask_name or '')
