"""Dataset preparation: the standard distribution files of MNIST, CIFAR-10,
CIFAR-100 and the Hutter Prize corpus (enwik8), or any text, turned into
HDF5 files in the layout the manual's examples read (chapter 3)::

    normalized_split/training/default     normalized_split/training/targets
    normalized_split/validation/default   normalized_split/validation/targets
    normalized_split/test/default         normalized_split/test/targets

Nothing is downloaded: every function takes the paths of files fetched
beforehand. Each output file is written to a temporary file beside it and
renamed into place, so an interrupted run never leaves a broken file.

=========  ==========================  ======================  ==============
dataset    source files                default                 targets
=========  ==========================  ======================  ==============
MNIST      four idx files (.gz or      (1, N, 28, 28, 1)       (1, N, 1)
           not)                        float32 in [0, 1]       uint8 0..9
CIFAR-10   cifar-10-python.tar.gz      (1, N, 32, 32, 3)       (1, N, 1)
                                       float32, standardised   uint8 0..9
CIFAR-100  cifar-100-python.tar.gz     (1, N, 32, 32, 3)       (1, N, 1)
                                       float32, standardised   uint8 0..99
text       enwik8.zip, or any text:    (T, N, 1) uint8         (T, N, 1)
           plain, gzip, bzip2, xz      symbol indices          next symbol
           or zip
=========  ==========================  ======================  ==============

Also here (from ``bs.tools``): :func:`shuffle_data` and :func:`split`, which
shuffle and split data shaped (T, B, ...) along the batch axis.
"""
import builtins
import bz2
import gzip
import io
import lzma
import os
import pickle
import tarfile
import zipfile

import h5py
import numpy as np

from brainstorm.fileio import write_hdf5_atomically
# shuffle_data and split live in brainstorm-core (bs.tools); re-exported here
from brainstorm.tools.data import shuffle_data, split

__all__ = ['read_idx', 'read_mnist', 'prepare_mnist', 'read_cifar',
           'prepare_cifar10', 'prepare_cifar100', 'read_text', 'read_hutter',
           'prepare_hutter', 'write_dataset', 'restricted_loads',
           'UnsafePickleError', 'shuffle_data', 'split', 'MNIST_FILES',
           'HUTTER_SPLIT', 'TEXT_SPLIT']

GROUP = 'normalized_split'
SPLIT_NAMES = ('training', 'validation', 'test')

MNIST_FILES = {'train_images': 'train-images-idx3-ubyte.gz',
               'train_labels': 'train-labels-idx1-ubyte.gz',
               'test_images': 't10k-images-idx3-ubyte.gz',
               'test_labels': 't10k-labels-idx1-ubyte.gz'}

# the parts of enwik8 (100M bytes) that the default TEXT_SPLIT gives
HUTTER_SPLIT = (90_000_000, 5_000_000, 5_000_000)
# default parts of a text: fractions of its size (training, validation, test)
TEXT_SPLIT = (0.9, 0.05, 0.05)

# idx type codes (third byte of the magic number) and their big-endian types
_IDX_TYPES = {0x08: '>u1', 0x09: '>i1', 0x0B: '>i2', 0x0C: '>i4',
              0x0D: '>f4', 0x0E: '>f8'}


# -- writing -----------------------------------------------------------------
def write_dataset(filename, splits, attrs=None, group=GROUP,
                  compression=None):
    """Write ``{split: {name: array}}`` as ``group/split/name`` into a new
    HDF5 file, atomically (temporary file beside it, then ``os.replace``).

    Parameters
    ----------
    filename : str or path
        The file to create; an existing file is replaced only once the new
        one is complete.
    splits : dict
        {'training' | 'validation' | 'test': {'default': array,
        'targets': array}}.
    attrs : dict, optional
        Attributes of the group (strings, numbers or arrays).
    group : str
        Name of the top-level group.
    compression : str, optional
        h5py compression filter of the datasets (e.g. 'gzip').

    Returns
    -------
    str
        ``filename``.
    """
    def write(f):
        top = f.create_group(group)
        for key, value in (attrs or {}).items():
            top.attrs[key] = value
        for split_name, items in splits.items():
            sub = top.create_group(split_name)
            for name, array in items.items():
                sub.create_dataset(name, data=np.asarray(array),
                                   compression=compression)
    write_hdf5_atomically(filename, write)
    return os.fspath(filename)


