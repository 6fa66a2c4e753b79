"""The operation checks of the handler conformance suite (internal).

Handler authors use :mod:`brainstorm.testing.conformance`
(``check_operation``, ``check_all`` ...), which runs these checks; the
names here may change without notice.

Every handler (the NumpyHandler, the DebugHandler, plugin handlers such as a
GPU handler) must compute what the
:class:`~brainstorm.testing.reference_handler.ReferenceHandler` computes, for
every operation in :data:`OPERATIONS`: plain float64 numpy written from the
documented semantics, sharing no code with the NumpyHandler, so that the
NumpyHandler's own run is a real comparison.

Each check draws random inputs (odd shapes; several strides, paddings and
non-square kernels for convolution and pooling), runs the operation on the
handler under test (arrays made with ``create_from_numpy``, results read with
``get_numpy_copy``) and on the reference, and compares the outputs. It also
checks that the inputs were left unchanged and that results keep the
handler's dtype. Random operations are checked statistically. NaN never
equals anything, NaN included: a NaN where the reference has one fails too.
"""
import functools
import inspect
import zlib

import numpy as np

from brainstorm.handlers.base_handler import OPERATIONS, Handler
from brainstorm.testing.reference_handler import ReferenceHandler

__all__ = []      # internal: see brainstorm.testing.conformance

CHECKS = {}
"""Maps each operation name to its check function ``check(case)``."""

# (N, H, W, C, F, kh, kw, padding, stride)
CONV_CASES = [
    (2, 5, 6, 3, 4, 3, 3, 0, (1, 1)),
    (2, 7, 5, 2, 3, 3, 2, 1, (2, 1)),
    (1, 6, 7, 3, 2, 2, 3, 2, (1, 2)),
    (3, 5, 5, 1, 2, 1, 1, 0, (1, 1)),
    (2, 8, 7, 2, 3, 3, 3, 1, (2, 2)),
    (2, 4, 4, 2, 2, 4, 4, 0, (1, 1)),
    (1, 5, 4, 2, 2, 2, 1, 2, (3, 2)),
]
# (N, H, W, C, kh, kw, padding, stride)
POOL_CASES = [
    (2, 5, 6, 3, 2, 2, 0, (2, 2)),
    (2, 7, 5, 2, 3, 2, 1, (2, 1)),
    (1, 6, 7, 3, 3, 3, 2, (1, 2)),
    (2, 5, 5, 2, 3, 3, 1, (1, 1)),
    (2, 4, 6, 1, 1, 1, 0, (1, 1)),
    (1, 7, 6, 2, 2, 3, 1, (3, 2)),
]


def default_tolerances(dtype):
    """(rtol, atol) suited to comparing results of this dtype with float64
    ones."""
    size = np.dtype(dtype).itemsize
    if size >= 8:
        return 1e-7, 1e-9
    if size >= 4:
        return 1e-4, 1e-5
    return 1e-2, 1e-2


def missing_checks():
    """Names of operations in OPERATIONS without a check (should be none)."""
    return [op for op in OPERATIONS if op not in CHECKS]


def _check(*ops):
    def register(fn):
        for op in ops:
            CHECKS[op] = functools.partial(fn, op=op)
        return fn
    return register


