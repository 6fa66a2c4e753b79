"""The CUDA sources: nvcc compiles every file without a warning, and the
kernels the handler launches are exactly those the sources declare."""
import inspect
import re
import subprocess

import pytest

import brainstorm_cuda.handler as handler_module
from brainstorm_cuda.backend import find_nvcc
from brainstorm_cuda.sources import (INDEX_BITS, KERNEL_FILES, SOURCE_DIR,
                                     argument_format, kernel_formats,
                                     kernel_signatures, read_source)

# The handler launches kernels by literal name: _launch('name', ...),
# _launch_rows('name', ...), _elementwise('op', 'name', ...), and
# _mv('name', ...) and _scalar_op('name', ...), whose kernels are named after
# the operation.
_LAUNCHES = [re.compile(r"_launch(?:_rows)?\(\s*'(\w+)'"),
             re.compile(r"_elementwise\(\s*'\w+',\s*'(\w+)'"),
             re.compile(r"_mv\(\s*'(\w+)'"),
             re.compile(r"_scalar_op\(\s*'(\w+)'")]


def launched_kernels():
    source = inspect.getsource(handler_module)
    return {name for pattern in _LAUNCHES for name in pattern.findall(source)}


# The architectures the kernels are checked for, named explicitly: without
# -arch, nvcc 12.8 and 12.9 target a deprecated default architecture and
# warn about it, which -Werror all-warnings turns into a failure.
ARCHITECTURES = ('sm_80', 'sm_90')


@pytest.mark.parametrize('bits', INDEX_BITS)
@pytest.mark.parametrize('arch', ARCHITECTURES)
def test_nvcc_compiles_every_source_without_warnings(tmp_path, arch, bits):
    nvcc = find_nvcc()
    if nvcc is None:
        pytest.skip('nvcc (the CUDA toolkit) is not installed')
    sources = [str(SOURCE_DIR / name) for name in KERNEL_FILES]
    result = subprocess.run(
        [nvcc, '--ptx', '-arch={}'.format(arch),
         '-DINDEX_BITS={}'.format(bits), '-Werror', 'all-warnings',
         '--output-directory', str(tmp_path)] + sources,
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == '', result.stderr
    for name in KERNEL_FILES:
        ptx = (tmp_path / name.replace('.cu', '.ptx')).read_text()
        assert '.target {}'.format(arch) in ptx
        entries = set(re.findall(r'\.entry\s+(\w+)\s*\(', ptx))
        # extern "C": the names are not mangled, so pycuda finds them
        assert entries == set(kernel_signatures(read_source(name))), name
        divisions = set(re.findall(r'\b(?:div|rem)\.[su](32|64)\b', ptx))
        if bits == 32:
            # no 64-bit integer division is left in the 32-bit variant
            assert '64' not in divisions, name


def test_every_launched_kernel_is_declared_in_the_sources():
    launched = launched_kernels()
    declared = set(kernel_formats())
    assert launched, 'no launches found in handler.py'
    assert launched - declared == set()
    # and no kernel is left unused
    assert declared - launched == set()


def test_kernel_names_are_unique_across_files():
    names = []
    for filename in KERNEL_FILES:
        names += list(kernel_signatures(read_source(filename)))
    assert len(names) == len(set(names))


def test_signatures_and_formats_are_read_from_the_source():
    source = '''
    extern "C" {
    __device__ float helper(float x) { return x; }
    __global__ void scale(const float *__restrict__ a, float s,
                          float *out, long long n, int cols,
                          unsigned int key)
    { }
    __global__ void flag(const float *a, int *found, long long n) { }
    }
    '''
    signatures = kernel_signatures(source)
    assert list(signatures) == ['scale', 'flag']
    assert signatures['scale'] == ['float *', 'float', 'float *',
                                   'long long', 'int', 'unsigned int']
    assert argument_format(signatures['scale']) == 'PfPqiI'
    assert argument_format(signatures['flag']) == 'PPq'
    with pytest.raises(ValueError, match="got 'double'"):
        argument_format(['double'])
    with pytest.raises(ValueError, match='declared twice'):
        kernel_signatures(source + source)


def test_formats_of_some_kernels():
    formats = kernel_formats()
    assert formats['fill'] == ('elementwise.cu', 'Pfq')
    assert formats['sum_chunks'] == ('reductions.cu', 'PPqqqqi')
    assert formats['probability_mask'] == ('random.cu', 'PfqII')
    assert formats['im2col'] == ('images.cu', 'PPq' + 'i' * 10)


def test_read_source_names_the_known_files():
    with pytest.raises(ValueError, match='no kernel source .*elementwise.cu'):
        read_source('missing.cu')


def test_synchronising_kernels_are_found(emulation):
    source = read_source('reductions.cu')
    assert emulation.collective_functions(source) == {
        'block_max', 'block_sum', 'softmax_rows'}
    for filename in ('elementwise.cu', 'random.cu', 'images.cu'):
        assert emulation.collective_functions(read_source(filename)) == set()


@pytest.mark.parametrize('filename', KERNEL_FILES)
def test_the_compiled_text_carries_the_shared_header(filename):
    """Each file includes index.cuh; the text pycuda compiles has it in
    place of the #include (pycuda compiles in a folder of its own)."""
    assert '#include "index.cuh"' in (SOURCE_DIR / filename).read_text()
    text = read_source(filename)
    assert not re.search(r'^#include', text, re.M)
    assert text.count('typedef unsigned int index_t;') == 1
    assert text.count('#define GRID_STRIDE_LOOP(i, n)') == 1
