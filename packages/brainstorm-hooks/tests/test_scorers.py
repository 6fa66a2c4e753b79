"""The scorers: Accuracy, Hamming, MeanSquaredError."""
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.describable import (create_from_description,
                                    get_description)
from brainstorm.scorers import Scorer
from brainstorm.testing.simple_layers import TestAffine, TestSoftmaxLoss
from brainstorm_hooks import Accuracy
from brainstorm_hooks.scorers import Hamming, MeanSquaredError


def one_hot_scores(classes, n=3):
    """Predictions (1, B, n) whose argmax is ``classes``."""
    classes = np.asarray(classes)
    p = np.full((1, classes.size, n), 0.1)
    p[0, np.arange(classes.size), classes] = 0.8
    return p


def as_targets(classes):
    return np.asarray(classes, dtype=float).reshape(1, -1, 1)


def test_is_a_scorer_with_manual_defaults():
    acc = Accuracy()
    assert isinstance(acc, Scorer)
    assert (acc.out_name, acc.targets_name, acc.mask_name) == \
        ('', 'targets', '')
    assert acc.__name__ == 'Accuracy'
    assert Accuracy(name='acc').__name__ == 'acc'


def test_fraction_of_argmax_hits():
    acc = Accuracy()
    predicted = one_hot_scores([0, 1, 2, 2])
    assert acc(as_targets([0, 1, 2, 2]), predicted) == 1.0
    assert acc(as_targets([0, 1, 1, 0]), predicted) == 0.5
    assert acc(as_targets([1, 2, 0, 0]), predicted) == 0.0


def test_time_steps_count_each():
    predicted = np.concatenate([one_hot_scores([0, 1]),
                                one_hot_scores([2, 2])])     # (2, 2, 3)
    targets = np.array([[[0], [1]], [[2], [0]]], dtype=float)
    assert Accuracy()(targets, predicted) == 0.75


def test_mask_weights_entries():
    acc = Accuracy(mask_name='mask')
    predicted = one_hot_scores([0, 1, 2, 2])
    targets = as_targets([0, 0, 2, 0])          # hits: yes no yes no
    mask = as_targets([1, 0, 1, 1])
    assert acc(targets, predicted, mask) == pytest.approx(2 / 3)
    assert acc.weight(targets, mask) == 3
    assert acc(targets, predicted, as_targets([0, 1, 0, 1])) == 0.0
    assert acc(targets, predicted, as_targets([1, 0, 1, 0])) == 1.0


def test_fully_masked_batch_has_no_weight():
    acc = Accuracy()
    targets, mask = as_targets([0, 1]), as_targets([0, 0])
    score = acc(targets, one_hot_scores([0, 0]), mask)
    weight = acc.weight(targets, mask)
    assert weight == 0
    pairs = [(weight, score),
             (acc.weight(targets), acc(targets, one_hot_scores([0, 0])))]
    assert acc.aggregate(pairs) == 0.5


def test_binary_predictions_threshold_at_one_half():
    acc = Accuracy()
    predicted = np.array([0.9, 0.2, 0.51, 0.5, 0.1]).reshape(1, 5, 1)
    targets = as_targets([1, 0, 1, 1, 1])
    # predicted classes 1 0 1 0 0 -> hits yes yes yes no no
    assert acc(targets, predicted) == pytest.approx(3 / 5)


def test_one_hot_targets():
    predicted = one_hot_scores([0, 1, 2])
    targets = one_hot_scores([0, 2, 2])
    assert Accuracy()(targets, predicted) == pytest.approx(2 / 3)


def test_mismatched_shapes_are_reported():
    with pytest.raises(ValueError, match='shape'):
        Accuracy()(as_targets([0, 1, 2]), one_hot_scores([0, 1]))


def test_aggregation_over_unequal_batches_is_over_all_entries():
    acc = Accuracy()
    # batch 1: 2 of 2 right; batch 2: 3 of 6 right -> 5 of 8, not 0.75
    b1 = (as_targets([0, 1]), one_hot_scores([0, 1]))
    b2 = (as_targets([0, 0, 0, 1, 1, 1]), one_hot_scores([0, 0, 0, 0, 0, 0]))
    pairs = [(acc.weight(t), acc(t, p)) for t, p in (b1, b2)]
    assert [s for _, s in pairs] == [1.0, 0.5]
    assert acc.aggregate(pairs) == pytest.approx(5 / 8)


