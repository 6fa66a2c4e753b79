"""Augmenting data iterators of the manual (8.4): iterators that wrap another
iterator and change some of the named data items it yields.

====================  =====================================================
iterator              changes
====================  =====================================================
``AddGaussianNoise``  adds Gaussian noise
``AddSaltNPepper``    sets random entries to 1 (salt) or 0 (pepper)
``Flip``              flips images horizontally (the width axis)
``Pad``               pads images on all four sides
``RandomCrop``        crops a random window of each image
``OneHot``            (T, B, 1) indices to one-hot vectors
``MultiHot``          (T, B, K) indices to multi-hot vectors
====================  =====================================================

Each ``*_dict`` maps names of data items to a setting; the other items are
yielded as they are. They compose, ``Flip(RandomCrop(Minibatches(...),
{'default': (24, 24)}))``, and report in ``data_shapes`` the shapes they
yield. Changed items are always new arrays: the wrapped iterator's data
(a user's arrays, for ``Undivided``) is never written into.

The random iterators draw a generator from ``bs.global_rnd`` when they are
created, so ``bs.global_rnd.set_seed(n)`` before building them reproduces
the same augmentation. Images are 5D, (T, B, H, W, C); every random choice
(flip or not, crop position) is made per sequence of a batch and holds for
all its time steps.
"""
import numbers

import numpy as np

from brainstorm.data_iterators import DataIterator
from brainstorm.randomness import global_rnd
from brainstorm.training.checkpoint import (get_random_state,
                                            set_random_state)

__all__ = ['AddGaussianNoise', 'AddSaltNPepper', 'Flip', 'Pad', 'RandomCrop',
           'OneHot', 'MultiHot']

_IMAGE_AXES = '(T, B, H, W, C)'


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class _Augmenter(DataIterator):
    """Wraps ``iter`` and replaces the items named in ``self.settings`` by
    ``self._augment(name, array, setting)`` in every batch.

    Subclasses set ``random = True`` if they draw random numbers, and may
    override ``_check_shape(name, shape, setting)`` (which validates a
    shape and returns the shape yielded) and ``_augment``.
    """

    random = False

    def __init__(self, iter, settings, argument):
        name = type(self).__name__
        if not (callable(iter) and
                isinstance(getattr(iter, 'data_shapes', None), dict)):
            raise TypeError(
                '{}: iter must be a data iterator (such as Minibatches) with '
                'a data_shapes dict, got {!r}'.format(name, iter))
        self.iter = iter
        self.settings = settings
        self.argument = argument
        shapes = dict(iter.data_shapes)
        for item in settings:
            if item not in shapes:
                raise ValueError(
                    '{}: {} names the data item {!r}, which the wrapped '
                    'iterator {} does not provide (it provides {})'.format(
                        name, argument, item, type(iter).__name__,
                        ', '.join(repr(n) for n in shapes) or 'nothing'))
        for item, setting in settings.items():
            shapes[item] = self._check_shape(item, tuple(shapes[item]),
                                             setting)
        self.rnd = global_rnd.create_random_state() if self.random else None
        super().__init__(shapes, iter.length)

    # -- validation helpers --------------------------------------------------
    def _error(self, message, *args):
        return ValueError('{}: '.format(type(self).__name__) +
                          message.format(*args))

    def _check_rank(self, item, shape, rank, layout):
        if len(shape) != rank:
            raise self._error(
                'data item {!r} has shape {} (rank {}), but {} needs {}D '
                'data shaped {}', item, shape, len(shape),
                type(self).__name__, rank, layout)

    def _check_shape(self, item, shape, setting):
        return shape

    # -- iteration -----------------------------------------------------------
    def _augment(self, item, array, setting):
        raise NotImplementedError

    def __call__(self, handler=None):
        """Return a generator of the wrapped iterator's batches, with the
        items named in this iterator's settings augmented.

        Parameters
        ----------
        handler : Handler, optional
            Passed on to the wrapped iterator.
        """
        for batch in self.iter(handler):
            missing = [n for n in self.settings if n not in batch]
            if missing:
                raise self._error(
                    'the wrapped iterator {} yielded a batch without the '
                    'data item {} (the batch holds {})',
                    type(self.iter).__name__,
                    ', '.join(repr(n) for n in missing),
                    ', '.join(repr(n) for n in batch) or 'nothing')
            augmented = dict(batch)
            for item, setting in self.settings.items():
                array = np.asarray(batch[item])
                self._check_shape(item, array.shape, setting)
                augmented[item] = self._augment(item, array, setting)
            yield augmented

    # -- checkpoints ---------------------------------------------------------
    def get_checkpoint_state(self):
        """The state of this iterator's generator (if it draws random
        numbers) and that of the wrapped iterator, as a JSON-serialisable
        dict (the Trainer writes it into checkpoints)."""
        get_inner = getattr(self.iter, 'get_checkpoint_state', None)
        return {'rnd': None if self.rnd is None
                else get_random_state(self.rnd),
                'iter': None if get_inner is None else get_inner()}

    def set_checkpoint_state(self, state):
        """Restore what :meth:`get_checkpoint_state` returned."""
        if self.rnd is not None and state.get('rnd') is not None:
            set_random_state(self.rnd, state['rnd'])
        set_inner = getattr(self.iter, 'set_checkpoint_state', None)
        if set_inner is not None and state.get('iter') is not None:
            set_inner(state['iter'])


