"""SquaredError: the regression output layer of ``get_in_out_layers``;
half the squared error per dimension."""
from brainstorm.layers import construction_function

from brainstorm_layers.squared_loss import SquaredLossLayerImpl


class SquaredErrorLayerImpl(SquaredLossLayerImpl):
    """Regression output layer, computing what SquaredLoss computes.

    Inputs ``default`` and ``targets`` of the same shape (T, B, ...).
    Outputs ``predictions`` (a copy of the inputs) and ``loss`` of the same
    shape, ``0.5 * (x - t) ** 2`` per dimension: since 0.5 the loss layers
    output a loss for each dimension instead of summing over features (a
    Loss layer sums them, so the total loss is unchanged). The internal
    ``diff`` holds ``x - t``. The deltas of the loss are back-propagated to
    ``default``; ``targets`` get none and ``predictions`` take none.
    """


@construction_function(SquaredErrorLayerImpl)
def SquaredError(name=None):
    """Regression output layer (least squares): ``loss = 0.5 * (x - t) **
    2`` per dimension, ``predictions`` = x; the same as SquaredLoss.

    Connect the targets (same shape as the inputs) to its ``targets`` input
    and its ``loss`` output to a Loss layer.

    Parameters
    ----------
    name : str, optional
        Layer name.
    """
