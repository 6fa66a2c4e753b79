"""The Trainer: runs a stepper over the training data and calls hooks."""
import json
import math
import os
import warnings
from collections import OrderedDict

import numpy as np

from brainstorm import distributed
from brainstorm.data_iterators import check_data_shapes
from brainstorm.describable import (Describable, DescriptionError,
                                    create_from_description, get_description)
from brainstorm.randomness import global_rnd
from brainstorm.scorers import gather_scores_of_batch
from brainstorm.training.checkpoint import (decode_values, encode_values,
                                            get_random_state, read_checkpoint,
                                            set_random_state,
                                            write_checkpoint)

__all__ = ['Trainer']


class Trainer(Describable):
    """Organises the training of a network (manual 8.2).

    Parameters
    ----------
    stepper : TrainingStepper
        How parameters are updated.
    verbose : bool
        Whether logs are printed.

    Attributes
    ----------
    logs : dict
        Everything hooks logged, ``logs[hook_name][key]`` a list with one
        value per call (nested dicts for nested logs); 'rolling_training'
        holds the mean training loss (and ``train_scorers``) per epoch.
    train_scorers : list[Scorer]
        Scorers evaluated on the training batches as they pass.

    Training can be resumed exactly from checkpoints: see
    :meth:`save_checkpoint`, :meth:`resume` and :meth:`from_checkpoint`.
    """

    __undescribed__ = {'current_epoch_nr': 0, 'current_update_nr': 0,
                       'logs': {}, 'should_stop': False, '_net': None,
                       '_data_iters': None, '_epoch_progress': None,
                       '_round': None, '_resume': None, '_comm': None}

    def __init__(self, stepper, verbose=True):
        self.stepper = stepper
        self.verbose = verbose
        self.hooks = OrderedDict()
        self.train_scorers = []
        self.current_epoch_nr = 0
        self.current_update_nr = 0
        self.logs = {}
        self.should_stop = False
        # the network and data iterators of the current (or last) train()
        self._net = None
        self._data_iters = None
        # the epoch in progress: iterator state at its start, losses, scores
        self._epoch_progress = None
        # while hooks are called: the checkpoints they asked for
        self._round = None
        # what resume() read, applied when train() starts
        self._resume = None
        # the processes of a data-parallel job (brainstorm.distributed)
        self._comm = None

    def add_hook(self, hook):
        """Add a hook; hooks are called in the order they were added.

        Raises
        ------
        ValueError
            If a hook with the same name was already added.
        """
        name = hook.__name__
        if name in self.hooks:
            raise ValueError('a hook named {!r} was already added; give the '
                             'new one another name=...'.format(name))
        self.hooks[name] = hook

    def train(self, net, training_data_iter, **named_data_iters):
        """Train ``net`` on ``training_data_iter`` until a hook stops it.

        After :meth:`resume`, training continues where the checkpoint was
        taken: the stepper's state, the hooks' states and the random states
        are restored here, after the stepper and the hooks were started.

        Parameters
        ----------
        net : Network
        training_data_iter : DataIterator
        **named_data_iters : DataIterator
            Further iterators hooks refer to by name (e.g. 'valid_getter').
        """
        if 'training_data_iter' in named_data_iters:
            raise ValueError("'training_data_iter' is reserved for the "
                             'training data')
        named_data_iters = dict(named_data_iters,
                                training_data_iter=training_data_iter)
        if self._resume is not None and self._resume['net'] is not net:
            raise ValueError(
                'Trainer.train: got another network than the one given to '
                'resume({!r}, net)'.format(self._resume['filename']))
        _check_iterators(net, named_data_iters)
        self._net, self._data_iters = net, named_data_iters
        comm = self._comm = distributed.world()
        if comm.size > 1:
            self._start_job(net, named_data_iters)
        if comm.rank == 0:
            _warn_if_unstoppable(self.hooks, training_data_iter)
        self.stepper.start(net)
        self.should_stop = False
        for hook in self.hooks.values():
            hook.attach_trainer(self)
            hook.start(net, self.stepper, self.verbose and comm.rank == 0,
                       named_data_iters)
        # deltas that no parameter needs and no hook reads are skipped
        # while training (restored on return)
        net._skip_deltas_except([path for hook in self.hooks.values()
                                 for path in hook.deltas_read(net)])
        sharing = None
        if comm.size > 1:
            sharing = (distributed.GradientAverage(comm),
                       distributed.ShardedMasks(net.handler))
            net.gradient_reducer = sharing[0]
            sharing[1].install()
        try:
            self._train_loop(net, training_data_iter, named_data_iters,
                             sharing)
        finally:
            net.compute_all_deltas = net.compute_all_deltas
            if sharing is not None:
                net.gradient_reducer = None
                sharing[1].remove()
        return self.logs

    def _start_job(self, net, named_data_iters):
        """Data-parallel training: check that all ranks train the same
        network the same way, then give them rank 0's parameters and
        random states."""
        comm = self._comm
        if self._resume is not None:
            where = {'resumed from': os.path.basename(
                self._resume['filename'])}
        else:
            where = {'epoch': self.current_epoch_nr}
        distributed.check_same_job(comm, dict(
            where,
            **{'a network with the architecture':
               distributed.fingerprint(net.architecture),
               'parameters': int(net.buffer.parameters.size),
               'the handler': repr(net.handler),
               'the stepper': distributed.fingerprint(
                   _try_describe(self.stepper)),
               'the hooks': list(self.hooks),
               'data iterators': {
                   name: [type(it).__name__, getattr(it, 'length', None),
                          str(getattr(it, 'data_shapes', None))]
                   for name, it in sorted(named_data_iters.items())}}))
        distributed.share_start(comm, net, named_data_iters)

    def _train_loop(self, net, training_data_iter, named_data_iters,
                    sharing=None):
        comm = self._comm
        progress = None
        if self._resume is not None:
            progress = self._apply_resume(net, named_data_iters)
        elif self.current_epoch_nr == 0:
            self._emit_hooks(net, 'epoch')
        while not self.should_stop:
            if progress is None:
                self.current_epoch_nr += 1
                progress = {
                    'iter_state': _checkpoint_state_of(training_data_iter),
                    'losses': [], 'batches': 0,
                    'scores': {s.__name__: [] for s in self.train_scorers}}
            self._epoch_progress = progress
            losses, scores = progress['losses'], progress['scores']
            # the iterator's batches this epoch consumed before a resume
            skip = progress.get('batches', len(losses))
            for data, share in distributed.batch_rounds(
                    training_data_iter(handler=net.handler), comm, skip):
                net.provide_external_data(data)
                if sharing is not None:
                    sharing[0].share = sharing[1].share = share
                self.stepper.run()
                loss = net.get_loss_values()['total_loss']
                if sharing is not None:   # the mean over the global batch
                    total = np.array([share.weight * loss])
                    comm.allreduce(total)
                    loss = float(total[0])
                losses.append(loss)
                progress['batches'] = share.consumed
                batch_scores = {
                    scorer.__name__: gather_scores_of_batch(net, scorer,
                                                            data)
                    for scorer in self.train_scorers}
                if batch_scores and sharing is not None:
                    for theirs in comm.allgather(batch_scores):
                        for name, pair in theirs.items():
                            scores.setdefault(name, []).append(pair)
                else:
                    for name, pair in batch_scores.items():
                        scores.setdefault(name, []).append(pair)
                self.current_update_nr += 1
                self._emit_hooks(net, 'update')
                if self.should_stop:
                    break
            if not losses:
                raise ValueError(
                    'Trainer.train: the training data iterator yielded no '
                    'batches in epoch {}: there is no training data'.format(
                        self.current_epoch_nr))
            progress = self._epoch_progress = None
            rolling = OrderedDict(
                [('total_loss', float(np.mean(losses)) if losses
                  else math.nan)])
            for scorer in self.train_scorers:
                rolling[scorer.__name__] = scorer.aggregate(
                    scores.get(scorer.__name__, []))
            self._add_log('rolling_training', rolling)
            if not self.should_stop:
                self._emit_hooks(net, 'epoch')

    def _emit_hooks(self, net, timescale):
        count = self.current_epoch_nr if timescale == 'epoch' \
            else self.current_update_nr
        printed_header = False
        self._round = []
        try:
            for name, hook in self.hooks.items():
                if hook.timescale != timescale or count % hook.interval:
                    continue
                try:
                    result = hook(self.current_epoch_nr,
                                  self.current_update_nr, net, self.stepper,
                                  self.logs)
                except StopIteration as stop:
                    self.should_stop = True
                    verbose = self._prints(hook)
                    if verbose and stop.args:
                        print('{} >> {}'.format(name, stop.args[0]))
                    continue
                if result:
                    verbose = self._prints(hook)
                    if verbose and timescale == 'epoch' and \
                            not printed_header:
                        self._print_header()
                        printed_header = True
                    self._add_log(name, result, verbose)
            requested = self._round
        finally:
            self._round = None
        if self._comm is not None and self._comm.size > 1:
            # a hook that stopped the training on one rank stops all
            self.should_stop = self._comm.any(self.should_stop)
        for filename in requested:
            self.save_checkpoint(filename)

    def _prints(self, hook):
        """Whether the result of ``hook`` is printed: its run_verbosity,
        else the trainer's verbose; on rank 0 of a job only."""
        verbose = hook.run_verbosity if hook.run_verbosity is not None \
            else self.verbose
        return bool(verbose) and distributed.is_writer()

    # -- checkpoints ----------------------------------------------------------
    def save_checkpoint(self, filename):
        """Write a checkpoint of this training to ``filename`` (HDF5).

        The checkpoint holds the network (a checkpoint is also a network
        file: ``Network.from_hdf5`` reads it), the stepper's description and
        state, the epoch and update counters, the logs, every hook's
        description and ``get_checkpoint_state()``, and the random states of
        ``bs.global_rnd``, the network, its handler and the data iterators
        (those that have ``get_checkpoint_state``). :meth:`resume` or
        :meth:`from_checkpoint` continue from it.

        Called from a hook (as ``SaveCheckpoint`` does), the checkpoint is
        written once all hooks of that round have been called, so that it
        holds their logs. Called between updates (from an update hook), the
        resumed training finishes the epoch in progress. Called after
        ``train`` returned, it is resumed with the next epoch.

        The file is written to a temporary file beside ``filename`` and
        renamed into place, so a crash while writing leaves an earlier
        checkpoint intact.

        Parameters
        ----------
        filename : str
            The file to write; its directory must exist.

        Raises
        ------
        RuntimeError
            If ``train`` has not been called yet.
        brainstorm.SaveError
            If the file cannot be written (disk full ...); an earlier
            checkpoint of that name is unchanged.
        """
        if self._round is not None:
            self._round.append(filename)
            return
        if self._net is None:
            raise RuntimeError('Trainer.save_checkpoint: there is nothing to '
                               'save before train(net, ...) has been called')
        net = self._net
        position = {'epoch': self.current_epoch_nr,
                    'update': self.current_update_nr, 'epoch_progress': None}
        iterator_states = {}
        for name, iterator in self._data_iters.items():
            state = _checkpoint_state_of(iterator)
            if state is not None:
                iterator_states[name] = state
        if self._epoch_progress is not None:
            progress = self._epoch_progress
            position['epoch_progress'] = {
                'losses': encode_values(progress['losses']),
                'batches': progress.get('batches', len(progress['losses'])),
                'scores': encode_values(progress['scores'])}
            iterator_states.pop('training_data_iter', None)
            if progress['iter_state'] is not None:
                iterator_states['training_data_iter'] = progress['iter_state']
        hooks = []
        for name, hook in self.hooks.items():
            hooks.append({'name': name, 'description': _try_describe(hook),
                          'state': encode_values(
                              hook.get_checkpoint_state())})
        handler_rnd = getattr(net.handler, 'rnd', None)
        entries = {
            'trainer': {'verbose': self.verbose,
                        'train_scorers': _try_describe(self.train_scorers),
                        'position': position},
            'stepper': _try_describe(self.stepper),
            'logs': encode_values(self.logs),
            'hooks': hooks,
            'random': {
                'global': get_random_state(global_rnd),
                'network': get_random_state(net.rnd),
                'handler': get_random_state(handler_rnd) if isinstance(
                    handler_rnd, np.random.RandomState) else None,
                'iterators': encode_values(iterator_states)}}
        if distributed.is_writer():   # rank 0 of a data-parallel job
            write_checkpoint(filename, net, entries,
                             self.stepper.get_state())

    def resume(self, filename, net):
        """Continue the training saved in the checkpoint ``filename``.

        Use it on a trainer and network set up as for the interrupted run
        (same architecture, same stepper class; hooks added again under
        their names). It sets the network's parameters, the stepper's
        attributes (a learning rate changed by a schedule included), the
        epoch and update counters and the logs at once; the stepper's state,
        every hook's checkpoint state and the random states of
        ``bs.global_rnd``, the network, its handler and the data iterators
        are restored when ``train(net, ...)`` starts, so that iterators may
        be created after ``resume``. Then ``train`` goes on exactly as the
        interrupted run would have.

        Parameters
        ----------
        filename : str
            A checkpoint written by :meth:`save_checkpoint` or the
            ``SaveCheckpoint`` hook.
        net : Network
            The network to continue training (its parameters are replaced).

        Raises
        ------
        ValueError
            If the file holds another architecture or another stepper
            class.
        brainstorm.FileFormatError
            If the file is not a checkpoint (the message says what it is
            instead) or is damaged.
        FileNotFoundError
            If there is no such file.
        """
        contents = read_checkpoint(filename)
        if contents['network']['architecture'] != \
                json.loads(json.dumps(net.architecture)):
            raise ValueError(
                'Trainer.resume: the network does not have the architecture '
                'of the one saved in {}'.format(filename))
        stepper = contents['stepper']
        if stepper is not None:
            if stepper['@type'] != type(self.stepper).__name__:
                raise ValueError(
                    'Trainer.resume: {} was saved with a {}, but this '
                    'trainer has a {}'.format(filename, stepper['@type'],
                                              type(self.stepper).__name__))
            for key, value in stepper.items():
                if key != '@type':
                    setattr(self.stepper, key, create_from_description(value))
        net.set_parameters(contents['parameters'])
        position = contents['trainer']['position']
        self.current_epoch_nr = int(position['epoch'])
        self.current_update_nr = int(position['update'])
        self.logs = dict(decode_values(contents['logs'], OrderedDict))
        self.should_stop = False
        self._resume = {'filename': os.fspath(filename), 'net': net,
                        'stepper_state': contents['stepper_state'],
                        'hooks': [(h['name'], h['state'])
                                  for h in contents['hooks']],
                        'random': contents['random'],
                        'epoch_progress': position['epoch_progress']}

    @classmethod
    def from_checkpoint(cls, filename):
        """Re-create the trainer and the network of a checkpoint.

        The network is loaded from the file (on a handler like the saved
        one), the stepper, the ``train_scorers`` and the hooks are created
        from their descriptions, then :meth:`resume` restores the rest.
        Network weight and gradient modifiers are not part of a network's
        description: set them again. Hooks that could not be described when
        the checkpoint was written are missing (a warning names them); add
        them again under the same names before ``train`` and their states
        are restored too.

        Parameters
        ----------
        filename : str
            A checkpoint written by :meth:`save_checkpoint` or the
            ``SaveCheckpoint`` hook.

        Returns
        -------
        tuple(Trainer, Network)
            Continue with ``trainer.train(net, training_data_iter, ...)``.
        """
        from brainstorm.structure.network import Network
        contents = read_checkpoint(filename)
        if contents['stepper'] is None:
            raise ValueError(
                'Trainer.from_checkpoint: the stepper in {} could not be '
                'described when it was saved; create the trainer and use '
                'trainer.resume(filename, net)'.format(filename))
        settings = contents['trainer']
        trainer = cls(create_from_description(contents['stepper']),
                      verbose=settings['verbose'])
        if settings['train_scorers'] is not None:
            trainer.train_scorers = create_from_description(
                settings['train_scorers'])
        missing = []
        for entry in contents['hooks']:
            if entry['description'] is None:
                missing.append(entry['name'])
            else:
                trainer.add_hook(create_from_description(entry['description']))
        if missing:
            warnings.warn(
                'Trainer.from_checkpoint: the hook(s) {} of {} could not be '
                'described; add them again (same names) before train'.format(
                    ', '.join(repr(n) for n in missing), filename),
                RuntimeWarning, stacklevel=2)
        net = Network.from_hdf5(filename)
        handler = contents['network'].get('handler')
        if handler is not None and get_description(net.handler) != handler:
            net.set_handler(create_from_description(handler))
        trainer.resume(filename, net)
        return trainer, net

    def _apply_resume(self, net, named_data_iters):
        """Restore what resume() read; return the epoch progress or None."""
        resume, self._resume = self._resume, None
        self.stepper.set_state(resume['stepper_state'])
        where = resume['filename']
        unknown = []
        for name, state in resume['hooks']:
            if name in self.hooks:
                self.hooks[name].set_checkpoint_state(decode_values(state))
            elif state:
                unknown.append(name)
        if unknown:
            warnings.warn('Trainer.train: {} holds the state of the hook(s) '
                          '{}, which this trainer does not have; add them '
                          'before train to continue them'.format(
                              where, ', '.join(repr(n) for n in unknown)),
                          RuntimeWarning, stacklevel=3)
        random = resume['random']
        set_random_state(global_rnd, random['global'])
        set_random_state(net.rnd, random['network'])
        handler_rnd = getattr(net.handler, 'rnd', None)
        if random['handler'] is not None and \
                isinstance(handler_rnd, np.random.RandomState):
            set_random_state(handler_rnd, random['handler'])
        for name, state in decode_values(random['iterators']).items():
            iterator = named_data_iters.get(name)
            restore = getattr(iterator, 'set_checkpoint_state', None)
            if restore is None:
                warnings.warn(
                    'Trainer.train: {} holds the random state of the data '
                    'iterator {!r}, but {}'.format(
                        where, name, 'train() got no iterator of that name'
                        if iterator is None else 'it has no '
                        'set_checkpoint_state'), RuntimeWarning, stacklevel=3)
            else:
                restore(state)
        progress = resume['epoch_progress']
        if progress is None:
            return None
        losses = decode_values(progress['losses'])
        return {'iter_state': decode_values(random['iterators']).get(
                    'training_data_iter'),
                'losses': losses,
                'batches': int(progress.get('batches', len(losses))),
                'scores': decode_values(progress['scores'])}

    def _print_header(self):
        print('-' * 20 + ' epoch {:>3} '.format(self.current_epoch_nr) +
              '-' * 20 + ' update {} '.format(self.current_update_nr))

    def _add_log(self, name, value, verbose=False, logs=None, indent=0):
        logs = self.logs if logs is None else logs
        if isinstance(value, dict):
            if verbose:
                print('  ' * indent + '{}:'.format(name))
            sub = logs.setdefault(name, OrderedDict())
            for key, val in value.items():
                self._add_log(key, val, verbose, sub, indent + 1)
        else:
            logs.setdefault(name, []).append(value)
            if verbose:
                print('  ' * indent + '{}: {}'.format(name, _fmt(value)))


