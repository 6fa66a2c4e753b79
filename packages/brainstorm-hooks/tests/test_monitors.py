"""MonitorLoss, MonitorScores and the layer monitors (manual 8.6)."""
import json

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.describable import create_from_description, get_description
from brainstorm.testing.simple_layers import TestAffine, TestSoftmaxLoss
from brainstorm_hooks import (Accuracy, MonitorLoss, MonitorScores,
                              StopAfterEpoch, lookup_log)
from brainstorm_hooks.monitors import (MissingIteratorError,
                                       MissingLayerError, MonitorLayerDeltas,
                                       MonitorLayerGradients,
                                       MonitorLayerInOuts,
                                       MonitorLayerParameters,
                                       buffer_statistics)


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


# -- layer monitors -----------------------------------------------------------

LAYER_MONITORS = [MonitorLayerParameters, MonitorLayerGradients,
                  MonitorLayerDeltas, MonitorLayerInOuts]


def numpy_stats(array, norm=False):
    a = np.asarray(array, dtype=np.float64)
    stats = {'min': a.min(), 'max': a.max(), 'mean': a.mean(),
             'std': a.std()}
    if norm:
        stats['norm'] = np.sqrt((a ** 2).sum())
    return stats


def assert_logged(logs, index, expected, rel=1e-6, abs=1e-7):
    """logs[stat][index] equals expected[stat] for every statistic, and
    nothing else is logged."""
    assert set(logs) == set(expected)
    for stat, value in expected.items():
        assert logs[stat][index] == pytest.approx(value, rel=rel, abs=abs), \
            stat


def forward_by_hand(params, batch, softmax):
    """Output of A, softmax predictions and output deltas of A (the
    gradient of the mean cross-entropy)."""
    x, t = batch['default'], batch['targets'][..., 0].astype(int)
    y = x @ params['W'] + params['bias']
    p = softmax(y)
    onehot = np.eye(p.shape[-1])[t]
    return y, p, (p - onehot) / x.shape[1]


def params_of_a(net):
    return {'W': net.get('A.parameters.W'),
            'bias': net.get('A.parameters.bias')}


def params_before_each_update(initial, rec):
    """Parameters each update's passes used: the initial ones, then those
    recorded after the previous update."""
    return [initial] + rec.params[:-1]


def test_layer_parameters_statistics_equal_numpy(net, train_iter, trainer,
                                                 helpers):
    trainer.add_hook(MonitorLayerParameters('A', name='pmon'))
    rec = helpers.Recorder(name='params', record_params=True)
    trainer.add_hook(rec)
    trainer.add_hook(StopAfterEpoch(3))
    trainer.train(net, train_iter)
    logs = trainer.logs['pmon']
    assert list(logs) == ['W', 'bias']
    assert [len(logs['W'][s]) for s in logs['W']] == [4] * 5
    for i, params in enumerate(rec.params):
        for buffer_name in ('W', 'bias'):
            assert_logged(logs[buffer_name], i,
                          numpy_stats(params[buffer_name], norm=True))
    # the parameters change with training, and so do their statistics
    assert len(set(logs['W']['std'])) == 4


