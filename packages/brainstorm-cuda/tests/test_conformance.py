"""The PyCudaHandler computes what the handler protocol says.

Every test runs twice (the ``cuda`` fixture): on the real GPU, skipped
without one, and on the CPU emulation of pycuda and cuBLAS
(``_emulation.py``), which runs the very kernel sources compiled with g++.

First the shared conformance suite of brainstorm-core (every operation,
every published layer example, a short training, against its float64
reference handler that shares no code with any handler), then cases the
suite's random inputs do not reach, compared with the NumpyHandler (which
that suite checks against the reference): ties and windows in the padding in pooling,
sums long enough to be split, wide softmax rows, convolutions split into
batch chunks, the exact random streams, moving networks between handlers.
"""
import numpy as np
import pytest

import brainstorm_cuda.handler as handler_module
from brainstorm.describable import create_from_description, get_description
from brainstorm.handlers import DebugHandler, NumpyHandler
from brainstorm.handlers.debug_handler import DebugHandlerError
from brainstorm.testing import conformance
from brainstorm_cuda import PyCudaHandler, philox


OPERATIONS = conformance.OPERATIONS
LAYER_EXAMPLES = conformance.layer_examples()


# ------------------------------------------------------ the shared suite --
@pytest.mark.parametrize('op', OPERATIONS)
def test_operation(cuda, op):
    conformance.check_operation(lambda: PyCudaHandler(), op)


@pytest.mark.parametrize('example', LAYER_EXAMPLES,
                         ids=lambda example: example.id)
def test_layer_example(cuda, example):
    conformance.check_layer_example(lambda: PyCudaHandler(), example)


def test_training(cuda):
    pytest.importorskip('brainstorm_layers')
    pytest.importorskip('brainstorm_data')
    losses, reference = conformance.check_training(lambda: PyCudaHandler())
    assert len(losses) == len(reference) == 10
    assert losses[-1] < losses[0]


# ------------------------------------------------------------- helpers --
def _run_both(op, arrays, *args, outputs=(), **kwargs):
    """Run ``op`` on a PyCudaHandler and a float32 NumpyHandler with the
    numpy arrays ``arrays`` (a dict name -> array, passed by keyword) and
    the other arguments; return the ``outputs`` of both as numpy arrays."""
    gpu, cpu = PyCudaHandler(), NumpyHandler(np.float32)
    results = []
    for h in (gpu, cpu):
        made = {name: None if a is None else h.create_from_numpy(a)
                for name, a in arrays.items()}
        getattr(h, op)(*args, **made, **kwargs)
        results.append({name: h.get_numpy_copy(made[name])
                        for name in outputs})
    return results


# ---------------------------------------------------------- pooling -----
POOL_CONFIGS = [  # (N, H, W, C, window, padding, stride)
    (2, 5, 6, 3, (2, 2), 0, (2, 2)),
    (1, 7, 5, 2, (3, 3), 1, (1, 1)),
    (2, 6, 6, 1, (3, 2), 1, (2, 1)),
]


@pytest.mark.parametrize('config', POOL_CONFIGS)
def test_max_pooling_ties_go_to_the_first_position(cuda, config):
    n, h, w, c, window, padding, stride = config
    rnd = np.random.RandomState(4)
    inputs = rnd.randint(0, 3, size=(n, h, w, c)).astype(np.float32)
    ho = (h + 2 * padding - window[0]) // stride[0] + 1
    wo = (w + 2 * padding - window[1]) // stride[1] + 1
    shape = (n, ho, wo, c)
    got, expected = _run_both(
        'maxpool2d_forward_batch',
        {'inputs': inputs, 'outputs': np.zeros(shape),
         'argmax': np.zeros(shape)},
        window=window, padding=padding, stride=stride,
        outputs=('outputs', 'argmax'))
    np.testing.assert_array_equal(got['outputs'], expected['outputs'])
    np.testing.assert_array_equal(got['argmax'], expected['argmax'])


@pytest.mark.parametrize('window, padding, stride', [((1, 1), 1, (1, 1)),
                                                     ((2, 2), 2, (2, 3)),
                                                     ((1, 2), 2, (1, 1))])
