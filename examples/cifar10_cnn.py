#!/usr/bin/env python
"""The manual's walkthrough (chapter 2): a convolutional network on CIFAR-10.

Reads the HDF5 file that ``brainstorm prepare`` writes from the python
version of CIFAR-10 (``cifar-10-python.tar.gz``, from
https://www.cs.toronto.edu/~kriz/cifar.html)::

    brainstorm prepare cifar10 cifar-10-python.tar.gz -o CIFAR-10.hdf5
    python examples/cifar10_cnn.py [--data CIFAR-10.hdf5] [--epochs 10]
        [--updates N] [--filters 32] [--hidden 64] [--seed 42]

Without ``--data`` the file is ``CIFAR-10.hdf5`` in ``$BRAINSTORM_DATA_DIR``
(default ``../data``), as in the manual. The network

    Input >> Conv(32, 5x5) >> MaxPool(3x3, stride 2)
          >> Conv(32, 5x5) >> MaxPool(3x3, stride 2)
          >> Conv(64, 5x5) >> MaxPool(3x3, stride 2)
          >> FullyConnected(64) >> FC(10) >> SoftmaxCE

(``--filters F`` gives the convolutions F, F and 2F filters, ``--hidden``
the units of the FullyConnected layer) is the manual's; its 20 epochs are
cut to 10 by default for a CPU, and ``--updates N`` trains each epoch on
the first N minibatches of 100 images only.

is trained with SGD with momentum, a progress bar, the validation accuracy
after every epoch and the best network saved to ``--output``; it runs on
the GPU (``PyCudaHandler``) when brainstorm-cuda is installed with its
``gpu`` extra and a device is present, on the default ``NumpyHandler``
otherwise (``--cpu`` forces that).

``--smoke`` runs the same job in seconds: one epoch on the first few
minibatches of 10 images.
"""
import argparse
import os
import sys

import h5py

import brainstorm as bs
from brainstorm.cli import non_negative_int, positive_int
from brainstorm.data_iterators import Minibatches
from brainstorm.initializers import Gaussian

try:
    from brainstorm.handlers import PyCudaHandler
except ImportError:     # brainstorm-cuda is not installed or has no handler
    PyCudaHandler = None

PREPARE = 'brainstorm prepare cifar10 cifar-10-python.tar.gz -o {}'

# --smoke: minibatch size and number of minibatches of each split
SMOKE_BATCH_SIZE = 10
SMOKE_BATCHES = {'training': 3, 'validation': 2}


def gpu_handler():
    """A ``PyCudaHandler``, or None when brainstorm-cuda is not installed or
    cannot run here (no GPU, driver, pycuda or nvcc: the reason goes to
    stderr)."""
    if PyCudaHandler is None:
        return None
    try:
        return PyCudaHandler()
    except RuntimeError as err:     # brainstorm_cuda.CudaUnavailableError
        print('cifar10_cnn.py: running on the CPU: {}'.format(err),
              file=sys.stderr)
        return None


def default_data_file():
    """``CIFAR-10.hdf5`` in ``$BRAINSTORM_DATA_DIR`` (default ``../data``)."""
    data_dir = os.environ.get('BRAINSTORM_DATA_DIR', '../data')
    return os.path.join(data_dir, 'CIFAR-10.hdf5')


