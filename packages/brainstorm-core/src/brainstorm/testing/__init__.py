"""Helpers for testing layers, handlers and networks (used by every plugin's
test suite, and available to third-party plugin authors).

- ``check_layer_gradients`` / ``check_network_gradients``: finite-difference
  checks of input deltas and parameter gradients (float64, through the
  DebugHandler).
- ``conformance``: the suite every handler must pass, against
  ``reference_handler.ReferenceHandler`` (plain float64 numpy sharing no
  code with the NumpyHandler): ``check_all(MyHandler)``, or per item for
  pytest ids ``check_operation(MyHandler, op)`` for op in
  ``conformance.OPERATIONS``, ``check_layer_example(MyHandler, example)``
  for example in ``conformance.layer_examples()``, and
  ``check_training(MyHandler)``. (``handler_conformance`` holds its
  operation checks and is internal.)
- ``extras``: tests of optional extras skip where they are missing, or fail
  with ``BRAINSTORM_REQUIRE_EXTRAS=1``.
- ``faults``: ``full_disk(monkeypatch)`` makes every save meet a full disk.
- ``simple_layers``: two tiny layers core's own tests wire together.
"""
from brainstorm.testing.gradient_check import (check_layer_gradients,
                                               check_network_gradients)

__all__ = ['check_layer_gradients', 'check_network_gradients']
