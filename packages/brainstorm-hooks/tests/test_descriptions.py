"""Every hook and scorer round-trips through get_description /
create_from_description (JSON-serialisable)."""
import json

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.describable import create_from_description, get_description
from brainstorm_hooks import (Accuracy, MonitorLoss, MonitorScores,
                              ProgressBar, SaveBestNetwork, StopAfterEpoch)

CASES = [
    ProgressBar(),
    ProgressBar(name='bar', force=True),
    MonitorLoss('valid'),
    MonitorLoss('valid', name='val', timescale='update', interval=5,
                verbose=False),
    MonitorScores('valid_getter', [Accuracy(), Accuracy(
        out_name='Output.outputs.predictions', targets_name='labels',
        mask_name='mask', name='MaskedAccuracy')], name='validation'),
    SaveBestNetwork('validation.Accuracy'),
    SaveBestNetwork('validation.total_loss', filename='best.h5',
                    criterion='min', name='best weights', interval=2,
                    verbose=True),
    StopAfterEpoch(20),
    StopAfterEpoch(3, name='stop', timescale='update', interval=10),
    Accuracy(),
    Accuracy(out_name='Out.outputs.predictions', mask_name='m', name='acc'),
]


def public_state(obj):
    # core's Hook leaves the described 'name' as a stray attribute on
    # objects created from a description; __name__ is what counts
    keys = set(vars(obj)) - set(type(obj).__dict__.get('__undescribed__',
                                                       ())) - {'name'}
    state = {}
    for key in sorted(keys):
        value = getattr(obj, key)
        if isinstance(value, list):
            value = [(type(v).__name__, public_state(v)) for v in value]
        state[key] = value
    return state


@pytest.mark.parametrize('obj', CASES, ids=lambda o: type(o).__name__)
def test_round_trip(obj):
    description = get_description(obj)
    assert description['@type'] == type(obj).__name__
    text = json.dumps(description)
    clone = create_from_description(json.loads(text))
    assert type(clone) is type(obj)
    assert clone is not obj
    assert clone.__name__ == obj.__name__
    assert public_state(clone) == public_state(obj)
    assert get_description(clone) == description


def test_descriptions_hold_the_constructor_arguments():
    d = get_description(CASES[6])
    assert d == {'@type': 'SaveBestNetwork',
                 'log_name': 'validation.total_loss', 'filename': 'best.h5',
                 'criterion': 'min', 'name': 'best weights', 'interval': 2,
                 'verbose': True}
    assert get_description(StopAfterEpoch(20)) == {'@type': 'StopAfterEpoch',
                                                   'max_epochs': 20}
    assert get_description(ProgressBar()) == {'@type': 'ProgressBar'}


def test_runtime_state_is_not_described(net, train_iter, valid_iter,
                                        trainer):
    saver = SaveBestNetwork('validation.Accuracy')
    monitor = MonitorScores('valid', [Accuracy()], name='validation')
    bar = ProgressBar()
    trainer.add_hook(bar)
    trainer.add_hook(monitor)
    trainer.add_hook(saver)
    trainer.add_hook(StopAfterEpoch(1))
    trainer.train(net, train_iter, valid=valid_iter)
    assert saver.parameters is not None and monitor.data_iter is valid_iter
    for hook in (saver, monitor, bar):
        description = get_description(hook)
        json.dumps(description)
        clone = create_from_description(description)
        assert get_description(clone) == description
    clone = create_from_description(get_description(saver))
    assert clone.parameters is None and clone.best_value is None
    assert create_from_description(get_description(monitor)).data_iter \
        is None


def test_recreated_hooks_work_in_training(net, train_iter, valid_iter,
                                          trainer):
    hooks = [ProgressBar(),
             MonitorScores('valid', [Accuracy()], name='validation'),
             SaveBestNetwork('validation.Accuracy', name='best'),
             StopAfterEpoch(2)]
    for hook in hooks:
        trainer.add_hook(create_from_description(
            json.loads(json.dumps(get_description(hook)))))
    trainer.train(net, train_iter, valid=valid_iter)
    assert len(trainer.logs['validation']['Accuracy']) == 3
    assert trainer.current_epoch_nr == 2
    best = trainer.hooks['best']
    assert best.best_value == max(trainer.logs['validation']['Accuracy'])
    assert isinstance(best.parameters, np.ndarray)


def test_trainer_with_hooks_is_describable():
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=False)
    trainer.add_hook(MonitorLoss('valid', name='val'))
    trainer.add_hook(StopAfterEpoch(2))
    description = get_description(trainer)
    json.dumps(description)
    clone = create_from_description(description)
    assert list(clone.hooks) == ['val', 'StopAfterEpoch']
    assert clone.hooks['StopAfterEpoch'].max_epochs == 2
