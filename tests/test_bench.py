"""bench/bench_workloads.py: the quick mode runs end to end with the
NumpyHandler alone (no PyTorch) and prints its table; the FLOP counts and
the worker environment."""
import importlib.util
import json
import pathlib
import re
import subprocess
import sys

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[1] / 'bench' / \
    'bench_workloads.py'


def load_bench():
    spec = importlib.util.spec_from_file_location('bench_workloads', BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def quick_run(tmp_path_factory):
    json_file = tmp_path_factory.mktemp('bench') / 'results.json'
    result = subprocess.run(
        [sys.executable, str(BENCH), '--quick', '--handlers', 'NumpyHandler',
         '--no-torch', '--json', str(json_file)],
        capture_output=True, text=True, timeout=120)
    return result, json_file


def test_quick_run_prints_the_table(quick_run):
    result, _ = quick_run
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    headers = [line for line in lines if line.startswith('workload ')]
    assert len(headers) == 1, result.stdout
    assert headers[0].split() == [
        'workload', 'contender', 'samples/s', 'ms/step', 'vs', 'torch',
        'GFLOP/s', '%', 'GEMM', 'setup', 'MB', 'train', 'MB', 'peak', 'MB',
        'target']
    rows = {line.split()[0]: line.split() for line in lines
            if line.split()[:2] in (['mlp', 'NumpyHandler'],
                                    ['cnn', 'NumpyHandler'],
                                    ['lstm', 'NumpyHandler'])}
    assert sorted(rows) == ['cnn', 'lstm', 'mlp'], result.stdout
    for row in rows.values():
        assert float(row[2]) > 0         # samples/s
        assert float(row[3]) > 0         # ms/step
        assert row[4] == '-'             # no PyTorch, no ratio
        assert float(row[5]) > 0         # GFLOP/s
    assert 'PyTorch left out (--no-torch)' in result.stdout
    assert 'BLAS, kernels and threads of each worker process' in \
        result.stdout


def test_quick_run_writes_json(quick_run):
    result, json_file = quick_run
    assert result.returncode == 0, result.stderr
    data = json.loads(json_file.read_text())
    assert data['contenders'] == ['NumpyHandler']
    for name in ('mlp', 'cnn', 'lstm'):
        numpy_result = data['workloads'][name]['results']['NumpyHandler']
        assert numpy_result['samples_per_s'] > 0
        assert numpy_result['flops_per_sample'] > 0
        assert 'info' in numpy_result


def test_flops_per_sample_counts_the_products():
    bench = load_bench()
    # mlp: 784x1200 (no input deltas: the data), 1200x1200, 1200x10
    assert bench.flops_per_sample('mlp', {'hidden': 1200}) == \
        2 * (2 * 784 * 1200 + 3 * 1200 * 1200 + 3 * 1200 * 10)
    # cnn: convolutions on 32x32x3, 15x15x32, 7x7x32; dense 3x3x64 -> 64
    conv = [32 * 32 * 32 * 25 * 3, 15 * 15 * 32 * 25 * 32,
            7 * 7 * 64 * 25 * 32]
    assert bench.flops_per_sample('cnn', {}) == 2 * (
        2 * conv[0] + 3 * (conv[1] + conv[2] + 576 * 64 + 64 * 10))
    # lstm: per step input (from the data), recurrent and output products
    assert bench.flops_per_sample('lstm', {'time_steps': 10, 'size': 8}) == \
        2 * 10 * (2 * 205 * 32 + 3 * 8 * 32 + 3 * 8 * 205)


def test_workers_run_without_the_slow_openblas_variables(monkeypatch):
    bench = load_bench()
    monkeypatch.setenv('OPENBLAS_CORETYPE', 'Haswell')
    monkeypatch.setenv('OPENBLAS_L2_SIZE', '1048576')
    env, removed = bench.worker_environment()
    assert removed == ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE']
    assert 'OPENBLAS_CORETYPE' not in env and 'OPENBLAS_L2_SIZE' not in env


def test_profile_step_accounts_for_the_step():
    """bench/profile_step.py times every layer's passes, the clearing of
    the backward buffers and the stepper's update; the parts and the rest
    add up to the step."""
    result = subprocess.run(
        [sys.executable, str(BENCH.parent / 'profile_step.py'), 'mlp',
         '--handler', 'NumpyHandler', '--updates', '2', '--blocks', '1'],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith('mlp on NumpyHandler: ')
    step = float(lines[0].split(': ')[1].split(' ms')[0])
    parts = {}
    for line in lines[1:]:
        name, ms = re.match(r'  (.+?) +([0-9.]+) ms', line).groups()
        parts[name] = float(ms)
    for name in ('forward FullyConnected (FullyConnectedLayerImpl)',
                 'backward FullyConnected_2 (FullyConnectedLayerImpl)',
                 'stepper update', 'clear backward buffers',
                 'rest (data, hooks, loop)'):
        assert name in parts, lines
    assert sum(parts.values()) == pytest.approx(step, rel=0.02, abs=0.05)


def test_bench_mpi_prints_its_three_tables():
    """bench/bench_mpi.py runs end to end (allreduce, 1 and 2 processes,
    the scaling model) with the MPICH wheel's mpiexec."""
    from brainstorm.testing.extras import missing_extra
    if not pathlib.Path(sys.executable).with_name('mpiexec').exists():
        missing_extra('no mpiexec beside {} (pip install mpich)'.format(
            sys.executable))
    result = subprocess.run(
        [sys.executable, str(BENCH.parent / 'bench_mpi.py'), '--blocks', '1',
         '--updates', '2', '--repeats', '2'],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert 'allreduce of float32 values over 2 ranks' in out
    assert re.search(r'^mlp +\d+ +\d+ +[0-9.]+x +2395210 +NumbaHandler',
                     out, re.M) or re.search(
        r'^mlp +\d+ +\d+ +[0-9.]+x +2395210 +NumpyHandler', out, re.M)
    assert re.search(r'^cnn +0\.47 +512 +100 ', out, re.M)
