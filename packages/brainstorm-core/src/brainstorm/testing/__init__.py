"""Helpers for testing layers, handlers and networks (used by every plugin's
test suite, and available to third-party plugin authors).

- ``check_layer_gradients`` / ``check_network_gradients``: finite-difference
  checks of input deltas and parameter gradients (float64, through the
  DebugHandler).
- ``handler_conformance``: the shared suite a non-numpy handler must pass
  against the NumpyHandler.
- ``simple_layers``: two tiny layers core's own tests wire together.
"""
from brainstorm.testing.gradient_check import (check_layer_gradients,
                                               check_network_gradients)

__all__ = ['check_layer_gradients', 'check_network_gradients']