def _check_dict(iterator_name, argument, value):
    if not isinstance(value, dict):
        raise TypeError('{}: {} must be a dict mapping data item names to '
                        'settings, got {!r}'.format(iterator_name, argument,
                                                    value))
    return dict(value)


def _check_values(iterator_name, argument, values, check, expected):
    for item, value in values.items():
        if not check(value):
            raise ValueError('{}: {}[{!r}] must be {}, got {!r}'.format(
                iterator_name, argument, item, expected, value))


def _check_names_subset(iterator_name, argument, values, main, main_values,
                        what):
    """Every item named in ``values`` must also be in ``main_values``."""
    for item in values:
        if item not in main_values:
            raise ValueError(
                '{}: {} names the data item {!r}, which is not in {} (which '
                'names {}); give every item {}'.format(
                    iterator_name, argument, item, main,
                    ', '.join(repr(n) for n in main_values) or 'nothing',
                    what))


def _is_probability(value):
    return _is_real(value) and 0 <= value <= 1


def _float_dtype(dtype):
    """Floating dtypes stay; others become float64 (as in numpy's
    ``int_array + 0.5``)."""
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


class AddGaussianNoise(_Augmenter):
    """Wraps an iterator of named numpy data items (Online, Minibatches,
    Undivided or another augmenter) and adds normally distributed noise to
    the items named in ``std_dict``, each with its own standard deviation
    and mean. Noise is drawn independently for every entry of every
    batch. Floating point data keeps its dtype; other data (integers)
    becomes float64.

    Parameters
    ----------
    iter : DataIterator
        The iterator whose data is changed.
    std_dict : dict[str, float]
        Standard deviation (>= 0) of the noise added to each named item.
        Items not named here are yielded unchanged.
    mean_dict : dict[str, float], optional
        Mean of the noise of each named item (default 0 for every item).
        Its names must also be in ``std_dict``.
    """

    random = True

    def __init__(self, iter, std_dict, mean_dict=None):
        name = type(self).__name__
        std_dict = _check_dict(name, 'std_dict', std_dict)
        _check_values(name, 'std_dict', std_dict,
                      lambda v: _is_real(v) and np.isfinite(v) and v >= 0,
                      'a finite number >= 0')
        mean_dict = _check_dict(name, 'mean_dict',
                                {} if mean_dict is None else mean_dict)
        _check_values(name, 'mean_dict', mean_dict,
                      lambda v: _is_real(v) and np.isfinite(v),
                      'a finite number')
        _check_names_subset(name, 'mean_dict', mean_dict, 'std_dict',
                            std_dict, 'a std')
        self.std_dict = std_dict
        self.mean_dict = {item: mean_dict.get(item, 0.0)
                          for item in std_dict}
        settings = {item: (std_dict[item], self.mean_dict[item])
                    for item in std_dict}
        super().__init__(iter, settings, 'std_dict')

    def _augment(self, item, array, setting):
        std, mean = setting
        dtype = _float_dtype(array.dtype)
        draw_dtype = np.float64 if dtype == np.float64 else np.float32
        noise = self.rnd.generator.standard_normal(array.shape,
                                                   dtype=draw_dtype)
        noise *= std
        noise += mean
        return (array + noise).astype(dtype, copy=False)


