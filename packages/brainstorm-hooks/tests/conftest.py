"""Fixtures: the test layers of brainstorm-core, a tiny data iterator and a
small network, so that these tests need only brainstorm-core."""
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.data_iterators import DataIterator
from brainstorm.hooks import Hook
from brainstorm.testing.simple_layers import (TestAffine, TestSoftmaxLoss,
                                              use_simple_layers)


@pytest.fixture(autouse=True)
def simple_layers():
    with use_simple_layers():
        yield


class FixedBatches(DataIterator):
    """Yields the given list of batches (dicts of (T, B, ...) arrays)."""

    def __init__(self, batches, length=True):
        self.batches = batches
        total = sum(b['default'].shape[1] for b in batches)
        T, _, F = batches[0]['default'].shape
        super().__init__({'default': (T, total, F)},
                         len(batches) if length else None)

    def __call__(self, handler=None):
        yield from self.batches


def random_batches(sizes, seed=0, T=1, n_classes=3):
    """Batches of 4 features and class-index targets, one per size."""
    rnd = np.random.RandomState(seed)
    return [{'default': rnd.randn(T, B, 4),
             'targets': rnd.randint(0, n_classes, (T, B, 1)).astype(float)}
            for B in sizes]


class Recorder(Hook):
    """Records its calls and, optionally, the parameters of the network."""

    can_stop_training = True
    __undescribed__ = {'calls': None, 'params': None}

    def __init__(self, name=None, timescale='epoch', interval=1,
                 record_params=False, stop_at=None):
        super().__init__(name, timescale, interval)
        self.record_params = record_params
        self.stop_at = stop_at
        self.calls = []
        self.params = []

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        self.calls.append((epoch_nr, update_nr))
        if self.record_params:
            self.params.append({'W': net.get('A.parameters.W'),
                                'bias': net.get('A.parameters.bias'),
                                'all': net.get('parameters')})
        if self.stop_at is not None and epoch_nr >= self.stop_at:
            raise StopIteration('recorder stop')


class Scripted(Hook):
    """Logs ``{'value': values[i]}`` on its i-th call."""

    __undescribed__ = {'count': 0}

    def __init__(self, values, name='mon', **kwargs):
        super().__init__(name, **kwargs)
        self.values = list(values)
        self.count = 0

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        value = self.values[min(self.count, len(self.values) - 1)]
        self.count += 1
        return {'value': value, 'nested': {'value': value}}


def build_net(n_classes=3, seed=1, with_mask=False):
    inputs = {'default': ('T', 'B', 4), 'targets': ('T', 'B', 1)}
    if with_mask:
        inputs['mask'] = ('T', 'B', 1)
    inp = bs.layers.Input(inputs)
    out = TestSoftmaxLoss(name='Output')
    inp >> TestAffine(n_classes, name='A') >> out
    inp - 'targets' >> 'targets' - out
    net = bs.Network.from_layer(out)
    n = net.buffer_manager.num_parameters
    net.set_parameters(np.random.RandomState(seed).randn(n) * 0.5)
    return net


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.fixture
def net():
    return build_net()


@pytest.fixture
def train_iter():
    return FixedBatches(random_batches([4, 4, 4], seed=0))


@pytest.fixture
def valid_iter():
    return FixedBatches(random_batches([5, 3], seed=7))


@pytest.fixture
def trainer():
    return bs.Trainer(bs.training.SgdStepper(0.5), verbose=False)


@pytest.fixture
def helpers():
    """The helper classes and functions of this conftest."""
    class H:
        pass
    h = H()
    h.FixedBatches, h.random_batches = FixedBatches, random_batches
    h.Recorder, h.Scripted, h.build_net = Recorder, Scripted, build_net
    h.softmax = softmax
    return h
