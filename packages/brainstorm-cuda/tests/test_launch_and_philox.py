"""The pure-Python parts of the handler: launch configurations, how work
is split, the row-major to column-major mapping of matrix products, and
the Philox4x32-10 generator (against the known-answer vectors of its
authors' Random123 distribution)."""
import re

import numpy as np
import pytest

from brainstorm_cuda import philox
from brainstorm_cuda.launch import (BLOCK_SIZE, MAX_BLOCKS, SUM_MIN_CHUNK,
                                    SUM_THREADS, batch_chunks,
                                    gemm_arguments, launch_config,
                                    output_size, row_launch_config,
                                    sum_chunk_size)
from brainstorm_cuda.sources import read_source


# ------------------------------------------------------------- launches --
@pytest.mark.parametrize('n, blocks', [(1, 1), (255, 1), (256, 1), (257, 2),
                                       (256 * 1000 + 1, 1001),
                                       (10 ** 9, MAX_BLOCKS)])
def test_launch_config_covers_n_items(n, blocks):
    grid, block = launch_config(n)
    assert block == (BLOCK_SIZE, 1, 1)
    assert grid == (blocks, 1, 1)
    # with the grid stride every item is visited exactly once
    if n < 10 ** 6:
        stride = grid[0] * block[0]
        visited = np.zeros(n, int)
        for thread in range(stride):
            visited[thread:n:stride] += 1
        assert (visited == 1).all()


def test_launch_config_refuses_nothing_to_do():
    with pytest.raises(ValueError, match='positive number of items, got 0'):
        launch_config(0)


def test_row_launch_config():
    assert row_launch_config(7) == ((7, 1, 1), (128, 1, 1))
    assert row_launch_config(10 ** 6) == ((MAX_BLOCKS, 1, 1), (128, 1, 1))
    with pytest.raises(ValueError, match='multiple of 32 .* got 100'):
        row_launch_config(3, block=100)
    with pytest.raises(ValueError, match='positive number of rows, got 0'):
        row_launch_config(0)


