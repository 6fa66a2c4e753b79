"""MonitorLoss and MonitorScores (manual 8.6)."""
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.testing.simple_layers import TestAffine, TestSoftmaxLoss
from brainstorm_hooks import (Accuracy, MonitorLoss, MonitorScores,
                              StopAfterEpoch)
from brainstorm_hooks.monitors import MissingIteratorError


def hand_evaluation(params, batches, softmax):
    """Loss (mean over sequences of the summed -log p) and accuracy."""
    nll, correct, count = 0.0, 0, 0
    for batch in batches:
        x, t = batch['default'], batch['targets'][..., 0].astype(int)
        p = softmax(x @ params['W'] + params['bias'])
        picked = np.take_along_axis(p, t[..., None], axis=-1)[..., 0]
        nll += -np.log(picked).sum()
        correct += (p.argmax(axis=-1) == t).sum()
        count += t.size
    n_sequences = sum(b['default'].shape[1] for b in batches)
    return nll / n_sequences, correct / count


def test_monitor_scores_logs_every_epoch_with_correct_values(
        net, train_iter, valid_iter, trainer, helpers):
    rec = helpers.Recorder(name='params', record_params=True)
    trainer.add_hook(MonitorScores('valid_getter', [Accuracy()],
                                   name='validation'))
    trainer.add_hook(rec)
    trainer.add_hook(StopAfterEpoch(3))
    trainer.train(net, train_iter, valid_getter=valid_iter)

    logs = trainer.logs['validation']
    assert list(logs) == ['total_loss', 'Accuracy']
    assert len(logs['Accuracy']) == len(logs['total_loss']) == 4
    for i, params in enumerate(rec.params):
        loss, acc = hand_evaluation(params, valid_iter.batches,
                                    helpers.softmax)
        assert logs['total_loss'][i] == pytest.approx(loss, rel=1e-5)
        assert logs['Accuracy'][i] == pytest.approx(acc)
        assert isinstance(logs['Accuracy'][i], float)
    # training changed the network, so the logged values are not constant
    assert len(set(logs['total_loss'])) == 4


def test_monitor_loss_logs_only_losses(net, train_iter, valid_iter, trainer,
                                       helpers):
    rec = helpers.Recorder(name='params', record_params=True)
    trainer.add_hook(MonitorLoss('valid', name='val'))
    trainer.add_hook(rec)
    trainer.add_hook(StopAfterEpoch(2))
    trainer.train(net, train_iter, valid=valid_iter)
    assert list(trainer.logs['val']) == ['total_loss']
    expected = [hand_evaluation(p, valid_iter.batches, helpers.softmax)[0]
                for p in rec.params]
    assert trainer.logs['val']['total_loss'] == pytest.approx(expected,
                                                              rel=1e-5)


def test_monitor_loss_reports_each_loss_layer(train_iter, valid_iter,
                                              trainer):
    inp = bs.layers.Input({'default': ('T', 'B', 4),
                           'targets': ('T', 'B', 1)})
    out1, out2 = TestSoftmaxLoss(name='Out1'), TestSoftmaxLoss(name='Out2')
    inp >> TestAffine(3, name='A1') >> out1
    inp >> TestAffine(3, name='A2') >> out2
    inp - 'targets' >> 'targets' - out1
    inp - 'targets' >> 'targets' - out2
    net = bs.Network.from_layer(out1)
    n = net.buffer_manager.num_parameters
    net.set_parameters(np.random.RandomState(3).randn(n))
    trainer.add_hook(MonitorLoss('valid', name='val'))
    trainer.add_hook(StopAfterEpoch(1))
    trainer.train(net, train_iter, valid=valid_iter)
    logs = trainer.logs['val']
    assert set(logs) == {'total_loss', 'Out1', 'Out2'}
    for i in range(2):
        assert logs['total_loss'][i] == pytest.approx(
            logs['Out1'][i] + logs['Out2'][i])
    assert logs['Out1'][0] != pytest.approx(logs['Out2'][0])


def test_missing_iterator_is_named_at_start(net, train_iter, valid_iter,
                                            trainer):
    trainer.add_hook(MonitorScores('valid_getter', [Accuracy()],
                                   name='validation'))
    trainer.add_hook(StopAfterEpoch(1))
    before = net.get('parameters')
    with pytest.raises(MissingIteratorError) as info:
        trainer.train(net, train_iter, valid=valid_iter)
    message = str(info.value)
    assert isinstance(info.value, KeyError)
    assert "'valid_getter'" in message and "'valid'" in message
    assert "'training_data_iter'" in message and "'validation'" in message
    assert (net.get('parameters') == before).all()   # nothing trained


def test_monitor_on_training_data(net, train_iter, trainer):
    trainer.add_hook(MonitorLoss('training_data_iter', name='train'))
    trainer.add_hook(StopAfterEpoch(1))
    trainer.train(net, train_iter)
    assert len(trainer.logs['train']['total_loss']) == 2


def test_monitor_scores_uses_scorer_names_and_options(trainer, helpers):
    """Two Accuracy scorers with different names and masks are logged
    side by side; the mask is taken from the data."""
    rnd = np.random.RandomState(5)
    batches = helpers.random_batches([6, 2], seed=11)
    for b in batches:
        b['mask'] = (rnd.rand(1, b['default'].shape[1], 1) > 0.4).astype(
            float)
    masked_iter = helpers.FixedBatches(batches)
    net = helpers.build_net(with_mask=True)
    train_batches = helpers.random_batches([4, 4])
    for b in train_batches:
        b['mask'] = np.ones((1, 4, 1))
    train_iter = helpers.FixedBatches(train_batches)
    rec = helpers.Recorder(name='params', record_params=True)
    trainer.add_hook(MonitorScores('v', [
        Accuracy(), Accuracy(mask_name='mask', name='MaskedAcc')],
        name='val'))
    trainer.add_hook(rec)
    trainer.add_hook(StopAfterEpoch(1))
    trainer.train(net, train_iter, v=masked_iter)
    logs = trainer.logs['val']
    assert logs['MaskedAcc'] != pytest.approx(logs['Accuracy'])
    for i, params in enumerate(rec.params):
        correct, counted = 0.0, 0.0
        for b in batches:
            p = helpers.softmax(b['default'] @ params['W'] + params['bias'])
            ok = p.argmax(-1) == b['targets'][..., 0]
            correct += (ok * b['mask'][..., 0]).sum()
            counted += b['mask'].sum()
        assert trainer.logs['val']['MaskedAcc'][i] == pytest.approx(
            correct / counted)
        assert trainer.logs['val']['Accuracy'][i] == pytest.approx(
            hand_evaluation(params, batches, helpers.softmax)[1])


def test_monitor_scores_validates_scorers():
    with pytest.raises(TypeError, match='Scorer'):
        MonitorScores('v', [lambda t, p, m=None: 1.0])
    with pytest.raises(ValueError, match='Accuracy'):
        MonitorScores('v', [Accuracy(), Accuracy(mask_name='m')])
    with pytest.raises(ValueError, match='total_loss'):
        MonitorScores('v', [Accuracy(name='total_loss')])
    with pytest.raises(TypeError, match='iter_name'):
        MonitorLoss(object())
    single = MonitorScores('v', Accuracy())
    assert [s.__name__ for s in single.scorers] == ['Accuracy']
