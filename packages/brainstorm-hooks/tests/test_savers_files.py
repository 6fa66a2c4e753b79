"""Saving logs and networks from hooks on a full disk, the permissions of
the files written, and loading corrupt or foreign logs files."""
import os

import h5py
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.testing.faults import full_disk
from brainstorm_hooks import SaveBestNetwork, StopAfterEpoch
from brainstorm_hooks.logs import load_logs, save_logs
from brainstorm_hooks.savers import SaveLogs, SaveNetwork

LOGS = {'mon': {'value': [0.5, 1.5], 'nested': {'count': [0, 1]}}}


def test_saving_logs_on_a_full_disk_keeps_the_previous_file(tmp_path,
                                                            monkeypatch):
    filename = str(tmp_path / 'logs.h5')
    save_logs(filename, {'mon': {'value': [0.5]}})
    with open(filename, 'rb') as f:
        before = f.read()
    full_disk(monkeypatch)
    with pytest.raises(bs.SaveError) as caught:
        save_logs(filename, LOGS)
    monkeypatch.undo()
    assert str(caught.value) == (
        'could not save {}: No space left on device (the previous file is '
        'unchanged)'.format(filename))
    with open(filename, 'rb') as f:
        assert f.read() == before
    assert os.listdir(str(tmp_path)) == ['logs.h5']
    assert load_logs(filename) == {'mon': {'value': [0.5]}}


@pytest.mark.parametrize('saver', ['network', 'logs'])
def test_a_full_disk_stops_training_with_the_message(saver, net, trainer,
                                                     train_iter, helpers,
                                                     tmp_path, monkeypatch):
    filename = str(tmp_path / 'out.h5')
    trainer.add_hook(helpers.Scripted([1.0, 2.0, 3.0], name='mon'))
    trainer.add_hook(SaveNetwork(filename) if saver == 'network'
                     else SaveLogs(filename))

    class FillDisk(helpers.Recorder):
        def __call__(self, epoch_nr, update_nr, net, stepper, logs):
            if epoch_nr == 1:
                full_disk(monkeypatch, after=0)
    trainer.add_hook(FillDisk(name='fill'))
    trainer.add_hook(StopAfterEpoch(3))
    with pytest.raises(bs.SaveError) as caught:
        trainer.train(net, train_iter)
    monkeypatch.undo()
    assert str(caught.value) == (
        'could not save {}: No space left on device (the previous file is '
        'unchanged)'.format(filename))
    # stopped in the hooks after epoch 2; the file holds what epoch 1 saved
    assert trainer.current_epoch_nr == 2
    if saver == 'logs':
        assert load_logs(filename)['mon']['value'] == [1.0, 2.0]
    # what is in memory can still be saved
    net.save_as_hdf5(str(tmp_path / 'rescued.h5'))
    np.testing.assert_array_equal(
        bs.Network.from_hdf5(str(tmp_path / 'rescued.h5')).get(
            'parameters'), net.get('parameters'))
    assert sorted(os.listdir(str(tmp_path))) == ['out.h5', 'rescued.h5']


def test_save_best_network_tries_again_after_a_failed_save(
        net, tmp_path, monkeypatch):
    filename = str(tmp_path / 'best.h5')
    hook = SaveBestNetwork('mon.value', filename=filename, criterion='max',
                           verbose=False)
    full_disk(monkeypatch, after=0)
    with pytest.raises(bs.SaveError):
        hook(1, 3, net, None, {'mon': {'value': [0.5]}})
    monkeypatch.undo()
    assert hook.best_value is None and not os.path.exists(filename)
    hook(1, 3, net, None, {'mon': {'value': [0.5]}})
    assert hook.best_value == 0.5 and os.path.exists(filename)


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.skipif(os.name == 'nt', reason='POSIX permissions')
def test_logs_files_follow_the_umask_and_keep_their_mode(tmp_path, umask):
    umask(0o022)
    filename = str(tmp_path / 'logs.h5')
    save_logs(filename, LOGS)
    assert os.stat(filename).st_mode & 0o777 == 0o644
    os.chmod(filename, 0o640)
    save_logs(filename, LOGS)
    assert os.stat(filename).st_mode & 0o777 == 0o640


def test_load_logs_names_corrupt_and_foreign_files(net, tmp_path):
    text = str(tmp_path / 'logs.txt')
    with open(text, 'w') as f:
        f.write('epoch,loss\n1,0.5\n')
    empty = str(tmp_path / 'empty.h5')
    open(empty, 'w').close()
    good = str(tmp_path / 'good.h5')
    save_logs(good, LOGS)
    with open(good, 'rb') as f:
        data = f.read()
    truncated = str(tmp_path / 'truncated.h5')
    with open(truncated, 'wb') as f:
        f.write(data[:len(data) - 10])
    network = str(tmp_path / 'net.h5')
    net.save_as_hdf5(network)
    damaged = str(tmp_path / 'damaged.h5')
    save_logs(damaged, LOGS)
    with h5py.File(damaged, 'r+') as f:
        f['mon'].attrs['order'] = '["value", '
    cases = {
        text: 'is not a brainstorm logs file: it is not an HDF5 file',
        empty: 'is not a brainstorm logs file: it is empty',
        truncated: 'is not a readable brainstorm logs file: it is truncated '
                   '(it has {} of its {} bytes)'.format(len(data) - 10,
                                                        len(data)),
        network: 'is not a brainstorm logs file: it is a brainstorm network '
                 'file',
        damaged: 'is a damaged brainstorm logs file: Expecting value: line '
                 '1 column 11 (char 10)',
    }
    for path, problem in cases.items():
        with pytest.raises(bs.FileFormatError) as caught:
            load_logs(path)
        assert str(caught.value) == '{} {}'.format(path, problem)
    with pytest.raises(FileNotFoundError, match='No such file or directory'):
        load_logs(str(tmp_path / 'none.h5'))
    # and a logs file is not a network
    with pytest.raises(bs.FileFormatError,
                       match='good.h5 is not a brainstorm network file: it '
                             'is a brainstorm logs file$'):
        bs.Network.from_hdf5(good)
