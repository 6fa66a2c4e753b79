"""The Accuracy scorer."""
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.scorers import Scorer
from brainstorm_hooks import Accuracy


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
