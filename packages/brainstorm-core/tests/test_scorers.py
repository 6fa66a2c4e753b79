"""Scorers (manual 8.8): the Scorer base, aggregation, and gathering losses
and scores over a data iterator, with brainstorm-core alone."""
import math

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.data_iterators import DataIterator
from brainstorm.handlers import NumpyHandler
from brainstorm.scorers import (Scorer, gather_losses_and_scores,
                                gather_scores_of_batch)
from brainstorm.testing.simple_layers import (TestAffine, TestSoftmaxLoss,
                                              use_simple_layers)


@pytest.fixture(autouse=True)
def layers():
    with use_simple_layers():
        yield


class Hits(Scorer):
    """Fraction of entries whose argmax is the class index."""

    def __call__(self, true_labels, predicted, mask=None):
        hits = (np.argmax(predicted, axis=-1) == true_labels[..., 0])
        if mask is None:
            return float(np.mean(hits))
        mask = mask[..., 0]
        return float(np.sum(hits * mask) / np.sum(mask))


class Record(Scorer):
    """Records what it is called with; scores 0."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = []

    def __call__(self, true_labels, predicted, mask=None):
        self.calls.append((true_labels, predicted, mask))
        return 0.0


class Best(Hits):
    """Hits, aggregated as the best batch."""

    @staticmethod
    def aggregate(pairs):
        return max(s for _, s in pairs)


class Batches(DataIterator):
    def __init__(self, batches):
        self.batches = batches
        super().__init__({'default': (2, 8, 4)}, len(batches))

    def __call__(self, handler=None):
        yield from self.batches


def make_net(outputs=('Output',)):
    inp = bs.layers.Input({'default': ('T', 'B', 4),
                           'targets': ('T', 'B', 1),
                           'labels': ('T', 'B', 1),
                           'mask': ('T', 'B', 1)})
    hidden = inp >> TestAffine(3, name='A')
    for name in outputs:
        out = TestSoftmaxLoss(name=name)
        hidden >> out
        inp - 'targets' >> 'targets' - out
    net = bs.Network.from_layer(hidden)
    net.set_handler(NumpyHandler(np.float64))
    n = net.buffer_manager.num_parameters
    net.set_parameters(np.random.RandomState(3).randn(n))
    return net


def make_batches(sizes=(5, 3), T=2, seed=0):
    rnd = np.random.RandomState(seed)
    return [{'default': rnd.randn(T, B, 4),
             'targets': rnd.randint(0, 3, (T, B, 1)).astype(float),
             'labels': rnd.randint(0, 3, (T, B, 1)).astype(float),
             'mask': (rnd.rand(T, B, 1) < 0.6).astype(float)}
            for B in sizes]


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def logits(net, data):
    return data['default'] @ net.get('A.parameters.W') + \
        net.get('A.parameters.bias')


def run(net, data):
    net.provide_external_data(data)
    net.forward_pass(training_pass=False)


# -- the base class -----------------------------------------------------------

def test_defaults_and_name():
    s = Hits()
    assert (s.out_name, s.targets_name, s.mask_name) == ('', 'targets', '')
    assert s.__name__ == 'Hits'
    s = Hits(out_name='X.outputs.y', targets_name='t', mask_name='m',
             name='hits')
    assert (s.out_name, s.targets_name, s.mask_name, s.__name__) == \
        ('X.outputs.y', 't', 'm', 'hits')


def test_base_scorer_has_no_score():
    with pytest.raises(NotImplementedError):
        Scorer()(np.zeros((1, 2, 1)), np.zeros((1, 2, 3)))


def test_weight_counts_entries_or_the_mask():
    labels = np.zeros((2, 3, 1))
    assert Scorer().weight(labels) == 6.0
    mask = np.array([1, 0, 1, 1, 0, 0], dtype=float).reshape(2, 3, 1)
    assert Scorer().weight(labels, mask) == 3.0


def test_aggregate_is_the_weighted_mean():
    result = Scorer.aggregate([(2, 1.0), (6, 0.5)])
    assert isinstance(result, float)
    assert result == pytest.approx((2 * 1.0 + 6 * 0.5) / 8)
    assert Scorer.aggregate([(1, 0.25)]) == 0.25


def test_aggregate_skips_pairs_of_weight_zero():
    pairs = [(0, float('nan')), (3, 0.2), (0, 100.0), (1, 0.6)]
    assert Scorer.aggregate(pairs) == pytest.approx((3 * 0.2 + 0.6) / 4)


def test_aggregate_without_weight_is_nan():
    assert math.isnan(Scorer.aggregate([(0, 1.0), (0.0, 0.5)]))
    assert math.isnan(Scorer.aggregate([]))


# -- one batch ----------------------------------------------------------------

def test_score_of_a_batch_uses_the_default_output():
    net = make_net()
    data = make_batches()[0]
    run(net, data)
    weight, score = gather_scores_of_batch(net, Hits(), data)
    p = softmax(logits(net, data))
    assert weight == 10.0
    assert score == pytest.approx(np.mean(
        p.argmax(-1) == data['targets'][..., 0]))
    record = Record()
    gather_scores_of_batch(net, record, data)
    true, predicted, mask = record.calls[0]
    assert np.allclose(predicted, p)
    assert np.array_equal(true, data['targets'])
    assert mask is None


def test_out_name_of_the_scorer_comes_before_the_argument():
    net = make_net()
    data = make_batches()[0]
    run(net, data)
    record = Record()
    gather_scores_of_batch(net, record, data, out_name='A.outputs.default')
    assert np.allclose(record.calls[0][1], logits(net, data))
    record = Record(out_name='A.outputs.default')
    gather_scores_of_batch(net, record, data,
                           out_name='Output.outputs.predictions')
    assert np.allclose(record.calls[0][1], logits(net, data))


def test_targets_name_of_the_scorer_or_the_argument():
    net = make_net()
    data = make_batches()[0]
    run(net, data)
    record = Record(targets_name='labels')
    gather_scores_of_batch(net, record, data, targets_name='targets')
    assert np.array_equal(record.calls[0][0], data['labels'])
    record = Record(targets_name='')
    gather_scores_of_batch(net, record, data, targets_name='labels')
    assert np.array_equal(record.calls[0][0], data['labels'])


def test_mask_of_the_scorer_or_the_argument_weights_the_batch():
    net = make_net()
    data = make_batches()[0]
    run(net, data)
    mask = data['mask']
    hits = softmax(logits(net, data)).argmax(-1) == data['targets'][..., 0]
    expected = np.sum(hits * mask[..., 0]) / np.sum(mask)
    for scorer, kwargs in ((Hits(mask_name='mask'), {}),
                           (Hits(), {'mask_name': 'mask'})):
        weight, score = gather_scores_of_batch(net, scorer, data, **kwargs)
        assert weight == np.sum(mask)
        assert score == pytest.approx(expected)
    record = Record()
    gather_scores_of_batch(net, record, data, mask_name='mask')
    assert np.array_equal(record.calls[0][2], mask)


def test_no_default_output_among_several_predictions():
    net = make_net(outputs=('Out1', 'Out2'))
    data = make_batches()[0]
    run(net, data)
    with pytest.raises(ValueError, match='out_name'):
        gather_scores_of_batch(net, Hits(), data)
    weight, _ = gather_scores_of_batch(net, Hits(), data,
                                       out_name='Out2.outputs.predictions')
    assert weight == 10.0


# -- over a data iterator -----------------------------------------------------

def cross_entropy_sum(net, data):
    p = softmax(logits(net, data))
    t = data['targets'][..., 0].astype(int)
    return -np.sum(np.log(np.take_along_axis(p, t[..., None], -1)))


def test_losses_are_weighted_by_batch_size():
    net = make_net()
    batches = make_batches((5, 3))
    result = gather_losses_and_scores(net, [], Batches(batches))
    assert set(result) == {'total_loss'}
    expected = sum(cross_entropy_sum(net, b) for b in batches) / 8
    assert result['total_loss'] == pytest.approx(expected)
    unweighted = np.mean([cross_entropy_sum(net, b) / b['default'].shape[1]
                          for b in batches])
    assert result['total_loss'] != pytest.approx(unweighted)


def test_every_loss_layer_is_reported_when_there_are_several():
    net = make_net(outputs=('Out1', 'Out2'))
    batches = make_batches((5, 3))
    result = gather_losses_and_scores(
        net, [Hits(out_name='Out1.outputs.predictions')], Batches(batches))
    assert set(result) == {'total_loss', 'Out1', 'Out2', 'Hits'}
    single = sum(cross_entropy_sum(net, b) for b in batches) / 8
    assert result['Out1'] == pytest.approx(single)
    assert result['Out2'] == pytest.approx(single)
    assert result['total_loss'] == pytest.approx(2 * single)


def test_several_scorers_aggregate_over_all_entries():
    net = make_net()
    batches = make_batches((5, 3))
    scorers = [Hits(), Hits(name='masked', mask_name='mask'),
               Best(name='best')]
    result = gather_losses_and_scores(net, scorers, Batches(batches))
    assert set(result) == {'total_loss', 'Hits', 'masked', 'best'}
    hits = [softmax(logits(net, b)).argmax(-1) == b['targets'][..., 0]
            for b in batches]
    masks = [b['mask'][..., 0] for b in batches]
    assert result['Hits'] == pytest.approx(
        np.mean(np.concatenate([h.ravel() for h in hits])))
    assert result['masked'] == pytest.approx(
        sum(np.sum(h * m) for h, m in zip(hits, masks)) /
        sum(np.sum(m) for m in masks))
    assert result['best'] == pytest.approx(max(np.mean(h) for h in hits))


def test_names_given_to_gather_reach_scorers_without_their_own():
    net = make_net()
    batches = make_batches((5, 3), seed=2)
    record = Record(targets_name='')
    result = gather_losses_and_scores(net, [Hits(targets_name=''), record],
                                      Batches(batches),
                                      out_name='A.outputs.default',
                                      targets_name='labels',
                                      mask_name='mask')
    assert len(record.calls) == 2
    for (true, predicted, mask), b in zip(record.calls, batches):
        assert np.array_equal(true, b['labels'])
        assert np.allclose(predicted, logits(net, b))
        assert np.array_equal(mask, b['mask'])
    hits = [logits(net, b).argmax(-1) == b['labels'][..., 0]
            for b in batches]
    masks = [b['mask'][..., 0] for b in batches]
    assert result['Hits'] == pytest.approx(
        sum(np.sum(h * m) for h, m in zip(hits, masks)) /
        sum(np.sum(m) for m in masks))
