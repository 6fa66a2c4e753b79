"""Runs the PyCudaHandler on the CPU, for tests on machines without a GPU.

Stand-ins for the parts of pycuda and nvmath's cuBLAS binding that the
handler uses are installed in ``sys.modules``:

* device memory is host memory with guard bytes on both sides of every
  allocation; fresh memory and the guards hold the bytes 0xFF (a float32
  NaN), so reading uninitialised or foreign memory shows up as NaN, and
  every launch and copy checks that the guards are intact and that the
  pointers it gets lie in live allocations;
* contexts are current per thread, on a stack, as in pycuda: ``push`` puts
  a device's primary context on the calling thread's stack and the static
  ``Context.pop`` takes whatever is on top (an error on an empty stack).
  Memory belongs to the device whose context was current when it was
  allocated, a module and a cuBLAS handle to the context current when they
  were made; every launch, copy and ``sgemm`` needs a current context and
  checks that what it uses belongs to it. A thread that ends with contexts
  still on its stack is recorded in ``abandoned_stacks`` (pycuda aborts the
  process there);
* a device-to-device copy between overlapping ranges, undefined on a GPU,
  copies chunk by chunk in the direction that spoils the result;
* ``SourceModule`` compiles the handler's very CUDA sources with g++ and a
  small prelude that defines ``threadIdx``, ``blockIdx``, ``__syncthreads``,
  ``__shfl_down_sync`` and the few intrinsics the kernels use. A launch runs
  the blocks of the grid in turn. Kernels that synchronise their threads
  (directly or through a device function) run the threads of a block as
  real threads with barriers, their shared memory filled with garbage at the
  start of every block; the others run thread after thread;
* ``cublas.sgemm`` is computed with numpy on column-major views of the
  operands, after checking the leading dimensions and that each operand
  fits in its allocation.
"""
import atexit
import ctypes
import enum
import hashlib
import numbers
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import types
import weakref
from pathlib import Path

import numpy as np

from brainstorm_cuda.sources import argument_format, kernel_signatures

GUARD = 64
"""Guard bytes before and after every allocation."""

FILL = 0xFF
"""Byte value of fresh memory and of the guards (float32 NaN)."""

_LIVE = weakref.WeakSet()
_LOCK = threading.Lock()

DTOD_CHUNK = 4
"""Bytes a device-to-device copy moves at a time between overlapping
ranges."""

abandoned_stacks = []
"""A description of each thread that ended with contexts on its stack."""


class EmulationError(AssertionError):
    """The handler used the emulated GPU wrongly (bad pointer, overwritten
    guard bytes, bad launch configuration, bad cuBLAS arguments)."""


# ------------------------------------------------------------------ memory --
class Allocation:
    """Device memory: a host buffer with guard bytes around it."""

    def __init__(self, nbytes):
        nbytes = int(nbytes)
        if nbytes <= 0:
            raise EmulationError('allocation of {} bytes'.format(nbytes))
        self.nbytes = nbytes
        self.context = current_context('cuMemAlloc')
        self._raw = ctypes.create_string_buffer(nbytes + 2 * GUARD)
        self._base = ctypes.addressof(self._raw)
        ctypes.memset(self._base, FILL, nbytes + 2 * GUARD)
        self.address = self._base + GUARD
        with _LOCK:
            _LIVE.add(self)

    def __int__(self):
        return self.address

    def __index__(self):
        return self.address

    def guards_intact(self):
        expected = bytes([FILL]) * GUARD
        return (ctypes.string_at(self._base, GUARD) == expected and
                ctypes.string_at(self.address + self.nbytes, GUARD) ==
                expected)


def check_guards(what):
    """Raise if some live allocation's guard bytes were overwritten."""
    with _LOCK:
        allocations = list(_LIVE)
    for allocation in allocations:
        if not allocation.guards_intact():
            raise EmulationError(
                '{} wrote outside an allocation of {} bytes'.format(
                    what, allocation.nbytes))


