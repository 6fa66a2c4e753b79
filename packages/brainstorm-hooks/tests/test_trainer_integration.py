"""The hooks inside Trainer.train: call order, timescale, interval, stopping
and the registry names of the manual (bs.hooks.X, bs.scorers.X)."""
import pytest

import brainstorm as bs
import brainstorm_hooks
from brainstorm_hooks import (Accuracy, MonitorLoss, MonitorScores,
                              ProgressBar, SaveBestNetwork, StopAfterEpoch)


def test_registry_names_resolve_to_this_package():
    assert bs.hooks.ProgressBar is ProgressBar
    assert bs.hooks.MonitorLoss is MonitorLoss
    assert bs.hooks.MonitorScores is MonitorScores
    assert bs.hooks.SaveBestNetwork is SaveBestNetwork
    assert bs.hooks.StopAfterEpoch is StopAfterEpoch
    assert bs.scorers.Accuracy is Accuracy
    assert bs.registry.provider('hooks', 'StopAfterEpoch') == \
        'brainstorm-hooks'
    assert bs.registry.provider('scorers', 'Accuracy') == 'brainstorm-hooks'
    assert brainstorm_hooks.__version__ == '0.1.0'


def test_stop_after_epoch_trains_exactly_that_many_epochs(
        net, train_iter, trainer, helpers):
    rec = helpers.Recorder(name='rec')
    upd = helpers.Recorder(name='upd', timescale='update')
    trainer.add_hook(rec)
    trainer.add_hook(upd)
    trainer.add_hook(StopAfterEpoch(3))
    trainer.train(net, train_iter)
    assert trainer.current_epoch_nr == 3
    assert trainer.current_update_nr == 9
    assert len(trainer.logs['rolling_training']['total_loss']) == 3
    assert rec.calls == [(0, 0), (1, 3), (2, 6), (3, 9)]
    assert len(upd.calls) == 9
    assert 'StopAfterEpoch' not in trainer.logs   # stoppers log nothing


def test_stop_after_zero_epochs_does_not_train(net, train_iter, trainer):
    before = net.get('parameters')
    trainer.add_hook(StopAfterEpoch(0))
    trainer.train(net, train_iter)
    assert trainer.current_epoch_nr == 0
    assert (net.get('parameters') == before).all()


def test_stop_message_is_printed_by_a_verbose_trainer(net, train_iter,
                                                      capsys):
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=True)
    trainer.add_hook(StopAfterEpoch(1))
    trainer.train(net, train_iter)
    assert 'StopAfterEpoch >> epoch limit of 1 reached' in \
        capsys.readouterr().out


@pytest.mark.parametrize('bad', [-1, 1.5, 'three', None, True])
def test_stop_after_epoch_validates_max_epochs(bad):
    with pytest.raises(ValueError, match='max_epochs'):
        StopAfterEpoch(bad)


def test_hooks_follow_order_timescale_and_interval(net, train_iter, trainer,
                                                  helpers):
    """Epoch hooks at epoch 0 and after each epoch, update hooks after
    every ``interval``-th update, all in the order they were added; a
    monitor added before a recorder has logged when the recorder runs."""
    order = []

    class Probe(helpers.Recorder):
        def __call__(self, epoch_nr, update_nr, net, stepper, logs):
            order.append((self.__name__, epoch_nr, update_nr,
                          len(logs.get('mon', {}).get('total_loss', []))))

    trainer.add_hook(Probe(name='before'))
    trainer.add_hook(MonitorLoss('training_data_iter', name='mon'))
    trainer.add_hook(Probe(name='every2', timescale='update', interval=2))
    trainer.add_hook(Probe(name='after'))
    trainer.add_hook(StopAfterEpoch(2))
    trainer.train(net, train_iter)
    assert order == [('before', 0, 0, 0), ('after', 0, 0, 1),
                     ('every2', 1, 2, 1),
                     ('before', 1, 3, 1), ('after', 1, 3, 2),
                     ('every2', 2, 4, 2), ('every2', 2, 6, 2),
                     ('before', 2, 6, 2), ('after', 2, 6, 3)]


def test_monitor_with_update_timescale_and_interval(net, train_iter,
                                                   valid_iter, trainer):
    trainer.add_hook(MonitorLoss('valid', name='upd', timescale='update',
                                 interval=2))
    trainer.add_hook(MonitorLoss('valid', name='ep', interval=2))
    trainer.add_hook(StopAfterEpoch(3))
    trainer.train(net, train_iter, valid=valid_iter)
    assert len(trainer.logs['upd']['total_loss']) == 9 // 2
    assert len(trainer.logs['ep']['total_loss']) == 2   # epochs 0 and 2


def test_duplicate_hook_name_raises(trainer):
    trainer.add_hook(MonitorLoss('valid', name='validation'))
    with pytest.raises(ValueError, match='validation'):
        trainer.add_hook(MonitorScores('valid', [Accuracy()],
                                       name='validation'))
    trainer.add_hook(StopAfterEpoch(1))
    with pytest.raises(ValueError, match='StopAfterEpoch'):
        trainer.add_hook(StopAfterEpoch(2))


def test_walkthrough_setup_runs(net, train_iter, valid_iter, tmp_path,
                                capsys):
    """The hooks of the manual's walkthrough (chapter 2) together."""
    trainer = bs.Trainer(bs.training.SgdStepper(0.5), verbose=False)
    trainer.add_hook(bs.hooks.ProgressBar())
    scorers = [bs.scorers.Accuracy(out_name='Output.outputs.predictions')]
    trainer.train_scorers = scorers
    trainer.add_hook(bs.hooks.MonitorScores('valid_getter', scorers,
                                            name='validation'))
    trainer.add_hook(bs.hooks.SaveBestNetwork(
        'validation.Accuracy', filename=str(tmp_path / 'best.hdf5'),
        name='best weights', criterion='max'))
    trainer.add_hook(bs.hooks.StopAfterEpoch(4))
    trainer.train(net, train_iter, valid_getter=valid_iter)
    acc = trainer.logs['validation']['Accuracy']
    assert len(acc) == 5
    assert len(trainer.logs['rolling_training']['Accuracy']) == 4
    assert (tmp_path / 'best.hdf5').exists()
    assert trainer.hooks['best weights'].best_value == max(acc)
    assert capsys.readouterr().err == ''
