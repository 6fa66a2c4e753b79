"""Files (brainstorm.fileio): saves that fail on a full disk leave the
previous file and no temporary file, new files follow the umask and replaced
ones keep their mode, and corrupt or foreign files give errors that name
them."""
import errno
import json
import os
import shutil
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

import brainstorm as bs
from brainstorm import fileio
from brainstorm.data_iterators import DataIterator
from brainstorm.hooks import Hook
from brainstorm.testing.faults import full_disk
from brainstorm.testing.simple_layers import (TestAffine, TestSoftmaxLoss,
                                              use_simple_layers)


@pytest.fixture(autouse=True)
def simple_layers():
    with use_simple_layers():
        yield


class FileTestBatches(DataIterator):
    def __init__(self, n_in=4):
        rnd = np.random.RandomState(0)
        self.batch = {'default': rnd.randn(1, 3, n_in),
                      'targets': rnd.randint(0, 2, (1, 3, 1)).astype(float)}
        super().__init__({'default': (1, 3, n_in)}, 1)

    def __call__(self, handler=None):
        yield self.batch


class FileTestStop(Hook):
    can_stop_training = True

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if epoch_nr >= 1:
            raise StopIteration('done')


def make_net(n_in=4, hidden=3, seed=0):
    inp = bs.layers.Input({'default': ('T', 'B', n_in),
                           'targets': ('T', 'B', 1)})
    out = TestSoftmaxLoss(name='Output')
    inp >> TestAffine(hidden, name='Hid') >> TestAffine(2, name='Proj') >> \
        out
    inp - 'targets' >> 'targets' - out
    net = bs.Network.from_layer(out)
    net.set_parameters(np.random.RandomState(seed).randn(
        net.buffer_manager.num_parameters))
    return net


def trained(net):
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=False)
    trainer.add_hook(FileTestStop())
    trainer.train(net, FileTestBatches(net.layers['Input'].out_shapes[
        'default'].feature_size))
    return trainer


SAVES = {
    'network': lambda net, filename: net.save_as_hdf5(filename),
    'checkpoint': lambda net, filename: trained(net).save_checkpoint(
        filename),
}


# -- saving on a full disk ----------------------------------------------------
@pytest.mark.parametrize('kind', sorted(SAVES))
def test_a_save_on_a_full_disk_keeps_the_previous_file(kind, tmp_path,
                                                       monkeypatch):
    filename = str(tmp_path / 'file.h5')
    SAVES[kind](make_net(seed=1), filename)
    with open(filename, 'rb') as f:
        before = f.read()
    net = make_net(seed=2)
    full_disk(monkeypatch)
    with pytest.raises(bs.SaveError) as caught:
        SAVES[kind](net, filename)
    monkeypatch.undo()
    assert str(caught.value) == (
        'could not save {}: No space left on device (the previous file is '
        'unchanged)'.format(filename))
    assert isinstance(caught.value, OSError)
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename == filename
    with open(filename, 'rb') as f:
        assert f.read() == before
    assert os.listdir(str(tmp_path)) == ['file.h5']
    # the process goes on, and the network can still be saved
    SAVES[kind](net, filename)
    np.testing.assert_array_equal(
        bs.Network.from_hdf5(filename).get('parameters'),
        net.get('parameters'))


def test_a_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    filename = str(tmp_path / 'net.h5')
    full_disk(monkeypatch, after=0)
    with pytest.raises(bs.SaveError, match=r'^could not save .*net\.h5: No '
                                           r'space left on device \(nothing '
                                           r'was written\)$'):
        make_net().save_as_hdf5(filename)
    assert os.listdir(str(tmp_path)) == []


def test_a_failed_fsync_is_a_save_error(tmp_path, monkeypatch):
    filename = str(tmp_path / 'net.h5')
    make_net(seed=1).save_as_hdf5(filename)
    with open(filename, 'rb') as f:
        before = f.read()

    def fsync(fd):
        raise OSError(errno.EIO, os.strerror(errno.EIO))
    monkeypatch.setattr(os, 'fsync', fsync)
    with pytest.raises(bs.SaveError) as caught:
        make_net(seed=2).save_as_hdf5(filename)
    monkeypatch.undo()
    assert str(caught.value) == ('could not save {}: Input/output error (the '
                                 'previous file is unchanged)'.format(
                                     filename))
    with open(filename, 'rb') as f:
        assert f.read() == before
    assert os.listdir(str(tmp_path)) == ['net.h5']


def test_a_missing_directory_is_a_save_error(tmp_path):
    filename = str(tmp_path / 'no' / 'net.h5')
    with pytest.raises(bs.SaveError, match=r'^could not save .*net\.h5: No '
                                           r'such file or directory'):
        make_net().save_as_hdf5(filename)


