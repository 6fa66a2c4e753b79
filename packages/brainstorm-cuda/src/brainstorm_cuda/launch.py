"""Launch configurations and work splitting of the PyCudaHandler.

Pure Python: the grid sizes of the kernels, how sums are split into
chunks, how large batches of images are split, and how a row-major matrix
product maps onto cuBLAS's column-major ``sgemm``.
"""
import math

__all__ = ['BLOCK_SIZE', 'ROW_BLOCK_SIZE', 'MAX_BLOCKS', 'launch_config',
           'row_launch_config', 'sum_chunk_size', 'batch_chunks',
           'output_size', 'gemm_arguments', 'IM2COL_LIMIT', 'prod']

BLOCK_SIZE = 256
"""Threads per block of the element-wise (grid-stride) kernels."""

ROW_BLOCK_SIZE = 128
"""Threads per block of the kernels that give each row a block (softmax);
a multiple of 32, as their block reductions need."""

MAX_BLOCKS = 65535
"""Most blocks a launch asks for; grid-stride loops cover the rest."""

SUM_THREADS = 1 << 16
"""Threads a sum aims to keep busy when it splits its axis into chunks."""

SUM_MIN_CHUNK = 32
"""Fewest entries one thread of a split sum adds up."""

IM2COL_LIMIT = 1 << 27
"""Most elements (512 MiB of float32) of the patch matrix of one
convolution; larger batches are processed a share of the images at a
time."""


def launch_config(n, block=BLOCK_SIZE, max_blocks=MAX_BLOCKS):
    """Grid and block of a grid-stride kernel over ``n`` items.

    Parameters
    ----------
    n : int
        Number of items (positive).
    block : int
        Threads per block.
    max_blocks : int
        Upper limit of the grid size.

    Returns
    -------
    tuple[tuple[int, int, int], tuple[int, int, int]]
        ``(grid, block)`` as pycuda takes them.
    """
    if n <= 0:
        raise ValueError('launch_config needs a positive number of items, '
                         'got {}'.format(n))
    blocks = min(-(-n // block), max_blocks)
    return (blocks, 1, 1), (block, 1, 1)


def row_launch_config(rows, block=ROW_BLOCK_SIZE, max_blocks=MAX_BLOCKS):
    """Grid and block of a kernel that gives each of ``rows`` rows one block
    (blocks stride over the rows when there are more than ``max_blocks``)."""
    if rows <= 0:
        raise ValueError('row_launch_config needs a positive number of '
                         'rows, got {}'.format(rows))
    if block % 32 or not 32 <= block <= 1024:
        raise ValueError('row kernels need a multiple of 32 threads (at most '
                         '1024) per block, got {}'.format(block))
    return (min(rows, max_blocks), 1, 1), (block, 1, 1)


def sum_chunk_size(n, outputs):
    """How many consecutive entries of the summed axis one thread adds up.

    A sum of an axis of length ``n`` into ``outputs`` values runs one thread
    per output and chunk. When there are few outputs, the axis is cut into
    chunks (of at least :data:`SUM_MIN_CHUNK` entries) so that about
    :data:`SUM_THREADS` threads work; the partial sums are then summed
    again.

    Parameters
    ----------
    n : int
        Length of the summed axis (positive).
    outputs : int
        Number of sums (positive).

    Returns
    -------
    int
        The chunk length, ``n`` when the axis is not cut.
    """
    if n <= 2 * SUM_MIN_CHUNK or outputs >= SUM_THREADS:
        return n
    chunks = min(-(-n // SUM_MIN_CHUNK), -(-SUM_THREADS // outputs))
    if chunks <= 1:
        return n
    return -(-n // chunks)


def batch_chunks(n, per_image, limit=IM2COL_LIMIT):
    """Split a batch of ``n`` images into ranges whose temporaries (of
    ``per_image`` elements per image) stay within ``limit`` elements.

    Returns
    -------
    list[tuple[int, int]]
        ``(start, stop)`` image ranges covering ``range(n)``; at least one
        image each.
    """
    step = max(1, limit // max(per_image, 1))
    return [(start, min(start + step, n)) for start in range(0, n, step)]


def output_size(size, kernel, padding, stride):
    """Output size of convolution and pooling along one axis."""
    return (size + 2 * padding - kernel) // stride + 1


def gemm_arguments(a_shape, transa, b_shape, transb):
    """cuBLAS ``sgemm`` arguments for ``op(a) @ op(b)`` of row-major
    matrices.

    A row-major (R, C) matrix is, to column-major cuBLAS, its transpose
    (C, R) with leading dimension C. So ``out = op(a) @ op(b)`` (M, N),
    stored row-major, is computed as ``out.T = op(b).T @ op(a).T`` (N, M):
    cuBLAS's first operand is ``b``, its second ``a``.

    Parameters
    ----------
    a_shape, b_shape : tuple[int, int]
        Shapes of the stored matrices.
    transa, transb : bool
        Whether ``a`` (``b``) is transposed in the product.

    Returns
    -------
    dict
        ``transa``, ``transb`` (True: transposed) for cuBLAS's first (``b``)
        and second (``a``) operand, ``m``, ``n``, ``k``, ``lda`` (of ``b``),
        ``ldb`` (of ``a``), ``ldc``, and ``out_shape`` (M, N).

    Raises
    ------
    ValueError
        If the inner dimensions differ.
    """
    rows_a, cols_a = a_shape
    rows_b, cols_b = b_shape
    m, k = (cols_a, rows_a) if transa else (rows_a, cols_a)
    k_b, n = (cols_b, rows_b) if transb else (rows_b, cols_b)
    if k != k_b:
        raise ValueError(
            'matrix product of a {} and a {} (transa={}, transb={}): the '
            'inner dimensions {} and {} differ'.format(
                tuple(a_shape), tuple(b_shape), transa, transb, k, k_b))
    return {'transa': bool(transb), 'transb': bool(transa), 'm': n, 'n': m,
            'k': k, 'lda': max(cols_b, 1), 'ldb': max(cols_a, 1),
            'ldc': max(n, 1), 'out_shape': (m, n)}


def prod(shape):
    """Number of elements of a shape."""
    return int(math.prod(int(d) for d in shape))
