"""Writing and reading brainstorm's files.

Every file brainstorm writes (networks, checkpoints, logs, prepared data,
extracted features, plots) goes through :func:`write_bytes_atomically`:
the contents are written to a temporary file in the target's directory,
flushed to the disk (``fsync``), renamed into place (``os.replace``) and the
directory is flushed too. A failed or interrupted save therefore leaves the
previous file as it was, and a completed one survives a power cut. HDF5
files are first built in memory (:func:`write_hdf5_atomically`), so that
HDF5 itself never writes to the disk and a full disk is an ordinary
:class:`SaveError`.

New files get the permissions the umask allows (0644 under umask 022); a
file that is replaced keeps its permission bits.

:func:`read_hdf5` opens brainstorm's HDF5 files for reading: a missing file
raises the usual ``FileNotFoundError``, a file that is not the expected
kind, or is damaged, raises :class:`FileFormatError` naming it.
"""
import contextlib
import errno
import os
import re
import secrets
import stat

__all__ = ['SaveError', 'FileFormatError', 'write_bytes_atomically',
           'write_hdf5_atomically', 'read_hdf5', 'open_hdf5',
           'describe_hdf5', 'check_format', 'read_json_attribute',
           'read_dataset']

# errors of fsync on a directory that only mean it is not supported there
_NO_DIRECTORY_SYNC = {errno.EINVAL, errno.EBADF, errno.EACCES, errno.EPERM,
                      errno.EISDIR, errno.ENOTSUP, errno.EOPNOTSUPP}
# keep temporary names within the 255 bytes most file systems allow
_MAX_PREFIX = 200


class SaveError(OSError):
    """A file could not be written (disk full, no permission, ...).

    The message names the file and the reason, and says what is on the disk
    now: ``could not save net.h5: No space left on device (the previous
    file is unchanged)``. ``errno``, ``strerror`` and ``filename`` are
    those of the failed operation; nothing that was in memory is lost.
    """

    def __init__(self, message, errno=None, strerror=None, filename=None):
        super().__init__(errno, strerror, filename)
        self.message = message

    def __str__(self):
        return self.message

    def __reduce__(self):
        return (type(self), (self.message, self.errno, self.strerror,
                             self.filename))


class FileFormatError(ValueError):
    """A file is not the kind of file expected, or it is damaged.

    The message names the file and what is wrong with it: ``net.h5 is not
    a brainstorm network file: it is not an HDF5 file``.

    Attributes
    ----------
    filename : str or None
        The file.
    """

    def __init__(self, message, filename=None):
        super().__init__(message)
        self.filename = filename


# -- writing ------------------------------------------------------------------
def write_bytes_atomically(filename, data):
    """Replace the file ``filename`` with ``data``, atomically and durably.

    ``data`` is written to a temporary file beside ``filename`` (created
    with the permissions the umask allows, or with the permission bits of
    the file it replaces), flushed to the disk, renamed into place, and the
    directory is flushed. If anything fails, the temporary file is removed
    and an existing ``filename`` is unchanged.

    Parameters
    ----------
    filename : str or path
        The file to write; its directory must exist.
    data : bytes-like
        The new contents.

    Raises
    ------
    SaveError
        If the file cannot be written (the directory does not exist or is
        not writable, the disk is full, ...).
    """
    filename = _as_str(filename)
    directory = os.path.dirname(os.path.abspath(filename))
    existed = os.path.lexists(filename)
    tmp = None
    try:
        fd, tmp = _create_temporary(filename, directory)
        try:
            _keep_mode(filename, fd, tmp)
            view = memoryview(data).cast('B')
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.close(fd)
            raise
        os.close(fd)
        os.replace(tmp, filename)
        tmp = None
    except OSError as err:
        raise _save_error(filename, err, 'the previous file is unchanged'
                          if existed else 'nothing was written') from err
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    _sync_directory(directory, filename)


