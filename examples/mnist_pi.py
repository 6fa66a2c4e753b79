#!/usr/bin/env python
"""The manual's mnist_pi example: a permutation-invariant MLP with dropout.

Reads ``MNIST.hdf5`` (layout ``normalized_split/{training,validation,test}/
{default,targets}``) from ``$BRAINSTORM_DATA_DIR`` when it exists, and the
handwritten digits embedded in brainstorm-data otherwise, so it runs on a
fresh machine without any download.

    python examples/mnist_pi.py [--epochs N] [--hidden N] [--seed N]
                                [--output FILE]

The network and the training loop live in ``brainstorm.cli`` (the
``brainstorm train`` command runs the same job): ``mnist_pi_network`` wires

    Input >> Dropout(0.2) >> FullyConnected(1200, 'rel') >> Dropout(0.5)
          >> FullyConnected(1200, 'rel') >> Dropout(0.5) >> FC >> SoftmaxCE

initialised with ``Gaussian(0.01)`` and the output weights constrained by
``ConstrainL2Norm(1)``; ``train_network`` trains it with a momentum stepper,
a ``ProgressBar``, ``MonitorScores`` (validation accuracy), a
``SaveBestNetwork`` and ``StopAfterEpoch`` hook.
"""
import argparse

from brainstorm.cli import positive_int, run_mnist_pi


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--epochs', type=positive_int, default=None,
                        help='number of epochs (default: 500 on MNIST, 40 '
                             'on the embedded digits, about 20 seconds on '
                             'a CPU of two cores)')
    parser.add_argument('--hidden', type=positive_int, default=1200,
                        help='units of each of the two hidden layers '
                             "(default: %(default)s, the manual's size)")
    parser.add_argument('--seed', type=int, default=42,
                        help='seed of bs.global_rnd (default: %(default)s)')
    parser.add_argument('--batch-size', type=positive_int, default=None,
                        help='minibatch size (default: 100 on MNIST, 20 on '
                             'the embedded digits)')
    parser.add_argument('--learning-rate', type=float, default=None,
                        help='momentum stepper learning rate (default: 0.1 '
                             'on MNIST, 0.5 on the embedded digits)')
    parser.add_argument('--output', default='mnist_pi_best.hdf5',
                        help='where the best network is saved')
    args = parser.parse_args(argv)
    return run_mnist_pi(args.epochs, args.batch_size, args.learning_rate,
                        args.output, seed=args.seed, hidden=args.hidden)


if __name__ == '__main__':
    main()
