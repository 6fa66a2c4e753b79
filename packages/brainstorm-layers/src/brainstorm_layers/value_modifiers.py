"""Value modifiers of the layer catalogue (manual 8.7)."""
from numbers import Real

import numpy as np

from brainstorm.value_modifiers import ValueModifier

__all__ = ['ConstrainL2Norm']


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