def _checked_validation_size(validation_size, n, source):
    if isinstance(validation_size, bool) or \
            not isinstance(validation_size, (int, np.integer)) or \
            not 0 <= validation_size < n:
        raise ValueError(
            'validation_size must be an integer from 0 to {} (the {} '
            'training examples of {} less one), got {!r}'.format(
                n - 1, n, source, validation_size))
    return int(validation_size)


def _image_splits(train_x, train_y, test_x, test_y, validation_size, source):
    """Hold out the last ``validation_size`` training examples; arrays are
    shaped (1, N, ...) as the manual's data format wants."""
    n = len(train_x)
    val = _checked_validation_size(validation_size, n, source)
    parts = {'training': (train_x[:n - val], train_y[:n - val]),
             'validation': (train_x[n - val:], train_y[n - val:]),
             'test': (test_x, test_y)}
    return {name: {'default': x[np.newaxis],
                   'targets': np.asarray(y, dtype=np.uint8).reshape(1, -1, 1)}
            for name, (x, y) in parts.items()}


# -- MNIST -------------------------------------------------------------------
def _open_maybe_gzip(path):
    with open(path, 'rb') as f:
        compressed = f.read(2) == b'\x1f\x8b'
    return gzip.open(path, 'rb') if compressed else open(path, 'rb')


