"""Layers: construction functions for wiring networks with ``>>``.

``bs.layers.Input`` comes with brainstorm-core; every other layer comes from
a plugin (the catalogue from brainstorm-layers) and resolves by name here:
``bs.layers.FullyConnected(100, name='Hid')``.
"""
from brainstorm.layers.base_layer import (BufferStructure, Layer,
                                          LayerValidationError,
                                          StructureTemplate,
                                          construction_function)
from brainstorm.layers.input_layer import Input
from brainstorm.plugins import make_namespace

__all__ = ['Layer', 'Input', 'construction_function', 'BufferStructure',
           'StructureTemplate', 'LayerValidationError']

__getattr__, __dir__ = make_namespace('layers', globals(), __name__)