def test_aggregation_with_masks_counts_unmasked_entries():
    acc = Accuracy(mask_name='mask')
    t1, p1, m1 = as_targets([0, 1, 2]), one_hot_scores([0, 1, 0]), \
        as_targets([1, 1, 0])                       # 2 of 2 counted right
    t2, p2, m2 = as_targets([0, 1, 2, 0]), one_hot_scores([1, 1, 1, 1]), \
        as_targets([1, 1, 1, 1])                    # 1 of 4 right
    pairs = [(acc.weight(t, m), acc(t, p, m))
             for t, p, m in ((t1, p1, m1), (t2, p2, m2))]
    assert acc.aggregate(pairs) == pytest.approx(3 / 6)


def test_evaluate_with_unequal_batches(net, helpers):
    """bs.tools.evaluate over batches of 5 and 3 sequences equals the
    accuracy over all 8 sequences."""
    batches = helpers.random_batches([5, 3], seed=4)
    params = {'W': net.get('A.parameters.W'),
              'bias': net.get('A.parameters.bias')}
    hits = []
    for b in batches:
        p = helpers.softmax(b['default'] @ params['W'] + params['bias'])
        hits.extend((p.argmax(-1) == b['targets'][..., 0]).ravel())
    result = bs.tools.evaluate(net, helpers.FixedBatches(batches),
                               [bs.scorers.Accuracy()])
    assert result['Accuracy'] == pytest.approx(np.mean(hits))
    per_batch_mean = np.mean([np.mean(hits[:5]), np.mean(hits[5:])])
    assert result['Accuracy'] != pytest.approx(per_batch_mean)


# -- Hamming and MeanSquaredError ---------------------------------------------
BITS_T = np.array([[[1, 0, 1], [0, 0, 1]],
                   [[1, 1, 1], [0, 1, 0]]], dtype=float)        # (2, 2, 3)
BITS_P = np.array([[[0.9, 0.2, 0.4], [0.1, 0.7, 0.8]],
                   [[0.6, 0.51, 0.5], [0.3, 0.99, 0.0]]])
# wrong bits: step 0: (no no yes) (no yes no); step 1: (no no yes) (no no no)


def test_registered_scorers():
    for cls in (Accuracy, Hamming, MeanSquaredError):
        assert issubclass(cls, Scorer)
        assert getattr(bs.scorers, cls.__name__) is cls
    assert Hamming().__name__ == 'Hamming'
    assert MeanSquaredError(name='mse').__name__ == 'mse'


def test_hamming_is_the_fraction_of_wrong_bits():
    assert Hamming()(BITS_T, BITS_P) == pytest.approx(3 / 12)
    assert Hamming().weight(BITS_T) == 12
    assert Hamming()(BITS_T, BITS_T) == 0.0
    assert Hamming()(BITS_T, 1 - BITS_T) == 1.0


def test_hamming_masks():
    step_mask = np.array([[[1], [1]], [[0], [1]]], dtype=float)  # (T, B, 1)
    h = Hamming(mask_name='mask')
    assert h(BITS_T, BITS_P, step_mask) == pytest.approx(2 / 9)
    assert h.weight(BITS_T, step_mask) == 9
    bit_mask = np.zeros_like(BITS_T)
    bit_mask[0, 0] = 1                  # 1 wrong of 3
    bit_mask[1, 1, 2] = 1               # right
    assert h(BITS_T, BITS_P, bit_mask) == pytest.approx(1 / 4)
    assert h.weight(BITS_T, bit_mask) == 4
    assert h(BITS_T, BITS_P, np.zeros((2, 2, 1))) == 0.0
    assert h.weight(BITS_T, np.zeros((2, 2, 1))) == 0


def test_mean_squared_error_values():
    rnd = np.random.RandomState(3)
    t, p = rnd.randn(3, 4, 2), rnd.randn(3, 4, 2)
    mse = MeanSquaredError()
    assert mse(t, p) == pytest.approx(np.mean((p - t) ** 2))
    assert mse.weight(t) == 24
    mask = (rnd.rand(3, 4, 1) > 0.5).astype(float)
    expected = np.sum((p - t) ** 2 * mask) / (2 * mask.sum())
    assert mse(t, p, mask) == pytest.approx(expected)
    assert mse.weight(t, mask) == 2 * mask.sum()
    assert mse(np.zeros((1, 2, 2)), np.array([[[1., 2.], [3., 0.]]])) == \
        pytest.approx((1 + 4 + 9) / 4)


