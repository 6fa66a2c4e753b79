import numpy as np

import brainstorm as bs
from brainstorm.randomness import RandomState


def test_set_seed_makes_generation_reproducible():
    bs.global_rnd.set_seed(42)
    a = [bs.global_rnd.generate_seed() for _ in range(3)]
    bs.global_rnd.set_seed(42)
    b = [bs.global_rnd.generate_seed() for _ in range(3)]
    assert a == b


def test_create_random_state_and_reset():
    rnd = RandomState(3)
    first = rnd.uniform(size=4)
    rnd.reset()
    assert np.array_equal(first, rnd.uniform(size=4))
    assert rnd.get_seed() == 3
    child1 = RandomState(5).create_random_state()
    child2 = RandomState(5).create_random_state()
    assert child1.get_seed() == child2.get_seed()
    assert RandomState().create_random_state(11).get_seed() == 11
