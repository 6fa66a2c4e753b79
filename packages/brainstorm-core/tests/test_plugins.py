"""The plugin system: entry points, lazy loading, failures, clashes, and a
third-party layer distribution used by name without any change to core."""
import importlib.metadata
import os
import subprocess
import sys
import textwrap
import types
import warnings

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.plugins import (MissingPluginError, PluginConflictError,
                                PluginError, hookimpl, registry)
from brainstorm.testing.simple_layers import TestSoftmaxLoss, use_simple_layers

SCALE_LAYER = '''
from collections import OrderedDict
from brainstorm.layers import (Layer, BufferStructure, construction_function)
from brainstorm.plugins import hookimpl


class ScaleLayerImpl(Layer):
    """outputs = inputs * scale (a learned vector)."""
    expected_kwargs = {'init'}

    def setup(self, kwargs, in_shapes):
        n = in_shapes['default'].feature_size
        return (OrderedDict(default=BufferStructure('T', 'B', n)),
                OrderedDict(scale=BufferStructure(n)), OrderedDict())

    def forward_pass(self, buffers, training_pass=True):
        x = buffers.inputs.default
        n = x.shape[2]
        self.handler.mult_mv(x.reshape((-1, n)),
                             buffers.parameters.scale.reshape((1, n)),
                             buffers.outputs.default.reshape((-1, n)))

    def backward_pass(self, buffers):
        pass


@construction_function(ScaleLayerImpl)
def Scale(init=1.0, name=None):
    """Scale every feature by a learned factor."""
    if init <= 0:
        raise ValueError('init must be positive')


@hookimpl
def brainstorm_layers():
    return [Scale]
'''


def make_distribution(root, dist_name, module_name, source,
                      entry_name=None):
    """Write a minimal installed distribution (module + dist-info with an
    entry point in the 'brainstorm' group) into ``root``."""
    (root / (module_name + '.py')).write_text(textwrap.dedent(source))
    info = root / '{}-1.0.dist-info'.format(dist_name.replace('-', '_'))
    info.mkdir()
    (info / 'METADATA').write_text(
        'Metadata-Version: 2.1\nName: {}\nVersion: 1.0\n'.format(dist_name))
    (info / 'entry_points.txt').write_text(
        '[brainstorm]\n{} = {}\n'.format(entry_name or dist_name,
                                         module_name))


@pytest.fixture
def fresh_registry(monkeypatch):
    registry.reset()
    yield monkeypatch
    monkeypatch.undo()
    registry.reset()


def test_core_registers_through_the_same_hooks():
    assert registry.get('layers', 'Input') is bs.layers.Input
    assert registry.get('handlers', 'NumpyHandler') is \
        bs.handlers.NumpyHandler
    assert registry.provider('handlers', 'NumpyHandler') == 'brainstorm-core'
    assert 'SgdStepper' in dir(bs.training)


def test_missing_names_say_which_package_provides_them(fresh_registry):
    entry_points = importlib.metadata.entry_points

    def without_cuda(**kwargs):
        found = entry_points(**kwargs)
        if kwargs.get('group') == 'brainstorm':
            return [ep for ep in found if ep.name != 'brainstorm-cuda']
        return found

    fresh_registry.setattr(importlib.metadata, 'entry_points', without_cuda)
    with pytest.raises(MissingPluginError,
                       match='pip install brainstorm-cuda'):
        from brainstorm.handlers import PyCudaHandler  # noqa: F401
    with pytest.raises(ImportError, match='no installed plugin'):
        bs.layers.NoSuchLayer
    with pytest.raises(ImportError):
        bs.NoSuchThing
    with pytest.raises(AttributeError):
        bs.layers._private


