"""The iterators refuse bad data when they are created (arrays in memory)
or when the batch holding it is read (h5py datasets): NaN and inf, empty
data, data not shaped (T, B, ...). Messages name the item, the index of the
offending entry in the whole item, and the item's shape. (Items of fewer
than two dimensions and items disagreeing on T or B: test_iterators.py.)"""
import re

import h5py
import numpy as np
import pytest

from brainstorm_data.augmenters import Flip
from brainstorm_data.iterators import Minibatches, Online, Undivided

NAN_MESSAGE = ("data item 'default' holds NaN at index (0, 17, 3) (of shape "
               "(1, 1000, 64)); data must be finite: remove or repair that "
               "sequence (B index 17)")


def with_value(value, index=(0, 17, 3), shape=(1, 1000, 64),
               dtype=np.float32):
    x = np.zeros(shape, dtype=dtype)
    x[index] = value
    return x


def make(cls, **data):
    if cls is Minibatches:
        return cls(10, **data)
    return cls(**data)


@pytest.mark.parametrize('cls', [Minibatches, Online, Undivided])
def test_nan_in_memory_is_refused_at_construction(cls):
    targets = np.zeros((1, 1000, 1))
    with pytest.raises(ValueError) as err:
        make(cls, default=with_value(np.nan), targets=targets)
    assert str(err.value) == NAN_MESSAGE


@pytest.mark.parametrize('value, shown', [(np.inf, 'inf'),
                                          (-np.inf, '-inf')])
def test_inf_is_refused_with_its_sign(value, shown):
    x = with_value(value, index=(4, 2, 0), shape=(5, 3, 2), dtype=np.float64)
    with pytest.raises(ValueError, match=re.escape(
            "data item 'x' holds {} at index (4, 2, 0) (of shape "
            "(5, 3, 2))".format(shown))):
        Minibatches(2, x=x)


def test_first_offending_entry_is_named():
    x = np.zeros((2, 6, 3))
    x[1, 2, 0] = np.nan
    x[0, 4, 1] = np.inf      # earlier in C order
    with pytest.raises(ValueError, match=re.escape(
            'holds inf at index (0, 4, 1)')):
        Online(default=x)


def test_lists_and_augmented_iterators_are_checked():
    with pytest.raises(ValueError, match=re.escape(
            "data item 'default' holds NaN at index (0, 1, 0)")):
        Minibatches(1, default=[[[0.0], [float('nan')]]])
    images = np.zeros((1, 4, 2, 2, 1))
    images[0, 3, 1, 1, 0] = np.nan
    with pytest.raises(ValueError, match=re.escape(
            'holds NaN at index (0, 3, 1, 1, 0)')):
        Flip(Minibatches(2, default=images))


def test_finite_and_integer_data_pass():
    # large finite values whose sum overflows are fine, so are integers
    x = np.full((1, 10, 4), np.finfo(np.float32).max, dtype=np.float32)
    labels = np.arange(10).reshape(1, 10, 1)
    batches = list(Minibatches(5, shuffle=False, default=x,
                               targets=labels)())
    assert len(batches) == 2


@pytest.fixture
def h5_with_nan(tmp_path):
    with h5py.File(tmp_path / 'bad.hdf5', 'w') as f:
        f['default'] = with_value(np.nan)
        f['targets'] = np.zeros((1, 1000, 1))
    f = h5py.File(tmp_path / 'bad.hdf5', 'r')
    yield f
    f.close()


def test_lazy_data_is_checked_when_its_batch_is_read(h5_with_nan):
    f = h5_with_nan
    it = Minibatches(10, shuffle=False, default=f['default'],
                     targets=f['targets'])     # not read at construction
    batches = it()
    assert next(batches)['default'].shape == (1, 10, 64)   # 0..9 are fine
    with pytest.raises(ValueError) as err:
        next(batches)                                      # 10..19
    # the index and shape are those of the whole item, not of the batch
    assert str(err.value) == NAN_MESSAGE
    with pytest.raises(ValueError) as err:
        list(Online(shuffle=False, **f)())
    assert str(err.value) == NAN_MESSAGE
    with pytest.raises(ValueError) as err:
        list(Undivided(**f)())
    assert str(err.value) == NAN_MESSAGE


@pytest.mark.parametrize('shape, what', [((1, 0, 64), 'sequences (B = 0)'),
                                         ((0, 5, 64), 'time steps (T = 0)')])
@pytest.mark.parametrize('cls', [Minibatches, Online, Undivided])
def test_empty_data_is_refused(cls, shape, what):
    with pytest.raises(ValueError) as err:
        make(cls, default=np.zeros(shape))
    assert str(err.value) == (
        "data item 'default' has shape {}: it holds no {} (T and B must be "
        "at least 1; is the data set or split empty?)".format(shape, what))

