"""The GPU libraries behind the PyCudaHandler, loaded only when a handler is
created.

* pycuda (>= 2025.1.2): the CUDA driver, device memory, the kernels
  (compiled from ``cuda/*.cu`` with ``nvcc`` through
  ``pycuda.compiler.SourceModule``);
* nvmath-python: cuBLAS (``nvmath.bindings.cublas``, which takes device
  pointers as ints) for the matrix products.

One :class:`DeviceState` per device and process holds the primary context,
a memory pool, a cuBLAS handle and the compiled kernels; every handler on
that device shares it. The context is current only while a handler works
(``with state.active``), so handlers on several devices and threads do not
disturb each other.
"""
import atexit
import glob
import os
import shutil
import threading
import types

from brainstorm_cuda.sources import (KERNEL_FILES, kernel_formats,
                                     kernel_source)

__all__ = ['CudaUnavailableError', 'INSTALL_HINT', 'MIN_PYCUDA_VERSION',
           'load_gpu_modules', 'find_nvcc', 'device_state',
           'close_device_states', 'is_available', 'DeviceState']

MIN_PYCUDA_VERSION = (2025, 1, 2)
"""The first pycuda release that supports numpy 2 and CUDA 13."""

INSTALL_HINT = (
    "install the GPU extra with `pip install 'brainstorm-cuda[gpu]'` "
    "(pycuda compiles at install time and needs the CUDA toolkit with nvcc "
    "on the PATH; running needs an NVIDIA GPU with its driver, and nvcc, "
    "which compiles the handler's kernels)")


class CudaUnavailableError(RuntimeError):
    """The PyCudaHandler cannot run here: a GPU dependency (pycuda,
    nvmath-python), the CUDA toolkit (nvcc), the NVIDIA driver or a device
    is missing. The message says which, and how to install it."""


def _version_text(version):
    return '.'.join(str(v) for v in version)


def load_gpu_modules():
    """Import pycuda and nvmath's cuBLAS binding.

    Returns
    -------
    types.SimpleNamespace
        ``driver``, ``gpuarray``, ``compiler``, ``tools`` (pycuda's
        modules) and ``cublas`` (``nvmath.bindings.cublas``).

    Raises
    ------
    CudaUnavailableError
        Saying what is missing and how to install it.
    """
    try:
        import pycuda
    except ImportError as err:
        raise CudaUnavailableError(
            'PyCudaHandler needs pycuda (>= {}), which is not installed ({}): '
            '{}'.format(_version_text(MIN_PYCUDA_VERSION), err,
                        INSTALL_HINT)) from err
    version = tuple(getattr(pycuda, 'VERSION', ()))
    if version < MIN_PYCUDA_VERSION:
        raise CudaUnavailableError(
            'PyCudaHandler needs pycuda >= {} (numpy 2 and CUDA 13 support), '
            'found {}: {}'.format(_version_text(MIN_PYCUDA_VERSION),
                                  _version_text(version) or 'an unknown '
                                  'version', INSTALL_HINT))
    try:
        import pycuda.driver as driver
    except ImportError as err:
        raise CudaUnavailableError(
            'pycuda is installed but cannot load the CUDA driver library '
            '({}): PyCudaHandler needs an NVIDIA GPU with its driver '
            'installed'.format(err)) from err
    try:
        from nvmath.bindings import cublas
    except ImportError as err:
        raise CudaUnavailableError(
            'PyCudaHandler needs nvmath-python for cuBLAS, which cannot be '
            'imported ({}): {}'.format(err, INSTALL_HINT)) from err
    import pycuda.compiler as compiler
    import pycuda.gpuarray as gpuarray
    import pycuda.tools as tools
    return types.SimpleNamespace(driver=driver, gpuarray=gpuarray,
                                 compiler=compiler, tools=tools,
                                 cublas=cublas)


def find_nvcc():
    """Path of the CUDA compiler ``nvcc``, or None.

    Looked for on the PATH, then in ``$CUDA_HOME/bin``, ``$CUDA_PATH/bin``,
    ``/usr/local/cuda/bin`` and ``/usr/local/cuda-*/bin`` (the newest
    first).
    """
    found = shutil.which('nvcc')
    if found:
        return found
    candidates = [os.path.join(os.environ[name], 'bin', 'nvcc')
                  for name in ('CUDA_HOME', 'CUDA_PATH')
                  if os.environ.get(name)]
    candidates.append('/usr/local/cuda/bin/nvcc')
    candidates += sorted(glob.glob('/usr/local/cuda-*/bin/nvcc'),
                         key=_cuda_version_key, reverse=True)
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _cuda_version_key(path):
    name = os.path.basename(os.path.dirname(os.path.dirname(path)))
    parts = name[len('cuda-'):].split('.')
    return tuple(int(p) if p.isdigit() else -1 for p in parts)


