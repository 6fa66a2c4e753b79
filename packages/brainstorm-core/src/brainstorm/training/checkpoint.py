"""Checkpoints: everything a training run needs to continue, in one file.

A checkpoint is an HDF5 file that is at the same time a network file: its
root holds what :meth:`Network.save_as_hdf5` writes (so
``bs.Network.from_hdf5(checkpoint)`` loads the network), and the group
``checkpoint`` holds the training state:

* attributes ``format`` (``'brainstorm-checkpoint'``) and
  ``format_version``;
* attribute ``trainer`` (JSON): ``verbose``, the descriptions of the
  ``train_scorers``, the position (``epoch``, ``update`` and, for a
  checkpoint taken between the updates of an epoch, the losses and scores of
  the epoch so far);
* attribute ``stepper`` (JSON): the stepper's description; its state arrays
  (``get_state()``) are the datasets of the group ``checkpoint/stepper``;
* attribute ``logs`` (JSON): ``trainer.logs``;
* attribute ``hooks`` (JSON): one entry per hook in the trainer's order, its
  name, its description (null where it cannot be described) and its
  ``get_checkpoint_state()``;
* attribute ``random`` (JSON): the states of ``bs.global_rnd``, the
  network's ``rnd``, its handler's ``rnd`` and of every data iterator that
  has ``get_checkpoint_state`` (by name, ``'training_data_iter'`` for the
  training data).

Nothing is pickled. Numpy scalars and arrays inside logs and states are
written with their dtype (see :func:`encode_values`), so they are read back
bit for bit. The file is written to a temporary file beside the target and
renamed into place.
"""
import json

import numpy as np

from brainstorm.fileio import (FileFormatError, check_format, describe_hdf5,
                              read_dataset, read_hdf5, read_json_attribute,
                              write_hdf5_atomically)
from brainstorm.randomness import RandomState

__all__ = ['CHECKPOINT_FORMAT', 'CHECKPOINT_FORMAT_VERSION',
           'get_random_state', 'set_random_state', 'encode_values',
           'decode_values', 'write_checkpoint', 'read_checkpoint']

CHECKPOINT_FORMAT = 'brainstorm-checkpoint'
CHECKPOINT_FORMAT_VERSION = 1

_JSON_ENTRIES = ('trainer', 'stepper', 'logs', 'hooks', 'random')
_BIT_GENERATORS = {'PCG64': np.random.PCG64, 'PCG64DXSM': np.random.PCG64DXSM,
                   'MT19937': np.random.MT19937, 'Philox': np.random.Philox,
                   'SFC64': np.random.SFC64}


# -- random states -----------------------------------------------------------
def get_random_state(rnd):
    """The complete state of a numpy ``RandomState`` as a JSON-serialisable
    dict.

    For a :class:`brainstorm.randomness.RandomState` it includes its seed
    and the state of its fast ``generator`` (used for dropout masks), if
    that has been drawn.
    """
    kind, key, pos, has_gauss, gauss = rnd.get_state(legacy=True)
    state = {'kind': kind, 'key': key.tolist(), 'pos': int(pos),
             'has_gauss': int(has_gauss), 'gauss': float(gauss)}
    if isinstance(rnd, RandomState):
        state['seed'] = rnd.get_seed()
        generator = rnd._generator
        state['generator'] = None if generator is None else \
            generator.bit_generator.state
    return state


def set_random_state(rnd, state):
    """Put ``rnd`` (a numpy ``RandomState``) into the state that
    :func:`get_random_state` returned."""
    rnd.set_state((state['kind'], np.array(state['key'], dtype=np.uint32),
                   state['pos'], state['has_gauss'], state['gauss']))
    if isinstance(rnd, RandomState) and 'seed' in state:
        rnd._seed = int(state['seed'])
        generator_state = state.get('generator')
        if generator_state is None:
            rnd._generator = None
        else:
            name = generator_state['bit_generator']
            if name not in _BIT_GENERATORS:
                raise ValueError('unknown bit generator {!r} in a random '
                                 'state'.format(name))
            bit_generator = _BIT_GENERATORS[name]()
            bit_generator.state = generator_state
            rnd._generator = np.random.Generator(bit_generator)


