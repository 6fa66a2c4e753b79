"""Value modifiers of the layer catalogue (manual 8.7).

Install them with ``net.set_weight_modifiers`` (applied to the parameters
after every update) or ``net.set_gradient_modifiers`` (applied to the
gradients after every backward pass); a list is applied in its order. They
compute with handler operations only, so they run on any handler. The weight
decays ``L1Decay`` and ``L2Decay`` add a term of the parameters to the
gradients and work as gradient modifiers only.
"""
from numbers import Real

import numpy as np

from brainstorm.value_modifiers import ValueModifier

__all__ = ['ClipValues', 'ConstrainL2Norm', 'FreezeValues', 'L1Decay',
           'L2Decay', 'MaskValues']


def _is_number(value):
    return isinstance(value, Real) and not isinstance(value, bool) and \
        np.isfinite(value)


def _where(modifier):
    """The modifier's name, and the view it is installed on if it is."""
    name = type(modifier).__name__
    if getattr(modifier, 'layer_name', ''):
        return "{} on '{}.{}'".format(name, modifier.layer_name,
                                      modifier.view_name)
    return name


def _as_array(value, who, argument):
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError('{}: {} must be convertible to an array of numbers, '
                         'got {!r}'.format(who, argument, value)) from None
    return array


class ConstrainL2Norm(ValueModifier):
    """Limits the L2 norm of the incoming weights of every unit.

    Where the norm exceeds ``limit`` the weights of that unit are rescaled
    to a norm of exactly ``limit``; others are left alone. The incoming
    weights of unit j of a weight (..., n_out) are ``W[..., j]`` (the
    column ``W[:, j]`` of a FullyConnected weight); those of a convolution
    weight (F, kh, kw, C) are each filter ``W[f]``. 1-D views (biases) are
    ignored.

    Parameters
    ----------
    limit : float
        The largest allowed L2 norm (> 0).

    Example
    -------
    >>> net.set_weight_modifiers({'FC': ConstrainL2Norm(1.0)})
    """

    __undescribed__ = {'_cache': None}

    def __init__(self, limit):
        if not isinstance(limit, Real) or isinstance(limit, bool) or \
                not limit > 0:
            raise ValueError('ConstrainL2Norm: limit must be a number > 0, '
                             'got {!r}'.format(limit))
        self.limit = limit
        self._cache = None

    def _temps(self, handler, matrix, norm_shape):
        key = (matrix.shape, norm_shape)
        cache = self._cache
        if cache is None or cache[0] is not handler or cache[1] != key:
            cache = (handler, key, handler.allocate(matrix.shape),
                     handler.allocate(norm_shape))
            self._cache = cache
        return cache[2], cache[3]

    def __call__(self, handler, view):
        if len(view.shape) < 2:
            return
        if len(view.shape) == 4:      # filters (F, kh, kw, C): rows
            matrix = view.reshape((view.shape[0], -1))
            axis, norm_shape = 1, (view.shape[0], 1)
        else:                         # (..., n_out): columns
            matrix = view.reshape((-1, view.shape[-1]))
            axis, norm_shape = 0, (1, view.shape[-1])
        squares, norms = self._temps(handler, matrix, norm_shape)
        handler.mult_tt(matrix, matrix, squares)
        handler.sum_t(squares, axis, norms)
        handler.sqrt_t(norms, norms)
        # norm / limit, at least 1: dividing by it only shrinks long units
        handler.mult_st(1.0 / float(self.limit), norms, norms)
        handler.clip_t(norms, 1.0, float(np.finfo(handler.dtype).max), norms)
        handler.divide_mv(matrix, norms, matrix)


class ClipValues(ValueModifier):
    """Clips (limits) the values to the interval [low, high].

    Parameters
    ----------
    low : float
        Lower bound (default -1.0).
    high : float
        Upper bound (default 1.0), at least ``low``.

    Example
    -------
    >>> net.set_weight_modifiers(RnnLayer={'R': ClipValues()})
    >>> net.set_gradient_modifiers(default=ClipValues(-1, 1))
    """

    def __init__(self, low=-1.0, high=1.0):
        if not _is_number(low):
            raise ValueError('ClipValues: low must be a finite number, got '
                             '{!r}'.format(low))
        if not _is_number(high) or high < low:
            raise ValueError('ClipValues: high must be a finite number >= '
                             'low ({!r}), got {!r}'.format(low, high))
        self.low = low
        self.high = high

    def __call__(self, handler, view):
        handler.clip_t(view, float(self.low), float(self.high), view)


