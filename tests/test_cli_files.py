"""The ``brainstorm`` command given corrupt, foreign or missing files: exit
status 1 and one line 'brainstorm <command>: error: ...' naming the file."""
import h5py
import numpy as np
import pytest

import brainstorm as bs
import brainstorm.cli as cli
from brainstorm.data_iterators import Minibatches
from brainstorm_data import load_digits, save_as_hdf5
from brainstorm_hooks.logs import save_logs


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """A data file, a network file and a checkpoint of a small MLP, and
    damaged or foreign files."""
    folder = tmp_path_factory.mktemp('cli-files')
    paths = {}
    paths['data'] = str(folder / 'digits.hdf5')
    data = load_digits(split=(60, 20, 20), flatten=True)
    save_as_hdf5(data, paths['data'])
    inp, fc = bs.tools.get_in_out_layers('classification', 64, 10)
    net = bs.Network.from_layer(inp >> fc)
    net.initialize(bs.initializers.Gaussian(0.1))
    paths['network'] = str(folder / 'net.hdf5')
    net.save_as_hdf5(paths['network'])
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=False)
    trainer.add_hook(bs.hooks.StopAfterEpoch(1))
    trainer.train(net, Minibatches(20, **data['training']))
    paths['checkpoint'] = str(folder / 'ckpt.hdf5')
    trainer.save_checkpoint(paths['checkpoint'])
    paths['logs'] = str(folder / 'logs.hdf5')
    save_logs(paths['logs'], {'mon': {'value': [1.0]}})

    paths['text'] = str(folder / 'net.txt')
    with open(paths['text'], 'w') as f:
        f.write('not a network\n')
    paths['empty'] = str(folder / 'empty.hdf5')
    open(paths['empty'], 'w').close()
    with open(paths['network'], 'rb') as f:
        image = f.read()
    paths['truncated'] = str(folder / 'truncated.hdf5')
    with open(paths['truncated'], 'wb') as f:
        f.write(image[:1000])
    paths['foreign'] = str(folder / 'foreign.hdf5')
    with h5py.File(paths['foreign'], 'w') as f:
        f['weights'] = np.zeros(3)
    for name in ('broken_json', 'no_parameters'):
        paths[name] = str(folder / (name + '.hdf5'))
        with h5py.File(paths['network'], 'r') as source, \
                h5py.File(paths[name], 'w') as f:
            f.attrs.update(source.attrs)
            if name == 'broken_json':
                f.attrs['description'] = source.attrs['description'][:40]
                f['parameters'] = source['parameters'][()]
    paths['missing'] = str(folder / 'none.hdf5')
    paths['sizes'] = (len(image), 1000)
    return paths


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def check_error(code, err, command, message):
    assert code == 1
    assert 'Traceback' not in err
    assert err.count('\n') == 1, err
    assert err == 'brainstorm {}: error: {}\n'.format(command, message)


NETWORK_ERRORS = {
    'text': '{text} is not a brainstorm network file: it is not an HDF5 '
            'file',
    'empty': '{empty} is not a brainstorm network file: it is empty',
    'truncated': '{truncated} is not a readable brainstorm network file: '
                 'it is truncated (it has 1000 of its {size} bytes)',
    'foreign': '{foreign} is not a brainstorm network file: it is an HDF5 '
               'file that brainstorm did not write (it holds: weights)',
    'broken_json': "{broken_json} is a damaged brainstorm network file: its "
                   "attribute 'description' is not valid JSON (",
    'no_parameters': '{no_parameters} is a damaged brainstorm network file: '
                     "it has no dataset 'parameters'",
    'logs': '{logs} is not a brainstorm network file: it is a brainstorm '
            'logs file',
    'data': '{data} is not a brainstorm network file: it is a data file (it '
            'holds normalized_split)',
    'missing': 'no such network file: {missing}',
}


def expected(template, files):
    return template.format(size=files['sizes'][0], **files)


@pytest.mark.parametrize('kind', sorted(NETWORK_ERRORS))
@pytest.mark.parametrize('command', ['info', 'evaluate'])
def test_bad_network_files(command, kind, files, capsys):
    argv = [command, files[kind]] + ([files['data']] if command == 'evaluate'
                                     else [])
    code, out, err = run(argv, capsys)
    message = expected(NETWORK_ERRORS[kind], files)
    if kind == 'broken_json':
        assert code == 1 and err.startswith(
            'brainstorm {}: error: {}'.format(command, message))
        assert err.count('\n') == 1 and 'Traceback' not in err
    else:
        check_error(code, err, command, message)
    assert out == ''


def test_info_reads_the_network_of_a_checkpoint(files, capsys):
    code, out, err = run(['info', files['checkpoint']], capsys)
    assert code == 0 and err == ''
    assert 'File: {}'.format(files['checkpoint']) in out


DATA_ERRORS = {
    'text': '{text} is not a data file: it is not an HDF5 file',
    'empty': '{empty} is not a data file: it is empty',
    'truncated': '{truncated} is not a readable data file: it is truncated '
                 '(it has 1000 of its {size} bytes)',
    'network': "{network} has no group 'normalized_split' (it is a "
               'brainstorm network file); data files need normalized_split/'
               '{{training,validation,test}}/{{default,targets}}',
    'foreign': "{foreign} has no group 'normalized_split' (it holds: "
               'weights); data files need normalized_split/{{training,'
               'validation,test}}/{{default,targets}}',
    'missing': 'cannot read the data file {missing}: No such file or '
               'directory',
}


@pytest.mark.parametrize('kind', sorted(DATA_ERRORS))
@pytest.mark.parametrize('command', ['train', 'evaluate'])
def test_bad_data_files(command, kind, files, capsys):
    if command == 'train':
        argv = ['train', '--data', files[kind], '--epochs', '1',
                '--no-progress']
    else:
        argv = ['evaluate', files['network'], files[kind]]
    code, out, err = run(argv, capsys)
    check_error(code, err, command, expected(DATA_ERRORS[kind], files))


def test_a_checkpoint_is_not_a_data_file(files, capsys):
    code, _, err = run(['evaluate', files['network'], files['checkpoint']],
                       capsys)
    check_error(code, err, 'evaluate',
                "{} has no group 'normalized_split' (it is a brainstorm "
                'checkpoint); data files need normalized_split/{{training,'
                'validation,test}}/{{default,targets}}'.format(
                    files['checkpoint']))

