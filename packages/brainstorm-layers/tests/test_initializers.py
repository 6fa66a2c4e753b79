"""Initializers: distributions, fans, errors, descriptions."""
import math

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.describable import (create_from_description,
                                    get_description)
from brainstorm.initializers import InitializationError, Initializer
from brainstorm.randomness import RandomState
from brainstorm_layers.initializers import (
    ArrayInitializer, DenseSqrtFanIn, DenseSqrtFanInOut, EchoState, Gaussian,
    Identity, LstmOptInit, Orthogonal, RandomWalk, SparseInputs,
    SparseOutputs, Uniform, fan_in_out)

ALL = (Gaussian, Uniform, DenseSqrtFanIn, DenseSqrtFanInOut, ArrayInitializer,
       EchoState, Identity, LstmOptInit, Orthogonal, RandomWalk, SparseInputs,
       SparseOutputs)


def draw(initializer, shape, seed=0):
    initializer.rnd = RandomState(seed)
    try:
        return np.asarray(initializer(shape))
    finally:
        initializer.rnd = None


def test_all_are_registered_initializers():
    for cls in ALL:
        assert issubclass(cls, Initializer)
        assert getattr(bs.initializers, cls.__name__) is cls
    assert bs.Gaussian is Gaussian


def test_gaussian_statistics():
    values = draw(Gaussian(std=0.5, mean=2.0), (200, 300))
    assert values.shape == (200, 300)
    assert abs(values.mean() - 2.0) < 0.01
    assert abs(values.std() - 0.5) < 0.01
    assert draw(Gaussian(), (5,)).shape == (5,)   # any shape, biases too


def test_uniform_ranges():
    values = draw(Uniform(0.3), (100, 100))
    assert values.min() >= -0.3 and values.max() <= 0.3
    assert values.min() < -0.29 and values.max() > 0.29
    values = draw(Uniform(1.0, 3.0), (100, 100))
    assert values.min() >= 1.0 and values.max() <= 3.0
    assert abs(values.mean() - 2.0) < 0.02


@pytest.mark.parametrize('shape, fans', [
    ((10, 20), (10, 20)), ((3, 4, 5), (12, 5)), ((8, 3, 5, 2), (30, 8))])
def test_fan_rule(shape, fans):
    assert fan_in_out(shape) == fans


@pytest.mark.parametrize('cls, scales, count', [
    (DenseSqrtFanIn, {'rel': math.sqrt(6), 'tanh': math.sqrt(3),
                      'sigmoid': 4 * math.sqrt(3), 'linear': 1.0, 2.5: 2.5},
     lambda fi, fo: fi),
    (DenseSqrtFanInOut, {'rel': math.sqrt(12), 'tanh': math.sqrt(6),
                         'sigmoid': 4 * math.sqrt(6), 'linear': 1.0,
                         2.5: 2.5},
     lambda fi, fo: fi + fo)])
@pytest.mark.parametrize('shape', [(50, 40), (16, 3, 3, 4)])
def test_dense_sqrt_ranges(cls, scales, count, shape):
    fi, fo = fan_in_out(shape)
    for scale, factor in scales.items():
        bound = factor / math.sqrt(count(fi, fo))
        values = draw(cls(scale), shape)
        assert values.shape == shape
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.9 * bound


@pytest.mark.parametrize('cls', [DenseSqrtFanIn, DenseSqrtFanInOut])
def test_dense_sqrt_refuses_biases(cls):
    with pytest.raises(InitializationError, match=cls.__name__):
        draw(cls(), (10,))


@pytest.mark.parametrize('make, match', [
    (lambda: Gaussian(std=-1), 'Gaussian: std'),
    (lambda: Gaussian(mean='a'), 'Gaussian: mean'),
    (lambda: Uniform(1.0, 0.5), 'Uniform: high'),
    (lambda: Uniform('x'), 'Uniform: low'),
    (lambda: DenseSqrtFanIn('relu'), "DenseSqrtFanIn: unknown scale 'relu'"),
    (lambda: DenseSqrtFanInOut([1]), 'DenseSqrtFanInOut: scale'),
])
def test_argument_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize('initializer', [
    Gaussian(), Gaussian(0.3, mean=-1.0), Uniform(), Uniform(-2, 5),
    DenseSqrtFanIn(), DenseSqrtFanIn(1.5), DenseSqrtFanInOut('tanh')])
