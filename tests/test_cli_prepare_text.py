"""``brainstorm prepare hutter`` on a text of one's own: plain, gzip or zip
files, ``--member``, default and percentage splits, and what it reports."""
import gzip
import zipfile

import h5py
import pytest

import brainstorm.cli as cli

TEXT = b'The quick brown fox jumps over the lazy dog. ' * 100   # 4500 bytes


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def shapes(filename):
    with h5py.File(filename, 'r') as f:
        group = f['normalized_split']
        return {name: group[name]['default'].shape
                for name in ('training', 'validation', 'test')}


@pytest.mark.parametrize('kind', ['plain', 'gzip', 'zip'])
def test_prepare_hutter_takes_a_text_file_and_says_what_it_did(
        kind, tmp_path, capsys):
    source = str(tmp_path / 'corpus')
    if kind == 'plain':
        with open(source, 'wb') as f:
            f.write(TEXT)
    elif kind == 'gzip':
        with gzip.open(source, 'wb') as f:
            f.write(TEXT)
    else:
        with zipfile.ZipFile(source, 'w') as z:
            z.writestr('fox.txt', TEXT)
    output = str(tmp_path / 'fox.hdf5')
    code, out, err = run(['prepare', 'hutter', source, '-o', output,
                          '--seq-len', '20'], capsys)
    assert code == 0, err
    lines = out.splitlines()
    where = source + (':fox.txt' if kind == 'zip' else '')
    assert lines[0] == 'Read {} ({}): 4,500 bytes, {} symbols (distinct ' \
        'byte values)'.format(where, kind, len(set(TEXT)))
    # 90 % / 5 % / 5 %: 4050, 225 and 225 bytes
    assert lines[1].split() == ['training', 'bytes', '0', 'to', '4,050', '(',
                                '90.0', '%):', '202', 'sequences', 'of',
                                '20', 'steps']
    assert lines[2].split()[:5] == ['validation', 'bytes', '4,050', 'to',
                                    '4,275']
    assert lines[3].split()[:5] == ['test', 'bytes', '4,275', 'to', '4,500']
    assert lines[-1] == 'Wrote {}'.format(output)
    assert shapes(output) == {'training': (20, 202, 1),
                              'validation': (20, 11, 1),
                              'test': (20, 11, 1)}


def test_prepare_hutter_member_and_percentages(tmp_path, capsys):
    archive = str(tmp_path / 'texts.zip')
    with zipfile.ZipFile(archive, 'w') as z:
        z.writestr('a.txt', TEXT)
        z.writestr('b.txt', TEXT[:1000])
    output = str(tmp_path / 'o.hdf5')
    code, _, err = run(['prepare', 'hutter', archive, '-o', output], capsys)
    assert code == 1
    assert err.strip() == (
        'brainstorm prepare: error: {} holds 2 files (a.txt, b.txt); say '
        'which to read (--member NAME, or member=NAME)'.format(archive))
    code, _, err = run(['prepare', 'hutter', archive, '--member', 'c.txt',
                        '-o', output], capsys)
    assert code == 1
    assert "has no member 'c.txt' (it holds: a.txt, b.txt)" in err
    code, out, err = run(['prepare', 'hutter', archive, '--member', 'b.txt',
                          '--split', '50%', '25%', '25%', '--seq-len', '10',
                          '-o', output], capsys)
    assert code == 0, err
    assert 'Read {}:b.txt (zip): 1,000 bytes'.format(archive) in out
    assert shapes(output) == {'training': (10, 49, 1),
                              'validation': (10, 24, 1),
                              'test': (10, 24, 1)}


def test_prepare_hutter_usage_errors(tmp_path, capsys):
    source = tmp_path / 'corpus.txt'
    source.write_bytes(TEXT)
    output = str(tmp_path / 'o.hdf5')
    code, _, err = run(['prepare', 'hutter', str(source), '--member', 'x',
                        '-o', output], capsys)
    assert code == 1
    assert "member 'x': {} is a plain file, not a zip archive; leave the " \
        'member out'.format(source) in err
    code, _, err = run(['prepare', 'hutter', str(source), '--split', '90%',
                        '100', '5%', '-o', output], capsys)
    assert code == 1
    assert '--split 90% 100 5%: give 3 byte counts or 3 percentages, not ' \
        'both' in err
    code, _, err = run(['prepare', 'hutter', str(source), '--split', '90%',
                        '5%', '150%', '-o', output], capsys)
    assert code == 2
    assert "expected a percentage from 0% to 100%, got '150%'" in err
    code, _, err = run(['prepare', 'cifar10', str(source), '--member', 'x',
                        '-o', output], capsys)
    assert code == 2
    assert '--member: only for hutter' in err
