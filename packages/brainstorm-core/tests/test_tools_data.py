"""bs.tools.shuffle_data and bs.tools.split (manual history, 0.5), with
brainstorm-core alone."""
import numpy as np
import pytest

import brainstorm as bs


def test_shuffle_data_keeps_items_together_and_is_seeded():
    x = np.arange(2 * 7 * 3).reshape(2, 7, 3)
    y = np.arange(7).reshape(1, 7, 1)
    shuffled = bs.tools.shuffle_data({'default': x, 'targets': y}, seed=3)
    order = shuffled['targets'][0, :, 0]
    assert sorted(order) == list(range(7)) and list(order) != list(range(7))
    np.testing.assert_array_equal(shuffled['default'], x[:, order])
    again = bs.tools.shuffle_data({'default': x, 'targets': y}, seed=3)
    np.testing.assert_array_equal(again['targets'], shuffled['targets'])
    bs.global_rnd.set_seed(1)
    first = bs.tools.shuffle_data(y)
    bs.global_rnd.set_seed(1)
    np.testing.assert_array_equal(bs.tools.shuffle_data(y), first)
    assert x[0, 0, 0] == 0                    # the input is not modified
    with pytest.raises(ValueError, match=r"same batch size.*'t': \(1, 6, 1\)"):
        bs.tools.shuffle_data({'x': x, 't': y[:, :6]})


def test_split_by_counts_and_by_fractions():
    x = np.arange(10).reshape(1, 10, 1)
    a, b = bs.tools.split(x, [6, 3])
    np.testing.assert_array_equal(a[0, :, 0], range(6))
    np.testing.assert_array_equal(b[0, :, 0], range(6, 9))
    parts = bs.tools.split({'default': x, 'targets': x * 2}, [0.5, 0.3, 0.2])
    assert [p['default'].shape[1] for p in parts] == [5, 3, 2]
    np.testing.assert_array_equal(parts[2]['targets'][0, :, 0], [16, 18])
    with pytest.raises(ValueError, match=r'ask for 11 sequences.*B = 10'):
        bs.tools.split(x, [6, 5])
    with pytest.raises(ValueError, match='sum to 1.2'):
        bs.tools.split(x, [0.7, 0.5])
    with pytest.raises(ValueError, match=r'\(T, B, \.\.\.\), got shape '
                                         r'\(10,\)'):
        bs.tools.split(np.arange(10), [5])


def test_shuffle_then_split_into_training_and_validation():
    x = np.arange(20, dtype=float).reshape(1, 20, 1)
    data = bs.tools.shuffle_data({'default': x, 'targets': -x}, seed=0)
    train, valid = bs.tools.split(data, [0.8, 0.2])
    assert train['default'].shape == (1, 16, 1)
    assert valid['default'].shape == (1, 4, 1)
    np.testing.assert_array_equal(train['targets'], -train['default'])
    assert sorted(np.concatenate([train['default'], valid['default']],
                                 axis=1).ravel()) == list(range(20))


def test_in_the_tools_namespace():
    assert 'shuffle_data' in bs.tools.__all__
    assert 'split' in bs.tools.__all__
