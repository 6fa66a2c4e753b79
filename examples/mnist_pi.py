#!/usr/bin/env python
"""The manual's mnist_pi example: a permutation-invariant MLP with dropout.

Reads ``MNIST.hdf5`` (layout ``normalized_split/{training,validation,test}/
{default,targets}``) from ``$BRAINSTORM_DATA_DIR`` when it exists, and the
handwritten digits embedded in brainstorm-data otherwise, so it runs on a
fresh machine without any download.

    python examples/mnist_pi.py [--epochs N] [--output FILE]
"""
import argparse
import os

import h5py

import brainstorm as bs
from brainstorm.data_iterators import Minibatches


def load_data():
    data_dir = os.environ.get('BRAINSTORM_DATA_DIR', '../data')
    data_file = os.path.join(data_dir, 'MNIST.hdf5')
    if os.path.exists(data_file):
        ds = h5py.File(data_file, 'r')['normalized_split']
        print('Data: {}'.format(data_file))
        return {split: {name: ds[split][name][:]
                        for name in ('default', 'targets')}
                for split in ('training', 'validation', 'test')}, \
            dict(epochs=500, batch_size=100, learning_rate=0.1)
    from brainstorm_data import load_digits
    print('Data: the UCI handwritten digits embedded in brainstorm-data '
          '(set BRAINSTORM_DATA_DIR to a folder with MNIST.hdf5 to use '
          'MNIST)')
    # 1297 training images of 8x8 pixels instead of 50000 of 28x28: smaller
    # batches and a larger step give a comparable number of useful updates.
    return load_digits(), dict(epochs=40, batch_size=20, learning_rate=0.5)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--epochs', type=int, default=None,
                        help='number of epochs (default: 500 on MNIST, 40 '
                             'on the embedded digits)')
    parser.add_argument('--batch-size', type=int, default=None,
                        help='minibatch size (default: 100 on MNIST, 20 on '
                             'the embedded digits)')
    parser.add_argument('--learning-rate', type=float, default=None,
                        help='momentum stepper learning rate (default: 0.1 '
                             'on MNIST, 0.5 on the embedded digits)')
    parser.add_argument('--output', default='mnist_pi_best.hdf5',
                        help='where the best network is saved')
    args = parser.parse_args(argv)

    bs.global_rnd.set_seed(42)
    data, defaults = load_data()
    epochs = args.epochs or defaults['epochs']
    batch_size = args.batch_size or defaults['batch_size']
    learning_rate = args.learning_rate or defaults['learning_rate']
    tr, va, te = data['training'], data['validation'], data['test']

    getter_tr = Minibatches(batch_size, default=tr['default'],
                            targets=tr['targets'])
    getter_va = Minibatches(100, default=va['default'], targets=va['targets'])
    getter_te = Minibatches(100, default=te['default'], targets=te['targets'])

    in_shape = tr['default'].shape[2:]
    inp, fc = bs.tools.get_in_out_layers('classification', in_shape, 10,
                                         projection_name='FC')
    network = bs.Network.from_layer(
        inp >>
        bs.layers.Dropout(drop_prob=0.2) >>
        bs.layers.FullyConnected(1200, name='Hid1', activation='rel') >>
        bs.layers.Dropout(drop_prob=0.5) >>
        bs.layers.FullyConnected(1200, name='Hid2', activation='rel') >>
        bs.layers.Dropout(drop_prob=0.5) >>
        fc
    )
    network.initialize(bs.initializers.Gaussian(0.01))
    network.set_weight_modifiers({'FC': bs.value_modifiers.ConstrainL2Norm(1)})

    trainer = bs.Trainer(bs.training.MomentumStepper(learning_rate=learning_rate,
                                                     momentum=0.9))
    trainer.add_hook(bs.hooks.ProgressBar())
    scorers = [bs.scorers.Accuracy(out_name='Output.outputs.predictions')]
    trainer.add_hook(bs.hooks.MonitorScores('valid_getter', scorers,
                                            name='validation'))
    trainer.add_hook(bs.hooks.SaveBestNetwork('validation.Accuracy',
                                              filename=args.output,
                                              name='best weights',
                                              criterion='max'))
    trainer.add_hook(bs.hooks.StopAfterEpoch(epochs))

    trainer.train(network, getter_tr, valid_getter=getter_va)
    print('Best validation accuracy:',
          max(trainer.logs['validation']['Accuracy']))

    best = bs.Network.from_hdf5(args.output)
    result = bs.tools.evaluate(best, getter_te, scorers)
    print('Test accuracy of the best network ({}): {:.4f}'.format(
        args.output, result['Accuracy']))
    return result


if __name__ == '__main__':
    main()