class Case:
    """Runs operations on the tested and the reference handler and
    compares them; given to every check function."""

    def __init__(self, handler, reference, rng, rtol, atol):
        self.handler = handler
        self.reference = reference
        self.rng = rng
        self.rtol = rtol
        self.atol = atol

    # -- inputs ----------------------------------------------------------
    def _round(self, arr):
        """Values exactly representable in the tested dtype (as float64)."""
        return np.asarray(arr).astype(self.handler.dtype).astype(np.float64)

    def normal(self, *shape, scale=1.0):
        return self._round(self.rng.randn(*shape) * scale)

    def uniform(self, low, high, *shape):
        return self._round(self.rng.uniform(low, high, size=shape))

    def ints(self, high, *shape):
        return self.rng.randint(0, high, size=shape).astype(np.float64)

    def condition(self, *shape):
        cond = self.rng.choice([0.0, 0.0, 1.0, 2.0, -1.0], size=shape)
        return cond

    # -- running ---------------------------------------------------------
    def _convert(self, handler, value, made):
        if isinstance(value, np.ndarray):
            key = id(value)
            if key not in made:
                made[key] = (value, handler.create_from_numpy(value))
            return made[key][1]
        return value

    def compare(self, op, *args, outputs=(), note='', **kwargs):
        """Run ``op`` with ``args`` (numpy arrays become handler arrays; the
        same numpy object gives the same handler array) on both handlers,
        compare the ``outputs`` arrays and check that the other arrays are
        unchanged. Returns both results."""
        names = list(inspect.signature(getattr(Handler, op)).parameters)[1:]
        out_ids = {id(o) for o in outputs}
        results = []
        for handler in (self.handler, self.reference):
            made = {}
            h_args = [self._convert(handler, a, made) for a in args]
            h_kwargs = {k: self._convert(handler, v, made)
                        for k, v in kwargs.items()}
            value = getattr(handler, op)(*h_args, **h_kwargs)
            copies = {key: self.copy(handler, arr)
                      for key, (_, arr) in made.items()}
            results.append((value, copies))
        (value, copies), (ref_value, ref_copies) = results
        labelled = list(zip(names, args)) + list(kwargs.items())
        for name, arg in labelled:
            if not isinstance(arg, np.ndarray):
                continue
            where = '{}: argument {!r}{}'.format(op, name,
                                                 ' (' + note + ')' if note
                                                 else '')
            got = copies[id(arg)]
            if id(arg) in out_ids:
                expected = ref_copies[id(arg)]
                self._no_nan(got, expected, where)
                np.testing.assert_allclose(
                    got, expected, rtol=self.rtol, atol=self.atol,
                    equal_nan=False,
                    err_msg='{} differs from the float64 reference'.format(
                        where))
            else:
                np.testing.assert_array_equal(
                    got, self._round(arg),
                    err_msg='{} was changed by the operation'.format(where))
        return value, ref_value

    def _no_nan(self, got, expected, where):
        """NaN is never a right result (the inputs hold none)."""
        for name, values in (('the handler', got),
                             ('the reference', expected)):
            bad = np.isnan(values)
            if bad.any():
                self.fail('{}: {} gave NaN at index {}'.format(
                    where, name, tuple(int(i) for i in np.argwhere(bad)[0])))

    def copy(self, handler, arr):
        result = handler.get_numpy_copy(arr)
        if not isinstance(result, np.ndarray):
            self.fail('get_numpy_copy returned a {}'.format(
                type(result).__name__))
        if result.dtype != handler.dtype:
            self.fail('an array of the handler has dtype {}, not the handler '
                      'dtype {}'.format(result.dtype, handler.dtype))
        return result.astype(np.float64)

    def fail(self, message):
        raise AssertionError(message)


# ---------------------------------------------------------------- memory --
@_check('allocate', 'zeros', 'ones')
def _check_new_array(case, op):
    h = case.handler
    for shape in [(3, 5), (7,), (2, 3, 4)]:
        arr = getattr(h, op)(shape)
        if not isinstance(arr, h.array_type):
            case.fail('{} returned a {}, not a {}'.format(
                op, type(arr).__name__, h.array_type.__name__))
        values = case.copy(h, arr)
        if values.shape != shape:
            case.fail('{}({}) has shape {}'.format(op, shape, values.shape))
        if op == 'zeros':
            np.testing.assert_array_equal(values, 0, err_msg=op)
        elif op == 'ones':
            np.testing.assert_array_equal(values, 1, err_msg=op)


@_check('fill')
def _check_fill(case, op):
    mem = case.normal(4, 7)
    case.compare(op, mem, 2.5, outputs=[mem])
    mem = case.normal(2, 3, 5)
    case.compare(op, mem, -1.25, outputs=[mem])


