"""Entry point of the brainstorm-layers plugin: the layers, initializers
and value modifiers it registers (entry point ``brainstorm-layers`` in the
group ``brainstorm``)."""
from brainstorm.plugins import hookimpl


@hookimpl
def brainstorm_layers():
    from brainstorm_layers.convolution_2d import Convolution2D
    from brainstorm_layers.dropout import Dropout
    from brainstorm_layers.fully_connected import FullyConnected
    from brainstorm_layers.loss import Loss
    from brainstorm_layers.mask import Mask
    from brainstorm_layers.pooling_2d import Pooling2D
    from brainstorm_layers.sigmoid_ce import SigmoidCE
    from brainstorm_layers.softmax_ce import SoftmaxCE
    from brainstorm_layers.squared_error import SquaredError
    return [FullyConnected, Dropout, SoftmaxCE, SigmoidCE, SquaredError,
            Loss, Mask, Convolution2D, Pooling2D]


@hookimpl
def brainstorm_initializers():
    from brainstorm_layers.initializers import (DenseSqrtFanIn,
                                                DenseSqrtFanInOut, Gaussian,
                                                Uniform)
    return [Gaussian, Uniform, DenseSqrtFanIn, DenseSqrtFanInOut]


@hookimpl
def brainstorm_value_modifiers():
    from brainstorm_layers.value_modifiers import ConstrainL2Norm
    return [ConstrainL2Norm]
