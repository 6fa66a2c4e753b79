"""InfoUpdater (Sacred) and BokehVisualizer (Bokeh), with the real
libraries: a Sacred run's info and Bokeh documents, sources and a server
on a free localhost port.

sacred and bokeh are optional extras of brainstorm-hooks; the tests that
need them are skipped where they are not installed (the package's own
suite with brainstorm-core alone), and run in the test environment, which
installs both (there ``BRAINSTORM_REQUIRE_EXTRAS=1`` turns a skip into a
failure, see brainstorm.testing.extras).
"""
import json
import socket
import sys
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.hooks import Hook
from brainstorm.testing.extras import import_extra
from brainstorm_hooks.integrations import BokehVisualizer, InfoUpdater
from brainstorm_hooks.monitors import MonitorLoss
from brainstorm_hooks.stoppers import StopAfterEpoch


def test_registry_names():
    assert bs.hooks.InfoUpdater is InfoUpdater
    assert bs.hooks.BokehVisualizer is BokehVisualizer


@pytest.mark.parametrize('module, make', [
    ('sacred', lambda: InfoUpdater(object())),
    ('bokeh', lambda: BokehVisualizer(['mon.total_loss'], serve=False)),
])
def test_missing_library_says_what_to_install(monkeypatch, module, make):
    monkeypatch.setitem(sys.modules, module, None)   # import fails
    with pytest.raises(ImportError,
                       match=r'needs {0}, which is not installed: pip '
                             r'install brainstorm-hooks\[{0}\]'.format(
                                 module)):
        make()


class Probe(Hook):
    """Calls ``look()`` after every epoch and keeps what it returns."""

    def __init__(self, look):
        super().__init__('probe')
        self.look, self.seen = look, []

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        self.seen.append(self.look())


# -- InfoUpdater --------------------------------------------------------------
@pytest.fixture
def sacred():
    return import_extra('sacred', 'pip install brainstorm-hooks[sacred]')


def run_experiment(sacred, body):
    ex = sacred.Experiment('brainstorm_test', interactive=True,
                           save_git_info=False)
    ex.main(body)
    return ex.run(options={'--loglevel': 'ERROR'})


def test_info_updater_writes_logs_into_a_sacred_run(sacred, net, train_iter,
                                                    valid_iter):
    trainers = []

    def main(_run):
        trainer = bs.Trainer(bs.training.SgdStepper(0.5), verbose=False)
        trainer.add_hook(MonitorLoss('valid', name='validation'))
        trainer.add_hook(InfoUpdater(_run))
        probe = Probe(lambda: (len(_run.info['logs']['validation']
                                   ['total_loss']), _run.info['epoch_nr']))
        trainer.add_hook(probe)
        trainer.add_hook(StopAfterEpoch(2))
        trainer.train(net, train_iter, valid=valid_iter)
        trainers.append((trainer, probe))
        return 'done'

    run = run_experiment(sacred, main)
    assert isinstance(run, sacred.run.Run)
    assert run.result == 'done'
    trainer, probe = trainers[0]
    # the info follows the training: one more value after every epoch
    assert probe.seen == [(1, 0), (2, 1), (3, 2)]
    info = run.info
    assert info['epoch_nr'] == 2 and info['update_nr'] == 6
    assert info['logs']['validation']['total_loss'] == \
        trainer.logs['validation']['total_loss']
    assert info['logs']['rolling_training']['total_loss'] == \
        trainer.logs['rolling_training']['total_loss']
    # a copy, not the trainer's own dict
    assert info['logs'] is not trainer.logs
    json.dumps(info)


def test_info_updater_stores_plain_values(sacred, net, train_iter, helpers):
    values = [np.float32(0.5), np.array([1.0, 2.0])]

    def main(_run):
        trainer = bs.Trainer(bs.training.SgdStepper(0.5), verbose=False)
        trainer.add_hook(helpers.Scripted(values))
        trainer.add_hook(InfoUpdater(_run, name='info', interval=2))
        trainer.add_hook(StopAfterEpoch(2))
        trainer.train(net, train_iter)

    info = run_experiment(sacred, main).info
    # called at epochs 0 and 2
    assert info['epoch_nr'] == 2
    assert info['logs']['mon']['value'] == [0.5, [1.0, 2.0], [1.0, 2.0]]
    assert type(info['logs']['mon']['value'][0]) is float
    assert info['logs']['mon']['nested'] == {'value': [0.5, [1.0, 2.0],
                                                       [1.0, 2.0]]}