def write_hdf5_atomically(filename, write):
    """Write an HDF5 file with :func:`write_bytes_atomically`.

    ``write(f)`` fills ``f``, an ``h5py.File`` held in memory (h5py's
    ``core`` driver without a backing store); its image is then written to
    ``filename``. Errors raised by ``write`` propagate and leave the disk
    untouched.

    Parameters
    ----------
    filename : str or path
        The file to write; its directory must exist.
    write : callable
        Called with the open ``h5py.File``.

    Raises
    ------
    SaveError
        If the file cannot be written.
    """
    import h5py
    filename = _as_str(filename)
    label = '{}.{}.in-memory'.format(os.path.basename(filename),
                                     secrets.token_hex(8))
    with h5py.File(label, 'w', driver='core', backing_store=False) as f:
        write(f)
        f.flush()
        image = f.id.get_file_image()
    write_bytes_atomically(filename, image)


def _as_str(filename):
    filename = os.fspath(filename)
    return os.fsdecode(filename) if isinstance(filename, bytes) else filename


def _create_temporary(filename, directory):
    """Create a new file beside ``filename``: (fd, path)."""
    prefix = '.' + os.path.basename(filename)[:_MAX_PREFIX] + '.'
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | \
        getattr(os, 'O_BINARY', 0) | getattr(os, 'O_CLOEXEC', 0)
    for _ in range(100):
        path = os.path.join(directory,
                            prefix + secrets.token_hex(4) + '.tmp')
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, 'no free temporary file name',
                          directory)


def _keep_mode(filename, fd, tmp):
    """Give the temporary file the permission bits of the file it
    replaces."""
    try:
        info = os.stat(filename)
    except OSError:
        return
    if not stat.S_ISREG(info.st_mode):
        return
    mode = stat.S_IMODE(info.st_mode) & 0o777
    if hasattr(os, 'fchmod'):
        os.fchmod(fd, mode)
    else:   # pragma: no cover - Windows
        os.chmod(tmp, mode)


def _sync_directory(directory, filename):
    """Flush the directory entry of a renamed file to the disk."""
    if os.name == 'nt':   # pragma: no cover - no directory handles
        return
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno not in _NO_DIRECTORY_SYNC:
            raise _save_error(filename, err, 'the new file is in place, but '
                              'may not survive a power cut') from err
    finally:
        os.close(fd)


def _save_error(filename, err, note):
    reason = err.strerror or str(err)
    return SaveError('could not save {}: {} ({})'.format(filename, reason,
                                                         note),
                     err.errno, reason, filename)


# -- reading ------------------------------------------------------------------
def _a(what):
    return ('an ' if what[:1].lower() in 'aeiou' else 'a ') + what


def open_hdf5(filename, what):
    """Open an HDF5 file for reading.

    Parameters
    ----------
    filename : str or path
        The file.
    what : str
        What the file should be, for messages (``'brainstorm network
        file'``).

    Returns
    -------
    h5py.File

    Raises
    ------
    OSError
        If the file cannot be opened (``FileNotFoundError``,
        ``PermissionError``, ``IsADirectoryError``: the message names it).
    FileFormatError
        If it is empty, not an HDF5 file, or truncated or damaged.
    """
    import h5py
    filename = _as_str(filename)
    with open(filename, 'rb') as raw:
        size = os.fstat(raw.fileno()).st_size
    if size == 0:
        raise FileFormatError('{} is not {}: it is empty'.format(
            filename, _a(what)), filename)
    if not h5py.is_hdf5(filename):
        raise FileFormatError('{} is not {}: it is not an HDF5 file'.format(
            filename, _a(what)), filename)
    try:
        return h5py.File(filename, 'r')
    except OSError as err:
        raise FileFormatError('{} is not a readable {}: {}'.format(
            filename, what, _hdf5_reason(err)), filename) from None


def _hdf5_reason(err):
    """What h5py's message says, without its wrapping."""
    text = str(err)
    truncated = re.search(r'truncated file: eof = (\d+).*stored_eof = (\d+)',
                          text)
    if truncated:
        return 'it is truncated (it has {} of its {} bytes)'.format(
            *truncated.groups())
    inner = re.match(r'^(?:\[Errno \d+\] )?Unable to [^(]*\((.*)\)$',
                     text.strip('"\''))
    return 'HDF5 reports: ' + (inner.group(1) if inner else text)


