#!/usr/bin/env python
"""A character-level LSTM on the Hutter Prize corpus (enwik8).

Reads the HDF5 file that ``brainstorm prepare`` writes from ``enwik8.zip``
(http://mattmahoney.net/dc/enwik8.zip)::

    brainstorm prepare hutter enwik8.zip -o Hutter.hdf5
    python examples/hutter_lstm.py [--data Hutter.hdf5] [--epochs 5]
        [--updates 500] [--hidden 256] [--seed 42]

Any other text works the same way (``brainstorm prepare hutter
corpus.txt.gz -o Text.hdf5``: plain, gzip, bzip2, xz or zip).

Without ``--data`` the file is ``Hutter.hdf5`` in ``$BRAINSTORM_DATA_DIR``
(default ``../data``). It holds byte sequences as symbol indices shaped
(T, N, 1) and, as targets, the symbol that follows each one; the group
attribute ``alphabet`` maps the K symbols back to bytes. The network

    Input (one-hot symbols, K features) >> Lstm(--hidden) >> FC(K) >> SoftmaxCE

predicts the next symbol at every step. The symbol indices become one-hot
vectors one minibatch at a time (with the ``OneHot`` iterator where
brainstorm-data provides it, with :class:`OneHotInputs` below otherwise),
so the corpus never has to fit in memory as one-hot data.

The defaults are sized for a CPU: an LSTM of 256 cells, epochs of 500
updates (minibatches of 50 sequences taken from the start of the training
data; ``--updates 0`` uses all of it) and the validation scores on the
first 50 validation minibatches (``--valid-batches``). A run the size of
the original (``--hidden 1000 --batch-size 100 --updates 0
--valid-batches 0 --epochs 10``, every byte of enwik8 once per epoch) is
work for a GPU.

Training uses Adam with the LSTM's gradients clipped to [-1, 1], a progress
bar, the validation loss and accuracy after every epoch, and saves the
network of lowest validation loss to ``--output``. The loss is printed in
nats per sequence and in bits per character, and the saved network then
writes a sample: it reads the first sequence of the validation data and
continues it one symbol at a time, carrying the LSTM state from step to
step with ``get_context`` / ``forward_pass(context=...)``.

``--smoke`` runs the same job in seconds: a small LSTM, one epoch on two
minibatches of 4 sequences and a short sample.
"""
import argparse
import math
import os
import sys

import h5py
import numpy as np

import brainstorm as bs
from brainstorm.cli import non_negative_int, positive_int
from brainstorm.data_iterators import DataIterator, Minibatches
from brainstorm.initializers import Gaussian

PREPARE = 'brainstorm prepare hutter enwik8.zip -o {}'

# --smoke: LSTM size, minibatch size, minibatches of each split, sample size
SMOKE = dict(hidden=16, batch_size=4, sample=20,
             batches={'training': 2, 'validation': 1})


class OneHotInputs(DataIterator):
    """The batches of another iterator with one item's symbol indices,
    shaped (T, B, 1), turned into one-hot vectors shaped (T, B, K).

    Parameters
    ----------
    iterator : DataIterator
        Yields dicts of (T, B, ...) arrays.
    vocab_size : int
        Number of symbols K.
    name : str
        The item to convert (default 'default'); the others are passed on
        unchanged.
    """

    def __init__(self, iterator, vocab_size, name='default'):
        shape = tuple(iterator.data_shapes[name])
        if shape[-1] != 1:
            raise ValueError('OneHotInputs: data item {!r} must be shaped '
                             '(T, B, 1), got {}'.format(name, shape))
        shapes = dict(iterator.data_shapes)
        shapes[name] = shape[:-1] + (vocab_size,)
        super().__init__(shapes, iterator.length)
        self.iterator = iterator
        self.vocab_size = vocab_size
        self.name = name

    def __call__(self, handler=None):
        eye = np.eye(self.vocab_size, dtype=np.float32)
        for batch in self.iterator(handler):
            batch = dict(batch)
            batch[self.name] = eye[np.asarray(batch[self.name])[..., 0]]
            yield batch

    def get_checkpoint_state(self):
        return self.iterator.get_checkpoint_state()

    def set_checkpoint_state(self, state):
        self.iterator.set_checkpoint_state(state)


def one_hot(iterator, vocab_size):
    """``OneHot(iterator, {'default': vocab_size})`` where brainstorm-data
    provides it, :class:`OneHotInputs` otherwise."""
    try:
        from brainstorm.data_iterators import OneHot
    except ImportError:
        return OneHotInputs(iterator, vocab_size)
    return OneHot(iterator, {'default': vocab_size})


