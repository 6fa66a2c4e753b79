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
    from brainstorm_layers.squared_loss import SquaredLoss
    from brainstorm_layers.squared_difference import SquaredDifference
    from brainstorm_layers.binomial_cross_entropy import BinomialCrossEntropy
    from brainstorm_layers.recurrent import Recurrent
    from brainstorm_layers.lstm import Lstm
    from brainstorm_layers.clockwork import Clockwork
    from brainstorm_layers.clockwork_lstm import ClockworkLstm
    from brainstorm_layers.batch_norm import BatchNorm
    from brainstorm_layers.deltas_scaling import DeltasScaling
    from brainstorm_layers.elementwise import Elementwise
    from brainstorm_layers.highway import Highway
    from brainstorm_layers.l1_decay import L1Decay
    from brainstorm_layers.l2_decay import L2Decay
    from brainstorm_layers.merge import Merge
    from brainstorm_layers.noop import NoOp
    return [FullyConnected, Dropout, SoftmaxCE, SigmoidCE, SquaredError,
            Loss, Mask, Convolution2D, Pooling2D,
            SquaredLoss, SquaredDifference, BinomialCrossEntropy,
            Recurrent, Lstm, Clockwork, ClockworkLstm,
            BatchNorm, Highway, Elementwise, Merge, NoOp, DeltasScaling,
            L1Decay, L2Decay]


@hookimpl
def brainstorm_initializers():
    from brainstorm_layers.initializers import (
        ArrayInitializer, DenseSqrtFanIn, DenseSqrtFanInOut, EchoState,
        Gaussian, Identity, LstmOptInit, Orthogonal, RandomWalk, SparseInputs,
        SparseOutputs, Uniform)
    return [Gaussian, Uniform, DenseSqrtFanIn, DenseSqrtFanInOut,
            ArrayInitializer, EchoState, Identity, LstmOptInit, Orthogonal,
            RandomWalk, SparseInputs, SparseOutputs]


@hookimpl
def brainstorm_value_modifiers():
    from brainstorm_layers.value_modifiers import (ClipValues,
                                                   ConstrainL2Norm,
                                                   FreezeValues, L1Decay,
                                                   L2Decay, MaskValues)
    return [ClipValues, ConstrainL2Norm, FreezeValues, L1Decay, L2Decay,
            MaskValues]


@hookimpl
def brainstorm_layer_examples():
    from brainstorm_layers.examples import layer_examples
    return layer_examples()