@_check('fill_if')
def _check_fill_if(case, op):
    for shape in [(5, 7), (2, 3, 4)]:
        mem, cond = case.normal(*shape), case.condition(*shape)
        case.compare(op, mem, 3.5, cond, outputs=[mem])


@_check('copy_to')
def _check_copy_to(case, op):
    for shape in [(5, 7), (2, 3, 4)]:
        src, dest = case.normal(*shape), case.normal(*shape)
        case.compare(op, src, dest, outputs=[dest])


@_check('copy_to_if')
def _check_copy_to_if(case, op):
    for shape in [(5, 7), (2, 3, 4)]:
        src, dest = case.normal(*shape), case.normal(*shape)
        cond = case.condition(*shape)
        case.compare(op, src, dest, cond, outputs=[dest])


@_check('create_from_numpy')
def _check_create_from_numpy(case, op):
    h = case.handler
    for source in [case.rng.randn(3, 5), case.rng.randn(2, 3, 4),
                   np.arange(6).reshape(2, 3),
                   case.rng.randn(4, 3).astype(np.float32)]:
        original = source.copy()
        arr = h.create_from_numpy(source)
        if not isinstance(arr, h.array_type):
            case.fail('create_from_numpy returned a {}'.format(
                type(arr).__name__))
        np.testing.assert_allclose(case.copy(h, arr), case._round(original),
                                   rtol=0, atol=0,
                                   err_msg='create_from_numpy changed values')
        source += 1
        np.testing.assert_allclose(
            case.copy(h, arr), case._round(original), rtol=0, atol=0,
            err_msg='create_from_numpy must copy (a later change of the '
                    'numpy array showed)')


@_check('get_numpy_copy')
def _check_get_numpy_copy(case, op):
    h = case.handler
    values = case.normal(4, 5)
    arr = h.create_from_numpy(values)
    first = h.get_numpy_copy(arr)
    if not isinstance(first, np.ndarray):
        case.fail('get_numpy_copy returned a {}'.format(type(first).__name__))
    if first.dtype != h.dtype or first.shape != values.shape:
        case.fail('get_numpy_copy returned {} {}, expected {} {}'.format(
            first.dtype, first.shape, h.dtype, values.shape))
    np.testing.assert_array_equal(first, values.astype(h.dtype))
    first += 1
    np.testing.assert_array_equal(
        h.get_numpy_copy(arr), values.astype(h.dtype),
        err_msg='get_numpy_copy must return a copy, not a view')


@_check('set_from_numpy')
def _check_set_from_numpy(case, op):
    h = case.handler
    for shape in [(3, 4), (2, 3, 5)]:
        mem = h.create_from_numpy(case.normal(*shape))
        values = case.normal(*shape)
        result = h.set_from_numpy(mem, values.astype(h.dtype))
        if result is not None:
            case.fail('set_from_numpy must return None')
        np.testing.assert_array_equal(case.copy(h, mem), values,
                                      err_msg='set_from_numpy')


@_check('is_fully_finite')
def _check_is_fully_finite(case, op):
    h = case.handler
    for bad, expected in [(None, True), (np.nan, False), (np.inf, False),
                          (-np.inf, False)]:
        values = case.normal(4, 6)
        if bad is not None:
            values[2, 3] = bad
        result = h.is_fully_finite(h.create_from_numpy(values))
        if not isinstance(result, bool):
            case.fail('is_fully_finite must return a Python bool, got '
                      '{}'.format(type(result).__name__))
        if result is not expected:
            case.fail('is_fully_finite gave {} for an array with {}'.format(
                result, bad))


@_check('fill_gaussian')
def _check_fill_gaussian(case, op):
    h = case.handler
    out = h.create_from_numpy(np.zeros((200, 101)))
    h.fill_gaussian(1.5, 2.0, out)
    first = case.copy(h, out)
    if abs(first.mean() - 1.5) > 0.1 or abs(first.std() - 2.0) > 0.1:
        case.fail('fill_gaussian(1.5, 2.0): mean {:.3f}, std {:.3f}'.format(
            first.mean(), first.std()))
    h.fill_gaussian(1.5, 2.0, out)
    if np.array_equal(first, case.copy(h, out)):
        case.fail('fill_gaussian gave the same numbers twice')
    h.fill_gaussian(-3.0, 0.0, out)
    np.testing.assert_array_equal(case.copy(h, out), -3.0,
                                  err_msg='fill_gaussian with std 0')