def find_allocation(pointer, nbytes, what):
    """The live allocation that holds [pointer, pointer + nbytes); raises
    unless there is one."""
    pointer, nbytes = int(pointer), int(nbytes)
    with _LOCK:
        allocations = list(_LIVE)
    for allocation in allocations:
        if allocation.address <= pointer and \
                pointer + nbytes <= allocation.address + allocation.nbytes:
            return allocation
    raise EmulationError('{}: {} bytes at {:#x} are not inside one live '
                         'allocation'.format(what, nbytes, pointer))


def check_range(pointer, nbytes, what):
    """Raise unless [pointer, pointer + nbytes) lies in one live
    allocation of the device whose context is current."""
    allocation = find_allocation(pointer, nbytes, what)
    context = current_context(what)
    if allocation.context.device.ordinal != context.device.ordinal:
        raise EmulationError(
            '{}: memory of device {} used while the context of device {} is '
            'current'.format(what, allocation.context.device.ordinal,
                             context.device.ordinal))
    return allocation


# ---------------------------------------------------------------- gpuarray --
def _c_strides(itemsize, shape):
    strides, step = [], itemsize
    for dim in reversed(shape):
        strides.append(step)
        step *= max(dim, 1)
    return tuple(reversed(strides))


class _Flags:
    def __init__(self, array):
        size = array.size
        contiguous = True
        if size:
            expected = array.itemsize
            for dim, stride in zip(reversed(array.shape),
                                   reversed(array.strides)):
                if dim != 1 and stride != expected:
                    contiguous = False
                expected *= dim
        self.c_contiguous = contiguous
        self.forc = contiguous


class GPUArray:
    """The part of ``pycuda.gpuarray.GPUArray`` that brainstorm uses, with
    pycuda's semantics (views share ``gpudata`` as int addresses)."""

    def __init__(self, shape, dtype, allocator=None, base=None, gpudata=None,
                 strides=None, order='C'):
        if order != 'C':
            raise EmulationError('only C order is emulated')
        dtype = np.dtype(dtype)
        if isinstance(shape, numbers.Integral):
            shape = (int(shape),)
        shape = tuple(int(d) for d in shape)
        size = 1
        for dim in shape:
            size *= dim
        self.shape = shape
        self.dtype = dtype
        self.itemsize = dtype.itemsize
        self.size = self.mem_size = size
        self.nbytes = size * dtype.itemsize
        self.strides = tuple(int(s) for s in strides) if strides is not None \
            else _c_strides(dtype.itemsize, shape)
        self.allocator = allocator or Allocation
        if gpudata is None:
            self.gpudata = self.allocator(self.nbytes) if size else None
        else:
            self.gpudata = gpudata
        self.base = base

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def flags(self):
        return _Flags(self)

    @property
    def ptr(self):
        return int(self.gpudata)

    def __len__(self):
        return self.shape[0]

    def reshape(self, *shape, **kwargs):
        if kwargs.get('order', 'C') != 'C':
            raise EmulationError('only C order is emulated')
        if not self.flags.c_contiguous:
            raise RuntimeError('only contiguous arrays may be used as '
                               'arguments to this operation')
        if isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        shape = tuple(int(d) for d in shape)
        if shape == self.shape:
            return self
        if -1 in shape:
            known = 1
            for dim in shape:
                if dim != -1:
                    known *= dim
            shape = tuple(self.size // known if d == -1 else d
                          for d in shape)
        size = 1
        for dim in shape:
            size *= dim
        if size != self.size:
            raise ValueError('total size of new array must be unchanged')
        return GPUArray(shape, self.dtype, self.allocator, base=self,
                        gpudata=int(self.gpudata))

    def ravel(self):
        return self.reshape(self.size)

    def __getitem__(self, index):
        if not isinstance(index, tuple):
            index = (index,)
        new_shape, new_strides, offset = [], [], 0
        axis = 0
        for position, entry in enumerate(index):
            if entry is Ellipsis:
                remaining = len(index) - position - 1
                while axis < len(self.shape) - remaining:
                    new_shape.append(self.shape[axis])
                    new_strides.append(self.strides[axis])
                    axis += 1
                continue
            if axis >= len(self.shape):
                raise IndexError('too many axes in index')
            if isinstance(entry, slice):
                start, stop, step = entry.indices(self.shape[axis])
                new_shape.append(max(0, (abs(stop - start) - 1) //
                                     abs(step) + 1) if (stop - start) * step
                                 > 0 else 0)
                new_strides.append(step * self.strides[axis])
                offset += self.strides[axis] * start
            elif isinstance(entry, (int, np.integer)):
                value = int(entry)
                if value < 0:
                    value += self.shape[axis]
                if not 0 <= value < self.shape[axis]:
                    raise IndexError('subindex in axis {} out of '
                                     'range'.format(axis))
                offset += self.strides[axis] * value
            else:
                raise IndexError('invalid subindex {!r}'.format(entry))
            axis += 1
        while axis < len(self.shape):
            new_shape.append(self.shape[axis])
            new_strides.append(self.strides[axis])
            axis += 1
        return GPUArray(tuple(new_shape), self.dtype, self.allocator,
                        base=self, gpudata=int(self.gpudata) + offset,
                        strides=tuple(new_strides))


