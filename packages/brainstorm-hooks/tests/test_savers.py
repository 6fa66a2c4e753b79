"""SaveBestNetwork, SaveNetwork, SaveLogs; saving and loading logs."""
import json
import math

import h5py
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.describable import create_from_description, get_description
from brainstorm_hooks import (MissingLogError, MonitorLoss, MonitorScores,
                              Accuracy, SaveBestNetwork, StopAfterEpoch,
                              lookup_log)
from brainstorm_hooks.logs import load_logs, save_logs
from brainstorm_hooks.monitors import MonitorLayerParameters
from brainstorm_hooks.savers import SaveLogs, SaveNetwork

NAN = math.nan


def run_scripted(trainer, net, train_iter, helpers, values, saver,
                 monkeypatch=None):
    """Train len(values) - 1 epochs with a monitor logging ``values``;
    return the epochs at which the network was saved and the recorder."""
    trainer.add_hook(helpers.Scripted(values, name='mon'))
    trainer.add_hook(saver)
    rec = helpers.Recorder(name='params', record_params=True)
    trainer.add_hook(rec)
    trainer.add_hook(StopAfterEpoch(len(values) - 1))
    saves = []
    if monkeypatch is not None:
        original = net.save_as_hdf5

        def spy(filename, comment=''):
            saves.append(trainer.current_epoch_nr)
            original(filename, comment)
        monkeypatch.setattr(net, 'save_as_hdf5', spy)
    trainer.train(net, train_iter)
    return saves, rec


@pytest.mark.parametrize('criterion, values, expected', [
    ('max', [0.5, 0.7, 0.6, 0.9, NAN, 0.9, 0.8], [0, 1, 3]),
    ('min', [3.0, 2.0, 2.0, 1.0, NAN, 4.0, 0.5, 0.7], [0, 1, 3, 6]),
    ('max', [NAN, 0.2, 0.1, 0.3, 0.3], [1, 3]),
])
def test_saves_only_on_improvement(criterion, values, expected, net,
                                   train_iter, trainer, helpers, tmp_path,
                                   monkeypatch):
    filename = tmp_path / 'best.h5'
    saver = SaveBestNetwork('mon.value', filename=str(filename),
                            criterion=criterion)
    saves, rec = run_scripted(trainer, net, train_iter, helpers, values,
                              saver, monkeypatch)
    assert saves == expected
    assert saver.best_epoch == expected[-1]
    assert saver.best_value == values[expected[-1]]
    # the file holds the network of the best epoch, not the last one
    loaded = bs.Network.from_hdf5(str(filename))
    np.testing.assert_allclose(loaded.get('parameters'),
                               rec.params[expected[-1]]['all'])
    assert not np.allclose(loaded.get('parameters'),
                           net.get('parameters'))
    assert saver.parameters is None


def test_saved_file_is_not_rewritten_without_improvement(
        net, train_iter, trainer, helpers, tmp_path):
    filename = tmp_path / 'best.h5'
    saver = SaveBestNetwork('mon.value', filename=str(filename))
    trainer.add_hook(helpers.Scripted([0.5, 0.9, 0.1], name='mon'))
    trainer.add_hook(saver)
    trainer.add_hook(StopAfterEpoch(1))
    trainer.train(net, train_iter)
    stamp = filename.stat().st_mtime_ns
    content = filename.read_bytes()
    trainer.hooks['StopAfterEpoch'].max_epochs = 2   # one more epoch: 0.1
    trainer.train(net, train_iter)
    assert trainer.current_epoch_nr == 2
    assert filename.stat().st_mtime_ns == stamp
    assert filename.read_bytes() == content


def test_keeps_parameters_in_memory_without_filename(
        net, train_iter, trainer, helpers):
    saver = SaveBestNetwork('mon.nested.value', criterion='min', name='best')
    with pytest.raises(RuntimeError, match='no best value'):
        saver.load_parameters(net)
    _, rec = run_scripted(trainer, net, train_iter, helpers,
                          [5.0, 1.0, 2.0, 3.0], saver)
    assert saver.best_epoch == 1
    np.testing.assert_array_equal(saver.parameters, rec.params[1]['all'])
    saver.load_parameters(net)
    np.testing.assert_allclose(net.get('parameters'), rec.params[1]['all'])