@_check('generate_probability_mask')
def _check_generate_probability_mask(case, op):
    h = case.handler
    mask = h.create_from_numpy(case.normal(200, 101))
    for p in (0.3, 0.0, 1.0, 0.5):
        h.generate_probability_mask(mask, p)
        values = case.copy(h, mask)
        if not np.all((values == 0) | (values == 1)):
            case.fail('generate_probability_mask must give only 0 and 1')
        if abs(values.mean() - p) > 0.02:
            case.fail('generate_probability_mask({}): a fraction of {:.3f} '
                      'is 1'.format(p, values.mean()))


# ----------------------------------------------------------- elementwise --
_UNARY_INPUTS = {
    'abs_t': lambda c, s: c.normal(*s),
    'sign_t': lambda c, s: c.normal(*s) * c.rng.randint(0, 2, size=s),
    'sqrt_t': lambda c, s: np.concatenate(
        [c.uniform(0, 10, *s).ravel()[1:], [0.0]]).reshape(s),
    'exp_t': lambda c, s: c.uniform(-5, 5, *s),
    'log_t': lambda c, s: c.uniform(0.05, 20, *s),
    'rel': lambda c, s: c.normal(*s, scale=3),
    'tanh': lambda c, s: c.normal(*s, scale=3),
    'sigmoid': lambda c, s: np.concatenate(
        [c.normal(*s, scale=3).ravel()[2:], [60.0, -60.0]]).reshape(s),
}


@_check('abs_t', 'sign_t', 'sqrt_t', 'exp_t', 'log_t', 'rel', 'sigmoid',
        'tanh')
def _check_unary(case, op):
    for shape in [(5, 7), (2, 3, 5), (9,)]:
        a, out = _UNARY_INPUTS[op](case, shape), case.normal(*shape)
        case.compare(op, a, out, outputs=[out], note=str(shape))
    a = _UNARY_INPUTS[op](case, (4, 3))
    case.compare(op, a, a, outputs=[a], note='in place')


@_check('clip_t')
def _check_clip_t(case, op):
    for shape in [(5, 7), (2, 3, 5)]:
        a, out = case.normal(*shape), case.normal(*shape)
        case.compare(op, a, -0.5, 0.75, out, outputs=[out])
    case.compare(op, a, -0.5, 0.75, a, outputs=[a], note='in place')


def _binary_inputs(case, op, shape):
    a, b = case.normal(*shape), case.normal(*shape)
    if op == 'divide_tt':
        b = np.sign(b) * case.uniform(0.5, 2, *shape)
    elif op == 'modulo_tt':
        a = case.normal(*shape, scale=4)
        b = np.where(case.rng.rand(*shape) < 0.5, -1, 1) * \
            case.uniform(0.5, 2, *shape)
        # stay away from multiples of b, where rounding decides the result
        frac = np.abs(a / b - np.round(a / b))
        a = case._round(np.where(frac < 1e-3, a + 0.25 * b, a))
    return a, b


@_check('add_tt', 'subtract_tt', 'mult_tt', 'divide_tt', 'modulo_tt',
        'mult_add_tt')
def _check_binary(case, op):
    for shape in [(5, 7), (2, 3, 5), (9,)]:
        a, b = _binary_inputs(case, op, shape)
        out = case.normal(*shape)
        case.compare(op, a, b, out, outputs=[out], note=str(shape))
    a, b = _binary_inputs(case, op, (4, 3))
    case.compare(op, a, b, a, outputs=[a], note='out is a')
    a, b = _binary_inputs(case, op, (4, 3))
    case.compare(op, a, b, b, outputs=[b], note='out is b')


