"""Data-parallel training under mpiexec: two ranks with batches of 50
train exactly as one process with batches of 100; every rank sees the
same logs, rank 0 alone writes files; checkpoints of a 2-rank job resume
on 1 and on 2 ranks; failures end the whole job."""
import numpy as np
import pytest

# float32 sums in another order (two half-batch products added, against
# one product over the whole batch)
TOLERANCE = dict(rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize('dropout', [False, True],
                         ids=['plain', 'dropout'])
@pytest.mark.parametrize('stepper', ['momentum', 'adam'])
def test_two_ranks_train_as_one_process_with_the_global_batch(
        run_job, stepper, dropout):
    settings = dict(stepper=stepper, dropout=dropout, updates=7)
    single = run_job(dict(settings, batch=100)).check()
    double = run_job(dict(settings, batch=50), ranks=2).check()
    assert single.report()['communicator'] == \
        'SingleProcess(rank=0, size=1)'
    assert double.report(1)['communicator'] == \
        'MpiCommunicator(rank=1, size=2)'
    assert double.report(0)['updates'] == single.report()['updates'] == 7
    expected = single.parameters()
    for rank in (0, 1):
        np.testing.assert_allclose(double.parameters(rank), expected,
                                   **TOLERANCE)
    # the parameters moved: the comparison is not of untrained networks
    untrained = run_job(dict(settings, batch=100, updates=0)).check()
    assert np.abs(untrained.parameters() - expected).max() > 1e-2


def test_logs_are_the_single_process_ones_and_only_rank_0_writes(run_job):
    settings = dict(files=True, epochs=2)
    single = run_job(dict(settings, batch=100)).check()
    double = run_job(dict(settings, batch=50), ranks=2).check()
    expected = single.report()['logs']
    for rank in (0, 1):
        logs = double.report(rank)['logs']
        assert set(logs) == set(expected)
        for group in ('validation', 'rolling_training'):
            for key, values in expected[group].items():
                np.testing.assert_allclose(logs[group][key], values,
                                           rtol=1e-5, err_msg=group + key)
    assert double.files(0) == single.files(0) == [
        'best.hdf5', 'ckpt_0.hdf5', 'ckpt_1.hdf5', 'ckpt_2.hdf5', 'logs.h5']
    assert double.files(1) == []


@pytest.mark.parametrize('ranks', [1, 2])
def test_a_two_rank_checkpoint_resumes_on_1_and_2_ranks(run_job, ranks):
    settings = dict(files=True, epochs=3)
    whole = run_job(dict(settings, batch=50), ranks=2).check()
    checkpoint = str(whole.folder / 'rank0' / 'ckpt_1.hdf5')
    # one rank continues with batches of 100: the same global batch
    resumed = run_job(dict(settings, batch=100 // ranks, resume=checkpoint),
                      ranks=ranks).check()
    np.testing.assert_allclose(resumed.parameters(), whole.parameters(),
                               **TOLERANCE)
    assert resumed.report()['updates'] == whole.report()['updates'] == 12
    np.testing.assert_allclose(
        resumed.report()['logs']['validation']['Accuracy'],
        whole.report()['logs']['validation']['Accuracy'], rtol=1e-6)


@pytest.mark.parametrize('how', ['raise', 'kill'])
def test_a_failing_rank_ends_the_job(run_job, how):
    result = run_job(dict(batch=50, updates=50, fail=how), ranks=2,
                     timeout=90)
    assert result.returncode != 0
    assert result.seconds < 60
    if how == 'raise':
        assert 'RuntimeError: the disk of rank 1 is on fire' in result.stderr
        assert 'brainstorm-mpi: rank 1 of 2 failed (RuntimeError: the disk ' \
            'of rank 1 is on fire); ending all 2 ranks of the job' in \
            result.stderr
    else:
        assert 'signal 9' in (result.stdout + result.stderr).lower() or \
            'exit code: 9' in (result.stdout + result.stderr).lower()


def test_ranks_with_different_networks_are_refused(run_job):
    result = run_job(dict(batch=50, updates=3), ranks=2,
                     per_rank={1: {'hidden': 17}})
    assert result.returncode != 0
    assert 'ValueError: data-parallel training over 2 processes: rank 1 ' \
        'has a network with the architecture' in result.stderr
    assert 'start every rank with the same script, network, settings and ' \
        'data' in result.stderr


def test_ranks_with_different_data_sizes_are_refused(run_job):
    result = run_job(dict(batch=50, updates=3), ranks=2,
                     per_rank={1: {'samples': 300}})
    assert result.returncode != 0
    assert 'rank 1 has data iterators' in result.stderr
    assert "'Minibatches', 6" in result.stderr