def test_save_error_survives_pickling():
    import pickle
    err = bs.SaveError('could not save x: full', errno.ENOSPC, 'full', 'x')
    copy = pickle.loads(pickle.dumps(err))
    assert str(copy) == 'could not save x: full'
    assert (copy.errno, copy.filename) == (errno.ENOSPC, 'x')


# A real full disk: a 256 KiB tmpfs and a network of 1.4 MB. Run in a child
# process, so that a crash inside HDF5 fails the test rather than the run.
DISK_FULL_CHILD = textwrap.dedent(r'''
    import json, os, sys
    import numpy as np
    import brainstorm as bs
    sys.path.insert(0, sys.argv[2])
    from test_fileio import SAVES, make_net, use_simple_layers

    directory = sys.argv[1]
    results = {}
    with use_simple_layers():
        for kind in sorted(SAVES):
            filename = os.path.join(directory, kind + '.h5')
            SAVES[kind](make_net(), filename)
            with open(filename, 'rb') as f:
                before = f.read()
            try:
                SAVES[kind](make_net(n_in=600, hidden=600), filename)
                results[kind] = 'saved'
            except bs.SaveError as err:
                with open(filename, 'rb') as f:
                    results[kind] = [str(err), f.read() == before]
    results['files'] = sorted(os.listdir(directory))
    print(json.dumps(results))
''')


@pytest.fixture
def tiny_filesystem(tmp_path):
    """A folder on a 256 KiB tmpfs (skips where mounting is not allowed)."""
    if not hasattr(os, 'geteuid') or os.geteuid() != 0:
        pytest.skip('mounting a small tmpfs to fill up needs root')
    if shutil.which('mount') is None or shutil.which('umount') is None:
        pytest.skip('no mount command to mount a small tmpfs')
    folder = tmp_path / 'tiny'
    folder.mkdir()
    mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=256k',
                              'tmpfs', str(folder)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip('mounting a small tmpfs was refused: {}'.format(
            mounted.stderr.strip() or mounted.returncode))
    try:
        yield folder
    finally:
        if subprocess.run(['umount', str(folder)]).returncode != 0:
            subprocess.run(['umount', '-l', str(folder)])


