#!/usr/bin/env python
"""Benchmark workloads of shared/bench/WORKLOADS.md: brainstorm and, when
torch is installed, the same network in PyTorch CPU, side by side in one run.

One training step = provide_external_data + forward_pass(training_pass=True)
+ backward_pass + one MomentumStepper update (learning_rate 0.01, momentum
0.9). Reported: samples/s (a sequence of the lstm workload counts as one
sample) and ms/step, the median of several timed blocks
after a warm-up, and the ratio brainstorm / PyTorch.

    python bench/bench_workloads.py [mlp] [cnn] [lstm] [--blocks 7] [--steps N]
"""
import argparse
import os
import statistics
import time

import numpy as np

import brainstorm as bs


def mlp_brainstorm(batch):
    inp, out = bs.tools.get_in_out_layers('classification', 784, 10)
    net = bs.Network.from_layer(
        inp >> bs.layers.Dropout(0.2) >>
        bs.layers.FullyConnected(1200, activation='rel') >>
        bs.layers.Dropout(0.5) >>
        bs.layers.FullyConnected(1200, activation='rel') >>
        bs.layers.Dropout(0.5) >> out)
    net.initialize(bs.initializers.Gaussian(0.01))
    rnd = np.random.RandomState(0)
    data = {'default': rnd.rand(1, batch, 784).astype(np.float32),
            'targets': rnd.randint(0, 10, (1, batch, 1)).astype(np.float32)}
    return net, data


def mlp_torch(batch, torch):
    nn = torch.nn
    model = nn.Sequential(
        nn.Dropout(0.2), nn.Linear(784, 1200), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(1200, 1200), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(1200, 10))
    x = torch.rand(batch, 784)
    y = torch.randint(0, 10, (batch,))
    return model, x, y


def cnn_brainstorm(batch):
    inp, out = bs.tools.get_in_out_layers('classification', (32, 32, 3), 10)
    layers = inp
    for filters in (32, 32, 64):
        layers = (layers >>
                  bs.layers.Convolution2D(filters, kernel_size=(5, 5),
                                          padding=2, activation='rel') >>
                  bs.layers.Pooling2D(type='max', kernel_size=(3, 3),
                                      stride=(2, 2)))
    net = bs.Network.from_layer(
        layers >> bs.layers.FullyConnected(64, activation='rel') >> out)
    net.initialize(bs.initializers.Gaussian(0.01))
    rnd = np.random.RandomState(0)
    data = {'default': rnd.rand(1, batch, 32, 32, 3).astype(np.float32),
            'targets': rnd.randint(0, 10, (1, batch, 1)).astype(np.float32)}
    return net, data


def cnn_torch(batch, torch):
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(3, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(32, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Linear(3 * 3 * 64, 64), nn.ReLU(), nn.Linear(64, 10))
    x = torch.rand(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))
    return model, x, y


def _symbols(batch, time_steps=100, n_symbols=205):
    rnd = np.random.RandomState(0)
    return rnd.randint(0, n_symbols, (time_steps + 1, batch))


def lstm_brainstorm(batch):
    inp, out = bs.tools.get_in_out_layers('classification', 205, 205)
    net = bs.Network.from_layer(inp >> bs.layers.Lstm(512) >> out)
    net.initialize(bs.initializers.Gaussian(0.01))
    symbols = _symbols(batch)
    one_hot = np.eye(205, dtype=np.float32)[symbols[:-1]]
    data = {'default': one_hot,
            'targets': symbols[1:, :, None].astype(np.float32)}
    return net, data


class _TorchLstm:
    """nn.LSTM(205, 512) and a Linear(512, 205) on every time step."""

    def __init__(self, torch):
        self.lstm = torch.nn.LSTM(205, 512)
        self.fc = torch.nn.Linear(512, 205)

    def parameters(self):
        return list(self.lstm.parameters()) + list(self.fc.parameters())

    def train(self):
        self.lstm.train()
        self.fc.train()

    def __call__(self, x):
        hidden, _ = self.lstm(x)
        return self.fc(hidden).reshape(-1, 205)