def default_data_file():
    """``Hutter.hdf5`` in ``$BRAINSTORM_DATA_DIR`` (default ``../data``)."""
    data_dir = os.environ.get('BRAINSTORM_DATA_DIR', '../data')
    return os.path.join(data_dir, 'Hutter.hdf5')


def open_data(data_file):
    """The ``normalized_split`` group of ``data_file``; exits with a message
    naming the prepare command if the file is missing or not prepared."""
    if not os.path.exists(data_file):
        sys.exit('hutter_lstm.py: no Hutter Prize data file {!r}. Download '
                 'enwik8.zip from http://mattmahoney.net/dc/enwik8.zip, '
                 'convert it with\n    {}\nand pass the file with --data or '
                 'put it in $BRAINSTORM_DATA_DIR.'.format(
                     data_file, PREPARE.format(data_file)))
    try:
        f = h5py.File(data_file, 'r')
    except OSError as err:
        sys.exit('hutter_lstm.py: cannot read {!r} ({}); write it with\n'
                 '    {}'.format(data_file, err, PREPARE.format(data_file)))
    missing = [path for path in ('normalized_split/training/default',
                                 'normalized_split/training/targets',
                                 'normalized_split/validation/default',
                                 'normalized_split/validation/targets')
               if path not in f]
    if 'normalized_split' in f and \
            'alphabet' not in f['normalized_split'].attrs:
        missing.append("the attribute 'alphabet' of normalized_split")
    if missing:
        sys.exit('hutter_lstm.py: {!r} lacks {}; it is not a file written '
                 'by\n    {}'.format(data_file, ', '.join(missing),
                                     PREPARE.format(data_file)))
    return f['normalized_split']