def test_saves_on_a_really_full_disk(tiny_filesystem):
    child = subprocess.run(
        [sys.executable, '-c', DISK_FULL_CHILD, str(tiny_filesystem),
         os.path.dirname(os.path.abspath(__file__))],
        capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    assert 'Traceback' not in child.stderr
    results = json.loads(child.stdout)
    for kind in sorted(SAVES):
        filename = str(tiny_filesystem / (kind + '.h5'))
        assert results[kind] == [
            'could not save {}: No space left on device (the previous file '
            'is unchanged)'.format(filename), True]
    assert results['files'] == ['checkpoint.h5', 'network.h5']


# -- permissions --------------------------------------------------------------
@pytest.fixture
def umask():
    """Set the umask for a test: umask(value)."""
    old = os.umask(0o022)

    def set_umask(value):
        os.umask(value)
    yield set_umask
    os.umask(old)


@pytest.mark.skipif(os.name == 'nt', reason='POSIX permissions')
@pytest.mark.parametrize('kind', sorted(SAVES))
@pytest.mark.parametrize('mask, mode', [(0o022, 0o644), (0o077, 0o600),
                                        (0o002, 0o664)])
def test_new_files_get_the_permissions_the_umask_allows(kind, mask, mode,
                                                        umask, tmp_path):
    umask(mask)
    filename = str(tmp_path / 'file.h5')
    SAVES[kind](make_net(), filename)
    assert oct(os.stat(filename).st_mode & 0o777) == oct(mode)


@pytest.mark.skipif(os.name == 'nt', reason='POSIX permissions')
@pytest.mark.parametrize('kind', sorted(SAVES))
def test_a_replaced_file_keeps_its_mode(kind, umask, tmp_path):
    umask(0o022)
    filename = str(tmp_path / 'file.h5')
    SAVES[kind](make_net(), filename)
    os.chmod(filename, 0o640)
    SAVES[kind](make_net(seed=3), filename)
    assert oct(os.stat(filename).st_mode & 0o777) == oct(0o640)


def test_write_bytes_atomically(tmp_path, umask):
    umask(0o022)
    filename = str(tmp_path / 'plot.html')
    fileio.write_bytes_atomically(filename, b'<html>1</html>')
    fileio.write_bytes_atomically(filename, memoryview(b'<html>22</html>'))
    with open(filename, 'rb') as f:
        assert f.read() == b'<html>22</html>'
    assert os.listdir(str(tmp_path)) == ['plot.html']
    if os.name != 'nt':
        assert os.stat(filename).st_mode & 0o777 == 0o644


def test_write_hdf5_atomically_is_importable_from_network():
    from brainstorm.structure.network import write_hdf5_atomically
    assert write_hdf5_atomically is fileio.write_hdf5_atomically


# -- reading corrupt and foreign files ----------------------------------------
def copy_network(source, target, change):
    """Copy the network file ``source`` to ``target``, calling
    ``change(attrs, datasets)`` on its attributes and datasets first."""
    with h5py.File(source, 'r') as f:
        attrs = dict(f.attrs)
        datasets = {'parameters': f['parameters'][()]}
    change(attrs, datasets)
    with h5py.File(target, 'w') as f:
        f.attrs.update(attrs)
        for key, value in datasets.items():
            f[key] = value


def broken_json(attrs, datasets):
    attrs['description'] = attrs['description'][:-5]


def no_parameters(attrs, datasets):
    del datasets['parameters']


def newer_format(attrs, datasets):
    attrs['format_version'] = 2


def no_architecture(attrs, datasets):
    attrs['description'] = json.dumps({'@type': 'Network'})


def bad_architecture(attrs, datasets):
    attrs['description'] = json.dumps({'architecture': {'x': 1}})


def text_parameters(attrs, datasets):
    datasets['parameters'] = np.array([b'a', b'b'])


def too_few_parameters(attrs, datasets):
    datasets['parameters'] = datasets['parameters'][:-1]


@pytest.fixture
def network_file(tmp_path):
    filename = str(tmp_path / 'net.h5')
    make_net().save_as_hdf5(filename)
    return filename


def corrupt(kind, network_file, tmp_path):
    """The file of the case ``kind`` and the problem its message states."""
    path = str(tmp_path / (kind + '.h5'))
    if kind == 'text':
        with open(path, 'w') as f:
            f.write('{"architecture": {}}\n')
        return path, 'is not a brainstorm network file: it is not an HDF5 file'
    if kind == 'empty':
        open(path, 'w').close()
        return path, 'is not a brainstorm network file: it is empty'
    if kind == 'truncated':
        with open(network_file, 'rb') as f:
            data = f.read()
        with open(path, 'wb') as f:
            f.write(data[:len(data) // 2])
        return path, ('is not a readable brainstorm network file: it is '
                      'truncated (it has {} of its {} bytes)'.format(
                          len(data) // 2, len(data)))
    if kind == 'foreign':
        with h5py.File(path, 'w') as f:
            f['images'] = np.zeros(3)
            f['labels'] = np.zeros(3)
        return path, ('is not a brainstorm network file: it is an HDF5 file '
                      'that brainstorm did not write (it holds: images, '
                      'labels)')
    change, problem = {
        'broken_json': (broken_json, "is a damaged brainstorm network file: "
                        "its attribute 'description' is not valid JSON ("),
        'no_parameters': (no_parameters, 'is a damaged brainstorm network '
                          "file: it has no dataset 'parameters'"),
        'newer_format': (newer_format, 'has brainstorm network file format '
                         'version 2, but this brainstorm reads versions up '
                         'to 1'),
        'no_architecture': (no_architecture, 'is a damaged brainstorm '
                            'network file: its description holds no '
                            'architecture'),
        'bad_architecture': (bad_architecture, 'holds an architecture that '
                             "cannot be built: layer 'x' has no @type"),
        'text_parameters': (text_parameters, 'is a damaged brainstorm network '
                            "file: the dataset 'parameters' holds |S1 "
                            'values, not numbers'),
        'too_few_parameters': (too_few_parameters, ': the file holds 22 '
                               'parameters but its architecture has 23'),
    }[kind]
    copy_network(network_file, path, change)
    return path, problem


CORRUPT = ['text', 'empty', 'truncated', 'foreign', 'broken_json',
           'no_parameters', 'newer_format', 'no_architecture',
           'bad_architecture', 'text_parameters', 'too_few_parameters']


@pytest.mark.parametrize('kind', CORRUPT)
def test_corrupt_network_files_are_named(kind, network_file, tmp_path):
    path, problem = corrupt(kind, network_file, tmp_path)
    with pytest.raises(bs.FileFormatError) as caught:
        bs.Network.from_hdf5(path)
    assert str(caught.value).startswith(path + ' ' if problem[0] != ':'
                                        else path)
    assert problem in str(caught.value)
    assert caught.value.filename == path
    assert isinstance(caught.value, ValueError)


def test_a_missing_network_file(tmp_path):
    path = str(tmp_path / 'none.h5')
    with pytest.raises(FileNotFoundError) as caught:
        bs.Network.from_hdf5(path)
    assert str(caught.value) == \
        "[Errno 2] No such file or directory: '{}'".format(path)


def test_a_layer_no_plugin_provides_names_the_file(network_file, tmp_path):
    def unknown_layer(attrs, datasets):
        description = json.loads(attrs['description'])
        description['architecture']['Hid']['@type'] = 'NoSuchLayer'
        attrs['description'] = json.dumps(description)
    path = str(tmp_path / 'unknown.h5')
    copy_network(network_file, path, unknown_layer)
    with pytest.raises(bs.MissingPluginError,
                       match=r'unknown\.h5 needs a class that is not '
                             r"installed: .*'NoSuchLayer'"):
        bs.Network.from_hdf5(path)


def test_a_checkpoint_is_also_a_network_file(tmp_path):
    net = make_net(seed=4)
    path = str(tmp_path / 'ckpt.h5')
    trained(net).save_checkpoint(path)
    np.testing.assert_array_equal(bs.Network.from_hdf5(path).get(
        'parameters'), net.get('parameters'))


@pytest.mark.parametrize('load', ['from_checkpoint', 'resume'])
@pytest.mark.parametrize('kind', ['network', 'text', 'empty', 'foreign',
                                  'missing'])
def test_wrong_files_given_as_checkpoints(load, kind, network_file,
                                          tmp_path):
    hint = ('; checkpoints are written by Trainer.save_checkpoint and the '
            'SaveCheckpoint hook')
    if kind == 'network':
        path = network_file
        problem = ('is not a brainstorm checkpoint: it is a brainstorm '
                   'network file' + hint)
    elif kind == 'missing':
        path, problem = str(tmp_path / 'none.h5'), None
    else:
        path, problem = corrupt(kind, network_file, tmp_path)
        problem = problem.replace('brainstorm network file',
                                  'brainstorm checkpoint')
        if kind == 'foreign':
            problem += hint
    net = make_net()
    trainer = bs.Trainer(bs.training.SgdStepper(0.1))

    def call():
        if load == 'resume':
            trainer.resume(path, net)
        else:
            bs.Trainer.from_checkpoint(path)
    if problem is None:
        with pytest.raises(FileNotFoundError, match='No such file or '
                                                    'directory'):
            call()
        return
    with pytest.raises(bs.FileFormatError) as caught:
        call()
    assert str(caught.value) == '{} {}'.format(path, problem)


def damage_checkpoint(path, change):
    with h5py.File(path, 'r+') as f:
        change(f)


@pytest.mark.parametrize('change, problem', [
    (lambda f: f['checkpoint'].attrs.__setitem__('trainer', '{"verbose": '),
     "its attribute 'trainer' is not valid JSON ("),
    (lambda f: f['checkpoint'].attrs.__delitem__('logs'),
     "it has no attribute 'logs'"),
    (lambda f: f['checkpoint'].attrs.__setitem__('trainer', json.dumps(
        {'verbose': False, 'train_scorers': []})),
     "its entry 'trainer' lacks 'position'"),
    (lambda f: f['checkpoint'].attrs.__setitem__('hooks', '{}'),
     "its entry 'hooks' holds dict"),
    (lambda f: f['checkpoint'].__delitem__('stepper'),
     "it has no group 'checkpoint/stepper'"),
    (lambda f: f.__delitem__('parameters'),
     "it has no dataset 'parameters'"),
])
def test_damaged_checkpoints_are_named(change, problem, tmp_path):
    path = str(tmp_path / 'ckpt.h5')
    trained(make_net()).save_checkpoint(path)
    damage_checkpoint(path, change)
    with pytest.raises(bs.FileFormatError) as caught:
        bs.Trainer.from_checkpoint(path)
    assert str(caught.value).startswith(
        '{} is a damaged brainstorm checkpoint: '.format(path))
    assert problem in str(caught.value)


def test_a_truncated_checkpoint(tmp_path):
    path = str(tmp_path / 'ckpt.h5')
    trained(make_net()).save_checkpoint(path)
    size = os.path.getsize(path)
    with open(path, 'r+b') as f:
        f.truncate(size - 100)
    with pytest.raises(bs.FileFormatError) as caught:
        bs.Trainer.from_checkpoint(path)
    assert str(caught.value) == (
        '{} is not a readable brainstorm checkpoint: it is truncated (it has '
        '{} of its {} bytes)'.format(path, size - 100, size))