# -- values with numpy types --------------------------------------------------
def encode_values(value):
    """Turn logs or states into JSON-serialisable values, keeping numpy
    types: a numpy scalar becomes ``{'@scalar': dtype, 'value': v}``, an
    array ``{'@ndarray': dtype, 'shape': s, 'data': flat list}``, a tuple
    ``{'@tuple': [...]}``. Float values survive the round trip through JSON
    exactly. :func:`decode_values` reverses it.

    Raises
    ------
    TypeError
        For values that are none of these, dict keys that are not str and
        complex numbers.
    """
    if isinstance(value, np.generic):   # before float: np.float64 is one
        _check_dtype(value.dtype)
        return {'@scalar': value.dtype.str, 'value': value.item()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.ndarray):
        _check_dtype(value.dtype)
        return {'@ndarray': value.dtype.str, 'shape': list(value.shape),
                'data': value.ravel().tolist()}
    if isinstance(value, tuple):
        return {'@tuple': [encode_values(v) for v in value]}
    if isinstance(value, list):
        return [encode_values(v) for v in value]
    if isinstance(value, dict):
        encoded = {}
        for key, val in value.items():
            if not isinstance(key, str):
                raise TypeError('cannot write the dict key {!r} (of type {}) '
                                'to a checkpoint: keys must be str'.format(
                                    key, type(key).__name__))
            encoded[key] = encode_values(val)
        if any(key.startswith('@') for key in encoded):
            return {'@dict': [[k, v] for k, v in encoded.items()]}
        return encoded
    raise TypeError('cannot write {!r} (of type {}) to a checkpoint'.format(
        value, type(value).__name__))


def _check_dtype(dtype):
    if dtype.kind not in 'biuf':
        raise TypeError('cannot write numpy values of dtype {} to a '
                        'checkpoint'.format(dtype))


def _decode_dtype(name):
    dtype = np.dtype(name)
    if dtype.kind not in 'biuf':
        raise ValueError('a checkpoint cannot hold numpy values of dtype '
                         '{}'.format(dtype))
    return dtype


def decode_values(value, dict_type=dict):
    """Reverse :func:`encode_values`; dicts become ``dict_type``."""
    if isinstance(value, list):
        return [decode_values(v, dict_type) for v in value]
    if not isinstance(value, dict):
        return value
    if '@scalar' in value:
        return _decode_dtype(value['@scalar']).type(value['value'])
    if '@ndarray' in value:
        return np.array(value['data'], dtype=_decode_dtype(value['@ndarray'])
                        ).reshape(value['shape'])
    if '@tuple' in value:
        return tuple(decode_values(v, dict_type) for v in value['@tuple'])
    if '@dict' in value:
        return dict_type((k, decode_values(v, dict_type))
                         for k, v in value['@dict'])
    return dict_type((k, decode_values(v, dict_type))
                     for k, v in value.items())


# -- the file -----------------------------------------------------------------
def write_checkpoint(filename, net, entries, stepper_state):
    """Write a checkpoint file.

    Parameters
    ----------
    filename : str
        The file to write (its directory must exist). It is written to a
        temporary file beside it, which is then renamed into place, so an
        interrupted write leaves an existing checkpoint intact.
    net : Network
        Saved with ``net.save_as_hdf5``.
    entries : dict
        The JSON-serialisable entries ``trainer``, ``stepper``, ``logs``,
        ``hooks`` and ``random`` (see the module's docstring).
    stepper_state : dict[str, numpy.ndarray]
        The stepper's ``get_state()``.

    Raises
    ------
    brainstorm.SaveError
        If the file cannot be written (disk full ...): an existing file is
        unchanged.
    """
    def write(f):
        net._write_hdf5(f, comment='brainstorm training checkpoint')
        group = f.create_group('checkpoint')
        group.attrs['format'] = CHECKPOINT_FORMAT
        group.attrs['format_version'] = CHECKPOINT_FORMAT_VERSION
        for key in _JSON_ENTRIES:
            group.attrs[key] = json.dumps(entries[key])
        states = group.create_group('stepper')
        for key, value in stepper_state.items():
            states.create_dataset(key, data=np.asarray(value))
    write_hdf5_atomically(filename, write)


