"""RmsPropStepper and AdamStepper against plain numpy formulas; the state
(get_state/set_state) of every stepper; descriptions."""
import json

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.describable import create_from_description, get_description
from brainstorm.handlers import NumpyHandler
from brainstorm.handlers.debug_handler import DebugHandler
from brainstorm.hooks import Hook
from brainstorm.testing.simple_layers import (TestAffine, TestSoftmaxLoss,
                                              use_simple_layers)


class FakeNet:
    """A network whose gradients are given: parameters p0, and the i-th
    backward pass writes grads[i] into the gradients."""

    def __init__(self, p0, grads, handler=None):
        self.handler = handler or NumpyHandler(np.float64)
        self.buffer = type('Buffers', (), {})()
        self.buffer.parameters = self.handler.create_from_numpy(
            np.array(p0, dtype=np.float64))
        self.buffer.gradients = self.handler.zeros(
            self.buffer.parameters.shape)
        self.grads = iter(grads)

    def forward_pass(self, training_pass=False):
        pass

    def backward_pass(self):
        self.handler.set_from_numpy(self.buffer.gradients, next(self.grads))

    def apply_weight_modifiers(self):
        pass


def run(stepper, p0, grads, handler=None):
    net = FakeNet(p0, grads, handler)
    stepper.start(net)
    for _ in grads:
        stepper.run()
    return net.handler.get_numpy_copy(net.buffer.parameters)


def rmsprop_reference(p, grads, lr, decay, eps):
    p, ms = np.array(p, dtype=np.float64), np.zeros(len(p))
    for g in grads:
        ms = decay * ms + (1 - decay) * g ** 2
        p = p - lr * g / (np.sqrt(ms) + eps)
    return p


def adam_reference(p, grads, lr, b1, b2, eps):
    p = np.array(p, dtype=np.float64)
    m, v = np.zeros(len(p)), np.zeros(len(p))
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


P0 = [0.5, -1.0, 2.0, 0.0]


def gradients(n, seed=0):
    rnd = np.random.RandomState(seed)
    return [rnd.randn(4) * (i + 1) for i in range(n)]


def test_rmsprop_one_step():
    g = np.array([1.0, -2.0, 0.5, 0.0])
    p = run(bs.training.RmsPropStepper(0.01, decay=0.9, epsilon=1e-8), P0,
            [g])
    # ms = 0.1 g^2, so the step is lr * g / (sqrt(0.1) |g| + eps)
    expected = np.array(P0) - 0.01 * g / (np.sqrt(0.1) * np.abs(g) + 1e-8)
    assert np.allclose(p, expected, rtol=1e-12, atol=1e-15)
    assert np.allclose(p[:3], np.array(P0[:3]) -
                       0.01 * np.sign(g[:3]) / np.sqrt(0.1))


def test_adam_one_step_is_bias_corrected():
    g = np.array([1.0, -2.0, 0.5, 0.0])
    p = run(bs.training.AdamStepper(0.01, epsilon=1e-12), P0, [g])
    # after one step m_hat = g and v_hat = g^2: a step of lr * sign(g)
    assert np.allclose(p, np.array(P0) - 0.01 * np.sign(g), rtol=1e-9)
    assert np.allclose(p, adam_reference(P0, [g], 0.01, 0.9, 0.999, 1e-12),
                       rtol=1e-14, atol=0)


@pytest.mark.parametrize('lr, decay, eps', [(0.01, 0.9, 1e-8),
                                            (0.1, 0.5, 1e-3)])
