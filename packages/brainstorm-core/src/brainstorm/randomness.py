"""Random numbers: one global generator from which every other one is seeded.

``bs.global_rnd.set_seed(42)`` at the start of a script makes the whole run
reproducible: network initialisation, dropout masks (the handler's generator
is re-seeded from the network's), shuffling of data iterators.
"""
import numpy as np

__all__ = ['RandomState', 'global_rnd']

_SEED_RANGE = 2 ** 31 - 1


class RandomState(np.random.RandomState):
    """A ``numpy.random.RandomState`` that remembers its seed and can seed
    further generators."""

    def __init__(self, seed=None):
        if seed is None:
            seed = np.random.randint(_SEED_RANGE)
        self._seed = int(seed)
        self._generator = None
        super().__init__(self._seed)

    def seed(self, seed=None):
        """Re-seed (numpy's method; also renews :attr:`generator`)."""
        super().seed(seed)
        self._generator = None

    @property
    def generator(self):
        """A ``numpy.random.Generator`` drawn from this state, for fast bulk
        draws (float32 uniforms for dropout masks). It is seeded from this
        state on first use after each seeding, so it follows ``set_seed``
        and ``reset`` like every other draw."""
        if self._generator is None:
            self._generator = np.random.Generator(
                np.random.PCG64(self.randint(_SEED_RANGE)))
        return self._generator

    def get_seed(self):
        """The seed this generator was (last) seeded with."""
        return self._seed

    def set_seed(self, seed):
        """Re-seed this generator."""
        self._seed = int(seed)
        self.seed(self._seed)

    def reset(self):
        """Go back to the state right after the last seeding."""
        self.seed(self._seed)

    def generate_seed(self):
        """Draw a seed for another generator."""
        return int(self.randint(_SEED_RANGE))

    def create_random_state(self, seed=None):
        """A new RandomState seeded with ``seed``, or with a seed drawn from
        this generator when ``seed`` is None."""
        if seed is None:
            seed = self.generate_seed()
        return RandomState(seed)


global_rnd = RandomState()
