"""Hooks: what the Trainer calls between updates or epochs (manual 8.6).

The catalogue (``ProgressBar``, ``MonitorScores``, ``SaveBestNetwork`` ...)
comes from plugins (brainstorm-hooks) and resolves by name here:
``bs.hooks.ProgressBar()``.
"""
from brainstorm.describable import Describable
from brainstorm.plugins import make_namespace

__all__ = ['Hook']


class Hook(Describable):
    """Base class of trainer hooks.

    Parameters
    ----------
    name : str, optional
        Key of this hook's logs in ``trainer.logs`` (default: class name).
    timescale : {'epoch', 'update'}
        Whether the hook is called after epochs or after updates.
    interval : int
        Called every ``interval`` epochs/updates.
    verbose : bool, optional
        Whether this hook's logs are printed; None follows the trainer.

    Subclasses implement ``__call__(epoch_nr, update_nr, net, stepper,
    logs)``, which may return a dict of values to log (nested dicts allowed)
    and raises ``StopIteration`` (with a message) to end training. ``start``
    is called once when training starts. Hooks with a running state
    override ``get_checkpoint_state``/``set_checkpoint_state`` so that
    training resumed from a checkpoint behaves as if never interrupted.

    A hook that ends trainings as a matter of course (after a number of
    epochs, when a log stops improving or reaches a threshold, or when the
    user asks, like the stoppers of brainstorm-hooks) sets the class
    attribute ``can_stop_training = True``: ``Trainer.train`` warns at the
    start when no hook can stop it. Hooks that stop only a training that
    failed (``StopOnNan``) leave it False.
    """

    can_stop_training = False

    __undescribed__ = {'__name__', 'run_verbosity'}
    __default_values__ = {'timescale': 'epoch', 'interval': 1,
                          'verbose': None}

    def __init__(self, name=None, timescale='epoch', interval=1,
                 verbose=None):
        if timescale not in ('epoch', 'update'):
            raise ValueError("{}: timescale must be 'epoch' or 'update', got "
                             '{!r}'.format(type(self).__name__, timescale))
        if int(interval) < 1:
            raise ValueError('{}: interval must be >= 1, got {!r}'.format(
                type(self).__name__, interval))
        self.__name__ = name if name is not None else type(self).__name__
        self.timescale = timescale
        self.interval = int(interval)
        self.verbose = verbose
        self.run_verbosity = None

    def __init_from_description__(self, description):
        self.__name__ = description.get('name') or type(self).__name__
        self.__dict__.pop('name', None)   # stored as __name__, not .name

    def __describe__(self):
        description = super().__describe__()
        if self.__name__ != type(self).__name__:
            description['name'] = self.__name__
        return description

    def attach_trainer(self, trainer):
        """Called by the trainer when training starts, before :meth:`start`.

        Hooks that act on the trainer itself (``SaveCheckpoint`` calls
        ``trainer.save_checkpoint``) keep it; the default does nothing.
        """

    def start(self, net, stepper, verbose, named_data_iters):
        """Called when training starts; ``verbose`` is the trainer's (False
        on the ranks other than 0 of a data-parallel job)."""
        self.run_verbosity = verbose if self.verbose is None else self.verbose

    def deltas_read(self, net):
        """Paths of the delta buffers this hook reads (default: none).

        ``Trainer.train`` lets layers skip the input deltas that no
        parameter's gradient needs (the largest saving is the product for
        the deltas of the data in the first layer) unless a hook reads
        them: a hook that reads deltas returns their paths here,
        ``'LAYER.input_deltas.NAME'``, ``'LAYER.output_deltas.NAME'``, or
        ``'LAYER.input_deltas'`` / ``'LAYER.output_deltas'`` for all of a
        layer's. Called after :meth:`start`. Skipped buffers hold NaN, and
        ``net.get`` refuses them with an error that says so.
        """
        return ()

    def get_checkpoint_state(self):
        """The running state of this hook, for checkpoints.

        A hook whose behaviour depends on earlier calls (best value so far,
        patience counters ...) returns it as a JSON-serialisable dict of
        plain values (float, int, str, bool, None, lists, dicts); stateless
        hooks keep this default, an empty dict.
        """
        return {}

    def set_checkpoint_state(self, state):
        """Restore what :meth:`get_checkpoint_state` returned.

        The trainer calls it when training resumes from a checkpoint, after
        :meth:`start`. The default does nothing.
        """

    def message(self, text):
        """Print ``text`` prefixed with the hook's name if verbose (on rank
        0 only, in a data-parallel job)."""
        from brainstorm.distributed import is_writer
        if self.run_verbosity and is_writer():
            print('{} >> {}'.format(self.__name__, text))

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        raise NotImplementedError


__getattr__, __dir__ = make_namespace('hooks', globals(), __name__)
