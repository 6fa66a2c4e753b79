"""Faults that only hardware would show, reproduced on the emulation:
copies between overlapping views, handlers on two devices and on other
threads, and the switch between 32-bit and 64-bit index arithmetic."""
import threading

import numpy as np
import pytest

import brainstorm_cuda.backend as backend
from brainstorm.testing import conformance
from brainstorm_cuda import PyCudaHandler, sources


# ------------------------------------------------------------ copy_to --
@pytest.mark.parametrize('shift', [1, 3, 17, -1, -3, -17])
def test_copy_to_between_overlapping_views(cuda, shift):
    h = PyCudaHandler()
    values = np.arange(64, dtype=np.float32)
    whole = h.create_from_numpy(values)
    length = 64 - abs(shift)
    src = whole[max(0, -shift):max(0, -shift) + length]
    dest = whole[max(0, shift):max(0, shift) + length]
    h.copy_to(src, dest)
    expected = values.copy()
    expected[max(0, shift):max(0, shift) + length] = \
        values[max(0, -shift):max(0, -shift) + length]
    np.testing.assert_array_equal(h.get_numpy_copy(whole), expected)


def test_copy_to_between_overlapping_rows(cuda):
    h = PyCudaHandler()
    values = np.arange(5 * 7, dtype=np.float32).reshape(5, 7)
    whole = h.create_from_numpy(values)
    h.copy_to(whole[0:4], whole[1:5])
    expected = values.copy()
    expected[1:5] = values[0:4]
    np.testing.assert_array_equal(h.get_numpy_copy(whole), expected)


def test_the_emulated_device_copy_spoils_overlapping_ranges(emulated_gpu):
    # the emulation must not hide the fault: like cuMemcpyDtoD, its result
    # on overlapping ranges is not that of memmove
    h = PyCudaHandler()
    values = np.arange(16, dtype=np.float32)
    whole = h.create_from_numpy(values)
    base = int(whole.gpudata)
    with h._state.active:
        for dest, src in ((base + 4, base), (base, base + 4)):
            h.set_from_numpy(whole, values)
            emulated_gpu.memcpy_dtod(dest, src, 4 * 15)
            expected = values.copy()
            if dest > src:
                expected[1:] = values[:-1]
            else:
                expected[:-1] = values[1:]
            assert not np.array_equal(h.get_numpy_copy(whole), expected)


