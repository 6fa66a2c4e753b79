"""Helpers for testing layers, handlers and networks (used by every plugin's
test suite, and available to third-party plugin authors).

- ``check_layer_gradients`` / ``check_network_gradients``: finite-difference
  checks of input deltas and parameter gradients (float64, through the
  DebugHandler).
- ``conformance`` / ``handler_conformance``: the suite every handler must
  pass (operations, layer examples, training) against ``reference_handler.
  ReferenceHandler``, plain float64 numpy sharing no code with the
  NumpyHandler.
- ``extras``: tests of optional extras skip where they are missing, or fail
  with ``BRAINSTORM_REQUIRE_EXTRAS=1``.
- ``faults``: ``full_disk(monkeypatch)`` makes every save meet a full disk.
- ``simple_layers``: two tiny layers core's own tests wire together.
"""
from brainstorm.testing.gradient_check import (check_layer_gradients,
                                               check_network_gradients)

__all__ = ['check_layer_gradients', 'check_network_gradients']
