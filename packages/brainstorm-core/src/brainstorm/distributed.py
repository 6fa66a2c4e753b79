"""Data-parallel training: the processes of one job and how they talk.

A training job may run as several processes (ranks), started together by a
launcher such as ``mpiexec -n 4 brainstorm train ...``. Each rank holds the
whole network; every update, each rank runs the forward and backward pass
on its own part of the batch, the gradients are averaged over all ranks
(one allreduce of the network's single flat gradient buffer), and every
rank makes the same update, so the parameters stay equal everywhere.

The :class:`Communicator` protocol is what the rest of brainstorm needs of
the transport between ranks; :class:`SingleProcess` is the one-process
implementation (every operation a no-op), and plugins add others through
the hook ``brainstorm_communicators`` (brainstorm-mpi adds
``MpiCommunicator``). :func:`world` picks the communicator of this
process: the first registered class whose ``launched()`` says that a
launcher started this process with more than one rank, else
``SingleProcess``. Set ``BRAINSTORM_DISTRIBUTED=0`` to make every process
of a launch train on its own.

What uses it, all unchanged for a single process:

* ``Trainer.train``: checks at the start that every rank has the same
  network, stepper, hooks and data sizes; gives every rank rank 0's
  parameters and random states (so shuffling and dropout agree); hands
  each rank its share of every global batch (see :func:`batch_rounds`);
  averages the gradients before the stepper's update
  (``Network.gradient_reducer``); reduces losses and training scores, and
  agrees on stopping (a hook that stops on one rank stops all); prints on
  rank 0 only.
* ``evaluate`` and the monitoring hooks: each rank runs its share of the
  batches; the per-batch results are gathered so that every rank sees the
  numbers a single process would compute.
* Hooks that write files (``SaveBestNetwork``, ``SaveNetwork``,
  ``SaveLogs``, checkpoints) write on rank 0 only: :func:`is_writer`.
"""
import collections
import os
import threading

import numpy as np

__all__ = ['Communicator', 'SingleProcess', 'world', 'use', 'is_writer',
           'abort_job', 'batch_rounds', 'Share', 'broadcast_parameters',
           'DISTRIBUTED_ENV_VAR']

DISTRIBUTED_ENV_VAR = 'BRAINSTORM_DISTRIBUTED'


class Communicator:
    """The ranks of one job and the collective operations between them.

    Every operation is collective: all ranks call it, in the same order.

    Attributes
    ----------
    rank : int
        This process's number, 0 to ``size - 1``.
    size : int
        The number of processes of the job.
    """

    rank = 0
    size = 1

    @classmethod
    def launched(cls):
        """Whether this process was started by a launcher this class serves,
        as one of several ranks (for :func:`world`)."""
        return False

    def allreduce(self, array):
        """Sum the numpy ``array`` over all ranks, in place."""
        raise NotImplementedError

    def broadcast_array(self, array, root=0):
        """Overwrite the numpy ``array`` with rank ``root``'s, in place."""
        raise NotImplementedError

    def broadcast(self, value, root=0):
        """Rank ``root``'s ``value`` (any picklable object), on every
        rank."""
        raise NotImplementedError

    def allgather(self, value):
        """The list of every rank's ``value`` (picklable), in rank
        order."""
        raise NotImplementedError

    def any(self, flag):
        """Whether ``flag`` is true on any rank."""
        flags = np.array([1.0 if flag else 0.0])
        self.allreduce(flags)
        return bool(flags[0] > 0)

    def abort(self, status=1, reason=''):
        """End every rank of the job now, with exit status ``status``,
        after saying on stderr that this rank failed (and ``reason``).
        Called by a rank that fails while the others may be waiting in a
        collective operation for it: without it they would wait forever."""
        raise NotImplementedError

    def __repr__(self):
        return '{}(rank={}, size={})'.format(type(self).__name__, self.rank,
                                             self.size)


