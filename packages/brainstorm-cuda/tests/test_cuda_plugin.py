"""brainstorm-cuda registers the PyCudaHandler through the plugin system,
imports without any GPU library, and says what is missing when a handler
cannot be created."""
import subprocess
import sys

import pytest

import brainstorm as bs
import brainstorm_cuda
import brainstorm_cuda.backend as backend
from brainstorm.plugins import registry
from brainstorm_cuda import CudaUnavailableError, PyCudaHandler


def test_plugin_loads_and_registers_the_handler():
    registry.reset()
    registry.load()
    assert 'brainstorm-cuda' not in registry.failures
    assert registry.contains('handlers', 'PyCudaHandler')
    assert registry.provider('handlers', 'PyCudaHandler') == 'brainstorm-cuda'
    from brainstorm.handlers import PyCudaHandler as resolved
    assert resolved is PyCudaHandler
    assert bs.PyCudaHandler is PyCudaHandler
    assert brainstorm_cuda.PyCudaHandler is PyCudaHandler


def test_importing_and_registering_loads_no_gpu_library():
    code = ('import sys, brainstorm, brainstorm_cuda\n'
            'from brainstorm.handlers import PyCudaHandler\n'
            'heavy = sorted(m for m in sys.modules if m.split(".")[0] in '
            '("pycuda", "nvmath", "cuda"))\n'
            'print(heavy)\n')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '[]'


def _hidden(monkeypatch, *names):
    """Make ``import name`` fail for each name."""
    for name in list(sys.modules):
        if any(name == n or name.startswith(n + '.') for n in names):
            monkeypatch.delitem(sys.modules, name)
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


def test_without_pycuda_the_error_says_how_to_install_it(monkeypatch):
    _hidden(monkeypatch, 'pycuda')
    with pytest.raises(CudaUnavailableError) as info:
        PyCudaHandler()
    message = str(info.value)
    assert 'pycuda (>= 2025.1.2)' in message
    assert 'not installed' in message
    assert "pip install 'brainstorm-cuda[gpu]'" in message
    assert 'CUDA toolkit' in message and 'NVIDIA GPU' in message
    assert isinstance(info.value, RuntimeError)
    assert not brainstorm_cuda.is_available()


def test_an_old_pycuda_is_named(monkeypatch, emulation):
    modules = emulation.installed(monkeypatch)
    modules['pycuda'].VERSION = (2024, 1)
    with pytest.raises(CudaUnavailableError,
                       match=r'pycuda >= 2025\.1\.2 .*found 2024\.1'):
        PyCudaHandler()


def test_without_nvmath_the_error_names_it(monkeypatch, emulation):
    emulation.installed(monkeypatch)
    _hidden(monkeypatch, 'nvmath')
    with pytest.raises(CudaUnavailableError,
                       match=r"nvmath-python for cuBLAS.*pip install "
                             r"'brainstorm-cuda\[gpu\]'"):
        PyCudaHandler()


def test_without_the_driver_library_the_error_says_so(monkeypatch,
                                                       emulation):
    emulation.installed(monkeypatch)
    monkeypatch.setitem(sys.modules, 'pycuda.driver', None)
    with pytest.raises(CudaUnavailableError,
                       match='cannot load the CUDA driver library.*NVIDIA '
                             'GPU with its driver'):
        PyCudaHandler()


def test_a_driver_that_fails_to_start_is_reported(monkeypatch, emulation):
    modules = emulation.installed(monkeypatch)

    def init(flags=0):
        raise emulation.DriverError('cuInit failed: no CUDA-capable device '
                                    'is detected')

    monkeypatch.setattr(modules['pycuda.driver'], 'init', init)
    with pytest.raises(CudaUnavailableError,
                       match='CUDA driver did not start.*no CUDA-capable'):
        PyCudaHandler()
    assert not brainstorm_cuda.is_available()


def test_without_a_device_the_error_says_so(monkeypatch, emulation):
    emulation.installed(monkeypatch)
    monkeypatch.setattr(emulation.Device, 'devices', 0)
    with pytest.raises(CudaUnavailableError, match='found no GPU'):
        PyCudaHandler()


def test_a_device_index_out_of_range_is_named(monkeypatch, emulation):
    emulation.installed(monkeypatch)
    with pytest.raises(ValueError, match=r'device must be in \[0, 1\).*got 3'):
        PyCudaHandler(device=3)


def test_without_nvcc_the_error_asks_for_the_toolkit(monkeypatch, emulation):
    emulation.installed(monkeypatch)
    monkeypatch.setattr(backend, 'find_nvcc', lambda: None)
    with pytest.raises(CudaUnavailableError,
                       match='compiles its kernels with nvcc.*install the '
                             'CUDA toolkit'):
        PyCudaHandler()


def test_find_nvcc_looks_in_cuda_home(monkeypatch, tmp_path):
    nvcc = tmp_path / 'bin' / 'nvcc'
    nvcc.parent.mkdir()
    nvcc.write_text('#!/bin/sh\n')
    nvcc.chmod(0o755)
    monkeypatch.setenv('PATH', str(tmp_path / 'nowhere'))
    monkeypatch.setenv('CUDA_HOME', str(tmp_path))
    assert backend.find_nvcc() == str(nvcc)


def test_cuda_folders_are_tried_newest_first():
    paths = ['/usr/local/cuda-12.8/bin/nvcc', '/usr/local/cuda-13.0/bin/nvcc',
             '/usr/local/cuda-9.2/bin/nvcc']
    assert sorted(paths, key=backend._cuda_version_key, reverse=True) == [
        '/usr/local/cuda-13.0/bin/nvcc', '/usr/local/cuda-12.8/bin/nvcc',
        '/usr/local/cuda-9.2/bin/nvcc']
