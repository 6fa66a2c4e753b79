"""In a data-parallel job only rank 0 writes files, serves pages and
reports: the hooks of this package run as rank 1 and as rank 0 of a
two-rank job whose other rank mirrors this one (every collective
operation sees the same values on both ranks)."""
import os

import numpy as np
import pytest

import brainstorm as bs
from brainstorm import distributed
from brainstorm.testing.extras import import_extra
from brainstorm_hooks.integrations import BokehVisualizer, InfoUpdater
from brainstorm_hooks.monitors import MonitorLoss
from brainstorm_hooks.savers import SaveBestNetwork, SaveLogs, SaveNetwork
from brainstorm_hooks.stoppers import StopAfterEpoch


class Mirror(distributed.Communicator):
    """Rank ``rank`` of two, the other rank holding what this one holds."""

    def __init__(self, rank):
        self.rank, self.size = rank, 2

    def allreduce(self, array):
        array *= 2

    def broadcast_array(self, array, root=0):
        pass

    def broadcast(self, value, root=0):
        return value

    def allgather(self, value):
        return [value, value]


class RunLike:
    def __init__(self):
        self.info = {}


@pytest.fixture
def as_rank():
    previous = []

    def become(rank):
        previous.append(distributed.use(Mirror(rank)))
    yield become
    if previous:
        distributed.use(previous[0])


def train(net, train_iter, valid_iter, folder, with_bokeh):
    run = RunLike()
    trainer = bs.Trainer(bs.training.SgdStepper(0.5), verbose=True)
    trainer.add_hook(MonitorLoss('valid', name='mon'))
    trainer.add_hook(SaveBestNetwork('mon.total_loss', criterion='min',
                                     filename=str(folder / 'best.h5')))
    trainer.add_hook(SaveNetwork(str(folder / 'net_{epoch}.h5')))
    trainer.add_hook(SaveLogs(str(folder / 'logs.h5')))
    trainer.add_hook(InfoUpdater(run))
    viz = None
    if with_bokeh:
        viz = BokehVisualizer(['mon.total_loss'], serve=True, port=0,
                              filename=str(folder / 'plots.html'))
        trainer.add_hook(viz)
    trainer.add_hook(StopAfterEpoch(2))
    trainer.train(net, train_iter, valid=valid_iter)
    return trainer, run, viz


@pytest.mark.parametrize('rank', [1, 0])
def test_only_rank_0_writes_serves_and_reports(rank, as_rank, net, helpers,
                                               tmp_path, capsys):
    import_extra('sacred', 'pip install brainstorm-hooks[sacred]')
    with_bokeh = True
    try:
        import bokeh  # noqa: F401
    except ImportError:
        with_bokeh = False
    as_rank(rank)
    train_iter = helpers.FixedBatches(helpers.random_batches([4, 4, 4, 4],
                                                             seed=0))
    valid_iter = helpers.FixedBatches(helpers.random_batches([5, 3],
                                                             seed=7))
    trainer, run, viz = train(net, train_iter, valid_iter, tmp_path,
                              with_bokeh)
    try:
        written = sorted(os.listdir(tmp_path))
        printed = capsys.readouterr().out
        # the logs are the same on every rank
        assert len(trainer.logs['mon']['total_loss']) == 3
        assert np.isfinite(trainer.logs['mon']['total_loss']).all()
        if rank == 1:
            assert written == []
            assert run.info == {}
            assert printed == ''
            if viz is not None:
                assert viz.url is None   # no server
        else:
            expected = ['best.h5', 'logs.h5', 'net_0.h5', 'net_1.h5',
                        'net_2.h5']
            if viz is not None:
                expected.append('plots.html')
                assert viz.url is not None
            assert written == expected
            assert run.info['epoch_nr'] == 2
            assert 'mon >> ' in printed or 'mon:' in printed
    finally:
        if viz is not None:
            viz.close()
