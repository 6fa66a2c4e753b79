"""Dataset preparation from files in the real distribution formats: idx gz
(MNIST), tar.gz of pickled batches (CIFAR python version), zip (enwik8)."""
import gzip
import io
import os
import pickle
import struct
import tarfile
import zipfile

import h5py
import numpy as np
import pytest

import brainstorm as bs
from brainstorm_data import prepare
from brainstorm_data.iterators import Minibatches
from brainstorm_data.prepare import (UnsafePickleError, prepare_cifar10,
                                     prepare_cifar100, prepare_hutter,
                                     prepare_mnist, read_idx,
                                     restricted_loads, shuffle_data, split)

SPLITS = ('training', 'validation', 'test')


# -- writers of the distribution formats --------------------------------------
def write_idx(path, array, type_code=0x08, compress=True):
    array = np.asarray(array)
    header = bytes([0, 0, type_code, array.ndim]) + b''.join(
        struct.pack('>I', d) for d in array.shape)
    big_endian = array.astype(array.dtype.newbyteorder('>'))
    content = header + big_endian.tobytes()
    opener = gzip.open if compress else open
    with opener(str(path), 'wb') as f:
        f.write(content)
    return str(path)


def mnist_files(folder, n_train=30, n_test=12, seed=0):
    rnd = np.random.RandomState(seed)
    arrays = {'train_images': rnd.randint(0, 256, (n_train, 28, 28)),
              'train_labels': rnd.randint(0, 10, n_train),
              'test_images': rnd.randint(0, 256, (n_test, 28, 28)),
              'test_labels': rnd.randint(0, 10, n_test)}
    paths = {key: write_idx(folder / prepare.MNIST_FILES[key],
                            arrays[key].astype(np.uint8))
             for key in arrays}
    return paths, arrays


def add_to_tar(tar, name, content):
    info = tarfile.TarInfo(name)
    info.size = len(content)
    tar.addfile(info, io.BytesIO(content))


def cifar_batch(rnd, n, label_key, classes, protocol):
    batch = {b'batch_label': b'training batch',
             b'data': rnd.randint(0, 256, (n, 3072)).astype(np.uint8),
             label_key: [int(c) for c in rnd.randint(0, classes, n)],
             b'filenames': [b'img_%d.png' % i for i in range(n)]}
    return batch, pickle.dumps(batch, protocol=protocol)


def cifar10_archive(path, n=6, protocol=2, seed=0, extra=None):
    """A cifar-10-python.tar.gz: five training batches and a test batch of
    ``n`` images each, and batches.meta."""
    rnd = np.random.RandomState(seed)
    batches = {}
    with tarfile.open(str(path), 'w:gz') as tar:
        for name in ['data_batch_{}'.format(i) for i in range(1, 6)] + \
                ['test_batch']:
            batches[name], content = cifar_batch(rnd, n, b'labels', 10,
                                                 protocol)
            add_to_tar(tar, 'cifar-10-batches-py/' + name, content)
        meta = {b'label_names': [b'airplane', b'automobile', b'bird', b'cat',
                                 b'deer', b'dog', b'frog', b'horse', b'ship',
                                 b'truck'],
                b'num_cases_per_batch': n, b'num_vis': 3072}
        add_to_tar(tar, 'cifar-10-batches-py/batches.meta',
                   pickle.dumps(meta, protocol=protocol))
        add_to_tar(tar, 'cifar-10-batches-py/readme.html', b'<html></html>')
        for name, content in (extra or {}).items():
            add_to_tar(tar, 'cifar-10-batches-py/' + name, content)
    return str(path), batches


def cifar100_archive(path, n_train=20, n_test=8, seed=0):
    rnd = np.random.RandomState(seed)
    batches = {}
    with tarfile.open(str(path), 'w:gz') as tar:
        for name, n in (('train', n_train), ('test', n_test)):
            batch = {b'filenames': [b'x.png'] * n,
                     b'batch_label': b'training batch 1 of 1',
                     b'fine_labels': [int(c) for c in
                                      rnd.randint(0, 100, n)],
                     b'coarse_labels': [int(c) for c in
                                        rnd.randint(0, 20, n)],
                     b'data': rnd.randint(0, 256, (n, 3072)).astype(
                         np.uint8)}
            batches[name] = batch
            add_to_tar(tar, 'cifar-100-python/' + name,
                       pickle.dumps(batch, protocol=2))
        meta = {b'fine_label_names': [b'c%d' % i for i in range(100)],
                b'coarse_label_names': [b's%d' % i for i in range(20)]}
        add_to_tar(tar, 'cifar-100-python/meta', pickle.dumps(meta, 2))
    return str(path), batches