def test_pooling_windows_in_the_padding(cuda, window, padding, stride):
    n, h, w, c = 2, 3, 4, 2
    rnd = np.random.RandomState(5)
    inputs = rnd.randn(n, h, w, c).astype(np.float32)
    inputs[0, :, :, 1] = -np.inf        # windows without a finite value
    ho = (h + 2 * padding - window[0]) // stride[0] + 1
    wo = (w + 2 * padding - window[1]) // stride[1] + 1
    shape = (n, ho, wo, c)
    arrays = {'inputs': inputs, 'outputs': np.zeros(shape),
              'argmax': np.zeros(shape)}
    got, expected = _run_both('maxpool2d_forward_batch', arrays,
                              window=window, padding=padding, stride=stride,
                              outputs=('outputs', 'argmax'))
    assert (expected['argmax'] == -1).any()       # some window lies outside
    np.testing.assert_array_equal(got['outputs'], expected['outputs'])
    np.testing.assert_array_equal(got['argmax'], expected['argmax'])
    out_deltas = rnd.randn(*shape).astype(np.float32)
    in_deltas = rnd.randn(n, h, w, c).astype(np.float32)
    got, expected = _run_both(
        'maxpool2d_backward_batch',
        {'inputs': inputs, 'outputs': expected['outputs'],
         'argmax': expected['argmax'], 'in_deltas': in_deltas,
         'out_deltas': out_deltas},
        window=window, padding=padding, stride=stride,
        outputs=('in_deltas',))
    np.testing.assert_allclose(got['in_deltas'], expected['in_deltas'],
                               rtol=1e-6, atol=1e-6)
    inputs[0, :, :, 1] = 1.0
    for op, outputs, extra in [
            ('avgpool2d_forward_batch', ('outputs',), {}),
            ('avgpool2d_backward_batch', ('in_deltas',),
             {'in_deltas': in_deltas, 'out_deltas': out_deltas})]:
        arrays = {'inputs': inputs, 'outputs': np.zeros(shape), **extra}
        got, expected = _run_both(op, arrays, window=window, padding=padding,
                                  stride=stride, outputs=outputs)
        for name in outputs:
            np.testing.assert_allclose(got[name], expected[name], rtol=1e-6,
                                       atol=1e-6, err_msg=op)


# ------------------------------------------------- reductions, softmax --
@pytest.mark.parametrize('shape, axis', [((100000,), None), ((5000, 3), 0),
                                         ((3, 5000), 1), ((7, 1000, 2), 1),
                                         ((7, 1000, 2), -1), ((0, 3), 0),
                                         ((4, 300), None)])
def test_long_sums(cuda, shape, axis):
    rnd = np.random.RandomState(6)
    # small integers: every partial sum is exact in float32
    values = rnd.randint(-3, 4, size=shape).astype(np.float32)
    expected = values.sum(axis=axis, keepdims=axis is not None)
    if axis is None:
        expected = expected.reshape(1)
    h = PyCudaHandler()
    out = h.create_from_numpy(np.full(expected.shape, np.nan))
    h.sum_t(h.create_from_numpy(values), axis, out)
    np.testing.assert_array_equal(h.get_numpy_copy(out), expected)


@pytest.mark.parametrize('shape', [(5, 1000), (3, 205), (2, 33), (1, 128)])
def test_wide_softmax_rows(cuda, shape):
    rnd = np.random.RandomState(7)
    m = (rnd.randn(*shape) * 4).astype(np.float32)
    m[0] -= 1000        # only the subtracted row maximum keeps these finite
    m[-1] += 1000
    got, expected = _run_both('softmax_m', {'m': m, 'out': np.zeros(shape)},
                              outputs=('out',))
    np.testing.assert_allclose(got['out'], expected['out'], rtol=1e-5,
                               atol=1e-7)
    np.testing.assert_allclose(got['out'].sum(axis=1), 1, rtol=1e-5)


# ------------------------------------------------------- convolution ----
def test_convolution_in_batch_chunks(cuda, monkeypatch):
    # a patch matrix limit below one image: every image is its own chunk
    monkeypatch.setattr(handler_module, 'IM2COL_LIMIT', 10)
    rnd = np.random.RandomState(8)
    n, h, w, c, f, kh, kw, padding, stride = 3, 6, 5, 2, 4, 3, 2, 1, (2, 1)
    ho = (h + 2 * padding - kh) // stride[0] + 1
    wo = (w + 2 * padding - kw) // stride[1] + 1
    arrays = {'inputs': rnd.randn(n, h, w, c),
              'weights': rnd.randn(f, kh, kw, c), 'bias': rnd.randn(f),
              'outputs': np.zeros((n, ho, wo, f))}
    got, expected = _run_both('conv2d_forward_batch', arrays,
                              padding=padding, stride=stride,
                              outputs=('outputs',))
    np.testing.assert_allclose(got['outputs'], expected['outputs'],
                               rtol=1e-5, atol=1e-5)
    arrays = {'inputs': arrays['inputs'], 'weights': arrays['weights'],
              'in_deltas': rnd.randn(n, h, w, c),
              'out_deltas': rnd.randn(n, ho, wo, f),
              'weight_deltas': rnd.randn(f, kh, kw, c),
              'bias_deltas': rnd.randn(f)}
    got, expected = _run_both('conv2d_backward_batch', arrays,
                              padding=padding, stride=stride,
                              outputs=('in_deltas', 'weight_deltas',
                                       'bias_deltas'))
    for name in got:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-5,
                                   atol=1e-5, err_msg=name)


