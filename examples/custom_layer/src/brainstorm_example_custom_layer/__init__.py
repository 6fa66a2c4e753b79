"""An example brainstorm plugin: the ParametricRelu layer, published in a
distribution of its own (brainstorm-example-custom-layer).

Once installed, the layer resolves by name like every built-in layer:
``bs.layers.ParametricRelu(name='Act')``, ``'@type': 'ParametricRelu'`` in an
architecture, and in networks saved with ``save_as_hdf5``.
"""
from brainstorm_example_custom_layer.parametric_relu import ParametricRelu

__all__ = ['ParametricRelu']