def test_load_parameters_points_to_the_file(tmp_path, net):
    saver = SaveBestNetwork('mon.value', filename=str(tmp_path / 'x.h5'))
    with pytest.raises(RuntimeError, match='from_hdf5'):
        saver.load_parameters(net)


def test_works_on_rolling_training_loss(net, train_iter, trainer, helpers,
                                        tmp_path, monkeypatch, capsys):
    saver = SaveBestNetwork('rolling_training.total_loss',
                            filename=str(tmp_path / 'b.h5'),
                            criterion='min', verbose=True)
    trainer.add_hook(saver)
    trainer.add_hook(StopAfterEpoch(4))
    saves = []
    original = net.save_as_hdf5
    monkeypatch.setattr(net, 'save_as_hdf5', lambda f, comment='': (
        saves.append(trainer.current_epoch_nr), original(f, comment)))
    trainer.train(net, train_iter)
    losses = trainer.logs['rolling_training']['total_loss']
    expected = [i + 1 for i, loss in enumerate(losses)
                if loss < min(losses[:i], default=math.inf)]
    assert saves == expected and saves[0] == 1
    assert saver.best_value == min(losses)
    out = capsys.readouterr().out
    assert out.count('SaveBestNetwork >> rolling_training.total_loss '
                     'improved') == len(expected)


def test_works_with_monitor_scores(net, train_iter, valid_iter, trainer):
    trainer.add_hook(MonitorScores('valid', [Accuracy()], name='validation'))
    trainer.add_hook(SaveBestNetwork('validation.Accuracy', name='acc'))
    trainer.add_hook(SaveBestNetwork('validation.total_loss',
                                     criterion='min', name='loss'))
    trainer.add_hook(StopAfterEpoch(3))
    trainer.train(net, train_iter, valid=valid_iter)
    logs = trainer.logs['validation']
    assert trainer.hooks['acc'].best_value == max(logs['Accuracy'])
    assert trainer.hooks['acc'].best_epoch == int(np.argmax(
        logs['Accuracy']))
    assert trainer.hooks['loss'].best_value == min(logs['total_loss'])


def test_bad_log_name_names_existing_logs(net, train_iter, valid_iter,
                                          trainer):
    trainer.add_hook(MonitorScores('valid', [Accuracy()], name='validation'))
    trainer.add_hook(SaveBestNetwork('validaton.Accuracy'))
    trainer.add_hook(StopAfterEpoch(2))
    with pytest.raises(MissingLogError) as info:
        trainer.train(net, train_iter, valid=valid_iter)
    assert isinstance(info.value, KeyError)
    message = str(info.value)
    assert "'validaton.Accuracy'" in message
    assert 'validation.Accuracy' in message
    assert 'validation.total_loss' in message


def test_log_group_is_not_an_entry(net, train_iter, trainer, helpers):
    trainer.add_hook(helpers.Scripted([1.0], name='mon'))
    trainer.add_hook(SaveBestNetwork('mon.nested'))
    trainer.add_hook(StopAfterEpoch(1))
    with pytest.raises(MissingLogError, match='mon.nested.value'):
        trainer.train(net, train_iter)


