"""Example configurations of every layer of brainstorm-layers, for the
handler conformance suite (:mod:`brainstorm.testing.conformance`), which
runs each on every handler it checks and compares the results with the
NumpyHandler's.

Shapes are small and odd; convolution and pooling come with strides,
padding and non-square kernels, recurrent layers with several time steps
and a context, every activation function at least once. Inputs that need
particular values (class indices, targets in [0, 1], masks,
probabilities) are given; the others are drawn from a standard normal.
"""
import numpy as np

from brainstorm.testing.conformance import LayerExample

__all__ = ['layer_examples']


def _classes(rnd, shape, num_classes):
    return rnd.randint(0, num_classes, shape).astype(np.float64)


def _targets_examples(rnd):
    T, B = 2, 3
    examples = [
        LayerExample('SoftmaxCE', {}, {'default': (5,), 'targets': (1,)},
                     inputs={'targets': _classes(rnd, (T, B, 1), 5)},
                     time_steps=T, batch_size=B),
        LayerExample('SoftmaxCE', {}, {'default': (2, 3, 4),
                                       'targets': (2, 3, 1)},
                     inputs={'targets': _classes(rnd, (T, B, 2, 3, 1), 4)},
                     time_steps=T, batch_size=B, id='SoftmaxCE-image'),
        LayerExample('SigmoidCE', {}, {'default': (4,), 'targets': (4,)},
                     inputs={'targets': rnd.rand(T, B, 4),
                             'default': 3 * rnd.randn(T, B, 4)},
                     time_steps=T, batch_size=B),
        LayerExample('BinomialCrossEntropy', {},
                     {'default': (3,), 'targets': (3,)},
                     inputs={'default': rnd.uniform(0.05, 0.95, (T, B, 3)),
                             'targets': rnd.rand(T, B, 3)},
                     time_steps=T, batch_size=B),
        LayerExample('SquaredError', {}, {'default': (2, 3),
                                          'targets': (2, 3)},
                     time_steps=T, batch_size=B),
        LayerExample('SquaredLoss', {}, {'default': (4,), 'targets': (4,)},
                     time_steps=T, batch_size=B),
        LayerExample('SquaredDifference', {},
                     {'inputs_1': (3, 2), 'inputs_2': (3, 2)},
                     time_steps=T, batch_size=B),
    ]
    return examples


def _feed_forward_examples(rnd):
    return [
        LayerExample('FullyConnected', {'size': 4, 'activation': 'tanh'},
                     {'default': (5,)}, id='FullyConnected-tanh'),
        LayerExample('FullyConnected', {'size': (2, 2), 'activation': 'rel'},
                     {'default': (2, 3, 2)}, time_steps=1, batch_size=4,
                     id='FullyConnected-rel-image'),
        LayerExample('FullyConnected', {'size': 3, 'activation': 'sigmoid'},
                     {'default': (4,)}, time_steps=3, batch_size=2,
                     id='FullyConnected-sigmoid'),
        LayerExample('FullyConnected', {'size': 3, 'activation': 'linear'},
                     {'default': (1,)}, id='FullyConnected-linear'),
        LayerExample('Dropout', {'drop_prob': 0.5}, {'default': (50,)},
                     time_steps=2, batch_size=4),
        LayerExample('Dropout', {'drop_prob': 0.2}, {'default': (4, 5, 3)},
                     time_steps=2, batch_size=3, id='Dropout-0.2-image'),
        LayerExample('BatchNorm', {}, {'default': (4,)}, time_steps=2,
                     batch_size=5),
        LayerExample('BatchNorm', {'decay': 0.5, 'epsilon': 1e-3},
                     {'default': (3, 2, 3)}, time_steps=1, batch_size=4,
                     id='BatchNorm-image'),
        LayerExample('Highway', {}, {'H': (4,), 'T': (4,), 'x': (4,)},
                     inputs={'T': rnd.rand(2, 3, 4)}),
        LayerExample('Elementwise', {'activation': 'rel'}, {'default': (5,)},
                     id='Elementwise-rel'),
        LayerExample('Elementwise', {'activation': 'sigmoid'},
                     {'default': (2, 3)}, id='Elementwise-sigmoid'),
        LayerExample('Elementwise', {'activation': 'tanh'},
                     {'default': (4,)}, id='Elementwise-tanh'),
    ]