def read_checkpoint(filename):
    """Read a checkpoint file written by :func:`write_checkpoint`.

    Returns
    -------
    dict
        The JSON entries (``trainer``, ``stepper``, ``logs``, ``hooks``,
        ``random``, decoded from JSON but not from :func:`encode_values`),
        ``network`` (the network's description), ``parameters`` (the flat
        parameter vector) and ``stepper_state`` (dict of numpy arrays).

    Raises
    ------
    FileNotFoundError, PermissionError
        If the file cannot be opened.
    brainstorm.FileFormatError
        If the file is not a brainstorm checkpoint (the message says what
        it is instead), has a newer format, or is damaged.
    """
    import h5py
    what = 'brainstorm checkpoint'
    with read_hdf5(filename, what) as f:
        filename = f.filename
        group = f.get('checkpoint')
        if not isinstance(group, h5py.Group) or \
                group.attrs.get('format') != CHECKPOINT_FORMAT:
            raise FileFormatError(
                '{} is not a brainstorm checkpoint: it is {}; checkpoints '
                'are written by Trainer.save_checkpoint and the '
                'SaveCheckpoint hook'.format(filename, describe_hdf5(f)),
                filename)
        check_format(group, filename, CHECKPOINT_FORMAT,
                     CHECKPOINT_FORMAT_VERSION, what)
        contents = {key: read_json_attribute(group, key, filename, what)
                    for key in _JSON_ENTRIES}
        contents['network'] = read_json_attribute(f, 'description', filename,
                                                  what)
        contents['parameters'] = read_dataset(f, 'parameters', filename,
                                              what)
        states = group.get('stepper')
        if not isinstance(states, h5py.Group):
            raise FileFormatError('{} is a damaged {}: it has no group '
                                  "'checkpoint/stepper'".format(filename,
                                                                what),
                                  filename)
        contents['stepper_state'] = {
            key: read_dataset(states, key, filename, what)
            for key in states}
    _check_entries(contents, filename, what)
    return contents


# what read_checkpoint's callers look up in the entries: key -> (type, keys)
_ENTRY_LAYOUT = {
    'trainer': (dict, ('verbose', 'train_scorers', 'position')),
    'stepper': ((dict, type(None)), ()),
    'logs': (dict, ()),
    'hooks': (list, ()),
    'random': (dict, ('global', 'network', 'handler', 'iterators')),
    'network': (dict, ('architecture',)),
}


def _check_entries(contents, filename, what):
    def damaged(problem):
        return FileFormatError('{} is a damaged {}: {}'.format(
            filename, what, problem), filename)
    for key, (kind, keys) in _ENTRY_LAYOUT.items():
        entry = contents[key]
        if not isinstance(entry, kind):
            raise damaged('its entry {!r} holds {}'.format(
                key, type(entry).__name__))
        missing = [k for k in keys if k not in entry]
        if missing:
            raise damaged('its entry {!r} lacks {}'.format(
                key, ', '.join(repr(k) for k in missing)))
    position = contents['trainer']['position']
    if not isinstance(position, dict) or not all(
            isinstance(position.get(k), int) for k in ('epoch', 'update')):
        raise damaged('its training position {!r} is not an epoch and an '
                      'update number'.format(position))
    for hook in contents['hooks']:
        if not isinstance(hook, dict) or not {'name', 'description',
                                              'state'} <= set(hook):
            raise damaged('its hook entry {!r} lacks the name, description '
                          'or state'.format(hook))
