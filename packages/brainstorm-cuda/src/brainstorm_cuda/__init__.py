"""brainstorm-cuda: the home of brainstorm's GPU handler.

This release provides no handler yet: ``PyCudaHandler`` is not registered,
and ``from brainstorm.handlers import PyCudaHandler`` raises an error that
says so. The package is installable so that the plugin layout and its
entry point are in place.
"""
import importlib.metadata as _metadata

try:
    __version__ = _metadata.version('brainstorm-cuda')
except _metadata.PackageNotFoundError:  # pragma: no cover
    __version__ = '0+unknown'
