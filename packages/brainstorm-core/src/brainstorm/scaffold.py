"""``brainstorm new-plugin``: write a ready plugin distribution.

:func:`new_plugin` writes a directory that is a complete distribution of
one layer, which passes its own tests right after ``pip install -e``::

    NAME/
        pyproject.toml          hatchling build, dependency on
                                brainstorm-core, the entry point
        README.md
        src/PACKAGE/__init__.py
        src/PACKAGE/LAYER.py    the layer: construction function (kwargs
                                checked) and Layer implementation (forward
                                and backward through handler operations)
        src/PACKAGE/plugin.py   hookimpls: brainstorm_layers and
                                brainstorm_layer_examples
        tests/test_LAYER.py     finite-difference gradient check, values
                                against numpy, HDF5 round trip, the
                                conformance example on the NumpyHandler,
                                the layer in a spec string

The layer is ``y = gain * x * sigmoid(beta * x)`` (Swish with a learned
gain per feature and the keyword argument ``beta``), a starting point to
edit. ``docs/writing-a-plugin.md`` walks through the files.
"""
import keyword
import pathlib
import re
import string

__all__ = ['new_plugin', 'ScaffoldError']


class ScaffoldError(ValueError):
    """A plugin name, layer name or target directory that cannot be used."""


_DIST_NAME = re.compile(r'^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$')
_LAYER_NAME = re.compile(r'^[A-Z][A-Za-z0-9_]*$')
# import names of the brainstorm distributions, which a plugin must not take
_TAKEN = {'brainstorm', 'brainstorm_layers', 'brainstorm_hooks',
          'brainstorm_data', 'brainstorm_cuda', 'brainstorm_numba',
          'brainstorm_mpi'}


def package_name(name):
    """The import name of the distribution ``name``: 'my-layers' ->
    'my_layers'."""
    return re.sub(r'[-.]+', '_', name).lower()


def default_layer_name(name):
    """The layer name made from the distribution name: 'brainstorm-swish'
    -> 'Swish', 'my-layers' -> 'MyLayers'."""
    words = [w for w in re.split(r'[-._]+', name) if w]
    if len(words) > 1 and words[0].lower() == 'brainstorm':
        words = words[1:]
    layer = ''.join(w[:1].upper() + w[1:] for w in words)
    if layer and not layer[0].isalpha():
        layer = 'L' + layer
    return layer


def _snake(layer):
    """'MySwish' -> 'my_swish'."""
    return re.sub(r'(?<=[a-z0-9])([A-Z])', r'_\1', layer).lower()


def _check_names(name, layer):
    if not _DIST_NAME.match(name):
        raise ScaffoldError(
            'the plugin name {!r} is not a valid distribution name: use '
            'ASCII letters, digits, and - . _ inside (for example '
            'brainstorm-swish)'.format(name))
    package = package_name(name)
    if not package.isidentifier() or keyword.iskeyword(package) or \
            package[0].isdigit():
        raise ScaffoldError(
            'the plugin name {!r} gives the import name {!r}, which is not '
            'a Python identifier: start it with a letter'.format(
                name, package))
    if package in _TAKEN:
        raise ScaffoldError(
            'the plugin name {!r} gives the import name {!r} of a '
            'brainstorm package; choose another name (for example '
            '{}-extra)'.format(name, package, name))
    if not _LAYER_NAME.match(layer or ''):
        raise ScaffoldError(
            'the layer name {!r} must start with a capital ASCII letter and '
            'hold only ASCII letters, digits and underscores (for example '
            'Swish), so that spec strings can name it; give one with '
            '--layer'.format(layer))
    if layer == 'Input' or layer.endswith('LayerImpl'):
        raise ScaffoldError('the layer name {!r} is reserved; give another '
                            'with --layer'.format(layer))
    return package