def open_data(data_file):
    """The ``normalized_split`` group of ``data_file``; exits with a message
    naming the prepare command if the file is missing or not prepared."""
    if not os.path.exists(data_file):
        sys.exit('cifar10_cnn.py: no CIFAR-10 data file {!r}. Download '
                 'cifar-10-python.tar.gz from '
                 'https://www.cs.toronto.edu/~kriz/cifar.html, convert it '
                 'with\n    {}\nand pass the file with --data or put it in '
                 '$BRAINSTORM_DATA_DIR.'.format(data_file,
                                                PREPARE.format(data_file)))
    try:
        f = h5py.File(data_file, 'r')
    except OSError as err:
        sys.exit('cifar10_cnn.py: cannot read {!r} ({}); write it with\n'
                 '    {}'.format(data_file, err, PREPARE.format(data_file)))
    missing = [path for path in ('normalized_split/training/default',
                                 'normalized_split/training/targets',
                                 'normalized_split/validation/default',
                                 'normalized_split/validation/targets')
               if path not in f]
    if missing:
        sys.exit('cifar10_cnn.py: {!r} lacks {}; it is not a file written '
                 'by\n    {}'.format(data_file, ', '.join(missing),
                                     PREPARE.format(data_file)))
    return f['normalized_split']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', metavar='FILE',
                        help='the HDF5 file written by `brainstorm prepare '
                             'cifar10` (default: CIFAR-10.hdf5 in '
                             '$BRAINSTORM_DATA_DIR, else ../data)')
    parser.add_argument('--epochs', type=positive_int, default=10,
                        help='number of epochs (default: %(default)s, sized '
                             "for a CPU; the manual trains 20)")
    parser.add_argument('--updates', type=non_negative_int, default=0,
                        help='updates (minibatches of 100 images) per epoch, '
                             'from the start of the training data; 0 for '
                             'all 400 of CIFAR-10 (default: %(default)s)')
    parser.add_argument('--filters', type=positive_int, default=32,
                        help='filters of the first two convolutions, the '
                             "third has twice as many (default: "
                             "%(default)s, the manual's)")
    parser.add_argument('--hidden', type=positive_int, default=64,
                        help='units of the FullyConnected layer (default: '
                             "%(default)s, the manual's)")
    parser.add_argument('--seed', type=int, default=42,
                        help='seed of bs.global_rnd (default: %(default)s)')
    parser.add_argument('--output', default='cifar10_cnn_best.hdf5',
                        help='where the best network is saved (default: '
                             '%(default)s)')
    parser.add_argument('--cpu', action='store_true',
                        help='stay on the CPU (the fastest CPU handler '
                             'installed) even if a GPU handler is installed')
    parser.add_argument('--smoke', action='store_true',
                        help='a quick check: one epoch on {} training and '
                             '{} validation minibatches of {} images'.format(
                                 SMOKE_BATCHES['training'],
                                 SMOKE_BATCHES['validation'],
                                 SMOKE_BATCH_SIZE))
    args = parser.parse_args(argv)

    bs.global_rnd.set_seed(args.seed)

    data_file = args.data or default_data_file()
    ds = open_data(data_file)
    if not bs.distributed.is_writer():
        # one rank of a data-parallel job (mpiexec): rank 0 prints
        sys.stdout = open(os.devnull, 'w')
    print('Data: {}'.format(data_file))

    batch_size, epochs = 100, args.epochs
    splits = {name: (ds[name]['default'], ds[name]['targets'])
              for name in ('training', 'validation')}
    if args.updates:
        x, y = splits['training']   # h5py reads only the slice asked for
        splits['training'] = (x[:, :args.updates * batch_size],
                              y[:, :args.updates * batch_size])
    if args.smoke:
        batch_size, epochs = SMOKE_BATCH_SIZE, 1
        # h5py reads only the slices asked for
        splits = {name: (x[:, :SMOKE_BATCHES[name] * batch_size],
                         y[:, :SMOKE_BATCHES[name] * batch_size])
                  for name, (x, y) in splits.items()}

    getter_tr = Minibatches(batch_size, default=splits['training'][0],
                            targets=splits['training'][1])
    getter_va = Minibatches(batch_size, default=splits['validation'][0],
                            targets=splits['validation'][1])

    # (32, 32, 3) for CIFAR-10
    in_shape = tuple(ds['training']['default'].shape[2:])
    inp, fc = bs.tools.get_in_out_layers('classification', in_shape, 10)

    (inp >>
     bs.layers.Convolution2D(args.filters, kernel_size=(5, 5), padding=2,
                             name='Conv1') >>
     bs.layers.Pooling2D(type="max", kernel_size=(3, 3), stride=(2, 2)) >>
     bs.layers.Convolution2D(args.filters, kernel_size=(5, 5), padding=2,
                             name='Conv2') >>
     bs.layers.Pooling2D(type="max", kernel_size=(3, 3), stride=(2, 2)) >>
     bs.layers.Convolution2D(2 * args.filters, kernel_size=(5, 5),
                             padding=2, name='Conv3') >>
     bs.layers.Pooling2D(type="max", kernel_size=(3, 3), stride=(2, 2)) >>
     bs.layers.FullyConnected(args.hidden, name='FC') >>
     fc)

    network = bs.Network.from_layer(fc)

    handler = None if args.cpu else gpu_handler()
    if handler is None:
        # the fastest CPU handler installed (NumbaHandler with
        # brainstorm-numba, else NumpyHandler)
        handler = bs.handlers.best_cpu_handler()
        network.set_handler(handler)
        print('Handler: {!r} (CPU)'.format(handler))
    else:
        network.set_handler(handler)
        print('Handler: PyCudaHandler (GPU)')

    network.initialize({'Conv*': {'W': Gaussian(0.01), 'bias': 0},
                        'FC': {'W': Gaussian(0.1), 'bias': 0},
                        'Output_projection': {'W': Gaussian(0.1), 'bias': 0}})

    trainer = bs.Trainer(bs.training.MomentumStepper(learning_rate=0.01,
                                                     momentum=0.9))
    trainer.add_hook(bs.hooks.ProgressBar())

    # SoftmaxCE's output is 'predictions' ('probabilities' before 0.5)
    scorers = [bs.scorers.Accuracy(out_name='Output.outputs.predictions')]
    trainer.train_scorers = scorers
    trainer.add_hook(bs.hooks.MonitorScores('valid_getter', scorers,
                                            name='validation'))

    trainer.add_hook(bs.hooks.SaveBestNetwork('validation.Accuracy',
                                              filename=args.output,
                                              name='best weights',
                                              criterion='max'))

    trainer.add_hook(bs.hooks.StopAfterEpoch(epochs))

    trainer.train(network, getter_tr, valid_getter=getter_va)

    print("Best validation accuracy:",
          max(trainer.logs["validation"]["Accuracy"]))
    print('Best network saved to {}'.format(args.output))
    return trainer


if __name__ == '__main__':
    main()
