"""Handlers: the array back-ends every layer computes through.

``NumpyHandler`` (the default, float32) and ``DebugHandler`` come with
brainstorm-core; other handlers (``PyCudaHandler`` from brainstorm-cuda) are
plugins and resolve by name here: ``from brainstorm.handlers import
PyCudaHandler``.
"""
import numpy as np

from brainstorm.handlers.base_handler import Handler
from brainstorm.handlers.debug_handler import DebugHandler
from brainstorm.handlers.numpy_handler import NumpyHandler
from brainstorm.plugins import make_namespace

__all__ = ['Handler', 'NumpyHandler', 'DebugHandler', 'default_handler']

default_handler = NumpyHandler(np.float32)

__getattr__, __dir__ = make_namespace('handlers', globals(), __name__)