def test_third_party_layer_by_name_wiring_architecture_and_hdf5(
        tmp_path, fresh_registry):
    make_distribution(tmp_path, 'bs-scale-layer', 'bs_scale_layer',
                      SCALE_LAYER)
    fresh_registry.syspath_prepend(str(tmp_path))
    registry.reset()
    with use_simple_layers():
        assert registry.provider('layers', 'Scale') == 'bs-scale-layer'
        with pytest.raises(ValueError, match='positive'):
            bs.layers.Scale(init=-1)
        inp = bs.layers.Input({'default': ('T', 'B', 3),
                               'targets': ('T', 'B', 1)})
        out = TestSoftmaxLoss(name='Output')
        inp >> bs.layers.Scale(name='S') >> out
        inp - 'targets' >> 'targets' - out
        net = bs.Network.from_layer(out)
        assert net.architecture['S']['@type'] == 'Scale'
        net.initialize({'S': {'scale': [1.0, 2.0, 3.0]}})
        x = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
        net.provide_external_data({'default': x,
                                   'targets': np.zeros((1, 2, 1))})
        net.forward_pass()
        assert np.allclose(net.get('S.outputs.default'), x * [1, 2, 3])

        net2 = bs.Network.from_architecture(net.architecture)
        assert list(net2.layers) == list(net.layers)

        filename = str(tmp_path / 'scale.hdf5')
        net.save_as_hdf5(filename)
        loaded = bs.Network.from_hdf5(filename)
        assert np.allclose(loaded.get('S.parameters.scale'), [1, 2, 3])


def test_a_broken_plugin_warns_with_its_distribution_and_others_load(
        tmp_path, fresh_registry):
    make_distribution(tmp_path, 'bs-broken', 'bs_broken',
                      'raise ImportError("needs libfoo")\n')
    make_distribution(tmp_path, 'bs-scale-layer', 'bs_scale_layer',
                      SCALE_LAYER)
    fresh_registry.syspath_prepend(str(tmp_path))
    registry.reset()
    with pytest.warns(RuntimeWarning, match="'bs-broken'.*needs libfoo"):
        registry.load()
    assert registry.contains('layers', 'Scale')
    assert 'bs-broken' in registry.failures

    fresh_registry.setenv('BRAINSTORM_PLUGINS_STRICT', '1')
    registry.reset()
    with pytest.raises(PluginError, match='bs-broken'):
        registry.load()


CONFLICT = ("two brainstorm plugins provide the layer 'Scale': "
            "'bs-scale-one' and 'bs-scale-two'")


def test_two_plugins_with_the_same_layer_name_are_reported_not_fatal(
        tmp_path, fresh_registry):
    make_distribution(tmp_path, 'bs-scale-one', 'bs_scale_one', SCALE_LAYER)
    make_distribution(tmp_path, 'bs-scale-two', 'bs_scale_two', SCALE_LAYER)
    fresh_registry.syspath_prepend(str(tmp_path))
    registry.reset()
    with pytest.warns(RuntimeWarning) as record:
        registry.load()
    assert [str(w.message) for w in record] == [
        CONFLICT + '; neither is used, the other names are; uninstall one of '
        'them, or set BRAINSTORM_PLUGINS_STRICT=1 to make this an error']
    assert registry.conflicts == {('layers', 'Scale'): ['bs-scale-one',
                                                        'bs-scale-two']}
    # every other name keeps working
    assert registry.get('layers', 'Input') is bs.layers.Input
    assert 'Scale' not in registry.names('layers')
    info = registry.plugin_info()
    assert info['bs-scale-one']['layers'] == ['Scale']
    assert info['bs-scale-two']['layers'] == ['Scale']
    # the shared name names both distributions
    with pytest.raises(PluginConflictError) as error:
        bs.layers.Scale()
    assert str(error.value) == (
        'brainstorm.layers.Scale: ' + CONFLICT + ', so neither is used; '
        'uninstall one of them')
    assert isinstance(error.value, PluginError)
    with pytest.raises(ImportError, match=CONFLICT):
        from brainstorm.layers import Scale  # noqa: F401
    with pytest.raises(PluginConflictError, match=CONFLICT):
        bs.Network.from_architecture({
            'Input': {'@type': 'Input', 'out_shapes': {'default': ['T', 'B',
                                                                   2]},
                      '@outgoing_connections': {'default': ['S.default']}},
            'S': {'@type': 'Scale', '@outgoing_connections': {}}})

    fresh_registry.setenv('BRAINSTORM_PLUGINS_STRICT', '1')
    registry.reset()
    with pytest.raises(PluginError) as error:
        registry.load()
    assert str(error.value) == CONFLICT


def _twin_layer():
    from brainstorm.layers import Layer

    class TwinLayerImpl(Layer):
        def setup(self, kwargs, in_shapes):
            return in_shapes, {}, {}
    return TwinLayerImpl


