"""The ``brainstorm`` command as a program: output into a pipe that the
reader closes early ends quietly, like Unix tools (exit status 141)."""
import subprocess
import sys

import pytest

import brainstorm as bs
from brainstorm import cli


def run_into_closed_pipe(*args, read_first_line=False):
    """Run the command with its stdout a pipe that this side closes at once
    (or after reading one line); return (exit status, stderr)."""
    process = subprocess.Popen(
        [sys.executable, '-m', 'brainstorm.cli'] + list(args),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if read_first_line:
        process.stdout.readline()
    process.stdout.close()
    try:
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    return process.returncode, stderr.decode()


@pytest.fixture(scope='module')
def network_file(tmp_path_factory):
    filename = tmp_path_factory.mktemp('net') / 'net.hdf5'
    net = bs.Network.from_layer(bs.layers.Input({'default': ('T', 'B', 3)}))
    net.save_as_hdf5(str(filename))
    return str(filename)


@pytest.mark.parametrize('args', [['plugins'], ['info']])
def test_a_closed_pipe_ends_the_command_quietly(args, network_file):
    if args == ['info']:
        args = ['info', network_file]
    status, stderr = run_into_closed_pipe(*args)
    assert stderr == ''
    assert status == cli.EXIT_BROKEN_PIPE == 141


def test_help_into_a_closed_pipe_is_quiet():
    # argparse ignores the failed write itself: 0 or 141, no message
    status, stderr = run_into_closed_pipe('--help')
    assert stderr == ''
    assert status in (0, 141)


@pytest.mark.parametrize('args', [['plugins'], ['info']])
def test_a_reader_that_stops_after_one_line(args, network_file):
    """``brainstorm info FILE | head -1``: whether the output was written
    before the pipe closed or not, no error is shown."""
    if args == ['info']:
        args = ['info', network_file]
    status, stderr = run_into_closed_pipe(*args, read_first_line=True)
    assert stderr == ''
    assert status in (0, 141)


def test_a_closed_pipe_in_process_returns_141(monkeypatch):
    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, 'Broken pipe')

        def flush(self):
            raise BrokenPipeError(32, 'Broken pipe')

    monkeypatch.setattr(sys, 'stdout', ClosedPipe())
    assert cli.main(['plugins']) == 141