@pytest.mark.parametrize('kwargs, match', [
    ({'log_name': 'Accuracy'}, 'log_name'),
    ({'log_name': 3}, 'log_name'),
    ({'log_name': 'a.b', 'criterion': 'best'}, 'criterion'),
    ({'log_name': 'a.b', 'timescale': 'week'}, 'timescale'),
])
def test_arguments_are_validated(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SaveBestNetwork(**kwargs)


def test_lookup_log_handles_dotted_and_nested_names():
    logs = {'val.set': {'Accuracy': [0.5]},
            'mon': {'Output': {'loss': [1.0, 2.0]}},
            'rolling_training': {'total_loss': [3.0]}}
    assert lookup_log(logs, 'val.set.Accuracy') == [0.5]
    assert lookup_log(logs, 'mon.Output.loss') == [1.0, 2.0]
    assert lookup_log(logs, 'rolling_training.total_loss') == [3.0]
    with pytest.raises(MissingLogError, match='mon.Output.loss'):
        lookup_log(logs, 'mon.Output.los')
    with pytest.raises(MissingLogError, match='none'):
        lookup_log({}, 'a.b')


# -- checkpoint state of SaveBestNetwork --------------------------------------

def test_criterion_error_names_the_received_value():
    with pytest.raises(ValueError) as info:
        SaveBestNetwork('validation.Accuracy', criterion='maximum')
    assert str(info.value) == ("SaveBestNetwork: criterion must be 'max' or "
                               "'min', got 'maximum'")


@pytest.mark.parametrize('filename', [None, 'best.h5'])
def test_checkpoint_state_resumes_the_best_so_far(filename, net, train_iter,
                                                  trainer, helpers, tmp_path):
    """Training interrupted after epoch 3 and resumed with a fresh hook set
    from the checkpoint state ends like an uninterrupted run."""
    values = [0.5, 0.9, 0.3, 0.6, 0.8, 0.95, 0.1]
    path = None if filename is None else str(tmp_path / filename)
    saver = SaveBestNetwork('mon.value', filename=path, name='best')
    trainer.add_hook(helpers.Scripted(values, name='mon'))
    trainer.add_hook(saver)
    rec = helpers.Recorder(name='params', record_params=True)
    trainer.add_hook(rec)
    stop = StopAfterEpoch(3)
    trainer.add_hook(stop)
    trainer.train(net, train_iter)

    state = json.loads(json.dumps(saver.get_checkpoint_state()))
    assert state['best_value'] == 0.9 and state['best_epoch'] == 1
    assert state['best_update'] == 3
    resumed = SaveBestNetwork('mon.value', filename=path, name='best')
    resumed.set_checkpoint_state(state)
    assert resumed.best_value == 0.9 and resumed.best_epoch == 1
    if filename is None:
        np.testing.assert_array_equal(resumed.parameters, saver.parameters)
        assert resumed.parameters.dtype == saver.parameters.dtype
    else:
        assert state['parameters'] is None and resumed.parameters is None
    trainer.hooks['best'] = resumed
    stop.max_epochs = 6
    trainer.train(net, train_iter)
    # 0.6 and 0.8 (epochs 3, 4) are no improvement on 0.9; 0.95 is
    assert resumed.best_epoch == 5 and resumed.best_value == 0.95
    best = rec.params[5]['all']
    if filename is None:
        np.testing.assert_array_equal(resumed.parameters, best)
    else:
        np.testing.assert_array_equal(
            bs.Network.from_hdf5(path).get('parameters'), best)


def test_checkpoint_state_of_a_fresh_hook():
    saver = SaveBestNetwork('validation.Accuracy')
    state = saver.get_checkpoint_state()
    assert state['best_value'] is None and state['parameters'] is None
    other = SaveBestNetwork('validation.Accuracy')
    other.best_value, other.best_epoch = 0.3, 2
    other.set_checkpoint_state(json.loads(json.dumps(state)))
    assert other.best_value is None and other.best_epoch is None


# -- SaveNetwork --------------------------------------------------------------

def test_save_network_every_epoch_with_epoch_field(net, train_iter, trainer,
                                                   helpers, tmp_path):
    pattern = str(tmp_path / 'net_{epoch:02d}.h5')
    trainer.add_hook(helpers.Recorder(name='params', record_params=True))
    trainer.add_hook(SaveNetwork(pattern, interval=2))
    trainer.add_hook(StopAfterEpoch(5))
    trainer.train(net, train_iter)
    rec = trainer.hooks['params']
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'net_00.h5', 'net_02.h5', 'net_04.h5']
    for epoch in (0, 2, 4):
        loaded = bs.Network.from_hdf5(pattern.format(epoch=epoch))
        np.testing.assert_array_equal(loaded.get('parameters'),
                                      rec.params[epoch]['all'])
        assert list(loaded.layers) == ['Input', 'A', 'Output']


def test_save_network_overwrites_one_file(net, train_iter, trainer, tmp_path,
                                          capsys):
    filename = tmp_path / 'last.h5'
    trainer.add_hook(SaveNetwork(str(filename), name='save', verbose=True))
    trainer.add_hook(StopAfterEpoch(2))
    trainer.train(net, train_iter)
    np.testing.assert_array_equal(
        bs.Network.from_hdf5(str(filename)).get('parameters'),
        net.get('parameters'))
    assert [p.name for p in tmp_path.iterdir()] == ['last.h5']
    out = capsys.readouterr().out
    assert out.count('save >> saved the network to {}'.format(filename)) == 3