def _fmt(value):
    if isinstance(value, float):
        return '{:.6g}'.format(value)
    return str(value)


def _check_iterators(net, named_data_iters):
    """Refuse iterators without data, or with items whose feature shape
    is not that of the network's input of the same name."""
    for name, iterator in named_data_iters.items():
        where = 'Trainer.train: {}'.format(name)
        if getattr(iterator, 'length', None) == 0:
            raise ValueError('{} holds no data (0 batches)'.format(where))
        check_data_shapes(net, getattr(iterator, 'data_shapes', None), where)


def _checkpoint_state_of(iterator):
    get_state = getattr(iterator, 'get_checkpoint_state', None)
    return None if get_state is None else get_state()


def _try_describe(value):
    try:
        return get_description(value)
    except DescriptionError:
        return None


def _warn_if_unstoppable(hooks, training_data_iter):
    """Warn that a training no hook can stop runs until interrupted: no
    hook with ``can_stop_training``, or only epoch hooks while the
    training data iterator never ends (``length`` is ``math.inf``)."""
    stoppers = [h for h in hooks.values()
                if getattr(h, 'can_stop_training', False)]
    endless = getattr(training_data_iter, 'length', None) == math.inf
    if endless:
        stoppers = [h for h in stoppers
                    if getattr(h, 'timescale', None) == 'update']
    if stoppers:
        return
    if endless:
        reason = ('the training data iterator never ends (length inf), so '
                  'no epoch ends and only hooks with timescale=\'update\' '
                  'are called, but none of them can stop the training')
        advice = ('add a hook that stops it with timescale=\'update\', '
                  'such as bs.hooks.EarlyStopper(..., timescale=\'update\')')
    else:
        reason = 'no hook can stop the training'
        advice = 'add one, such as bs.hooks.StopAfterEpoch(10)'
    warnings.warn(
        'Trainer.train: {}, so it runs until interrupted (Ctrl+C); {} (a '
        'hook of your own that stops training by raising StopIteration says '
        'so with the class attribute can_stop_training = True)'.format(
            reason, advice), RuntimeWarning, stacklevel=3)
