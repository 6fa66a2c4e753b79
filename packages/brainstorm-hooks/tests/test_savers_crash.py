"""A process killed (SIGKILL) in the middle of a save leaves the previous
file intact, and the stray temporary file does not hinder the next save."""
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import brainstorm as bs
from brainstorm_hooks.logs import load_logs
from brainstorm_hooks.savers import SaveLogs, SaveNetwork

pytestmark = pytest.mark.skipif(not hasattr(signal, 'SIGKILL'),
                                reason='needs SIGKILL (POSIX)')

# Trains a tiny network with a saver that writes TARGET before training
# (epoch 0) and after epoch 1. What the first save wrote is kept in
# first.json. From epoch 1 on, a save writes half of the file to the disk,
# prints 'writing' and blocks: the second save is then half written.
CHILD = r'''
import json, os, sys, time
import numpy as np
import brainstorm as bs
from brainstorm.hooks import Hook
from brainstorm.testing.simple_layers import (TestAffine, TestSoftmaxLoss,
                                              use_simple_layers)
from brainstorm_hooks.savers import SaveLogs, SaveNetwork
from brainstorm_hooks.stoppers import StopAfterEpoch

kind, target = sys.argv[1], sys.argv[2]


class Stall(Hook):
    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if epoch_nr >= 1:
            original = os.write

            def stalling(fd, data):
                written = original(fd, data[:len(data) // 2])
                print('writing', flush=True)
                time.sleep(60)
                return written
            os.write = stalling
        return {'value': 0.5 + epoch_nr, 'nested': {'count': epoch_nr}}


class KeepFirst(Hook):
    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if epoch_nr == 0:
            with open('first.json', 'w') as f:
                json.dump({'parameters': net.get('parameters').tolist(),
                           'logs': logs}, f)


with use_simple_layers():
    inp = bs.layers.Input({'default': ('T', 'B', 20),
                           'targets': ('T', 'B', 1)})
    out = TestSoftmaxLoss(name='Output')
    inp >> TestAffine(10, name='A') >> out
    inp - 'targets' >> 'targets' - out
    net = bs.Network.from_layer(out)
    rnd = np.random.RandomState(0)
    net.set_parameters(rnd.randn(net.buffer_manager.num_parameters))
    data = [{'default': rnd.randn(1, 8, 20),
             'targets': rnd.randint(0, 10, (1, 8, 1)).astype(float)}]
    trainer = bs.Trainer(bs.training.SgdStepper(0.1), verbose=False)
    trainer.add_hook(Stall(name='mon'))
    trainer.add_hook(SaveNetwork(target) if kind == 'network'
                     else SaveLogs(target))
    trainer.add_hook(KeepFirst())
    trainer.add_hook(StopAfterEpoch(2))
    trainer.train(net, lambda handler=None: iter(data))
print('finished', flush=True)
'''


def kill_during_second_save(kind, directory):
    """Run the child until it is in the middle of its second save, check
    the temporary file is there, and kill it."""
    target = directory / 'target.h5'
    proc = subprocess.Popen([sys.executable, '-c', CHILD, kind, str(target)],
                            cwd=str(directory), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line == 'writing\n', proc.communicate(timeout=30)[1]
        temporaries = [p.name for p in directory.iterdir()
                       if p.name.startswith('.target.h5.')]
        assert len(temporaries) == 1 and temporaries[0].endswith('.tmp')
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    with open(str(directory / 'first.json')) as f:
        first = json.load(f)
    return target, first, directory / temporaries[0]


def test_network_file_survives_a_kill_during_save(tmp_path, net):
    target, first, stray = kill_during_second_save('network', tmp_path)
    assert stray.exists()
    loaded = bs.Network.from_hdf5(str(target))
    np.testing.assert_array_equal(loaded.get('parameters'),
                                  np.array(first['parameters'],
                                           dtype=loaded.handler.dtype))
    # the next save works beside the stray temporary file
    SaveNetwork(str(target))(3, 9, net, None, {})
    np.testing.assert_array_equal(
        bs.Network.from_hdf5(str(target)).get('parameters'),
        net.get('parameters'))
    assert sorted(p.name for p in tmp_path.iterdir() if
                  p.name.startswith('.target.h5.')) == [stray.name]


def test_logs_file_survives_a_kill_during_save(tmp_path):
    target, first, stray = kill_during_second_save('logs', tmp_path)
    assert stray.exists()
    assert first['logs'] == {'mon': {'value': [0.5],
                                     'nested': {'count': [0]}}}
    assert load_logs(str(target)) == first['logs']
    logs = {'mon': {'value': [0.5, 1.5], 'nested': {'count': [0, 1]}}}
    SaveLogs(str(target))(1, 1, None, None, logs)
    assert load_logs(str(target)) == logs
