"""The ``brainstorm`` command (brainstorm.cli): train, info, evaluate,
plugins and prepare, with their exit codes and messages."""
import gzip
import importlib.metadata
import io
import json
import os
import pathlib
import pickle
import re
import struct
import subprocess
import sys
import tarfile
import zipfile

import h5py
import numpy as np
import pytest

import brainstorm as bs
import brainstorm.cli as cli
from brainstorm.data_iterators import Minibatches
from brainstorm.plugins import registry
from brainstorm_data import load_digits, save_as_hdf5

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / 'examples' / \
    'mnist_pi.py'


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """A small digits data file and the architecture of a small MLP."""
    folder = tmp_path_factory.mktemp('cli')
    data = str(folder / 'digits.hdf5')
    save_as_hdf5(load_digits(split=(300, 100, 100), flatten=True), data)
    inp, fc = bs.tools.get_in_out_layers('classification', 64, 10)
    net = bs.Network.from_layer(inp >> bs.layers.FullyConnected(
        30, name='Hid') >> fc)
    architecture = str(folder / 'mlp.json')
    with open(architecture, 'w') as f:
        json.dump(net.architecture, f)
    return {'data': data, 'architecture': architecture, 'folder': folder}


@pytest.fixture
def trained(files, tmp_path, capsys):
    """A network trained for one epoch by the command: (exit status, the
    network file, stdout, stderr)."""
    output = str(tmp_path / 'best.hdf5')
    code = cli.main(['train', '--architecture', files['architecture'],
                     '--data', files['data'], '--epochs', '1',
                     '--batch-size', '10', '--learning-rate', '0.5',
                     '--init-std', '0.1', '-o', output])
    return (code, output) + capsys.readouterr()


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# -- help and usage errors ----------------------------------------------------
@pytest.mark.parametrize('argv', [
    ['--help'], ['train', '--help'], ['info', '--help'],
    ['evaluate', '--help'], ['plugins', '--help'], ['prepare', '--help'],
    ['plot', '--help']])
def test_help_of_every_command(argv, capsys):
    code, out, err = run(argv, capsys)
    assert code == 0 and err == ''
    assert out.startswith('usage: brainstorm')
    if argv[0] == 'train':
        for option in ('--spec', '--architecture', '--data', '--epochs',
                       '--batch-size', '--stepper', '--learning-rate',
                       '--handler', '--output'):
            assert option in out


def test_version(capsys):
    code, out, _ = run(['--version'], capsys)
    assert code == 0
    assert out.strip() == 'brainstorm {}'.format(bs.__version__)