@_check('add_into_if')
def _check_add_into_if(case, op):
    for shape in [(5, 7), (2, 3, 5)]:
        a, out, cond = case.normal(*shape), case.normal(*shape), \
            case.condition(*shape)
        case.compare(op, a, out, cond, outputs=[out])


@_check('add_st', 'mult_st', 'mult_add_st')
def _check_scalar(case, op):
    for s, shape in [(1.75, (5, 7)), (-0.5, (2, 3, 5)), (3, (9,))]:
        t, out = case.normal(*shape), case.normal(*shape)
        case.compare(op, s, t, out, outputs=[out], note=str(shape))
    t = case.normal(4, 3)
    case.compare(op, 0.25, t, t, outputs=[t], note='in place')


@_check('momentum_update')
def _check_momentum_update(case, op):
    for momentum, rate, shape in [(0.9, -0.05, (5, 7)), (0.0, -1.5, (9,)),
                                  (0.5, 0.25, (2, 3, 5))]:
        velocity, gradients, parameters = [case.normal(*shape)
                                           for _ in range(3)]
        case.compare(op, velocity, gradients, parameters, momentum, rate,
                     outputs=[velocity, parameters],
                     note='{}, {}, {}'.format(momentum, rate, shape))


# ------------------------------------------------------- matrix / vector --
@_check('add_mv', 'subtract_mv', 'mult_mv', 'mult_add_mv', 'divide_mv')
def _check_mv(case, op):
    shapes = [(1, 7), (5, 1)]
    if op in ('mult_mv', 'mult_add_mv'):
        shapes.append((5, 7))
    for v_shape in shapes:
        m, out = case.normal(5, 7), case.normal(5, 7)
        v = case.normal(*v_shape)
        if op == 'divide_mv':
            v = np.sign(v) * case.uniform(0.5, 2, *v_shape)
        case.compare(op, m, v, out, outputs=[out], note='v ' + str(v_shape))
        case.compare(op, m, v, m, outputs=[m], note='in place')


@_check('dot_mm', 'dot_add_mm')
def _check_dot(case, op):
    m, k, n = 5, 7, 3
    for transa in (False, True):
        for transb in (False, True):
            a = case.normal(*((k, m) if transa else (m, k)))
            b = case.normal(*((n, k) if transb else (k, n)))
            out = case.normal(m, n)
            note = 'transa={}, transb={}'.format(transa, transb)
            case.compare(op, a, b, out, transa, transb, outputs=[out],
                         note=note)
            case.compare(op, a, b, out, transa=transa, transb=transb,
                         outputs=[out], note=note + ' as keywords')
    a, b, out = case.normal(m, k), case.normal(k, n), case.normal(m, n)
    case.compare(op, a, b, out, outputs=[out], note='default transa/transb')


@_check('binarize_v')
def _check_binarize_v(case, op):
    for rows, cols in [(6, 4), (1, 3), (9, 1)]:
        v = case.ints(cols, rows, 1)
        out = case.normal(rows, cols)
        case.compare(op, v, out, outputs=[out])


@_check('index_m_by_v')
def _check_index_m_by_v(case, op):
    for rows, cols in [(6, 4), (1, 3), (9, 1)]:
        m, v = case.normal(rows, cols), case.ints(cols, rows, 1)
        out = case.normal(rows, 1)
        case.compare(op, m, v, out, outputs=[out])


@_check('softmax_m')
def _check_softmax_m(case, op):
    m = case.normal(6, 5, scale=3)
    m[1] += 100
    m[2] -= 100
    out = case.normal(6, 5)
    case.compare(op, m, out, outputs=[out])
    m = case.normal(3, 1)
    out = case.normal(3, 1)
    case.compare(op, m, out, outputs=[out], note='one column')
    m = case.normal(4, 9)
    case.compare(op, m, m, outputs=[m], note='in place')


