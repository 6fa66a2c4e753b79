"""The input deltas a user reads after a plain backward pass are true.

Every published layer example is wired straight to the Input layer (so
that no parameter needs its input deltas, the case where they used to be
skipped and left at zero), followed by a random quadratic objective, and
``net.get('LAYER.input_deltas.NAME')`` after ``forward_pass()`` and
``backward_pass()`` -- nothing else set -- is compared with central
differences of the loss. Inside ``Trainer.train`` the same deltas are
skipped unless a hook reads them, and a skipped buffer can never be read
as a value.
"""
import warnings

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.data_iterators import Minibatches
from brainstorm.handlers import NumpyHandler
from brainstorm.testing.conformance import layer_examples

EXAMPLES = layer_examples()
MAX_ENTRIES = 24


def _constructor(example):
    if isinstance(example.layer, str):
        return getattr(bs.layers, example.layer)
    return example.layer


def _wire(example, outputs=None):
    """Input >> layer, and (given the layer's outputs: name -> shape) the
    objective: a 'loss' output summed by a Loss layer, every other output
    compared with a random reference input by SquaredDifference >> Loss."""
    in_shapes = {name: tuple(shape) if tuple(shape)[:1] in (('T',), ('B',))
                 else ('T', 'B') + tuple(shape)
                 for name, shape in example.in_shapes.items()}
    refs = {'ref_' + out: shape for out, shape in (outputs or {}).items()
            if out != 'loss'}
    inp = bs.layers.Input(dict(in_shapes, **refs))
    layer = _constructor(example)(**example.kwargs, name='Tested')
    for name in in_shapes:
        inp - name >> name - layer
    last = layer
    if 'loss' in (outputs or {}):
        last = layer - 'loss' >> bs.layers.Loss(name='Loss')
    for ref in refs:
        diff = bs.layers.SquaredDifference(name='Diff_' + ref)
        layer - ref[4:] >> 'inputs_1' - diff
        inp - ref >> 'inputs_2' - diff
        last = diff >> bs.layers.Loss(name='Loss_' + ref)
    return last


def _network(example):
    """The tested layer and an objective that depends on every output
    whose deltas it takes (a Loss layer's own loss needs nothing)."""
    tested = bs.Network.from_layer(_wire(example)).layers['Tested']
    outputs = {} if getattr(tested, 'is_loss_layer', False) else {
        name: tuple(s.shape) for name, s in tested.out_shapes.items()
        if name not in tested.takes_no_output_deltas_from}
    net = bs.Network.from_layer(_wire(example, outputs))
    net.set_handler(NumpyHandler(np.float64))
    return net


def _data(example, net, rnd):
    data = {}
    T, B = example.time_steps, example.batch_size
    given = example.inputs or {}
    for name, structure in net.layers['Input'].out_shapes.items():
        if name in given:
            data[name] = np.asarray(given[name], np.float64)
        else:
            data[name] = rnd.randn(*structure.get_shape(T, B))
    return data


def _loss(net, data):
    net.provide_external_data(data)
    net.forward_pass()
    return net.get_loss_values()['total_loss']