def test_rmsprop_several_steps(lr, decay, eps):
    grads = gradients(6)
    p = run(bs.training.RmsPropStepper(lr, decay=decay, epsilon=eps), P0,
            grads)
    assert np.allclose(p, rmsprop_reference(P0, grads, lr, decay, eps),
                       rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize('lr, b1, b2, eps', [(0.001, 0.9, 0.999, 1e-8),
                                             (0.05, 0.5, 0.9, 1e-4)])
def test_adam_several_steps(lr, b1, b2, eps):
    grads = gradients(7, seed=1)
    stepper = bs.training.AdamStepper(lr, beta1=b1, beta2=b2, epsilon=eps)
    p = run(stepper, P0, grads)
    assert np.allclose(p, adam_reference(P0, grads, lr, b1, b2, eps),
                       rtol=1e-12, atol=1e-14)
    assert stepper.t == 7 and stepper.updates == 7


@pytest.mark.parametrize('make', [
    lambda: bs.training.RmsPropStepper(0.05, decay=0.8),
    lambda: bs.training.AdamStepper(0.05, beta1=0.8, beta2=0.9)])
def test_any_handler_gives_the_same_steps(make):
    grads = gradients(4, seed=2)
    plain = run(make(), P0, grads)
    debug = run(make(), P0, grads, DebugHandler(NumpyHandler(np.float64)))
    assert np.array_equal(plain, debug)


@pytest.mark.parametrize('make, arrays, counters', [
    (lambda: bs.training.SgdStepper(0.1), (), {'updates'}),
    (lambda: bs.training.MomentumStepper(0.1, momentum=0.9),
     ('velocity',), {'updates'}),
    (lambda: bs.training.NesterovStepper(0.1, momentum=0.9),
     ('velocity',), {'updates'}),
    (lambda: bs.training.RmsPropStepper(0.05), ('mean_square',),
     {'updates'}),
    (lambda: bs.training.AdamStepper(0.05), ('m', 'v'), {'updates', 't'})])
def test_state_round_trip_continues_exactly(make, arrays, counters):
    grads = gradients(5, seed=3)
    whole = run(make(), P0, grads)

    first = make()
    net = FakeNet(P0, grads[:3])
    first.start(net)
    for _ in range(3):
        first.run()
    state = first.get_state()
    assert set(state) == set(arrays) | counters
    assert int(state['updates']) == 3
    for name in arrays:
        assert np.array_equal(state[name], getattr(first, name))
        assert state[name] is not getattr(first, name)   # a copy

    second = make()
    net2 = FakeNet(net.buffer.parameters, grads[3:])
    second.start(net2)
    second.set_state({k: v.copy() for k, v in state.items()})
    for _ in range(2):
        second.run()
    assert np.array_equal(net2.buffer.parameters, whole)
    assert second.updates == 5


def test_start_resets_the_state():
    stepper = bs.training.AdamStepper(0.1)
    run(stepper, P0, gradients(2))
    stepper.start(FakeNet(P0, []))
    assert stepper.t == 0
    assert not stepper.m.any() and not stepper.v.any()


def test_set_state_names_what_is_wrong():
    stepper = bs.training.AdamStepper()
    state = {'updates': np.array(1), 't': np.array(1),
             'm': np.zeros(4), 'v': np.zeros(4)}
    with pytest.raises(ValueError, match='AdamStepper: call start'):
        stepper.set_state(state)
    stepper.start(FakeNet(P0, []))
    with pytest.raises(ValueError, match=r"AdamStepper: the state has no "
                                         r"'v' \(it has \['m', 't', "
                                         r"'updates'\]\)"):
        stepper.set_state({k: v for k, v in state.items() if k != 'v'})
    with pytest.raises(ValueError, match=r"AdamStepper: state 'm' has shape "
                                         r"\(3,\), but the network needs "
                                         r"\(4,\)"):
        stepper.set_state(dict(state, m=np.zeros(3)))
    with pytest.raises(ValueError, match="AdamStepper: the state has no 't'"):
        stepper.set_state({k: v for k, v in state.items() if k != 't'})


@pytest.mark.parametrize('make, message', [
    (lambda: bs.training.RmsPropStepper(decay=1.0),
     r'RmsPropStepper: decay must be in \[0, 1\), got 1.0'),
    (lambda: bs.training.RmsPropStepper(decay=-0.1),
     r'RmsPropStepper: decay must be in \[0, 1\), got -0.1'),
    (lambda: bs.training.RmsPropStepper(epsilon=-1e-8),
     r'RmsPropStepper: epsilon must be >= 0, got -1e-08'),
    (lambda: bs.training.AdamStepper(beta1=1.0),
     r'AdamStepper: beta1 must be in \[0, 1\), got 1.0'),
    (lambda: bs.training.AdamStepper(beta2=1.5),
     r'AdamStepper: beta2 must be in \[0, 1\), got 1.5'),
    (lambda: bs.training.AdamStepper(epsilon=-1.0),
     r'AdamStepper: epsilon must be >= 0, got -1.0')])
def test_arguments_are_checked(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_descriptions_round_trip_and_leave_out_the_state():
    stepper = bs.training.AdamStepper(0.002, beta1=0.8, beta2=0.99,
                                      epsilon=1e-6)
    run(stepper, P0, gradients(2))
    description = json.loads(json.dumps(get_description(stepper)))
    assert description == {'@type': 'AdamStepper', 'learning_rate': 0.002,
                           'beta1': 0.8, 'beta2': 0.99, 'epsilon': 1e-6}
    loaded = create_from_description(description)
    assert type(loaded) is bs.training.AdamStepper
    assert (loaded.learning_rate, loaded.beta1, loaded.beta2,
            loaded.epsilon, loaded.t, loaded.m) == \
        (0.002, 0.8, 0.99, 1e-6, 0, None)

    stepper = bs.training.RmsPropStepper(0.02, decay=0.7, epsilon=1e-5)
    run(stepper, P0, gradients(2))
    description = json.loads(json.dumps(get_description(stepper)))
    assert description == {'@type': 'RmsPropStepper', 'learning_rate': 0.02,
                           'decay': 0.7, 'epsilon': 1e-5}
    loaded = create_from_description(description)
    assert (type(loaded), loaded.decay, loaded.mean_square) == \
        (bs.training.RmsPropStepper, 0.7, None)
    # a described stepper runs like a new one
    grads = gradients(3)
    assert np.array_equal(run(loaded, P0, grads),
                          run(bs.training.RmsPropStepper(
                              0.02, decay=0.7, epsilon=1e-5), P0, grads))


def test_steppers_are_registered():
    assert bs.registry.get('steppers', 'RmsPropStepper') is \
        bs.training.RmsPropStepper
    assert bs.AdamStepper is bs.training.AdamStepper
    assert {'RmsPropStepper', 'AdamStepper'} <= set(dir(bs.training))


class StopAt(Hook):
    can_stop_training = True

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if epoch_nr >= self.epochs:
            raise StopIteration()


@pytest.mark.parametrize('stepper', [
    bs.training.RmsPropStepper(0.01), bs.training.AdamStepper(0.02)])
def test_a_small_network_learns(stepper):
    rnd = np.random.RandomState(0)
    x = rnd.randn(1, 24, 4).astype(np.float32)
    y = (x[0, :, :1] + x[0, :, 1:2] > 0).astype(np.float32)[None]

    class Data(bs.data_iterators.DataIterator):
        def __init__(self):
            super().__init__({'default': x.shape}, 3)

        def __call__(self, handler=None):
            for i in range(3):
                yield {'default': x[:, 8 * i:8 * i + 8],
                       'targets': y[:, 8 * i:8 * i + 8]}

    with use_simple_layers():
        inp = bs.layers.Input({'default': ('T', 'B', 4),
                               'targets': ('T', 'B', 1)})
        out = TestSoftmaxLoss(name='Output')
        inp >> TestAffine(2, name='A') >> out
        inp - 'targets' >> 'targets' - out
        net = bs.Network.from_layer(out)
        net.initialize(0.0)
        trainer = bs.Trainer(stepper, verbose=False)
        trainer.add_hook(StopAt(40))
        trainer.train(net, Data())
    losses = trainer.logs['rolling_training']['total_loss']
    assert losses[0] == pytest.approx(np.log(2), rel=0.05)
    assert losses[-1] < 0.5 * losses[0]
