#!/usr/bin/env python
"""Data-parallel training on MPI (brainstorm-mpi): what an update costs in
communication, what two processes gain on one machine, and what the ring
allreduce model predicts for many machines.

* allreduce: the time of one in-place float32 allreduce (MPI_SUM) over 2
  ranks on this machine, against the number of values (the parameter
  count of the network: its flat gradient buffer is what every update
  sends);
* throughput: the mlp and cnn workloads of bench_workloads.py trained by
  ``bs.Trainer`` with a global batch of 100: one process with one thread
  (BLAS and handler) against two processes of one thread each with
  batches of 50 (``mpiexec -n 2``), samples/s, median of the timed blocks;
* the model: ring allreduce sends 2 (N - 1) / N x the gradient's bytes
  per rank and update; with links of 10 and 100 Gbit/s, for 8, 64 and 512
  machines, that time beside the compute time of an update measured here
  (one process, local batch 100), and the share of time left to
  computing if communication does not overlap the backward pass.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_mpi.py
        [--blocks 5] [--updates 20]

Needs brainstorm-mpi and mpiexec (the MPICH wheel: pip install mpich).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

SLOW_BLAS_VARIABLES = ('OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE')
SIZES = (10 ** 4, 10 ** 5, 10 ** 6, 2395210, 10 ** 7)
LINKS_GBIT = (10, 100)
MACHINES = (8, 64, 512)


def mpiexec():
    beside = os.path.join(os.path.dirname(sys.executable), 'mpiexec')
    return beside if os.path.exists(beside) else shutil.which('mpiexec')


def worker_env():
    env = {k: v for k, v in os.environ.items()
           if k not in SLOW_BLAS_VARIABLES}
    env.update(OPENBLAS_NUM_THREADS='1', OMP_NUM_THREADS='1',
               MKL_NUM_THREADS='1', BRAINSTORM_NUM_THREADS='1')
    return env


def run_worker(ranks, *args):
    command = [sys.executable, os.path.abspath(__file__), '--worker'] + \
        [str(a) for a in args]
    if ranks > 1:
        command = [mpiexec(), '-n', str(ranks)] + command
    out = subprocess.run(command, env=worker_env(), capture_output=True,
                         text=True, timeout=900)
    if out.returncode:
        raise RuntimeError('worker {} failed:\n{}{}'.format(
            args, out.stdout, out.stderr))
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- workers ------------------------------------------------------------------
def worker_allreduce(repeats):
    from brainstorm import distributed
    comm = distributed.world()
    results = {}
    for size in SIZES:
        array = np.ones(size, dtype=np.float32)
        for _ in range(3):
            comm.allreduce(array)
        times = []
        for _ in range(repeats):
            array[:] = 1
            start = time.perf_counter()
            comm.allreduce(array)
            times.append(time.perf_counter() - start)
        assert array[0] == comm.size
        results[size] = statistics.median(times)
    if comm.rank == 0:
        print(json.dumps(results))


def worker_train(workload, global_batch, updates, blocks):
    import bench_workloads as workloads
    from brainstorm import distributed
    from brainstorm.handlers import best_cpu_handler
    comm = distributed.world()
    make = {'mlp': workloads.mlp_brainstorm,
            'cnn': workloads.cnn_brainstorm}[workload]
    batch = global_batch // comm.size
    # batches=2 per rank: rounds of the ranks' batches, as in training
    train = workloads.bs_trainer_function(make, batch,
                                          best_cpu_handler(), batches=2 *
                                          comm.size)
    train(updates=3)
    rates = []
    for _ in range(blocks):
        start = time.perf_counter()
        done = train(updates=updates)
        rates.append(done * global_batch / (time.perf_counter() - start))
    if comm.rank == 0:
        print(json.dumps({'samples_per_s': statistics.median(rates),
                          'handler': repr(train.net.handler),
                          'parameters': int(
                              train.net.buffer.parameters.size)}))


# -- the report ---------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--blocks', type=int, default=5)
    parser.add_argument('--updates', type=int, default=20)
    parser.add_argument('--repeats', type=int, default=30)
    parser.add_argument('--worker', nargs='+', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        if kind == 'allreduce':
            worker_allreduce(int(rest[0]))
        else:
            worker_train(rest[0], int(rest[1]), int(rest[2]), int(rest[3]))
        return
    if mpiexec() is None:
        sys.exit('bench_mpi.py: no mpiexec (pip install mpich, or an MPI '
                 'installation on PATH)')
    print('brainstorm data-parallel benchmark: 2 ranks on this machine '
          '({} CPUs), one thread each; OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE '
          'removed from the workers\' environment'.format(os.cpu_count()))
    print()
    print('allreduce of float32 values over 2 ranks (median of {}):'.format(
        args.repeats))
    print('{:>12} {:>10} {:>12} {:>10}'.format('values', 'MB', 'time ms',
                                               'GB/s'))
    allreduce = run_worker(2, 'allreduce', args.repeats)
    for size in SIZES:
        seconds = allreduce[str(size)]
        megabytes = size * 4 / 1e6
        print('{:>12} {:>10.2f} {:>12.3f} {:>10.2f}'.format(
            size, megabytes, seconds * 1e3, megabytes / 1e3 / seconds))
    print()
    print('training, global batch 100 (samples/s, median of {} blocks of {} '
          'updates):'.format(args.blocks, args.updates))
    print('{:<9} {:>11} {:>11} {:>9} {:>11}  {}'.format(
        'workload', '1 process', '2 processes', 'speed-up', 'parameters',
        'handler'))
    computed = {}
    for workload in ('mlp', 'cnn'):
        single = run_worker(1, 'train', workload, 100, args.updates,
                            args.blocks)
        double = run_worker(2, 'train', workload, 100, args.updates,
                            args.blocks)
        computed[workload] = (100 / single['samples_per_s'],
                              single['parameters'])
        print('{:<9} {:>11.0f} {:>11.0f} {:>8.2f}x {:>11}  {}'.format(
            workload, single['samples_per_s'], double['samples_per_s'],
            double['samples_per_s'] / single['samples_per_s'],
            single['parameters'], single['handler']))
    print()
    print('ring allreduce model: per update and rank, 2 (N-1)/N x gradient '
          'bytes over the link, beside the compute time of an update of a '
          'local batch of 100 measured above (one process); "compute share" '
          'is compute / (compute + communication), no overlap')
    print('{:<9} {:>9} {:>6} {:>10} {:>12} {:>12} {:>14}'.format(
        'workload', 'MB', 'N', 'link Gb/s', 'comm ms', 'compute ms',
        'compute share'))
    for workload, (seconds, parameters) in computed.items():
        megabytes = parameters * 4 / 1e6
        for machines in MACHINES:
            for gbit in LINKS_GBIT:
                comm = 2 * (machines - 1) / machines * parameters * 4 / (
                    gbit * 1e9 / 8)
                print('{:<9} {:>9.2f} {:>6} {:>10} {:>12.2f} {:>12.2f} '
                      '{:>13.0f}%'.format(
                          workload, megabytes, machines, gbit, comm * 1e3,
                          seconds * 1e3, 100 * seconds / (seconds + comm)))


if __name__ == '__main__':
    main()
