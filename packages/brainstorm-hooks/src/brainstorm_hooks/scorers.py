"""Scorers: measures of a network's outputs against the targets."""
import numpy as np

from brainstorm.scorers import Scorer

__all__ = ['Accuracy', 'Hamming', 'MeanSquaredError']


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


class _ElementwiseScorer(Scorer):
    """A mean over all elements of targets and outputs of one shape
    (T, B, ...), weighted by the mask.

    Subclasses implement ``_errors(true_labels, predicted)`` returning the
    error of every element.
    """

    def _errors(self, true_labels, predicted):
        raise NotImplementedError

    def _element_mask(self, true_labels, mask):
        """The mask broadcast to the shape of the targets (float)."""
        mask = np.asarray(mask, dtype=np.float64)
        if mask.ndim == true_labels.ndim - 1:
            mask = mask[..., None]
        try:
            return np.broadcast_to(mask, true_labels.shape)
        except ValueError:
            raise ValueError(
                '{}: a mask of shape {} does not fit targets of shape '
                '{}'.format(self.__name__, mask.shape,
                            true_labels.shape)) from None

    def weight(self, true_labels, mask=None):
        """The weight of one batch in ``aggregate``: the number of counted
        elements (the size of the targets, or the sum of the mask over
        them)."""
        true_labels = np.asarray(true_labels)
        if mask is None:
            return float(true_labels.size)
        return float(self._element_mask(true_labels, mask).sum())

    def __call__(self, true_labels, predicted, mask=None):
        true_labels = np.asarray(true_labels, dtype=np.float64)
        predicted = np.asarray(predicted, dtype=np.float64)
        if true_labels.shape != predicted.shape:
            raise ValueError(
                '{}: targets of shape {} do not match outputs of shape '
                '{}'.format(self.__name__, true_labels.shape,
                            predicted.shape))
        errors = self._errors(true_labels, predicted)
        if mask is None:
            return float(errors.mean()) if errors.size else 0.0
        mask = self._element_mask(true_labels, mask)
        counted = mask.sum()
        # nothing counted: weight 0, so the score does not matter; 0, not NaN
        return float((errors * mask).sum() / counted) if counted else 0.0


class Hamming(_ElementwiseScorer):
    """The Hamming loss of multi-label outputs: the fraction of wrong
    labels (bits).

    An output above 0.5 predicts 1, otherwise 0; targets (0 or 1, of the
    output's shape (T, B, F)) are read with the same threshold. A mask
    (T, B, 1) weights time steps and sequences, a mask of the targets'
    shape single labels; masked-out bits do not count.

    Batches are combined by ``aggregate`` weighted by ``weight`` (the number
    of counted bits), so the result over several batches is the fraction
    of wrong bits over all of them.

    Parameters
    ----------
    out_name : str
        Dotted path of the network output (e.g. the ``predictions`` of a
        SigmoidCE layer); '' means the network's default output.
    targets_name : str
        Name of the targets in the data.
    mask_name : str
        Name of a mask in the data ('' for none).
    name : str, optional
        Key of the score in the logs (default: 'Hamming').

    Examples
    --------
    >>> hamming = bs.scorers.Hamming(out_name='Output.outputs.predictions')
    >>> bs.tools.evaluate(net, getter_va, [hamming])['Hamming']
    """

    def _errors(self, true_labels, predicted):
        return ((true_labels > 0.5) != (predicted > 0.5)).astype(np.float64)


class MeanSquaredError(_ElementwiseScorer):
    """The mean squared error ``mean((outputs - targets) ** 2)`` over all
    elements (time steps, sequences and features; no factor 1/2).

    Targets have the shape of the output (T, B, ...). A mask (T, B, 1)
    weights time steps and sequences, a mask of the targets' shape single
    elements; masked-out elements do not count.

    Batches are combined by ``aggregate`` weighted by ``weight`` (the number
    of counted elements), so the result over several batches is the mean
    over all their elements, not the mean of the batch means.

    Parameters
    ----------
    out_name : str
        Dotted path of the network output; '' means the network's default
        output.
    targets_name : str
        Name of the targets in the data.
    mask_name : str
        Name of a mask in the data ('' for none).
    name : str, optional
        Key of the score in the logs (default: 'MeanSquaredError').

    Examples
    --------
    >>> mse = bs.scorers.MeanSquaredError(out_name='Out.outputs.predictions')
    >>> bs.tools.evaluate(net, getter_va, [mse])['MeanSquaredError']
    """

    def _errors(self, true_labels, predicted):
        return (predicted - true_labels) ** 2
