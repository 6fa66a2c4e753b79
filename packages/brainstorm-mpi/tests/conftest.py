"""Running tests/job.py as one process or as a job of several ranks
under mpiexec (found beside the Python running the tests, as the MPICH
wheel installs it, or on PATH)."""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from brainstorm.testing.extras import missing_extra

JOB = pathlib.Path(__file__).with_name('job.py')
TIMEOUT = 120


def find_mpiexec():
    beside = pathlib.Path(sys.executable).with_name('mpiexec')
    if beside.exists():
        return str(beside)
    return shutil.which('mpiexec')


MPIEXEC = find_mpiexec()
NO_MPIEXEC = ('no mpiexec found (pip install brainstorm-mpi[mpich], or an '
              'MPI installation on PATH)')


class Result:
    """What a job left: its exit status, output, duration, and per rank
    the parameters, logs and the files it wrote in its working folder."""

    def __init__(self, process, seconds, folder, ranks):
        self.returncode = process.returncode
        self.stdout, self.stderr = process.stdout, process.stderr
        self.seconds = seconds
        self.folder = folder
        self.ranks = ranks

    def parameters(self, rank=0):
        with np.load(self.folder / 'report' / 'rank{}.npz'.format(rank)) \
                as report:
            return report['parameters']

    def report(self, rank=0):
        return json.loads((self.folder / 'report' /
                           'rank{}.json'.format(rank)).read_text())

    def files(self, rank=0):
        return sorted(p.name for p in (self.folder / 'rank{}'.format(
            rank)).iterdir())

    def check(self):
        assert self.returncode == 0, self.stdout + self.stderr
        return self


def _needs_the_workspace():
    """The jobs train networks of brainstorm-layers with the hooks of
    brainstorm-hooks on the iterators of brainstorm-data."""
    import importlib.util
    missing = [name for name in ('brainstorm_layers', 'brainstorm_hooks',
                                 'brainstorm_data')
               if importlib.util.find_spec(name) is None]
    if missing:
        missing_extra('the training jobs need {} (installed with the whole '
                      'workspace)'.format(', '.join(missing)))


def _env():
    env = dict(os.environ)
    for name in ('PMI_SIZE', 'PMI_RANK', 'OMPI_COMM_WORLD_SIZE',
                 'MV2_COMM_WORLD_SIZE', 'BRAINSTORM_DISTRIBUTED'):
        env.pop(name, None)
    # one BLAS thread per rank: two ranks share this machine's cores
    env['OPENBLAS_NUM_THREADS'] = env['OMP_NUM_THREADS'] = '1'
    env['BRAINSTORM_NUM_THREADS'] = '1'
    return env


@pytest.fixture
def mpiexec():
    """The path of mpiexec, for tests that start jobs of their own (they
    need the whole workspace too)."""
    _needs_the_workspace()
    if MPIEXEC is None:
        missing_extra(NO_MPIEXEC)
    return MPIEXEC


@pytest.fixture
def run_job(tmp_path):
    """run_job(settings, ranks=1, per_rank=None) -> Result. Each rank runs
    in its own working folder (rank0, rank1 ...), so that the files each
    one writes can be told apart; ``per_rank`` {rank: settings} overrides
    settings for some ranks."""
    counter = [0]

    def run(settings, ranks=1, per_rank=None, timeout=TIMEOUT):
        counter[0] += 1
        folder = tmp_path / 'job{}'.format(counter[0])
        (folder / 'report').mkdir(parents=True)
        commands = []
        for rank in range(ranks):
            workdir = folder / 'rank{}'.format(rank)
            workdir.mkdir()
            merged = dict(settings, report=str(folder / 'report'))
            merged.update((per_rank or {}).get(rank, {}))
            commands.append((str(workdir), [sys.executable, str(JOB),
                                            json.dumps(merged)]))
        _needs_the_workspace()
        if ranks > 1 and MPIEXEC is None:
            missing_extra(NO_MPIEXEC)
        if ranks == 1:
            command, cwd = commands[0][1], commands[0][0]
        else:
            command, cwd = [MPIEXEC], str(folder)
            for i, (workdir, args) in enumerate(commands):
                if i:
                    command.append(':')
                command += ['-n', '1', '-wdir', workdir] + args
        start = time.monotonic()
        process = subprocess.run(command, cwd=cwd, env=_env(),
                                 capture_output=True, text=True,
                                 timeout=timeout)
        return Result(process, time.monotonic() - start, folder, ranks)
    return run
