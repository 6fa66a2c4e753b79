"""Fixtures of brainstorm-cuda's tests: the real GPU (skipped without one)
and the CPU emulation of pycuda and cuBLAS (``_emulation.py``)."""
import importlib.util
import os
import pathlib
import sys

import pytest

import brainstorm_cuda.backend as backend
from brainstorm_cuda.sources import INDEX_BITS, KERNEL_FILES, kernel_source

GPU_REASON = ('needs an NVIDIA GPU with CUDA and brainstorm-cuda[gpu] '
              '(pycuda, nvmath-python)')


def _load_emulation():
    name = 'brainstorm_cuda_tests_emulation'
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, pathlib.Path(__file__).with_name('_emulation.py'))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def emulation():
    """The emulation module (its helpers, without installing anything)."""
    return _load_emulation()


@pytest.fixture
def emulated_gpu(monkeypatch):
    """pycuda and nvmath's cuBLAS emulated on the CPU (see _emulation.py):
    PyCudaHandler() runs the real kernel sources, compiled with g++."""
    emulation = _load_emulation()
    if not emulation.compiler_available():
        pytest.skip('the CPU emulation of the GPU needs g++')
    emulation.precompile([kernel_source(name, bits) for name in KERNEL_FILES
                          for bits in INDEX_BITS])
    modules = emulation.installed(monkeypatch)
    monkeypatch.setattr(backend, 'find_nvcc', lambda: 'nvcc')
    yield emulation
    backend.close_device_states(driver=modules['pycuda.driver'])


_REAL_GPU = None


def real_gpu_available():
    global _REAL_GPU
    if _REAL_GPU is None:
        _REAL_GPU = backend.is_available()
    return _REAL_GPU


@pytest.fixture
def real_gpu():
    """Skips unless a real GPU, its driver, pycuda, nvmath-python and nvcc
    are there; with $BRAINSTORM_CUDA_REQUIRE_GPU=1 (scripts/gpu_check.sh)
    fails instead, saying why no handler can be created."""
    if real_gpu_available():
        return
    if os.environ.get('BRAINSTORM_CUDA_REQUIRE_GPU', '') not in ('', '0'):
        from brainstorm_cuda import PyCudaHandler
        try:
            PyCudaHandler()
        except Exception as err:  # noqa: BLE001 - reported as the failure
            pytest.fail('{}: {}: {}'.format(GPU_REASON, type(err).__name__,
                                            err))
        pytest.fail(GPU_REASON + ': is_available() is False')
    pytest.skip(GPU_REASON)


@pytest.fixture(params=['gpu', 'emulated'])
def cuda(request):
    """Each test twice: on the real GPU (skipped without one) and on the
    CPU emulation (skipped without g++)."""
    if request.param == 'gpu':
        request.getfixturevalue('real_gpu')
        return None
    return request.getfixturevalue('emulated_gpu')