# ------------------------------------------------------------------ driver --
class DriverError(RuntimeError):
    pass


class CompileError(DriverError):
    pass


class _ContextStack(list):
    """The contexts current on one thread, the top last."""

    def __del__(self):
        if self:
            abandoned_stacks.append('a thread ended with the context(s) of '
                                    'device(s) {} current'.format(
                                        [c.device.ordinal for c in self]))


_THREAD = threading.local()


def context_stack():
    """The calling thread's stack of current contexts."""
    stack = getattr(_THREAD, 'stack', None)
    if stack is None:
        stack = _THREAD.stack = _ContextStack()
    return stack


def current_context(what):
    """The context current on the calling thread; raises if there is
    none."""
    stack = context_stack()
    if not stack:
        raise DriverError('{} failed: invalid device context (no context is '
                          'current on this thread)'.format(what))
    return stack[-1]


class Context:
    def __init__(self, device):
        self.device = device
        self.pushed = 0

    def push(self):
        context_stack().append(self)
        self.pushed += 1

    @staticmethod
    def pop():
        stack = context_stack()
        if not stack:
            raise DriverError('context::pop failed: invalid device context - '
                              'cannot pop non-current context')
        stack.pop().pushed -= 1

    @staticmethod
    def get_current():
        stack = context_stack()
        return stack[-1] if stack else None

    @staticmethod
    def synchronize():
        current_context('cuCtxSynchronize')

    def get_device(self):
        return self.device


_PRIMARY = {}


class Device:
    devices = 1

    def __init__(self, ordinal):
        self.ordinal = ordinal

    @classmethod
    def count(cls):
        return cls.devices

    def retain_primary_context(self):
        with _LOCK:
            context = _PRIMARY.get(self.ordinal)
            if context is None:
                context = _PRIMARY[self.ordinal] = Context(self)
            return context

    @staticmethod
    def compute_capability():
        return (9, 0)

    @staticmethod
    def name():
        return 'emulated GPU'


def memcpy_htod(dest, src):
    src = np.asarray(src)
    if not src.flags.c_contiguous:
        raise EmulationError('memcpy_htod needs a contiguous host buffer')
    check_range(dest, src.nbytes, 'memcpy_htod')
    ctypes.memmove(int(dest), src.ctypes.data, src.nbytes)
    check_guards('memcpy_htod')


def memcpy_dtoh(dest, src):
    if not isinstance(dest, np.ndarray) or not dest.flags.c_contiguous or \
            not dest.flags.writeable:
        raise EmulationError('memcpy_dtoh needs a writable contiguous numpy '
                             'array')
    check_range(src, dest.nbytes, 'memcpy_dtoh')
    ctypes.memmove(dest.ctypes.data, int(src), dest.nbytes)


def memcpy_dtod(dest, src, size):
    """cuMemcpyDtoD: on overlapping ranges, where the result is undefined,
    chunks of DTOD_CHUNK bytes are copied in the order that overwrites
    source bytes before they are read."""
    dest, src, size = int(dest), int(src), int(size)
    check_range(src, size, 'memcpy_dtod (source)')
    check_range(dest, size, 'memcpy_dtod (destination)')
    if dest == src or abs(dest - src) >= size:
        ctypes.memmove(dest, src, size)
    else:
        starts = range(0, size, DTOD_CHUNK)
        for start in (starts if dest > src else reversed(starts)):
            count = min(DTOD_CHUNK, size - start)
            ctypes.memmove(dest + start, src + start, count)
    check_guards('memcpy_dtod')