def test_layer_gradients_are_those_of_the_last_update(net, train_iter,
                                                      trainer, helpers):
    trainer.add_hook(MonitorLayerGradients('A', name='g', timescale='update'))
    trainer.add_hook(MonitorLayerGradients('A', name='g_epoch'))
    rec = helpers.Recorder(name='params', timescale='update',
                           record_params=True)
    trainer.add_hook(rec)
    trainer.add_hook(StopAfterEpoch(2))
    initial = params_of_a(net)
    trainer.train(net, train_iter)
    batches = train_iter.batches * 2
    logs = trainer.logs['g']
    assert len(logs['W']['mean']) == 6
    for k, params in enumerate(params_before_each_update(initial, rec)):
        x = batches[k]['default']
        _, _, dy = forward_by_hand(params, batches[k], helpers.softmax)
        dW = x.reshape(-1, 4).T @ dy.reshape(-1, 3)
        db = dy.reshape(-1, 3).sum(axis=0)
        assert_logged(logs['W'], k, numpy_stats(dW, norm=True), rel=1e-5)
        assert_logged(logs['bias'], k, numpy_stats(db, norm=True), rel=1e-5,
                      abs=1e-6)
    # epoch calls: zeros before training, then the epoch's last update
    epoch_logs = trainer.logs['g_epoch']['W']
    assert [epoch_logs[s][0] for s in epoch_logs] == [0.0] * 5
    for stat in epoch_logs:
        assert epoch_logs[stat][1:] == [logs['W'][stat][2],
                                        logs['W'][stat][5]]


def test_layer_deltas_of_the_last_backward_pass(train_iter, valid_iter,
                                                trainer, helpers):
    net = helpers.build_net()
    trainer.add_hook(MonitorLayerDeltas('A', name='d', timescale='update'))
    # added before a monitor that runs batches of other sizes
    trainer.add_hook(MonitorLayerDeltas('A', name='d_epoch'))
    trainer.add_hook(MonitorScores('valid', [Accuracy()], name='validation'))
    rec = helpers.Recorder(name='params', timescale='update',
                           record_params=True)
    trainer.add_hook(rec)
    trainer.add_hook(StopAfterEpoch(1))
    initial = params_of_a(net)
    trainer.train(net, train_iter, valid=valid_iter)
    logs = trainer.logs['d']
    # the input deltas of A (fed by the Input layer, so no parameter needs
    # them) are computed because the monitor reads them
    assert list(logs) == ['input_deltas', 'output_deltas']
    assert list(logs['output_deltas']) == ['default']
    for k, params in enumerate(params_before_each_update(initial, rec)):
        _, _, dy = forward_by_hand(params, train_iter.batches[k],
                                   helpers.softmax)
        assert_logged(logs['output_deltas']['default'], k, numpy_stats(dy))
        assert_logged(logs['input_deltas']['default'], k,
                      numpy_stats(dy @ params['W'].T))
    epoch_logs = trainer.logs['d_epoch']['output_deltas']['default']
    for stat in epoch_logs:
        assert epoch_logs[stat] == [0.0, logs['output_deltas']['default'][
            stat][-1]]


def test_layer_deltas_include_input_deltas_when_computed(train_iter, trainer,
                                                         helpers):
    net = helpers.build_net()
    net.compute_all_deltas = True
    initial = params_of_a(net)
    trainer.add_hook(MonitorLayerDeltas('A', name='d', timescale='update'))
    trainer.add_hook(StopAfterEpoch(1))
    trainer.train(net, train_iter.__class__(train_iter.batches[:1]))
    logs = trainer.logs['d']
    assert list(logs) == ['input_deltas', 'output_deltas']
    _, _, dy = forward_by_hand(initial, train_iter.batches[0],
                               helpers.softmax)
    dx = dy @ initial['W'].T
    assert_logged(logs['input_deltas']['default'], 0, numpy_stats(dx))
    assert_logged(logs['output_deltas']['default'], 0, numpy_stats(dy))


