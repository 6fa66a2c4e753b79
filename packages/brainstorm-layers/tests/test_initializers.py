"""Initializers: distributions, fans, errors, descriptions."""
import math

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.describable import (create_from_description,
                                    get_description)
from brainstorm.initializers import InitializationError, Initializer
from brainstorm.randomness import RandomState
from brainstorm_layers.initializers import (DenseSqrtFanIn,
                                            DenseSqrtFanInOut, Gaussian,
                                            Uniform, fan_in_out)


def draw(initializer, shape, seed=0):
    initializer.rnd = RandomState(seed)
    try:
        return np.asarray(initializer(shape))
    finally:
        initializer.rnd = None


def test_all_are_registered_initializers():
    for cls in (Gaussian, Uniform, DenseSqrtFanIn, DenseSqrtFanInOut):
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