def lstm_torch(batch, torch):
    symbols = torch.from_numpy(_symbols(batch))
    x = torch.nn.functional.one_hot(symbols[:-1], 205).float()
    y = symbols[1:].reshape(-1)
    return _TorchLstm(torch), x, y


# name: (brainstorm network and data, torch model and data, samples per step)
WORKLOADS = {'mlp': (mlp_brainstorm, mlp_torch, 100),
             'cnn': (cnn_brainstorm, cnn_torch, 100),
             'lstm': (lstm_brainstorm, lstm_torch, 50)}


def bs_step_function(make, batch):
    net, data = make(batch)
    # as inside Trainer.train with no hook reading them: skip the deltas of
    # the data (no parameter needs them; PyTorch skips them too)
    net.compute_all_deltas = False
    stepper = bs.training.MomentumStepper(learning_rate=0.01, momentum=0.9,
                                          scale_learning_rate=False)
    stepper.start(net)

    def step():
        net.provide_external_data(data)
        stepper.run()
    return step


def torch_step_function(make, batch, threads):
    import torch
    torch.set_num_threads(threads)
    model, x, y = make(batch, torch)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return step


def time_interleaved(steps_by_name, blocks, steps=None, settle=0.5,
                     block_seconds=1.0):
    """Median seconds per step of each step function.

    The contenders take turns, one timed block each per round, so that the
    drift of a shared machine (clock frequency, neighbours) falls on all of
    them alike. After each switch a contender first runs untimed for
    ``settle`` seconds (at least one step): the thread pools of the BLAS
    library and of PyTorch keep spinning for a while after their last call
    and would otherwise steal the cores from whichever runs next. A timed
    block has ``steps`` steps, or (None) as many as fill about
    ``block_seconds``, judged from the settling steps.
    """
    times = {name: [] for name in steps_by_name}
    for _ in range(blocks):
        for name, step in steps_by_name.items():
            start, done = time.perf_counter(), 0
            while done == 0 or time.perf_counter() < start + settle:
                step()
                done += 1
            per_step = (time.perf_counter() - start) / done
            n = steps or max(2, int(round(block_seconds / per_step)))
            start = time.perf_counter()
            for _ in range(n):
                step()
            times[name].append((time.perf_counter() - start) / n)
    return {name: statistics.median(t) for name, t in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('workloads', nargs='*', metavar='workload',
                        help='one of {} (default: all)'.format(
                            ', '.join(sorted(WORKLOADS))))
    parser.add_argument('--blocks', type=int, default=7,
                        help='timed blocks per contender (default 7)')
    parser.add_argument('--steps', type=int, default=None,
                        help='steps per timed block (default: about one '
                             'second of steps)')
    parser.add_argument('--threads', type=int,
                        default=len(os.sched_getaffinity(0)))
    args = parser.parse_args(argv)
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error('unknown workload(s) {}; choose from {}'.format(
            ', '.join(sorted(unknown)), ', '.join(sorted(WORKLOADS))))
    args.workloads = args.workloads or sorted(WORKLOADS)
    try:
        import torch
    except ImportError:
        torch = None
        print('torch is not installed: brainstorm figures only '
              '(pip install torch==2.13.0 for the side-by-side ratio)')
    print('{:<6} {:>14} {:>10} {:>14} {:>10} {:>7}'.format(
        'name', 'bs samples/s', 'bs ms', 'torch samp/s', 'torch ms',
        'ratio'))
    for name in args.workloads:
        make_bs, make_torch, batch = WORKLOADS[name]
        contenders = {'bs': bs_step_function(make_bs, batch)}
        if torch is not None:
            contenders['torch'] = torch_step_function(make_torch, batch,
                                                      args.threads)
        t = time_interleaved(contenders, args.blocks, args.steps)
        line = '{:<6} {:>14.0f} {:>10.2f}'.format(name, batch / t['bs'],
                                                  t['bs'] * 1e3)
        if torch is not None:
            line += ' {:>14.0f} {:>10.2f} {:>7.2f}'.format(
                batch / t['torch'], t['torch'] * 1e3, t['torch'] / t['bs'])
        print(line, flush=True)


if __name__ == '__main__':
    main()
