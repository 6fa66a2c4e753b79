"""Training curves: the loss and every score of the trainer logs, epoch by
epoch, drawn with matplotlib into an image file.

matplotlib is an optional extra of brainstorm-hooks
(``pip install brainstorm-hooks[plot]``), imported only when a plot is
drawn. The figure is rendered by matplotlib's Agg canvas, without pyplot,
so no display (and no GUI toolkit) is needed, and the global pyplot state
of a program that uses it is left alone.

The command line draws the same picture::

    brainstorm train --logs logs.h5
    brainstorm plot logs.h5 -o curves.png
"""
import math
import os
from collections import OrderedDict

from brainstorm_hooks.logs import load_logs

__all__ = ['plot_logs', 'epoch_curves']

TRAINING = 'rolling_training'


def _require_matplotlib():
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError(
            'plotting the training curves needs matplotlib, which is not '
            'installed: pip install brainstorm-hooks[plot]',
            name='matplotlib') from err
    return matplotlib, Figure, FigureCanvasAgg


def _numbers(values):
    """The values as floats (NaN for None and non-finite numbers), or None
    if they are not numbers."""
    result = []
    for value in values:
        if value is None:
            result.append(math.nan)
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                value = float(value)   # numpy scalars
            except (TypeError, ValueError):
                return None
        result.append(float(value) if math.isfinite(value) else math.nan)
    return result


def _leaves(node, prefix=''):
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _leaves(value, prefix + key + '.')
        else:
            yield prefix + key, value


def epoch_curves(logs):
    """The curves of the logs that were logged once per epoch.

    The number of epochs is that of the training loss
    (``logs['rolling_training']['total_loss']``, one value per epoch from
    epoch 1 on). An entry with that many values is placed at epochs
    1, 2, ...; one with a value more (a hook also called before training,
    like ``MonitorScores``) at epochs 0, 1, .... Entries of any other
    length (hooks called after updates or every few epochs) and entries
    that are not numbers are left out.

    Parameters
    ----------
    logs : dict
        Trainer logs (``trainer.logs``, or :func:`load_logs` of a file
        written by ``SaveLogs``).

    Returns
    -------
    OrderedDict
        ``{quantity: OrderedDict({hook name: (epochs, values)})}``: the
        quantity is the entry's key below its hook (``'total_loss'``,
        ``'Accuracy'``, ``'W.mean'``), so that the training and the
        validation values of a quantity come together; values that are not
        finite are NaN.
    """
    if not isinstance(logs, dict):
        raise TypeError('expected trainer logs (a dict of dicts of lists), '
                        'got {!r}'.format(type(logs).__name__))
    training = logs.get(TRAINING, {})
    epochs = len(training.get('total_loss', [])) \
        if isinstance(training, dict) else 0
    curves = OrderedDict()
    for hook_name, entry in logs.items():
        if not isinstance(entry, dict):
            continue
        for quantity, values in _leaves(entry):
            if not isinstance(values, (list, tuple)) or not values:
                continue
            if len(values) == epochs:
                x = list(range(1, epochs + 1))
            elif len(values) == epochs + 1:
                x = list(range(epochs + 1))
            else:
                continue
            y = _numbers(values)
            if y is None:
                continue
            curves.setdefault(quantity, OrderedDict())[hook_name] = (x, y)
    # the loss first, the other quantities in their logged order; the
    # training curve first in each
    if 'total_loss' in curves:
        curves.move_to_end('total_loss', last=False)
    for lines in curves.values():
        if TRAINING in lines:
            lines.move_to_end(TRAINING, last=False)
    return curves


def _label(hook_name):
    if hook_name == TRAINING:
        return 'training (mean over the epoch)'
    return hook_name


def _title(quantity):
    return 'loss' if quantity == 'total_loss' else quantity


def plot_logs(logs, filename, title=None, dpi=100):
    """Draw the training and validation curves of trainer logs into an
    image file.

    One panel per quantity (the loss first, then every score), with the
    epoch on the x axis; the curves of all hooks that logged the quantity
    share its panel (the training loss, averaged over the minibatches of
    each epoch, beside the validation loss ...). See :func:`epoch_curves`
    for which entries are drawn.

    Parameters
    ----------
    logs : dict or str or os.PathLike
        Trainer logs (``trainer.logs``) or an HDF5 file written by the
        ``SaveLogs`` hook (``brainstorm train --logs FILE``).
    filename : str or os.PathLike
        The image to write; its extension picks the format (``.png``,
        ``.svg``, ``.pdf`` ...). Its directory must exist.
    title : str, optional
        Title of the figure (default: the logs file's name, if any).
    dpi : int
        Resolution of raster images.

    Returns
    -------
    OrderedDict
        What was drawn, as returned by :func:`epoch_curves`.

    Raises
    ------
    ImportError
        If matplotlib is not installed (the message names the extra:
        ``pip install brainstorm-hooks[plot]``).
    ValueError
        If the logs hold no per-epoch curve (e.g. no epoch was trained).
    brainstorm.FileFormatError
        If the file is not a logs file.

    Examples
    --------
    >>> trainer.add_hook(bs.hooks.SaveLogs('logs.h5'))
    >>> trainer.train(net, getter_tr, valid_getter=getter_va)
    >>> from brainstorm_hooks.plotting import plot_logs
    >>> plot_logs('logs.h5', 'curves.png')       # or plot_logs(trainer.logs, ...)
    """
    _, Figure, FigureCanvasAgg = _require_matplotlib()
    source = None
    if isinstance(logs, (str, os.PathLike)):
        source = os.fspath(logs)
        logs = load_logs(source)
    curves = epoch_curves(logs)
    if not curves:
        raise ValueError(
            'the logs{} hold no curve to plot: no entry has one value per '
            'epoch (the training loss has {}; the logs have: {})'.format(
                ' of ' + source if source else '',
                len(logs.get(TRAINING, {}).get('total_loss', []))
                if isinstance(logs.get(TRAINING), dict) else 0,
                ', '.join(name for name, _ in _leaves(logs)) or 'nothing'))
    count = len(curves)
    columns = min(count, 3)
    rows = (count + columns - 1) // columns
    figure = Figure(figsize=(4.8 * columns, 3.4 * rows + 0.5),
                    layout='constrained')
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    # one colour per hook in every panel ('C0', 'C1' ...: the style's cycle)
    colours = OrderedDict()
    for lines in curves.values():
        for hook_name in lines:
            colours.setdefault(hook_name, 'C{}'.format(len(colours) % 10))
    for ax, (quantity, lines) in zip(axes, curves.items()):
        for hook_name, (x, y) in lines.items():
            ax.plot(x, y, marker='o', markersize=3, linewidth=1.5,
                    color=colours[hook_name], label=_label(hook_name))
        ax.set_title(_title(quantity))
        ax.set_xlabel('epoch')
        ax.grid(True, alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize='small')
    for ax in axes[count:]:
        ax.set_visible(False)
    if title is None and source is not None:
        title = os.path.basename(source)
    if title:
        figure.suptitle(title)
    figure.savefig(os.fspath(filename), dpi=dpi)
    return curves