@pytest.mark.parametrize('example', EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_plain_backward_pass_gives_true_input_deltas(example):
    rnd = np.random.RandomState(3)
    net = _network(example)
    net.set_parameters(rnd.uniform(-0.5, 0.5,
                                   net.buffer_manager.num_parameters))
    if example.parameters:
        for pname, value in example.parameters.items():
            view = net.buffer.Tested.parameters[pname]
            net.handler.set_from_numpy(view, np.broadcast_to(
                np.asarray(value, np.float64), view.shape).copy())
    data = _data(example, net, rnd)
    _loss(net, data)
    net.backward_pass()
    tested = net.layers['Tested']
    checked = 0
    for in_name in tested.in_shapes:
        path = 'Tested.input_deltas.' + in_name
        if in_name in tested.computes_no_input_deltas_for:
            with pytest.raises(ValueError, match='computes no deltas for '
                               'its input {!r}'.format(in_name)):
                net.get(path)
            continue
        analytic = net.get(path)
        x = data[in_name]
        flat = x.reshape(-1)
        entries = rnd.choice(flat.size, min(flat.size, MAX_ENTRIES),
                             replace=False)
        eps = 1e-6
        for i in entries:
            plus, minus = flat.copy(), flat.copy()
            plus[i] += eps
            minus[i] -= eps
            numeric = (_loss(net, dict(data, **{in_name: plus.reshape(
                x.shape)})) - _loss(net, dict(data, **{in_name: minus.reshape(
                    x.shape)}))) / (2 * eps)
            # DeltasScaling passes scaled deltas on, by design
            numeric *= example.kwargs.get('factor', 1.0) \
                if example.layer_type == 'DeltasScaling' else 1.0
            got = analytic.reshape(-1)[i]
            assert abs(got - numeric) <= 1e-5 + 1e-4 * abs(numeric), (
                '{} of {}: entry {}: backward pass {!r}, finite differences '
                '{!r}'.format(path, example.id, np.unravel_index(
                    i, x.shape), got, numeric))
            checked += 1
    if set(tested.in_shapes) - set(tested.computes_no_input_deltas_for):
        assert checked > 0


def _mlp():
    inp, out = bs.tools.get_in_out_layers('classification', (6,), 3)
    net = bs.Network.from_layer(inp >> bs.layers.FullyConnected(
        5, name='Hid') >> out)
    net.set_handler(NumpyHandler(np.float64))
    net.initialize(bs.initializers.Gaussian(0.3), seed=1)
    return net


class _ReadsInputDeltas(bs.hooks.Hook):
    """Records Hid's input deltas after every update."""

    def __init__(self, declare):
        super().__init__(name='reads', timescale='update')
        self.declare = declare
        self.seen = []

    def deltas_read(self, net):
        return ['Hid.input_deltas.default'] if self.declare else []

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        self.seen.append(net.buffer.Hid.input_deltas.default.copy())


def _train(net, hook):
    rnd = np.random.RandomState(0)
    x = rnd.randn(1, 4, 6)
    t = rnd.randint(0, 3, (1, 4, 1)).astype(float)
    trainer = bs.Trainer(bs.training.SgdStepper(learning_rate=0.1),
                         verbose=False)
    trainer.add_hook(hook)
    trainer.add_hook(bs.hooks.StopAfterEpoch(2))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        trainer.train(net, Minibatches(4, default=x, targets=t,
                                       shuffle=False))
    return x, t


def test_training_skips_input_deltas_no_hook_reads_and_says_so():
    net = _mlp()
    hook = _ReadsInputDeltas(declare=False)
    x, t = _train(net, hook)
    # skipped while training: NaN, never zeros passed off as deltas
    assert len(hook.seen) == 2 and all(np.isnan(d).all() for d in hook.seen)
    with pytest.raises(ValueError) as err:
        net.get('Hid.input_deltas.default')
    assert str(err.value).startswith(
        'Hid.input_deltas.default was not computed by the last backward '
        'pass (the buffer holds NaN): it was skipped')
    assert 'deltas_read()' in str(err.value)
    # the network computes everything again after training
    assert net.compute_all_deltas
    assert net.layers['Hid'].input_deltas_needed == {'default': True}
    net.provide_external_data({'default': x, 'targets': t})
    net.forward_pass()
    net.backward_pass()
    assert np.isfinite(net.get('Hid.input_deltas.default')).all()


def test_training_computes_input_deltas_a_hook_declares():
    net = _mlp()
    hook = _ReadsInputDeltas(declare=True)
    x, t = _train(net, hook)
    assert len(hook.seen) == 2
    last = hook.seen[-1]
    assert np.isfinite(last).all() and np.abs(last).max() > 0
    # equal to what a plain backward pass gives with the parameters of
    # the last update undone: check the last one against a fresh network
    # trained one update only
    net1 = _mlp()
    hook1 = _ReadsInputDeltas(declare=True)
    _train(net1, hook1)
    assert np.allclose(hook1.seen[0], hook.seen[0])
    fresh = _mlp()
    fresh.provide_external_data({'default': x, 'targets': t})
    fresh.forward_pass()
    fresh.backward_pass()
    assert np.allclose(fresh.get('Hid.input_deltas.default'), hook.seen[0])


def test_compute_all_deltas_false_skips_and_true_restores():
    net = _mlp()
    rnd = np.random.RandomState(0)
    data = {'default': rnd.randn(1, 4, 6),
            'targets': rnd.randint(0, 3, (1, 4, 1)).astype(float)}
    net.provide_external_data(data)
    net.forward_pass()
    net.backward_pass()
    full = net.get('Hid.input_deltas.default')
    assert np.abs(full).max() > 0
    assert net.deltas_computed('Hid.input_deltas.default')
    assert net.get('Input.output_deltas.default').shape == full.shape
    net.compute_all_deltas = False
    assert not net.deltas_computed('Hid.input_deltas.default')
    net.backward_pass()
    with pytest.raises(ValueError, match='was not computed'):
        net.get('Input.output_deltas.default')
    net.compute_all_deltas = True
    net.backward_pass()
    assert np.array_equal(net.get('Hid.input_deltas.default'), full)


def _softmax_with_predictions_fed_to(into_targets):
    inp = bs.layers.Input({'default': ('T', 'B', 5), 'targets': ('T', 'B', 1),
                           'r': ('T', 'B', 5)})
    out = bs.layers.SoftmaxCE(name='Out')
    inp - 'default' >> bs.layers.FullyConnected(5, name='F') >> \
        'default' - out
    inp - 'targets' >> 'targets' - out
    out - 'loss' >> bs.layers.Loss(name='L1')
    second = bs.layers.SquaredError(name='Second')
    if into_targets:   # the predictions as constant targets: fine
        inp - 'r' >> 'default' - second
        out - 'predictions' >> 'targets' - second
    else:              # a loss of the predictions: its gradient is lost
        out - 'predictions' >> 'default' - second
        inp - 'r' >> 'targets' - second
    return second - 'loss' >> bs.layers.Loss(name='L2')


def test_a_loss_of_outputs_that_pass_no_deltas_is_refused():
    """SoftmaxCE passes back the deltas of its loss only, not those of its
    predictions: a second loss computed from the predictions would silently
    get no gradient in F."""
    with pytest.raises(ValueError) as err:
        bs.Network.from_layer(_softmax_with_predictions_fed_to(False))
    assert str(err.value) == (
        "SoftmaxCE layer 'Out' passes no deltas back from its output "
        "'predictions', but that output feeds 'Second', which a loss depends "
        "on: the gradient of that loss would miss everything before 'Out'. "
        "Compute that loss from another layer's output instead")
    net = bs.Network.from_layer(_softmax_with_predictions_fed_to(True))
    assert 'Second' in net.layers


def test_no_backward_pass_after_a_forward_pass_without_targets():
    net = _mlp()
    x = np.random.RandomState(0).randn(1, 4, 6)
    net.provide_external_data({'default': x}, all_inputs=False)
    net.forward_pass()
    with pytest.raises(ValueError) as err:
        net.backward_pass()
    assert str(err.value) == (
        "backward_pass: the last forward pass lacked the input "
        "'targets', which was not in the data given to provide_external_data (it got "
        "'default'); provide all inputs (with the targets) for a backward "
        "pass")


def test_extract_refuses_deltas_it_would_not_compute():
    """extract runs inference passes: it used to return whatever the delta
    buffers held (zeros, or a batch of an earlier backward pass)."""
    net = _mlp()
    x = np.random.RandomState(0).randn(1, 4, 6)
    with pytest.raises(ValueError) as err:
        bs.tools.extract(net, Minibatches(2, default=x, shuffle=False),
                         ['Hid.input_deltas.default'])
    assert str(err.value).startswith(
        "extract: 'Hid.input_deltas.default' is a delta buffer, and extract "
        "runs forward (inference) passes only")