def sample(network, alphabet, seed_symbols, length, rnd):
    """Continue ``seed_symbols`` by ``length`` symbols drawn from the
    network's predictions, one step at a time.

    Parameters
    ----------
    network : Network
        A trained network with inputs 'default' (one-hot) and 'targets'.
    alphabet : numpy.ndarray
        The byte value of each symbol.
    seed_symbols : numpy.ndarray
        Symbol indices the network reads first.
    length : int
        Number of symbols to draw.
    rnd : numpy.random.RandomState
        Where the draws come from.

    Returns
    -------
    bytes
        The drawn symbols as bytes.
    """
    vocab_size = len(alphabet)
    eye = np.eye(vocab_size, dtype=np.float32)

    def step(symbols, context):
        symbols = np.asarray(symbols, dtype=np.int64).reshape(-1, 1, 1)
        network.provide_external_data({
            'default': eye[symbols[..., 0]],
            'targets': np.zeros(symbols.shape, dtype=np.float32)})
        network.forward_pass(context=context)
        last = network.get('Output.outputs.predictions')[-1, 0]
        return last.astype(np.float64), network.get_context()

    probabilities, context = step(seed_symbols, None)
    drawn = []
    for _ in range(length):
        symbol = rnd.choice(vocab_size, p=probabilities /
                            probabilities.sum())
        drawn.append(symbol)
        probabilities, context = step([symbol], context)
    return bytes(alphabet[np.array(drawn, dtype=np.int64)].tolist())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', metavar='FILE',
                        help='the HDF5 file written by `brainstorm prepare '
                             'hutter` (default: Hutter.hdf5 in '
                             '$BRAINSTORM_DATA_DIR, else ../data)')
    parser.add_argument('--hidden', type=positive_int, default=256,
                        help='number of LSTM cells (default: %(default)s, '
                             'sized for a CPU; 1000 is a size for a GPU)')
    parser.add_argument('--batch-size', type=positive_int, default=50,
                        help='sequences per minibatch (default: '
                             '%(default)s)')
    parser.add_argument('--epochs', type=positive_int, default=5,
                        help='number of epochs (default: %(default)s)')
    parser.add_argument('--updates', type=non_negative_int, default=500,
                        help='updates (minibatches) per epoch, taken from '
                             'the start of the training data; 0 for all of '
                             'it (default: %(default)s, sized for a CPU)')
    parser.add_argument('--valid-batches', type=non_negative_int, default=50,
                        metavar='N',
                        help='validation minibatches scored after every '
                             'epoch, from the start of the validation data; '
                             '0 for all (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=42,
                        help='seed of bs.global_rnd (default: %(default)s)')
    parser.add_argument('--learning-rate', type=float, default=0.001,
                        help='Adam learning rate (default: %(default)s)')
    parser.add_argument('--sample', type=non_negative_int, default=500,
                        metavar='N',
                        help='symbols the best network writes at the end '
                             '(default: %(default)s)')
    parser.add_argument('--output', default='hutter_lstm_best.hdf5',
                        help='where the best network is saved (default: '
                             '%(default)s)')
    parser.add_argument('--smoke', action='store_true',
                        help='a quick check: LSTM of {hidden} cells, one '
                             'epoch on {t} training and {v} validation '
                             'minibatches of {batch_size} sequences, a '
                             'sample of {sample} symbols'.format(
                                 t=SMOKE['batches']['training'],
                                 v=SMOKE['batches']['validation'], **SMOKE))
    args = parser.parse_args(argv)

    bs.global_rnd.set_seed(args.seed)

    data_file = args.data or default_data_file()
    ds = open_data(data_file)
    alphabet = np.asarray(ds.attrs['alphabet'])
    vocab_size = len(alphabet)
    if not bs.distributed.is_writer():
        # one rank of a data-parallel job (mpiexec): rank 0 prints
        sys.stdout = open(os.devnull, 'w')
    print('Data: {} ({} symbols, sequences of {} steps)'.format(
        data_file, vocab_size, ds['training']['default'].shape[0]))

    hidden, batch_size, epochs, sample_size = (
        args.hidden, args.batch_size, args.epochs, args.sample)
    splits = {name: (ds[name]['default'], ds[name]['targets'])
              for name in ('training', 'validation')}
    # h5py reads only the slices asked for
    for name, batches in (('training', args.updates),
                          ('validation', args.valid_batches)):
        if batches:
            x, y = splits[name]
            splits[name] = (x[:, :batches * batch_size],
                            y[:, :batches * batch_size])
    if args.smoke:
        hidden, batch_size, epochs, sample_size = (
            SMOKE['hidden'], SMOKE['batch_size'], 1, SMOKE['sample'])
        # h5py reads only the slices asked for
        splits = {name: (x[:, :SMOKE['batches'][name] * batch_size],
                         y[:, :SMOKE['batches'][name] * batch_size])
                  for name, (x, y) in splits.items()}

    getter_tr = one_hot(Minibatches(batch_size,
                                    default=splits['training'][0],
                                    targets=splits['training'][1]),
                        vocab_size)
    getter_va = one_hot(Minibatches(batch_size,
                                    default=splits['validation'][0],
                                    targets=splits['validation'][1]),
                        vocab_size)

    inp, fc = bs.tools.get_in_out_layers('classification', vocab_size,
                                         vocab_size)
    network = bs.Network.from_layer(inp >> bs.layers.Lstm(hidden,
                                                          name='Lstm') >> fc)
    network.set_handler(bs.handlers.best_cpu_handler())
    print('Handler: {!r}'.format(network.handler))
    network.initialize({'Lstm': {'W*': Gaussian(0.1), 'R*': Gaussian(0.1),
                                 'b*': 0},
                        'Output_projection': {'W': Gaussian(0.1),
                                              'bias': 0}})
    network.set_gradient_modifiers(
        {'Lstm': bs.value_modifiers.ClipValues(-1, 1)})

    trainer = bs.Trainer(bs.training.AdamStepper(
        learning_rate=args.learning_rate))
    trainer.add_hook(bs.hooks.ProgressBar())
    scorers = [bs.scorers.Accuracy(out_name='Output.outputs.predictions')]
    trainer.add_hook(bs.hooks.MonitorScores('valid_getter', scorers,
                                            name='validation'))
    trainer.add_hook(bs.hooks.SaveBestNetwork('validation.total_loss',
                                              filename=args.output,
                                              name='best weights',
                                              criterion='min'))
    trainer.add_hook(bs.hooks.StopAfterEpoch(epochs))

    trainer.train(network, getter_tr, valid_getter=getter_va)

    # total_loss sums the cross-entropy (in nats) over the T steps of a
    # sequence and averages over the sequences
    steps = ds['validation']['default'].shape[0]
    best = min(trainer.logs['validation']['total_loss'])
    print('Best validation loss: {:.6f} nats per sequence ({:.4f} bits per '
          'character)'.format(best, best / steps / math.log(2)))
    print('Best network saved to {}'.format(args.output))

    best_network = bs.Network.from_hdf5(args.output)
    seed_symbols = ds['validation']['default'][:, 0, 0]
    text = sample(best_network, alphabet, seed_symbols, sample_size,
                  bs.global_rnd.create_random_state())
    print('Sample of {} symbols after the first validation sequence:'.format(
        sample_size))
    print(text.decode('utf-8', errors='replace'))
    return trainer


if __name__ == '__main__':
    main()
