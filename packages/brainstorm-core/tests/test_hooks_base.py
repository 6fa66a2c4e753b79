"""The Hook base class (manual 8.6): arguments, names, descriptions,
messages and verbosity."""
import json
import re
import types

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.data_iterators import DataIterator
from brainstorm.describable import create_from_description, get_description
from brainstorm.hooks import Hook
from brainstorm.plugins import hookimpl, registry
from brainstorm.testing.simple_layers import (TestAffine, TestSoftmaxLoss,
                                              use_simple_layers)


class Talker(Hook):
    """Says ``text`` on every call."""

    def __init__(self, text='hello', **kwargs):
        super().__init__(**kwargs)
        self.text = text

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        self.message('{} {}'.format(self.text, epoch_nr))


@pytest.fixture
def registered():
    plugin = types.SimpleNamespace(
        brainstorm_hooks=hookimpl(lambda: [Talker]))
    registry.register_module(plugin, 'test-hooks-base')
    try:
        yield
    finally:
        registry.unregister_module('test-hooks-base')


def test_defaults():
    hook = Talker()
    assert hook.__name__ == 'Talker'
    assert (hook.timescale, hook.interval, hook.verbose) == ('epoch', 1, None)
    assert hook.run_verbosity is None
    assert Hook().__name__ == 'Hook'


def test_arguments_are_kept():
    hook = Talker(name='chat', timescale='update', interval=3, verbose=False)
    assert hook.__name__ == 'chat'
    assert (hook.timescale, hook.interval, hook.verbose) == \
        ('update', 3, False)
    assert not hasattr(hook, 'name')


@pytest.mark.parametrize('timescale', ['epochs', 'Update', '', None])
def test_unknown_timescale_is_refused(timescale):
    with pytest.raises(ValueError,
                       match="Talker: timescale must be 'epoch' or 'update', "
                             'got ' + re.escape(repr(timescale))):
        Talker(timescale=timescale)


@pytest.mark.parametrize('interval', [0, -1, '0'])
def test_interval_below_one_is_refused(interval):
    with pytest.raises(ValueError, match='Talker: interval must be >= 1, '
                                         'got ' + re.escape(repr(interval))):
        Talker(interval=interval)


def test_base_hook_is_not_callable():
    with pytest.raises(NotImplementedError):
        Hook()(1, 1, None, None, {})


def test_description_leaves_out_defaults_and_run_state():
    hook = Talker()
    hook.run_verbosity = True
    assert get_description(hook) == {'@type': 'Talker', 'text': 'hello'}


def test_description_holds_what_differs_from_the_defaults():
    hook = Talker(text='hi', name='chat', timescale='update', interval=2,
                  verbose=True)
    assert get_description(hook) == {
        '@type': 'Talker', 'text': 'hi', 'name': 'chat',
        'timescale': 'update', 'interval': 2, 'verbose': True}


def test_round_trip_restores_the_hook(registered):
    hook = Talker(text='hi', name='chat', timescale='update', interval=2,
                  verbose=False)
    description = json.loads(json.dumps(get_description(hook)))
    loaded = create_from_description(description)
    assert type(loaded) is Talker
    assert loaded.__name__ == 'chat'
    assert not hasattr(loaded, 'name')
    assert (loaded.text, loaded.timescale, loaded.interval,
            loaded.verbose) == ('hi', 'update', 2, False)
    assert loaded.run_verbosity is None
    assert get_description(loaded) == description


def test_round_trip_with_default_name_and_values(registered):
    loaded = create_from_description(get_description(Talker()))
    assert loaded.__name__ == 'Talker'
    assert not hasattr(loaded, 'name')
    assert (loaded.text, loaded.timescale, loaded.interval,
            loaded.verbose, loaded.run_verbosity) == \
        ('hello', 'epoch', 1, None, None)


def test_message_prints_only_when_verbose(capsys):
    hook = Talker(name='chat')
    hook.message('before start')
    assert capsys.readouterr().out == ''
    hook.start(None, None, True, {})
    hook.message('on')
    assert capsys.readouterr().out == 'chat >> on\n'
    hook.start(None, None, False, {})
    hook.message('off')
    assert capsys.readouterr().out == ''


@pytest.mark.parametrize('hook_verbose, trainer_verbose, expected', [
    (None, True, True), (None, False, False),
    (True, False, True), (False, True, False)])
def test_run_verbosity_follows_the_trainer_unless_set(
        hook_verbose, trainer_verbose, expected):
    hook = Talker(verbose=hook_verbose)
    hook.start(None, None, trainer_verbose, {})
    assert hook.run_verbosity is expected


class OneBatch(DataIterator):
    def __init__(self):
        rnd = np.random.RandomState(0)
        self.batch = {'default': rnd.randn(1, 2, 3),
                      'targets': rnd.randint(0, 2, (1, 2, 1)).astype(float)}
        super().__init__({'default': (1, 2, 3)}, 1)

    def __call__(self, handler=None):
        yield self.batch


class Stop(Hook):
    can_stop_training = True

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if epoch_nr >= 1:
            raise StopIteration()


@pytest.mark.parametrize('hook_verbose, trainer_verbose, printed', [
    (None, False, False), (True, False, True), (False, True, False)])
def test_trainer_starts_hooks_with_its_verbosity(
        capsys, hook_verbose, trainer_verbose, printed):
    with use_simple_layers():
        inp = bs.layers.Input({'default': ('T', 'B', 3),
                               'targets': ('T', 'B', 1)})
        out = TestSoftmaxLoss(name='Output')
        inp >> TestAffine(2, name='A') >> out
        inp - 'targets' >> 'targets' - out
        net = bs.Network.from_layer(out)
        net.initialize(0.1)
        trainer = bs.Trainer(bs.training.SgdStepper(0.1),
                             verbose=trainer_verbose)
        trainer.add_hook(Talker(text='epoch', verbose=hook_verbose))
        trainer.add_hook(Stop())
        trainer.train(net, OneBatch())
    out = capsys.readouterr().out
    assert ('Talker >> epoch 0' in out) is printed
    assert ('Talker >> epoch 1' in out) is printed
