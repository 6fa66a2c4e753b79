"""brainstorm.distributed: the single-process communicator, the choice of
the communicator, the rounds of batches, the check that all ranks run the
same job, the averaging of gradients and the masks of the global batch.
(Jobs of several processes are tested by brainstorm-mpi.)"""
import numpy as np
import pytest

from brainstorm import distributed
from brainstorm.distributed import (GradientAverage, Share, ShardedMasks,
                                    SingleProcess, batch_rounds,
                                    check_same_job)
from brainstorm.handlers import NumpyHandler
from brainstorm.plugins import registry


class FakeRank(distributed.Communicator):
    """Rank ``rank`` of a job whose other ranks hold ``others`` (what
    allgather returns of them) and whose allreduce adds ``peer`` (the
    other ranks' sum)."""

    def __init__(self, rank=0, size=2, others=(), peer=None):
        self.rank, self.size = rank, size
        self.others, self.peer = list(others), peer

    def allgather(self, value):
        values = list(self.others)
        values.insert(self.rank, value)
        return values

    def allreduce(self, array):
        array += self.peer


@pytest.fixture
def fresh_world():
    previous = distributed.use(None)
    yield
    distributed.use(previous)


def test_single_process_operations_are_the_identity():
    comm = SingleProcess()
    array = np.arange(3.0)
    comm.allreduce(array)
    comm.broadcast_array(array)
    np.testing.assert_array_equal(array, [0, 1, 2])
    assert comm.broadcast({'a': 1}) == {'a': 1}
    assert comm.allgather(5) == [5]
    assert comm.any(True) and not comm.any(False)
    comm.abort(3, 'nothing happens')
    assert (comm.rank, comm.size) == (0, 1)
    assert repr(comm) == 'SingleProcess(rank=0, size=1)'


def test_without_a_launcher_the_world_is_one_process(fresh_world):
    assert type(distributed.world()) is SingleProcess
    assert distributed.world() is distributed.world()
    assert distributed.is_writer()
    distributed.abort_job(1, 'alone: no effect')


class Launched(FakeRank):
    @classmethod
    def launched(cls):
        return True


def test_a_registered_communicator_that_was_launched_is_chosen(
        fresh_world, monkeypatch):
    names, get = registry.names, registry.get
    monkeypatch.setattr(registry, 'names', lambda category: (
        ['Launched'] + names(category)) if category == 'communicators'
        else names(category))
    monkeypatch.setattr(registry, 'get', lambda category, name, **kw: (
        Launched if name == 'Launched' else get(category, name, **kw)))
    assert type(distributed.world()) is Launched
    assert distributed.is_writer()   # rank 0
    distributed.use(None)
    monkeypatch.setenv('BRAINSTORM_DISTRIBUTED', '0')
    assert type(distributed.world()) is SingleProcess


def _batches(*sizes):
    return [{'default': np.zeros((1, size, 2)), 'id': i}
            for i, size in enumerate(sizes)]


def test_batch_rounds_give_each_rank_its_part_of_the_global_batch():
    batches = _batches(3, 3, 3, 3, 2)
    rank0 = list(batch_rounds(batches, FakeRank(0)))
    rank1 = list(batch_rounds(batches, FakeRank(1)))
    assert [data['id'] for data, _ in rank0] == [0, 2]
    assert [data['id'] for data, _ in rank1] == [1, 3]
    # the fifth batch has no partner: dropped on every rank
    assert [share for _, share in rank0] == [Share(0, 3, 6, 2),
                                             Share(0, 3, 6, 4)]
    assert [share for _, share in rank1] == [Share(3, 3, 6, 2),
                                             Share(3, 3, 6, 4)]
    assert rank0[0][1].weight == 0.5


def test_batch_rounds_of_unequal_batches_weigh_by_size():
    (_, first), = batch_rounds(_batches(4, 2), FakeRank(0))
    (_, second), = batch_rounds(_batches(4, 2), FakeRank(1))
    assert (first.weight, second.weight) == (4 / 6, 2 / 6)
    assert (first.offset, second.offset) == (0, 4)


def test_batch_rounds_skip_what_a_resumed_epoch_consumed():
    batches = _batches(2, 2, 2, 2, 2, 2)
    assert [d['id'] for d, _ in batch_rounds(batches, FakeRank(1), skip=2)] \
        == [3, 5]
    alone = list(batch_rounds(batches, SingleProcess(), skip=4))
    assert [(d['id'], s) for d, s in alone] == [(4, Share(0, 2, 2, 5)),
                                                (5, Share(0, 2, 2, 6))]


def test_ranks_that_differ_are_named():
    facts = {'a network with the architecture': 'abc', 'parameters': 10}
    check_same_job(FakeRank(0, 3, others=[facts, facts]), facts)
    other = dict(facts, parameters=12)
    for rank in (0, 1):
        with pytest.raises(ValueError) as err:
            check_same_job(FakeRank(rank, 3, others=[facts, other]),
                           facts if rank == 0 else facts)
        assert str(err.value) == (
            'data-parallel training over 3 processes: rank 2 has parameters '
            '12, but rank 0 has 10; start every rank with the same script, '
            'network, settings and data')


def test_gradients_are_averaged_by_share():
    class Net:
        handler = NumpyHandler(np.float64)

        class buffer:
            gradients = np.array([1.0, 2.0, 4.0])
    # this rank has 1 of 4 samples, the other three ranks' weighted sum
    # is [3, 3, 3]
    average = GradientAverage(FakeRank(0, 2, peer=np.array([3.0, 3, 3])))
    average.share = Share(0, 1, 4, 2)
    average(Net)
    np.testing.assert_allclose(Net.buffer.gradients, [3.25, 3.5, 4.0])


def test_sharded_masks_are_rows_of_the_global_mask():
    whole = NumpyHandler(np.float32, seed=5)
    expected = whole.allocate((2, 6, 3))
    whole.generate_probability_mask(expected, 0.5)

    handler = NumpyHandler(np.float32, seed=5)
    masks = ShardedMasks(handler)
    masks.install()
    masks.share = Share(4, 2, 6, 3)
    mask = handler.allocate((2, 2, 3))
    handler.generate_probability_mask(mask, 0.5)
    np.testing.assert_array_equal(mask, expected[:, 4:6])
    masks.remove()
    assert 'generate_probability_mask' not in vars(handler)