def memset_d32(dest, data, count):
    check_range(dest, 4 * count, 'memset_d32')
    values = (ctypes.c_uint32 * int(count)).from_address(int(dest))
    for i in range(int(count)):
        values[i] = int(data)
    check_guards('memset_d32')


# ---------------------------------------------------------------- compiler --
_PRELUDE = r'''
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <barrier>
#include <memory>
#include <thread>
#include <vector>

struct emu_dim3 { unsigned int x, y, z; };
static thread_local emu_dim3 threadIdx, blockIdx;
static emu_dim3 blockDim, gridDim;

#define __global__
#define __device__
#define __shared__ static __attribute__((section("emu_shared")))
#define __forceinline__ inline

// shared memory starts each block as garbage, as on a GPU: bytes 0x7F, a
// float of 3.4e38 that neither a sum nor a maximum ignores (the linker
// marks the section's bounds)
extern char __start_emu_shared[] __attribute__((weak));
extern char __stop_emu_shared[] __attribute__((weak));

static void emu_poison_shared()
{
    if (__start_emu_shared)
        memset(__start_emu_shared, 0x7F,
               __stop_emu_shared - __start_emu_shared);
}

static std::barrier<> *emu_block_barrier = nullptr;
static std::barrier<> *emu_warp_barrier[32];
static float emu_slots[1024];

static void __syncthreads() { emu_block_barrier->arrive_and_wait(); }

static float __shfl_down_sync(unsigned int mask, float v, int offset)
{
    (void)mask;
    const unsigned int t = threadIdx.x;
    const unsigned int lane = t & 31u;
    std::barrier<> *warp = emu_warp_barrier[t >> 5];
    emu_slots[t] = v;
    warp->arrive_and_wait();
    const float result = lane + offset < 32u ? emu_slots[t + offset] : v;
    warp->arrive_and_wait();
    return result;
}

static unsigned int __umulhi(unsigned int a, unsigned int b)
{
    return (unsigned int)(((unsigned long long)a * b) >> 32);
}

static float __uint_as_float(unsigned int u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void sincospif(float x, float *s, float *c)
{
    const double angle = 3.14159265358979323846 * (double)x;
    *s = (float)sin(angle);
    *c = (float)cos(angle);
}

template <typename Kernel>
static void emu_run(unsigned int gx, unsigned int gy, unsigned int gz,
                    unsigned int bx, unsigned int by, unsigned int bz,
                    bool threaded, Kernel kernel)
{
    gridDim = {gx, gy, gz};
    blockDim = {bx, by, bz};
    const unsigned int count = bx * by * bz;
    if (!threaded) {
        for (unsigned int z = 0; z < gz; ++z)
        for (unsigned int y = 0; y < gy; ++y)
        for (unsigned int x = 0; x < gx; ++x) {
            blockIdx = {x, y, z};
            for (unsigned int tz = 0; tz < bz; ++tz)
            for (unsigned int ty = 0; ty < by; ++ty)
            for (unsigned int tx = 0; tx < bx; ++tx) {
                threadIdx = {tx, ty, tz};
                kernel();
            }
        }
        return;
    }
    // one thread per thread of a block; they run the blocks one after the
    // other and wait for each other at the end of each block, where the
    // shared memory is poisoned again
    std::barrier<> block_barrier(count);
    auto poison = []() noexcept { emu_poison_shared(); };
    std::barrier<decltype(poison)> end_of_block(count, poison);
    emu_poison_shared();
    std::vector<std::unique_ptr<std::barrier<>>> warps;
    for (unsigned int w = 0; w < (count + 31) / 32; ++w) {
        warps.emplace_back(new std::barrier<>(32));
        emu_warp_barrier[w] = warps.back().get();
    }
    emu_block_barrier = &block_barrier;
    std::vector<std::thread> threads;
    for (unsigned int t = 0; t < count; ++t) {
        threads.emplace_back([=, &end_of_block]() {
            threadIdx = {t % bx, (t / bx) % by, t / (bx * by)};
            for (unsigned int z = 0; z < gz; ++z)
            for (unsigned int y = 0; y < gy; ++y)
            for (unsigned int x = 0; x < gx; ++x) {
                blockIdx = {x, y, z};
                kernel();
                end_of_block.arrive_and_wait();
            }
        });
    }
    for (auto &thread : threads) thread.join();
}
'''