class AddSaltNPepper(_Augmenter):
    """Wraps an iterator of named numpy data items and replaces random
    entries of the items named in ``prob_dict`` by salt (1) or pepper (0),
    with an amount and a salt share per item. Each entry is, independently, set to 1
    (salt) with probability ``prob * ratio``, to 0 (pepper) with probability
    ``prob * (1 - ratio)``, and kept otherwise; so the values suit data
    scaled to [0, 1]. The dtype is kept.

    Parameters
    ----------
    iter : DataIterator
        The iterator whose data is changed.
    prob_dict : dict[str, float]
        Probability in [0, 1] that an entry of the named item is replaced by
        salt or pepper. Items not named here are yielded unchanged.
    ratio_dict : dict[str, float], optional
        Fraction in [0, 1] of the replaced entries that become salt (the
        rest become pepper); default 0.5 for every item. Its names must also
        be in ``prob_dict``.
    """

    random = True

    def __init__(self, iter, prob_dict, ratio_dict=None):
        name = type(self).__name__
        prob_dict = _check_dict(name, 'prob_dict', prob_dict)
        _check_values(name, 'prob_dict', prob_dict, _is_probability,
                      'a probability in [0, 1]')
        ratio_dict = _check_dict(name, 'ratio_dict',
                                 {} if ratio_dict is None else ratio_dict)
        _check_values(name, 'ratio_dict', ratio_dict, _is_probability,
                      'a fraction in [0, 1]')
        _check_names_subset(name, 'ratio_dict', ratio_dict, 'prob_dict',
                            prob_dict, 'a probability')
        self.prob_dict = prob_dict
        self.ratio_dict = {item: ratio_dict.get(item, 0.5)
                           for item in prob_dict}
        settings = {item: (prob_dict[item], self.ratio_dict[item])
                    for item in prob_dict}
        super().__init__(iter, settings, 'prob_dict')

    def _augment(self, item, array, setting):
        prob, ratio = setting
        draws = self.rnd.generator.random(array.shape)
        salt_limit = prob * ratio
        result = array.copy()
        result[draws < prob] = 0
        result[draws < salt_limit] = 1
        return result


class Flip(_Augmenter):
    """Wraps an iterator of named image sequences, numpy arrays shaped
    (T, B, H, W, C), and mirrors randomly chosen sequences left to right.

    Without ``prob_dict`` the item 'default' is flipped with probability
    0.5. The width axis (W, axis 3 of (T, B, H, W, C)) is reversed, which
    flips images horizontally; the decision is drawn for each sequence of a
    batch and holds for all its time steps.

    Parameters
    ----------
    iter : DataIterator
        The iterator whose images are flipped.
    prob_dict : dict[str, float], optional
        Probability in [0, 1] that an image of the named item is flipped.
        Default ``{'default': 0.5}``.
    """

    random = True

    def __init__(self, iter, prob_dict=None):
        name = type(self).__name__
        prob_dict = _check_dict(name, 'prob_dict', {'default': 0.5}
                                if prob_dict is None else prob_dict)
        _check_values(name, 'prob_dict', prob_dict, _is_probability,
                      'a probability in [0, 1]')
        self.prob_dict = prob_dict
        super().__init__(iter, prob_dict, 'prob_dict')

    def _check_shape(self, item, shape, setting):
        self._check_rank(item, shape, 5, _IMAGE_AXES)
        return shape

    def _augment(self, item, array, prob):
        flip = self.rnd.generator.random(array.shape[1]) < prob
        result = array.copy()
        result[:, flip] = array[:, flip, :, ::-1]
        return result


