"""Entry point of the brainstorm-hooks plugin."""
from brainstorm.plugins import hookimpl


@hookimpl
def brainstorm_hooks():
    from brainstorm_hooks.monitors import MonitorLoss, MonitorScores
    from brainstorm_hooks.progress import ProgressBar
    from brainstorm_hooks.savers import SaveBestNetwork
    from brainstorm_hooks.stoppers import StopAfterEpoch
    return [ProgressBar, MonitorLoss, MonitorScores, SaveBestNetwork,
            StopAfterEpoch]


@hookimpl
def brainstorm_scorers():
    from brainstorm_hooks.scorers import Accuracy
    return [Accuracy]