def test_save_network_update_field(net, train_iter, trainer, tmp_path):
    trainer.add_hook(SaveNetwork(str(tmp_path / 'e{epoch}_u{update}.h5'),
                                 timescale='update', interval=2))
    trainer.add_hook(StopAfterEpoch(2))
    trainer.train(net, train_iter)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'e1_u2.h5', 'e2_u4.h5', 'e2_u6.h5']


@pytest.mark.parametrize('hook_class', [SaveNetwork, SaveLogs])
@pytest.mark.parametrize('filename, match', [
    ('net_{epoch_nr}.h5', "field '{epoch_nr}'"),
    ('net_{}.h5', "field '{}'"),
    ('net_{epoch:q}.h5', 'invalid format specification'),
    ('net_{epoch.h5', 'not a valid format string'),
])
def test_filename_fields_are_checked(hook_class, filename, match):
    with pytest.raises(ValueError, match=match) as info:
        hook_class(filename)
    assert str(info.value).startswith(hook_class.__name__ + ': filename')
    assert repr(filename) in str(info.value)


def test_filename_may_be_a_path_and_literal_braces(tmp_path):
    hook = SaveNetwork(tmp_path / 'a{{b}}_{epoch}.h5')
    assert hook.filename == str(tmp_path / 'a{{b}}_{epoch}.h5')
    assert hook.filename.format(epoch=3, update=0).endswith('a{b}_3.h5')


# -- SaveLogs -----------------------------------------------------------------

def test_save_logs_file_equals_the_logs(net, train_iter, valid_iter, trainer,
                                        helpers, tmp_path):
    filename = str(tmp_path / 'logs.h5')
    trainer.train_scorers = [Accuracy()]
    trainer.add_hook(MonitorScores('valid', [Accuracy()], name='validation'))
    trainer.add_hook(MonitorLayerParameters('A', name='params'))
    trainer.add_hook(helpers.Scripted([1.5, 2, 3], name='mon'))
    trainer.add_hook(SaveLogs(filename))
    trainer.add_hook(SaveLogs(str(tmp_path / 'logs_{epoch}.h5'),
                              name='per_epoch'))
    trainer.add_hook(StopAfterEpoch(2))
    trainer.train(net, train_iter, valid=valid_iter)
    logs = trainer.logs
    assert load_logs(filename) == logs
    with h5py.File(filename, 'r') as f:
        assert sorted(f) == ['mon', 'params', 'rolling_training',
                             'validation']
        assert isinstance(f['params']['W'], h5py.Group)
        np.testing.assert_array_equal(f['validation']['Accuracy'][:],
                                      logs['validation']['Accuracy'])
        np.testing.assert_array_equal(f['params/W/std'][:],
                                      logs['params']['W']['std'])
        assert f['rolling_training']['total_loss'].shape == (2,)
        assert f.attrs['epoch_nr'] == 2 and f.attrs['update_nr'] == 6
    # each save holds the logs as they were then
    first = load_logs(str(tmp_path / 'logs_0.h5'))
    assert 'rolling_training' not in first
    assert first['mon'] == {'value': [1.5], 'nested': {'value': [1.5]}}
    assert first['validation']['Accuracy'] == \
        logs['validation']['Accuracy'][:1]
    assert load_logs(str(tmp_path / 'logs_1.h5'))['rolling_training'][
        'Accuracy'] == logs['rolling_training']['Accuracy'][:1]


def test_save_logs_keeps_every_kind_of_value(tmp_path):
    logs = {'ints': {'count': [1, 2, 3]},
            'floats': [0.5, float('nan'), 1e300],
            'flags': [True, False],
            'words': ['stop', 'go on'],
            'mixed': [None, 1.0, 'x', {'a': 1}],
            'vectors': [[1.0, 2.0], [3.0, 4.0]],
            'empty': [],
            'numpy': [np.float32(0.25), np.float32(0.5)],
            'dots.in name': {'deep': {'deeper': [7]}}}
    filename = str(tmp_path / 'l.h5')
    save_logs(filename, logs)
    loaded = load_logs(filename)
    assert loaded['floats'][0] == 0.5 and np.isnan(loaded['floats'][1])
    assert loaded['floats'][2] == 1e300
    del loaded['floats'], logs['floats']
    assert loaded == logs
    assert loaded['ints']['count'] == [1, 2, 3]
    assert all(type(v) is int for v in loaded['ints']['count'])
    assert type(loaded['flags'][0]) is bool
    with h5py.File(filename, 'r') as f:
        assert f['ints/count'].dtype.kind == 'i'
        assert f['vectors'].shape == (2, 2)
        assert f['mixed'].attrs['json']
        assert 'epoch_nr' not in f.attrs


