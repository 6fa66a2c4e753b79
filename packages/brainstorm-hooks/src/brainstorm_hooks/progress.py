"""ProgressBar: a tqdm progress bar over the updates of each epoch."""
from brainstorm.distributed import is_writer, world
from brainstorm.hooks import Hook

__all__ = ['ProgressBar']


class ProgressBar(Hook):
    """Show a progress bar over the updates of each training epoch.

    A new bar (on stderr, drawn by tqdm) starts with every epoch; its total
    is the length of the training data iterator, and it is closed after the
    epoch's last update. When the length is unknown (None) the bar is a
    plain counter, closed when the next epoch starts (or when training
    starts again, or the hook is garbage-collected). The
    bar is disabled when stderr is not a terminal (log files, CI, captured
    output) unless ``force`` is set. It never logs any values.

    Parameters
    ----------
    name : str, optional
        Name of the hook (default: 'ProgressBar').
    force : bool
        Draw the bar even when stderr is not a terminal.

    Examples
    --------
    >>> trainer.add_hook(bs.hooks.ProgressBar())
    """

    __undescribed__ = {'bar': None, 'bar_epoch': None, 'done': 0,
                       'total': None}
    __default_values__ = {'timescale': 'update', 'interval': 1,
                          'force': False}

    def __init__(self, name=None, force=False):
        super().__init__(name, timescale='update', interval=1)
        self.force = bool(force)
        self.bar = None
        self.bar_epoch = None
        self.done = 0
        self.total = None

    def start(self, net, stepper, verbose, named_data_iters):
        super().start(net, stepper, verbose, named_data_iters)
        self.close()
        training_iter = named_data_iters.get('training_data_iter')
        self.total = getattr(training_iter, 'length', None)
        ranks = world().size
        if self.total is not None and ranks > 1:
            # data-parallel: an update takes one batch per rank
            self.total = self.total // ranks

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if self.bar is None or self.bar_epoch != epoch_nr:
            self.close()
            from tqdm import tqdm
            self.bar = tqdm(total=self.total, desc='epoch {}'.format(epoch_nr),
                            unit='update', leave=True,
                            disable=True if not is_writer() else
                            False if self.force else None)
            self.bar_epoch = epoch_nr
            self.done = 0
        self.bar.update(1)
        self.done += 1
        if self.total is not None and self.done >= self.total:
            self.close()

    def close(self):
        """Close the current bar, if any (done at the end of each epoch)."""
        if self.bar is not None:
            self.bar.close()
        self.bar = None