# ----------------------------------------------------------- randomness --
def _next_key(seed, draws=1):
    """The Philox key of the handler's ``draws``-th random operation after
    seeding with ``seed``."""
    rnd = np.random.RandomState(seed)
    for _ in range(draws):
        key = rnd.randint(0, 2 ** 32, size=2, dtype=np.uint64)
    return int(key[0]), int(key[1])


def test_random_streams_are_philox(cuda):
    h = PyCudaHandler(seed=11)
    mask = h.allocate((7, 9))         # 63 elements: not a multiple of 4
    h.generate_probability_mask(mask, 0.35)
    np.testing.assert_array_equal(
        h.get_numpy_copy(mask),
        philox.probability_mask((7, 9), 0.35, _next_key(11)))
    out = h.allocate((5, 13))
    h.fill_gaussian(0.5, 3.0, out)
    np.testing.assert_allclose(
        h.get_numpy_copy(out),
        philox.gaussian((5, 13), 0.5, 3.0, _next_key(11, draws=2)),
        rtol=1e-4, atol=1e-4)


def test_random_draws_repeat_with_the_seed_and_differ_otherwise(cuda):
    first, second = PyCudaHandler(seed=3), PyCudaHandler(seed=3)
    masks = []
    for h in (first, second, first):
        mask = h.allocate((30, 40))
        h.generate_probability_mask(mask, 0.5)
        masks.append(h.get_numpy_copy(mask))
    np.testing.assert_array_equal(masks[0], masks[1])
    assert not np.array_equal(masks[0], masks[2])
    first.rnd.set_seed(3)
    mask = first.allocate((30, 40))
    first.generate_probability_mask(mask, 0.5)
    np.testing.assert_array_equal(first.get_numpy_copy(mask), masks[0])


# ------------------------------------------- networks and descriptions --
def test_networks_move_between_handlers(cuda):
    pytest.importorskip('brainstorm_layers')
    import brainstorm as bs
    inp, out = bs.tools.get_in_out_layers('classification', (4, 4, 2), 3)
    net = bs.Network.from_layer(
        inp >> bs.layers.Convolution2D(3, kernel_size=(3, 3), padding=1,
                                       activation='rel') >>
        bs.layers.Pooling2D(type='max', kernel_size=(2, 2), stride=(2, 2)) >>
        bs.layers.FullyConnected(5, activation='tanh') >> out)
    net.initialize(bs.initializers.Gaussian(0.5), seed=1)
    parameters = net.get('parameters')
    rnd = np.random.RandomState(9)
    data = {'default': rnd.randn(1, 6, 4, 4, 2).astype(np.float32),
            'targets': rnd.randint(0, 3, (1, 6, 1)).astype(np.float32)}
    net.provide_external_data(data)
    net.forward_pass()
    net.backward_pass()
    cpu_loss = net.get_loss_values()['total_loss']
    cpu_gradients = net.get('gradients')

    net.set_handler(PyCudaHandler())
    assert isinstance(net.buffer['parameters'], net.handler.array_type)
    moved = net.get('parameters')
    assert isinstance(moved, np.ndarray) and moved.dtype == np.float32
    np.testing.assert_array_equal(moved, parameters)
    net.provide_external_data(data)
    net.forward_pass()
    net.backward_pass()
    assert net.get_loss_values()['total_loss'] == pytest.approx(cpu_loss,
                                                                rel=1e-5)
    np.testing.assert_allclose(net.get('gradients'), cpu_gradients,
                               rtol=1e-4, atol=1e-6)
    assert isinstance(net.get('Output_projection.outputs.default'),
                      np.ndarray)

    net.set_parameters(parameters * 2)
    net.set_handler(NumpyHandler(np.float32))
    np.testing.assert_array_equal(net.get('parameters'), parameters * 2)


