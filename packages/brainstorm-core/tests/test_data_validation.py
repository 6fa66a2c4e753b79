"""Data the network is given is checked: NaN and inf, empty batches, data
not shaped (T, B, ...) like the inputs (provide_external_data), values a
layer refuses (Layer.check_input_data), and data iterators that do not fit
the network or yield nothing (Trainer.train, evaluate)."""
import re
import types

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.data_iterators import (DataIterator, check_finite,
                                       first_nonfinite)
from brainstorm.plugins import hookimpl, registry
from brainstorm.structure.buffer_structure import ShapeError
from brainstorm.layers import construction_function
from brainstorm.testing.simple_layers import (TestAffine,
                                              TestSoftmaxLossLayerImpl,
                                              use_simple_layers)


class RangeCheckedLossLayerImpl(TestSoftmaxLossLayerImpl):
    """TestSoftmaxLoss whose targets must be below the number of classes;
    records the calls of check_input_data."""

    calls = []

    def check_input_data(self, in_name, item_name, data):
        type(self).calls.append((self.name, in_name, item_name, data.shape))
        classes = self.in_shapes['default'].feature_size
        if in_name == 'targets' and data.max() >= classes:
            raise ValueError('data item {!r}: {} is not below {}'.format(
                item_name, data.max(), classes))


@construction_function(RangeCheckedLossLayerImpl)
def RangeCheckedLoss(name=None):
    """TestSoftmaxLoss checking its targets."""


PLUGIN = types.SimpleNamespace(
    brainstorm_layers=hookimpl(lambda: [RangeCheckedLoss]))


@pytest.fixture(autouse=True)
def layers():
    with use_simple_layers():
        registry.register_module(PLUGIN, 'test-data-validation')
        try:
            yield
        finally:
            registry.unregister_module('test-data-validation')


def make_net(checked=False, classes=3, labels_name='targets'):
    inp = bs.layers.Input({'default': ('T', 'B', 4),
                           labels_name: ('T', 'B', 1)})
    out = (RangeCheckedLoss if checked else
           bs.layers.TestSoftmaxLoss)(name='Output')
    inp >> TestAffine(classes, name='A') >> out
    inp - labels_name >> 'targets' - out
    net = bs.Network.from_layer(out)
    net.initialize(0.1, seed=1)
    return net


def batch(B=5, T=1, labels_name='targets'):
    rnd = np.random.RandomState(0)
    return {'default': rnd.randn(T, B, 4).astype(np.float32),
            labels_name: rnd.randint(0, 3, (T, B, 1)).astype(np.float32)}


def message_of(call, *args, **kwargs):
    with pytest.raises(ValueError) as err:
        call(*args, **kwargs)
    return str(err.value)


# -- NaN and inf --------------------------------------------------------------
def test_nan_in_data_names_item_index_and_shape():
    net = make_net()
    data = batch(B=20)
    data['default'][0, 17, 3] = np.nan
    assert message_of(net.provide_external_data, data) == (
        "data item 'default' holds NaN at index (0, 17, 3) (of shape "
        "(1, 20, 4)); data must be finite: remove or repair that sequence "
        "(B index 17)")


def test_inf_in_data_is_named_with_its_sign():
    net = make_net()
    data = batch(B=3, T=2)
    data['default'][1, 2, 0] = -np.inf
    assert message_of(net.provide_external_data, data).startswith(
        "data item 'default' holds -inf at index (1, 2, 0) (of shape "
        "(2, 3, 4))")
    data = batch(B=2)
    data['targets'][0, 1, 0] = np.inf
    assert message_of(net.provide_external_data, data).startswith(
        "data item 'targets' holds inf at index (0, 1, 0)")


def test_finite_data_passes_even_when_its_sum_overflows():
    net = make_net()
    data = batch(B=4)
    data['default'][:] = np.finfo(np.float32).max
    net.provide_external_data(data)
    assert first_nonfinite(data['default']) is None
    assert first_nonfinite(np.arange(6).reshape(1, 2, 3)) is None


def test_check_finite_gives_the_index_in_the_whole_item():
    part = np.zeros((2, 4, 3))
    part[1, 2, 0] = np.nan
    assert message_of(check_finite, 'x', part, offset=40,
                      shape=(2, 100, 3)) == (
        "data item 'x' holds NaN at index (1, 42, 0) (of shape (2, 100, 3)); "
        'data must be finite: remove or repair that sequence (B index 42)')


