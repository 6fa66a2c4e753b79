"""Trainer logs: looking up entries by their dotted names, saving them to
and loading them from HDF5 files.

``trainer.logs`` is a dict with one entry per hook that logged something
(keyed by the hook's name) and ``'rolling_training'``; each entry is a dict
whose values are lists with one value per call of the hook, or nested dicts
of such lists: ``trainer.logs['validation']['Accuracy']``,
``trainer.logs['mon']['W']['mean']``.
"""
import json
from collections import OrderedDict

import numpy as np

from brainstorm.fileio import (FileFormatError, check_format, read_hdf5,
                              write_hdf5_atomically)

__all__ = ['lookup_log', 'MissingLogError', 'save_logs', 'load_logs']

LOGS_FORMAT = 'brainstorm-logs'
LOGS_FORMAT_VERSION = 1


class MissingLogError(KeyError):
    """A dotted log name that names no log entry."""

    def __str__(self):
        return str(self.args[0]) if self.args else ''


def lookup_log(logs, log_name):
    """Return the list of values logged under the dotted ``log_name``.

    ``log_name`` is ``'<hook name>.<key>'``, where ``<key>`` may itself be a
    dotted path into nested logs (``'validation.Accuracy'``,
    ``'rolling_training.total_loss'``, ``'mon.Output.loss'``). Names that
    contain dots themselves (a hook named ``'val.set'``) are matched too.

    Parameters
    ----------
    logs : dict
        The trainer's logs (``trainer.logs``).
    log_name : str
        The dotted name of the entry.

    Returns
    -------
    list
        The logged values, one per call of the logging hook.

    Raises
    ------
    MissingLogError
        If no entry has that name, or it names a group of entries; the
        message lists what exists.
    """
    entry = _walk(logs, log_name.split('.'))
    if entry is None:
        raise MissingLogError('no log named {!r}; the logs so far are: '
                              '{}'.format(log_name,
                                          ', '.join(_flat_names(logs))
                                          or 'none'))
    if isinstance(entry, dict):
        raise MissingLogError(
            '{!r} is a group of logs, not one entry; name one of: {}'.format(
                log_name, ', '.join(log_name + '.' + n
                                    for n in _flat_names(entry))))
    return entry


def _walk(node, parts):
    # longest key first, so that keys containing dots are found
    for i in range(len(parts), 0, -1):
        key = '.'.join(parts[:i])
        if isinstance(node, dict) and key in node:
            if i == len(parts):
                return node[key]
            found = _walk(node[key], parts[i:])
            if found is not None:
                return found
    return None


def _flat_names(node, prefix=''):
    names = []
    for key, value in node.items():
        if isinstance(value, dict):
            names.extend(_flat_names(value, prefix + key + '.'))
        else:
            names.append(prefix + key)
    return names


def save_logs(filename, logs, epoch_nr=None, update_nr=None):
    """Write trainer logs to an HDF5 file.

    Every dict becomes a group (its attribute ``order`` lists the keys in
    their order, as JSON) and every list of logged values one dataset:
    numbers and booleans as a numeric dataset, equally shaped arrays as one
    array with a leading axis, strings as a string dataset, anything else
    (None, mixed types, dicts) as one JSON string per value, marked by the
    dataset attribute ``json``. The file is written to a temporary file
    beside ``filename`` and renamed into place, so an interrupted save
    leaves an existing file intact.

    Parameters
    ----------
    filename : str
        The file to write; its directory must exist.
    logs : dict
        Nested dicts whose leaves are lists (``trainer.logs``).
    epoch_nr, update_nr : int, optional
        Stored as file attributes ``epoch_nr`` and ``update_nr``.

    Raises
    ------
    ValueError
        If a log name contains '/' or is '.' or empty (HDF5 cannot name a
        group or dataset so); nothing is written then.
    TypeError
        If a log entry is neither a dict nor a list/tuple.
    brainstorm.SaveError
        If the file cannot be written (disk full ...); an existing file is
        unchanged.
    """
    _check_log_names(logs, '')

    def write(f):
        f.attrs['format'] = LOGS_FORMAT
        f.attrs['format_version'] = LOGS_FORMAT_VERSION
        if epoch_nr is not None:
            f.attrs['epoch_nr'] = int(epoch_nr)
        if update_nr is not None:
            f.attrs['update_nr'] = int(update_nr)
        _write_group(f, logs)
    write_hdf5_atomically(filename, write)


def load_logs(filename):
    """Read logs written by :func:`save_logs` (or the ``SaveLogs`` hook).

    Parameters
    ----------
    filename : str
        The HDF5 file.

    Returns
    -------
    OrderedDict
        Nested dicts of lists, equal to the logs that were saved, keys in
        the order they had there (logged arrays come back as nested
        lists).

    Raises
    ------
    FileNotFoundError, PermissionError
        If the file cannot be opened.
    brainstorm.FileFormatError
        If the file was not written by :func:`save_logs` (the message says
        what it is instead) or is damaged.
    """
    what = 'brainstorm logs file'
    with read_hdf5(filename, what) as f:
        check_format(f, f.filename, LOGS_FORMAT, LOGS_FORMAT_VERSION, what)
        try:
            return _read_group(f)
        except (TypeError, ValueError) as err:
            raise FileFormatError('{} is a damaged {}: {}'.format(
                f.filename, what, err), f.filename) from err


def _check_log_names(node, prefix):
    for key, value in node.items():
        name = prefix + str(key)
        if not isinstance(key, str) or not key or '/' in key or key == '.':
            raise ValueError('cannot save the log {!r}: an HDF5 group or '
                             "dataset name cannot contain '/' or be '.' or "
                             'empty'.format(name))
        if isinstance(value, dict):
            _check_log_names(value, name + '.')
        elif not isinstance(value, (list, tuple)):
            raise TypeError('cannot save the log {!r}: expected a list of '
                            'values or a dict, got {!r}'.format(name, value))


def _write_group(group, node):
    import h5py
    group.attrs['order'] = json.dumps(list(node))
    for key, value in node.items():
        if isinstance(value, dict):
            _write_group(group.create_group(key), value)
            continue
        array = _as_array(value)
        if array is None:
            dataset = group.create_dataset(
                key, data=[json.dumps(v, default=_json_default)
                           for v in value],
                dtype=h5py.string_dtype())
            dataset.attrs['json'] = True
        elif array.dtype.kind == 'U':
            group.create_dataset(key, data=array.astype(object),
                                 dtype=h5py.string_dtype())
        else:
            group.create_dataset(key, data=array)


def _as_array(values):
    """Values as a numeric, boolean or string array, or None."""
    if len(values) == 0:
        return np.zeros((0,))
    try:
        array = np.asarray(values)
    except ValueError:   # ragged
        return None
    if array.dtype.kind in 'biufU' and array.ndim >= 1:
        if array.dtype.kind == 'U' and array.ndim != 1:
            return None
        return array
    return None


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _read_group(group):
    import h5py
    result = OrderedDict()
    keys = json.loads(group.attrs['order']) if 'order' in group.attrs \
        else list(group)
    for key in keys:
        item = group[key]
        if isinstance(item, h5py.Group):
            result[key] = _read_group(item)
        elif item.attrs.get('json', False):
            result[key] = [json.loads(v) for v in item.asstr()[()]]
        elif h5py.check_string_dtype(item.dtype) is not None:
            result[key] = list(item.asstr()[()])
        else:
            result[key] = item[()].tolist()
    return result
