"""Stoppers: hooks that end the training."""
from brainstorm.hooks import Hook

__all__ = ['StopAfterEpoch']


class StopAfterEpoch(Hook):
    """Stop the training after a number of epochs.

    Parameters
    ----------
    max_epochs : int
        Number of epochs to train (0 stops before the first epoch).
    name : str, optional
        Name of the hook (default: 'StopAfterEpoch').
    timescale : {'epoch', 'update'}
        Called after epochs or after updates. With 'epoch' (the default)
        exactly ``max_epochs`` epochs are trained; with 'update' the
        training stops at the first update of epoch ``max_epochs``.
    interval : int
        Called every ``interval`` epochs/updates.
    verbose : bool, optional
        Whether the stop is reported; None follows the trainer.

    Examples
    --------
    >>> trainer.add_hook(bs.hooks.StopAfterEpoch(20))
    """

    def __init__(self, max_epochs, name=None, timescale='epoch', interval=1,
                 verbose=None):
        super().__init__(name, timescale, interval, verbose)
        try:
            valid = not isinstance(max_epochs, bool) and \
                int(max_epochs) == max_epochs and max_epochs >= 0
        except (TypeError, ValueError):
            valid = False
        if not valid:
            raise ValueError('{}: max_epochs must be an integer >= 0, got '
                             '{!r}'.format(type(self).__name__, max_epochs))
        self.max_epochs = int(max_epochs)

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if epoch_nr >= self.max_epochs:
            raise StopIteration('epoch limit of {} reached'.format(
                self.max_epochs))