class SingleProcess(Communicator):
    """A job of one process: every collective operation is the identity."""

    rank = 0
    size = 1

    def allreduce(self, array):
        pass

    def broadcast_array(self, array, root=0):
        pass

    def broadcast(self, value, root=0):
        return value

    def allgather(self, value):
        return [value]

    def any(self, flag):
        return bool(flag)

    def abort(self, status=1, reason=''):
        pass   # nobody else waits: the process ends as it would anyway


_lock = threading.Lock()
_world = []


def world():
    """The communicator of this process (created on the first call, then
    the same object): see the module docstring."""
    with _lock:
        if not _world:
            _world.append(_discover())
        return _world[0]


def use(communicator):
    """Make ``communicator`` the one :func:`world` returns from now on
    (None: discover it again on the next call). Returns the previous one
    (or None)."""
    with _lock:
        previous = _world[0] if _world else None
        _world[:] = [] if communicator is None else [communicator]
        return previous


def abort_job(status=1, reason=''):
    """If this process is a rank of a job of several, end the whole job
    (see :meth:`Communicator.abort`); otherwise do nothing. For code that
    is about to exit with an error: the command line calls it."""
    with _lock:
        communicator = _world[0] if _world else None
    if communicator is not None and communicator.size > 1:
        communicator.abort(status, reason)


def is_writer():
    """Whether this process writes files and prints: rank 0 of the job."""
    return world().rank == 0


def _discover():
    if os.environ.get(DISTRIBUTED_ENV_VAR, '').strip().lower() in (
            '0', 'off', 'no', 'false'):
        return SingleProcess()
    from brainstorm.plugins import registry
    for name in registry.names('communicators'):
        cls = registry.get('communicators', name)
        if cls is not SingleProcess and cls.launched():
            return cls()
    return SingleProcess()


class Share(collections.namedtuple('Share',
                                    'offset size total consumed')):
    """A rank's part of one global batch: its rows ``offset`` to ``offset +
    size`` of the ``total`` sequences of the round, and the number of the
    iterator's batches consumed up to the end of the round."""

    @property
    def weight(self):
        """The rank's share of the samples (the weight of its gradient in
        the average over ranks)."""
        return self.size / self.total if self.total else 0.0


def batch_rounds(batches, communicator, skip=0):
    """This rank's share of a sequence of batches.

    Consecutive batches form rounds of ``communicator.size``; within a
    round, rank ``r`` takes batch ``r``, so that a round of N batches of
    size b is one global batch of N x b, in the order a single process with
    batches of N x b would see them (for iterators that cut one sequence of
    samples into consecutive batches, such as ``Minibatches`` without
    shuffling). A last round with fewer batches than ranks is dropped on
    every rank. With one rank, every batch is its own round.

    Parameters
    ----------
    batches : iterable of dict
        The batches of one epoch (the same sequence on every rank).
    communicator : Communicator
    skip : int
        Batches of the sequence to pass over first (a resumed epoch).

    Yields
    ------
    (dict, Share)
        This rank's batch and where it lies in the round.
    """
    size, rank = communicator.size, communicator.rank
    round_, consumed = [], 0
    for data in batches:
        consumed += 1
        if consumed <= skip:
            continue
        round_.append(data)
        if len(round_) == size:
            sizes = [_batch_size(d) for d in round_]
            yield round_[rank], Share(sum(sizes[:rank]), sizes[rank],
                                      sum(sizes), consumed)
            round_ = []


def _batch_size(data):
    first = next(iter(data.values()))
    return first.shape[1]


# -- the Trainer's side ---------------------------------------------------------
def check_same_job(communicator, facts):
    """Raise a ValueError on every rank if any rank's ``facts`` (a dict of
    picklable values: what must be equal for ranks to train one network
    together) differ from rank 0's; the message names the rank and the
    fact. Runs the same checks on every rank, so all of them raise."""
    everyone = communicator.allgather(facts)
    reference = everyone[0]
    for rank, theirs in enumerate(everyone[1:], start=1):
        for key, value in reference.items():
            if theirs.get(key) != value:
                raise ValueError(
                    'data-parallel training over {} processes: rank {} has '
                    '{} {}, but rank 0 has {}; start every rank with the '
                    'same script, network, settings and data'.format(
                        communicator.size, rank, key, _short(theirs.get(key)),
                        _short(value)))


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + '...'