_FUNCTION = re.compile(r'(?:__global__|__device__)\s+[\w\s\*]+?\b(\w+)\s*\(')
_COLLECTIVE = re.compile(r'__syncthreads|__shfl_\w+')
_CTYPES = {'P': ctypes.c_void_p, 'f': ctypes.c_float, 'i': ctypes.c_int,
           'q': ctypes.c_longlong, 'I': ctypes.c_uint}
_BUILD_DIR = None
_LIBRARIES = {}


def function_bodies(source):
    """Name -> body text of every __global__ and __device__ function."""
    bodies = {}
    for match in _FUNCTION.finditer(source):
        start = source.find('{', match.end())
        semicolon = source.find(';', match.end())
        if start < 0 or 0 <= semicolon < start:
            continue        # a declaration without a body
        depth, position = 0, start
        while True:
            char = source[position]
            if char == '{':
                depth += 1
            elif char == '}':
                depth -= 1
                if depth == 0:
                    break
            position += 1
        bodies[match.group(1)] = source[start:position + 1]
    return bodies


def collective_functions(source):
    """Functions that synchronise the threads of a block or warp, directly
    or through a function they call."""
    bodies = function_bodies(source)
    collective = {name for name, body in bodies.items()
                  if _COLLECTIVE.search(body)}
    changed = True
    while changed:
        changed = False
        for name, body in bodies.items():
            if name in collective:
                continue
            if any(re.search(r'\b{}\s*\('.format(other), body)
                   for other in collective):
                collective.add(name)
                changed = True
    return collective


def _build_dir():
    """A temporary folder for the compiled sources, removed at exit (a
    loaded library stays usable)."""
    global _BUILD_DIR
    with _LOCK:
        if _BUILD_DIR is None:
            _BUILD_DIR = Path(tempfile.mkdtemp(prefix='brainstorm-cuda-emu-'))
            atexit.register(shutil.rmtree, str(_BUILD_DIR), True)
        return _BUILD_DIR


def compiler_available():
    return shutil.which('g++') is not None


def compile_source(source):
    """Compile CUDA C source (with its own ``extern "C"``) for the CPU;
    returns (ctypes library, {kernel: (format, threaded)})."""
    signatures = kernel_signatures(source)
    collective = collective_functions(source)
    launchers = []
    kernels = {}
    for name, types_ in signatures.items():
        threaded = name in collective
        params = ', '.join('{} a{}'.format(t, i) for i, t in enumerate(types_))
        args = ', '.join('a{}'.format(i) for i in range(len(types_)))
        launchers.append(
            'extern "C" void emu_launch_{name}(unsigned int gx, unsigned int '
            'gy, unsigned int gz, unsigned int bx, unsigned int by, unsigned '
            'int bz{comma}{params})\n{{\n    emu_run(gx, gy, gz, bx, by, bz, '
            '{threaded}, [&]() {{ {name}({args}); }});\n}}\n'.format(
                name=name, comma=', ' if params else '', params=params,
                threaded='true' if threaded else 'false', args=args))
        kernels[name] = (argument_format(types_), threaded)
    text = _PRELUDE + '\n' + source + '\n' + '\n'.join(launchers)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    with _LOCK:
        library = _LIBRARIES.get(digest)
    if library is None:
        directory = _build_dir()
        cpp = directory / (digest + '.cpp')
        lib = directory / (digest + '.so')
        cpp.write_text(text)
        result = subprocess.run(
            ['g++', '-std=c++20', '-O1', '-shared', '-fPIC', '-pthread',
             '-o', str(lib), str(cpp)], capture_output=True, text=True)
        if result.returncode != 0:
            raise CompileError('g++ failed on the emulated source:\n' +
                               result.stderr)
        library = ctypes.CDLL(str(lib))
        with _LOCK:
            _LIBRARIES[digest] = library
    return library, kernels


