"""brainstorm-core's own plugin: the classes core registers like any other
plugin (entry point ``brainstorm-core`` in the group ``brainstorm``)."""
from brainstorm.plugins import hookimpl


@hookimpl
def brainstorm_layers():
    from brainstorm.layers.input_layer import Input
    return [Input]


@hookimpl
def brainstorm_handlers():
    from brainstorm.handlers.debug_handler import DebugHandler
    from brainstorm.handlers.numpy_handler import NumpyHandler
    return [NumpyHandler, DebugHandler]


@hookimpl
def brainstorm_steppers():
    from brainstorm.training.steppers import (AdamStepper, MomentumStepper,
                                              NesterovStepper, RmsPropStepper,
                                              SgdStepper)
    return [SgdStepper, MomentumStepper, NesterovStepper, RmsPropStepper,
            AdamStepper]


@hookimpl
def brainstorm_communicators():
    from brainstorm.distributed import SingleProcess
    return [SingleProcess]


@hookimpl
def brainstorm_describables():
    from brainstorm.training.schedules import (Constant, Exponential,
                                               Linear, MultiStep, StepDecay)
    from brainstorm.training.trainer import Trainer
    return [Trainer, Constant, Linear, Exponential, MultiStep, StepDecay]


@hookimpl
def brainstorm_spec_letters():
    """The letters of the manual's spec strings (F, R, L, B, D, C, P); the
    layers they name come from brainstorm-layers."""
    from brainstorm.tools.spec import builtin_letters
    return builtin_letters()