@contextlib.contextmanager
def read_hdf5(filename, what):
    """Context manager: the open HDF5 file (see :func:`open_hdf5`); errors
    that HDF5 raises while it is read (a damaged file) become
    :class:`FileFormatError` naming it. The file is closed at the end."""
    filename = _as_str(filename)
    f = open_hdf5(filename, what)
    try:
        yield f
    except (OSError, KeyError, RuntimeError) as err:
        raise FileFormatError('{} is a damaged {}: reading it failed ({})'
                              .format(filename, what, _hdf5_reason(err)),
                              filename) from err
    finally:
        f.close()


def describe_hdf5(f):
    """What kind of file the open HDF5 file ``f`` is, for messages (``'a
    brainstorm checkpoint'``, ``'a data file'`` ...)."""
    import h5py
    found = f.attrs.get('format')
    if isinstance(found, bytes):
        found = found.decode('utf-8', 'replace')
    if found == 'brainstorm-network':
        group = f.get('checkpoint')
        if isinstance(group, h5py.Group) and \
                group.attrs.get('format') == 'brainstorm-checkpoint':
            return 'a brainstorm checkpoint'
        return 'a brainstorm network file'
    if found == 'brainstorm-logs':
        return 'a brainstorm logs file'
    if found is not None:
        return 'an HDF5 file of format {!r}'.format(found)
    if isinstance(f.get('normalized_split'), h5py.Group):
        return 'a data file (it holds normalized_split)'
    names = sorted(f)
    return 'an HDF5 file that brainstorm did not write (it holds: {})'.format(
        ', '.join(names[:10] + (['...'] if len(names) > 10 else []))
        or 'nothing')


def check_format(f, filename, file_format, version, what):
    """Check the attributes ``format`` and ``format_version`` of the open
    HDF5 object ``f`` (the file or a group).

    Raises
    ------
    FileFormatError
        If the format is not ``file_format`` (the message says what the
        file is instead), or its version is missing or newer than
        ``version``.
    """
    found = f.attrs.get('format')
    if isinstance(found, bytes):
        found = found.decode('utf-8', 'replace')
    if found != file_format:
        raise FileFormatError('{} is not {}: it is {}'.format(
            filename, _a(what), describe_hdf5(f.file)), filename)
    try:
        found_version = int(f.attrs['format_version'])
    except (KeyError, TypeError, ValueError):
        raise FileFormatError('{} is a damaged {}: its attribute '
                              "'format_version' is missing or not a number"
                              .format(filename, what), filename) from None
    if found_version > version:
        raise FileFormatError(
            '{} has {} format version {}, but this brainstorm reads versions '
            'up to {}'.format(filename, what, found_version, version),
            filename)


def read_json_attribute(f, name, filename, what):
    """The attribute ``name`` of ``f`` decoded from JSON.

    Raises
    ------
    FileFormatError
        If it is missing or not valid JSON.
    """
    import json
    if name not in f.attrs:
        raise FileFormatError('{} is a damaged {}: it has no attribute {!r}'
                              .format(filename, what, name), filename)
    text = f.attrs[name]
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    try:
        return json.loads(text)
    except (TypeError, ValueError) as err:
        raise FileFormatError('{} is a damaged {}: its attribute {!r} is not '
                              'valid JSON ({})'.format(filename, what, name,
                                                       err),
                              filename) from None


def read_dataset(f, path, filename, what, numeric=True):
    """The dataset at ``path`` in ``f`` as a numpy array.

    Raises
    ------
    FileFormatError
        If it is missing, not a dataset, or (with ``numeric``) does not
        hold numbers.
    """
    import h5py
    item = f.get(path)
    if not isinstance(item, h5py.Dataset):
        raise FileFormatError('{} is a damaged {}: it has no dataset {!r}'
                              .format(filename, what, path), filename)
    if numeric and item.dtype.kind not in 'biuf':
        raise FileFormatError('{} is a damaged {}: the dataset {!r} holds '
                              '{} values, not numbers'.format(
                                  filename, what, path, item.dtype),
                              filename)
    return item[()]