class DeviceState:
    """What all handlers on one device share: the device's primary context
    (current only inside ``with state.active``), a memory pool for
    temporaries, a cuBLAS handle and the compiled, prepared kernels.

    Parameters
    ----------
    gpu : types.SimpleNamespace
        The modules from :func:`load_gpu_modules`.
    ordinal : int
        Index of the device.
    """

    def __init__(self, gpu, ordinal):
        driver = gpu.driver
        try:
            driver.init()
            count = driver.Device.count()
        except Exception as err:  # noqa: BLE001 - pycuda's driver errors
            raise CudaUnavailableError(
                'the CUDA driver did not start ({}: {}): PyCudaHandler needs '
                'an NVIDIA GPU with a working driver'.format(
                    type(err).__name__, err)) from err
        if count == 0:
            raise CudaUnavailableError(
                'the CUDA driver found no GPU: PyCudaHandler needs an NVIDIA '
                'GPU')
        if not 0 <= ordinal < count:
            raise ValueError(
                'PyCudaHandler: device must be in [0, {}) on this machine '
                '(it has {} GPU(s)), got {}'.format(count, count, ordinal))
        nvcc = find_nvcc()
        if nvcc is None:
            raise CudaUnavailableError(
                'PyCudaHandler compiles its kernels with nvcc, which was '
                'found neither on the PATH nor in $CUDA_HOME/bin, '
                '/usr/local/cuda/bin or /usr/local/cuda-*/bin: install the '
                'CUDA toolkit')
        self.gpu = gpu
        self.ordinal = ordinal
        self.nvcc = nvcc
        self.device = driver.Device(ordinal)
        self.context = self.device.retain_primary_context()
        self.active = _Activation(self)
        self._kernels = {}
        self._closed = False
        atexit.register(self.close)
        try:
            with self.active:
                self.pool = gpu.tools.DeviceMemoryPool()
                cublas = gpu.cublas
                self.blas = cublas.create()
                cublas.set_pointer_mode(self.blas, cublas.PointerMode.HOST)
                cublas.set_math_mode(self.blas, cublas.Math.DEFAULT_MATH)
                self.kernels(32)
        except BaseException:
            self.close()
            raise

    def kernels(self, index_bits):
        """The prepared kernels with ``index_bits``-bit index arithmetic
        (32 or 64), compiled (in the state's context) on first use."""
        kernels = self._kernels.get(index_bits)
        if kernels is None:
            with self.active:
                kernels = self._kernels[index_bits] = self._compile(
                    self.gpu, self.nvcc, index_bits)
        return kernels

    @staticmethod
    def _compile(gpu, nvcc, index_bits):
        formats = kernel_formats()
        kernels = {}
        for filename in KERNEL_FILES:
            module = gpu.compiler.SourceModule(
                kernel_source(filename, index_bits), nvcc=nvcc,
                no_extern_c=True)
            for name, (source_file, arg_format) in formats.items():
                if source_file == filename:
                    kernels[name] = module.get_function(name).prepare(
                        arg_format)
        return kernels

    def close(self):
        """Release the cuBLAS handle and the pool's memory (also called at
        exit, from any thread). The context is made current for that and
        popped again, so only this state's own context is popped."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        blas = getattr(self, 'blas', None)
        pool = getattr(self, 'pool', None)
        if blas is not None or pool is not None:
            with self.active:
                if blas is not None:
                    self.gpu.cublas.destroy(blas)
                    self.blas = None
                if pool is not None:
                    pool.stop_holding()
        self._kernels.clear()
        self.gpu.tools.clear_context_caches()


class _Activation:
    """``with state.active:`` makes the state's context current on the
    calling thread and pops it again at the end; nested uses on one thread
    push it once. Outside of them no context of the handler stays current,
    so handlers on several devices do not disturb each other, and no
    thread's context stack is left non-empty (pycuda aborts the process
    when it finds one at exit)."""

    def __init__(self, state):
        self._context = state.context
        self._pop = state.gpu.driver.Context.pop
        self._depth = threading.local()

    def __enter__(self):
        depth = getattr(self._depth, 'value', 0)
        if depth == 0:
            self._context.push()
        self._depth.value = depth + 1
        return self

    def __exit__(self, *exc_info):
        depth = self._depth.value - 1
        self._depth.value = depth
        if depth == 0:
            self._pop()
        return False


_STATES = {}
_STATES_LOCK = threading.Lock()


def device_state(gpu, ordinal):
    """The :class:`DeviceState` of device ``ordinal``, created on first use.

    Raises
    ------
    CudaUnavailableError
        If the driver, a device or nvcc is missing.
    """
    key = (id(gpu.driver), ordinal)
    with _STATES_LOCK:
        state = _STATES.get(key)
        if state is None or state._closed:
            state = _STATES[key] = DeviceState(gpu, ordinal)
        return state


def close_device_states(driver=None):
    """Close the device states (of one ``pycuda.driver`` module, or all);
    the next handler on such a device starts afresh."""
    with _STATES_LOCK:
        keys = [key for key, state in _STATES.items()
                if driver is None or state.gpu.driver is driver]
        states = [_STATES.pop(key) for key in keys]
    for state in states:
        state.close()


def is_available():
    """Whether a PyCudaHandler can be created here: pycuda and nvmath-python
    import, the driver starts and sees a GPU, and nvcc is found. Creates no
    context."""
    try:
        gpu = load_gpu_modules()
        gpu.driver.init()
        return gpu.driver.Device.count() > 0 and find_nvcc() is not None
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False
