"""SaveCheckpoint: when and where it writes checkpoints, and resuming from
them."""
import json
import os

import h5py
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.describable import create_from_description, get_description

from brainstorm_hooks.checkpoint import SaveCheckpoint


def position(path):
    with h5py.File(path, 'r') as f:
        return json.loads(f['checkpoint'].attrs['trainer'])['position']


def test_is_registered():
    assert bs.hooks.SaveCheckpoint is SaveCheckpoint


def test_one_file_per_epoch(tmp_path, net, train_iter, trainer, helpers):
    trainer.add_hook(SaveCheckpoint(str(tmp_path / 'ckpt_{epoch:02d}.h5')))
    trainer.add_hook(helpers.Recorder(stop_at=3))
    trainer.train(net, train_iter)
    assert sorted(os.listdir(str(tmp_path))) == [
        'ckpt_00.h5', 'ckpt_01.h5', 'ckpt_02.h5', 'ckpt_03.h5']
    for epoch in range(4):
        p = position(str(tmp_path / 'ckpt_{:02d}.h5'.format(epoch)))
        assert (p['epoch'], p['update']) == (epoch, 3 * epoch)
    # the last one holds the final network
    final = bs.Network.from_hdf5(str(tmp_path / 'ckpt_03.h5'))
    assert np.array_equal(final.get('parameters'), net.get('parameters'))


def test_update_timescale_and_one_file_replaced(tmp_path, net, train_iter,
                                                trainer, helpers):
    trainer.add_hook(SaveCheckpoint(str(tmp_path / 'last.h5'),
                                    timescale='update', interval=4))
    trainer.add_hook(SaveCheckpoint(str(tmp_path / 'u{update}.h5'),
                                    name='every4', timescale='update',
                                    interval=4))
    trainer.add_hook(helpers.Recorder(stop_at=3))
    trainer.train(net, train_iter)
    assert sorted(os.listdir(str(tmp_path))) == ['last.h5', 'u4.h5',
                                                 'u8.h5']
    p = position(str(tmp_path / 'last.h5'))
    assert (p['epoch'], p['update']) == (3, 8)
    assert p['epoch_progress']['losses'] and \
        len(p['epoch_progress']['losses']) == 2   # update 2 of epoch 3


def test_resuming_from_its_checkpoint_continues_the_run(tmp_path,
                                                        train_iter, helpers):
    def make(stop_at):
        net = helpers.build_net()
        trainer = bs.Trainer(bs.training.MomentumStepper(0.5, momentum=0.5),
                             verbose=False)
        trainer.add_hook(helpers.Scripted([1.0, 2.0, 3.0, 4.0]))
        trainer.add_hook(SaveCheckpoint(str(tmp_path / 'c.h5')))
        trainer.add_hook(helpers.Recorder(stop_at=stop_at))
        return net, trainer

    net, trainer = make(4)
    trainer.train(net, train_iter)
    expected, expected_logs = net.get('parameters'), trainer.logs

    net, trainer = make(2)
    trainer.train(net, train_iter)
    net, trainer = make(4)
    trainer.resume(str(tmp_path / 'c.h5'), net)
    trainer.hooks['mon'].count = 3   # Scripted keeps no checkpoint state
    trainer.train(net, train_iter)
    assert np.array_equal(net.get('parameters'), expected)
    assert trainer.logs == expected_logs


def test_reports_checkpoints_when_verbose(tmp_path, net, train_iter,
                                          helpers, capsys):
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=False)
    trainer.add_hook(SaveCheckpoint(str(tmp_path / 'c.h5'), verbose=True))
    trainer.add_hook(helpers.Recorder(stop_at=1))
    trainer.train(net, train_iter)
    out = capsys.readouterr().out
    assert 'SaveCheckpoint >> checkpoint of epoch 1, update 3 to ' \
        '{}'.format(tmp_path / 'c.h5') in out


def test_description_round_trip():
    hook = SaveCheckpoint('run/ckpt_{epoch}.h5', name='ckpt',
                          timescale='update', interval=50)
    hook.attach_trainer(bs.Trainer(bs.training.SgdStepper()))
    description = json.loads(json.dumps(get_description(hook)))
    assert description == {'@type': 'SaveCheckpoint',
                           'filename': 'run/ckpt_{epoch}.h5', 'name': 'ckpt',
                           'timescale': 'update', 'interval': 50}
    loaded = create_from_description(description)
    assert (loaded.filename, loaded.__name__, loaded.timescale,
            loaded.interval, loaded._trainer) == \
        ('run/ckpt_{epoch}.h5', 'ckpt', 'update', 50, None)


@pytest.mark.parametrize('filename, message', [
    ('ckpt_{step}.h5', r"SaveCheckpoint: filename 'ckpt_\{step\}.h5' may "
                       r"only contain the fields \{epoch\} and \{update\}"),
    ('ckpt_{0}.h5', r"SaveCheckpoint: filename 'ckpt_\{0\}.h5' may only"),
    ('ckpt_{epoch.h5', r"SaveCheckpoint: filename 'ckpt_\{epoch.h5' may"),
    ('', r"SaveCheckpoint: filename must be a non-empty str, got ''"),
    (None, r'SaveCheckpoint: filename must be a non-empty str, got None')])
def test_bad_filenames_are_refused(filename, message):
    with pytest.raises(ValueError, match=message):
        SaveCheckpoint(filename)


def test_needs_a_trainer(tmp_path, net):
    hook = SaveCheckpoint(str(tmp_path / 'c.h5'), name='ckpt')
    with pytest.raises(RuntimeError, match="SaveCheckpoint 'ckpt': no "
                                           'trainer'):
        hook(1, 1, net, None, {})