def precompile(sources):
    """Compile several sources at once (g++ runs in parallel)."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=len(sources) or 1) as pool:
        list(pool.map(compile_source, sources))


class Function:
    """A kernel of an emulated module (pycuda's prepared-call interface)."""

    def __init__(self, library, name, arg_format, threaded, context=None,
                 index_bits=64):
        self.context = context
        self.index_bits = index_bits
        self.name = name
        self.source_format = arg_format
        self.threaded = threaded
        self.arg_format = None
        self._launch = getattr(library, 'emu_launch_' + name)
        self._launch.restype = None
        self._launch.argtypes = [ctypes.c_uint] * 6 + \
            [_CTYPES[c] for c in arg_format]
        self.launches = 0

    def prepare(self, arg_types):
        if arg_types != self.source_format:
            raise EmulationError('{}: prepared with the format {!r} but its '
                                 'source takes {!r}'.format(
                                     self.name, arg_types,
                                     self.source_format))
        self.arg_format = arg_types
        return self

    def prepared_call(self, grid, block, *args, **kwargs):
        if self.arg_format is None:
            raise EmulationError('{}: prepared_call before prepare'.format(
                self.name))
        if kwargs.get('shared_size', 0):
            raise EmulationError('dynamic shared memory is not emulated')
        if len(args) != len(self.arg_format):
            raise EmulationError('{}: {} arguments for the format {!r}'.format(
                self.name, len(args), self.arg_format))
        grid = tuple(grid) + (1,) * (3 - len(grid))
        block = tuple(block) + (1,) * (3 - len(block))
        if not isinstance(block, tuple) or len(block) != 3 or \
                block[0] * block[1] * block[2] > 1024 or min(block) < 1:
            raise EmulationError('{}: bad block {}'.format(self.name, block))
        if len(grid) != 3 or min(grid) < 1 or grid[0] > 2 ** 31 - 1 or \
                max(grid[1:]) > 65535:
            raise EmulationError('{}: bad grid {}'.format(self.name, grid))
        if self.threaded and (block[0] * block[1] * block[2]) % 32:
            raise EmulationError('{}: synchronising kernels need whole warps, '
                                 'got block {}'.format(self.name, block))
        current = current_context('cuLaunchKernel ' + self.name)
        if self.context is not None and current is not self.context:
            raise EmulationError(
                '{}: a kernel of the module loaded in the context of device '
                '{} launched while the context of device {} is current '
                '(CUDA_ERROR_INVALID_HANDLE)'.format(
                    self.name, self.context.device.ordinal,
                    current.device.ordinal))
        limit = _index_limit()
        converted = []
        for position, (code, value) in enumerate(zip(self.arg_format, args)):
            if code == 'P':
                if not isinstance(value, numbers.Integral):
                    raise EmulationError('{}: argument {} must be an int '
                                         'address, got {!r}'.format(
                                             self.name, position, value))
                if value:
                    allocation = check_range(value, 0, '{}: argument '
                                             '{}'.format(self.name, position))
                    # the 32-bit variant may only see arrays below the limit
                    reach = (allocation.address + allocation.nbytes -
                             int(value)) // 4
                    if self.index_bits == 32 and reach >= limit:
                        raise EmulationError(
                            '{}: the 32-bit variant launched on an array '
                            'of {} elements (argument {}), at least {}'.format(
                                self.name, reach, position, limit))
                converted.append(ctypes.c_void_p(int(value)))
            else:
                struct.pack(code, value)    # range and type, as pycuda packs
                if code == 'q' and self.index_bits == 32 and value >= limit:
                    raise EmulationError(
                        '{}: the 32-bit variant launched with the size {} '
                        '(argument {}), at least {}'.format(
                            self.name, value, position, limit))
                converted.append(value)
        self._launch(*grid, *block, *converted)
        self.launches += 1
        check_guards('kernel ' + self.name)


class SourceModule:
    def __init__(self, source, nvcc='nvcc', options=None, keep=False,
                 no_extern_c=False, arch=None, code=None, cache_dir=None,
                 include_dirs=None):
        if not no_extern_c:
            source = 'extern "C" {\n' + source + '\n}\n'
        self.context = current_context('cuModuleLoadData')
        bits = re.match(r'#define INDEX_BITS (\d+)\n', source)
        self.index_bits = int(bits.group(1)) if bits else 64
        self._library, self._kernels = compile_source(source)
        self.functions = {}

    def get_function(self, name):
        if name not in self._kernels:
            raise DriverError('cuModuleGetFunction failed: named symbol not '
                              'found ({})'.format(name))
        arg_format, threaded = self._kernels[name]
        function = Function(self._library, name, arg_format, threaded,
                            self.context, self.index_bits)
        self.functions[name] = function
        return function


def _index_limit():
    """The size from which the handler must use the 64-bit variant."""
    from brainstorm_cuda import sources
    return getattr(sources, 'INDEX_LIMIT', 2 ** 31)


# ------------------------------------------------------------------ tools --
class DeviceMemoryPool:
    def __init__(self):
        self.context = current_context('DeviceMemoryPool')
        self.allocations = 0

    def allocate(self, nbytes):
        self.allocations += 1
        allocation = Allocation(nbytes)
        if allocation.context is not self.context:
            raise EmulationError('a memory pool of device {} allocated while '
                                 'the context of device {} is current'.format(
                                     self.context.device.ordinal,
                                     allocation.context.device.ordinal))
        return allocation

    def stop_holding(self):
        pass

    def free_held(self):
        pass


def clear_context_caches():
    pass


# ------------------------------------------------------------------ cuBLAS --
class Operation(enum.IntEnum):
    N = 0
    T = 1
    C = 2


class PointerMode(enum.IntEnum):
    HOST = 0
    DEVICE = 1


class Math(enum.IntEnum):
    DEFAULT_MATH = 0
    TENSOR_OP_MATH = 1
    PEDANTIC_MATH = 2


class _Blas:
    def __init__(self):
        self.handles = {}
        self.next = 1
        self.calls = 0


_BLAS = _Blas()


def cublas_create():
    handle = _BLAS.next
    _BLAS.next += 1
    _BLAS.handles[handle] = {'pointer_mode': PointerMode.HOST,
                             'context': current_context('cublasCreate')}
    return handle


def cublas_destroy(handle):
    _BLAS.handles.pop(handle)


def cublas_set_pointer_mode(handle, mode):
    _BLAS.handles[handle]['pointer_mode'] = PointerMode(mode)


def cublas_set_math_mode(handle, mode):
    _BLAS.handles[handle]['math_mode'] = Math(mode)


def cublas_set_stream(handle, stream):
    _BLAS.handles[handle]['stream'] = stream


def _column_major(pointer, rows, cols, ld, what):
    """(rows, cols) float32 view of column-major memory with leading
    dimension ld."""
    count = (cols - 1) * ld + rows
    check_range(pointer, 4 * count, what)
    flat = np.ctypeslib.as_array((ctypes.c_float * count).from_address(
        int(pointer)))
    return np.lib.stride_tricks.as_strided(flat, shape=(rows, cols),
                                           strides=(4, 4 * ld))


def cublas_sgemm(handle, transa, transb, m, n, k, alpha, a, lda, b, ldb,
                 beta, c, ldc):
    """C = alpha op(A) op(B) + beta C in column-major storage, checked as
    cuBLAS checks its arguments."""
    if handle not in _BLAS.handles:
        raise EmulationError('sgemm: unknown handle {}'.format(handle))
    context = current_context('sgemm')
    if _BLAS.handles[handle]['context'] is not context:
        raise EmulationError(
            'sgemm: the cuBLAS handle of device {} used while the context of '
            'device {} is current'.format(
                _BLAS.handles[handle]['context'].device.ordinal,
                context.device.ordinal))
    if _BLAS.handles[handle]['pointer_mode'] != PointerMode.HOST:
        raise EmulationError('sgemm: alpha and beta are read as host '
                             'pointers only')
    for name, value in (('m', m), ('n', n), ('k', k), ('lda', lda),
                        ('ldb', ldb), ('ldc', ldc)):
        struct.pack('i', value)
        if value < 0:
            raise EmulationError('sgemm: {} = {}'.format(name, value))
    transa, transb = Operation(transa), Operation(transb)
    a_rows, a_cols = (m, k) if transa == Operation.N else (k, m)
    b_rows, b_cols = (k, n) if transb == Operation.N else (n, k)
    for name, ld, rows in (('lda', lda, a_rows), ('ldb', ldb, b_rows),
                           ('ldc', ldc, m)):
        if ld < max(1, rows):
            raise EmulationError('sgemm: {} = {} is below max(1, {})'.format(
                name, ld, rows))
    if m == 0 or n == 0:
        return
    alpha_value = ctypes.c_float.from_address(int(alpha)).value
    beta_value = ctypes.c_float.from_address(int(beta)).value
    product = np.zeros((m, n))
    if k:
        op_a = _column_major(a, a_rows, a_cols, lda, 'sgemm A')
        op_b = _column_major(b, b_rows, b_cols, ldb, 'sgemm B')
        if transa != Operation.N:
            op_a = op_a.T
        if transb != Operation.N:
            op_b = op_b.T
        product = alpha_value * np.dot(op_a.astype(np.float64),
                                       op_b.astype(np.float64))
    out = _column_major(c, m, n, ldc, 'sgemm C')
    if beta_value != 0:
        product = product + beta_value * out.astype(np.float64)
    out[...] = product.astype(np.float32)
    _BLAS.calls += 1
    check_guards('sgemm')


# ----------------------------------------------------------------- modules --
def make_modules():
    """The stand-in modules, by their import names."""
    with _LOCK:
        _PRIMARY.clear()
    pycuda = types.ModuleType('pycuda')
    pycuda.VERSION = (2026, 1)
    pycuda.__path__ = []

    driver = types.ModuleType('pycuda.driver')
    driver.init = lambda flags=0: None
    driver.Device = Device
    driver.Context = Context
    driver.Error = DriverError
    driver.CompileError = CompileError
    driver.mem_alloc = Allocation
    driver.memcpy_htod = memcpy_htod
    driver.memcpy_dtoh = memcpy_dtoh
    driver.memcpy_dtod = memcpy_dtod
    driver.memset_d32 = memset_d32

    gpuarray = types.ModuleType('pycuda.gpuarray')
    gpuarray.GPUArray = GPUArray

    compiler = types.ModuleType('pycuda.compiler')
    compiler.SourceModule = SourceModule

    tools = types.ModuleType('pycuda.tools')
    tools.DeviceMemoryPool = DeviceMemoryPool
    tools.clear_context_caches = clear_context_caches

    pycuda.driver, pycuda.gpuarray = driver, gpuarray
    pycuda.compiler, pycuda.tools = compiler, tools

    nvmath = types.ModuleType('nvmath')
    nvmath.__path__ = []
    bindings = types.ModuleType('nvmath.bindings')
    bindings.__path__ = []
    cublas = types.ModuleType('nvmath.bindings.cublas')
    cublas.Operation, cublas.PointerMode, cublas.Math = \
        Operation, PointerMode, Math
    cublas.create, cublas.destroy = cublas_create, cublas_destroy
    cublas.set_pointer_mode = cublas_set_pointer_mode
    cublas.set_math_mode = cublas_set_math_mode
    cublas.set_stream = cublas_set_stream
    cublas.sgemm = cublas_sgemm
    nvmath.bindings, bindings.cublas = bindings, cublas

    return {'pycuda': pycuda, 'pycuda.driver': driver,
            'pycuda.gpuarray': gpuarray, 'pycuda.compiler': compiler,
            'pycuda.tools': tools, 'nvmath': nvmath,
            'nvmath.bindings': bindings, 'nvmath.bindings.cublas': cublas}


def blas_calls():
    """How many sgemm calls the emulated cuBLAS has run."""
    return _BLAS.calls


def installed(monkeypatch):
    """Install the stand-ins in ``sys.modules`` (undone by
    ``monkeypatch``); returns them."""
    modules = make_modules()
    for name in list(sys.modules):
        if name == 'pycuda' or name.startswith('pycuda.') or \
                name == 'nvmath' or name.startswith('nvmath.'):
            monkeypatch.delitem(sys.modules, name)
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return modules