def hutter_zip(path, text, member='enwik8'):
    with zipfile.ZipFile(str(path), 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr(member, text)
    return str(path)


def read_output(filename):
    with h5py.File(str(filename), 'r') as f:
        group = f['normalized_split']
        data = {s: {n: group[s][n][()] for n in ('default', 'targets')}
                for s in SPLITS}
        attrs = dict(group.attrs)
    return data, attrs


def as_hwc(rows):
    """CIFAR rows (N, 3072) of R, G, B planes as (N, 32, 32, 3)."""
    return rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


# -- idx ----------------------------------------------------------------------
@pytest.mark.parametrize('compress', [True, False])
def test_read_idx_parses_header_and_big_endian_data(tmp_path, compress):
    values = np.arange(24, dtype=np.int32).reshape(2, 3, 4) * 1000 - 7000
    path = write_idx(tmp_path / 'x.idx', values, type_code=0x0C,
                     compress=compress)
    result = read_idx(path)
    assert result.shape == (2, 3, 4)
    np.testing.assert_array_equal(result, values)
    with open(path, 'rb') as f:
        raw = gzip.decompress(f.read()) if compress else f.read()
    assert raw[:4] == b'\x00\x00\x0c\x03'     # int32, 3 dimensions
    assert struct.unpack('>III', raw[4:16]) == (2, 3, 4)


def test_read_idx_rejects_bad_magic_and_wrong_sizes(tmp_path):
    bad = tmp_path / 'bad.gz'
    with gzip.open(str(bad), 'wb') as f:
        f.write(b'PK\x03\x04rest')
    with pytest.raises(ValueError, match='not an idx file'):
        read_idx(str(bad))
    short = tmp_path / 'short.gz'
    with gzip.open(str(short), 'wb') as f:
        f.write(bytes([0, 0, 8, 1]) + struct.pack('>I', 5) + b'abc')
    with pytest.raises(ValueError, match=r'shape \(5,\).*holds 3 bytes'):
        read_idx(str(short))


# -- MNIST --------------------------------------------------------------------
def test_prepare_mnist_layout_values_and_split(tmp_path):
    paths, arrays = mnist_files(tmp_path)
    out = tmp_path / 'MNIST.hdf5'
    assert prepare_mnist(paths['train_images'], paths['train_labels'],
                         paths['test_images'], paths['test_labels'],
                         out, validation_size=10) == str(out)
    data, attrs = read_output(out)
    assert data['training']['default'].shape == (1, 20, 28, 28, 1)
    assert data['validation']['default'].shape == (1, 10, 28, 28, 1)
    assert data['test']['default'].shape == (1, 12, 28, 28, 1)
    assert data['training']['default'].dtype == np.float32
    for split_name, n in zip(SPLITS, (20, 10, 12)):
        assert data[split_name]['targets'].shape == (1, n, 1)
        assert data[split_name]['targets'].dtype == np.uint8
    # the last 10 training images are the validation set, pixels / 255
    np.testing.assert_allclose(data['validation']['default'][0, ..., 0],
                               arrays['train_images'][20:] / 255.0,
                               rtol=1e-6)
    np.testing.assert_allclose(data['training']['default'][0, 3, 5, 7, 0],
                               arrays['train_images'][3, 5, 7] / 255.0,
                               rtol=1e-6)
    np.testing.assert_array_equal(data['training']['targets'][0, :, 0],
                                  arrays['train_labels'][:20])
    np.testing.assert_array_equal(data['test']['targets'][0, :, 0],
                                  arrays['test_labels'])
    assert 'MNIST' in attrs['description']
    # readable by the iterators as the examples do
    with h5py.File(str(out), 'r') as f:
        batches = list(Minibatches(8, shuffle=False,
                                   **f['normalized_split']['training'])())
    assert [b['default'].shape[1] for b in batches] == [8, 8, 4]


def test_prepare_mnist_checks_the_files(tmp_path):
    paths, _ = mnist_files(tmp_path)
    with pytest.raises(ValueError, match='holds 30 images but .* 12 labels'):
        prepare_mnist(paths['train_images'], paths['test_labels'],
                      paths['test_images'], paths['test_labels'],
                      tmp_path / 'x.hdf5')
    with pytest.raises(ValueError, match='expected MNIST images'):
        prepare_mnist(paths['train_labels'], paths['train_labels'],
                      paths['test_images'], paths['test_labels'],
                      tmp_path / 'x.hdf5')
    with pytest.raises(ValueError, match='validation_size .* 0 to 29.* 30'):
        prepare_mnist(paths['train_images'], paths['train_labels'],
                      paths['test_images'], paths['test_labels'],
                      tmp_path / 'x.hdf5', validation_size=30)
    assert not any(name.endswith(('.hdf5', '.tmp'))
                   for name in os.listdir(str(tmp_path)))


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    paths, _ = mnist_files(tmp_path)
    out = tmp_path / 'MNIST.hdf5'
    out.write_bytes(b'old contents')

    def broken(*args, **kwargs):
        raise OSError('disk full')
    monkeypatch.setattr(h5py.Group, 'create_dataset', broken)
    with pytest.raises(OSError, match='disk full'):
        prepare_mnist(paths['train_images'], paths['train_labels'],
                      paths['test_images'], paths['test_labels'], out,
                      validation_size=10)
    assert out.read_bytes() == b'old contents'
    assert not [n for n in os.listdir(str(tmp_path)) if n.endswith('.tmp')]


# -- CIFAR --------------------------------------------------------------------
@pytest.mark.parametrize('protocol', [2, pickle.HIGHEST_PROTOCOL])
def test_prepare_cifar10_layout_values_and_standardisation(tmp_path,
                                                           protocol):
    archive, batches = cifar10_archive(tmp_path / 'cifar-10-python.tar.gz',
                                       protocol=protocol)
    out = tmp_path / 'CIFAR-10.hdf5'
    prepare_cifar10(archive, out, validation_size=6)
    data, attrs = read_output(out)
    assert data['training']['default'].shape == (1, 24, 32, 32, 3)
    assert data['validation']['default'].shape == (1, 6, 32, 32, 3)
    assert data['test']['default'].shape == (1, 6, 32, 32, 3)
    assert data['training']['default'].dtype == np.float32
    train_rows = np.concatenate([batches['data_batch_{}'.format(i)][b'data']
                                 for i in range(1, 6)])
    train_labels = sum((batches['data_batch_{}'.format(i)][b'labels']
                        for i in range(1, 6)), [])
    raw = as_hwc(train_rows).astype(np.float64)
    # statistics of the training split (the first 24 images) per channel
    mean = raw[:24].mean(axis=(0, 1, 2))
    std = raw[:24].std(axis=(0, 1, 2))
    np.testing.assert_allclose(attrs['mean'], mean, rtol=1e-5)
    np.testing.assert_allclose(attrs['std'], std, rtol=1e-5)
    np.testing.assert_allclose(data['validation']['default'][0],
                               (raw[24:] - mean) / std, rtol=1e-4, atol=1e-5)
    test_raw = as_hwc(batches['test_batch'][b'data']).astype(np.float64)
    np.testing.assert_allclose(data['test']['default'][0],
                               (test_raw - mean) / std, rtol=1e-4, atol=1e-5)
    training = data['training']['default'].astype(np.float64)
    np.testing.assert_allclose(training.mean(axis=(0, 1, 2, 3)), 0,
                               atol=1e-5)
    np.testing.assert_allclose(training.std(axis=(0, 1, 2, 3)), 1, rtol=1e-5)
    # the red plane comes first in a row: pixel (0, 1) red is column 1,
    # green is column 1024 + 1
    first = batches['data_batch_1'][b'data'][0]
    np.testing.assert_allclose(
        data['training']['default'][0, 0, 0, 1] * std + mean,
        [first[1], first[1025], first[2049]], rtol=1e-5)
    np.testing.assert_array_equal(data['training']['targets'][0, :, 0],
                                  train_labels[:24])
    np.testing.assert_array_equal(data['test']['targets'][0, :, 0],
                                  batches['test_batch'][b'labels'])
    assert list(attrs['label_names'])[:2] == ['airplane', 'automobile']


@pytest.mark.parametrize('label_type, key, classes', [
    ('fine', b'fine_labels', 100), ('coarse', b'coarse_labels', 20)])
def test_prepare_cifar100_fine_and_coarse_labels(tmp_path, label_type, key,
                                                 classes):
    archive, batches = cifar100_archive(tmp_path / 'cifar-100-python.tar.gz')
    out = tmp_path / 'CIFAR-100.hdf5'
    prepare_cifar100(archive, out, validation_size=5, label_type=label_type)
    data, attrs = read_output(out)
    assert [data[s]['default'].shape[1] for s in SPLITS] == [15, 5, 8]
    np.testing.assert_array_equal(data['validation']['targets'][0, :, 0],
                                  batches['train'][key][15:])
    np.testing.assert_array_equal(data['test']['targets'][0, :, 0],
                                  batches['test'][key])
    assert len(attrs['label_names']) == classes
    raw = as_hwc(batches['train'][b'data']).astype(np.float64)
    mean = raw[:15].mean(axis=(0, 1, 2))
    np.testing.assert_allclose(attrs['mean'], mean, rtol=1e-5)


def test_cifar_archive_without_batches_is_named(tmp_path):
    path = tmp_path / 'cifar-100-python.tar.gz'
    cifar10_archive(path)
    with pytest.raises(ValueError, match='not the python version of '
                                         'CIFAR-100: it lacks train, test'):
        prepare_cifar100(str(path), tmp_path / 'out.hdf5')


class Exploit:
    def __reduce__(self):
        return os.system, ('echo exploited > {}'.format(
            os.path.join(os.environ['EXPLOIT_DIR'], 'pwned')),)


def test_restricted_unpickler_refuses_os_system(tmp_path, monkeypatch):
    monkeypatch.setenv('EXPLOIT_DIR', str(tmp_path))
    payload = pickle.dumps({b'data': Exploit()}, protocol=2)
    with pytest.raises(UnsafePickleError, match=r'(posix|os|nt)\.system'):
        restricted_loads(payload, 'payload')
    assert not (tmp_path / 'pwned').exists()
    # the same pickle inside a CIFAR archive stops the preparation
    archive, _ = cifar10_archive(tmp_path / 'evil.tar.gz',
                                 extra={'data_batch_1': payload})
    with pytest.raises(UnsafePickleError, match='evil.tar.gz.*system'):
        prepare_cifar10(archive, tmp_path / 'out.hdf5')
    assert not (tmp_path / 'pwned').exists()
    assert not (tmp_path / 'out.hdf5').exists()


@pytest.mark.parametrize('module, name', [
    ('builtins', 'eval'), ('subprocess', 'Popen'), ('numpy', 'load'),
    ('pickle', 'loads')])
def test_restricted_unpickler_names_every_refused_global(module, name):
    payload = b'\x80\x02c' + '{}\n{}\n'.format(module, name).encode() + \
        b')R.'
    with pytest.raises(UnsafePickleError,
                       match=r'refusing to load {}\.{}'.format(module, name)):
        restricted_loads(payload)


def test_restricted_unpickler_reads_arrays_and_containers():
    value = {b'a': np.arange(6, dtype=np.uint8).reshape(2, 3),
             b'b': [1, 2.5, b'x', 'y', (True, None)], b'c': {1, 2},
             b'd': np.float32(1.5)}
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        loaded = restricted_loads(pickle.dumps(value, protocol=protocol))
        np.testing.assert_array_equal(loaded[b'a'], value[b'a'])
        assert loaded[b'b'] == value[b'b'] and loaded[b'c'] == {1, 2}
        assert loaded[b'd'] == np.float32(1.5)


# -- Hutter -------------------------------------------------------------------
def test_prepare_hutter_sequences_targets_and_split(tmp_path):
    text = (b'<page>hello wiki [[link]] \xc3\xa9t\xc3\xa9</page>\n' * 8)
    archive = hutter_zip(tmp_path / 'enwik8.zip', text)
    out = tmp_path / 'Hutter.hdf5'
    prepare_hutter(archive, out, split=(200, 60, 50), seq_len=10)
    data, attrs = read_output(out)
    alphabet = sorted(set(text))
    np.testing.assert_array_equal(attrs['alphabet'], alphabet)
    # (n - 1) // seq_len sequences per part
    assert data['training']['default'].shape == (10, 19, 1)
    assert data['validation']['default'].shape == (10, 5, 1)
    assert data['test']['default'].shape == (10, 4, 1)
    symbols = np.array([alphabet.index(b) for b in text], dtype=np.uint8)
    for name, start in (('training', 0), ('validation', 200),
                        ('test', 260)):
        x, y = data[name]['default'], data[name]['targets']
        assert x.dtype == y.dtype == np.uint8
        n = x.shape[1]
        # sequence b is bytes [start + 10 b, start + 10 (b + 1))
        np.testing.assert_array_equal(
            x[:, :, 0].T.reshape(-1), symbols[start:start + 10 * n])
        np.testing.assert_array_equal(
            y[:, :, 0].T.reshape(-1), symbols[start + 1:start + 10 * n + 1])
    decoded = bytes(attrs['alphabet'][data['training']['default'][:, 0, 0]])
    assert decoded == text[:10]


def test_prepare_hutter_checks_its_arguments(tmp_path):
    archive = hutter_zip(tmp_path / 'enwik8.zip', b'abcdefghij' * 10)
    with pytest.raises(ValueError, match=r'asks for 120 bytes.*has 100'):
        prepare_hutter(archive, tmp_path / 'o.hdf5', split=(100, 10, 10),
                       seq_len=5)
    with pytest.raises(ValueError, match='test part .* seq_len=5'):
        prepare_hutter(archive, tmp_path / 'o.hdf5', split=(80, 10, 5),
                       seq_len=5)
    with pytest.raises(ValueError, match="no member 'enwik9'.*enwik8"):
        prepare_hutter(archive, tmp_path / 'o.hdf5', split=(80, 10, 10),
                       member='enwik9')
    with pytest.raises(ValueError, match='split must be 3 byte counts'):
        prepare_hutter(archive, tmp_path / 'o.hdf5', split=(0.9, 0.1))


# -- shuffle_data and split ---------------------------------------------------
def test_shuffle_data_keeps_items_together_and_is_seeded():
    x = np.arange(2 * 7 * 3).reshape(2, 7, 3)
    y = np.arange(7).reshape(1, 7, 1)
    shuffled = shuffle_data({'default': x, 'targets': y}, seed=3)
    order = shuffled['targets'][0, :, 0]
    assert sorted(order) == list(range(7)) and list(order) != list(range(7))
    np.testing.assert_array_equal(shuffled['default'], x[:, order])
    again = shuffle_data({'default': x, 'targets': y}, seed=3)
    np.testing.assert_array_equal(again['targets'], shuffled['targets'])
    bs.global_rnd.set_seed(1)
    first = shuffle_data(y)
    bs.global_rnd.set_seed(1)
    np.testing.assert_array_equal(shuffle_data(y), first)
    assert x[0, 0, 0] == 0                    # the input is not modified
    with pytest.raises(ValueError, match=r"same batch size.*'t': \(1, 6, 1\)"):
        shuffle_data({'x': x, 't': y[:, :6]})


def test_split_by_counts_and_by_fractions():
    x = np.arange(10).reshape(1, 10, 1)
    a, b = split(x, [6, 3])
    np.testing.assert_array_equal(a[0, :, 0], range(6))
    np.testing.assert_array_equal(b[0, :, 0], range(6, 9))
    parts = split({'default': x, 'targets': x * 2}, [0.5, 0.3, 0.2])
    assert [p['default'].shape[1] for p in parts] == [5, 3, 2]
    np.testing.assert_array_equal(parts[2]['targets'][0, :, 0], [16, 18])
    with pytest.raises(ValueError, match=r'ask for 11 sequences.*B = 10'):
        split(x, [6, 5])
    with pytest.raises(ValueError, match='sum to 1.2'):
        split(x, [0.7, 0.5])
    with pytest.raises(ValueError, match=r'\(T, B, \.\.\.\), got shape '
                                         r'\(10,\)'):
        split(np.arange(10), [5])


def test_shuffle_data_and_split_are_those_of_bs_tools():
    assert shuffle_data is bs.tools.shuffle_data
    assert split is bs.tools.split