def test_description_round_trip(initializer):
    description = get_description(initializer)
    assert description['@type'] == type(initializer).__name__
    assert 'rnd' not in description
    copy = create_from_description(description)
    assert type(copy) is type(initializer)
    assert get_description(copy) == description
    assert np.array_equal(draw(copy, (4, 3), seed=7),
                          draw(initializer, (4, 3), seed=7))


def test_network_initialize_with_fallback():
    inp = bs.layers.Input({'default': ('T', 'B', 6)})
    net = bs.Network.from_layer(inp >> bs.layers.FullyConnected(4, name='H'))
    net.initialize(DenseSqrtFanIn('rel'), fallback=Gaussian(0.0, mean=0.5),
                   seed=3)
    W = net.get('H.parameters.W')
    assert np.abs(W).max() <= math.sqrt(6) / math.sqrt(6)
    assert np.allclose(net.get('H.parameters.bias'), 0.5)
    net2 = bs.Network.from_layer(
        bs.layers.Input({'default': ('T', 'B', 6)}) >>
        bs.layers.FullyConnected(4, name='H'))
    net2.initialize(DenseSqrtFanIn('rel'), fallback=Gaussian(0.0, mean=0.5),
                    seed=3)
    assert np.array_equal(net2.get('parameters'), net.get('parameters'))


def small_net(n_in=6, size=4):
    inp = bs.layers.Input({'default': ('T', 'B', n_in)})
    return bs.Network.from_layer(inp >> bs.layers.FullyConnected(size,
                                                                 name='H'))


# -- ArrayInitializer --------------------------------------------------------
def test_array_initializer_gives_its_array():
    values = np.arange(6.0).reshape(2, 3)
    init = ArrayInitializer(values)
    result = draw(init, (2, 3))
    assert np.array_equal(result, values)
    result[0, 0] = 99.0                      # a copy each time
    assert np.array_equal(draw(init, (2, 3)), values)
    assert np.array_equal(draw(ArrayInitializer([1, 2, 3]), (3,)), [1, 2, 3])


def test_array_initializer_shape_errors():
    init = ArrayInitializer(np.zeros((2, 3)))
    with pytest.raises(InitializationError,
                       match=r'ArrayInitializer: the array has shape \(2, 3\)'
                             r', but the parameter has shape \(3, 2\)'):
        draw(init, (3, 2))
    with pytest.raises(InitializationError, match='ArrayInitializer'):
        draw(init, (6,))
    net = small_net()
    with pytest.raises(InitializationError,
                       match=r'H\.parameters\.bias: ArrayInitializer'):
        net.initialize(H={'W': 0, 'bias': ArrayInitializer([1, 2, 3])})
    net.initialize(H={'W': 0, 'bias': ArrayInitializer([1, 2, 3, 4])})
    assert np.array_equal(net.get('H.parameters.bias'), [1, 2, 3, 4])


# -- EchoState ---------------------------------------------------------------
@pytest.mark.parametrize('radius', [0.77, 1.0, 1.3])
def test_echo_state_spectral_radius(radius):
    values = draw(EchoState(radius), (20, 20))
    assert np.max(np.abs(np.linalg.eigvals(values))) == \
        pytest.approx(radius)
    assert len(np.unique(values)) == 400     # random, not a scaled identity


@pytest.mark.parametrize('shape', [(4, 5), (5,), (3, 3, 3)])
def test_echo_state_needs_square_matrices(shape):
    with pytest.raises(InitializationError,
                       match=r'EchoState only works for square matrices, '
                             r'got shape \({}'.format(shape[0])):
        draw(EchoState(0.9), shape)


# -- Identity ----------------------------------------------------------------
def test_identity_is_scaled_identity_plus_noise():
    assert np.array_equal(draw(Identity(2.5, std=0.0), (3, 3)),
                          2.5 * np.eye(3))
    values = draw(Identity(std=0.05), (200, 200))
    noise = values - np.eye(200)
    assert abs(noise.std() - 0.05) < 0.001
    assert abs(noise.mean()) < 0.001


def test_identity_shapes():
    with pytest.raises(InitializationError,
                       match=r'Identity only works for square matrices, got '
                             r'shape \(3, 4\)'):
        draw(Identity(), (3, 4))
    rect = draw(Identity(enforce_square=False, std=0.0), (3, 4))
    assert np.array_equal(rect, np.eye(3, 4))
    with pytest.raises(InitializationError, match=r'Identity.*\(4,\)'):
        draw(Identity(enforce_square=False), (4,))