# -- shapes -------------------------------------------------------------------
def test_two_dimensional_data_is_refused_with_the_layout():
    net = make_net()
    data = batch(B=5)
    data['default'] = data['default'][0]
    with pytest.raises(ShapeError) as err:
        net.provide_external_data(data)
    assert str(err.value) == (
        "data item 'default' has shape (5, 4), but the network's input "
        "'default' takes (T, B, 4); data is shaped (T, B, ...), use "
        "(1, B, ...) for non-sequential data")


def test_wrong_feature_shape_is_named():
    net = make_net()
    data = batch(B=5)
    data['default'] = np.zeros((1, 5, 6))
    with pytest.raises(ShapeError, match=re.escape(
            "data item 'default' has shape (1, 5, 6), but the network's "
            "input 'default' takes (T, B, 4)")):
        net.provide_external_data(data)


@pytest.mark.parametrize('T, B, what', [(1, 0, 'sequences (B = 0)'),
                                        (0, 3, 'time steps (T = 0)')])
def test_empty_batch_is_refused(T, B, what):
    net = make_net()
    data = {'default': np.zeros((T, B, 4)), 'targets': np.zeros((T, B, 1))}
    with pytest.raises(ShapeError) as err:
        net.provide_external_data(data)
    assert str(err.value) == \
        "data item 'default' has shape ({}, {}, 4): it holds no {}".format(
            T, B, what)


# -- values checked by layers ------------------------------------------------
def test_layers_check_the_items_they_read_under_the_item_name():
    net = make_net(checked=True, labels_name='labels')
    RangeCheckedLossLayerImpl.calls.clear()
    net.provide_external_data(batch(B=5, labels_name='labels'))
    # called once, for the input reading an Input item directly
    assert RangeCheckedLossLayerImpl.calls == [
        ('Output', 'targets', 'labels', (1, 5, 1))]
    data = batch(B=5, labels_name='labels')
    data['labels'][0, 2, 0] = 3
    assert message_of(net.provide_external_data, data) == \
        "data item 'labels': 3.0 is not below 3"
    # check_external_data checks without providing (whole data sets)
    assert message_of(net.check_external_data, {'labels': data['labels']}) \
        == "data item 'labels': 3.0 is not below 3"
    net.check_external_data({'labels': np.zeros((1, 1000, 1))})


# -- iterators given to Trainer.train and evaluate ----------------------------
class GivenBatches(DataIterator):
    """Yields ``batches``; ``data_shapes`` as given."""

    def __init__(self, batches, data_shapes, length):
        self.batches = batches
        super().__init__(data_shapes, length)

    def __call__(self, handler=None):
        yield from self.batches


class StopAtEpochTwo(bs.hooks.Hook):
    can_stop_training = True

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if epoch_nr >= 2:
            raise StopIteration('done')


def trainer():
    t = bs.Trainer(bs.training.SgdStepper(0.1), verbose=False)
    t.add_hook(StopAtEpochTwo())
    return t


def test_train_refuses_an_iterator_without_batches():
    net = make_net()
    empty = GivenBatches([], {'default': (1, 5, 4)}, None)
    with pytest.raises(ValueError) as err:
        trainer().train(net, empty)
    assert str(err.value) == (
        'Trainer.train: the training data iterator yielded no batches in '
        'epoch 1: there is no training data')
    with pytest.raises(ValueError) as err:
        trainer().train(net, GivenBatches([batch()], {}, 1),
                        valid_getter=GivenBatches([], {}, 0))
    assert str(err.value) == 'Trainer.train: valid_getter holds no data ' \
                             '(0 batches)'


def test_train_and_evaluate_name_a_feature_shape_mismatch():
    net = make_net()
    wrong = GivenBatches([batch()], {'default': (1, 5, 6),
                                     'targets': (1, 5, 1)}, 1)
    with pytest.raises(ShapeError) as err:
        trainer().train(net, wrong)
    assert str(err.value) == (
        "Trainer.train: training_data_iter gives data item 'default' shaped "
        "(1, 5, 6), but the network's input 'default' takes (T, B, 4)")
    with pytest.raises(ShapeError) as err:
        bs.tools.evaluate(net, wrong)
    assert str(err.value).startswith(
        "evaluate: the data iterator gives data item 'default' shaped "
        "(1, 5, 6)")


def test_evaluate_refuses_an_iterator_without_batches():
    net = make_net()
    with pytest.raises(ValueError) as err:
        bs.tools.evaluate(net, GivenBatches([], {}, None))
    assert str(err.value) == ('the data iterator yielded no batches: there '
                              'is no data to compute losses and scores on')
