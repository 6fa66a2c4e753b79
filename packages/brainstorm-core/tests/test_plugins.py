"""The plugin system: entry points, lazy loading, failures, clashes, and a
third-party layer distribution used by name without any change to core."""
import importlib.metadata
import textwrap
import warnings

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.plugins import MissingPluginError, PluginError, registry
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


def test_two_plugins_with_the_same_layer_name_is_an_error(
        tmp_path, fresh_registry):
    make_distribution(tmp_path, 'bs-scale-one', 'bs_scale_one', SCALE_LAYER)
    make_distribution(tmp_path, 'bs-scale-two', 'bs_scale_two', SCALE_LAYER)
    fresh_registry.syspath_prepend(str(tmp_path))
    registry.reset()
    with pytest.raises(PluginError) as info:
        registry.load()
    assert 'bs-scale-one' in str(info.value)
    assert 'bs-scale-two' in str(info.value)
    assert "'Scale'" in str(info.value)


def test_two_distributions_with_one_entry_point_name_is_an_error(
        tmp_path, fresh_registry):
    make_distribution(tmp_path, 'bs-a', 'bs_a', SCALE_LAYER,
                      entry_name='same-name')
    make_distribution(tmp_path, 'bs-b', 'bs_b', 'X = 1\n',
                      entry_name='same-name')
    fresh_registry.syspath_prepend(str(tmp_path))
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