class Pad(_Augmenter):
    """Wraps an iterator of named image sequences, numpy arrays shaped
    (T, B, H, W, C), and surrounds every image of the named items with a
    border of the same width on each side, filled with zeros or a value
    given per item.
    Images of shape (H, W) become (H + 2 * size, W + 2 * size); the dtype
    is kept.

    Parameters
    ----------
    iter : DataIterator
        The iterator whose images are padded.
    size_dict : dict[str, int]
        Number of pixels (>= 0) added on each of the four sides of the
        images of the named item.
    value_dict : dict[str, float], optional
        Value of the added pixels of each named item (default 0). Its names
        must also be in ``size_dict``. For integer data it must be an
        integer the dtype can hold.
    """

    def __init__(self, iter, size_dict, value_dict=None):
        name = type(self).__name__
        size_dict = _check_dict(name, 'size_dict', size_dict)
        _check_values(name, 'size_dict', size_dict,
                      lambda v: _is_int(v) and v >= 0, 'an integer >= 0')
        value_dict = _check_dict(name, 'value_dict',
                                 {} if value_dict is None else value_dict)
        _check_values(name, 'value_dict', value_dict, _is_real, 'a number')
        for item in value_dict:
            if item not in size_dict:
                raise ValueError(
                    '{}: value_dict names the data item {!r}, which is not '
                    'in size_dict (which names {}); give every item a '
                    'size'.format(name, item, ', '.join(
                        repr(n) for n in size_dict) or 'nothing'))
        self.size_dict = {item: int(size) for item, size in size_dict.items()}
        self.value_dict = {item: value_dict.get(item, 0)
                           for item in size_dict}
        settings = {item: (self.size_dict[item], self.value_dict[item])
                    for item in size_dict}
        super().__init__(iter, settings, 'size_dict')

    def _check_shape(self, item, shape, setting):
        self._check_rank(item, shape, 5, _IMAGE_AXES)
        size = setting[0]
        T, B, H, W, C = shape
        return T, B, H + 2 * size, W + 2 * size, C

    def _augment(self, item, array, setting):
        size, value = setting
        if np.issubdtype(array.dtype, np.integer) or array.dtype == bool:
            info = np.iinfo(array.dtype) if array.dtype != bool else None
            low, high = (0, 1) if info is None else (info.min, info.max)
            if not (np.isfinite(value) and value == int(value) and
                    low <= value <= high):
                raise self._error(
                    'value_dict[{!r}] = {!r} cannot be stored in the data '
                    'item {!r} of dtype {} (integers in [{}, {}])', item,
                    value, item, array.dtype, low, high)
        T, B, H, W, C = array.shape
        result = np.full((T, B, H + 2 * size, W + 2 * size, C), value,
                         dtype=array.dtype)
        result[:, :, size:size + H, size:size + W] = array
        return result


class RandomCrop(_Augmenter):
    """Wraps an iterator of named image sequences, numpy arrays shaped
    (T, B, H, W, C), and cuts a window of a fixed (height, width) out of
    the images of each named item. Each sequence of a batch gets its own window, drawn
    uniformly among all positions where it fits inside the image and used
    for all its time steps; (T, B, H, W, C) becomes (T, B, h, w, C).

    Parameters
    ----------
    iter : DataIterator
        The iterator whose images are cropped.
    shape_dict : dict[str, tuple[int, int] or int]
        Shape (h, w) of the crop of each named item; an int n means
        (n, n). It must not exceed the images' (H, W).
    """

    random = True

    def __init__(self, iter, shape_dict):
        name = type(self).__name__
        shape_dict = _check_dict(name, 'shape_dict', shape_dict)
        shapes = {}
        for item, shape in shape_dict.items():
            if _is_int(shape):
                shape = (shape, shape)
            if not (isinstance(shape, (tuple, list)) and len(shape) == 2 and
                    all(_is_int(s) and s > 0 for s in shape)):
                raise ValueError(
                    '{}: shape_dict[{!r}] must be a crop shape (h, w) of two '
                    'positive integers (or one int for a square), got '
                    '{!r}'.format(name, item, shape_dict[item]))
            shapes[item] = (int(shape[0]), int(shape[1]))
        self.shape_dict = shapes
        super().__init__(iter, shapes, 'shape_dict')

    def _check_shape(self, item, shape, crop):
        self._check_rank(item, shape, 5, _IMAGE_AXES)
        T, B, H, W, C = shape
        if crop[0] > H or crop[1] > W:
            raise self._error(
                'shape_dict[{!r}] = {} is bigger than the images of the data '
                'item {!r}: (H, W) = {} (the item is shaped {})', item, crop,
                item, (H, W), shape)
        return T, B, crop[0], crop[1], C

    def _augment(self, item, array, crop):
        T, B, H, W, C = array.shape
        h, w = crop
        generator = self.rnd.generator
        top = generator.integers(0, H - h + 1, size=B)
        left = generator.integers(0, W - w + 1, size=B)
        rows = top[:, None] + np.arange(h)     # (B, h)
        cols = left[:, None] + np.arange(w)    # (B, w)
        return array[:, np.arange(B)[:, None, None], rows[:, :, None],
                     cols[:, None, :]]


