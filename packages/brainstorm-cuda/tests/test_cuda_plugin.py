"""brainstorm-cuda installs and loads as a plugin, and provides no handler
yet: asking for PyCudaHandler says so instead of pretending."""
import pytest

import brainstorm as bs
from brainstorm.plugins import MissingPluginError, registry


def test_plugin_loads_without_failure():
    registry.reset()
    registry.load()
    assert 'brainstorm-cuda' not in registry.failures
    assert any(name == 'brainstorm-cuda' for name, _ in
               registry.plugin_manager.list_name_plugin())


def test_pycuda_handler_is_not_provided_yet():
    assert not registry.contains('handlers', 'PyCudaHandler')
    with pytest.raises(MissingPluginError, match='PyCudaHandler'):
        from brainstorm.handlers import PyCudaHandler  # noqa: F401
    with pytest.raises(ImportError, match='brainstorm-cuda'):
        bs.PyCudaHandler
