"""ProgressBar."""
import io
import sys

from brainstorm.hooks import Hook
from brainstorm_hooks import ProgressBar, StopAfterEpoch


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def train(trainer, net, train_iter, bar, epochs=2):
    trainer.add_hook(bar)
    trainer.add_hook(StopAfterEpoch(epochs))
    trainer.train(net, train_iter)


def test_is_an_update_hook_that_logs_nothing(net, train_iter, trainer):
    bar = ProgressBar()
    assert (bar.timescale, bar.interval, bar.__name__) == \
        ('update', 1, 'ProgressBar')
    train(trainer, net, train_iter, bar)
    assert trainer.current_epoch_nr == 2
    assert set(trainer.logs) == {'rolling_training'}
    assert bar.bar is None                       # closed after the epoch


def test_silent_when_not_a_terminal(net, train_iter, capsys):
    import brainstorm as bs
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=False)
    train(trainer, net, train_iter, ProgressBar())
    captured = capsys.readouterr()
    assert captured.out == '' and captured.err == ''


def test_forced_bar_shows_every_epoch(net, train_iter, trainer, capsys):
    train(trainer, net, train_iter, ProgressBar(force=True), epochs=3)
    captured = capsys.readouterr()
    assert captured.out == ''
    for epoch in (1, 2, 3):
        assert 'epoch {}: 100%'.format(epoch) in captured.err
    assert captured.err.count('3/3') == 3
    assert 'epoch 4' not in captured.err


def test_draws_on_a_terminal(net, train_iter, trainer, monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, 'stderr', terminal)
    train(trainer, net, train_iter, ProgressBar())
    text = terminal.getvalue()
    assert 'epoch 1: 100%' in text and 'epoch 2: 100%' in text
    assert '3/3' in text


def test_unknown_length_counts_updates(net, trainer, helpers, capsys):
    it = helpers.FixedBatches(helpers.random_batches([2, 2]), length=False)
    assert it.length is None
    train(trainer, net, it, ProgressBar(force=True), epochs=2)
    err = capsys.readouterr().err
    # the bar of epoch 1 closed when epoch 2 began; the last one stays open
    # (nothing tells an update hook that the training ended)
    assert 'epoch 1: 2update' in err and 'epoch 2:' in err
    assert '%' not in err


class BarProbe(Hook):
    """Reads the progress bar after each update."""

    def __init__(self, progress):
        super().__init__('probe', timescale='update')
        self.progress, self.seen = progress, []

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        bar = self.progress.bar
        self.seen.append(None if bar is None else
                         (bar.desc, bar.n, bar.total, self.progress.done))


def test_bar_counts_the_updates_of_each_epoch(net, train_iter, trainer):
    progress = ProgressBar(force=True)
    probe = BarProbe(progress)
    trainer.add_hook(progress)
    trainer.add_hook(probe)
    trainer.add_hook(StopAfterEpoch(2))
    trainer.train(net, train_iter)
    # a tqdm bar per epoch, total = the iterator's length, closed after the
    # epoch's last update
    assert probe.seen == [('epoch 1', 1, 3, 1), ('epoch 1', 2, 3, 2),
                          None,
                          ('epoch 2', 1, 3, 1), ('epoch 2', 2, 3, 2),
                          None]


def test_bar_is_disabled_off_a_terminal(net, train_iter, trainer):
    progress = ProgressBar()
    seen = []

    class Probe(Hook):
        def __call__(self, epoch_nr, update_nr, net, stepper, logs):
            if progress.bar is not None:
                seen.append((progress.bar.disable, progress.done))

    trainer.add_hook(progress)
    trainer.add_hook(Probe(timescale='update'))
    trainer.add_hook(StopAfterEpoch(1))
    trainer.train(net, train_iter)
    assert seen == [(True, 1), (True, 2)]


def test_bar_left_open_by_a_stop_is_closed_when_training_resumes(
        net, train_iter, trainer, capsys):
    progress = ProgressBar(force=True)
    trainer.add_hook(progress)
    trainer.add_hook(StopAfterEpoch(2, timescale='update', name='stop'))
    trainer.train(net, train_iter)
    # stopped at the first update of epoch 2: its bar is still open
    assert (progress.bar.desc, progress.bar.n) == ('epoch 2', 1)
    old_bar = progress.bar
    del trainer.hooks['stop']
    trainer.add_hook(StopAfterEpoch(3))
    trainer.train(net, train_iter)
    assert old_bar.disable   # tqdm marks a closed bar disabled
    assert progress.bar is None
    err = capsys.readouterr().err
    assert 'epoch 2:  33%' in err and 'epoch 3: 100%' in err


def test_description_round_trip():
    import brainstorm as bs
    for hook, description in [
            (ProgressBar(), {'@type': 'ProgressBar'}),
            (ProgressBar(name='bar', force=True),
             {'@type': 'ProgressBar', 'name': 'bar', 'force': True})]:
        assert bs.get_description(hook) == description
        again = bs.create_from_description(description)
        assert (again.__name__, again.force, again.timescale,
                again.interval, again.bar) == \
            (hook.__name__, hook.force, 'update', 1, None)