class _Hot(_Augmenter):
    """Shared by OneHot and MultiHot: index data to float32 vectors."""

    def __init__(self, iter, vocab_size_dict):
        name = type(self).__name__
        vocab_size_dict = _check_dict(name, 'vocab_size_dict',
                                      vocab_size_dict)
        _check_values(name, 'vocab_size_dict', vocab_size_dict,
                      lambda v: _is_int(v) and v > 0, 'a positive integer')
        self.vocab_size_dict = {item: int(size)
                                for item, size in vocab_size_dict.items()}
        super().__init__(iter, self.vocab_size_dict, 'vocab_size_dict')

    def _indices(self, item, array, vocab_size):
        """``array`` as int64 indices, checked to be integers in
        [0, vocab_size)."""
        if array.dtype == bool or not (
                np.issubdtype(array.dtype, np.integer) or
                np.issubdtype(array.dtype, np.floating)):
            raise self._error('data item {!r} must hold integer indices, '
                              'got dtype {}', item, array.dtype)
        with np.errstate(invalid='ignore'):
            bad = ~((array >= 0) & (array < vocab_size))
            if np.issubdtype(array.dtype, np.floating):
                bad |= array != np.floor(array)
        if bad.any():
            position = tuple(int(i) for i in np.argwhere(bad)[0])
            raise self._error(
                'data item {!r} holds {!r} at index {}, but indices must be '
                'integers in [0, {}) (vocab_size_dict[{!r}] = {})', item,
                array[position].item(), position, vocab_size, item,
                vocab_size)
        return array.astype(np.int64)

    def _augment(self, item, array, vocab_size):
        indices = self._indices(item, array, vocab_size)
        T, B, K = indices.shape
        result = np.zeros((T * B, vocab_size), dtype=np.float32)
        rows = np.repeat(np.arange(T * B), K)
        result[rows, indices.ravel()] = 1
        return result.reshape(T, B, vocab_size)


class OneHot(_Hot):
    """Wraps an iterator and turns the index items named in
    ``vocab_size_dict`` into one-hot vectors of that many entries; other
    items pass unchanged.

    Index items are 3-D with a last dimension of 1. An item of shape (T, B, 1) holding
    integer indices (integer dtype, or floats with integral values) becomes
    a float32 array of shape (T, B, vocab_size) with a 1 at each index and
    0 elsewhere. An index outside [0, vocab_size) raises a ValueError.

    Parameters
    ----------
    iter : DataIterator
        The iterator whose data is converted.
    vocab_size_dict : dict[str, int]
        Vocabulary size of each named item.
    """

    def _check_shape(self, item, shape, vocab_size):
        self._check_rank(item, shape, 3, '(T, B, 1)')
        if shape[2] != 1:
            raise self._error(
                'data item {!r} has shape {}, but OneHot needs one index per '
                'step, shaped (T, B, 1) (use MultiHot for several)', item,
                shape)
        return shape[0], shape[1], vocab_size


class MultiHot(_Hot):
    """Wraps an iterator and turns the index items named in
    ``vocab_size_dict`` into multi-hot vectors of that many entries; other
    items pass unchanged.

    Index items are 3-D. An item of shape
    (T, B, K) holding K integer indices per step becomes a float32 array of
    shape (T, B, vocab_size) with a 1 at each of the K indices and 0
    elsewhere; an index repeated within a step counts once (so shorter
    index sets can be padded by repeating one of their indices). An index
    outside [0, vocab_size) raises a ValueError.

    Parameters
    ----------
    iter : DataIterator
        The iterator whose data is converted.
    vocab_size_dict : dict[str, int]
        Vocabulary size of each named item.
    """

    def _check_shape(self, item, shape, vocab_size):
        self._check_rank(item, shape, 3, '(T, B, K)')
        return shape[0], shape[1], vocab_size