def _plugin_module(name, layers):
    module = types.ModuleType(name)
    module.brainstorm_layers = hookimpl(lambda: layers)
    return module


def test_two_registered_modules_with_one_layer_name(fresh_registry):
    registry.register_module(_plugin_module('first', [_twin_layer()]),
                             'twin-one')
    registry.register_module(_plugin_module('second', [_twin_layer()]),
                             'twin-two')
    try:
        with pytest.warns(RuntimeWarning, match="two brainstorm plugins "
                                                "provide the layer 'Twin': "
                                                "'twin-one' and 'twin-two'"):
            assert registry.contains('layers', 'Input')
        with pytest.raises(PluginConflictError, match="'twin-one' and "
                                                      "'twin-two'"):
            registry.layer_impl('Twin')
        assert registry.get('handlers', 'NumpyHandler') is \
            bs.handlers.NumpyHandler
    finally:
        registry.unregister_module('twin-one')
        registry.unregister_module('twin-two')
    registry.load()
    assert registry.conflicts == {}


def test_two_distributions_with_one_entry_point_name_are_reported(
        tmp_path, fresh_registry):
    make_distribution(tmp_path, 'bs-a', 'bs_a', SCALE_LAYER,
                      entry_name='same-name')
    make_distribution(tmp_path, 'bs-b', 'bs_b', 'X = 1\n',
                      entry_name='same-name')
    fresh_registry.syspath_prepend(str(tmp_path))
    registry.reset()
    with pytest.warns(RuntimeWarning, match="entry-point name 'same-name'"):
        registry.load()
    assert registry.contains('layers', 'Input')
    assert len(registry.failures) == 1
    (message,) = registry.failures.values()
    assert "'bs-a'" in message and "'bs-b'" in message

    fresh_registry.setenv('BRAINSTORM_PLUGINS_STRICT', '1')
    registry.reset()
    with pytest.raises(PluginError, match='same-name'):
        registry.load()


def test_plugins_load_lazily():
    registry.reset()
    assert registry.plugin_manager is None
    bs.layers.Input
    assert registry.plugin_manager is None   # a module global: no loading
    registry.names('layers')
    assert registry.plugin_manager is not None
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        info = registry.plugin_info()
    assert 'Input' in info['brainstorm-core']['layers']


def run_cli(tmp_path, *args, strict=False):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(tmp_path)] + [p for p in os.environ.get('PYTHONPATH', '')
                           .split(os.pathsep) if p]))
    env.pop('BRAINSTORM_PLUGINS_STRICT', None)
    if strict:
        env['BRAINSTORM_PLUGINS_STRICT'] = '1'
    return subprocess.run([sys.executable, '-m', 'brainstorm.cli'] +
                          list(args), capture_output=True, text=True,
                          env=env, timeout=120)


def test_the_command_lists_a_conflict_and_keeps_working(tmp_path):
    make_distribution(tmp_path, 'bs-scale-one', 'bs_scale_one', SCALE_LAYER)
    make_distribution(tmp_path, 'bs-scale-two', 'bs_scale_two', SCALE_LAYER)

    listed = run_cli(tmp_path, 'plugins')
    assert listed.returncode == 1, listed.stderr
    assert 'Traceback' not in listed.stderr
    lines = listed.stdout.splitlines()
    for dist in ('bs-scale-one', 'bs-scale-two'):
        at = lines.index(dist + ' 1.0')
        assert lines[at + 1] == '  layers: Scale'
    assert lines[lines.index('Provided by several plugins, so not used '
                             '(uninstall all but one):') + 1] == \
        "  layer 'Scale': bs-scale-one 1.0, bs-scale-two 1.0"
    assert 'brainstorm-core' in listed.stdout

    helped = run_cli(tmp_path, '--help')
    assert helped.returncode == 0 and 'Traceback' not in helped.stderr
    assert 'usage: brainstorm' in helped.stdout

    info = run_cli(tmp_path, 'info', str(tmp_path / 'missing.hdf5'))
    assert info.returncode == 1 and 'Traceback' not in info.stderr
    assert 'brainstorm: warning: ' + CONFLICT in info.stderr

    strict = run_cli(tmp_path, 'plugins', strict=True)
    assert strict.returncode == 1
    assert strict.stderr == 'brainstorm: error: ' + CONFLICT + '\n'
