"""Two small layers for the test suites of plugins, so that a plugin's tests
can build and train networks with brainstorm-core alone (without the layer
catalogue of brainstorm-layers).

``TestAffine(size)``: outputs = inputs @ W + b (inputs flattened).
``TestSoftmaxLoss()``: softmax ``predictions`` of its input and the mean
cross-entropy against integer ``targets`` as its ``loss`` output (a loss
layer: ``Network.get_loss_values`` reports it).

Use them through the registry with :func:`use_simple_layers` (a context
manager), e.g. in a pytest fixture.
"""
import contextlib
import sys
from collections import OrderedDict

from brainstorm.layers.base_layer import (BufferStructure, Layer,
                                          StructureTemplate,
                                          construction_function)
from brainstorm.plugins import hookimpl, registry

__all__ = ['TestAffine', 'TestSoftmaxLoss', 'use_simple_layers']


def _flat(array):
    return array.reshape((array.shape[0] * array.shape[1], -1))


class TestAffineLayerImpl(Layer):
    """outputs = inputs @ W + b over flattened features."""

    __test__ = False
    expected_kwargs = {'size'}

    def setup(self, kwargs, in_shapes):
        self.size = int(kwargs['size'])
        n_in = in_shapes['default'].feature_size
        outputs = OrderedDict(default=BufferStructure('T', 'B', self.size))
        parameters = OrderedDict(W=BufferStructure(n_in, self.size),
                                 bias=BufferStructure(self.size))
        return outputs, parameters, OrderedDict()

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        x = _flat(buffers.inputs.default)
        y = _flat(buffers.outputs.default)
        h.dot_mm(x, buffers.parameters.W, y)
        h.add_mv(y, buffers.parameters.bias.reshape((1, self.size)), y)

    def backward_pass(self, buffers):
        h = self.handler
        x = _flat(buffers.inputs.default)
        dy = _flat(buffers.output_deltas.default)
        dx = _flat(buffers.input_deltas.default)
        h.dot_add_mm(dy, buffers.parameters.W, dx, transb=True)
        h.dot_add_mm(x, dy, buffers.gradients.W, transa=True)
        db = h.allocate((1, self.size))
        h.sum_t(dy, 0, db)
        g = buffers.gradients.bias.reshape((1, self.size))
        h.add_tt(g, db, g)


class TestSoftmaxLossLayerImpl(Layer):
    """Softmax predictions and mean cross-entropy loss (divided by B)."""

    __test__ = False
    expected_inputs = {'default': StructureTemplate('T', 'B', 'F'),
                       'targets': StructureTemplate('T', 'B', 1)}
    computes_no_input_deltas_for = ('targets',)
    outputs_independent_of = {'targets': ('predictions',)}
    is_loss_layer = True

    def setup(self, kwargs, in_shapes):
        n = in_shapes['default'].feature_size
        outputs = OrderedDict(predictions=BufferStructure('T', 'B', n),
                              loss=BufferStructure(1))
        internals = OrderedDict(logp=BufferStructure('T', 'B', 1))
        return outputs, OrderedDict(), internals

    def forward_pass(self, buffers, training_pass=True):
        h = self.handler
        p = _flat(buffers.outputs.predictions)
        h.softmax_m(_flat(buffers.inputs.default), p)
        logp = _flat(buffers.internals.logp)
        h.index_m_by_v(p, _flat(buffers.inputs.targets), logp)
        h.log_t(logp, logp)
        batch = buffers.inputs.default.shape[1]
        total = h.allocate((1,))
        h.sum_t(logp.reshape((-1,)), None, total)
        h.mult_st(-1.0 / batch, total, buffers.outputs.loss)

    def backward_pass(self, buffers):
        h = self.handler
        p = _flat(buffers.outputs.predictions)
        batch = buffers.inputs.default.shape[1]
        onehot = h.allocate(p.shape)
        h.binarize_v(_flat(buffers.inputs.targets), onehot)
        diff = h.allocate(p.shape)
        h.subtract_tt(p, onehot, diff)
        dx = _flat(buffers.input_deltas.default)
        h.mult_add_st(1.0 / batch, diff, dx)


@construction_function(TestAffineLayerImpl)
def TestAffine(size, name=None):
    """An affine layer for tests."""


@construction_function(TestSoftmaxLossLayerImpl)
def TestSoftmaxLoss(name=None):
    """A softmax cross-entropy loss layer for tests."""


@hookimpl
def brainstorm_layers():
    return [TestAffine, TestSoftmaxLoss]


@contextlib.contextmanager
def use_simple_layers():
    """Register TestAffine and TestSoftmaxLoss for the duration."""
    registry.register_module(sys.modules[__name__], 'brainstorm-testing')
    try:
        yield
    finally:
        registry.unregister_module('brainstorm-testing')