# -- LstmOptInit -------------------------------------------------------------
def test_lstm_opt_init_fills_four_blocks_in_gate_order():
    values = draw(LstmOptInit(input_block=Gaussian(0.5), input_gate=-1.0,
                              forget_gate=2.0, output_gate=3), (300, 40))
    block_input, gates = values[:, :10], values[:, 10:]
    assert abs(block_input.std() - 0.5) < 0.02
    assert np.all(gates[:, :10] == -1.0)
    assert np.all(gates[:, 10:20] == 2.0)
    assert np.all(gates[:, 20:] == 3.0)
    assert np.array_equal(draw(LstmOptInit(forget_gate=1.0), (8,)),
                          [0, 0, 0, 0, 1, 1, 0, 0])


def test_lstm_opt_init_wrong_layer_uses_fallback():
    init = LstmOptInit(forget_gate=1.0)
    with pytest.raises(InitializationError,
                       match=r'LstmOptInit .* got shape \(6, 5\)'):
        draw(init, (6, 5))
    net = small_net(size=5)                   # not four gate blocks
    net.initialize(H=init, fallback=0.25)
    assert np.all(net.get('parameters') == 0.25)
    net = small_net(size=8)
    net.initialize(H=init, fallback=0.25)
    assert np.array_equal(net.get('H.parameters.bias'),
                          [0, 0, 0, 0, 1, 1, 0, 0])


# -- Orthogonal --------------------------------------------------------------
def test_orthogonal_rows_or_columns_are_orthonormal():
    W = draw(Orthogonal(), (10, 10))
    assert np.allclose(W @ W.T, np.eye(10))
    assert np.allclose(W.T @ W, np.eye(10))
    W = draw(Orthogonal(), (5, 12))             # n_in <= n_out
    assert np.allclose(W @ W.T, np.eye(5))
    W = draw(Orthogonal(scale=2.0), (12, 5))    # n_in > n_out
    assert np.allclose(W.T @ W, 4.0 * np.eye(5))
    W = draw(Orthogonal(), (4, 3, 3, 2))        # four filters of 18 weights
    filters = W.reshape(4, -1)
    assert np.allclose(filters @ filters.T, np.eye(4))


def test_orthogonal_refuses_biases():
    with pytest.raises(InitializationError,
                       match=r'Orthogonal .* got shape \(7,\)'):
        draw(Orthogonal(), (7,))


# -- RandomWalk --------------------------------------------------------------
def test_random_walk_gains():
    assert RandomWalk().gain(10) == pytest.approx(math.exp(1 / 20))
    assert RandomWalk('rel').gain(10) == \
        pytest.approx(math.sqrt(2) * math.exp(1.2 / 7.6))
    assert RandomWalk('rel').gain(3) == \
        pytest.approx(math.sqrt(2) * math.exp(1.2 / 3.6))   # max(N, 6)
    assert RandomWalk('rel', scale=1.7).gain(10) == 1.7


@pytest.mark.parametrize('init', [RandomWalk(), RandomWalk('rel'),
                                  RandomWalk(scale=0.5)])
def test_random_walk_std(init):
    values = draw(init, (200, 200))
    assert abs(values.mean()) < 0.003
    assert values.std() == pytest.approx(init.gain(200) / math.sqrt(200),
                                         rel=0.02)


def test_random_walk_needs_square_matrices():
    with pytest.raises(InitializationError,
                       match=r'RandomWalk only works for square matrices, '
                             r'got shape \(3, 4\)'):
        draw(RandomWalk(), (3, 4))


# -- SparseInputs / SparseOutputs --------------------------------------------
def test_sparse_inputs_connections_per_unit():
    W = draw(SparseInputs(Gaussian(), connections=3), (20, 8), seed=5)
    assert np.array_equal(np.count_nonzero(W, axis=0), [3] * 8)
    # the connections hold the sub-initializer's values
    G = draw(Gaussian(), (20, 8), seed=5)
    assert np.array_equal(W[W != 0], G[W != 0])
    # each unit picks its own inputs
    assert len({tuple(np.flatnonzero(W[:, j])) for j in range(8)}) > 1
    conv = draw(SparseInputs(1.0, connections=5), (4, 3, 3, 2))
    assert np.array_equal(np.count_nonzero(conv.reshape(4, -1), axis=1),
                          [5] * 4)


