"""ProgressBar."""
import io
import sys

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