@pytest.mark.parametrize('argv, message', [
    ([], 'the following arguments are required: COMMAND'),
    (['fly'], "invalid choice: 'fly'"),
    (['train', '--stepper', 'foo'], "argument --stepper: invalid choice: "
                                    "'foo'"),
    (['train', '--epochs', '0'], 'argument --epochs: expected a positive '
                                 'integer, got 0'),
    (['train', '--spec', 'F10', '--architecture', 'a.json'],
     'not allowed with argument'),
    (['train', '--stepper', 'sgd', '--momentum', '0.5'],
     '--momentum: the sgd stepper (SgdStepper) has no momentum'),
    (['train', '--task', 'regression'], '--task regression: the mnist_pi '
                                        'network is a classifier'),
    (['prepare', 'mnist', 'x.gz'], 'the following arguments are required: '
                                   '-o/--output'),
    (['evaluate', 'net.hdf5'], 'required: DATA'),
])
def test_usage_errors_exit_with_2(argv, message, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2
    assert message in err and out == ''


def test_steppers_come_from_the_registry(capsys):
    parser = cli.build_parser()
    assert {'sgd', 'momentum', 'nesterov', 'rmsprop', 'adam'} <= set(
        cli._stepper_names())
    args = parser.parse_args(['train', '--stepper', 'nesterov',
                              '--learning-rate', '0.3', '--momentum', '0.5'])
    stepper = cli._make_stepper(parser, args)
    assert type(stepper).__name__ == 'NesterovStepper'
    assert (stepper.learning_rate, stepper.momentum) == (0.3, 0.5)
    args = parser.parse_args(['train', '--stepper', 'adam'])
    stepper = cli._make_stepper(parser, args)
    assert type(stepper).__name__ == 'AdamStepper'
    assert stepper.learning_rate == 0.001         # the stepper's own default


# -- train --------------------------------------------------------------------
def test_train_an_architecture_on_a_data_file(files, trained, capsys):
    code, output, out, err = trained
    assert code == 0, err
    assert 'Data: {}'.format(files['data']) in out
    # validation accuracy before training (epoch 0) and after epoch 1
    assert len(re.findall(r'^ +[01] .* 0\.\d{4} ', out, re.M)) == 2
    assert 'Best validation accuracy:' in out
    accuracy = float(out.split('Test accuracy of the best network ({}): '
                               .format(output))[1].split()[0])
    net = bs.Network.from_hdf5(output)
    assert net.buffer['Hid.parameters.W'].shape == (64, 30)
    with h5py.File(files['data'], 'r') as f:
        test = {k: v[()] for k, v in f['normalized_split']['test'].items()}
    result = bs.tools.evaluate(net, Minibatches(100, **test),
                               [bs.scorers.Accuracy()])
    assert result['Accuracy'] == pytest.approx(accuracy, abs=1e-4)
    assert result['Accuracy'] > 0.5            # one epoch already learns


def test_train_from_a_spec(files, tmp_path, capsys):
    output = str(tmp_path / 'spec.hdf5')
    code, out, err = run(['train', '--spec', 'F20', '--data', files['data'],
                          '--epochs', '1', '--batch-size', '20',
                          '--stepper', 'sgd', '-o', output], capsys)
    assert code == 0, err
    net = bs.Network.from_hdf5(output)
    assert net.buffer['FullyConnected.parameters.W'].shape == (64, 20)
    assert net.buffer['Output_projection.parameters.W'].shape == (20, 10)


def test_train_with_another_handler(files, tmp_path, capsys):
    output = str(tmp_path / 'debug.hdf5')
    code, out, err = run(['train', '--architecture', files['architecture'],
                          '--data', files['data'], '--epochs', '1',
                          '--handler', 'DebugHandler', '-o', output], capsys)
    assert code == 0, err
    assert os.path.exists(output)


ROW = re.compile(r'^ +(\d+) +(-|\d+\.\d{4}) +(\d+\.\d{4}) +(\d+\.\d{4}) '
                 r'+(-|\d+\.\d{2})( +saved)?$', re.M)


def test_train_echoes_its_settings_and_a_line_per_epoch(files, tmp_path,
                                                        capsys):
    from brainstorm_hooks.logs import load_logs
    output, logs = str(tmp_path / 'best.hdf5'), str(tmp_path / 'logs.h5')
    code, out, err = run(['train', '--spec', 'F8', '--data', files['data'],
                          '--epochs', '3', '--batch-size', '20',
                          '--learning-rate', '0.5', '--momentum', '0.8',
                          '--no-progress', '-o', output, '--logs', logs],
                         capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:3] == [
        'Data: {}'.format(files['data']),
        'Split: 300 training, 100 validation, 100 test examples (the '
        'splits stored in the file under normalized_split/)',
        "Network: --spec 'F8', 5 layers, 610 parameters"]
    assert "  FullyConnected     FullyConnected(activation='rel', size=8): " \
        '520 parameters' in lines
    assert 'Stepper: MomentumStepper(learning_rate=0.5, momentum=0.8, '\
        'scale_learning_rate=True); effective step size (1 - momentum) x '\
        'learning_rate = (1 - 0.8) x 0.5 = 0.1' in lines
    assert 'Training: 3 epochs of 15 updates (batches of 20); after every '\
        'epoch the network of highest validation accuracy is saved to {}, '\
        'the logs to {} (brainstorm plot {} draws them)'.format(
            output, logs, logs) in lines
    header = lines.index('epoch  training loss  validation loss  '
                         'validation Accuracy    time (s)')
    rows = ROW.findall(out)
    assert [int(r[0]) for r in rows] == [0, 1, 2, 3]
    assert out.index(lines[header]) < out.index(rows[0][2])
    # the logs hold what the table shows, with 4 decimals
    saved = load_logs(logs)
    assert [float(r[1]) for r in rows[1:]] == pytest.approx(
        saved['rolling_training']['total_loss'], abs=6e-5)
    assert [float(r[2]) for r in rows] == pytest.approx(
        saved['validation']['total_loss'], abs=6e-5)
    assert [float(r[3]) for r in rows] == pytest.approx(
        saved['validation']['Accuracy'], abs=6e-5)
    assert rows[0][1] == '-' and rows[0][4] == '-'
    assert all(float(r[4]) >= 0 for r in rows[1:])
    best = int(out.split('Best validation accuracy: ')[1].split(
        '(epoch ')[1].split(')')[0])
    assert rows[best][5].strip() == 'saved'
    assert re.search(r'Best validation accuracy: \d\.\d{4} \(epoch', out)


def test_the_embedded_digits_say_how_they_are_split(tmp_path, monkeypatch,
                                                    capsys):
    monkeypatch.setenv('BRAINSTORM_DATA_DIR', str(tmp_path / 'nothing'))
    cli.load_default_data()
    assert capsys.readouterr().out.splitlines()[1] == (
        "Split: 1,297 training, 250 validation, 250 test examples (the fixed "
        "split of brainstorm-data's load_digits(): its 1797 images shuffled "
        '(stratified by class, seed 0), then cut in three)')


def test_help_explains_the_momentum_step_size(capsys):
    code, out, _ = run(['train', '--help'], capsys)
    assert code == 0
    text = ' '.join(out.split())
    assert 'each step adds (1 - momentum) x learning_rate x the gradient' \
        in text
    assert '0.5 with momentum 0.9 is a step size of 0.05' in text
    assert '--logs FILE' in out


def test_plot_draws_the_curves_of_train_logs(files, tmp_path, capsys):
    from brainstorm.testing.extras import import_extra
    import_extra('matplotlib', 'pip install brainstorm-hooks[plot]')
    image_module = import_extra('PIL.Image', 'pip install pillow')
    logs = str(tmp_path / 'logs.h5')
    code, out, err = run(['train', '--spec', 'F8', '--data', files['data'],
                          '--epochs', '2', '--no-progress', '-o',
                          str(tmp_path / 'best.hdf5'), '--logs', logs],
                         capsys)
    assert code == 0, err
    png = tmp_path / 'curves.png'
    code, out, err = run(['plot', logs, '-o', str(png)], capsys)
    assert code == 0, err
    assert out == 'Wrote {}: loss (training, validation); Accuracy ' \
        '(validation)\n'.format(png)
    assert png.stat().st_size > 10_000
    image = image_module.open(str(png))
    assert image.format == 'PNG' and image.size == (960, 390)
    assert len(image.convert('RGB').getcolors(maxcolors=2 ** 24)) > 50
    # without -o: beside the logs, named after them
    code, out, err = run(['plot', logs], capsys)
    assert code == 0, err
    assert (tmp_path / 'logs.png').stat().st_size > 10_000


def test_plot_errors(files, tmp_path, capsys, monkeypatch):
    code, out, err = run(['plot', str(tmp_path / 'none.h5')], capsys)
    assert (code, out) == (1, '')
    assert err == 'brainstorm plot: error: no such logs file: {} ' \
        '(brainstorm train --logs FILE writes one)\n'.format(
            tmp_path / 'none.h5')
    code, out, err = run(['plot', files['data']], capsys)
    assert code == 1
    assert err.startswith('brainstorm plot: error: {}'.format(files['data']))
    assert 'logs' in err
    from brainstorm_hooks.logs import save_logs
    logs = str(tmp_path / 'logs.h5')
    save_logs(logs, {'rolling_training': {'total_loss': [0.5, 0.4]}})
    monkeypatch.setitem(sys.modules, 'matplotlib', None)   # not installed
    code, out, err = run(['plot', logs], capsys)
    assert code == 1
    assert err == ('brainstorm plot: error: plotting the training curves '
                   'needs matplotlib, which is not installed: pip install '
                   'brainstorm-hooks[plot]\n')


def test_train_says_which_handler_runs(files, tmp_path, capsys):
    # without --handler: the fastest CPU handler installed (NumbaHandler
    # where brainstorm-numba is installed); --handler NumpyHandler picks
    # the plain numpy one
    best = bs.handlers.best_cpu_handler()
    for extra, expected in [([], repr(best)),
                            (['--handler', 'NumpyHandler'],
                             'NumpyHandler(float32)')]:
        code, out, err = run(['train', '--spec', 'F8', '--data',
                              files['data'], '--epochs', '1',
                              '--no-progress', '-o',
                              str(tmp_path / 'h.hdf5')] + extra, capsys)
        assert code == 0, err
        lines = [line for line in err.splitlines()
                 if line.startswith('Handler: ')]
        assert lines == ['Handler: ' + expected]


def test_train_failures_exit_with_1(files, tmp_path, capsys):
    code, out, err = run(['train', '--handler', 'NoSuchHandler', '--data',
                          files['data'], '--epochs', '1', '-o',
                          str(tmp_path / 'x.hdf5')], capsys)
    assert code == 1
    assert err.startswith('brainstorm train: error: ')
    assert "'NoSuchHandler'" in err
    code, _, err = run(['train', '--data', str(tmp_path / 'missing.hdf5')],
                       capsys)
    assert code == 1 and 'cannot read the data file' in err
    partial = str(tmp_path / 'partial.hdf5')
    with h5py.File(partial, 'w') as f:
        f['normalized_split/training/default'] = np.zeros((1, 4, 64))
        f['normalized_split/training/targets'] = np.zeros((1, 4, 1))
    code, _, err = run(['train', '--data', partial], capsys)
    assert code == 1
    assert "has no 'validation' in 'normalized_split' (it has: training)" \
        in err
    code, _, err = run(['train', '--architecture',
                        str(tmp_path / 'none.json')], capsys)
    assert code == 1 and 'cannot read the architecture file' in err


def data_file(path, change=None):
    """The digits of the ``files`` fixture, as arrays changed by
    ``change(splits)``, written to ``path``."""
    splits = load_digits(split=(300, 100, 100), flatten=True)
    if change is not None:
        change(splits)
    save_as_hdf5(splits, str(path))
    return str(path)


def set_entry(split, item, index, value):
    def change(splits):
        splits[split][item][index] = value
    return change


def stale_file(tmp_path):
    path = tmp_path / 'best.hdf5'
    path.write_bytes(b'from an earlier run')
    return str(path)


@pytest.mark.filterwarnings('ignore:overflow:RuntimeWarning',
                            'ignore:invalid value:RuntimeWarning')
def test_diverged_training_saves_nothing_and_exits_with_1(files, tmp_path,
                                                          capsys):
    output = stale_file(tmp_path)
    code, out, err = run(['train', '--spec', 'F20', '--data', files['data'],
                          '--epochs', '2', '--stepper', 'sgd',
                          '--learning-rate', '1e30', '--no-progress', '-o',
                          output], capsys)
    assert code == 1
    handler = 'Handler: {!r}\n'.format(bs.handlers.best_cpu_handler())
    assert err == handler + (
        'brainstorm train: error: NaN or inf found in the parameters '
        'FullyConnected.parameters.W (NaN at index (0, 0)) at epoch 1, '
        'update 3: the training diverged; no network was saved ({} is left '
        'from an earlier run)\n'.format(output))
    # the untrained network of epoch 0 is not the best one, and the file
    # of the earlier run is neither evaluated nor touched
    assert 'Best validation' not in out and 'Test accuracy' not in out
    assert pathlib.Path(output).read_bytes() == b'from an earlier run'


def test_best_network_is_a_trained_one(files, tmp_path, capsys):
    code, out, err = run(['train', '--spec', 'F20', '--data', files['data'],
                          '--epochs', '2', '--no-progress', '-o',
                          str(tmp_path / 'b.hdf5')], capsys)
    assert code == 0, err
    best_epoch = int(out.split('Best validation accuracy: ')[1].split(
        '(epoch ')[1].split(')')[0])
    assert best_epoch in (1, 2)


def test_empty_split_is_an_error_before_training(tmp_path, capsys):
    def empty_validation(splits):
        splits['validation'] = {k: v[:, :0]
                                for k, v in splits['validation'].items()}
    data = data_file(tmp_path / 'empty.hdf5', empty_validation)
    output = stale_file(tmp_path)
    code, out, err = run(['train', '--spec', 'F20', '--data', data,
                          '--epochs', '1', '--no-progress', '-o', output],
                         capsys)
    assert code == 1
    assert err == (
        "brainstorm train: error: the validation data: data item 'default' "
        'has shape (1, 0, 64): it holds no sequences (B = 0) (T and B must '
        'be at least 1; is the data set or split empty?)\n')
    assert 'epoch' not in out and 'Test accuracy' not in out
    assert pathlib.Path(output).read_bytes() == b'from an earlier run'


@pytest.mark.parametrize('split, index, value, message', [
    ('training', (0, 5, 0), 255,
     'the largest label is 255 (the training data, index (0, 5, 0)), but '
     'the training data has no example of classes 10 to 254: is it a stray '
     'label? Fix the labels, or give --num-classes to train 256 classes '
     'anyway'),
    ('test', (0, 7, 0), 10,
     'the largest label is 10 (the test data, index (0, 7, 0)), but the '
     'training data has no example of class 10: is it a stray label? Fix '
     'the labels, or give --num-classes to train 11 classes anyway'),
    ('validation', (0, 7, 0), -1,
     'the validation data holds the label -1.0 at index (0, 7, 0) (targets '
     'of shape (1, 100, 1)); labels must be class indices: integers from 0 '
     'up'),
    ('test', (0, 2, 0), 2.5,
     'the test data holds the label 2.5 at index (0, 2, 0) (targets of '
     'shape (1, 100, 1)); labels must be class indices: integers from 0 '
     'up'),
    ('test', (0, 9, 0), np.nan,
     'the test data holds the label NaN at index (0, 9, 0) (targets of '
     'shape (1, 100, 1)); labels must be class indices: integers from 0 '
     'up')])
def test_bad_labels_are_found_before_training(tmp_path, capsys, split,
                                              index, value, message):
    data = data_file(tmp_path / 'labels.hdf5',
                     set_entry(split, 'targets', index, value))
    code, out, err = run(['train', '--spec', 'F20', '--data', data,
                          '--epochs', '1', '--no-progress', '-o',
                          str(tmp_path / 'x.hdf5')], capsys)
    assert code == 1
    assert err == 'brainstorm train: error: {}\n'.format(message)
    assert 'epoch' not in out


def test_num_classes_sets_the_classes_and_the_valid_labels(tmp_path,
                                                           capsys):
    data = data_file(tmp_path / 'labels.hdf5',
                     set_entry('test', 'targets', (0, 7, 0), 11))
    output = str(tmp_path / 'x.hdf5')
    code, out, err = run(['train', '--spec', 'F20', '--data', data,
                          '--epochs', '1', '--no-progress', '-o', output,
                          '--num-classes', '12'], capsys)
    assert code == 0, err
    net = bs.Network.from_hdf5(output)
    assert net.buffer['Output_projection.parameters.W'].shape == (20, 12)
    code, out, err = run(['train', '--spec', 'F20', '--data', data,
                          '--epochs', '1', '--no-progress', '-o', output,
                          '--num-classes', '11'], capsys)
    assert code == 1
    assert err == (
        'brainstorm train: error: the test data holds the label 11.0 at '
        'index (0, 7, 0) (targets of shape (1, 100, 1)); labels must be '
        'class indices: integers from 0 to 10 (--num-classes 11)\n')
    code, _, err = run(['train', '--spec', 'F20', '--task', 'regression',
                        '--num-classes', '3'], capsys)
    assert code == 2 and '--num-classes: only for --task classification' \
        in err


def test_architecture_classes_check_the_labels_of_every_split(files,
                                                              tmp_path,
                                                              capsys):
    data = data_file(tmp_path / 'labels.hdf5',
                     set_entry('test', 'targets', (0, 7, 0), 12))
    code, out, err = run(['train', '--architecture', files['architecture'],
                          '--data', data, '--epochs', '1', '--no-progress',
                          '-o', str(tmp_path / 'x.hdf5')], capsys)
    assert code == 1
    assert err == (
        "brainstorm train: error: the test data: data item 'targets' holds "
        "12.0 at index (0, 7, 0) (of shape (1, 100, 1)), but SoftmaxCE "
        "layer 'Output' takes class indices: integers from 0 to 9 for its "
        "10 classes\n")
    assert 'epoch' not in out


def test_nan_in_a_data_file_is_found_before_training(tmp_path, capsys):
    data = data_file(tmp_path / 'nan.hdf5',
                     set_entry('test', 'default', (0, 42, 3), np.inf))
    code, out, err = run(['train', '--spec', 'F20', '--data', data,
                          '--epochs', '1', '--no-progress', '-o',
                          str(tmp_path / 'x.hdf5')], capsys)
    assert code == 1
    assert err == (
        "brainstorm train: error: the test data: data item 'default' holds "
        'inf at index (0, 42, 3) (of shape (1, 100, 64)); data must be '
        'finite: remove or repair that sequence (B index 42)\n')
    assert 'epoch' not in out


def test_missing_plugin_gives_a_clear_error(files, tmp_path, capsys,
                                            monkeypatch):
    original = registry.get

    def without_hooks(category, name, namespace=None):
        if category == 'hooks':
            raise bs.MissingPluginError(
                'brainstorm.hooks has no {!r}: it is provided by '
                'brainstorm-hooks: pip install brainstorm-hooks'.format(name))
        return original(category, name, namespace)
    monkeypatch.setattr(registry, 'get', without_hooks)
    code, _, err = run(['train', '--architecture', files['architecture'],
                        '--data', files['data'], '--epochs', '1', '-o',
                        str(tmp_path / 'x.hdf5')], capsys)
    assert code == 1
    assert 'pip install brainstorm-hooks' in err


def test_no_arguments_run_the_main_job_like_the_example(tmp_path,
                                                        monkeypatch, capsys):
    monkeypatch.setenv('BRAINSTORM_DATA_DIR', str(tmp_path / 'nothing'))
    monkeypatch.setitem(cli.DIGITS_DEFAULTS, 'epochs', 1)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(['train'], capsys)
    assert code == 0, err
    assert 'embedded' in out
    assert 'Test accuracy of the best network (mnist_pi_best.hdf5)' in out
    by_command = bs.Network.from_hdf5('mnist_pi_best.hdf5')
    assert by_command.buffer['Hid1.parameters.W'].shape == (64, 1200)

    import importlib.util
    spec = importlib.util.spec_from_file_location('mnist_pi_example',
                                                  EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    example.main(['--epochs', '1', '--output', 'example.hdf5'])
    by_example = bs.Network.from_hdf5('example.hdf5')
    np.testing.assert_array_equal(by_command.get('parameters'),
                                  by_example.get('parameters'))


# -- info and evaluate --------------------------------------------------------
def test_info_prints_the_network(trained, capsys):
    output = trained[1]
    code, out, err = run(['info', output], capsys)
    assert code == 0, err
    net = bs.Network.from_hdf5(output)
    assert out == 'File: {}\n{}\n'.format(output,
                                          bs.tools.get_network_info(net))
    assert 'Hid' in out and '2,260' in out     # 64*30+30 + 30*10+10


def test_evaluate_scores_a_saved_network(files, trained, capsys):
    output = trained[1]
    code, out, err = run(['evaluate', output, files['data'], '--split',
                          'validation'], capsys)
    assert code == 0, err
    net = bs.Network.from_hdf5(output)
    with h5py.File(files['data'], 'r') as f:
        valid = {k: v[()] for k, v in
                 f['normalized_split']['validation'].items()}
    expected = bs.tools.evaluate(net, Minibatches(100, **valid),
                                 [bs.scorers.Accuracy()])
    assert 'Accuracy: {:.4f}'.format(expected['Accuracy']) in out
    assert 'total_loss: {:.4f}'.format(expected['total_loss']) in out


def test_evaluate_failures(files, trained, tmp_path, capsys):
    output = trained[1]
    code, _, err = run(['evaluate', str(tmp_path / 'none.hdf5'),
                        files['data']], capsys)
    assert code == 1 and 'no such network file' in err
    code, _, err = run(['evaluate', output, files['data'], '--scorer',
                        'NoScorer'], capsys)
    assert code == 1 and "brainstorm.scorers has no 'NoScorer'" in err
    other = str(tmp_path / 'other.hdf5')
    with h5py.File(other, 'w') as f:
        f['normalized_split/test/inputs'] = np.zeros((1, 3, 64))
    code, _, err = run(['evaluate', output, other], capsys)
    assert code == 1
    assert "the network's inputs 'default', 'targets' are not in the test " \
           "data (it has: inputs)" in err


# -- plugins ------------------------------------------------------------------
def test_plugins_lists_distributions_versions_and_contents(capsys):
    code, out, err = run(['plugins'], capsys)
    assert code == 0, err
    lines = out.splitlines()
    for dist in ('brainstorm-core', 'brainstorm-layers', 'brainstorm-hooks',
                 'brainstorm-data'):
        assert '{} {}'.format(dist, importlib.metadata.version(dist)) in lines
    block = out.split('brainstorm-layers ')[1].split('\nbrainstorm')[0]
    assert 'FullyConnected' in block and 'Gaussian' in block
    assert '  steppers: AdamStepper, MomentumStepper' in out
    assert ('  data iterators: AddGaussianNoise, AddSaltNPepper, Flip, '
            'Minibatches, MultiHot, OneHot, Online, Pad, RandomCrop, '
            'Undivided') in out


def test_plugins_reports_a_plugin_that_failed_to_load(monkeypatch, capsys):
    entry_points = importlib.metadata.entry_points

    def with_broken(**kwargs):
        found = list(entry_points(**kwargs))
        if kwargs.get('group') == 'brainstorm':
            found.append(importlib.metadata.EntryPoint(
                name='broken-plugin', value='no_such_module_for_brainstorm',
                group='brainstorm'))
        return found
    monkeypatch.setattr(importlib.metadata, 'entry_points', with_broken)
    registry.reset()
    try:
        code, out, err = run(['plugins'], capsys)
    finally:
        monkeypatch.undo()
        registry.reset()
    assert code == 1
    assert 'Failed to load:' in out
    assert "broken-plugin" in out.split('Failed to load:')[1]
    assert "ModuleNotFoundError: No module named " \
           "'no_such_module_for_brainstorm'" in out
    assert 'brainstorm-layers' in out            # the others still listed


# -- prepare ------------------------------------------------------------------
def write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b''.join(
        struct.pack('>I', d) for d in array.shape)
    with gzip.open(str(path), 'wb') as f:
        f.write(header + array.astype(np.uint8).tobytes())
    return str(path)


@pytest.fixture
def mnist_folder(tmp_path):
    rnd = np.random.RandomState(0)
    folder = tmp_path / 'mnist'
    folder.mkdir()
    names = {'train-images-idx3-ubyte.gz': rnd.randint(0, 256, (25, 28, 28)),
             'train-labels-idx1-ubyte.gz': rnd.randint(0, 10, 25),
             't10k-images-idx3-ubyte.gz': rnd.randint(0, 256, (7, 28, 28)),
             't10k-labels-idx1-ubyte.gz': rnd.randint(0, 10, 7)}
    for name, array in names.items():
        write_idx(folder / name, array)
    return folder, names


@pytest.mark.parametrize('as_folder', [False, True])
def test_prepare_mnist(mnist_folder, tmp_path, capsys, as_folder):
    folder, arrays = mnist_folder
    paths = [str(folder)] if as_folder else \
        [str(folder / n) for n in reversed(sorted(arrays))]
    output = str(tmp_path / 'MNIST.hdf5')
    code, out, err = run(['prepare', 'mnist'] + paths +
                         ['-o', output, '--validation-size', '5'], capsys)
    assert code == 0, err
    assert 'Wrote {}'.format(output) in out
    with h5py.File(output, 'r') as f:
        group = f['normalized_split']
        assert group['training/default'].shape == (1, 20, 28, 28, 1)
        assert group['validation/default'].shape == (1, 5, 28, 28, 1)
        assert group['test/targets'].shape == (1, 7, 1)
        np.testing.assert_array_equal(
            group['test/targets'][0, :, 0],
            arrays['t10k-labels-idx1-ubyte.gz'])
        np.testing.assert_allclose(
            group['validation/default'][0, ..., 0],
            arrays['train-images-idx3-ubyte.gz'][20:] / 255.0, rtol=1e-6)


def test_prepare_errors(mnist_folder, tmp_path, capsys, monkeypatch):
    folder, arrays = mnist_folder
    output = str(tmp_path / 'out.hdf5')
    code, _, err = run(['prepare', 'mnist', str(folder / 'nothing.gz'), '-o',
                        output], capsys)
    assert code == 1 and 'no such file' in err
    two = [str(folder / n) for n in sorted(arrays)[:2]]
    code, _, err = run(['prepare', 'mnist'] + two + ['-o', output], capsys)
    assert code == 1 and 'mnist takes the four files' in err
    os.remove(str(folder / 't10k-labels-idx1-ubyte.gz'))
    code, _, err = run(['prepare', 'mnist', str(folder), '-o', output],
                       capsys)
    assert code == 1 and 'lacks the MNIST file t10k-labels-idx1-ubyte.gz' \
        in err
    assert not os.path.exists(output)
    # without brainstorm-data's datasets in the registry
    registry.load()
    datasets = registry._classes['datasets']
    monkeypatch.setitem(registry._classes, 'datasets', {
        k: v for k, v in datasets.items() if not k.startswith('prepare_')})
    code, _, err = run(['prepare', 'mnist', str(folder), '-o', output],
                       capsys)
    assert code == 1
    assert 'brainstorm prepare needs prepare_mnist' in err
    assert 'pip install brainstorm-data' in err


def test_prepare_hutter(tmp_path, capsys):
    archive = str(tmp_path / 'enwik8.zip')
    text = b'<text>Brainstorm [[wiki]] text.</text>\n' * 5
    with zipfile.ZipFile(archive, 'w') as z:
        z.writestr('enwik8', text)
    output = str(tmp_path / 'Hutter.hdf5')
    code, _, err = run(['prepare', 'hutter', archive, '-o', output,
                        '--split', '120', '40', '35', '--seq-len', '7'],
                       capsys)
    assert code == 0, err
    with h5py.File(output, 'r') as f:
        group = f['normalized_split']
        assert group['training/default'].shape == (7, 17, 1)
        assert group['validation/targets'].shape == (7, 5, 1)
        assert group['test/default'].shape == (7, 4, 1)
        alphabet = group.attrs['alphabet']
        assert bytes(alphabet[group['training/default'][:, 0, 0]]) == \
            text[:7]
        assert bytes(alphabet[group['training/targets'][:, 0, 0]]) == \
            text[1:8]


def test_prepare_cifar10_refuses_a_malicious_pickle(tmp_path, capsys):
    class Exploit:
        def __reduce__(self):
            return os.system, ('true',)
    archive = str(tmp_path / 'cifar-10-python.tar.gz')
    with tarfile.open(archive, 'w:gz') as tar:
        for name in ['data_batch_{}'.format(i) for i in range(1, 6)] + \
                ['test_batch']:
            content = pickle.dumps({b'data': Exploit(), b'labels': [0]}, 2)
            info = tarfile.TarInfo('cifar-10-batches-py/' + name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    output = str(tmp_path / 'CIFAR-10.hdf5')
    code, _, err = run(['prepare', 'cifar10', archive, '-o', output], capsys)
    assert code == 1
    assert 'refusing to load' in err and '.system' in err
    assert not os.path.exists(output)


# -- as a program -------------------------------------------------------------
def test_console_script_is_declared():
    scripts = importlib.metadata.entry_points(group='console_scripts',
                                              name='brainstorm')
    assert [ep.value for ep in scripts] == ['brainstorm.cli:main']


def test_runs_as_a_program_with_exit_codes(trained, files):
    output = trained[1]
    ok = subprocess.run([sys.executable, '-m', 'brainstorm.cli', 'info',
                         output], capture_output=True, text=True,
                        timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert 'Output_projection' in ok.stdout
    failed = subprocess.run(
        [sys.executable, '-m', 'brainstorm.cli', 'evaluate',
         os.path.join(str(files['folder']), 'none.hdf5'), files['data']],
        capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1
    assert failed.stdout == ''
    assert failed.stderr.startswith('brainstorm evaluate: error: no such '
                                    'network file')


def test_cli_is_importable_from_the_package():
    """``from brainstorm import cli`` imports the submodule (the package's
    registry look-up of unknown names must not get in the way)."""
    sys.modules.pop('brainstorm.cli', None)
    from brainstorm import cli as imported
    assert callable(imported.main)
