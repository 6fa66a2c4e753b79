"""brainstorm-hooks: trainer hooks and scorers for brainstorm.

Installing this distribution registers, through the ``brainstorm`` plugin
entry point, the hooks ``ProgressBar``, ``MonitorLoss``, ``MonitorScores``,
``SaveBestNetwork`` and ``StopAfterEpoch`` (``bs.hooks.<Name>``) and the
scorer ``Accuracy`` (``bs.scorers.Accuracy``).
"""
import importlib.metadata as _metadata

from brainstorm_hooks.logs import MissingLogError, lookup_log
from brainstorm_hooks.monitors import MonitorLoss, MonitorScores
from brainstorm_hooks.progress import ProgressBar
from brainstorm_hooks.savers import SaveBestNetwork
from brainstorm_hooks.scorers import Accuracy
from brainstorm_hooks.stoppers import StopAfterEpoch

try:
    __version__ = _metadata.version('brainstorm-hooks')
except _metadata.PackageNotFoundError:  # pragma: no cover - source tree
    __version__ = '0+unknown'

__all__ = ['ProgressBar', 'MonitorLoss', 'MonitorScores', 'SaveBestNetwork',
           'StopAfterEpoch', 'Accuracy', 'lookup_log', 'MissingLogError']