def test_description_round_trip(cuda):
    h = PyCudaHandler()
    description = get_description(h)
    assert description == {'@type': 'PyCudaHandler'}
    copy = create_from_description(description)
    assert isinstance(copy, PyCudaHandler) and copy.device == 0
    assert repr(copy) == 'PyCudaHandler(device=0)'


def test_the_debug_handler_wraps_it(cuda):
    h = DebugHandler(PyCudaHandler())
    a = h.create_from_numpy(np.arange(6.0).reshape(2, 3))
    out = h.zeros((2, 3))
    h.mult_st(2.0, a, out)
    np.testing.assert_array_equal(h.get_numpy_copy(out),
                                  2 * np.arange(6.0).reshape(2, 3))
    with pytest.raises(DebugHandlerError, match='GPUArray'):
        h.mult_st(2.0, np.ones((2, 3), np.float32), out)


def test_errors_name_the_operation_and_the_arguments(cuda):
    h = PyCudaHandler()
    a, out = h.zeros((2, 2)), h.zeros((2, 2))
    with pytest.raises(ValueError, match=r'add_tt: b has shape \(3,\) but '
                                         r'out has shape \(2, 2\)'):
        h.add_tt(a, h.zeros((3,)), out)
    with pytest.raises(TypeError, match='exp_t: a must be a GPUArray of the '
                                        'PyCudaHandler, got ndarray'):
        h.exp_t(np.zeros((2, 2), np.float32), out)
    wide = h.zeros((2, 4))
    with pytest.raises(ValueError, match=r'abs_t: a \(shape \(2, 2\)\) must '
                                         r'be C-contiguous'):
        h.abs_t(wide[:, 1:3], out)
    with pytest.raises(ValueError, match=r'dot_mm: .*\(2, 2\) and a \(3, 1\)'):
        h.dot_mm(a, h.zeros((3, 1)), out)
    with pytest.raises(ValueError, match=r'add_mv: v of shape \(1, 3\) does '
                                         r'not broadcast'):
        h.add_mv(a, h.zeros((1, 3)), out)
    with pytest.raises(ValueError, match=r'set_from_numpy: arr has shape '
                                         r'\(3,\) but mem has shape \(2, 2\)'):
        h.set_from_numpy(a, np.zeros(3))
    with pytest.raises(ValueError, match='sum_t: axis 2 is out of range'):
        h.sum_t(a, 2, h.zeros((2,)))


def test_empty_arrays(cuda):
    h = PyCudaHandler()
    empty = h.zeros((0, 3))
    assert h.get_numpy_copy(empty).shape == (0, 3)
    assert h.is_fully_finite(empty) is True
    h.fill(empty, 1.0)
    h.exp_t(empty, empty)
    sums = h.create_from_numpy(np.ones(3))
    h.sum_t(empty, 0, sums)
    np.testing.assert_array_equal(h.get_numpy_copy(sums), 0)
    assert h.get_numpy_copy(h.EMPTY).shape == (0,)
    h.set_from_numpy(sums, 2.5)
    np.testing.assert_array_equal(h.get_numpy_copy(sums), 2.5)


# ----------------------------------------------- the emulation itself ----
def test_the_suite_launches_every_kernel(emulated_gpu):
    h = PyCudaHandler()
    kernels = h._state.kernels(32)
    for kernel in kernels.values():
        kernel.launches = 0
    calls = emulated_gpu.blas_calls()
    for op in OPERATIONS:
        conformance.check_operation(h, op)
    unused = sorted(name for name, kernel in kernels.items()
                    if kernel.launches == 0)
    assert unused == []
    assert emulated_gpu.blas_calls() > calls


def test_the_emulation_catches_writes_out_of_bounds(emulated_gpu):
    h = PyCudaHandler()
    small = h.zeros((10,))
    pointer = int(small.gpudata)
    with h._state.active:
        # two elements too many: they land in the guard bytes
        with pytest.raises(emulated_gpu.EmulationError,
                           match='kernel fill wrote outside an allocation'):
            h._launch('fill', 12, pointer, 1.0, 12)
        with pytest.raises(emulated_gpu.EmulationError,
                           match='not inside one live allocation'):
            h._launch('fill', 4, pointer + 10 ** 6, 1.0, 4)


def test_the_emulation_shows_uninitialised_memory_as_nan(emulated_gpu):
    h = PyCudaHandler()
    assert np.isnan(h.get_numpy_copy(h.allocate((3,)))).all()
    assert not h.is_fully_finite(h.allocate((3,)))