def test_layer_inouts_of_the_last_forward_pass(net, train_iter, trainer,
                                               helpers):
    trainer.add_hook(MonitorLayerInOuts('A', name='io', timescale='update'))
    trainer.add_hook(MonitorLayerInOuts('Output', name='out_io',
                                        timescale='update'))
    rec = helpers.Recorder(name='params', timescale='update',
                           record_params=True)
    trainer.add_hook(rec)
    trainer.add_hook(StopAfterEpoch(1))
    initial = params_of_a(net)
    trainer.train(net, train_iter)
    logs, out_logs = trainer.logs['io'], trainer.logs['out_io']
    assert list(logs) == ['inputs', 'outputs']
    assert list(out_logs['inputs']) == ['targets', 'default']
    assert list(out_logs['outputs']) == ['predictions', 'loss']
    for k, params in enumerate(params_before_each_update(initial, rec)):
        batch = train_iter.batches[k]
        y, p, _ = forward_by_hand(params, batch, helpers.softmax)
        assert_logged(logs['inputs']['default'], k,
                      numpy_stats(batch['default']))
        assert_logged(logs['outputs']['default'], k, numpy_stats(y))
        assert_logged(out_logs['inputs']['default'], k, numpy_stats(y))
        assert_logged(out_logs['inputs']['targets'], k,
                      numpy_stats(batch['targets']))
        assert_logged(out_logs['outputs']['predictions'], k, numpy_stats(p))
        t = batch['targets'][..., 0].astype(int)
        loss = -np.log(np.take_along_axis(p, t[..., None], -1)).sum() / 4
        assert out_logs['outputs']['loss']['mean'][k] == pytest.approx(
            loss, rel=1e-5)


@pytest.mark.parametrize('hook_class', LAYER_MONITORS)
def test_missing_layer_is_named_at_start(hook_class, net, train_iter,
                                         trainer):
    trainer.add_hook(hook_class('Hid', name='watch'))
    trainer.add_hook(StopAfterEpoch(1))
    before = net.get('parameters')
    with pytest.raises(MissingLayerError) as info:
        trainer.train(net, train_iter)
    assert isinstance(info.value, KeyError)
    message = str(info.value)
    assert message.startswith("{} 'watch':".format(hook_class.__name__))
    assert "'Hid'" in message and 'Input, A, Output' in message
    assert (net.get('parameters') == before).all()   # nothing trained
    assert 'watch' not in trainer.logs


@pytest.mark.parametrize('hook_class', [MonitorLayerParameters,
                                        MonitorLayerGradients])
def test_layer_without_parameters_is_refused(hook_class, net, train_iter,
                                             trainer):
    trainer.add_hook(hook_class('Output'))
    trainer.add_hook(StopAfterEpoch(1))
    with pytest.raises(ValueError) as info:
        trainer.train(net, train_iter)
    message = str(info.value)
    assert "{} '{}'".format(hook_class.__name__, hook_class.__name__) in \
        message
    assert "layer 'Output' has no" in message
    assert message.endswith('(layers that have: A)')


@pytest.mark.parametrize('hook_class', LAYER_MONITORS)
def test_layer_name_must_be_a_string(hook_class):
    with pytest.raises(TypeError, match=hook_class.__name__ +
                       ': layer_name'):
        hook_class(['A'])


def test_layer_monitor_prints_its_logs_when_verbose(net, train_iter, trainer,
                                                    capsys):
    trainer.add_hook(MonitorLayerParameters('A', name='pmon', verbose=True))
    trainer.add_hook(MonitorLayerGradients('A', name='quiet'))
    trainer.add_hook(StopAfterEpoch(1))
    trainer.train(net, train_iter)
    out = capsys.readouterr().out
    logs = trainer.logs['pmon']
    expected = ['pmon:', '  W:'] + [
        '    {}: {:.6g}'.format(s, logs['W'][s][1]) for s in logs['W']]
    lines = out.splitlines()
    start = [i for i, line in enumerate(lines) if line == 'pmon:'][1]
    assert lines[start:start + 7] == expected
    assert out.count('epoch   1') == 1
    assert 'quiet' not in out        # follows the non-verbose trainer
    assert len(trainer.logs['quiet']['W']['norm']) == 2


def test_layer_monitor_logs_are_found_by_dotted_names(net, train_iter,
                                                      trainer):
    trainer.add_hook(MonitorLayerInOuts('A', name='io'))
    trainer.add_hook(StopAfterEpoch(1))
    trainer.train(net, train_iter)
    assert lookup_log(trainer.logs, 'io.outputs.default.max') is \
        trainer.logs['io']['outputs']['default']['max']


