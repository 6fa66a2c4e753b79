"""Scorers: measures of a network's outputs against targets (manual 8.8).

The catalogue (``Accuracy`` ...) comes from plugins (brainstorm-hooks):
``bs.scorers.Accuracy(out_name='Output.outputs.predictions')``.
"""
import numpy as np

from brainstorm.describable import Describable
from brainstorm.plugins import make_namespace

__all__ = ['Scorer', 'gather_losses_and_scores', 'gather_scores_of_batch']


class Scorer(Describable):
    """Base class of scorers.

    Parameters
    ----------
    out_name : str
        Dotted path of the network output to score
        (``'Output.outputs.predictions'``); '' means the network's default
        output (see ``Network.default_output``).
    targets_name : str
        Name of the targets in the data.
    mask_name : str
        Name of a mask in the data ('' for none); masked-out entries do not
        count.
    name : str
        Key of the score in the logs (default: the class name).

    Subclasses implement ``__call__(true_labels, predicted, mask=None)``
    returning the score of one batch, and may override ``aggregate``, which
    combines ``(weight, score)`` pairs of several batches (default: the
    weighted mean).
    """

    __default_values__ = {'out_name': '', 'targets_name': 'targets',
                          'mask_name': ''}

    def __init__(self, out_name='', targets_name='targets', mask_name='',
                 name=None):
        self.out_name = out_name
        self.targets_name = targets_name
        self.mask_name = mask_name
        self.__name__ = name if name is not None else type(self).__name__

    def __call__(self, true_labels, predicted, mask=None):
        raise NotImplementedError

    def weight(self, true_labels, mask=None):
        """The weight of one batch in ``aggregate``: the number of counted
        entries (time steps x sequences, or the mask's sum)."""
        if mask is not None:
            return float(np.sum(mask))
        return float(np.prod(true_labels.shape[:2]))

    @staticmethod
    def aggregate(pairs):
        pairs = [(w, s) for w, s in pairs if w]   # empty batches add nothing
        total = sum(w for w, _ in pairs)
        if total == 0:
            return float('nan')
        return float(sum(w * s for w, s in pairs) / total)


def gather_losses_and_scores(net, scorers, data_iter, out_name='',
                             targets_name='targets', mask_name=''):
    """Run ``net`` over ``data_iter`` (inference passes) and return a dict
    with the loss values (weighted by batch size) and every scorer's
    aggregated score.

    In a data-parallel job (``brainstorm.distributed``) every rank must
    call it: each rank runs every N-th batch, and all ranks get the values
    of all batches, so the result is the same on every rank and equal to
    a single process's.

    Raises
    ------
    ValueError
        If ``data_iter`` yields no batch (there would be no loss or score,
        only NaN)."""
    from brainstorm import distributed
    comm = distributed.world()
    results = []   # (batch number, {loss: (weight, value)}, {scorer: pair})
    for number, data in enumerate(data_iter(handler=net.handler)):
        if number % comm.size != comm.rank:
            continue   # another rank's batch (data-parallel jobs)
        net.provide_external_data(data)
        net.forward_pass(training_pass=False)
        batch = _batch_size(data)
        results.append((number, {
            key: (batch, value)
            for key, value in net.get_loss_values().items()}, {
            scorer.__name__: gather_scores_of_batch(
                net, scorer, data, out_name, targets_name, mask_name)
            for scorer in scorers}))
    if comm.size > 1:   # every rank gets all batches' values, in order
        results = sorted((r for theirs in comm.allgather(results)
                          for r in theirs), key=lambda r: r[0])
    losses = {}
    scored = {s.__name__: [] for s in scorers}
    for _, batch_losses, batch_scores in results:
        for key, pair in batch_losses.items():
            losses.setdefault(key, []).append(pair)
        for name, pair in batch_scores.items():
            scored[name].append(pair)
    if not losses:
        raise ValueError('the data iterator yielded no batches: there is no '
                         'data to compute losses and scores on')
    results = {key: Scorer.aggregate(pairs) for key, pairs in losses.items()}
    for scorer in scorers:
        results[scorer.__name__] = scorer.aggregate(scored[scorer.__name__])
    return results


def gather_scores_of_batch(net, scorer, data, out_name='',
                           targets_name='targets', mask_name=''):
    """``(weight, score)`` of ``scorer`` on the batch ``data`` after a
    forward pass of ``net``."""
    oname = scorer.out_name or out_name or net.default_output
    predicted = net.get(oname)
    true = _numpy(net, data[scorer.targets_name or targets_name])
    mname = scorer.mask_name or mask_name
    mask = _numpy(net, data[mname]) if mname else None
    return scorer.weight(true, mask), scorer(true, predicted, mask)


def _batch_size(data):
    first = next(iter(data.values()))
    return first.shape[1]


def _numpy(net, array):
    if isinstance(array, np.ndarray):
        return array
    return net.handler.get_numpy_copy(array)


__getattr__, __dir__ = make_namespace('scorers', globals(), __name__)