def test_load_logs_refuses_other_files(net, tmp_path):
    net.save_as_hdf5(str(tmp_path / 'net.h5'))
    with pytest.raises(ValueError, match='not a brainstorm logs file'):
        load_logs(str(tmp_path / 'net.h5'))


@pytest.mark.parametrize('logs, error, match', [
    ({'a/b': [1.0]}, ValueError, "'a/b'"),
    ({'mon': {'.': [1.0]}}, ValueError, "'mon..'"),
    ({'mon': {'x': 3.0}}, TypeError, "'mon.x'"),
])
def test_save_logs_failure_leaves_the_old_file(logs, error, match, tmp_path):
    filename = str(tmp_path / 'logs.h5')
    save_logs(filename, {'good': [1.0, 2.0]})
    with pytest.raises(error, match=match):
        save_logs(filename, logs)
    assert load_logs(filename) == {'good': [1.0, 2.0]}
    assert [p.name for p in tmp_path.iterdir()] == ['logs.h5']


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path,
                                                           monkeypatch):
    """An error in the middle of writing (here: a dataset that cannot be
    created) leaves the previous file as it was."""
    filename = str(tmp_path / 'logs.h5')
    save_logs(filename, {'a': [1.0], 'b': [2.0]})
    original = h5py.Group.create_dataset
    calls = []

    def failing(group, *args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise OSError('disk full')
        return original(group, *args, **kwargs)
    monkeypatch.setattr(h5py.Group, 'create_dataset', failing)
    with pytest.raises(OSError, match='disk full'):
        save_logs(filename, {'a': [3.0], 'b': [4.0]})
    monkeypatch.undo()
    assert load_logs(filename) == {'a': [1.0], 'b': [2.0]}
    assert [p.name for p in tmp_path.iterdir()] == ['logs.h5']


# -- descriptions -------------------------------------------------------------

@pytest.mark.parametrize('hook, expected', [
    (SaveBestNetwork('validation.Accuracy'),
     {'log_name': 'validation.Accuracy'}),
    (SaveBestNetwork('rolling_training.total_loss', filename='b.h5',
                     criterion='min', name='best', timescale='update',
                     interval=3, verbose=False),
     {'log_name': 'rolling_training.total_loss', 'filename': 'b.h5',
      'criterion': 'min', 'name': 'best', 'timescale': 'update',
      'interval': 3, 'verbose': False}),
    (SaveNetwork('net_{epoch}.h5'), {'filename': 'net_{epoch}.h5'}),
    (SaveNetwork('n.h5', name='saver', timescale='update', interval=100,
                 verbose=True),
     {'filename': 'n.h5', 'name': 'saver', 'timescale': 'update',
      'interval': 100, 'verbose': True}),
    (SaveLogs('logs.h5'), {'filename': 'logs.h5'}),
    (SaveLogs('logs.h5', name='logsaver', interval=5),
     {'filename': 'logs.h5', 'name': 'logsaver', 'interval': 5}),
], ids=lambda x: getattr(x, '__name__', ''))
def test_saver_description_round_trip(hook, expected):
    description = get_description(hook)
    assert description == dict(expected, **{'@type': type(hook).__name__})
    clone = create_from_description(json.loads(json.dumps(description)))
    assert type(clone) is type(hook) and clone is not hook
    assert clone.__name__ == hook.__name__
    assert get_description(clone) == description
    assert getattr(bs.hooks, type(hook).__name__) is type(hook)


def test_recreated_savers_work_in_training(net, train_iter, trainer,
                                           tmp_path):
    for hook in (MonitorLoss('training_data_iter', name='train'),
                 SaveNetwork(str(tmp_path / 'n.h5')),
                 SaveLogs(str(tmp_path / 'l.h5'))):
        trainer.add_hook(create_from_description(
            json.loads(json.dumps(get_description(hook)))))
    trainer.add_hook(StopAfterEpoch(1))
    trainer.train(net, train_iter)
    assert load_logs(str(tmp_path / 'l.h5')) == trainer.logs
    np.testing.assert_array_equal(
        bs.Network.from_hdf5(str(tmp_path / 'n.h5')).get('parameters'),
        net.get('parameters'))
