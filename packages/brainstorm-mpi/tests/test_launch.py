"""brainstorm-mpi's registration, what a process without a launcher does
(nothing new), and the command line and the mnist_pi example under
mpiexec."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

from brainstorm import distributed
from brainstorm.plugins import registry
from brainstorm_mpi import MpiCommunicator, launcher_size

ROOT = pathlib.Path(__file__).resolve().parents[3]


def test_registered_through_the_entry_point():
    assert registry.get('communicators', 'MpiCommunicator') is \
        MpiCommunicator
    assert registry.provider('communicators', 'MpiCommunicator') == \
        'brainstorm-mpi'


def test_without_a_launcher_a_process_trains_alone(monkeypatch):
    for name in ('PMI_SIZE', 'OMPI_COMM_WORLD_SIZE', 'MV2_COMM_WORLD_SIZE',
                 'BRAINSTORM_DISTRIBUTED'):
        monkeypatch.delenv(name, raising=False)
    previous = distributed.use(None)
    try:
        assert not MpiCommunicator.launched()
        assert type(distributed.world()) is distributed.SingleProcess
    finally:
        distributed.use(previous)


@pytest.mark.parametrize('variables, size', [
    ({'PMI_SIZE': '4'}, 4), ({'OMPI_COMM_WORLD_SIZE': '2'}, 2),
    ({'MV2_COMM_WORLD_SIZE': '8'}, 8), ({'PMI_SIZE': '1'}, 1), ({}, 1)])
def test_launcher_variables(monkeypatch, variables, size):
    for name in ('PMI_SIZE', 'OMPI_COMM_WORLD_SIZE', 'MV2_COMM_WORLD_SIZE',
                 'BRAINSTORM_DISTRIBUTED'):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert launcher_size() == size
    assert MpiCommunicator.launched() == (size > 1)
    monkeypatch.setenv('BRAINSTORM_DISTRIBUTED', 'mpi')
    assert MpiCommunicator.launched()


def test_loading_the_plugin_starts_no_mpi():
    """Looking the class up (as every brainstorm process does when it
    loads its plugins) imports neither mpi4py nor MPI."""
    code = ('import sys; from brainstorm.plugins import registry; '
            "registry.get('communicators', 'MpiCommunicator'); "
            "import brainstorm.distributed as d; print(type(d.world())"
            ".__name__, 'mpi4py' in sys.modules)")
    env = {k: v for k, v in os.environ.items()
           if k not in ('PMI_SIZE', 'OMPI_COMM_WORLD_SIZE')}
    out = subprocess.run([sys.executable, '-c', code], env=env,
                         capture_output=True, text=True, check=True).stdout
    assert out.split() == ['SingleProcess', 'False']


def _job_env():
    env = {k: v for k, v in os.environ.items()
           if k not in ('PMI_SIZE', 'OMPI_COMM_WORLD_SIZE',
                        'BRAINSTORM_DISTRIBUTED')}
    env.update(OPENBLAS_NUM_THREADS='1', BRAINSTORM_NUM_THREADS='1')
    return env


def test_brainstorm_train_on_two_ranks(tmp_path, mpiexec):
    """``mpiexec -n 2 brainstorm train``: one training (an epoch of the
    embedded digits takes as many updates with batches of 10 on two ranks
    as with batches of 20 on one), printed once, the best network written
    by rank 0 alone."""
    command = [sys.executable, '-m', 'brainstorm.cli', 'train', '--epochs',
               '1', '--batch-size', '10', '-o', 'best.hdf5', '--no-progress']
    for rank in (0, 1):
        (tmp_path / 'rank{}'.format(rank)).mkdir()
    result = subprocess.run(
        [mpiexec, '-n', '1', '-wdir', str(tmp_path / 'rank0')] + command +
        [':', '-n', '1', '-wdir', str(tmp_path / 'rank1')] + command,
        env=_job_env(), capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.count('Training: 1 epoch of 65 updates (batches of 10 on '
                     'each of 2 processes)') == 1
    assert out.count('epoch  training loss  validation loss') == 1
    assert len(re.findall(r'^ +1 +\d+\.\d{4} ', out, re.M)) == 1
    assert out.count('Best validation accuracy:') == 1
    assert out.count('Test accuracy of the best network (best.hdf5):') == 1
    assert result.stderr.count('Handler: ') == 1
    assert sorted(os.listdir(tmp_path / 'rank0')) == ['best.hdf5']
    assert os.listdir(tmp_path / 'rank1') == []


def test_the_mnist_pi_example_on_two_ranks(tmp_path, mpiexec):
    result = subprocess.run(
        [mpiexec, '-n', '2', sys.executable,
         str(ROOT / 'examples' / 'mnist_pi.py'), '--epochs', '1',
         '--batch-size', '10', '--output', 'best.hdf5'],
        cwd=tmp_path, env=_job_env(), capture_output=True, text=True,
        timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count('Test accuracy of the best network') == 1
    assert os.listdir(tmp_path) == ['best.hdf5']