def test_sparse_outputs_connections_per_input():
    W = draw(SparseOutputs(Gaussian(), connections=2), (20, 8), seed=5)
    assert np.array_equal(np.count_nonzero(W, axis=1), [2] * 20)
    G = draw(Gaussian(), (20, 8), seed=5)
    assert np.array_equal(W[W != 0], G[W != 0])
    assert np.count_nonzero(W, axis=0).sum() == 40


@pytest.mark.parametrize('cls, shape, text', [
    (SparseInputs, (3, 10), r'SparseInputs: 4 connections per unit do not '
                            r'fit a parameter of shape \(3, 10\)'),
    (SparseOutputs, (10, 3), r'SparseOutputs: 4 connections per input do '
                             r'not fit a parameter of shape \(10, 3\)'),
    (SparseInputs, (10,), r'SparseInputs .* got shape \(10,\)')])
def test_sparse_shape_errors(cls, shape, text):
    with pytest.raises(InitializationError, match=text):
        draw(cls(Gaussian(), connections=4), shape)


def test_fallback_through_network_initialize():
    net = small_net(n_in=10, size=6)
    net.initialize(H=SparseInputs(Gaussian(), connections=4),
                   fallback=Gaussian(0.0, mean=0.5), seed=2)
    W = net.get('H.parameters.W')
    assert np.array_equal(np.count_nonzero(W, axis=0), [4] * 6)
    assert np.allclose(net.get('H.parameters.bias'), 0.5)
    net.initialize(default=Identity(std=0.0), fallback=0.0)  # W is (10, 6)
    assert np.all(net.get('parameters') == 0.0)
    with pytest.raises(InitializationError,
                       match=r"H\.parameters\.W: Identity only works for "
                             r"square matrices, got shape \(10, 6\) and no "
                             r"fallback"):
        net.initialize(H={'W': Identity(), 'bias': 0})


def test_new_initializers_are_reproducible():
    for init in (EchoState(), Identity(), Orthogonal(), RandomWalk(),
                 SparseInputs(Gaussian(), 2), SparseOutputs(Uniform(), 2),
                 LstmOptInit(Gaussian(), Gaussian(), 1.0, Gaussian())):
        a, b = draw(init, (8, 8), seed=3), draw(init, (8, 8), seed=3)
        assert np.array_equal(a, b)
        assert not np.array_equal(a, draw(init, (8, 8), seed=4))


@pytest.mark.parametrize('make, match', [
    (lambda: ArrayInitializer('abc'), 'ArrayInitializer: array'),
    (lambda: EchoState(-0.5), 'EchoState: spectral_radius'),
    (lambda: Identity(std=-1), 'Identity: std'),
    (lambda: Identity(enforce_square='yes'), 'Identity: enforce_square'),
    (lambda: LstmOptInit(forget_gate='one'), 'LstmOptInit: forget_gate'),
    (lambda: Orthogonal('big'), 'Orthogonal: scale'),
    (lambda: RandomWalk('tanh'), "RandomWalk: act_func .* got 'tanh'"),
    (lambda: RandomWalk(scale=-1), 'RandomWalk: scale'),
    (lambda: SparseInputs(None), 'SparseInputs: sub_initializer'),
    (lambda: SparseOutputs(Gaussian(), 0), 'SparseOutputs: connections'),
])
def test_new_argument_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize('initializer', [
    ArrayInitializer(np.arange(12.0).reshape(4, 3)), EchoState(0.77),
    Identity(2.0, std=0.1, enforce_square=False), Orthogonal(0.5),
    RandomWalk('rel'), RandomWalk(scale=1.1),
    LstmOptInit(Gaussian(0.2), 0.0, 1.0, Uniform(0.1)),
    SparseInputs(Gaussian(0.3), connections=2),
    SparseOutputs(DenseSqrtFanIn('tanh'), connections=1)])
def test_new_description_round_trip(initializer):
    description = get_description(initializer)
    assert description['@type'] == type(initializer).__name__
    copy = create_from_description(description)
    assert type(copy) is type(initializer)
    assert get_description(copy) == description
    shape = (4, 3) if isinstance(initializer, ArrayInitializer) else (4, 4)
    assert np.array_equal(draw(copy, shape, seed=7),
                          draw(initializer, shape, seed=7))
