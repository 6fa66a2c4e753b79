"""brainstorm-hooks: trainer hooks and scorers for brainstorm.

Installing this distribution registers, through the ``brainstorm`` plugin
entry point, the hooks of manual 8.6 (``bs.hooks.<Name>``): monitors
(``MonitorLoss``, ``MonitorScores``, ``MonitorLayerParameters``,
``MonitorLayerGradients``, ``MonitorLayerDeltas``, ``MonitorLayerInOuts``),
savers (``SaveBestNetwork``, ``SaveNetwork``, ``SaveLogs``,
``SaveCheckpoint``), stoppers (``StopAfterEpoch``, ``EarlyStopper``,
``StopAfterThresholdReached``, ``StopOnNan``, ``StopOnSigQuit``),
``ModifyStepperAttribute``, ``ProgressBar``, ``InfoUpdater`` (Sacred) and
``BokehVisualizer``; and the scorers ``Accuracy``, ``Hamming`` and
``MeanSquaredError`` (``bs.scorers.<Name>``). Sacred and bokeh are optional
extras, imported only when their hooks are used.
"""
import importlib.metadata as _metadata

from brainstorm_hooks.checkpoint import SaveCheckpoint
from brainstorm_hooks.integrations import BokehVisualizer, InfoUpdater
from brainstorm_hooks.logs import MissingLogError, lookup_log
from brainstorm_hooks.modifiers import ModifyStepperAttribute
from brainstorm_hooks.monitors import (MonitorLayerDeltas,
                                       MonitorLayerGradients,
                                       MonitorLayerInOuts,
                                       MonitorLayerParameters, MonitorLoss,
                                       MonitorScores)
from brainstorm_hooks.progress import ProgressBar
from brainstorm_hooks.savers import SaveBestNetwork, SaveLogs, SaveNetwork
from brainstorm_hooks.scorers import Accuracy, Hamming, MeanSquaredError
from brainstorm_hooks.stoppers import (EarlyStopper, StopAfterEpoch,
                                       StopAfterThresholdReached, StopOnNan,
                                       StopOnSigQuit)

try:
    __version__ = _metadata.version('brainstorm-hooks')
except _metadata.PackageNotFoundError:  # pragma: no cover - source tree
    __version__ = '0+unknown'

__all__ = ['ProgressBar', 'MonitorLoss', 'MonitorScores',
           'MonitorLayerParameters', 'MonitorLayerGradients',
           'MonitorLayerDeltas', 'MonitorLayerInOuts', 'SaveBestNetwork',
           'SaveNetwork', 'SaveLogs', 'SaveCheckpoint', 'StopAfterEpoch',
           'EarlyStopper', 'StopAfterThresholdReached', 'StopOnNan',
           'StopOnSigQuit', 'ModifyStepperAttribute', 'InfoUpdater',
           'BokehVisualizer', 'Accuracy', 'Hamming', 'MeanSquaredError',
           'lookup_log', 'MissingLogError']
