"""Data files written by save_as_hdf5 and write_dataset: a full disk keeps
the previous file, permissions follow the umask, a replaced file keeps its
mode."""
import os

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.testing.faults import full_disk
from brainstorm_data import save_as_hdf5
from brainstorm_data.prepare import write_dataset

SPLITS = {'training': {'default': np.zeros((1, 5, 3)),
                       'targets': np.zeros((1, 5, 1))},
          'validation': {'default': np.ones((1, 2, 3)),
                         'targets': np.ones((1, 2, 1))}}

WRITERS = {'save_as_hdf5': lambda filename: save_as_hdf5(SPLITS, filename),
           'write_dataset': lambda filename: write_dataset(filename, SPLITS)}


@pytest.mark.parametrize('writer', sorted(WRITERS))
def test_a_full_disk_keeps_the_previous_data_file(writer, tmp_path,
                                                  monkeypatch):
    filename = str(tmp_path / 'data.h5')
    with open(filename, 'wb') as f:
        f.write(b'the previous file')

    full_disk(monkeypatch, after=0)
    with pytest.raises(bs.SaveError) as caught:
        WRITERS[writer](filename)
    monkeypatch.undo()
    assert str(caught.value) == (
        'could not save {}: No space left on device (the previous file is '
        'unchanged)'.format(filename))
    with open(filename, 'rb') as f:
        assert f.read() == b'the previous file'
    assert os.listdir(str(tmp_path)) == ['data.h5']


@pytest.mark.skipif(os.name == 'nt', reason='POSIX permissions')
@pytest.mark.parametrize('writer', sorted(WRITERS))
def test_data_files_follow_the_umask_and_keep_their_mode(writer, tmp_path):
    filename = str(tmp_path / 'data.h5')
    old = os.umask(0o022)
    try:
        WRITERS[writer](filename)
        assert os.stat(filename).st_mode & 0o777 == 0o644
        os.chmod(filename, 0o640)
        WRITERS[writer](filename)
        assert os.stat(filename).st_mode & 0o777 == 0o640
    finally:
        os.umask(old)
