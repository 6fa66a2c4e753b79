#!/usr/bin/env python
"""Benchmark workloads of shared/bench/WORKLOADS.md on an NVIDIA GPU:
brainstorm's PyCudaHandler and, when torch with CUDA is installed, the same
network in PyTorch on the same GPU, side by side in one run.

The networks, data and timing are those of bench_workloads.py. One training
step = provide_external_data + forward_pass(training_pass=True) +
backward_pass + one MomentumStepper update; the data lies on the GPU
beforehand for both contenders, and every step ends by waiting for the GPU.
Float32 throughout: PyTorch's TF32 shortcuts are off unless --tf32 is given.
Reported: samples/s and ms/step (median of the timed blocks) and the ratio
brainstorm / PyTorch in samples/s.

    python bench/bench_gpu.py [mlp] [cnn] [lstm] [--blocks 7] [--steps N]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_workloads as workloads  # noqa: E402

import brainstorm as bs  # noqa: E402


def bs_step_function(make, batch):
    from brainstorm.handlers import PyCudaHandler
    net, data = make(batch)
    handler = PyCudaHandler()
    net.set_handler(handler)
    on_gpu = {name: handler.create_from_numpy(value)
              for name, value in data.items()}
    stepper = bs.training.MomentumStepper(learning_rate=0.01, momentum=0.9,
                                          scale_learning_rate=False)
    stepper.start(net)
    synchronize = handler.context.synchronize

    def step():
        net.provide_external_data(on_gpu)
        stepper.run()
        synchronize()
    return step


class _TorchLstm(workloads._TorchLstm):
    def to(self, device):
        self.lstm.to(device)
        self.fc.to(device)
        return self


TORCH_MODELS = {'mlp': workloads.mlp_torch, 'cnn': workloads.cnn_torch,
                'lstm': None}


def torch_step_function(name, batch, torch):
    device = torch.device('cuda')
    if name == 'lstm':
        _, x, y = workloads.lstm_torch(batch, torch)
        model = _TorchLstm(torch).to(device)
    else:
        model, x, y = TORCH_MODELS[name](batch, torch)
        model = model.to(device)
    x, y = x.to(device), y.to(device)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        torch.cuda.synchronize()
    return step


def _torch_with_cuda(tf32):
    try:
        import torch
    except ImportError:
        print('torch is not installed: brainstorm figures only')
        return None
    if not torch.cuda.is_available():
        print('torch sees no GPU: brainstorm figures only')
        return None
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True
    return torch


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('workloads', nargs='*', metavar='workload',
                        help='one of {} (default: mlp cnn)'.format(
                            ', '.join(sorted(workloads.WORKLOADS))))
    parser.add_argument('--blocks', type=int, default=7,
                        help='timed blocks per contender (default 7)')
    parser.add_argument('--steps', type=int, default=None,
                        help='steps per timed block (default: about one '
                             'second of steps)')
    parser.add_argument('--tf32', action='store_true',
                        help="allow PyTorch's TF32 matrix products and "
                             "convolutions")
    args = parser.parse_args(argv)
    unknown = set(args.workloads) - set(workloads.WORKLOADS)
    if unknown:
        parser.error('unknown workload(s) {}; choose from {}'.format(
            ', '.join(sorted(unknown)),
            ', '.join(sorted(workloads.WORKLOADS))))
    names = args.workloads or ['mlp', 'cnn']
    from brainstorm.handlers import PyCudaHandler
    from brainstorm_cuda import CudaUnavailableError, is_available
    if not is_available():
        try:
            PyCudaHandler()
        except CudaUnavailableError as err:
            sys.exit('bench_gpu.py: {}'.format(err))
    bs.global_rnd.set_seed(1)
    torch = _torch_with_cuda(args.tf32)
    if torch is not None:
        print('GPU: {}, torch {}'.format(torch.cuda.get_device_name(0),
                                         torch.__version__))
    print('{:<6} {:>14} {:>10} {:>14} {:>10} {:>7}'.format(
        'name', 'bs samples/s', 'bs ms', 'torch samp/s', 'torch ms',
        'ratio'))
    for name in names:
        make_bs, _, batch = workloads.WORKLOADS[name]
        contenders = {'bs': bs_step_function(make_bs, batch)}
        if torch is not None:
            contenders['torch'] = torch_step_function(name, batch, torch)
        t = workloads.time_interleaved(contenders, args.blocks, args.steps,
                                       settle=0.2)
        line = '{:<6} {:>14.0f} {:>10.2f}'.format(name, batch / t['bs'],
                                                  t['bs'] * 1e3)
        if torch is not None:
            line += ' {:>14.0f} {:>10.2f} {:>7.2f}'.format(
                batch / t['torch'], t['torch'] * 1e3, t['torch'] / t['bs'])
        print(line, flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