# ------------------------------------------------------------ reductions --
@_check('sum_t')
def _check_sum_t(case, op):
    a = case.normal(5, 7)
    for axis, out_shape in [(None, (1,)), (None, (1, 1)), (0, (7,)),
                            (0, (1, 7)), (1, (5,)), (1, (5, 1))]:
        out = case.normal(*out_shape)
        case.compare(op, a, axis, out, outputs=[out],
                     note='axis {}, out {}'.format(axis, out_shape))
    a = case.normal(9)
    out = case.normal(1)
    case.compare(op, a, 0, out, outputs=[out], note='1D')


@_check('broadcast_t')
def _check_broadcast_t(case, op):
    for a_shape, axis, out_shape in [((2, 3, 1), 2, (2, 3, 5)),
                                     ((1, 4), 0, (3, 4)),
                                     ((5, 1), 1, (5, 6)),
                                     ((2, 1, 3), 1, (2, 4, 3))]:
        a, out = case.normal(*a_shape), case.normal(*out_shape)
        case.compare(op, a, axis, out, outputs=[out],
                     note='{} along {}'.format(a_shape, axis))


@_check('merge_tt')
def _check_merge_tt(case, op):
    for lead, na, nb in [((2, 3), 4, 2), ((5,), 1, 3), ((), 3, 4)]:
        a, b = case.normal(*lead, na), case.normal(*lead, nb)
        out = case.normal(*lead, na + nb)
        case.compare(op, a, b, out, outputs=[out])


@_check('split_add_tt')
def _check_split_add_tt(case, op):
    for lead, na, nb in [((2, 3), 4, 2), ((5,), 1, 3), ((), 3, 4)]:
        x = case.normal(*lead, na + nb)
        out_a, out_b = case.normal(*lead, na), case.normal(*lead, nb)
        case.compare(op, x, out_a, out_b, outputs=[out_a, out_b])


# ----------------------------------------------------------- activations --
_FORWARD = {
    'rel_deriv': lambda x: np.maximum(x, 0),
    'sigmoid_deriv': lambda x: 1 / (1 + np.exp(-x)),
    'tanh_deriv': np.tanh,
}


@_check('rel_deriv', 'sigmoid_deriv', 'tanh_deriv')
def _check_derivative(case, op):
    for shape in [(5, 7), (2, 3, 5)]:
        x = case.normal(*shape, scale=2)
        y = case._round(_FORWARD[op](x))
        dy, dx = case.normal(*shape), case.normal(*shape)
        case.compare(op, x, y, dy, dx, outputs=[dx], note=str(shape))
    x = case.normal(4, 3)
    y, dy = case._round(_FORWARD[op](x)), case.normal(4, 3)
    case.compare(op, x, y, dy, dy, outputs=[dy], note='dx is dy')


# ----------------------------------------------------------- fused cells --
CELL_ACTIVATIONS = ('tanh', 'linear', 'rel', 'sigmoid')
_CELL_FORWARD = {'linear': lambda x: x, 'rel': lambda x: np.maximum(x, 0),
                 'tanh': np.tanh, 'sigmoid': lambda x: 1 / (1 + np.exp(-x))}


def _gate_inputs(case, shape):
    """Pre-activations of a gate, with two saturating entries."""
    return np.concatenate([case.normal(*shape, scale=3).ravel()[2:],
                           [60.0, -60.0]]).reshape(shape)


@_check('lstm_cell_forward')
def _check_lstm_cell_forward(case, op):
    for activation in CELL_ACTIVATIONS:
        for shape in [(5, 7), (3, 4)]:
            z = case.normal(*shape, scale=2)
            i, f, o = [_gate_inputs(case, shape) for _ in range(3)]
            c_prev = case.normal(*shape, scale=2)
            c, y = case.normal(*shape), case.normal(*shape)
            cb = c if activation == 'linear' else case.normal(*shape)
            note = '{}, {}'.format(activation, shape)
            outputs = [z, i, f, o, c, y] + ([cb] if cb is not c else [])
            case.compare(op, z, i, f, o, c_prev, c, cb, y, activation,
                         outputs=outputs, note=note)
    z, i, f, o, c_prev, c, cb, y = [case.normal(2, 3) for _ in range(8)]
    case.compare(op, z, i, f, o, c_prev, c, cb, y,
                 outputs=[z, i, f, o, c, cb, y], note='default activation')


