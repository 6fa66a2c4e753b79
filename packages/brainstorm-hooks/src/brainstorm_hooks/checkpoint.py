"""SaveCheckpoint: write checkpoints from which training resumes exactly."""
from brainstorm.hooks import Hook

__all__ = ['SaveCheckpoint']


class SaveCheckpoint(Hook):
    """Write a checkpoint of the training at its timescale and interval.

    The checkpoint (``trainer.save_checkpoint``) is one HDF5 file with the
    network, the stepper's state, the trainer's counters and logs, every
    hook's state and the random states; it is written once all hooks of the
    round have been called, to a temporary file that is then renamed into
    place, so a crash never leaves a broken checkpoint. Continue with
    ``trainer.resume(filename, net)`` (trainer and network set up as
    before, hooks added again) or ``trainer, net =
    bs.Trainer.from_checkpoint(filename)``; then ``trainer.train(net,
    ...)`` with the same data iterators goes on exactly as if it had never
    been interrupted.

    A checkpoint that cannot be written (disk full ...) raises
    :class:`brainstorm.SaveError` from ``trainer.train``, naming the file
    and the reason; the previous checkpoint is unchanged and the training
    stays in memory, so ``trainer.save_checkpoint(other_file)`` can still
    save it.

    Parameters
    ----------
    filename : str
        The file to write; it may contain the fields ``{epoch}`` and
        ``{update}`` (e.g. ``'ckpt_{epoch:03d}.h5'``) to keep one file per
        checkpoint, otherwise each checkpoint replaces the previous one.
        Its directory must exist.
    name : str, optional
        Name of the hook (default: 'SaveCheckpoint').
    timescale : {'epoch', 'update'}
        Called after epochs or after updates. A checkpoint taken after an
        update resumes in the middle of that epoch.
    interval : int
        Called every ``interval`` epochs/updates.
    verbose : bool, optional
        Whether checkpoints are reported; None follows the trainer.

    Examples
    --------
    >>> trainer.add_hook(bs.hooks.SaveCheckpoint('run/checkpoint.h5'))
    >>> trainer.train(net, getter_tr, valid_getter=getter_va)
    ... # later, after a crash, with the same set-up:
    >>> trainer.resume('run/checkpoint.h5', net)
    >>> trainer.train(net, getter_tr, valid_getter=getter_va)
    """

    __undescribed__ = {'_trainer': None}

    def __init__(self, filename, name=None, timescale='epoch', interval=1,
                 verbose=None):
        super().__init__(name, timescale, interval, verbose)
        if not isinstance(filename, str) or not filename:
            raise ValueError('{}: filename must be a non-empty str, got {!r}'
                             .format(type(self).__name__, filename))
        try:
            filename.format(epoch=0, update=0)
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(
                '{}: filename {!r} may only contain the fields {{epoch}} and '
                '{{update}} ({}: {})'.format(type(self).__name__, filename,
                                             type(err).__name__, err)
            ) from None
        self.filename = filename
        self._trainer = None

    def attach_trainer(self, trainer):
        self._trainer = trainer

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if self._trainer is None:
            raise RuntimeError(
                '{} {!r}: no trainer; add the hook with trainer.add_hook and '
                'let trainer.train call it'.format(type(self).__name__,
                                                    self.__name__))
        filename = self.filename.format(epoch=epoch_nr, update=update_nr)
        self._trainer.save_checkpoint(filename)
        self.message('checkpoint of epoch {}, update {} to {}'.format(
            epoch_nr, update_nr, filename))
