"""Entry point of the brainstorm-hooks plugin."""
from brainstorm.plugins import hookimpl


@hookimpl
def brainstorm_hooks():
    from brainstorm_hooks.monitors import (
        MonitorLayerDeltas, MonitorLayerGradients, MonitorLayerInOuts,
        MonitorLayerParameters, MonitorLoss, MonitorScores)
    from brainstorm_hooks.progress import ProgressBar
    from brainstorm_hooks.savers import SaveBestNetwork, SaveLogs, SaveNetwork
    from brainstorm_hooks.stoppers import (
        EarlyStopper, StopAfterEpoch, StopAfterThresholdReached, StopOnNan,
        StopOnSigQuit)
    from brainstorm_hooks.modifiers import ModifyStepperAttribute
    from brainstorm_hooks.integrations import BokehVisualizer, InfoUpdater
    from brainstorm_hooks.checkpoint import SaveCheckpoint
    return [ProgressBar, MonitorLoss, MonitorScores, MonitorLayerParameters,
            MonitorLayerGradients, MonitorLayerDeltas, MonitorLayerInOuts,
            SaveBestNetwork, SaveNetwork, SaveLogs, StopAfterEpoch,
            EarlyStopper, StopAfterThresholdReached, StopOnNan,
            StopOnSigQuit, ModifyStepperAttribute, InfoUpdater,
            BokehVisualizer, SaveCheckpoint]


@hookimpl
def brainstorm_scorers():
    from brainstorm_hooks.scorers import Accuracy, Hamming, MeanSquaredError
    return [Accuracy, Hamming, MeanSquaredError]
