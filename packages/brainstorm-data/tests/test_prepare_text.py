"""prepare_hutter on any text: plain, gzip, bzip2, xz and zip files, the
default split from the file's size, and the report of what was written."""
import bz2
import gzip
import io
import lzma
import tarfile
import zipfile

import h5py
import numpy as np
import pytest

from brainstorm_data.prepare import (HUTTER_SPLIT, TEXT_SPLIT, prepare_hutter,
                                     read_text)

# 64 bytes a line (each accented letter is two bytes), 2560 in all
TEXT = ('It was the best of times, it was the worst of times: '
        'caf\u00e9 ol\u00e9\n' * 40).encode('utf-8')


def write(path, kind, text=TEXT, members=('corpus.txt',)):
    path = str(path)
    if kind == 'plain':
        with open(path, 'wb') as f:
            f.write(text)
    elif kind == 'gzip':
        with gzip.open(path, 'wb') as f:
            f.write(text)
    elif kind == 'bzip2':
        with bz2.open(path, 'wb') as f:
            f.write(text)
    elif kind == 'xz':
        with lzma.open(path, 'wb') as f:
            f.write(text)
    elif kind == 'zip':
        with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
            z.writestr('folder/', b'')          # a directory entry
            for i, name in enumerate(members):
                z.writestr(name, text if i == 0 else b'other ' + text)
    return path


def parts(filename):
    with h5py.File(str(filename), 'r') as f:
        group = f['normalized_split']
        return ({name: (group[name]['default'][()],
                        group[name]['targets'][()])
                 for name in ('training', 'validation', 'test')},
                dict(group.attrs))


@pytest.mark.parametrize('kind', ['plain', 'gzip', 'bzip2', 'xz', 'zip'])
def test_every_kind_of_file_gives_the_same_data(kind, tmp_path):
    # the names say nothing: the kind is told from the first bytes
    source = write(tmp_path / 'corpus.dat', kind)
    raw, description = read_text(source)
    assert raw.tobytes() == TEXT
    assert description == ('{}:corpus.txt (zip)'.format(source)
                           if kind == 'zip'
                           else '{} ({})'.format(source, kind))
    out = tmp_path / 'text.hdf5'
    prepare_hutter(source, out, seq_len=10)
    data, attrs = parts(out)
    alphabet = sorted(set(TEXT))
    np.testing.assert_array_equal(attrs['alphabet'], alphabet)
    assert description in attrs['description']
    # the default split: 90 % / 5 % / 5 % of the 2560 bytes
    assert data['training'][0].shape == (10, 230, 1)   # (2304 - 1) // 10
    assert data['validation'][0].shape == (10, 12, 1)  # (128 - 1) // 10
    assert data['test'][0].shape == (10, 12, 1)
    symbols = np.array([alphabet.index(b) for b in TEXT], dtype=np.uint8)
    x, y = data['validation']
    np.testing.assert_array_equal(x[:, :, 0].T.reshape(-1),
                                  symbols[2304:2304 + 120])
    np.testing.assert_array_equal(y[:, :, 0].T.reshape(-1),
                                  symbols[2305:2305 + 120])


def test_the_default_split_of_enwik8_is_the_hutter_split():
    from brainstorm_data.prepare import _split_sizes
    assert TEXT_SPLIT == (0.9, 0.05, 0.05)
    assert _split_sizes(None, 100_000_000) == HUTTER_SPLIT
    # every byte is in a part, whatever the size
    for size in (2560, 4_137_452, 999_999):
        assert sum(_split_sizes(None, size)) == size
    assert _split_sizes((0.8, 0.1, 0.05), 1000) == (800, 100, 50)
    assert _split_sizes((200, 60, 50), 1000) == (200, 60, 50)


def test_a_zip_with_several_files_needs_a_member(tmp_path):
    archive = write(tmp_path / 'texts.zip', 'zip',
                    members=('a.txt', 'b.txt', 'c.txt'))
    with pytest.raises(ValueError) as info:
        read_text(archive)
    assert str(info.value) == (
        '{} holds 3 files (a.txt, b.txt, c.txt); say which to read '
        '(--member NAME, or member=NAME)'.format(archive))
    raw, description = read_text(archive, member='b.txt')
    assert raw.tobytes() == b'other ' + TEXT
    assert description == '{}:b.txt (zip)'.format(archive)
    with pytest.raises(ValueError, match=r"has no member 'd\.txt' \(it "
                                         r'holds: a\.txt, b\.txt, c\.txt\)'):
        prepare_hutter(archive, tmp_path / 'o.hdf5', member='d.txt')
    assert not (tmp_path / 'o.hdf5').exists()


def test_a_member_of_a_file_that_is_no_zip_is_refused(tmp_path):
    source = write(tmp_path / 'corpus.txt.gz', 'gzip')
    with pytest.raises(ValueError, match=r"member 'enwik8': .* is a gzip "
                                         r'file, not a zip archive; leave '
                                         r'the member out'):
        read_text(source, member='enwik8')
    source = write(tmp_path / 'corpus.txt', 'plain')
    with pytest.raises(ValueError, match='is a plain file, not a zip'):
        read_text(source, member='x')


def test_a_tar_archive_or_a_broken_file_is_refused(tmp_path):
    archive = str(tmp_path / 'texts.tar.gz')
    with tarfile.open(archive, 'w:gz') as tar:
        info = tarfile.TarInfo('corpus.txt')
        info.size = len(TEXT)
        tar.addfile(info, io.BytesIO(TEXT))
    with pytest.raises(ValueError, match=r'is a tar archive, not a text: '
                                         r'extract the text file'):
        read_text(archive)
    broken = tmp_path / 'broken.gz'
    broken.write_bytes(gzip.compress(TEXT)[:50])
    with pytest.raises(ValueError, match='looks like a gzip file but cannot '
                                         'be read as one'):
        read_text(str(broken))


def test_prepare_reports_what_it_wrote(tmp_path):
    source = write(tmp_path / 'corpus.txt', 'plain')
    lines = []
    prepare_hutter(source, tmp_path / 'o.hdf5', split=(0.5, 0.25, 0.125),
                   seq_len=16, log=lines.append)
    assert lines[0] == ('Read {} (plain): 2,560 bytes, {} symbols (distinct '
                        'byte values)'.format(source, len(set(TEXT))))
    assert lines[1].split() == ['training', 'bytes', '0', 'to', '1,280',
                                '(', '50.0', '%):', '79', 'sequences', 'of',
                                '16', 'steps']
    assert lines[2].split()[:5] == ['validation', 'bytes', '1,280', 'to',
                                    '1,920']
    assert lines[3].split()[:5] == ['test', 'bytes', '1,920', 'to', '2,240']
    assert lines[4] == '  320 bytes at the end are in no part'


def test_a_part_too_short_names_the_options(tmp_path):
    source = write(tmp_path / 'corpus.txt', 'plain', text=TEXT[:300])
    with pytest.raises(ValueError, match=r'the validation part \(15 bytes '
                                         r'of the 300 of .*\) is too short '
                                         r'for one sequence of seq_len=100 '
                                         r'.*--seq-len.*--split'):
        prepare_hutter(source, tmp_path / 'o.hdf5')
    with pytest.raises(ValueError, match='split must be 3 byte counts .* or '
                                         '3 fractions'):
        prepare_hutter(source, tmp_path / 'o.hdf5', split=(0.9, 0.1, 0.1))
