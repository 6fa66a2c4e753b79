"""A handler that checks every call before passing it on to another one."""
import numbers

import numpy as np

from brainstorm.describable import create_from_description, get_description
from brainstorm.handlers.base_handler import CELL_ACTIVATIONS, Handler

__all__ = ['DebugHandler', 'DebugHandlerError']


class DebugHandlerError(ValueError):
    """A handler operation was called with arguments that break its rules."""


def _fmt(shape):
    return str(tuple(int(d) for d in shape))


class DebugHandler(Handler):
    """Wraps a handler and checks the arguments of every operation.

    Before delegating to the wrapped handler it checks that all arrays are of
    the handler's array type and dtype, that shapes follow the rules of the
    operation's suffix and of the operation itself, and that outputs do not
    overlap inputs where that would give wrong results (element-wise
    operations may still work in place, on the very same array). With
    ``check_finite`` it also checks that the inputs (before) and the outputs
    (after) contain no NaN or inf.

    Violations raise :class:`DebugHandlerError`.

    Parameters
    ----------
    handler : Handler
        The handler doing the work.
    check_finite : bool, optional
        Also check that arrays are finite (default False).
    """

    def __init__(self, handler, check_finite=False):
        if not isinstance(handler, Handler):
            raise TypeError('DebugHandler wraps a Handler, got {!r}'.format(
                handler))
        self.handler = handler
        self.check_finite = bool(check_finite)

    def __repr__(self):
        return 'DebugHandler({!r})'.format(self.handler)

    def __describe__(self):
        description = {'@type': type(self).__name__,
                       'handler': get_description(self.handler)}
        if self.check_finite:
            description['check_finite'] = True
        return description

    @classmethod
    def __new_from_description__(cls, description):
        instance = cls(create_from_description(description['handler']),
                       check_finite=description.get('check_finite', False))
        instance.__init_from_description__(description)
        return instance

    # ------------------------------------------------------ attributes --
    @property
    def dtype(self):
        return self.handler.dtype

    @property
    def array_type(self):
        return self.handler.array_type

    @property
    def context(self):
        return self.handler.context

    @property
    def EMPTY(self):
        return self.handler.EMPTY

    @property
    def rnd(self):
        return self.handler.rnd

    @rnd.setter
    def rnd(self, value):
        self.handler.rnd = value

    # --------------------------------------------------------- helpers --
    @staticmethod
    def _fail(op, message):
        raise DebugHandlerError('{}: {}'.format(op, message))

    def _arrays(self, op, **arrays):
        """Type and dtype of every array argument."""
        for name, a in arrays.items():
            if not isinstance(a, self.array_type):
                self._fail(op, '{} must be a {} of this handler, got '
                               '{}'.format(name, self.array_type.__name__,
                                           type(a).__name__))
            dtype = getattr(a, 'dtype', None)
            if dtype != self.dtype:
                self._fail(op, '{} has dtype {} but the handler works with '
                               '{}'.format(name, dtype, self.dtype))

    def _shape_is(self, op, name, a, shape, what):
        if tuple(a.shape) != tuple(shape):
            self._fail(op, '{} has shape {} but {} has shape {}'.format(
                name, _fmt(a.shape), what, _fmt(shape)))

    def _same_shapes(self, op, ref_name, ref, **others):
        for name, a in others.items():
            if tuple(a.shape) != tuple(ref.shape):
                self._fail(op, '{} has shape {} but {} has shape {}'.format(
                    name, _fmt(a.shape), ref_name, _fmt(ref.shape)))

    def _ndim(self, op, name, a, ndim, what):
        if len(a.shape) != ndim:
            self._fail(op, '{} must be {} ({}D), got shape {}'.format(
                name, what, ndim, _fmt(a.shape)))

    def _scalar(self, op, **scalars):
        for name, s in scalars.items():
            if isinstance(s, (bool, np.bool_)) or not isinstance(
                    s, (numbers.Real, np.floating, np.integer)):
                self._fail(op, '{} must be a scalar number, got {}'.format(
                    name, type(s).__name__))

    def _overlap(self, a, b):
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
            return np.may_share_memory(a, b)
        return False

    def _no_overlap(self, op, outputs, inputs):
        """No output may share memory with an input or another output."""
        names = list(outputs)
        for i, out_name in enumerate(names):
            out = outputs[out_name]
            others = [(n, outputs[n]) for n in names[i + 1:]]
            others += list(inputs.items())
            for name, a in others:
                if a is not None and self._overlap(out, a):
                    self._fail(op, '{} overlaps {} in memory; the output of '
                                   '{} must not share memory with its '
                                   'arguments'.format(out_name, name, op))

    def _in_place(self, op, out_name, out, **inputs):
        """Element-wise ops: an output may be an input, but not partly."""
        for name, a in inputs.items():
            if a is None or not self._overlap(out, a):
                continue
            if not (a.__array_interface__['data'][0] ==
                    out.__array_interface__['data'][0] and
                    a.strides == out.strides and a.shape == out.shape):
                self._fail(op, '{} partially overlaps {}; in-place use needs '
                               'the very same array'.format(out_name, name))

    def _finite(self, op, when, **arrays):
        if not self.check_finite:
            return
        for name, a in arrays.items():
            if a is not None and not self.handler.is_fully_finite(a):
                self._fail(op, '{} contains NaN or inf {}'.format(name, when))

    def _shape_arg(self, op, shape):
        dims = (shape,) if isinstance(shape, numbers.Integral) else shape
        try:
            ok = all(isinstance(d, (numbers.Integral, np.integer)) and
                     not isinstance(d, bool) and d >= 0 for d in dims)
        except TypeError:
            ok = False
        if not ok:
            self._fail(op, 'shape must be a tuple of non-negative ints, '
                           'got {!r}'.format(shape))

    def _int_pair(self, op, name, value, minimum=1):
        if (not isinstance(value, (tuple, list)) or len(value) != 2 or
                not all(isinstance(v, (numbers.Integral, np.integer)) and
                        not isinstance(v, bool) and v >= minimum
                        for v in value)):
            self._fail(op, '{} must be a tuple of two ints >= {}, got '
                           '{!r}'.format(name, minimum, value))

    def _padding(self, op, padding):
        if (not isinstance(padding, (numbers.Integral, np.integer)) or
                isinstance(padding, bool) or padding < 0):
            self._fail(op, 'padding must be a non-negative int, got '
                           '{!r}'.format(padding))

    def _image_out_shape(self, op, inputs, kernel, padding, stride, depth,
                         what):
        self._ndim(op, 'inputs', inputs, 4, 'a batch of images (N, H, W, C)')
        self._padding(op, padding)
        self._int_pair(op, 'stride', stride)
        n, h, w, _ = inputs.shape
        kh, kw = kernel
        ho = (h + 2 * padding - kh) // stride[0] + 1
        wo = (w + 2 * padding - kw) // stride[1] + 1
        if ho < 1 or wo < 1:
            self._fail(op, 'the {} {} does not fit into inputs of shape {} '
                           'with padding {}'.format(what, _fmt(kernel),
                                                    _fmt(inputs.shape),
                                                    padding))
        return (n, ho, wo, depth)

    def _conv_shapes(self, op, inputs, weights, padding, stride):
        self._ndim(op, 'weights', weights, 4, 'filters (F, kh, kw, C)')
        self._ndim(op, 'inputs', inputs, 4, 'a batch of images (N, H, W, C)')
        if weights.shape[3] != inputs.shape[3]:
            self._fail(op, 'weights have {} input channels (shape {}) but '
                           'inputs have {} (shape {})'.format(
                               weights.shape[3], _fmt(weights.shape),
                               inputs.shape[3], _fmt(inputs.shape)))
        return self._image_out_shape(op, inputs, weights.shape[1:3], padding,
                                     stride, weights.shape[0], 'kernel')

    def _pool_shapes(self, op, inputs, window, padding, stride):
        self._int_pair(op, 'window', window)
        self._ndim(op, 'inputs', inputs, 4, 'a batch of images (N, H, W, C)')
        return self._image_out_shape(op, inputs, window, padding, stride,
                                     inputs.shape[3], 'window')

    def _indices(self, op, name, v, limit, what):
        values = self.handler.get_numpy_copy(v)
        bad = (values != np.round(values)) | (values < 0) | (values >= limit)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            self._fail(op, '{} holds {} at row {}, which is not a valid index '
                           'into {}'.format(name, values.ravel()[row], row,
                                            what))

    # ---------------------------------------------------------- memory --
    def _new_array(self, op, result, shape):
        self._arrays(op, result=result)
        dims = (shape,) if isinstance(shape, numbers.Integral) else shape
        self._shape_is(op, 'the result', result, tuple(dims), 'shape')
        return result

    def allocate(self, shape):
        self._shape_arg('allocate', shape)
        return self._new_array('allocate', self.handler.allocate(shape),
                               shape)

    def zeros(self, shape):
        self._shape_arg('zeros', shape)
        return self._new_array('zeros', self.handler.zeros(shape), shape)

    def ones(self, shape):
        self._shape_arg('ones', shape)
        return self._new_array('ones', self.handler.ones(shape), shape)

    def fill(self, mem, val):
        self._arrays('fill', mem=mem)
        self._scalar('fill', val=val)
        self.handler.fill(mem, val)

    def fill_if(self, mem, val, cond):
        op = 'fill_if'
        self._arrays(op, mem=mem, cond=cond)
        self._scalar(op, val=val)
        self._same_shapes(op, 'mem', mem, cond=cond)
        self._in_place(op, 'mem', mem, cond=cond)
        self._finite(op, 'before', cond=cond)
        self.handler.fill_if(mem, val, cond)

    def fill_gaussian(self, mean, std, out):
        op = 'fill_gaussian'
        self._arrays(op, out=out)
        self._scalar(op, mean=mean, std=std)
        if std < 0:
            self._fail(op, 'std must be non-negative, got {}'.format(std))
        self.handler.fill_gaussian(mean, std, out)

    def generate_probability_mask(self, mask, probability):
        op = 'generate_probability_mask'
        self._arrays(op, mask=mask)
        self._scalar(op, probability=probability)
        if not 0 <= probability <= 1:
            self._fail(op, 'probability must lie in [0, 1], got {}'.format(
                probability))
        self.handler.generate_probability_mask(mask, probability)

    def create_from_numpy(self, arr):
        op = 'create_from_numpy'
        if not isinstance(arr, np.ndarray):
            self._fail(op, 'arr must be a numpy.ndarray, got {}'.format(
                type(arr).__name__))
        result = self.handler.create_from_numpy(arr)
        self._arrays(op, result=result)
        self._shape_is(op, 'the result', result, arr.shape, 'arr')
        if self._overlap(result, arr):
            self._fail(op, 'the result shares memory with arr')
        return result

    def get_numpy_copy(self, mem):
        op = 'get_numpy_copy'
        self._arrays(op, mem=mem)
        result = self.handler.get_numpy_copy(mem)
        if not isinstance(result, np.ndarray):
            self._fail(op, 'the result is a {}, not a numpy.ndarray'.format(
                type(result).__name__))
        self._shape_is(op, 'the result', result, mem.shape, 'mem')
        if self._overlap(result, mem):
            self._fail(op, 'the result shares memory with mem')
        return result

    def set_from_numpy(self, mem, arr):
        op = 'set_from_numpy'
        self._arrays(op, mem=mem)
        if not isinstance(arr, np.ndarray):
            self._fail(op, 'arr must be a numpy.ndarray, got {}'.format(
                type(arr).__name__))
        self._shape_is(op, 'arr', arr, mem.shape, 'mem')
        self.handler.set_from_numpy(mem, arr)

    def copy_to(self, src, dest):
        op = 'copy_to'
        self._arrays(op, src=src, dest=dest)
        self._same_shapes(op, 'src', src, dest=dest)
        self._in_place(op, 'dest', dest, src=src)
        self.handler.copy_to(src, dest)

    def copy_to_if(self, src, dest, cond):
        op = 'copy_to_if'
        self._arrays(op, src=src, dest=dest, cond=cond)
        self._same_shapes(op, 'src', src, dest=dest, cond=cond)
        self._in_place(op, 'dest', dest, src=src, cond=cond)
        self.handler.copy_to_if(src, dest, cond)

    def is_fully_finite(self, a):
        self._arrays('is_fully_finite', a=a)
        result = self.handler.is_fully_finite(a)
        if not isinstance(result, bool):
            self._fail('is_fully_finite', 'the result is a {}, not a '
                                          'bool'.format(type(result).__name__))
        return result

    # ----------------------------------------------------- elementwise --
    def _unary(self, op, a, out):
        self._arrays(op, a=a, out=out)
        self._same_shapes(op, 'a', a, out=out)
        self._in_place(op, 'out', out, a=a)
        self._finite(op, 'before', a=a)
        getattr(self.handler, op)(a, out)
        self._finite(op, 'after', out=out)

    def abs_t(self, a, out):
        self._unary('abs_t', a, out)

    def sign_t(self, a, out):
        self._unary('sign_t', a, out)

    def sqrt_t(self, a, out):
        self._unary('sqrt_t', a, out)

    def exp_t(self, a, out):
        self._unary('exp_t', a, out)

    def log_t(self, a, out):
        self._unary('log_t', a, out)

    def clip_t(self, a, a_min, a_max, out):
        op = 'clip_t'
        self._arrays(op, a=a, out=out)
        self._scalar(op, a_min=a_min, a_max=a_max)
        if a_min > a_max:
            self._fail(op, 'a_min ({}) is larger than a_max ({})'.format(
                a_min, a_max))
        self._same_shapes(op, 'a', a, out=out)
        self._in_place(op, 'out', out, a=a)
        self._finite(op, 'before', a=a)
        self.handler.clip_t(a, a_min, a_max, out)

    def _binary(self, op, a, b, out):
        self._arrays(op, a=a, b=b, out=out)
        self._same_shapes(op, 'a', a, b=b, out=out)
        self._in_place(op, 'out', out, a=a, b=b)
        self._finite(op, 'before', a=a, b=b)
        getattr(self.handler, op)(a, b, out)
        self._finite(op, 'after', out=out)

    def add_tt(self, a, b, out):
        self._binary('add_tt', a, b, out)

    def subtract_tt(self, a, b, out):
        self._binary('subtract_tt', a, b, out)

    def mult_tt(self, a, b, out):
        self._binary('mult_tt', a, b, out)

    def mult_add_tt(self, a, b, out):
        self._binary('mult_add_tt', a, b, out)

    def divide_tt(self, a, b, out):
        self._binary('divide_tt', a, b, out)

    def modulo_tt(self, a, b, out):
        self._binary('modulo_tt', a, b, out)

    def add_into_if(self, a, out, cond):
        op = 'add_into_if'
        self._arrays(op, a=a, out=out, cond=cond)
        self._same_shapes(op, 'a', a, out=out, cond=cond)
        self._in_place(op, 'out', out, a=a, cond=cond)
        self._finite(op, 'before', a=a, cond=cond)
        self.handler.add_into_if(a, out, cond)

    def _scalar_op(self, op, s, t, out):
        self._arrays(op, t=t, out=out)
        self._scalar(op, s=s)
        self._same_shapes(op, 't', t, out=out)
        self._in_place(op, 'out', out, t=t)
        self._finite(op, 'before', t=t)
        getattr(self.handler, op)(s, t, out)
        self._finite(op, 'after', out=out)

    def add_st(self, s, t, out):
        self._scalar_op('add_st', s, t, out)

    def mult_st(self, s, t, out):
        self._scalar_op('mult_st', s, t, out)

    def mult_add_st(self, s, t, out):
        self._scalar_op('mult_add_st', s, t, out)

    def momentum_update(self, velocity, gradients, parameters, momentum,
                        rate):
        op = 'momentum_update'
        self._arrays(op, velocity=velocity, gradients=gradients,
                     parameters=parameters)
        self._scalar(op, momentum=momentum, rate=rate)
        self._same_shapes(op, 'velocity', velocity, gradients=gradients,
                          parameters=parameters)
        self._no_overlap(op, dict(velocity=velocity, parameters=parameters),
                         dict(gradients=gradients))
        self._finite(op, 'before', velocity=velocity, gradients=gradients,
                     parameters=parameters)
        self.handler.momentum_update(velocity, gradients, parameters,
                                     momentum, rate)
        self._finite(op, 'after', velocity=velocity, parameters=parameters)

    # ------------------------------------------------ matrix / vector --
    def _mv(self, op, m, v, out, allow_matrix=False):
        self._arrays(op, m=m, v=v, out=out)
        self._ndim(op, 'm', m, 2, 'a matrix')
        self._ndim(op, 'v', v, 2, 'a vector')
        rows, cols = m.shape
        allowed = [(1, cols), (rows, 1)]
        if allow_matrix:
            allowed.append((rows, cols))
        if tuple(v.shape) not in allowed:
            self._fail(op, 'v has shape {} but must have shape {} to '
                           'broadcast against m of shape {}'.format(
                               _fmt(v.shape),
                               ' or '.join(_fmt(s) for s in allowed),
                               _fmt(m.shape)))
        self._same_shapes(op, 'm', m, out=out)
        self._in_place(op, 'out', out, m=m, v=v)
        self._finite(op, 'before', m=m, v=v)
        getattr(self.handler, op)(m, v, out)
        self._finite(op, 'after', out=out)

    def add_mv(self, m, v, out):
        self._mv('add_mv', m, v, out)

    def subtract_mv(self, m, v, out):
        self._mv('subtract_mv', m, v, out)

    def mult_mv(self, m, v, out):
        self._mv('mult_mv', m, v, out, allow_matrix=True)

    def mult_add_mv(self, m, v, out):
        self._mv('mult_add_mv', m, v, out, allow_matrix=True)

    def divide_mv(self, m, v, out):
        self._mv('divide_mv', m, v, out)

    def _dot(self, op, a, b, out, transa, transb):
        self._arrays(op, a=a, b=b, out=out)
        self._ndim(op, 'a', a, 2, 'a matrix')
        self._ndim(op, 'b', b, 2, 'a matrix')
        self._ndim(op, 'out', out, 2, 'a matrix')
        for name, flag in (('transa', transa), ('transb', transb)):
            if not isinstance(flag, (bool, np.bool_)) and flag not in (0, 1):
                self._fail(op, '{} must be a bool, got {!r}'.format(name,
                                                                     flag))
        a_shape = a.shape[::-1] if transa else a.shape
        b_shape = b.shape[::-1] if transb else b.shape
        expr = '{} @ {}'.format('a.T' if transa else 'a',
                                'b.T' if transb else 'b')
        if a_shape[1] != b_shape[0]:
            self._fail(op, 'cannot compute {}: shapes {} and {} do not '
                           'match'.format(expr, _fmt(a_shape),
                                          _fmt(b_shape)))
        self._shape_is(op, 'out', out, (a_shape[0], b_shape[1]), expr)
        self._no_overlap(op, {'out': out}, {'a': a, 'b': b})
        self._finite(op, 'before', a=a, b=b)
        getattr(self.handler, op)(a, b, out, transa, transb)
        self._finite(op, 'after', out=out)

    def dot_mm(self, a, b, out, transa=False, transb=False):
        self._dot('dot_mm', a, b, out, transa, transb)

    def dot_add_mm(self, a, b, out, transa=False, transb=False):
        self._dot('dot_add_mm', a, b, out, transa, transb)

    def binarize_v(self, v, out):
        op = 'binarize_v'
        self._arrays(op, v=v, out=out)
        self._ndim(op, 'out', out, 2, 'a matrix')
        self._shape_is(op, 'v', v, (out.shape[0], 1),
                       'a column vector with a row per row of out')
        self._no_overlap(op, {'out': out}, {'v': v})
        self._indices(op, 'v', v, out.shape[1],
                      'the {} columns of out'.format(out.shape[1]))
        self.handler.binarize_v(v, out)

    def index_m_by_v(self, m, v, out):
        op = 'index_m_by_v'
        self._arrays(op, m=m, v=v, out=out)
        self._ndim(op, 'm', m, 2, 'a matrix')
        column = (m.shape[0], 1)
        what = 'a column vector with a row per row of m'
        self._shape_is(op, 'v', v, column, what)
        self._shape_is(op, 'out', out, column, what)
        self._no_overlap(op, {'out': out}, {'m': m, 'v': v})
        self._indices(op, 'v', v, m.shape[1],
                      'the {} columns of m'.format(m.shape[1]))
        self._finite(op, 'before', m=m)
        self.handler.index_m_by_v(m, v, out)

    def softmax_m(self, m, out):
        op = 'softmax_m'
        self._arrays(op, m=m, out=out)
        self._ndim(op, 'm', m, 2, 'a matrix')
        self._same_shapes(op, 'm', m, out=out)
        self._in_place(op, 'out', out, m=m)
        self._finite(op, 'before', m=m)
        self.handler.softmax_m(m, out)
        self._finite(op, 'after', out=out)

    # ----------------------------------------------------- reductions --
    def _axis(self, op, a, axis):
        if (not isinstance(axis, (numbers.Integral, np.integer)) or
                isinstance(axis, bool) or not -a.ndim <= axis < a.ndim):
            self._fail(op, 'axis must be an int in [{}, {}) for a of shape '
                           '{}, got {!r}'.format(-a.ndim, a.ndim,
                                                 _fmt(a.shape), axis))
        return axis % a.ndim

    def sum_t(self, a, axis, out):
        op = 'sum_t'
        self._arrays(op, a=a, out=out)
        if axis is None:
            if int(np.prod(out.shape)) != 1:
                self._fail(op, 'out has shape {} but the sum over all axes '
                               'needs exactly one element'.format(
                                   _fmt(out.shape)))
        else:
            axis = self._axis(op, a, axis)
            reduced = a.shape[:axis] + a.shape[axis + 1:]
            kept = a.shape[:axis] + (1,) + a.shape[axis + 1:]
            if tuple(out.shape) not in (tuple(reduced), tuple(kept)):
                self._fail(op, 'out has shape {} but the sum of a (shape {}) '
                               'over axis {} has shape {} (or {})'.format(
                                   _fmt(out.shape), _fmt(a.shape), axis,
                                   _fmt(reduced), _fmt(kept)))
        self._no_overlap(op, {'out': out}, {'a': a})
        self._finite(op, 'before', a=a)
        self.handler.sum_t(a, axis, out)

    def broadcast_t(self, a, axis, out):
        op = 'broadcast_t'
        self._arrays(op, a=a, out=out)
        axis = self._axis(op, a, axis)
        if a.shape[axis] != 1:
            self._fail(op, 'a has shape {}, its axis {} must have size '
                           '1'.format(_fmt(a.shape), axis))
        if out.ndim != a.ndim or any(
                out.shape[d] != a.shape[d] for d in range(a.ndim)
                if d != axis):
            self._fail(op, 'out has shape {} but must equal the shape {} of a '
                           'except in axis {}'.format(_fmt(out.shape),
                                                      _fmt(a.shape), axis))
        self._no_overlap(op, {'out': out}, {'a': a})
        self.handler.broadcast_t(a, axis, out)

    def _parts(self, op, whole_name, whole, a_name, a, b_name, b):
        for name, arr in ((a_name, a), (b_name, b)):
            if arr.ndim != whole.ndim or tuple(arr.shape[:-1]) != \
                    tuple(whole.shape[:-1]):
                self._fail(op, '{} has shape {} but must match {} (shape {}) '
                               'in all but the last axis'.format(
                                   name, _fmt(arr.shape), whole_name,
                                   _fmt(whole.shape)))
        if whole.ndim == 0 or a.shape[-1] + b.shape[-1] != whole.shape[-1]:
            self._fail(op, '{} has shape {} but the last axes of {} {} and {} '
                           '{} add up to {}'.format(
                               whole_name, _fmt(whole.shape), a_name,
                               _fmt(a.shape), b_name, _fmt(b.shape),
                               a.shape[-1] + b.shape[-1]))

    def merge_tt(self, a, b, out):
        op = 'merge_tt'
        self._arrays(op, a=a, b=b, out=out)
        self._parts(op, 'out', out, 'a', a, 'b', b)
        self._no_overlap(op, {'out': out}, {'a': a, 'b': b})
        self._finite(op, 'before', a=a, b=b)
        self.handler.merge_tt(a, b, out)

    def split_add_tt(self, x, out_a, out_b):
        op = 'split_add_tt'
        self._arrays(op, x=x, out_a=out_a, out_b=out_b)
        self._parts(op, 'x', x, 'out_a', out_a, 'out_b', out_b)
        self._no_overlap(op, {'out_a': out_a, 'out_b': out_b}, {'x': x})
        self._finite(op, 'before', x=x)
        self.handler.split_add_tt(x, out_a, out_b)

    # ---------------------------------------------------- activations --
    def _activation(self, op, x, y):
        self._arrays(op, x=x, y=y)
        self._same_shapes(op, 'x', x, y=y)
        self._in_place(op, 'y', y, x=x)
        self._finite(op, 'before', x=x)
        getattr(self.handler, op)(x, y)
        self._finite(op, 'after', y=y)

    def _derivative(self, op, x, y, dy, dx):
        arrays = dict(y=y, dy=dy, dx=dx)
        if x is not None:
            arrays['x'] = x
        self._arrays(op, **arrays)
        self._same_shapes(op, 'y', y, **{k: v for k, v in arrays.items()
                                          if k != 'y'})
        self._in_place(op, 'dx', dx, x=x, y=y, dy=dy)
        self._finite(op, 'before', y=y, dy=dy)
        getattr(self.handler, op)(x, y, dy, dx)
        self._finite(op, 'after', dx=dx)

    def rel(self, x, y):
        self._activation('rel', x, y)

    def rel_deriv(self, x, y, dy, dx):
        self._derivative('rel_deriv', x, y, dy, dx)

    def sigmoid(self, x, y):
        self._activation('sigmoid', x, y)

    def sigmoid_deriv(self, x, y, dy, dx):
        self._derivative('sigmoid_deriv', x, y, dy, dx)

    def tanh(self, x, y):
        self._activation('tanh', x, y)

    def tanh_deriv(self, x, y, dy, dx):
        self._derivative('tanh_deriv', x, y, dy, dx)

    # ------------------------------------------------- fused cells --
    def _cell(self, op, activation, outputs, inputs):
        if activation not in CELL_ACTIVATIONS:
            self._fail(op, 'activation must be one of {}, got {!r}'.format(
                ', '.join(sorted(CELL_ACTIVATIONS)), activation))
        arrays = dict(inputs, **outputs)
        self._arrays(op, **arrays)
        first = next(iter(arrays))
        self._ndim(op, first, arrays[first], 2, 'a matrix (B, size)')
        self._same_shapes(op, first, arrays[first], **arrays)
        self._no_overlap(op, outputs, inputs)
        self._finite(op, 'before', **arrays)

    def lstm_cell_forward(self, z, i, f, o, c_prev, c, cb, y,
                          activation='tanh'):
        op = 'lstm_cell_forward'
        outputs = dict(z=z, i=i, f=f, o=o, c=c, y=y)
        if not (cb is c and activation == 'linear'):   # cb may be c there
            outputs['cb'] = cb
        self._cell(op, activation, outputs, dict(c_prev=c_prev))
        self.handler.lstm_cell_forward(z, i, f, o, c_prev, c, cb, y,
                                       activation)
        self._finite(op, 'after', **outputs)

    def lstm_cell_backward(self, z, i, f, o, c_prev, cb, dy, dc, dc_prev,
                           dz, di, df, do, activation='tanh'):
        op = 'lstm_cell_backward'
        outputs = dict(dc=dc, dc_prev=dc_prev, dz=dz, di=di, df=df, do=do)
        self._cell(op, activation, outputs,
                   dict(z=z, i=i, f=f, o=o, c_prev=c_prev, cb=cb, dy=dy))
        self.handler.lstm_cell_backward(z, i, f, o, c_prev, cb, dy, dc,
                                        dc_prev, dz, di, df, do, activation)
        self._finite(op, 'after', **outputs)

    # --------------------------------------------------------- images --
    def conv2d_forward_batch(self, inputs, weights, bias, outputs, padding,
                             stride):
        op = 'conv2d_forward_batch'
        self._arrays(op, inputs=inputs, weights=weights, bias=bias,
                     outputs=outputs)
        expected = self._conv_shapes(op, inputs, weights, padding, stride)
        self._shape_is(op, 'bias', bias, (weights.shape[0],),
                       'one entry per filter')
        self._shape_is(op, 'outputs', outputs, expected,
                       'the convolution of inputs {} with weights {} '
                       '(padding {}, stride {})'.format(
                           _fmt(inputs.shape), _fmt(weights.shape), padding,
                           tuple(stride)))
        self._no_overlap(op, {'outputs': outputs},
                         {'inputs': inputs, 'weights': weights, 'bias': bias})
        self._finite(op, 'before', inputs=inputs, weights=weights, bias=bias)
        self.handler.conv2d_forward_batch(inputs, weights, bias, outputs,
                                          padding, stride)
        self._finite(op, 'after', outputs=outputs)

    def conv2d_backward_batch(self, inputs, weights, padding, stride,
                              in_deltas, out_deltas, weight_deltas,
                              bias_deltas):
        op = 'conv2d_backward_batch'
        accumulators = {'weight_deltas': weight_deltas,
                        'bias_deltas': bias_deltas}
        if in_deltas is not None:       # None: input deltas not wanted
            accumulators['in_deltas'] = in_deltas
        self._arrays(op, inputs=inputs, weights=weights,
                     out_deltas=out_deltas, **accumulators)
        expected = self._conv_shapes(op, inputs, weights, padding, stride)
        if in_deltas is not None:
            self._shape_is(op, 'in_deltas', in_deltas, inputs.shape,
                           'inputs')
        self._shape_is(op, 'out_deltas', out_deltas, expected,
                       'the convolution of inputs {} with weights {} '
                       '(padding {}, stride {})'.format(
                           _fmt(inputs.shape), _fmt(weights.shape), padding,
                           tuple(stride)))
        self._shape_is(op, 'weight_deltas', weight_deltas, weights.shape,
                       'weights')
        self._shape_is(op, 'bias_deltas', bias_deltas, (weights.shape[0],),
                       'one entry per filter')
        self._no_overlap(op, accumulators,
                         {'inputs': inputs, 'weights': weights,
                          'out_deltas': out_deltas})
        self._finite(op, 'before', inputs=inputs, weights=weights,
                     out_deltas=out_deltas)
        self.handler.conv2d_backward_batch(inputs, weights, padding, stride,
                                           in_deltas, out_deltas,
                                           weight_deltas, bias_deltas)
        self._finite(op, 'after', **accumulators)

    def _pool_outputs(self, op, inputs, window, padding, stride, **arrays):
        expected = self._pool_shapes(op, inputs, window, padding, stride)
        what = 'pooling inputs {} with window {} (padding {}, stride ' \
               '{})'.format(_fmt(inputs.shape), tuple(window), padding,
                            tuple(stride))
        for name, a in arrays.items():
            self._shape_is(op, name, a, expected, what)

    def _argmax_values(self, op, inputs, argmax):
        positions = self.handler.get_numpy_copy(argmax)
        limit = inputs.shape[1] * inputs.shape[2]
        bad = (positions != np.round(positions)) | (positions < -1) | \
            (positions >= limit)
        if bad.any():
            self._fail(op, 'argmax holds {}, which is not a position in an '
                           'image of {} pixels'.format(positions[bad][0],
                                                       limit))

    def maxpool2d_forward_batch(self, inputs, window, outputs, padding,
                                stride, argmax):
        op = 'maxpool2d_forward_batch'
        self._arrays(op, inputs=inputs, outputs=outputs, argmax=argmax)
        self._pool_outputs(op, inputs, window, padding, stride,
                           outputs=outputs, argmax=argmax)
        self._no_overlap(op, {'outputs': outputs, 'argmax': argmax},
                         {'inputs': inputs})
        self._finite(op, 'before', inputs=inputs)
        self.handler.maxpool2d_forward_batch(inputs, window, outputs,
                                             padding, stride, argmax)
        self._finite(op, 'after', outputs=outputs)

    def maxpool2d_backward_batch(self, inputs, window, outputs, padding,
                                 stride, argmax, in_deltas, out_deltas):
        op = 'maxpool2d_backward_batch'
        self._arrays(op, inputs=inputs, outputs=outputs, argmax=argmax,
                     in_deltas=in_deltas, out_deltas=out_deltas)
        self._pool_outputs(op, inputs, window, padding, stride,
                           outputs=outputs, argmax=argmax,
                           out_deltas=out_deltas)
        self._shape_is(op, 'in_deltas', in_deltas, inputs.shape, 'inputs')
        self._no_overlap(op, {'in_deltas': in_deltas},
                         {'inputs': inputs, 'outputs': outputs,
                          'argmax': argmax, 'out_deltas': out_deltas})
        self._argmax_values(op, inputs, argmax)
        self._finite(op, 'before', out_deltas=out_deltas)
        self.handler.maxpool2d_backward_batch(inputs, window, outputs,
                                              padding, stride, argmax,
                                              in_deltas, out_deltas)
        self._finite(op, 'after', in_deltas=in_deltas)

    def avgpool2d_forward_batch(self, inputs, window, outputs, padding,
                                stride):
        op = 'avgpool2d_forward_batch'
        self._arrays(op, inputs=inputs, outputs=outputs)
        self._pool_outputs(op, inputs, window, padding, stride,
                           outputs=outputs)
        self._no_overlap(op, {'outputs': outputs}, {'inputs': inputs})
        self._finite(op, 'before', inputs=inputs)
        self.handler.avgpool2d_forward_batch(inputs, window, outputs,
                                             padding, stride)
        self._finite(op, 'after', outputs=outputs)

    def avgpool2d_backward_batch(self, inputs, window, outputs, padding,
                                 stride, in_deltas, out_deltas):
        op = 'avgpool2d_backward_batch'
        self._arrays(op, inputs=inputs, outputs=outputs, in_deltas=in_deltas,
                     out_deltas=out_deltas)
        self._pool_outputs(op, inputs, window, padding, stride,
                           outputs=outputs, out_deltas=out_deltas)
        self._shape_is(op, 'in_deltas', in_deltas, inputs.shape, 'inputs')
        self._no_overlap(op, {'in_deltas': in_deltas},
                         {'inputs': inputs, 'outputs': outputs,
                          'out_deltas': out_deltas})
        self._finite(op, 'before', out_deltas=out_deltas)
        self.handler.avgpool2d_backward_batch(inputs, window, outputs,
                                              padding, stride, in_deltas,
                                              out_deltas)
        self._finite(op, 'after', in_deltas=in_deltas)
