"""brainstorm-layers: the layer catalogue of brainstorm, with its
initializers and value modifiers.

A plugin of brainstorm-core: once installed, its classes resolve by name,
``bs.layers.FullyConnected``, ``bs.initializers.Gaussian``,
``bs.value_modifiers.ConstrainL2Norm``. See README.md for the catalogue.
"""
import importlib.metadata as _metadata

try:
    __version__ = _metadata.version('brainstorm-layers')
except _metadata.PackageNotFoundError:  # pragma: no cover - source tree
    __version__ = '0+unknown'