def test_info_updater_needs_a_run(sacred, net):
    with pytest.raises(TypeError, match='InfoUpdater: run must be a sacred '
                                        'Run .* got 42'):
        InfoUpdater(42)
    class RunLike:     # any object with an info dict will do
        info = {}

    hook = InfoUpdater(RunLike())
    description = bs.get_description(hook)
    assert description == {'@type': 'InfoUpdater'}
    again = bs.create_from_description(json.loads(json.dumps(description)))
    assert again.run is None
    with pytest.raises(ValueError, match=r"InfoUpdater 'InfoUpdater' has no "
                                         r'run: set hook.run'):
        again.start(net, None, False, {})
    again.run = hook.run
    again.start(net, None, False, {})
    again(0, 0, net, None, {'a': {'b': [1.0]}})
    assert hook.run.info == {'logs': {'a': {'b': [1.0]}}, 'epoch_nr': 0,
                             'update_nr': 0}


# -- BokehVisualizer ----------------------------------------------------------
@pytest.fixture
def bokeh():
    return import_extra('bokeh', 'pip install brainstorm-hooks[bokeh]')


def train_with(net, train_iter, valid_iter, viz, epochs=3, verbose=False):
    trainer = bs.Trainer(bs.training.SgdStepper(0.5), verbose=verbose)
    trainer.add_hook(MonitorLoss('valid', name='mon'))
    trainer.add_hook(viz)
    probe = Probe(lambda: {n: len(s.data['x'])
                           for n, s in viz.sources.items()})
    trainer.add_hook(probe)
    trainer.add_hook(StopAfterEpoch(epochs))
    trainer.train(net, train_iter, valid=valid_iter)
    return trainer, probe


def test_bokeh_sources_grow_with_each_call(bokeh, net, train_iter,
                                           valid_iter):
    from bokeh.document import Document
    from bokeh.models import ColumnDataSource
    viz = BokehVisualizer(['mon.total_loss', 'rolling_training.total_loss'],
                          serve=False)
    trainer, probe = train_with(net, train_iter, valid_iter, viz)
    # rolling_training is logged from epoch 1 on
    assert probe.seen == [{'mon.total_loss': 1,
                           'rolling_training.total_loss': 0},
                          {'mon.total_loss': 2,
                           'rolling_training.total_loss': 1},
                          {'mon.total_loss': 3,
                           'rolling_training.total_loss': 2},
                          {'mon.total_loss': 4,
                           'rolling_training.total_loss': 3}]
    assert isinstance(viz.document, Document)
    mon = viz.sources['mon.total_loss']
    assert isinstance(mon, ColumnDataSource)
    assert mon.document is viz.document
    assert list(mon.data['x']) == [0, 1, 2, 3]
    assert list(mon.data['y']) == pytest.approx(
        trainer.logs['mon']['total_loss'])
    rolling = viz.sources['rolling_training.total_loss']
    assert list(rolling.data['x']) == [1, 2, 3]
    assert list(rolling.data['y']) == pytest.approx(
        trainer.logs['rolling_training']['total_loss'])
    figures = viz.document.roots[0].children
    assert [f.title.text for f in figures] == viz.log_names
    assert figures[0].xaxis[0].axis_label == 'epoch'
    assert viz.url is None


def test_bokeh_update_timescale_plots_over_updates(bokeh, net, train_iter,
                                                   valid_iter):
    viz = BokehVisualizer('mon.total_loss', serve=False, timescale='update',
                          interval=2)
    train_with(net, train_iter, valid_iter, viz, epochs=2)
    # new values (epochs 0 and 1) are seen at updates 2 and 4
    assert list(viz.sources['mon.total_loss'].data['x']) == [2, 4]