def read_idx(path):
    """Read a file in the idx format of the MNIST distribution.

    The file (gzip-compressed or not) starts with a magic number: two zero
    bytes, a type code (0x08 unsigned byte, 0x09 signed byte, 0x0B int16,
    0x0C int32, 0x0D float32, 0x0E float64) and the number of dimensions,
    followed by each dimension as a big-endian uint32, then the data in
    big-endian row-major order.

    Parameters
    ----------
    path : str or path
        The idx file, e.g. ``train-images-idx3-ubyte.gz``.

    Returns
    -------
    numpy.ndarray
        The data, in native byte order.

    Raises
    ------
    ValueError
        If the header is not an idx header or the data size does not match
        the dimensions it declares.
    """
    with _open_maybe_gzip(path) as f:
        content = f.read()
    if len(content) < 4 or content[0] != 0 or content[1] != 0 or \
            content[2] not in _IDX_TYPES:
        raise ValueError(
            '{}: not an idx file (expected a magic number 0x0000TTNN with '
            'a type code TT in {}, got {!r})'.format(
                path, ', '.join('0x{:02X}'.format(t) for t in _IDX_TYPES),
                content[:4]))
    dtype = np.dtype(_IDX_TYPES[content[2]])
    ndim = content[3]
    header = 4 + 4 * ndim
    if len(content) < header:
        raise ValueError('{}: truncated idx header ({} dimensions declared, '
                         'file has {} bytes)'.format(path, ndim,
                                                     len(content)))
    shape = tuple(int(d) for d in np.frombuffer(content, '>u4', ndim, 4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(content) - header != expected:
        raise ValueError(
            '{}: idx header declares shape {} of {} ({} bytes of data), but '
            'the file holds {} bytes of data'.format(
                path, shape, dtype, expected, len(content) - header))
    data = np.frombuffer(content, dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder('='))


def _read_mnist_pair(images_path, labels_path):
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError('{}: expected MNIST images, an idx3 file of unsigned '
                         'bytes shaped (N, rows, cols), got shape {} of '
                         '{}'.format(images_path, images.shape, images.dtype))
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError('{}: expected MNIST labels, an idx1 file of unsigned '
                         'bytes, got shape {} of {}'.format(
                             labels_path, labels.shape, labels.dtype))
    if len(images) != len(labels):
        raise ValueError('{} holds {} images but {} holds {} labels'.format(
            images_path, len(images), labels_path, len(labels)))
    if len(labels) and labels.max() > 9:
        raise ValueError('{}: MNIST labels are 0..9, found {}'.format(
            labels_path, int(labels.max())))
    return images, labels


def read_mnist(train_images, train_labels, test_images, test_labels):
    """Read the four files of the MNIST distribution.

    Parameters
    ----------
    train_images, train_labels, test_images, test_labels : str or path
        ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
        ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz`` (or
        the same files uncompressed).

    Returns
    -------
    tuple
        (train images, train labels, test images, test labels): uint8
        images shaped (N, 28, 28) and uint8 labels shaped (N,).
    """
    return (_read_mnist_pair(train_images, train_labels) +
            _read_mnist_pair(test_images, test_labels))


def prepare_mnist(train_images, train_labels, test_images, test_labels,
                  filename, validation_size=10000, compression=None):
    """Write MNIST in the manual's HDF5 layout.

    The last ``validation_size`` training images become the validation
    set (50000 / 10000 / 10000 for the full data). Images are shaped
    (1, N, 28, 28, 1), float32, the pixel values divided by 255 (so in
    [0, 1]); targets (1, N, 1), uint8 class indices.

    Parameters
    ----------
    train_images, train_labels, test_images, test_labels : str or path
        The four idx files of the distribution (see :func:`read_mnist`).
    filename : str or path
        The HDF5 file to write (e.g. ``MNIST.hdf5``).
    validation_size : int
        Number of training images held out for validation.
    compression : str, optional
        h5py compression filter of the datasets.

    Returns
    -------
    str
        ``filename``.
    """
    tr_x, tr_y, te_x, te_y = read_mnist(train_images, train_labels,
                                        test_images, test_labels)
    scale = np.float32(255)
    splits = _image_splits((tr_x[..., np.newaxis] / scale).astype(np.float32),
                           tr_y,
                           (te_x[..., np.newaxis] / scale).astype(np.float32),
                           te_y, validation_size, 'MNIST')
    attrs = {'description': 'MNIST handwritten digits (Y. LeCun, C. Cortes, '
                            'C. J. C. Burges), pixel values scaled to [0, 1]'}
    return write_dataset(filename, splits, attrs, compression=compression)


# the standard file names, for callers that look for them in a folder
prepare_mnist.standard_files = MNIST_FILES


# -- CIFAR -------------------------------------------------------------------
class UnsafePickleError(pickle.UnpicklingError):
    """A pickle refers to a class or function that is not allowed."""


def _numpy_globals():
    # Taken from numpy's own pickling so that both module spellings
    # (numpy.core of numpy 1, numpy._core of numpy 2) map to the same
    # objects without importing numpy's deprecated aliases.
    reconstruct = np.ndarray.__reduce__(np.zeros(1))[0]
    scalar = np.float64(0).__reduce__()[0]
    frombuffer = np.arange(1).__reduce_ex__(5)[0]
    allowed = {}
    for core in ('numpy.core', 'numpy._core'):
        allowed[core + '.multiarray', '_reconstruct'] = reconstruct
        allowed[core + '.multiarray', 'scalar'] = scalar
        allowed[core + '.numeric', '_frombuffer'] = frombuffer
    allowed['numpy', 'ndarray'] = np.ndarray
    allowed['numpy', 'dtype'] = np.dtype
    return allowed


_BUILTIN_NAMES = ('list', 'dict', 'tuple', 'set', 'frozenset', 'str',
                  'bytes', 'bytearray', 'int', 'float', 'complex', 'bool')


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that creates numpy arrays and builtin containers,
    strings and numbers, and nothing else."""

    allowed = None

    def find_class(self, module, name):
        if _RestrictedUnpickler.allowed is None:
            allowed = _numpy_globals()
            for builtins_module in ('builtins', '__builtin__'):
                for builtin in _BUILTIN_NAMES:
                    allowed[builtins_module, builtin] = getattr(builtins,
                                                                builtin)
            # Python 3 pickles bytes of protocol 2 as _codecs.encode(str)
            import _codecs
            allowed['_codecs', 'encode'] = _codecs.encode
            _RestrictedUnpickler.allowed = allowed
        try:
            return _RestrictedUnpickler.allowed[module, name]
        except KeyError:
            raise UnsafePickleError(
                'refusing to load {}.{} from a pickle: only numpy arrays '
                'and builtin containers, strings and numbers are '
                'allowed'.format(module, name)) from None


def restricted_loads(data, source='<bytes>'):
    """Unpickle ``data`` allowing only numpy arrays and builtin containers,
    strings and numbers (Python 2 strings become bytes).

    Parameters
    ----------
    data : bytes
        The pickle.
    source : str
        What the pickle was read from, named in error messages.

    Raises
    ------
    UnsafePickleError
        If the pickle refers to any other class or function, named in the
        message.
    """
    try:
        return _RestrictedUnpickler(io.BytesIO(data),
                                    encoding='bytes').load()
    except UnsafePickleError as err:
        raise UnsafePickleError('{}: {}'.format(source, err)) from None


def _tar_members(archive, wanted):
    """(base name, full name, content) of the files in ``archive`` whose
    base names are in ``wanted``; nothing is extracted to disk."""
    with tarfile.open(archive, 'r:*') as tar:
        for member in tar.getmembers():
            base = os.path.basename(member.name)
            if member.isfile() and base in wanted:
                with tar.extractfile(member) as f:
                    yield base, member.name, f.read()


def _cifar_batch(batch, where, label_key):
    if not isinstance(batch, dict) or b'data' not in batch or \
            label_key not in batch:
        keys = sorted(batch) if isinstance(batch, dict) else type(batch)
        raise ValueError('{}: expected a CIFAR batch, a dict with keys '
                         "b'data' and {!r}, got {}".format(where, label_key,
                                                           keys))
    data = batch[b'data']
    labels = np.asarray(batch[label_key])
    if not isinstance(data, np.ndarray) or data.ndim != 2 or \
            data.shape[1] != 3 * 32 * 32:
        raise ValueError("{}: b'data' must be an array shaped (N, 3072), got "
                         '{}'.format(where, getattr(data, 'shape',
                                                    type(data))))
    if labels.shape != (len(data),):
        raise ValueError('{}: {} images but {!r} has shape {}'.format(
            where, len(data), label_key, labels.shape))
    # rows hold the red, green and blue 32x32 planes: to (N, 32, 32, 3)
    images = np.asarray(data, dtype=np.uint8).reshape(-1, 3, 32, 32)
    return images.transpose(0, 2, 3, 1), labels


def read_cifar(archive, variant='cifar10', label_type='fine'):
    """Read the python version of CIFAR-10 or CIFAR-100.

    The pickled batches are read straight from the archive (nothing is
    extracted) with an unpickler that only creates numpy arrays and builtin
    containers, strings and numbers.

    Parameters
    ----------
    archive : str or path
        ``cifar-10-python.tar.gz`` (members ``data_batch_1`` ..
        ``data_batch_5``, ``test_batch``, ``batches.meta``) or
        ``cifar-100-python.tar.gz`` (``train``, ``test``, ``meta``).
    variant : str
        'cifar10' or 'cifar100'.
    label_type : str
        For CIFAR-100: 'fine' (100 classes) or 'coarse' (20 superclasses).

    Returns
    -------
    tuple
        (train images, train labels, test images, test labels, label
        names): uint8 images shaped (N, 32, 32, 3), integer labels shaped
        (N,), and a list of the class names (empty if the archive has no
        meta file).
    """
    if variant == 'cifar10':
        label_key, names_key = b'labels', b'label_names'
        train_names = ['data_batch_{}'.format(i) for i in range(1, 6)]
        test_names, meta_name = ['test_batch'], 'batches.meta'
    elif variant == 'cifar100':
        if label_type not in ('fine', 'coarse'):
            raise ValueError("label_type must be 'fine' or 'coarse', got "
                             '{!r}'.format(label_type))
        label_key = '{}_labels'.format(label_type).encode()
        names_key = '{}_label_names'.format(label_type).encode()
        train_names, test_names, meta_name = ['train'], ['test'], 'meta'
    else:
        raise ValueError("variant must be 'cifar10' or 'cifar100', got "
                         '{!r}'.format(variant))
    wanted = set(train_names + test_names + [meta_name])
    found = {}
    for base, full_name, content in _tar_members(archive, wanted):
        where = '{}:{}'.format(archive, full_name)
        found[base] = (where, restricted_loads(content, where))
    missing = [n for n in train_names + test_names if n not in found]
    if missing:
        raise ValueError('{} is not the python version of {}: it lacks {}'
                         .format(archive, variant.upper().replace(
                             'CIFAR', 'CIFAR-'), ', '.join(missing)))

    def batches(names):
        parts = [_cifar_batch(found[n][1], found[n][0], label_key)
                 for n in names]
        return (np.concatenate([p[0] for p in parts]),
                np.concatenate([p[1] for p in parts]))

    train_x, train_y = batches(train_names)
    test_x, test_y = batches(test_names)
    label_names = []
    if meta_name in found and isinstance(found[meta_name][1], dict):
        label_names = [n.decode('utf-8') if isinstance(n, bytes) else str(n)
                       for n in found[meta_name][1].get(names_key, [])]
    return train_x, train_y, test_x, test_y, label_names


def _channel_statistics(images, chunk=5000):
    """Mean and standard deviation of each channel (last axis) of uint8
    images, accumulated in float64 chunk by chunk (a float64 copy of all
    CIFAR training images would take a gigabyte)."""
    channels = images.shape[-1]
    total = np.zeros(channels)
    squares = np.zeros(channels)
    for start in range(0, len(images), chunk):
        part = images[start:start + chunk].reshape(-1, channels).astype(
            np.float64)
        total += part.sum(axis=0)
        squares += np.square(part).sum(axis=0)
    count = max(int(np.prod(images.shape[:-1])), 1)
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean ** 2, 0))
    std[std == 0] = 1
    return mean, std


def _prepare_cifar(archive, filename, variant, validation_size, label_type,
                   compression):
    tr_x, tr_y, te_x, te_y, label_names = read_cifar(archive, variant,
                                                     label_type)
    num_classes = 10 if variant == 'cifar10' else \
        (100 if label_type == 'fine' else 20)
    for labels, part in ((tr_y, 'training'), (te_y, 'test')):
        if len(labels) and not 0 <= labels.min() <= labels.max() < \
                num_classes:
            raise ValueError('{}: {} labels must be 0..{}, found {}..{}'
                             .format(archive, part, num_classes - 1,
                                     labels.min(), labels.max()))
    splits = _image_splits(tr_x, tr_y, te_x, te_y, validation_size, archive)
    mean, std = _channel_statistics(splits['training']['default'][0])
    for items in splits.values():
        images = items['default'].astype(np.float32)
        images -= mean.astype(np.float32)
        images /= std.astype(np.float32)
        items['default'] = images
    name = 'CIFAR-10' if variant == 'cifar10' else 'CIFAR-100'
    attrs = {'description': '{} (A. Krizhevsky, 2009), each colour channel '
                            'standardised with the mean and standard '
                            'deviation of the training split'.format(name),
             'mean': mean.astype(np.float32),
             'std': std.astype(np.float32)}
    if label_names:
        attrs['label_names'] = np.array(label_names,
                                        dtype=h5py.string_dtype())
    return write_dataset(filename, splits, attrs, compression=compression)


def prepare_cifar10(archive, filename, validation_size=10000,
                    compression=None):
    """Write CIFAR-10 in the manual's HDF5 layout.

    The last ``validation_size`` training images (the last batch, for the
    default) become the validation set: 40000 / 10000 / 10000. Images are
    shaped (1, N, 32, 32, 3), float32, each colour channel standardised
    (zero mean, unit standard deviation) with the statistics of the
    training split, which are stored as the group attributes ``mean`` and
    ``std``; targets (1, N, 1), uint8 class indices. The group attribute
    ``label_names`` holds the class names.

    Parameters
    ----------
    archive : str or path
        ``cifar-10-python.tar.gz``.
    filename : str or path
        The HDF5 file to write (e.g. ``CIFAR-10.hdf5``).
    validation_size : int
        Number of training images held out for validation.
    compression : str, optional
        h5py compression filter of the datasets.

    Returns
    -------
    str
        ``filename``.
    """
    return _prepare_cifar(archive, filename, 'cifar10', validation_size,
                          'fine', compression)


def prepare_cifar100(archive, filename, validation_size=10000,
                     label_type='fine', compression=None):
    """Write CIFAR-100 in the manual's HDF5 layout.

    As :func:`prepare_cifar10`; the targets are the 100 fine classes, or
    the 20 coarse superclasses with ``label_type='coarse'``.

    Parameters
    ----------
    archive : str or path
        ``cifar-100-python.tar.gz``.
    filename : str or path
        The HDF5 file to write (e.g. ``CIFAR-100.hdf5``).
    validation_size : int
        Number of training images held out for validation.
    label_type : str
        'fine' or 'coarse'.
    compression : str, optional
        h5py compression filter of the datasets.

    Returns
    -------
    str
        ``filename``.
    """
    return _prepare_cifar(archive, filename, 'cifar100', validation_size,
                          label_type, compression)


# -- text: the Hutter Prize corpus (enwik8) or any text file -----------------
def _compression_of(path):
    """'gzip', 'bzip2', 'xz', 'zip' or None (plain), from the first bytes
    of the file."""
    with open(path, 'rb') as f:
        head = f.read(6)
    if head[:2] == b'\x1f\x8b':
        return 'gzip'
    if head[:3] == b'BZh':
        return 'bzip2'
    if head == b'\xfd7zXZ\x00':
        return 'xz'
    if head[:4] in (b'PK\x03\x04', b'PK\x05\x06'):
        return 'zip'
    return None


def read_text(path, member=None):
    """The bytes of a text file as a uint8 array, and what was read.

    Parameters
    ----------
    path : str or path
        A plain text file, a file compressed with gzip, bzip2 or xz, or a
        zip archive (told apart by their first bytes, not their names).
    member : str, optional
        For a zip archive: the file inside to read. Without it the archive
        must hold exactly one file, which is read.

    Returns
    -------
    tuple
        (numpy.ndarray of uint8, a description such as
        ``'enwik8.zip:enwik8 (zip)'`` or ``'corpus.txt.gz (gzip)'``).

    Raises
    ------
    ValueError
        If ``member`` is given for a file that is not a zip archive, if
        the archive lacks it, or if the archive holds several files and no
        ``member`` says which (the message lists them); or if the file is
        not a valid archive of its kind.
    """
    kind = _compression_of(path)
    if kind != 'zip' and member is not None:
        raise ValueError(
            'member {!r}: {} is {}, not a zip archive; leave the member '
            'out'.format(member, path, 'a {} file'.format(kind)
                         if kind else 'a plain file'))
    try:
        if kind == 'zip':
            with zipfile.ZipFile(path) as z:
                files = [name for name in z.namelist()
                         if not name.endswith('/')]
                if member is None:
                    if len(files) != 1:
                        raise ValueError(
                            '{} holds {} files ({}); say which to read '
                            '(--member NAME, or member=NAME)'.format(
                                path, len(files),
                                ', '.join(files) or 'none'))
                    member = files[0]
                try:
                    content = z.read(member)
                except KeyError:
                    raise ValueError('{} has no member {!r} (it holds: {})'
                                     .format(path, member,
                                             ', '.join(files) or 'nothing')) \
                        from None
            source = '{}:{} (zip)'.format(os.fspath(path), member)
        else:
            opener = {'gzip': gzip.open, 'bzip2': bz2.open,
                      'xz': lzma.open, None: open}[kind]
            with opener(path, 'rb') as f:
                content = f.read()
            source = '{} ({})'.format(os.fspath(path), kind or 'plain')
    except (zipfile.BadZipFile, OSError, EOFError, lzma.LZMAError) as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise ValueError('{} looks like a {} file but cannot be read as one: '
                         '{}'.format(path, kind, err)) from err
    if content[257:262] == b'ustar':
        raise ValueError('{} is a tar archive, not a text: extract the text '
                         'file from it (tar xf) and give that file'.format(
                             source))
    return np.frombuffer(content, dtype=np.uint8), source


def read_hutter(archive, member=None):
    """The bytes of the text in ``archive`` as a uint8 array (see
    :func:`read_text`: plain, gzip, bzip2, xz or zip)."""
    return read_text(archive, member)[0]


def _split_sizes(split, size):
    """Byte counts of the training, validation and test parts: ``split``
    as 3 byte counts, 3 fractions of ``size``, or None for
    :data:`TEXT_SPLIT`."""
    if split is None:
        split = TEXT_SPLIT
    split = tuple(split)

    def integral(s):
        return isinstance(s, (int, np.integer)) and not isinstance(s, bool)

    def fraction(s):
        return isinstance(s, (float, np.floating)) and 0 <= s <= 1
    if len(split) == 3 and all(integral(s) and s >= 0 for s in split):
        return tuple(int(s) for s in split)
    if len(split) == 3 and all(fraction(s) for s in split) and \
            sum(split) <= 1 + 1e-9:
        validation = int(size * split[1])
        test = int(size * split[2])
        training = size - validation - test
        if sum(split) < 1 - 1e-9:   # the rest of the file stays unused
            training = min(int(size * split[0]), training)
        return training, validation, test
    raise ValueError('split must be 3 byte counts (training, validation, '
                     'test), or 3 fractions of the file that add up to 1 or '
                     'less, got {!r}'.format(split))


def prepare_hutter(archive, filename, split=None, seq_len=100,
                   member=None, compression=None, log=None):
    """Write a text, such as the Hutter Prize corpus (enwik8), as byte
    sequences in the manual's HDF5 layout.

    The bytes are mapped to symbol indices 0..K-1 in the order of the byte
    values that occur in the whole file (205 symbols for enwik8; a UTF-8
    character outside ASCII is two to four bytes, so two to four symbols);
    the group attribute ``alphabet`` holds the byte value of each symbol.
    The first ``split[0]`` bytes are the training data, the next
    ``split[1]`` the validation data and the next ``split[2]`` the test
    data. Each part is cut into sequences of ``seq_len`` steps:
    ``default`` holds the symbols and ``targets`` the symbol that follows
    each one, both shaped (seq_len, N, 1), uint8 (a part of n bytes gives
    N = (n - 1) // seq_len sequences; the remainder is dropped).

    Parameters
    ----------
    archive : str or path
        The text: ``enwik8.zip``, or any plain, gzip, bzip2 or xz
        compressed text file or zip archive (see :func:`read_text`).
    filename : str or path
        The HDF5 file to write (e.g. ``Hutter.hdf5``).
    split : tuple of 3 ints or 3 floats, optional
        Byte counts of the training, validation and test parts, or their
        fractions of the file. Default :data:`TEXT_SPLIT`: 90 % / 5 % / 5 %
        (90M / 5M / 5M bytes for enwik8, as :data:`HUTTER_SPLIT`).
    seq_len : int
        Length T of the sequences.
    member : str, optional
        The file to read from a zip archive (needed only when it holds
        several).
    compression : str, optional
        h5py compression filter of the datasets.
    log : callable, optional
        Called with each line of a report (the source, its size and
        symbol count, each part's bytes and sequences), e.g. ``print``.

    Returns
    -------
    str
        ``filename``.
    """
    if isinstance(seq_len, bool) or not isinstance(
            seq_len, (int, np.integer)) or seq_len < 1:
        raise ValueError('seq_len must be a positive integer, got {!r}'
                         .format(seq_len))
    raw, source = read_text(archive, member)
    sizes = _split_sizes(split, len(raw))
    if sum(sizes) > len(raw):
        raise ValueError('split {} asks for {} bytes, but {} has {}'.format(
            sizes, sum(sizes), source, len(raw)))
    alphabet = np.flatnonzero(np.bincount(raw, minlength=256))
    lookup = np.zeros(256, dtype=np.uint8)
    lookup[alphabet] = np.arange(len(alphabet))
    symbols = lookup[raw]
    splits, start, report = {}, 0, []
    for name, size in zip(SPLIT_NAMES, sizes):
        part = symbols[start:start + size]
        start += size
        n = max(len(part) - 1, 0) // seq_len
        if n == 0:
            raise ValueError(
                'the {} part ({} bytes of the {} of {}) is too short for '
                'one sequence of seq_len={} steps and its targets; give a '
                'smaller seq_len (--seq-len) or a larger part '
                '(--split)'.format(name, size, len(raw), source, seq_len))
        inputs = part[:n * seq_len].reshape(n, seq_len)
        targets = part[1:n * seq_len + 1].reshape(n, seq_len)
        splits[name] = {'default': inputs.T[..., np.newaxis],
                        'targets': targets.T[..., np.newaxis]}
        report.append('  {:<10}  bytes {:>11,} to {:>11,} ({:5.1f} %): {:,} '
                      'sequences of {} steps'.format(
                          name, start - size, start,
                          100.0 * size / max(len(raw), 1), n, seq_len))
    attrs = {'description': 'text of {} as byte sequences: symbol indices '
                            'into "alphabet", targets are the next '
                            'symbol'.format(source),
             'alphabet': alphabet.astype(np.uint8)}
    write_dataset(filename, splits, attrs, compression=compression)
    if log is not None:
        unused = len(raw) - sum(sizes)
        log('Read {}: {:,} bytes, {} symbols (distinct byte values)'.format(
            source, len(raw), len(alphabet)))
        for line in report:
            log(line)
        if unused:
            log('  {:,} byte{} at the end {} in no part'.format(
                unused, 's' if unused > 1 else '',
                'are' if unused > 1 else 'is'))
    return os.fspath(filename)