@_check('lstm_cell_backward')
def _check_lstm_cell_backward(case, op):
    sigmoid = _CELL_FORWARD['sigmoid']
    for activation in CELL_ACTIVATIONS:
        act = _CELL_FORWARD[activation]
        for shape in [(5, 7), (3, 4)]:
            z = case._round(act(case.normal(*shape, scale=2)))
            i, f, o = [case._round(sigmoid(_gate_inputs(case, shape)))
                       for _ in range(3)]
            c_prev = case.normal(*shape, scale=2)
            cb = case._round(act(case.normal(*shape, scale=2)))
            dy, dc = case.normal(*shape), case.normal(*shape)
            dc_prev, dz, di, df, do = [case.normal(*shape)
                                       for _ in range(5)]
            case.compare(op, z, i, f, o, c_prev, cb, dy, dc, dc_prev, dz,
                         di, df, do, activation,
                         outputs=[dc, dc_prev, dz, di, df, do],
                         note='{}, {}'.format(activation, shape))


# ---------------------------------------------------------------- images --
def _conv_arrays(case, n, h, w, c, f, kh, kw, padding, stride):
    ho = (h + 2 * padding - kh) // stride[0] + 1
    wo = (w + 2 * padding - kw) // stride[1] + 1
    return (case.normal(n, h, w, c), case.normal(f, kh, kw, c),
            case.normal(f), (n, ho, wo, f))


@_check('conv2d_forward_batch')
def _check_conv_forward(case, op):
    for config in CONV_CASES:
        inputs, weights, bias, out_shape = _conv_arrays(case, *config)
        outputs = case.normal(*out_shape)
        padding, stride = config[-2:]
        case.compare(op, inputs, weights, bias, outputs, padding, stride,
                     outputs=[outputs], note=_conv_note(config))


@_check('conv2d_backward_batch')
def _check_conv_backward(case, op):
    for config in CONV_CASES:
        inputs, weights, bias, out_shape = _conv_arrays(case, *config)
        padding, stride = config[-2:]
        in_deltas = case.normal(*inputs.shape)
        out_deltas = case.normal(*out_shape)
        weight_deltas = case.normal(*weights.shape)
        bias_deltas = case.normal(*bias.shape)
        case.compare(op, inputs, weights, padding, stride, in_deltas,
                     out_deltas, weight_deltas, bias_deltas,
                     outputs=[in_deltas, weight_deltas, bias_deltas],
                     note=_conv_note(config))
        # in_deltas=None: only the parameter gradients
        case.compare(op, inputs, weights, padding, stride, None,
                     out_deltas, weight_deltas, bias_deltas,
                     outputs=[weight_deltas, bias_deltas],
                     note=_conv_note(config) + ', in_deltas None')


def _conv_note(config):
    n, h, w, c, f, kh, kw, padding, stride = config
    return 'inputs {}, weights {}, padding {}, stride {}'.format(
        (n, h, w, c), (f, kh, kw, c), padding, stride)


def _pool_arrays(case, n, h, w, c, kh, kw, padding, stride):
    ho = (h + 2 * padding - kh) // stride[0] + 1
    wo = (w + 2 * padding - kw) // stride[1] + 1
    return case.normal(n, h, w, c), (n, ho, wo, c)


def _pool_note(config):
    n, h, w, c, kh, kw, padding, stride = config
    return 'inputs {}, window {}, padding {}, stride {}'.format(
        (n, h, w, c), (kh, kw), padding, stride)


def _reference_argmax(case, inputs, window, out_shape, padding, stride):
    ref = case.reference
    outputs, argmax = ref.zeros(out_shape), ref.zeros(out_shape)
    ref.maxpool2d_forward_batch(ref.create_from_numpy(inputs), window,
                                outputs, padding, stride, argmax)
    return ref.get_numpy_copy(outputs), ref.get_numpy_copy(argmax)


