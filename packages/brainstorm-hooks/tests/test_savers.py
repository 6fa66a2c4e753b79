"""SaveBestNetwork."""
import math

import numpy as np
import pytest

import brainstorm as bs
from brainstorm_hooks import (MissingLogError, MonitorScores, Accuracy,
                              SaveBestNetwork, StopAfterEpoch, lookup_log)

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
