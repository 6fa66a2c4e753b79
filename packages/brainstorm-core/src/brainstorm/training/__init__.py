"""Training: the Trainer, the steppers (``bs.training.MomentumStepper``) and
the schedules (``bs.training.schedules.Linear``).

Steppers from plugins resolve by name here too.
"""
from brainstorm.plugins import make_namespace
from brainstorm.training import schedules
from brainstorm.training.steppers import (MomentumStepper, NesterovStepper,
                                          SgdStepper, TrainingStepper)
from brainstorm.training.trainer import Trainer

__all__ = ['Trainer', 'TrainingStepper', 'SgdStepper', 'MomentumStepper',
           'NesterovStepper', 'schedules']

__getattr__, __dir__ = make_namespace('steppers', globals(), __name__)