def _chunked_sum(values, outer, n, inner):
    """What the handler's sum does, step by step, with numpy."""
    current, outer_, n_ = values.reshape(outer, n, inner), outer, n
    while True:
        chunk = sum_chunk_size(n_, outer_ * inner if outer_ else 0)
        chunks = -(-n_ // chunk)
        parts = [current[:, c * chunk:(c + 1) * chunk].sum(axis=1)
                 for c in range(chunks)]
        partial = np.stack(parts)                 # (chunks, outer, inner)
        if chunks == 1:
            return partial[0]
        inner = outer_ * inner
        current, outer_, n_ = partial.reshape(1, chunks, inner), 1, chunks


@pytest.mark.parametrize('shape, axis', [((100000,), 0), ((5000, 3), 0),
                                         ((3, 5000), 1), ((7, 1000, 2), 1),
                                         ((40, 50), 0), ((64,), 0)])
def test_sums_split_into_chunks_add_up(shape, axis):
    rnd = np.random.RandomState(0)
    values = rnd.randint(-5, 6, size=shape).astype(np.float64)
    outer = int(np.prod(shape[:axis]))
    inner = int(np.prod(shape[axis + 1:]))
    result = _chunked_sum(values, outer, shape[axis], inner)
    np.testing.assert_array_equal(result.reshape(-1),
                                  values.sum(axis=axis).reshape(-1))


def test_sum_chunk_sizes():
    # few outputs, long axis: cut into chunks of at least SUM_MIN_CHUNK
    chunk = sum_chunk_size(100000, 1)
    assert SUM_MIN_CHUNK <= chunk < 100000
    assert -(-100000 // chunk) <= SUM_THREADS
    # many outputs: one thread per output
    assert sum_chunk_size(100000, SUM_THREADS) == 100000
    # short axes are not cut
    assert sum_chunk_size(2 * SUM_MIN_CHUNK, 1) == 2 * SUM_MIN_CHUNK
    # each round shrinks the axis, so the recursion ends
    n = 10 ** 7
    rounds = 0
    while True:
        chunk = sum_chunk_size(n, 1)
        rounds += 1
        if chunk == n:
            break
        assert -(-n // chunk) < n
        n = -(-n // chunk)
    assert rounds <= 4


def test_batch_chunks():
    assert batch_chunks(10, 100, limit=1000) == [(0, 10)]
    assert batch_chunks(10, 300, limit=1000) == [(0, 3), (3, 6), (6, 9),
                                                 (9, 10)]
    # an image larger than the limit still goes alone
    assert batch_chunks(3, 5000, limit=1000) == [(0, 1), (1, 2), (2, 3)]
    assert batch_chunks(0, 10) == []


def test_output_size():
    assert output_size(32, 5, 2, 1) == 32
    assert output_size(32, 3, 0, 2) == 15
    assert output_size(7, 3, 1, 2) == 4


def _column_major_sgemm(args, a, b):
    """cuBLAS's sgemm on the raw row-major buffers of a and b."""
    def view(buffer, rows, cols, ld):
        return np.lib.stride_tricks.as_strided(
            buffer, shape=(rows, cols), strides=(8, 8 * ld))
    m, n, k = args['m'], args['n'], args['k']
    first = view(b.ravel(), *((k, m) if args['transa'] else (m, k)),
                 args['lda'])
    second = view(a.ravel(), *((n, k) if args['transb'] else (k, n)),
                  args['ldb'])
    first = first.T if args['transa'] else first
    second = second.T if args['transb'] else second
    c = np.zeros(args['ldc'] * n)
    view(c, m, n, args['ldc'])[...] = first @ second
    # the column-major (m, n) result is the row-major (n, m) matrix out
    return c.reshape(n, args['ldc'])[:, :m]


@pytest.mark.parametrize('transa', [False, True])
@pytest.mark.parametrize('transb', [False, True])
@pytest.mark.parametrize('m, k, n', [(5, 7, 3), (1, 4, 6), (6, 1, 2)])
def test_gemm_arguments_compute_the_row_major_product(transa, transb, m, k,
                                                      n):
    rnd = np.random.RandomState(1)
    a = rnd.randn(*((k, m) if transa else (m, k)))
    b = rnd.randn(*((n, k) if transb else (k, n)))
    args = gemm_arguments(a.shape, transa, b.shape, transb)
    assert args['out_shape'] == (m, n)
    expected = (a.T if transa else a) @ (b.T if transb else b)
    np.testing.assert_allclose(_column_major_sgemm(args, a, b), expected)


def test_gemm_arguments_check_the_inner_dimensions():
    with pytest.raises(ValueError, match=r'\(5, 7\) and a \(6, 3\).*7 and 6'):
        gemm_arguments((5, 7), False, (6, 3), False)


# --------------------------------------------------------------- philox --
# Random123's kat_vectors for philox4x32_10: counter, key, output
KNOWN_ANSWERS = [
    ((0, 0, 0, 0), (0, 0),
     (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
    ((0xffffffff,) * 4, (0xffffffff, 0xffffffff),
     (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
    ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344),
     (0xa4093822, 0x299f31d0),
     (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)),
]


@pytest.mark.parametrize('counter, key, expected', KNOWN_ANSWERS)
def test_philox_known_answers(counter, key, expected):
    result = philox.philox4x32(counter, key)
    assert [int(w) for w in result] == list(expected)


def test_philox_many_counters_at_once():
    counters = np.array([answer[0] for answer in KNOWN_ANSWERS] * 2)
    key = KNOWN_ANSWERS[2][1]
    result = philox.philox4x32(counters, key)
    assert result.shape == (6, 4) and result.dtype == np.uint32
    for row, counter in zip(result, counters):
        np.testing.assert_array_equal(row, philox.philox4x32(counter, key))
    np.testing.assert_array_equal(result[2], KNOWN_ANSWERS[2][2])


def test_the_kernel_uses_the_same_constants():
    source = read_source('random.cu')
    defined = dict(re.findall(r'#define (PHILOX_\w+) (0x[0-9A-Fa-f]+)u',
                              source))
    assert {name: int(value, 16) for name, value in defined.items()} == {
        'PHILOX_M0': philox.PHILOX_M0, 'PHILOX_M1': philox.PHILOX_M1,
        'PHILOX_W0': philox.PHILOX_W0, 'PHILOX_W1': philox.PHILOX_W1}
    assert 'round < 10' in source
    unit = re.search(r'#define UNIT_24 (\S+)f', source).group(1)
    assert float(unit) == 2.0 ** -24


def test_counters_number_groups_of_four_elements():
    key = (12345, 678)
    words = philox.random_words(10, key)
    assert words.shape == (10,)
    np.testing.assert_array_equal(words[:4],
                                  philox.philox4x32((0, 0, 0, 0), key))
    np.testing.assert_array_equal(words[4:8],
                                  philox.philox4x32((1, 0, 0, 0), key))
    np.testing.assert_array_equal(words[8:],
                                  philox.philox4x32((2, 0, 0, 0), key)[:2])


def test_uniform_numbers_are_in_the_unit_interval_and_exact():
    words = np.array([0, 255, 256, 0xffffffff], np.uint32)
    u = philox.uniform_24(words)
    assert u.dtype == np.float32
    np.testing.assert_array_equal(u, [0, 0, 2.0 ** -24, 1 - 2.0 ** -24])
    assert (philox.uniform_24(philox.random_words(10000, (1, 2))) < 1).all()


def test_masks_and_gaussians_follow_their_distributions():
    mask = philox.probability_mask((200, 500), 0.3, (7, 8))
    assert set(np.unique(mask)) <= {0.0, 1.0}
    assert abs(mask.mean() - 0.3) < 0.005
    assert philox.probability_mask((50,), 1.0, (1, 1)).all()
    assert not philox.probability_mask((50,), 0.0, (1, 1)).any()
    z = philox.gaussian((500, 400), 1.5, 2.0, (3, 4))
    assert abs(z.mean() - 1.5) < 0.02 and abs(z.std() - 2.0) < 0.02
    assert np.isfinite(z).all()
    np.testing.assert_array_equal(philox.gaussian((7,), -3, 0, (3, 4)), -3)
    # different keys, different numbers
    assert not np.array_equal(z, philox.gaussian((500, 400), 1.5, 2.0, (3, 5)))