def _image_examples():
    conv = [
        ('Convolution2D', {'num_filters': 3, 'kernel_size': 3},
         (5, 5, 2)),
        ('Convolution2D-stride2', {'num_filters': 2, 'kernel_size': 3,
                                   'stride': 2}, (7, 6, 2)),
        ('Convolution2D-padding', {'num_filters': 3, 'kernel_size': (2, 3),
                                   'padding': 1, 'activation': 'tanh'},
         (5, 4, 3)),
        ('Convolution2D-odd', {'num_filters': 1, 'kernel_size': (3, 1),
                               'stride': (2, 1), 'padding': 2,
                               'activation': 'sigmoid'}, (5, 7, 1)),
        ('Convolution2D-1x1-linear', {'num_filters': 4, 'kernel_size': 1,
                                      'activation': 'linear'}, (3, 3, 2)),
    ]
    pool = [
        ('Pooling2D-max', {'kernel_size': 2, 'type': 'max'}, (4, 4, 2)),
        ('Pooling2D-max-stride2', {'kernel_size': 3, 'type': 'max',
                                   'stride': 2}, (7, 5, 2)),
        ('Pooling2D-max-padding', {'kernel_size': (3, 2), 'type': 'max',
                                   'stride': (2, 1), 'padding': 1},
         (5, 4, 3)),
        ('Pooling2D-avg', {'kernel_size': 2, 'type': 'avg'}, (4, 5, 2)),
        ('Pooling2D-avg-padding-stride', {'kernel_size': (2, 3),
                                          'type': 'avg', 'stride': 2,
                                          'padding': 1}, (5, 6, 1)),
    ]
    return [LayerExample(id.split('-')[0], kwargs, {'default': shape},
                         time_steps=2, batch_size=2, id=id)
            for id, kwargs, shape in conv + pool]


def _recurrent_examples():
    T, B = 4, 2
    timing = [1, 2, 2, 3]
    return [
        LayerExample('Recurrent', {'size': 3}, {'default': (2,)},
                     time_steps=T, batch_size=B),
        LayerExample('Recurrent', {'size': 4, 'activation': 'rel'},
                     {'default': (3,)}, time_steps=T, batch_size=B,
                     context=True, id='Recurrent-rel-context'),
        LayerExample('Recurrent', {'size': 2, 'activation': 'linear'},
                     {'default': (2, 2)}, time_steps=3, batch_size=3,
                     id='Recurrent-linear'),
        LayerExample('Lstm', {'size': 3}, {'default': (2,)}, time_steps=T,
                     batch_size=B),
        LayerExample('Lstm', {'size': 2, 'activation': 'linear'},
                     {'default': (3,)}, time_steps=T, batch_size=B,
                     context=True, id='Lstm-linear-context'),
        LayerExample('Clockwork', {'size': 4}, {'default': (3,)},
                     time_steps=5, batch_size=B, context=True,
                     parameters={'timing': timing}),
        LayerExample('ClockworkLstm', {'size': 4, 'activation': 'sigmoid'},
                     {'default': (2,)}, time_steps=5, batch_size=B,
                     context=True, parameters={'timing': timing}),
    ]


def _utility_examples(rnd):
    T, B = 2, 3
    return [
        LayerExample('Loss', {'importance': 0.5}, {'default': (3,)}),
        LayerExample('Loss', {}, {'default': ('B', 2)},
                     id='Loss-batch-sized'),
        LayerExample('Mask', {}, {'default': (4,), 'mask': (1,)},
                     inputs={'mask': _classes(rnd, (T, B, 1), 2)},
                     time_steps=T, batch_size=B),
        LayerExample('Mask', {}, {'default': (2, 3), 'mask': (2, 3)},
                     inputs={'mask': _classes(rnd, (T, B, 2, 3), 2)},
                     time_steps=T, batch_size=B, id='Mask-per-feature'),
        LayerExample('Merge', {}, {'inputs_1': (3,), 'inputs_2': (2,)}),
        LayerExample('Merge', {}, {'inputs_1': (2, 2, 3),
                                   'inputs_2': (2, 2, 1)},
                     id='Merge-image'),
        LayerExample('NoOp', {}, {'default': (2, 3)}),
        LayerExample('DeltasScaling', {'factor': -0.5}, {'default': (4,)}),
        LayerExample('L1Decay', {}, {'default': (4,)}),
        LayerExample('L2Decay', {}, {'default': (2, 3)}),
        LayerExample('L2Decay', {}, {'default': ('B', 3)},
                     id='L2Decay-batch-sized'),
    ]


def layer_examples():
    """The example configurations of all layers of brainstorm-layers.

    Returns
    -------
    list[brainstorm.testing.conformance.LayerExample]
        Inputs with given values are drawn from a fixed seed, so every call
        returns the same examples.
    """
    rnd = np.random.RandomState(2015)
    return (_feed_forward_examples(rnd) + _image_examples() +
            _recurrent_examples() + _targets_examples(rnd) +
            _utility_examples(rnd))