def test_buffer_statistics():
    a = np.array([[3.0, -4.0], [0.0, 1.0]], dtype=np.float32)
    stats = buffer_statistics(a, norm=True)
    assert list(stats) == ['min', 'max', 'mean', 'std', 'norm']
    assert stats == pytest.approx({'min': -4.0, 'max': 3.0, 'mean': 0.0,
                                   'std': np.sqrt(6.5),
                                   'norm': np.sqrt(26.0)})
    assert all(isinstance(v, float) for v in stats.values())
    empty = buffer_statistics(np.zeros((0, 3)))
    assert list(empty) == ['min', 'max', 'mean', 'std']
    assert all(np.isnan(v) for v in empty.values())


@pytest.mark.parametrize('hook', [
    MonitorLayerParameters('Hid'),
    MonitorLayerGradients('Hid', name='grads', timescale='update',
                          interval=10, verbose=True),
    MonitorLayerDeltas('Out', name='d', interval=2),
    MonitorLayerInOuts('Hid', verbose=False),
    MonitorLoss('valid', name='val'),
    MonitorScores('valid', [Accuracy(name='acc')], timescale='update'),
], ids=lambda h: h.__name__)
def test_monitor_description_round_trip(hook):
    description = get_description(hook)
    text = json.dumps(description)
    clone = create_from_description(json.loads(text))
    assert type(clone) is type(hook) and clone is not hook
    assert clone.__name__ == hook.__name__
    for attr in ('timescale', 'interval', 'verbose'):
        assert getattr(clone, attr) == getattr(hook, attr)
    if hasattr(hook, 'layer_name'):
        assert clone.layer_name == hook.layer_name
        assert description['layer_name'] == hook.layer_name
    assert get_description(clone) == description


def test_layer_monitor_description_holds_its_arguments():
    assert get_description(MonitorLayerGradients(
        'Hid', name='grads', timescale='update', interval=10)) == {
        '@type': 'MonitorLayerGradients', 'layer_name': 'Hid',
        'name': 'grads', 'timescale': 'update', 'interval': 10}
    assert get_description(MonitorLayerInOuts('Hid')) == {
        '@type': 'MonitorLayerInOuts', 'layer_name': 'Hid'}


def test_recreated_layer_monitor_works_through_bs_hooks(net, train_iter,
                                                        trainer):
    hook = create_from_description(
        {'@type': 'MonitorLayerParameters', 'layer_name': 'A',
         'name': 'p'})
    assert isinstance(hook, bs.hooks.MonitorLayerParameters)
    trainer.add_hook(hook)
    trainer.add_hook(StopAfterEpoch(1))
    trainer.train(net, train_iter)
    assert trainer.logs['p']['bias']['max'][-1] == pytest.approx(
        net.get('A.parameters.bias').max())


def test_verbose_monitor_prints_header_and_entries(net, train_iter,
                                                   valid_iter, capsys):
    trainer = bs.Trainer(bs.training.SgdStepper(0.5), verbose=True)
    trainer.add_hook(MonitorScores('valid', [Accuracy()], name='validation'))
    trainer.add_hook(StopAfterEpoch(1))
    trainer.train(net, train_iter, valid=valid_iter)
    logs = trainer.logs['validation']
    lines = capsys.readouterr().out.splitlines()
    assert lines[:4] == [
        '-' * 20 + ' epoch   0 ' + '-' * 20 + ' update 0 ',
        'validation:',
        '  total_loss: {:.6g}'.format(logs['total_loss'][0]),
        '  Accuracy: {:.6g}'.format(logs['Accuracy'][0])]
    assert lines[4] == '-' * 20 + ' epoch   1 ' + '-' * 20 + ' update 3 '
    assert lines[6] == '  total_loss: {:.6g}'.format(logs['total_loss'][1])
