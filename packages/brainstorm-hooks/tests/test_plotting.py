"""Training curves drawn with matplotlib (brainstorm_hooks.plotting, the
``plot`` extra): the PNG has the expected size and real content, the
curves are the per-epoch entries of the logs, and a missing matplotlib
names the extra.

matplotlib (and Pillow, which it brings, to read the PNG back) are skipped
where missing, failed with ``BRAINSTORM_REQUIRE_EXTRAS=1``.
"""
import sys

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.testing.extras import import_extra
from brainstorm_hooks.logs import save_logs
from brainstorm_hooks.plotting import epoch_curves, plot_logs
from brainstorm_hooks.savers import SaveLogs

LOGS = {'rolling_training': {'total_loss': [1.0, 0.6, 0.4]},
        'validation': {'total_loss': [2.3, 1.1, 0.7, 0.5],
                       'Accuracy': [0.1, 0.5, 0.7, 0.8]},
        # logged after updates: not a curve over epochs
        'per_update': {'total_loss': [1, 2, 3, 4, 5, 6, 7]},
        'notes': {'text': ['a', 'b', 'c']}}


@pytest.fixture
def pil():
    import_extra('matplotlib', 'pip install brainstorm-hooks[plot]')
    return import_extra('PIL.Image', 'pip install pillow')


def test_epoch_curves_pair_training_and_validation():
    curves = epoch_curves(LOGS)
    assert list(curves) == ['total_loss', 'Accuracy']
    assert list(curves['total_loss']) == ['rolling_training', 'validation']
    # the training loss from epoch 1, the validation from epoch 0
    assert curves['total_loss']['rolling_training'] == ([1, 2, 3],
                                                        [1.0, 0.6, 0.4])
    assert curves['total_loss']['validation'][0] == [0, 1, 2, 3]
    assert curves['Accuracy']['validation'][1] == [0.1, 0.5, 0.7, 0.8]
    diverged = epoch_curves({'rolling_training': {
        'total_loss': [1.0, float('inf'), None]}})
    assert np.isnan(diverged['total_loss']['rolling_training'][1][1:]).all()


def png_of(pil, path):
    image = pil.open(str(path))
    assert image.format == 'PNG'
    return image.convert('RGB')


def test_plot_writes_a_png_with_the_curves(pil, tmp_path):
    filename = tmp_path / 'curves.png'
    plot_logs(LOGS, filename, dpi=100)
    image = png_of(pil, filename)
    # two panels side by side: 2 x 4.8 by 3.4 + 0.5 inches at 100 dpi
    assert image.size == (960, 390)
    assert filename.stat().st_size > 10_000
    colours = image.getcolors(maxcolors=2 ** 24)
    assert len(colours) > 50                       # not blank
    pixels = np.asarray(image, dtype=int)

    def count(rgb):
        return int((np.abs(pixels - rgb).max(axis=-1) < 30).sum())
    # the training curve (C0, blue) and the validation curves (C1, orange)
    assert count((31, 119, 180)) > 300
    assert count((255, 127, 14)) > 300
    # mostly white background, but far from all of it
    assert 0.5 < count((255, 255, 255)) / pixels[..., 0].size < 0.97


def test_plot_reads_a_logs_file(pil, tmp_path):
    logs_file = tmp_path / 'logs.h5'
    save_logs(str(logs_file), LOGS)
    curves = SaveLogs.plot(str(logs_file), tmp_path / 'from_file.png')
    assert list(curves) == ['total_loss', 'Accuracy']
    image = png_of(pil, tmp_path / 'from_file.png')
    assert len(image.getcolors(maxcolors=2 ** 24)) > 50
    # a single quantity: one panel
    plot_logs({'rolling_training': {'total_loss': [1.0, 0.5]}},
              tmp_path / 'one.png', dpi=50)
    assert png_of(pil, tmp_path / 'one.png').size == (240, 195)


def test_plot_of_a_trainer(pil, tmp_path, net, train_iter, valid_iter):
    from brainstorm_hooks.monitors import MonitorScores
    from brainstorm_hooks.scorers import Accuracy
    from brainstorm_hooks.stoppers import StopAfterEpoch
    trainer = bs.Trainer(bs.training.SgdStepper(0.5), verbose=False)
    trainer.add_hook(MonitorScores('valid', [Accuracy()], name='validation'))
    trainer.add_hook(SaveLogs(str(tmp_path / 'logs.h5'), verbose=False))
    trainer.add_hook(StopAfterEpoch(3))
    trainer.train(net, train_iter, valid=valid_iter)
    curves = plot_logs(str(tmp_path / 'logs.h5'), tmp_path / 'run.png')
    assert curves['total_loss']['validation'][1] == pytest.approx(
        trainer.logs['validation']['total_loss'])
    assert curves['Accuracy']['validation'][0] == [0, 1, 2, 3]
    assert png_of(pil, tmp_path / 'run.png').size[0] > 500


def test_logs_without_curves_are_an_error(pil, tmp_path):
    with pytest.raises(ValueError, match='hold no curve to plot: no entry '
                                         'has one value per epoch'):
        plot_logs({'per_update': {'total_loss': [1.0, 2.0]}},
                  tmp_path / 'none.png')
    assert not (tmp_path / 'none.png').exists()


def test_missing_matplotlib_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, 'matplotlib', None)   # import fails
    with pytest.raises(ImportError, match=r'needs matplotlib, which is not '
                                          r'installed: pip install '
                                          r'brainstorm-hooks\[plot\]'):
        plot_logs(LOGS, tmp_path / 'curves.png')