@pytest.mark.parametrize('cls', [Hamming, MeanSquaredError])
def test_elementwise_shape_errors(cls):
    with pytest.raises(ValueError, match=r'{}: targets of shape \(2, 2, 3\) '
                       r'do not match outputs of shape \(2, 2, 2\)'.format(
                           cls.__name__)):
        cls()(BITS_T, BITS_P[..., :2])
    with pytest.raises(ValueError, match=r'{}: a mask of shape \(2, 2, 2\) '
                       r'does not fit targets'.format(cls.__name__)):
        cls()(BITS_T, BITS_P, np.ones((2, 2, 2)))


@pytest.mark.parametrize('cls, error', [
    (Hamming, lambda t, p: ((t > 0.5) != (p > 0.5))),
    (MeanSquaredError, lambda t, p: (p - t) ** 2)])
def test_aggregation_over_unequal_masked_batches(cls, error):
    """Batches of 5 and 2 sequences, masked: the aggregate is the mean over
    all counted elements, not the mean of the batch means."""
    rnd = np.random.RandomState(8)
    batches = []
    for B in (5, 2):
        t = (rnd.rand(2, B, 3) > 0.5).astype(float)
        p = rnd.rand(2, B, 3)
        m = (rnd.rand(2, B, 1) > 0.3).astype(float)
        batches.append((t, p, m))
    scorer = cls(mask_name='mask')
    pairs = [(scorer.weight(t, m), scorer(t, p, m)) for t, p, m in batches]
    errors = np.concatenate([(error(t, p) * m).ravel()
                             for t, p, m in batches])
    counted = sum(np.broadcast_to(m, t.shape).sum() for t, _, m in batches)
    assert scorer.aggregate(pairs) == pytest.approx(errors.sum() / counted)
    assert scorer.aggregate(pairs) != pytest.approx(
        np.mean([s for _, s in pairs]))


def multilabel_net():
    inp = bs.layers.Input({'default': ('T', 'B', 4), 'targets': ('T', 'B', 1),
                           'labels': ('T', 'B', 3), 'mask': ('T', 'B', 1)})
    out = TestSoftmaxLoss(name='Output')
    inp >> TestAffine(3, name='A') >> out
    inp - 'targets' >> 'targets' - out
    net = bs.Network.from_layer(out)
    n = net.buffer_manager.num_parameters
    net.set_parameters(np.random.RandomState(5).randn(n))
    return net


def test_evaluate_with_masks_and_unequal_batches(helpers):
    net = multilabel_net()
    rnd = np.random.RandomState(6)
    batches = []
    for B in (6, 3):
        batches.append({'default': rnd.randn(2, B, 4),
                        'targets': rnd.randint(0, 3, (2, B, 1)).astype(float),
                        'labels': (rnd.rand(2, B, 3) > 0.5).astype(float),
                        'mask': (rnd.rand(2, B, 1) > 0.25).astype(float)})
    W, b = net.get('A.parameters.W'), net.get('A.parameters.bias')
    wrong, squared, counted = 0.0, 0.0, 0.0
    for d in batches:
        out = d['default'] @ W + b
        mask = np.broadcast_to(d['mask'], out.shape)
        p = helpers.softmax(out)
        wrong += np.sum(((p > 0.5) != (d['labels'] > 0.5)) * mask)
        squared += np.sum((out - d['labels']) ** 2 * mask)
        counted += mask.sum()
    scorers = [Hamming(out_name='Output.outputs.predictions',
                       targets_name='labels'),
               MeanSquaredError(out_name='A.outputs.default',
                                targets_name='labels')]
    result = bs.tools.evaluate(net, helpers.FixedBatches(batches), scorers,
                               mask_name='mask')
    assert result['Hamming'] == pytest.approx(wrong / counted)
    assert result['MeanSquaredError'] == pytest.approx(squared / counted)


@pytest.mark.parametrize('scorer', [
    Hamming(), Hamming('Out.outputs.predictions', 'labels', 'mask', 'h'),
    MeanSquaredError(), MeanSquaredError(targets_name='y', name='mse')])
def test_description_round_trip(scorer):
    description = get_description(scorer)
    assert description['@type'] == type(scorer).__name__
    copy = create_from_description(description)
    assert type(copy) is type(scorer)
    assert (copy.out_name, copy.targets_name, copy.mask_name,
            copy.__name__) == (scorer.out_name, scorer.targets_name,
                               scorer.mask_name, scorer.__name__)
    assert copy(BITS_T, BITS_P) == scorer(BITS_T, BITS_P)
