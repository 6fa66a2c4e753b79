"""The PyCudaHandler: brainstorm's handler for NVIDIA GPUs.

Importing this module needs no GPU library: pycuda and nvmath-python are
imported when a handler is created (:mod:`brainstorm_cuda.backend`).
"""
import functools
import os

import numpy as np

from brainstorm.handlers.base_handler import Handler
from brainstorm.randomness import global_rnd
from brainstorm_cuda.backend import device_state, load_gpu_modules
from brainstorm_cuda.launch import (IM2COL_LIMIT, batch_chunks,
                                    gemm_arguments, launch_config, prod,
                                    row_launch_config, sum_chunk_size)
from brainstorm_cuda.sources import index_bits

__all__ = ['PyCudaHandler']

_FLOAT32 = np.dtype(np.float32)
_ITEMSIZE = _FLOAT32.itemsize
_INT_MAX = 2 ** 31 - 1


def _default_device():
    value = os.environ.get('CUDA_DEVICE', '').strip()
    return int(value) if value else 0


def _as_shape(shape):
    if np.ndim(shape) == 0:
        return (int(shape),)
    return tuple(int(d) for d in shape)


def _norm_axis(op, axis, ndim):
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise ValueError('{}: axis {} is out of range for an array with {} '
                         'dimension(s)'.format(op, axis, ndim))
    return axis % ndim


def _in_context(cls):
    """Run every public method of the handler class with the handler's
    device context current (pushed for the call, popped after it), so that
    its memory, kernels and cuBLAS calls go to its own device whatever other
    handlers did before, on whatever thread."""
    for name, method in list(vars(cls).items()):
        if name.startswith('_') or not callable(method):
            continue

        def wrapper(self, *args, _method=method, **kwargs):
            with self._state.active:
                return _method(self, *args, **kwargs)

        setattr(cls, name, functools.wraps(method)(wrapper))
    return cls


def _as_int(op, name, value):
    if value > _INT_MAX:
        raise ValueError('{}: {} = {} is too large for the kernels (at most '
                         '2**31 - 1)'.format(op, name, value))
    return int(value)