class FreezeValues(ValueModifier):
    """Keeps the values from changing at all: every call sets them back.

    Parameters
    ----------
    weights : array_like, optional
        The values to keep, of the shape of the view. If None (default),
        the values the modifier sees at its first call are kept.

    Weight modifiers first run after the first update; to keep the values
    a parameter has now, call ``net.apply_weight_modifiers()`` right after
    installing the modifier. Every parameter a modifier is installed on
    gets a copy of it (see ``Network.set_weight_modifiers``), so one
    ``FreezeValues()`` can freeze several parameters, each at its own
    values.

    Example
    -------
    >>> net.set_weight_modifiers(RnnLayer={'R': FreezeValues()})
    """

    __default_values__ = {'weights': None}
    __undescribed__ = {'_kept': None}

    def __init__(self, weights=None):
        if weights is not None:
            weights = _as_array(weights, 'FreezeValues', 'weights')
        self.weights = weights
        self._kept = None

    def __init_from_description__(self, description):
        if self.weights is not None:
            self.weights = np.array(self.weights, dtype=np.float64)

    def _keep(self, handler, view):
        """A handler array with the values to keep (made at the first call,
        and again after a change of handler)."""
        if self._kept is not None:
            old_handler, kept = self._kept
            if tuple(kept.shape) != tuple(view.shape):
                raise ValueError(
                    '{}: keeps values of shape {}, but is applied to values '
                    'of shape {}'.format(_where(self), tuple(kept.shape),
                                         tuple(view.shape)))
            if old_handler is handler:
                return kept
            values = old_handler.get_numpy_copy(kept)
        elif self.weights is not None:
            if self.weights.shape != tuple(view.shape):
                raise ValueError(
                    '{}: weights of shape {} do not fit values of shape '
                    '{}'.format(_where(self), self.weights.shape,
                                tuple(view.shape)))
            values = self.weights
        else:
            values = None
        kept = handler.allocate(tuple(view.shape))
        if values is None:
            handler.copy_to(view, kept)
        else:
            handler.set_from_numpy(kept, np.ascontiguousarray(
                values, dtype=handler.dtype))
        self._kept = (handler, kept)
        return kept

    def __call__(self, handler, view):
        handler.copy_to(self._keep(handler, view), view)


class _Decay(ValueModifier):
    """Adds a term of the parameters to their gradients."""

    needs_parameters = True
    __undescribed__ = {'_cache': None}

    def __init__(self, factor):
        if not _is_number(factor) or factor < 0:
            raise ValueError('{}: factor must be a finite number >= 0, got '
                             '{!r}'.format(type(self).__name__, factor))
        self.factor = factor
        self._cache = None

    def __call__(self, handler, gradients, parameters=None):
        if parameters is None:
            raise ValueError(
                '{} changes gradients by a term of the parameters: install '
                'it with net.set_gradient_modifiers, not '
                'set_weight_modifiers'.format(_where(self)))
        if tuple(parameters.shape) != tuple(gradients.shape):
            raise ValueError('{}: parameters of shape {} do not match '
                             'gradients of shape {}'.format(
                                 _where(self), tuple(parameters.shape),
                                 tuple(gradients.shape)))
        self._add_decay(handler, gradients, parameters)

    def _add_decay(self, handler, gradients, parameters):
        raise NotImplementedError


class L1Decay(_Decay):
    """L1 weight decay, a gradient modifier:
    ``gradients = gradients + factor * sign(parameters)``.

    Parameters
    ----------
    factor : float
        Strength of the decay (>= 0).

    Example
    -------
    >>> net.set_gradient_modifiers(Hid={'W': L1Decay(1e-4)})
    """

    def _add_decay(self, handler, gradients, parameters):
        shape = tuple(parameters.shape)
        if self._cache is None or self._cache[0] is not handler or \
                tuple(self._cache[1].shape) != shape:
            self._cache = (handler, handler.allocate(shape))
        signs = self._cache[1]
        handler.sign_t(parameters, signs)
        handler.mult_add_st(float(self.factor), signs, gradients)


class L2Decay(_Decay):
    """L2 weight decay, a gradient modifier:
    ``gradients = gradients + factor * parameters`` (the gradient of
    ``factor / 2 * sum(parameters ** 2)``).

    Parameters
    ----------
    factor : float
        Strength of the decay (>= 0).

    Example
    -------
    >>> net.set_gradient_modifiers(default=L2Decay(1e-4))
    """

    def _add_decay(self, handler, gradients, parameters):
        handler.mult_add_st(float(self.factor), parameters, gradients)


class MaskValues(ValueModifier):
    """Multiplies the values elementwise with a mask, e.g. to keep some
    weights at zero.

    Parameters
    ----------
    mask : array_like
        The mask; it must broadcast to the shape of the view (numpy rules),
        e.g. (n_in, 1) masks whole rows of a weight (n_in, n_out).

    Example
    -------
    >>> net.set_weight_modifiers(RnnLayer={'R': MaskValues(M)})
    """

    __undescribed__ = {'_cache': None}

    def __init__(self, mask):
        self.mask = _as_array(mask, 'MaskValues', 'mask')
        self._cache = None

    def __init_from_description__(self, description):
        self.mask = np.array(self.mask, dtype=np.float64)

    def _mask_for(self, handler, view):
        shape = tuple(view.shape)
        cache = self._cache
        if cache is None or cache[0] is not handler or cache[1] != shape:
            try:
                mask = np.broadcast_to(self.mask, shape)
            except ValueError:
                raise ValueError(
                    '{}: a mask of shape {} does not fit values of shape '
                    '{}'.format(_where(self), self.mask.shape, shape)) \
                    from None
            cache = (handler, shape, handler.create_from_numpy(
                np.ascontiguousarray(mask, dtype=handler.dtype)))
            self._cache = cache
        return cache[2]

    def __call__(self, handler, view):
        handler.mult_tt(view, self._mask_for(handler, view), view)