# ------------------------------------------------ devices and threads --
def test_handlers_on_two_devices_keep_to_their_own_context(emulated_gpu,
                                                            monkeypatch):
    monkeypatch.setattr(emulated_gpu.Device, 'devices', 2)
    first = PyCudaHandler(device=0)
    second = PyCudaHandler(device=1)
    assert first._state is not second._state
    rnd = np.random.RandomState(1)
    a, b = rnd.randn(4, 6), rnd.randn(6, 3)
    results = []
    for h in (first, second, first):
        x, y = h.create_from_numpy(a), h.create_from_numpy(b)
        out, sums = h.allocate((4, 3)), h.allocate((3,))
        h.dot_mm(x, y, out)
        h.sum_t(out, 0, sums)
        h.copy_to(x[0:3], x[1:4])
        results.append((h.get_numpy_copy(out), h.get_numpy_copy(sums)))
        owner = emulated_gpu.find_allocation(out.gpudata, 4, 'out')
        assert owner.context.device.ordinal == h.device
    for out, sums in results:
        np.testing.assert_allclose(out, a.dot(b), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(sums, a.dot(b).sum(axis=0), rtol=1e-5,
                                   atol=1e-5)
    # no context stays current between operations
    assert emulated_gpu.context_stack() == []


def test_a_handler_made_on_another_thread_works_and_closes_anywhere(
        emulated_gpu):
    made = {}

    def work():
        h = made['handler'] = PyCudaHandler()
        made['sum'] = h.get_numpy_copy(h.ones((5,))).sum()

    abandoned = len(emulated_gpu.abandoned_stacks)
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert made['sum'] == 5
    # the thread ended with an empty context stack (pycuda aborts the
    # process otherwise)
    assert emulated_gpu.abandoned_stacks[abandoned:] == []
    h = made['handler']
    assert h.get_numpy_copy(h.ones((3,))).tolist() == [1, 1, 1]
    # closing from the main thread pops only what it pushed
    h._state.close()
    assert emulated_gpu.context_stack() == []


def test_closing_leaves_other_contexts_current(emulated_gpu, monkeypatch):
    monkeypatch.setattr(emulated_gpu.Device, 'devices', 2)
    h = PyCudaHandler(device=0)
    other = emulated_gpu.Device(1).retain_primary_context()
    other.push()
    try:
        backend.close_device_states(driver=h._gpu.driver)
        assert emulated_gpu.context_stack() == [other]
    finally:
        other.pop()


# ------------------------------------------------------ index widths --
def test_the_index_width_switches_at_2_to_the_31():
    assert sources.INDEX_LIMIT == 2 ** 31
    assert sources.index_bits(1) == 32
    assert sources.index_bits(2 ** 31 - 1) == 32
    assert sources.index_bits(2 ** 31) == 64
    assert sources.index_bits(2 ** 40) == 64
    assert sources.index_bits(9, limit=10) == 32
    assert sources.index_bits(10, limit=10) == 64


def test_the_variants_differ_in_their_index_type():
    for filename in sources.KERNEL_FILES:
        narrow = sources.kernel_source(filename, 32)
        wide = sources.kernel_source(filename, 64)
        assert narrow.startswith('#define INDEX_BITS 32\n')
        assert wide.startswith('#define INDEX_BITS 64\n')
        assert narrow.split('\n', 1)[1] == wide.split('\n', 1)[1] == \
            sources.read_source(filename)
        # the 64-bit variant is what the file gives on its own
        assert '#ifndef INDEX_BITS\n#define INDEX_BITS 64' in \
            sources.read_source(filename)
    with pytest.raises(ValueError, match='32 or 64 bits'):
        sources.kernel_source('elementwise.cu', 16)


@pytest.mark.parametrize('limit', [16, 60])
def test_the_suite_agrees_with_both_index_widths(emulated_gpu, monkeypatch,
                                                 limit):
    # With the limit lowered, the suite's arrays fall on both sides of it:
    # every operation runs on either variant and must match the reference,
    # and the emulation refuses a 32-bit launch that reaches an array of
    # `limit` elements or more.
    monkeypatch.setattr(sources, 'INDEX_LIMIT', limit)
    h = PyCudaHandler()
    variants = {bits: h._state.kernels(bits) for bits in sources.INDEX_BITS}
    for kernels in variants.values():
        for kernel in kernels.values():
            kernel.launches = 0
    for op in conformance.OPERATIONS:
        conformance.check_operation(h, op)
    for bits, kernels in variants.items():
        launched = [name for name, kernel in kernels.items()
                    if kernel.launches]
        assert len(launched) >= 10, (bits, launched)


@pytest.mark.parametrize('size', [99, 100, 101])
def test_sizes_at_the_limit_agree(emulated_gpu, monkeypatch, size):
    monkeypatch.setattr(sources, 'INDEX_LIMIT', 100)
    h = PyCudaHandler()
    rnd = np.random.RandomState(size)
    a = rnd.randn(size).astype(np.float32)
    x = h.create_from_numpy(a)
    out = h.allocate((size,))
    h.mult_st(2.0, x, out)
    np.testing.assert_array_equal(h.get_numpy_copy(out), 2 * a)
    total = h.allocate((1,))
    h.sum_t(x, None, total)
    np.testing.assert_allclose(h.get_numpy_copy(total), [a.sum()],
                               rtol=1e-5)
    # a broadcast row of `size` columns read by a (2, size) launch
    rows = h.allocate((2, size))
    h.broadcast_t(x.reshape((1, size)), 0, rows)
    np.testing.assert_array_equal(h.get_numpy_copy(rows), [a, a])
    bits = sources.index_bits(size)
    assert h._state.kernels(bits)['mult_st'].launches >= 1


def test_the_emulation_refuses_the_32_bit_variant_on_large_arrays(
        emulated_gpu, monkeypatch):
    monkeypatch.setattr(sources, 'INDEX_LIMIT', 10)
    h = PyCudaHandler()
    big = h.allocate((10,))
    with h._state.active:
        kernel = h._state.kernels(32)['fill']
        with pytest.raises(emulated_gpu.EmulationError,
                           match='32-bit variant launched on an array of 10'):
            kernel.prepared_call((1, 1, 1), (32, 1, 1), int(big.gpudata),
                                 1.0, 4)
