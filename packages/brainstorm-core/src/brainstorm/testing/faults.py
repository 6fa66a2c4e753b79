"""Faults to test against: a disk that fills up while a file is written.

Every file brainstorm writes goes through ``os.write`` (see
:mod:`brainstorm.fileio`), so replacing it is enough to make any save meet
a full disk, in brainstorm's tests and in those of plugins that save files.
"""
import errno
import os

__all__ = ['full_disk']


def full_disk(monkeypatch, after=100):
    """Let ``os.write`` write ``after`` bytes in all, then fail with
    ``ENOSPC`` as a full disk does.

    Parameters
    ----------
    monkeypatch : pytest.MonkeyPatch
        The test's ``monkeypatch`` fixture; ``monkeypatch.undo()`` gives
        the disk its space back.
    after : int
        Bytes written before the disk is full (0: nothing at all).
    """
    original = os.write
    state = {'left': after}

    def write(fd, data):
        if state['left'] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written = original(fd, bytes(data[:state['left']]))
        state['left'] -= written
        return written
    monkeypatch.setattr(os, 'write', write)
