"""brainstorm.handlers.best_cpu_handler: the registered handler class with
the highest ``cpu_preference`` that can be created, else the NumpyHandler."""
import types

import numpy as np
import pytest

from brainstorm.handlers import (NumpyHandler, best_cpu_handler,
                                 cpu_handler_classes)
from brainstorm.plugins import hookimpl, registry


class FastHandler(NumpyHandler):
    cpu_preference = 1000


class FasterButBroken(NumpyHandler):
    cpu_preference = 2000

    def __init__(self, dtype=np.float32):
        raise RuntimeError('no such instruction set here')


class NotACpuHandler(NumpyHandler):
    cpu_preference = True      # not a number: ignored


def _plugin(*classes):
    module = types.ModuleType('cpu_handler_plugin')

    @hookimpl
    def brainstorm_handlers():
        return list(classes)

    module.brainstorm_handlers = brainstorm_handlers
    return module


@pytest.fixture
def plugin():
    def register(*classes):
        registry.register_module(_plugin(*classes), 'test-cpu-handlers')
    yield register
    registry.unregister_module('test-cpu-handlers')


def test_the_numpy_handler_is_the_fallback(plugin):
    plugin(NotACpuHandler)
    assert NumpyHandler not in cpu_handler_classes()
    assert NotACpuHandler not in cpu_handler_classes()
    for cls in cpu_handler_classes():   # installed plugins' handlers
        assert cls.cpu_preference < 1000
    handler = best_cpu_handler(np.float64)
    assert isinstance(handler, NumpyHandler)
    assert handler.dtype == np.float64


def test_the_highest_preference_that_can_be_created_wins(plugin):
    plugin(FastHandler, FasterButBroken)
    assert cpu_handler_classes()[:2] == [FasterButBroken, FastHandler]
    with pytest.warns(RuntimeWarning, match='FasterButBroken could not be '
                                            'created .*instruction set'):
        handler = best_cpu_handler()
    assert type(handler) is FastHandler and handler.dtype == np.float32


def test_only_broken_ones_leave_the_numpy_handler(plugin):
    plugin(FasterButBroken)
    with pytest.warns(RuntimeWarning):
        handler = best_cpu_handler()
    assert type(handler) is not FasterButBroken
    assert isinstance(handler, NumpyHandler)