def new_plugin(name, directory='.', layer=None):
    """Write the distribution of a plugin with one layer.

    Parameters
    ----------
    name : str
        Distribution name, e.g. ``'brainstorm-swish'``; the import name is
        made from it (``brainstorm_swish``), and so is the entry point.
    directory : str or path
        Where the distribution's folder (named ``name``) is made.
    layer : str, optional
        Name of the layer (default: from ``name``, without a leading
        ``brainstorm-``: ``'Swish'``).

    Returns
    -------
    pathlib.Path
        The distribution's folder.

    Raises
    ------
    ScaffoldError
        If a name is invalid or the folder exists and is not empty.
    """
    layer = layer or default_layer_name(name)
    package = _check_names(name, layer)
    root = pathlib.Path(directory) / name
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ScaffoldError(
            '{} already exists and is not an empty folder; choose another '
            '--directory or remove it'.format(root))
    import brainstorm
    module = _snake(layer)
    values = {
        'name': name, 'package': package, 'layer': layer, 'module': module,
        'impl': layer + 'LayerImpl',
        'core_version': '.'.join(brainstorm.__version__.split('.')[:2]),
        'underline': '=' * len(name),
    }
    files = {
        'pyproject.toml': _PYPROJECT,
        'README.md': _README,
        'src/{}/__init__.py'.format(package): _INIT,
        'src/{}/{}.py'.format(package, module): _LAYER,
        'src/{}/plugin.py'.format(package): _PLUGIN,
        'tests/test_{}.py'.format(module): _TESTS,
    }
    for path, template in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(string.Template(template).substitute(values),
                          encoding='utf-8')
    return root


_PYPROJECT = '''\
[build-system]
requires = ["hatchling>=1.26"]
build-backend = "hatchling.build"

[project]
name = "$name"
version = "0.1.0"
description = "A brainstorm plugin: the $layer layer"
readme = "README.md"
requires-python = ">=3.10"
dependencies = [
    "brainstorm-core>=$core_version",
]

[project.optional-dependencies]
test = ["pytest>=8"]

# The entry point brainstorm finds the plugin by: one in the group
# "brainstorm", named after the distribution, pointing at the module of
# hook implementations.
[project.entry-points.brainstorm]
$name = "$package.plugin"

[tool.hatch.build.targets.wheel]
packages = ["src/$package"]
# `pip install -e .` puts src/ on the path (a .pth file)
dev-mode-dirs = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]
'''

_README = '''\
# $name

A brainstorm plugin with one layer, `$layer`:

```
y = gain * x * sigmoid(beta * x)      element-wise, one learned gain per feature
```

| Layer | kwargs | inputs | outputs | parameters | internals |
|---|---|---|---|---|---|
| `$layer` | `beta` (float > 0, default 1.0) | `default` (T, B, ...) | `default` (same shape) | `gain` (F,) | `sig`, `swish`; `d_swish`, `d_sig` (backward only) |

## Install

brainstorm-core must be installed first (from a clone of the brainstorm
repository: `pip install -e packages/brainstorm-core`; once it is
published: `pip install brainstorm-core`). Then, in this folder:

```bash
pip install -e ".[test]"
python -m pytest
```

## Use

```python
import brainstorm as bs

inp = bs.layers.Input(out_shapes={'default': ('T', 'B', 4)})
net = bs.Network.from_layer(inp >> bs.layers.$layer(beta=2.0, name='Act'))
net.initialize({'Act': {'gain': 1.0}})
```

In spec strings the layer is named like any other:
`bs.tools.create_net_from_spec('classification', 20, 5, 'F64 $layer(beta=2) F32')`
(with brainstorm-layers installed for the other layers). In an architecture
it is `'@type': '$layer'`; `brainstorm plugins` lists it under $name.

## Files

- `pyproject.toml`: the build system (hatchling), the dependency on
  brainstorm-core, and the entry point in the group `brainstorm`.
- `src/$package/$module.py`: the layer (construction function and
  `$impl`).
- `src/$package/plugin.py`: the hook implementations that register the
  layer and publish its example for the handler conformance suite.
- `tests/test_$module.py`: the gradient check, the values, a save/load
  round trip and the conformance example on the NumpyHandler.
'''

_INIT = '''\
"""$name: a brainstorm plugin with the $layer layer.

Once installed, the layer resolves by name: ``bs.layers.$layer``,
``'@type': '$layer'`` in architectures, ``'$layer(beta=2)'`` in spec
strings.
"""
from $package.$module import $layer

__all__ = ['$layer']
'''