@_check('maxpool2d_forward_batch', 'avgpool2d_forward_batch')
def _check_pool_forward(case, op):
    for config in POOL_CASES:
        inputs, out_shape = _pool_arrays(case, *config)
        window, padding, stride = config[4:6], config[6], config[7]
        outputs = case.normal(*out_shape)
        if op.startswith('max'):
            argmax = case.normal(*out_shape)
            case.compare(op, inputs, window, outputs, padding, stride,
                         argmax, outputs=[outputs, argmax],
                         note=_pool_note(config))
        else:
            case.compare(op, inputs, window, outputs, padding, stride,
                         outputs=[outputs], note=_pool_note(config))


@_check('maxpool2d_backward_batch', 'avgpool2d_backward_batch')
def _check_pool_backward(case, op):
    for config in POOL_CASES:
        inputs, out_shape = _pool_arrays(case, *config)
        window, padding, stride = config[4:6], config[6], config[7]
        in_deltas = case.normal(*inputs.shape)
        out_deltas = case.normal(*out_shape)
        outputs, argmax = _reference_argmax(case, inputs, window, out_shape,
                                            padding, stride)
        if op.startswith('max'):
            case.compare(op, inputs, window, outputs, padding, stride,
                         argmax, in_deltas, out_deltas,
                         outputs=[in_deltas], note=_pool_note(config))
        else:
            case.compare(op, inputs, window, outputs, padding, stride,
                         in_deltas, out_deltas, outputs=[in_deltas],
                         note=_pool_note(config))


# ------------------------------------------------------------------ API --
def _run_operation_check(handler, op, reference=None, rtol=None,
                         atol=None, seed=42):
    """Check one operation of ``handler`` against the reference.

    Parameters
    ----------
    handler : Handler
        The handler under test.
    op : str
        Name of the operation (one of OPERATIONS).
    reference : Handler, optional
        Reference handler (default: a
        :class:`~brainstorm.testing.reference_handler.ReferenceHandler`).
    rtol, atol : float, optional
        Tolerances (default: :func:`default_tolerances` of the handler's
        dtype).
    seed : int, optional
        Seed for the random inputs.

    Raises
    ------
    AssertionError
        If the handler's results differ from the reference.
    """
    if op not in CHECKS:
        raise AssertionError('the conformance suite has no check for the '
                             'operation {!r}'.format(op))
    if reference is None:
        reference = ReferenceHandler(seed=0)
    d_rtol, d_atol = default_tolerances(handler.dtype)
    rng = np.random.RandomState((seed + zlib.crc32(op.encode())) % 2 ** 31)
    case = Case(handler, reference, rng,
                d_rtol if rtol is None else rtol,
                d_atol if atol is None else atol)
    CHECKS[op](case)


def _conformance_cases():
    """Yield ``(op_name, check)`` for every operation, where
    ``check(handler, reference=None, rtol=None, atol=None)`` runs the
    conformance check of that operation.

    Raises
    ------
    AssertionError
        If some operation in OPERATIONS has no check.
    """
    missing = missing_checks()
    if missing:
        raise AssertionError('no conformance check for: {}'.format(
            ', '.join(missing)))
    for op in OPERATIONS:
        yield op, functools.partial(_run_operation_check, op=op)


def _check_handler(make_handler, reference=None, rtol=None, atol=None):
    """Run the whole conformance suite; raise one AssertionError listing
    every operation that fails.

    Parameters
    ----------
    make_handler : callable or Handler
        A handler, or a function returning a fresh one (called once per
        operation).
    reference, rtol, atol
        As for :func:`_run_operation_check`.
    """
    failures = []
    for op, check in _conformance_cases():
        handler = make_handler if isinstance(make_handler, Handler) \
            else make_handler()
        try:
            check(handler, reference=reference, rtol=rtol, atol=atol)
        except Exception as err:  # noqa: BLE001 - collect all failures
            failures.append('{}: {}: {}'.format(op, type(err).__name__, err))
    if failures:
        raise AssertionError('{} handler operation(s) fail the conformance '
                             'suite:\n{}'.format(len(failures),
                                                 '\n'.join(failures)))
