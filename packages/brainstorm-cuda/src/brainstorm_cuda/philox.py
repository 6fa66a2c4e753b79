"""The PyCudaHandler's random numbers, computed with numpy.

The handler draws random numbers on the GPU with the counter-based
generator Philox4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random
numbers: as easy as 1, 2, 3", SC 2011) in ``cuda/random.cu``. This module
computes the same numbers on the CPU: element ``i`` of an array comes from
word ``i % 4`` of the output block of the counter ``(i // 4 mod 2**32,
i // 4 >> 32, 0, 0)`` under the launch's key ``(k0, k1)``.
"""
import numpy as np

__all__ = ['PHILOX_M0', 'PHILOX_M1', 'PHILOX_W0', 'PHILOX_W1', 'ROUNDS',
           'philox4x32', 'random_words', 'uniform_24', 'probability_mask',
           'gaussian']

PHILOX_M0 = 0xD2511F53
"""Multiplier of the counter's word 0."""
PHILOX_M1 = 0xCD9E8D57
"""Multiplier of the counter's word 2."""
PHILOX_W0 = 0x9E3779B9
"""Increment of key word 0 between rounds (golden ratio)."""
PHILOX_W1 = 0xBB67AE85
"""Increment of key word 1 between rounds (sqrt(3) - 1)."""
ROUNDS = 10

_MASK = np.uint64(0xFFFFFFFF)
_UNIT_24 = np.float32(2.0 ** -24)


def _mulhilo(multiplier, word):
    product = np.uint64(multiplier) * word.astype(np.uint64)
    return ((product >> np.uint64(32)).astype(np.uint32),
            (product & _MASK).astype(np.uint32))


def philox4x32(counters, key, rounds=ROUNDS):
    """Philox4x32 blocks of many counters under one key.

    Parameters
    ----------
    counters : array_like
        (n, 4) 32-bit counter words (or one counter of 4 words).
    key : tuple[int, int]
        The two 32-bit key words.
    rounds : int
        Number of rounds (10 for Philox4x32-10).

    Returns
    -------
    numpy.ndarray
        uint32 output words, the shape of ``counters``.
    """
    c = np.array(counters, dtype=np.uint64)
    if c.shape[-1] != 4 or np.any(c >> np.uint64(32)):
        raise ValueError('counters must be 32-bit words in groups of 4, got '
                         'shape {}'.format(c.shape))
    c = c.astype(np.uint32)
    single = c.ndim == 1
    c = np.atleast_2d(c)
    k0, k1 = (np.uint32(int(word) & 0xFFFFFFFF) for word in key)
    with np.errstate(over='ignore'):
        for round_ in range(rounds):
            if round_ > 0:
                k0 = np.uint32(k0 + np.uint32(PHILOX_W0))
                k1 = np.uint32(k1 + np.uint32(PHILOX_W1))
            hi0, lo0 = _mulhilo(PHILOX_M0, c[:, 0])
            hi1, lo1 = _mulhilo(PHILOX_M1, c[:, 2])
            c = np.stack([hi1 ^ c[:, 1] ^ k0, lo1, hi0 ^ c[:, 3] ^ k1, lo0],
                         axis=1)
    return c[0] if single else c


def random_words(n, key):
    """The ``n`` 32-bit words the handler's kernels use for an array of
    ``n`` elements under ``key``."""
    groups = -(-int(n) // 4)
    g = np.arange(groups, dtype=np.uint64)
    counters = np.zeros((groups, 4), dtype=np.uint64)
    counters[:, 0] = g & _MASK
    counters[:, 1] = g >> np.uint64(32)
    return philox4x32(counters, key).reshape(-1)[:n]


def uniform_24(words):
    """Uniform float32 numbers in [0, 1): the upper 24 bits of each word
    times 2**-24 (exact in float32)."""
    return (np.asarray(words, np.uint32) >> np.uint32(8)).astype(
        np.float32) * _UNIT_24


def probability_mask(shape, probability, key):
    """What ``generate_probability_mask`` writes for this key: 1 where the
    uniform number is below ``probability``, else 0 (float32)."""
    n = int(np.prod(shape))
    uniforms = uniform_24(random_words(n, key))
    return (uniforms < np.float32(probability)).astype(
        np.float32).reshape(shape)


def gaussian(shape, mean, std, key):
    """What ``fill_gaussian`` writes for this key (up to the rounding of
    the GPU's ``logf`` and ``sincospif``): Box-Muller on pairs of words,
    ``u1 = (w >> 8) + 1`` times 2**-24 in (0, 1] and ``u2 = (w >> 8)``
    times 2**-24 in [0, 1)."""
    n = int(np.prod(shape))
    groups = -(-n // 4)
    words = random_words(4 * groups, key).reshape(groups, 4)
    u1 = ((words[:, 0::2] >> np.uint32(8)).astype(np.float64) + 1) * 2.0 ** -24
    u2 = (words[:, 1::2] >> np.uint32(8)).astype(np.float64) * 2.0 ** -24
    radius = np.sqrt(-2 * np.log(u1))
    z = np.empty((groups, 4))
    z[:, 0::2] = radius * np.cos(2 * np.pi * u2)
    z[:, 1::2] = radius * np.sin(2 * np.pi * u2)
    return (mean + std * z.reshape(-1)[:n]).astype(np.float32).reshape(shape)
