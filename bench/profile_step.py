#!/usr/bin/env python
"""Where the time of a training step goes: the workloads of
bench_workloads.py trained by ``bs.Trainer`` as there, with each layer's
forward and backward pass, the clearing of the backward buffers, the
stepper's update and the rest (data, hooks, the Trainer's loop) timed
apart; ms per step, the median over blocks.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python bench/profile_step.py cnn [--handler NumbaHandler]
        [--updates 20] [--blocks 5]
"""
import argparse
import collections
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_workloads as workloads  # noqa: E402

import brainstorm.handlers  # noqa: E402

MAKERS = {'mlp': (workloads.mlp_brainstorm, 100),
          'cnn': (workloads.cnn_brainstorm, 100),
          'lstm': (workloads.lstm_brainstorm, 50)}


def _timed(record, name, function):
    def run(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            record[name] += time.perf_counter() - start
    return run


def profile(workload, handler_name, updates, blocks):
    make, batch = MAKERS[workload]
    handler = getattr(brainstorm.handlers, handler_name)()
    train = workloads.bs_trainer_function(make, batch, handler)
    net = train.net
    record = collections.Counter()
    for name, layer in net.layers.items():
        if name == 'Input':
            continue
        kind = type(layer).__name__
        layer.forward_pass = _timed(record, 'forward {} ({})'.format(
            name, kind), layer.forward_pass)
        layer.backward_pass = _timed(record, 'backward {} ({})'.format(
            name, kind), layer.backward_pass)
    manager = net.buffer_manager
    manager.clear_backward_buffers = _timed(
        record, 'clear backward buffers', manager.clear_backward_buffers)
    stepper = train.stepper
    stepper._update = _timed(record, 'stepper update', stepper._update)
    train(updates=3)                       # warm-up (compiles, caches)
    per_block = collections.defaultdict(list)
    for _ in range(blocks):
        record.clear()
        start = time.perf_counter()
        done = train(updates=updates)
        total = time.perf_counter() - start
        for name, seconds in record.items():
            per_block[name].append(seconds / done * 1e3)
        per_block['rest (data, hooks, loop)'].append(
            (total - sum(record.values())) / done * 1e3)
        per_block['step'].append(total / done * 1e3)
    return {name: statistics.median(values)
            for name, values in per_block.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('workload', choices=sorted(MAKERS))
    parser.add_argument('--handler', default='NumbaHandler')
    parser.add_argument('--updates', type=int, default=20)
    parser.add_argument('--blocks', type=int, default=5)
    args = parser.parse_args(argv)
    times = profile(args.workload, args.handler, args.updates, args.blocks)
    step = times.pop('step')
    print('{} on {}: {:.2f} ms per step (median of {} blocks of {} '
          'updates)'.format(args.workload, args.handler, step, args.blocks,
                            args.updates))
    width = max(len(name) for name in times)
    for name, ms in sorted(times.items(), key=lambda item: -item[1]):
        print('  {:<{}} {:8.2f} ms {:5.1f} %'.format(name, width, ms,
                                                     100 * ms / step))


if __name__ == '__main__':
    main()
