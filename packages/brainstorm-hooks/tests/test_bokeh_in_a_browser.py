"""BokehVisualizer's pages in a real headless browser (Chromium, see
_browser.py): the standalone HTML file renders offline, and the live page
of the server grows while the network trains, with nothing reported on
the browser's console.

The test machines have no internet access, so a page that loads BokehJS
from a CDN stays blank here and reports the failed load: these tests see
it in the screenshot and on the console.

Needs bokeh (extra of brainstorm-hooks) and a Chromium
(``apt-get install chromium-headless-shell``); skipped without them, failed
with ``BRAINSTORM_REQUIRE_EXTRAS=1`` (.ci/run installs both).
"""
import importlib.util
import pathlib
import time

import pytest

import brainstorm as bs
from brainstorm.hooks import Hook
from brainstorm.testing.extras import import_extra
from brainstorm_hooks.integrations import BokehVisualizer
from brainstorm_hooks.monitors import MonitorLoss
from brainstorm_hooks.stoppers import StopAfterEpoch


def _load_helper():
    spec = importlib.util.spec_from_file_location(
        'brainstorm_hooks_tests_browser',
        pathlib.Path(__file__).with_name('_browser.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


browser_helper = _load_helper()

# Bokeh's first line colour (#1f77b4), that of every plotted line here
LINE = (31, 119, 180)



def shown_points(at_least):
    """JavaScript: the number of points of the page's plot once it has
    ``at_least`` of them (0 before, or while BokehJS is missing)."""
    return ('(() => {{ if (window.Bokeh === undefined) return 0; '
            'const d = Bokeh.documents[0]; if (!d) return 0; '
            'const s = Array.from(d._all_models.values()).filter('
            'm => m.type == "ColumnDataSource"); '
            'const n = s.length ? s[0].get_length() : 0; '
            'return n >= {} ? n : 0; }})()'.format(at_least))


@pytest.fixture
def browser(tmp_path):
    import_extra('bokeh', 'pip install brainstorm-hooks[bokeh]')
    import_extra('PIL', 'pip install pillow')
    binary = browser_helper.find_browser()
    browser = browser_helper.Browser(binary, tmp_path)
    yield browser
    browser.close()


def drawn_line(browser, minimum=200, timeout=30):
    """The screenshot, once the plotted line shows (``minimum`` pixels of
    its colour)."""
    deadline = time.monotonic() + timeout
    while True:
        shot = browser.screenshot()
        count = browser_helper.colour_count(shot, LINE)
        if count >= minimum or time.monotonic() > deadline:
            return shot, count
        browser.pump(0.2)


def test_standalone_page_renders_offline(browser, net, train_iter,
                                         valid_iter, tmp_path):
    page = tmp_path / 'plots.html'
    trainer = bs.Trainer(bs.training.SgdStepper(0.5), verbose=False)
    trainer.add_hook(MonitorLoss('valid', name='mon'))
    trainer.add_hook(BokehVisualizer(['mon.total_loss'], serve=False,
                                     filename=str(page)))
    trainer.add_hook(StopAfterEpoch(3))
    trainer.train(net, train_iter, valid=valid_iter)
    html = page.read_text()
    assert 'cdn.bokeh.org/bokeh/release' not in html   # BokehJS inlined

    browser.open(browser_helper.file_url(page))
    points = browser.wait_for(
        shown_points(1),
        'BokehJS to load the plot (is the page self-contained?)')
    assert points == 4                      # epochs 0 to 3
    shot, count = drawn_line(browser)
    shot.save(str(tmp_path / 'standalone.png'))
    assert shot.size == (1000, 900)
    assert count >= 200, 'the line is not drawn ({} pixels of its ' \
        'colour; screenshot in {})'.format(count, tmp_path)
    assert browser_helper.distinct_colours(shot) > 20
    assert browser.console_errors() == []


class Watch(Hook):
    """Opens the visualizer's live page in the browser after epoch 1, and
    after every epoch waits until the page shows that epoch's point."""

    def __init__(self, browser, viz):
        super().__init__('watch')
        self.browser, self.viz, self.seen = browser, viz, []

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if epoch_nr == 1:
            self.browser.open(self.viz.url)
        if epoch_nr >= 1:
            self.seen.append(self.browser.wait_for(
                shown_points(epoch_nr + 1),
                'the live page to show the point of epoch {}'.format(
                    epoch_nr)))


def test_live_page_grows_during_training(browser, net, train_iter,
                                         valid_iter, tmp_path):
    viz = BokehVisualizer(['mon.total_loss'], port=0)
    trainer = bs.Trainer(bs.training.SgdStepper(0.5), verbose=False)
    trainer.add_hook(MonitorLoss('valid', name='mon'))
    trainer.add_hook(viz)
    watch = Watch(browser, viz)
    trainer.add_hook(watch)
    trainer.add_hook(StopAfterEpoch(4))
    try:
        trainer.train(net, train_iter, valid=valid_iter)
        # the page had epochs 0 and 1 when it opened, then got one new
        # point after each epoch, while the training went on
        assert watch.seen == [2, 3, 4, 5]
        shot, count = drawn_line(browser)
        shot.save(str(tmp_path / 'live.png'))
        assert count >= 200, 'the line is not drawn ({} pixels of its ' \
            'colour; screenshot in {})'.format(count, tmp_path)
        assert browser_helper.distinct_colours(shot) > 20
        assert browser.console_errors() == []
    finally:
        viz.close()


def test_a_page_that_needs_the_internet_is_caught(browser, tmp_path):
    """The check above sees a page that loads BokehJS from elsewhere: the
    load fails (no internet here, or a refused local port), the console
    says so and nothing is drawn."""
    page = tmp_path / 'remote.html'
    page.write_text('<!DOCTYPE html><html><head><script src="http://'
                    '127.0.0.1:9/bokeh.min.js"></script></head><body>'
                    '<script>Bokeh.embed.embed_items([])</script></body>'
                    '</html>')
    browser.open(browser_helper.file_url(page))
    browser.pump(1.0)
    with pytest.raises(browser_helper.BrowserError, match='waited 2 s'):
        browser.wait_for('window.Bokeh !== undefined', 'BokehJS',
                         timeout=2)
    errors = browser.console_errors()
    assert any('bokeh.min.js' in e or 'ERR_' in e for e in errors), errors
    assert any('Bokeh is not defined' in e for e in errors), errors
    shot = browser.screenshot()
    assert browser_helper.colour_count(shot, LINE) == 0