_LAYER = '''\
"""The $layer layer: ``y = gain * x * sigmoid(beta * x)``."""
from collections import OrderedDict

from brainstorm.layers import (BufferStructure, Layer, StructureTemplate,
                               construction_function)


class $impl(Layer):
    """``y = gain * x * sigmoid(beta * x)`` element-wise.

    Input ``default`` of any shape (T, B, ...); the output has the same
    shape. Parameter ``gain``: one value per input feature (F of them, the
    feature dimensions flattened). Internals: ``sig`` = sigmoid(beta * x)
    and ``swish`` = x * sig, kept for the backward pass; ``d_swish`` and
    ``d_sig``, scratch space of the backward pass only.
    """

    expected_inputs = {'default': StructureTemplate('T', 'B', '...')}
    expected_kwargs = {'beta'}

    def setup(self, kwargs, in_shapes):
        self.beta = float(kwargs.get('beta', 1.0))
        shape = in_shapes['default'].feature_shape
        self.n_features = in_shapes['default'].feature_size
        outputs = OrderedDict(default=BufferStructure('T', 'B', *shape))
        parameters = OrderedDict(gain=BufferStructure(self.n_features))
        internals = OrderedDict(
            sig=BufferStructure('T', 'B', *shape),
            swish=BufferStructure('T', 'B', *shape),
            d_swish=BufferStructure('T', 'B', *shape, is_backward_only=True),
            d_sig=BufferStructure('T', 'B', *shape, is_backward_only=True))
        self._gain_sum = None
        return outputs, parameters, internals

    def set_handler(self, handler):
        super().set_handler(handler)
        self._gain_sum = None       # scratch memory of the old handler

    def _rows(self, array):
        """(T, B, ...) as (T * B, F)."""
        return array.reshape((array.shape[0] * array.shape[1],
                              self.n_features))

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        x = self._rows(buffers.inputs.default)
        y = self._rows(buffers.outputs.default)
        sig = self._rows(buffers.internals.sig)
        swish = self._rows(buffers.internals.swish)
        gain = buffers.parameters.gain.reshape((1, self.n_features))
        h.mult_st(self.beta, x, sig)         # beta * x
        h.sigmoid(sig, sig)                  # sig = sigmoid(beta * x)
        h.mult_tt(x, sig, swish)             # swish = x * sig
        h.mult_mv(swish, gain, y)            # y = gain * swish

    def backward_pass(self, buffers):
        h = self.handler
        dy = self._rows(buffers.output_deltas.default)
        sig = self._rows(buffers.internals.sig)
        swish = self._rows(buffers.internals.swish)
        d_swish = self._rows(buffers.internals.d_swish)
        d_sig = self._rows(buffers.internals.d_sig)
        gain = buffers.parameters.gain.reshape((1, self.n_features))

        # d gain += sum over all steps and sequences of dy * swish
        h.mult_tt(dy, swish, d_swish)
        if self._gain_sum is None:
            self._gain_sum = h.allocate((1, self.n_features))
        h.sum_t(d_swish, 0, self._gain_sum)
        d_gain = buffers.gradients.gain.reshape((1, self.n_features))
        h.add_tt(d_gain, self._gain_sum, d_gain)

        if not self.input_deltas_needed.get('default', True):
            return      # nothing upstream needs them
        # dx += dy * gain * (sig + beta * x * sig * (1 - sig))
        x = self._rows(buffers.inputs.default)
        dx = self._rows(buffers.input_deltas.default)
        h.mult_mv(dy, gain, d_swish)                 # d swish = dy * gain
        h.sigmoid_deriv(None, sig, d_swish, d_sig)   # * sig * (1 - sig)
        h.mult_tt(d_sig, x, d_sig)                   # * x
        h.mult_st(self.beta, d_sig, d_sig)           # * beta
        h.mult_add_tt(d_swish, sig, d_sig)           # + d swish * sig
        h.add_tt(dx, d_sig, dx)                      # add, never overwrite


@construction_function($impl)
def $layer(beta=1.0, name=None):
    """``y = gain * x * sigmoid(beta * x)``, one learned gain per feature.

    Parameters
    ----------
    beta : float
        Steepness of the sigmoid (positive).
    name : str, optional
        Layer name.
    """
    if isinstance(beta, bool) or not isinstance(beta, (int, float)):
        raise TypeError('$layer: beta must be a number, got {!r}'.format(
            beta))
    if not beta > 0:
        raise ValueError('$layer: beta must be positive, got {!r}'.format(
            beta))
'''