def fingerprint(value):
    """A short digest of a JSON-serialisable value, for check_same_job."""
    import hashlib
    import json
    text = json.dumps(value, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def share_start(communicator, net, named_data_iters):
    """Give every rank rank 0's parameters and random states: those of
    ``bs.global_rnd``, the network, its handler (dropout masks) and the
    data iterators (shuffling), so that all ranks start equal and draw
    alike."""
    from brainstorm.randomness import global_rnd
    from brainstorm.training.checkpoint import (get_random_state,
                                                set_random_state)
    handler = net.handler
    broadcast_parameters(communicator, net)
    handler_rnd = getattr(handler, 'rnd', None)
    if not isinstance(handler_rnd, np.random.RandomState):
        handler_rnd = None
    iterators = {name: iterator for name, iterator in
                 sorted(named_data_iters.items())
                 if hasattr(iterator, 'get_checkpoint_state') and
                 hasattr(iterator, 'set_checkpoint_state')}
    states = communicator.broadcast({
        'global': get_random_state(global_rnd),
        'network': get_random_state(net.rnd),
        'handler': None if handler_rnd is None else
        get_random_state(handler_rnd),
        'iterators': {name: it.get_checkpoint_state()
                      for name, it in iterators.items()}})
    set_random_state(global_rnd, states['global'])
    set_random_state(net.rnd, states['network'])
    if handler_rnd is not None and states['handler'] is not None:
        set_random_state(handler_rnd, states['handler'])
    for name, state in states['iterators'].items():
        iterators[name].set_checkpoint_state(state)


def broadcast_parameters(communicator, net):
    """Overwrite the parameters of ``net`` with rank 0's."""
    parameters = net.buffer.parameters
    if isinstance(parameters, np.ndarray):
        communicator.broadcast_array(parameters)
    else:
        handler = net.handler
        host = handler.get_numpy_copy(parameters)
        communicator.broadcast_array(host)
        handler.set_from_numpy(parameters, host)


class GradientAverage:
    """``Network.gradient_reducer`` of data-parallel training: scales this
    rank's gradients by its share of the global batch and sums them over
    all ranks, which gives every rank the gradient of the mean loss over
    the global batch (losses are means over their batch)."""

    def __init__(self, communicator):
        self.communicator = communicator
        self.share = None

    def __call__(self, net):
        gradients = net.buffer.gradients
        if gradients.size == 0:
            return
        weight = 1.0 if self.share is None else self.share.weight
        handler = net.handler
        if isinstance(gradients, np.ndarray):
            if weight != 1.0:
                handler.mult_st(weight, gradients, gradients)
            self.communicator.allreduce(gradients)
        else:
            host = handler.get_numpy_copy(gradients)
            if weight != 1.0:
                host *= host.dtype.type(weight)
            self.communicator.allreduce(host)
            handler.set_from_numpy(gradients, host)


class ShardedMasks:
    """While installed on a handler, ``generate_probability_mask`` draws
    the mask of the whole global batch (the same on every rank, whose
    handler streams start equal) and keeps this rank's rows, so that
    dropout draws for each sample what a single process would draw.
    Masks of another batch size than this rank's share are drawn as
    usual."""

    def __init__(self, handler):
        self.handler = handler
        self.share = None
        self._original = None

    def install(self):
        handler = self.handler
        self._original = handler.generate_probability_mask
        handler.generate_probability_mask = self._draw

    def remove(self):
        self.handler.__dict__.pop('generate_probability_mask', None)

    def _draw(self, mask, probability):
        share = self.share
        if share is None or share.total == share.size or \
                len(mask.shape) < 2 or mask.shape[1] != share.size:
            return self._original(mask, probability)
        handler = self.handler
        full = handler.allocate((mask.shape[0], share.total) +
                                tuple(mask.shape[2:]))
        self._original(full, probability)
        rows = handler.get_numpy_copy(full)[
            :, share.offset:share.offset + share.size]
        handler.set_from_numpy(mask, np.ascontiguousarray(rows))