def test_bokeh_html_file_is_rewritten_after_each_call(bokeh, net, train_iter,
                                                      valid_iter, tmp_path):
    filename = tmp_path / 'plots.html'
    sizes = []
    viz = BokehVisualizer(['mon.total_loss'], serve=False,
                          filename=str(filename))
    trainer = bs.Trainer(bs.training.SgdStepper(0.5), verbose=False)
    trainer.add_hook(MonitorLoss('valid', name='mon'))
    trainer.add_hook(viz)
    trainer.add_hook(Probe(lambda: sizes.append(filename.read_text())))
    trainer.add_hook(StopAfterEpoch(2))
    trainer.train(net, train_iter, valid=valid_iter)
    assert len(sizes) == 3
    html = sizes[-1]
    assert html.lstrip().lower().startswith('<!doctype html>')
    assert 'mon.total_loss' in html and 'Bokeh' in html
    last = trainer.logs['mon']['total_loss'][-1]
    assert repr(last) in html and repr(last) not in sizes[0]
    assert not (tmp_path / 'plots.html.tmp').exists()


def test_bokeh_server_on_a_free_localhost_port(bokeh, net, train_iter,
                                               valid_iter, capsys):
    viz = BokehVisualizer(['mon.total_loss'], port=0, name='viz')
    try:
        trainer, _ = train_with(net, train_iter, valid_iter, viz, epochs=1,
                                verbose=True)
        url = viz.url
        port = int(url.rsplit(':', 1)[1].strip('/'))
        assert url == 'http://localhost:{}/'.format(port) and port > 0
        assert 'viz >> live plots at {}'.format(url) in \
            capsys.readouterr().out
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
            page = response.read().decode()
        assert 'Bokeh' in page
        # the page opened a session; its document got the history ...
        assert len(viz._sessions) == 1
        doc, sources = viz._sessions[0]
        assert doc is not viz.document
        assert list(sources['mon.total_loss'].data['x']) == [0, 1]
        # ... and gets the next points from the server's thread
        logs = trainer.logs
        logs['mon']['total_loss'].append(0.25)
        viz(2, 6, net, trainer.stepper, logs)
        deadline = time.monotonic() + 10
        while len(sources['mon.total_loss'].data['x']) < 3 and \
                time.monotonic() < deadline:
            time.sleep(0.02)
        assert list(sources['mon.total_loss'].data['x']) == [0, 1, 2]
        assert list(sources['mon.total_loss'].data['y'])[-1] == 0.25
    finally:
        viz.close()
    assert viz.url is None
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=2)


def test_bokeh_server_port_in_use(bokeh, net):
    with socket.socket() as taken:
        taken.bind(('localhost', 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        viz = BokehVisualizer(['mon.total_loss'], port=port)
        with pytest.raises(OSError, match="BokehVisualizer 'BokehVisualizer'"
                                          ': the bokeh server could not '
                                          'start on localhost:{}'.format(
                                              port)):
            viz.start(net, None, False, {})
    assert viz.url is None


@pytest.mark.parametrize('kwargs, match', [
    ({'log_names': 'validation'}, 'log_names must be a list'),
    ({'log_names': []}, 'log_names must be a list'),
    ({'log_names': ['a.b'], 'port': -1}, 'port must be an integer'),
    ({'log_names': ['a.b'], 'port': 'http'}, 'port must be an integer'),
])
def test_bokeh_arguments_are_checked(bokeh, kwargs, match):
    with pytest.raises(ValueError, match='BokehVisualizer: ' + match):
        BokehVisualizer(**kwargs)


def test_bokeh_description_round_trip(bokeh, net):
    viz = BokehVisualizer(['validation.total_loss'], serve=False,
                          timescale='update', interval=10)
    description = bs.get_description(viz)
    assert description == {'@type': 'BokehVisualizer',
                           'log_names': ['validation.total_loss'],
                           'serve': False, 'timescale': 'update',
                           'interval': 10}
    again = bs.create_from_description(json.loads(json.dumps(description)))
    assert (again.log_names, again.serve, again.port, again.sources) == \
        (['validation.total_loss'], False, 5006, None)
    again.start(net, None, False, {})
    again(0, 10, net, None, {'validation': {'total_loss': [0.5]}})
    assert list(again.sources['validation.total_loss'].data['y']) == [0.5]
