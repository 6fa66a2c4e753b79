"""Scorers: measures of a network's outputs against the targets."""
import numpy as np

from brainstorm.scorers import Scorer

__all__ = ['Accuracy']


class Accuracy(Scorer):
    """The fraction of correctly classified entries.

    The predicted class is the argmax over the last axis of the network
    output; for an output with a single feature (binary classification) it
    is 1 where the output is above 0.5 and 0 elsewhere. Targets are class
    indices shaped (T, B, 1) (one-hot targets with as many features as the
    output work too). A mask (T, B, 1) weights the entries: entries with
    mask 0 do not count.

    Batches are combined by ``aggregate`` weighted by ``weight`` (the number
    of counted entries), so the result over batches of different sizes is
    the accuracy over all entries.

    Parameters
    ----------
    out_name : str
        Dotted path of the network output (``'Output.outputs.predictions'``);
        '' means the network's default output.
    targets_name : str
        Name of the targets in the data.
    mask_name : str
        Name of a mask in the data ('' for none).
    name : str, optional
        Key of the score in the logs (default: 'Accuracy').

    Examples
    --------
    >>> scorers = [bs.scorers.Accuracy(out_name='Output.outputs.predictions')]
    >>> bs.tools.evaluate(net, getter_va, scorers)['Accuracy']
    """

    def __call__(self, true_labels, predicted, mask=None):
        predicted = np.asarray(predicted)
        true_labels = np.asarray(true_labels)
        if predicted.shape[-1] == 1:
            predicted_class = (predicted[..., 0] > 0.5).astype(np.int64)
        else:
            predicted_class = np.argmax(predicted, axis=-1)
        if true_labels.shape[-1] == predicted.shape[-1] > 1:
            true_class = np.argmax(true_labels, axis=-1)   # one-hot targets
        else:
            true_class = true_labels.reshape(true_labels.shape[:-1]) \
                if true_labels.shape[-1] == 1 else true_labels
            if predicted.shape[-1] == 1:
                true_class = true_class > 0.5
            true_class = np.rint(true_class).astype(np.int64)
        if true_class.shape != predicted_class.shape:
            raise ValueError(
                '{}: targets of shape {} do not match predictions of shape '
                '{}'.format(self.__name__, true_labels.shape,
                            predicted.shape))
        correct = (true_class == predicted_class).astype(np.float64)
        if mask is None:
            return float(correct.mean()) if correct.size else 0.0
        mask = np.asarray(mask, dtype=np.float64)
        if mask.ndim == correct.ndim + 1 and mask.shape[-1] == 1:
            mask = mask[..., 0]
        mask = mask.reshape(mask.shape + (1,) * (correct.ndim - mask.ndim))
        mask = np.broadcast_to(mask, correct.shape)
        counted = mask.sum()
        # a batch where nothing counts has weight 0: score it 0, not NaN,
        # so that aggregating it with other batches stays finite
        return float((correct * mask).sum() / counted) if counted else 0.0