@_in_context
class PyCudaHandler(Handler):
    """Handler computing on an NVIDIA GPU with float32 device arrays.

    Arrays are ``pycuda.gpuarray.GPUArray`` objects in C order. Element-wise
    operations, reductions, convolution (im2col and col2im), pooling and the
    random numbers (Philox4x32-10) run as CUDA kernels compiled with nvcc on
    first use (and cached by pycuda); matrix products run on cuBLAS through
    nvmath-python.

    Parameters
    ----------
    seed : int, optional
        Seed of the handler's random state ``rnd`` (which seeds every random
        array the handler draws); drawn from ``brainstorm.global_rnd`` if not
        given.
    device : int, optional
        Index of the GPU (default: ``$CUDA_DEVICE``, else 0).

    Raises
    ------
    brainstorm_cuda.CudaUnavailableError
        If pycuda or nvmath-python is not installed (``pip install
        'brainstorm-cuda[gpu]'``), or the NVIDIA driver, a GPU or the CUDA
        toolkit's nvcc is missing.

    Notes
    -----
    All handlers on one device share its primary context, a memory pool, a
    cuBLAS handle and the compiled kernels. Every method makes the context
    current while it runs and pops it afterwards, so handlers on different
    devices (and threads) can be mixed. All work goes to the device's
    default stream, in order; results reach the host with
    ``get_numpy_copy`` (which waits for them).
    """

    array_type = None
    """``pycuda.gpuarray.GPUArray`` once a handler exists."""

    def __init__(self, seed=None, device=None):
        gpu = load_gpu_modules()
        self.device = _default_device() if device is None else int(device)
        state = device_state(gpu, self.device)
        self.dtype = _FLOAT32
        self.array_type = gpu.gpuarray.GPUArray
        self.context = state.context
        self.rnd = global_rnd.create_random_state(seed)
        self._gpu = gpu
        self._state = state
        self._cublas = gpu.cublas
        self._operations = (gpu.cublas.Operation.N, gpu.cublas.Operation.T)
        # host scalars for cuBLAS's alpha and beta (pointer mode HOST)
        self._scalars = {0.0: np.zeros(1, np.float32),
                         1.0: np.ones(1, np.float32)}
        self.EMPTY = self.allocate((0,))

    def __repr__(self):
        return 'PyCudaHandler(device={})'.format(self.device)

    def __describe__(self):
        description = {'@type': type(self).__name__}
        if self.device != 0:
            description['device'] = self.device
        return description

    @classmethod
    def __new_from_description__(cls, description):
        instance = cls(device=description.get('device'))
        instance.__init_from_description__(description)
        return instance

    # --------------------------------------------------------- helpers --
    def _ptr(self, op, name, a):
        """Device address of a dense float32 array (0 for an empty one)."""
        if not isinstance(a, self.array_type):
            raise TypeError('{}: {} must be a {} of the PyCudaHandler, got '
                            '{}'.format(op, name, self.array_type.__name__,
                                        type(a).__name__))
        if a.dtype != _FLOAT32:
            raise TypeError('{}: {} has dtype {} but the PyCudaHandler works '
                            'with float32'.format(op, name, a.dtype))
        if not a.flags.c_contiguous:
            raise ValueError('{}: {} (shape {}) must be C-contiguous'.format(
                op, name, tuple(a.shape)))
        return int(a.gpudata) if a.gpudata is not None else 0

    @staticmethod
    def _same_size(op, name, a, ref_name, ref):
        if a.size != ref.size:
            raise ValueError('{}: {} has shape {} but {} has shape {}'.format(
                op, name, tuple(a.shape), ref_name, tuple(ref.shape)))

    def _kernel(self, name, extent):
        """The kernel ``name`` with 32-bit index arithmetic when the largest
        array it touches has fewer than 2**31 elements (``extent``), else
        with 64-bit arithmetic."""
        return self._state.kernels(index_bits(extent))[name]

    def _launch(self, name, n, *args, extent=0):
        """Run the grid-stride kernel ``name`` over ``n`` items; ``extent``:
        the most elements an array of the launch has, if more than ``n``."""
        if n > 0:
            grid, block = launch_config(n)
            self._kernel(name, max(n, extent)).prepared_call(grid, block,
                                                             *args)

    def _launch_rows(self, name, rows, *args, extent=0):
        """Run the kernel ``name`` with one block per row."""
        if rows > 0:
            grid, block = row_launch_config(rows)
            self._kernel(name, max(rows, extent)).prepared_call(grid, block,
                                                                *args)

    def _temp(self, count):
        """A float32 device array of ``count`` elements from the memory
        pool; its memory returns to the pool when it is garbage collected
        (work queued on the default stream before stays ordered)."""
        return self._gpu.gpuarray.GPUArray((int(count),), _FLOAT32,
                                           allocator=self._state.pool.allocate)

    def _elementwise(self, op, kernel, out, *arrays):
        """``kernel(*arrays, out, n)`` on arrays of ``out``'s size."""
        pointers = []
        for name, a in arrays:
            self._same_size(op, name, a, 'out', out)
            pointers.append(self._ptr(op, name, a))
        n = out.size
        self._launch(kernel, n, *pointers, self._ptr(op, 'out', out), n)

    def _sum(self, a_ptr, out_ptr, outer, n, inner, accumulate=False):
        """Sum ``a`` viewed as (outer, n, inner) over its middle axis into
        ``out`` (outer, inner), or add the sums to it."""
        outputs = outer * inner
        if outputs == 0:
            return
        if n == 0:
            if not accumulate:
                self._launch('fill', outputs, out_ptr, 0.0, outputs)
            return
        chunk = sum_chunk_size(n, outputs)
        chunks = -(-n // chunk)
        if chunks == 1:
            self._launch('sum_chunks', outputs, a_ptr, out_ptr, outer, n,
                         inner, n, int(accumulate), extent=outputs * n)
            return
        partial = self._temp(chunks * outputs)
        self._launch('sum_chunks', chunks * outputs, a_ptr,
                     int(partial.gpudata), outer, n, inner, chunk, 0,
                     extent=outputs * n)
        self._sum(int(partial.gpudata), out_ptr, 1, chunks, outputs,
                  accumulate)

    def _gemm(self, op, a_ptr, a_shape, transa, b_ptr, b_shape, transb,
              out_ptr, out_shape, beta):
        """``out = op(a) @ op(b) + beta * out`` for row-major matrices
        (beta 0 or 1)."""
        try:
            args = gemm_arguments(a_shape, transa, b_shape, transb)
        except ValueError as err:
            raise ValueError('{}: {}'.format(op, err)) from None
        if tuple(out_shape) != args['out_shape']:
            raise ValueError('{}: out has shape {} but the product of a {} '
                             'and a {} (transa={}, transb={}) has shape '
                             '{}'.format(op, tuple(out_shape), tuple(a_shape),
                                         tuple(b_shape), transa, transb,
                                         args['out_shape']))
        m, n, k = args['m'], args['n'], args['k']
        if m == 0 or n == 0:
            return
        if k == 0:
            if beta == 0:
                self._launch('fill', m * n, out_ptr, 0.0, m * n)
            return
        for name in ('m', 'n', 'k', 'lda', 'ldb', 'ldc'):
            _as_int(op, name, args[name])
        self._cublas.sgemm(
            self._state.blas, self._operations[args['transa']],
            self._operations[args['transb']], m, n, k,
            self._scalars[1.0].ctypes.data, b_ptr, args['lda'], a_ptr,
            args['ldb'], self._scalars[float(beta)].ctypes.data, out_ptr,
            args['ldc'])

    # ---------------------------------------------------------- memory --
    def allocate(self, shape):
        return self._gpu.gpuarray.GPUArray(_as_shape(shape), _FLOAT32,
                                           allocator=self._state.pool.allocate)

    def zeros(self, shape):
        mem = self.allocate(shape)
        self.fill(mem, 0.0)
        return mem

    def ones(self, shape):
        mem = self.allocate(shape)
        self.fill(mem, 1.0)
        return mem

    def fill(self, mem, val):
        n = mem.size
        self._launch('fill', n, self._ptr('fill', 'mem', mem), float(val), n)

    def fill_if(self, mem, val, cond):
        self._same_size('fill_if', 'cond', cond, 'mem', mem)
        n = mem.size
        self._launch('fill_if', n, self._ptr('fill_if', 'mem', mem),
                     float(val), self._ptr('fill_if', 'cond', cond), n)

    def _random_key(self):
        k0, k1 = self.rnd.randint(0, 2 ** 32, size=2, dtype=np.uint64)
        return int(k0), int(k1)

    def fill_gaussian(self, mean, std, out):
        n = out.size
        if n == 0:
            return
        k0, k1 = self._random_key()
        self._launch('gaussian', -(-n // 4),
                     self._ptr('fill_gaussian', 'out', out), float(mean),
                     float(std), n, k0, k1)

    def generate_probability_mask(self, mask, probability):
        n = mask.size
        if n == 0:
            return
        k0, k1 = self._random_key()
        self._launch('probability_mask', -(-n // 4),
                     self._ptr('generate_probability_mask', 'mask', mask),
                     float(probability), n, k0, k1)

    def create_from_numpy(self, arr):
        values = np.ascontiguousarray(arr, dtype=_FLOAT32)
        mem = self.allocate(values.shape)
        if values.size:
            self._gpu.driver.memcpy_htod(
                self._ptr('create_from_numpy', 'the new array', mem), values)
        return mem

    def get_numpy_copy(self, mem):
        result = np.empty(tuple(mem.shape), dtype=_FLOAT32)
        if result.size:
            self._gpu.driver.memcpy_dtoh(
                result, self._ptr('get_numpy_copy', 'mem', mem))
        return result

    def set_from_numpy(self, mem, arr):
        values = np.asarray(arr, dtype=_FLOAT32)
        shape = tuple(mem.shape)
        if values.shape != shape:
            try:
                values = np.broadcast_to(values, shape)
            except ValueError:
                raise ValueError('set_from_numpy: arr has shape {} but mem '
                                 'has shape {}'.format(values.shape,
                                                       shape)) from None
        values = np.ascontiguousarray(values)
        if values.size:
            self._gpu.driver.memcpy_htod(
                self._ptr('set_from_numpy', 'mem', mem), values)

    def copy_to(self, src, dest):
        self._same_size('copy_to', 'dest', dest, 'src', src)
        src_ptr = self._ptr('copy_to', 'src', src)
        dest_ptr = self._ptr('copy_to', 'dest', dest)
        nbytes = src.size * _ITEMSIZE
        if not nbytes or src_ptr == dest_ptr:
            return
        memcpy_dtod = self._gpu.driver.memcpy_dtod
        if abs(dest_ptr - src_ptr) < nbytes:
            # overlapping views of one array: a device-to-device copy's
            # result is undefined there, so the values go through a
            # temporary (memmove semantics)
            temp = self._temp(src.size)
            memcpy_dtod(int(temp.gpudata), src_ptr, nbytes)
            src_ptr = int(temp.gpudata)
        memcpy_dtod(dest_ptr, src_ptr, nbytes)

    def copy_to_if(self, src, dest, cond):
        self._elementwise('copy_to_if', 'copy_to_if', dest, ('src', src),
                          ('cond', cond))

    def is_fully_finite(self, a):
        n = a.size
        a_ptr = self._ptr('is_fully_finite', 'a', a)
        if n == 0:
            return True
        flag = self._temp(1)
        driver = self._gpu.driver
        driver.memset_d32(int(flag.gpudata), 0, 1)
        self._launch('any_nonfinite', n, a_ptr, int(flag.gpudata), n)
        result = np.ones(1, dtype=np.int32)
        driver.memcpy_dtoh(result, int(flag.gpudata))
        return bool(result[0] == 0)

    # ----------------------------------------------------- elementwise --
    def abs_t(self, a, out):
        self._elementwise('abs_t', 'abs_t', out, ('a', a))

    def sign_t(self, a, out):
        self._elementwise('sign_t', 'sign_t', out, ('a', a))

    def sqrt_t(self, a, out):
        self._elementwise('sqrt_t', 'sqrt_t', out, ('a', a))

    def exp_t(self, a, out):
        self._elementwise('exp_t', 'exp_t', out, ('a', a))

    def log_t(self, a, out):
        self._elementwise('log_t', 'log_t', out, ('a', a))

    def clip_t(self, a, a_min, a_max, out):
        self._same_size('clip_t', 'a', a, 'out', out)
        n = out.size
        self._launch('clip_t', n, self._ptr('clip_t', 'a', a), float(a_min),
                     float(a_max), self._ptr('clip_t', 'out', out), n)

    def add_tt(self, a, b, out):
        self._elementwise('add_tt', 'add_tt', out, ('a', a), ('b', b))

    def subtract_tt(self, a, b, out):
        self._elementwise('subtract_tt', 'subtract_tt', out, ('a', a),
                          ('b', b))

    def mult_tt(self, a, b, out):
        self._elementwise('mult_tt', 'mult_tt', out, ('a', a), ('b', b))

    def mult_add_tt(self, a, b, out):
        self._elementwise('mult_add_tt', 'mult_add_tt', out, ('a', a),
                          ('b', b))

    def divide_tt(self, a, b, out):
        self._elementwise('divide_tt', 'divide_tt', out, ('a', a), ('b', b))

    def modulo_tt(self, a, b, out):
        self._elementwise('modulo_tt', 'modulo_tt', out, ('a', a), ('b', b))

    def add_into_if(self, a, out, cond):
        self._elementwise('add_into_if', 'add_into_if', out, ('a', a),
                          ('cond', cond))

    def _scalar_op(self, op, s, t, out):
        self._same_size(op, 't', t, 'out', out)
        n = out.size
        self._launch(op, n, self._ptr(op, 't', t), float(s),
                     self._ptr(op, 'out', out), n)

    def add_st(self, s, t, out):
        self._scalar_op('add_st', s, t, out)

    def mult_st(self, s, t, out):
        self._scalar_op('mult_st', s, t, out)

    def mult_add_st(self, s, t, out):
        self._scalar_op('mult_add_st', s, t, out)

    # ------------------------------------------------ matrix / vector --
    def _mv(self, op, m, v, out):
        if len(m.shape) != 2 or len(v.shape) != 2:
            raise ValueError('{}: m and v must be 2D, got shapes {} and '
                             '{}'.format(op, tuple(m.shape), tuple(v.shape)))
        rows, cols = m.shape
        v_rows, v_cols = v.shape
        if v_rows not in (1, rows) or v_cols not in (1, cols):
            raise ValueError('{}: v of shape {} does not broadcast to m of '
                             'shape {}'.format(op, tuple(v.shape),
                                               tuple(m.shape)))
        self._same_size(op, 'out', out, 'm', m)
        n = m.size
        self._launch(op, n, self._ptr(op, 'm', m), self._ptr(op, 'v', v),
                     self._ptr(op, 'out', out), n, _as_int(op, 'cols', cols),
                     0 if v_rows == 1 else v_cols, 0 if v_cols == 1 else 1)

    def add_mv(self, m, v, out):
        self._mv('add_mv', m, v, out)

    def subtract_mv(self, m, v, out):
        self._mv('subtract_mv', m, v, out)

    def mult_mv(self, m, v, out):
        self._mv('mult_mv', m, v, out)

    def mult_add_mv(self, m, v, out):
        self._mv('mult_add_mv', m, v, out)

    def divide_mv(self, m, v, out):
        self._mv('divide_mv', m, v, out)

    def _dot(self, op, a, b, out, transa, transb, beta):
        for name, x in (('a', a), ('b', b), ('out', out)):
            if len(x.shape) != 2:
                raise ValueError('{}: {} must be a matrix, got shape '
                                 '{}'.format(op, name, tuple(x.shape)))
        self._gemm(op, self._ptr(op, 'a', a), tuple(a.shape), bool(transa),
                   self._ptr(op, 'b', b), tuple(b.shape), bool(transb),
                   self._ptr(op, 'out', out), tuple(out.shape), beta)

    def dot_mm(self, a, b, out, transa=False, transb=False):
        self._dot('dot_mm', a, b, out, transa, transb, 0.0)

    def dot_add_mm(self, a, b, out, transa=False, transb=False):
        self._dot('dot_add_mm', a, b, out, transa, transb, 1.0)

    def binarize_v(self, v, out):
        rows, cols = out.shape
        if v.size != rows:
            raise ValueError('binarize_v: v has shape {} but out has shape {} '
                             '(v needs one entry per row)'.format(
                                 tuple(v.shape), tuple(out.shape)))
        n = out.size
        self._launch('binarize_v', n, self._ptr('binarize_v', 'v', v),
                     self._ptr('binarize_v', 'out', out), n,
                     _as_int('binarize_v', 'columns', cols))

    def index_m_by_v(self, m, v, out):
        rows, cols = m.shape
        if v.size != rows or out.size != rows:
            raise ValueError('index_m_by_v: m has shape {}, v {} and out {} '
                             '(v and out need one entry per row of m)'.format(
                                 tuple(m.shape), tuple(v.shape),
                                 tuple(out.shape)))
        self._launch('index_m_by_v', rows,
                     self._ptr('index_m_by_v', 'm', m),
                     self._ptr('index_m_by_v', 'v', v),
                     self._ptr('index_m_by_v', 'out', out), rows,
                     _as_int('index_m_by_v', 'columns', cols), extent=m.size)

    def softmax_m(self, m, out):
        self._same_size('softmax_m', 'out', out, 'm', m)
        if m.size == 0:
            return
        cols = m.shape[-1]
        rows = m.size // cols
        self._launch_rows('softmax_rows', rows,
                          self._ptr('softmax_m', 'm', m),
                          self._ptr('softmax_m', 'out', out), rows,
                          _as_int('softmax_m', 'columns', cols),
                          extent=m.size)

    # ----------------------------------------------------- reductions --
    def sum_t(self, a, axis, out):
        if axis is None:
            outer, n, inner = 1, a.size, 1
        else:
            shape = tuple(a.shape)
            axis = _norm_axis('sum_t', axis, len(shape))
            outer, n, inner = (prod(shape[:axis]), shape[axis],
                               prod(shape[axis + 1:]))
        if out.size != outer * inner:
            raise ValueError('sum_t: out has shape {} but the sum of a {} '
                             'along axis {} has {} element(s)'.format(
                                 tuple(out.shape), tuple(a.shape), axis,
                                 outer * inner))
        self._sum(self._ptr('sum_t', 'a', a), self._ptr('sum_t', 'out', out),
                  outer, n, inner)

    def broadcast_t(self, a, axis, out):
        shape = tuple(out.shape)
        axis = _norm_axis('broadcast_t', axis, len(shape))
        size, inner = shape[axis], prod(shape[axis + 1:])
        if a.size * size != out.size:
            raise ValueError('broadcast_t: a of shape {} does not broadcast '
                             'along axis {} to out of shape {}'.format(
                                 tuple(a.shape), axis, shape))
        n = out.size
        self._launch('broadcast_t', n, self._ptr('broadcast_t', 'a', a),
                     self._ptr('broadcast_t', 'out', out), n, size, inner)

    def merge_tt(self, a, b, out):
        na, nb = a.shape[-1], b.shape[-1]
        if out.shape[-1] != na + nb or a.size + b.size != out.size:
            raise ValueError('merge_tt: a {} and b {} do not merge into out '
                             '{}'.format(tuple(a.shape), tuple(b.shape),
                                         tuple(out.shape)))
        n = out.size
        self._launch('merge_tt', n, self._ptr('merge_tt', 'a', a),
                     self._ptr('merge_tt', 'b', b),
                     self._ptr('merge_tt', 'out', out), n,
                     _as_int('merge_tt', 'na', na),
                     _as_int('merge_tt', 'nb', nb))

    def split_add_tt(self, x, out_a, out_b):
        na, nb = out_a.shape[-1], out_b.shape[-1]
        if x.shape[-1] != na + nb or out_a.size + out_b.size != x.size:
            raise ValueError('split_add_tt: x {} does not split into out_a {} '
                             'and out_b {}'.format(tuple(x.shape),
                                                   tuple(out_a.shape),
                                                   tuple(out_b.shape)))
        n = x.size
        self._launch('split_add_tt', n, self._ptr('split_add_tt', 'x', x),
                     self._ptr('split_add_tt', 'out_a', out_a),
                     self._ptr('split_add_tt', 'out_b', out_b), n,
                     _as_int('split_add_tt', 'na', na),
                     _as_int('split_add_tt', 'nb', nb))

    # ---------------------------------------------------- activations --
    def rel(self, x, y):
        self._elementwise('rel', 'rel_t', y, ('x', x))

    def rel_deriv(self, x, y, dy, dx):
        self._elementwise('rel_deriv', 'rel_deriv_t', dx, ('y', y),
                          ('dy', dy))

    def sigmoid(self, x, y):
        self._elementwise('sigmoid', 'sigmoid_t', y, ('x', x))

    def sigmoid_deriv(self, x, y, dy, dx):
        self._elementwise('sigmoid_deriv', 'sigmoid_deriv_t', dx, ('y', y),
                          ('dy', dy))

    def tanh(self, x, y):
        self._elementwise('tanh', 'tanh_t', y, ('x', x))

    def tanh_deriv(self, x, y, dy, dx):
        self._elementwise('tanh_deriv', 'tanh_deriv_t', dx, ('y', y),
                          ('dy', dy))

    # --------------------------------------------------------- images --
    @staticmethod
    def _image_dims(op, inputs, outputs, kernel, padding, stride):
        """The int arguments every image kernel takes after ``n``:
        H, W, C, Ho, Wo, kh, kw, padding, sh, sw."""
        n, h, w, c = inputs.shape
        n_out, ho, wo, _ = outputs.shape
        if n_out != n:
            raise ValueError('{}: inputs hold {} image(s) but the outputs '
                             '{}'.format(op, n, n_out))
        kh, kw = (int(k) for k in kernel)
        sh, sw = (int(s) for s in stride)
        if sh < 1 or sw < 1:
            raise ValueError('{}: stride must be positive, got {}'.format(
                op, tuple(stride)))
        padding = int(padding)
        return tuple(_as_int(op, name, value) for name, value in (
            ('H', h), ('W', w), ('C', c), ('Ho', ho), ('Wo', wo),
            ('kh', kh), ('kw', kw), ('padding', padding), ('sh', sh),
            ('sw', sw)))

    def conv2d_forward_batch(self, inputs, weights, bias, outputs, padding,
                             stride):
        op = 'conv2d_forward_batch'
        n_filters, kh, kw, channels = weights.shape
        dims = self._image_dims(op, inputs, outputs, (kh, kw), padding,
                                stride)
        n, h, w, c = inputs.shape
        _, ho, wo, f = outputs.shape
        if c != channels or f != n_filters or bias.size != n_filters:
            raise ValueError('{}: inputs {}, weights {}, bias {} and outputs '
                             '{} do not fit together'.format(
                                 op, tuple(inputs.shape),
                                 tuple(weights.shape), tuple(bias.shape),
                                 tuple(outputs.shape)))
        in_ptr = self._ptr(op, 'inputs', inputs)
        w_ptr = self._ptr(op, 'weights', weights)
        out_ptr = self._ptr(op, 'outputs', outputs)
        rows = n * ho * wo
        # every output row starts as the bias; the product is added to it
        self._launch('broadcast_t', outputs.size,
                     self._ptr(op, 'bias', bias), out_ptr, outputs.size,
                     rows, f)
        k = kh * kw * c
        if rows == 0 or f == 0 or k == 0:
            return
        for start, stop in batch_chunks(n, ho * wo * k, IM2COL_LIMIT):
            m = (stop - start) * ho * wo
            cols = self._temp(m * k)
            cols_ptr = int(cols.gpudata)
            self._launch('im2col', m * k,
                         in_ptr + start * h * w * c * _ITEMSIZE, cols_ptr,
                         m * k, *dims, extent=(stop - start) * h * w * c)
            self._gemm(op, cols_ptr, (m, k), False, w_ptr, (f, k), True,
                       out_ptr + start * ho * wo * f * _ITEMSIZE, (m, f),
                       1.0)

    def conv2d_backward_batch(self, inputs, weights, padding, stride,
                              in_deltas, out_deltas, weight_deltas,
                              bias_deltas):
        op = 'conv2d_backward_batch'
        n_filters, kh, kw, channels = weights.shape
        dims = self._image_dims(op, inputs, out_deltas, (kh, kw), padding,
                                stride)
        n, h, w, c = inputs.shape
        _, ho, wo, f = out_deltas.shape
        if c != channels or f != n_filters or \
                bias_deltas.size != n_filters or \
                weight_deltas.size != weights.size or \
                (in_deltas is not None and in_deltas.size != inputs.size):
            raise ValueError(
                '{}: inputs {}, weights {}, out_deltas {}, weight_deltas {}, '
                'bias_deltas {} and in_deltas {} do not fit together'.format(
                    op, tuple(inputs.shape), tuple(weights.shape),
                    tuple(out_deltas.shape), tuple(weight_deltas.shape),
                    tuple(bias_deltas.shape), None if in_deltas is None
                    else tuple(in_deltas.shape)))
        in_ptr = self._ptr(op, 'inputs', inputs)
        w_ptr = self._ptr(op, 'weights', weights)
        d_out_ptr = self._ptr(op, 'out_deltas', out_deltas)
        dw_ptr = self._ptr(op, 'weight_deltas', weight_deltas)
        d_in_ptr = None if in_deltas is None else \
            self._ptr(op, 'in_deltas', in_deltas)
        rows = n * ho * wo
        # bias gradient: the sum of the output deltas over all pixels
        self._sum(d_out_ptr, self._ptr(op, 'bias_deltas', bias_deltas), 1,
                  rows, f, accumulate=True)
        k = kh * kw * c
        if rows == 0 or f == 0 or k == 0:
            return
        for start, stop in batch_chunks(n, ho * wo * k, IM2COL_LIMIT):
            m = (stop - start) * ho * wo
            d_out_chunk = d_out_ptr + start * ho * wo * f * _ITEMSIZE
            cols = self._temp(m * k)
            cols_ptr = int(cols.gpudata)
            self._launch('im2col', m * k,
                         in_ptr + start * h * w * c * _ITEMSIZE, cols_ptr,
                         m * k, *dims, extent=(stop - start) * h * w * c)
            # weight_deltas (f, k) += d_out.T (f, m) @ cols (m, k)
            self._gemm(op, d_out_chunk, (m, f), True, cols_ptr, (m, k), False,
                       dw_ptr, (f, k), 1.0)
            if d_in_ptr is None:
                continue
            # patch deltas (m, k) = d_out (m, f) @ weights (f, k), into the
            # patch matrix (the product above is queued before), then added
            # back to the pixels each patch entry came from
            self._gemm(op, d_out_chunk, (m, f), False, w_ptr, (f, k), False,
                       cols_ptr, (m, k), 0.0)
            pixels = (stop - start) * h * w * c
            self._launch('col2im_add', pixels, cols_ptr,
                         d_in_ptr + start * h * w * c * _ITEMSIZE, pixels,
                         *dims, extent=m * k)

    def _check_pool(self, op, inputs, outputs, **others):
        if inputs.shape[-1] != outputs.shape[-1]:
            raise ValueError('{}: inputs {} and outputs {} differ in their '
                             'channels'.format(op, tuple(inputs.shape),
                                               tuple(outputs.shape)))
        for name, (a, like) in others.items():
            if a.size != like.size:
                raise ValueError('{}: {} has shape {} but needs {}'.format(
                    op, name, tuple(a.shape), tuple(like.shape)))

    def maxpool2d_forward_batch(self, inputs, window, outputs, padding,
                                stride, argmax):
        op = 'maxpool2d_forward_batch'
        dims = self._image_dims(op, inputs, outputs, window, padding, stride)
        self._check_pool(op, inputs, outputs, argmax=(argmax, outputs))
        n = outputs.size
        self._launch('maxpool_forward', n, self._ptr(op, 'inputs', inputs),
                     self._ptr(op, 'outputs', outputs),
                     self._ptr(op, 'argmax', argmax), n, *dims,
                     extent=inputs.size)

    def maxpool2d_backward_batch(self, inputs, window, outputs, padding,
                                 stride, argmax, in_deltas, out_deltas):
        op = 'maxpool2d_backward_batch'
        dims = self._image_dims(op, inputs, out_deltas, window, padding,
                                stride)
        self._check_pool(op, inputs, out_deltas, argmax=(argmax, out_deltas),
                         in_deltas=(in_deltas, inputs))
        n = in_deltas.size
        self._launch('maxpool_backward', n, self._ptr(op, 'argmax', argmax),
                     self._ptr(op, 'out_deltas', out_deltas),
                     self._ptr(op, 'in_deltas', in_deltas), n, *dims,
                     extent=out_deltas.size)

    def avgpool2d_forward_batch(self, inputs, window, outputs, padding,
                                stride):
        op = 'avgpool2d_forward_batch'
        dims = self._image_dims(op, inputs, outputs, window, padding, stride)
        self._check_pool(op, inputs, outputs)
        n = outputs.size
        self._launch('avgpool_forward', n, self._ptr(op, 'inputs', inputs),
                     self._ptr(op, 'outputs', outputs), n, *dims,
                     extent=inputs.size)

    def avgpool2d_backward_batch(self, inputs, window, outputs, padding,
                                 stride, in_deltas, out_deltas):
        op = 'avgpool2d_backward_batch'
        dims = self._image_dims(op, inputs, out_deltas, window, padding,
                                stride)
        self._check_pool(op, inputs, out_deltas,
                         in_deltas=(in_deltas, inputs))
        n = in_deltas.size
        self._launch('avgpool_backward', n,
                     self._ptr(op, 'out_deltas', out_deltas),
                     self._ptr(op, 'in_deltas', in_deltas), n, *dims,
                     extent=out_deltas.size)