_PLUGIN = '''\
"""Entry point of $name (``$name`` in the entry-point group
``brainstorm``): what the plugin registers."""
from brainstorm.plugins import hookimpl


@hookimpl
def brainstorm_layers():
    from $package.$module import $layer
    return [$layer]


@hookimpl
def brainstorm_layer_examples():
    """Configurations of the layer that brainstorm's handler conformance
    suite runs on every handler it checks."""
    from brainstorm.testing.conformance import LayerExample
    return [LayerExample('$layer', {}, {'default': (4,)}),
            LayerExample('$layer', {'beta': 2.5}, {'default': (2, 3)},
                         time_steps=3, batch_size=2,
                         id='$layer-beta2.5-2x3')]
'''

_TESTS = '''\
"""Tests of the $layer layer: gradients, values, save/load, the
conformance example, and the layer in a spec string."""
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.handlers import NumpyHandler
from brainstorm.plugins import registry
from brainstorm.testing import conformance
from brainstorm.testing.gradient_check import check_layer_gradients

from $package import $layer


def test_the_plugin_is_registered():
    assert registry.provider('layers', '$layer') == '$name'
    assert bs.layers.$layer is $layer


@pytest.mark.parametrize('kwargs, in_shapes', [
    ({}, {'default': (4,)}),
    ({'beta': 2.5}, {'default': (2, 3)}),
])
def test_gradients_against_finite_differences(kwargs, in_shapes):
    check_layer_gradients('$layer', kwargs, in_shapes)


def network(beta=1.0):
    inp = bs.layers.Input(out_shapes={'default': ('T', 'B', 3)})
    net = bs.Network.from_layer(inp >> $layer(beta=beta, name='Act'))
    net.set_handler(NumpyHandler(np.float64))
    return net


def run(net, x):
    net.provide_external_data({'default': x})
    net.forward_pass()
    return net.get('Act.outputs.default')


def test_values_against_numpy():
    net = network(beta=2.0)
    gain = np.array([0.5, -1.0, 2.0])
    net.buffer['Act.parameters.gain'][:] = gain
    x = np.random.RandomState(0).randn(2, 4, 3)
    expected = gain * x / (1 + np.exp(-2.0 * x))
    np.testing.assert_allclose(run(net, x), expected, rtol=1e-12)


def test_save_and_load_round_trip(tmp_path):
    net = network(beta=1.5)
    net.initialize(bs.initializers.Gaussian(0.5), seed=3)
    x = np.random.RandomState(1).randn(3, 2, 3)
    before = run(net, x)
    path = str(tmp_path / 'net.hdf5')
    net.save_as_hdf5(path)
    loaded = bs.Network.from_hdf5(path)
    loaded.set_handler(NumpyHandler(np.float64))
    assert loaded.layers['Act'].kwargs == {'beta': 1.5}
    # equal to float32 precision (a loaded network starts on the default
    # handler)
    np.testing.assert_allclose(loaded.get('Act.parameters.gain'),
                               net.get('Act.parameters.gain'), rtol=1e-6)
    np.testing.assert_allclose(run(loaded, x), before, rtol=1e-6)


EXAMPLES = [example for example in conformance.layer_examples()
            if example.plugin == '$name']


def test_the_plugin_publishes_conformance_examples():
    assert EXAMPLES
    assert conformance.layers_without_examples('$name') == []


@pytest.mark.parametrize('example', EXAMPLES, ids=lambda e: e.id)
@pytest.mark.parametrize('dtype', [np.float64, np.float32])
def test_conformance_example_on_the_numpy_handler(example, dtype):
    conformance.check_layer_example(lambda: NumpyHandler(dtype), example)


@pytest.mark.parametrize('beta, error, message', [
    (0, ValueError, 'beta must be positive, got 0'),
    (-1.5, ValueError, 'beta must be positive, got -1.5'),
    ('2', TypeError, "beta must be a number, got '2'"),
])
def test_invalid_arguments_are_refused(beta, error, message):
    with pytest.raises(error, match=message):
        $layer(beta=beta)


def test_the_layer_in_a_spec_string():
    layers = bs.tools.parse_spec('$layer $layer(beta=2)')
    assert [(layer.layer_type, layer.kwargs) for layer in layers] == [
        ('$layer', {}), ('$layer', {'beta': 2})]
'''
