"""Online, Minibatches and Undivided: shapes, lengths, shuffling, cutting,
validation and lazy reading of h5py datasets."""
import h5py
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.data_iterators import DataIterator
from brainstorm_data.iterators import Minibatches, Online, Undivided


def make_data(T=1, B=10, F=3, seed=0):
    rnd = np.random.RandomState(seed)
    x = rnd.randn(T, B, F)
    y = rnd.randint(0, 4, (T, B, 1))
    # encode the instance index so that batches can be traced back
    x[..., 0] = np.arange(B)
    return x, y


def instance_ids(batch):
    return batch['default'][0, :, 0].astype(int).tolist()


# -- Minibatches --------------------------------------------------------------
def test_minibatches_shapes_lengths_and_smaller_last_batch():
    x, y = make_data(T=2, B=10)
    it = Minibatches(4, shuffle=False, default=x, targets=y)
    assert isinstance(it, DataIterator)
    assert it.length == 3
    assert it.data_shapes == {'default': (2, 10, 3), 'targets': (2, 10, 1)}
    batches = list(it())
    assert [b['default'].shape for b in batches] == [(2, 4, 3), (2, 4, 3),
                                                     (2, 2, 3)]
    assert [b['targets'].shape for b in batches] == [(2, 4, 1), (2, 4, 1),
                                                     (2, 2, 1)]
    np.testing.assert_array_equal(
        np.concatenate([b['default'] for b in batches], axis=1), x)
    np.testing.assert_array_equal(
        np.concatenate([b['targets'] for b in batches], axis=1), y)


def test_minibatches_keep_dtype_and_accept_handler():
    x = np.zeros((1, 5, 2), dtype=np.float16)
    y = np.zeros((1, 5, 1), dtype=np.int32)
    batch = next(iter(Minibatches(5, default=x, targets=y)(
        handler=bs.handlers.NumpyHandler(np.float32))))
    assert batch['default'].dtype == np.float16
    assert batch['targets'].dtype == np.int32
    assert isinstance(batch['default'], np.ndarray)


def test_batch_size_larger_than_data_gives_one_batch():
    x, y = make_data(B=3)
    it = Minibatches(100, default=x, targets=y)
    assert it.length == 1
    (batch,) = list(it())
    assert batch['default'].shape == (1, 3, 3)


@pytest.mark.parametrize('batch_size', [0, -1, 2.5, None, True])
def test_bad_batch_size_raises(batch_size):
    x, _ = make_data()
    with pytest.raises(ValueError, match='batch_size'):
        Minibatches(batch_size, default=x)


def test_shuffle_only_permutes_the_order_of_minibatches():
    x, y = make_data(B=23)
    bs.global_rnd.set_seed(1)
    it = Minibatches(5, shuffle=True, default=x, targets=y)
    fixed = [instance_ids(b) for b in Minibatches(5, shuffle=False,
                                                  default=x, targets=y)()]
    orders = []
    for _ in range(5):
        batches = [instance_ids(b) for b in it()]
        assert sorted(batches) == sorted(fixed)   # same batches, same content
        orders.append([fixed.index(b) for b in batches])
    assert any(o != list(range(5)) for o in orders)   # and it does shuffle
    assert len({tuple(o) for o in orders}) > 1        # anew in every pass


def test_shuffle_is_reproducible_after_set_seed():
    x, y = make_data(B=40)

    def run(seed):
        bs.global_rnd.set_seed(seed)
        it = Minibatches(4, default=x, targets=y)
        return [instance_ids(b) for _ in range(3) for b in it()]

    assert run(42) == run(42)
    assert run(42) != run(43)


def test_no_shuffle_keeps_order():
    x, y = make_data(B=9)
    it = Minibatches(2, shuffle=False, default=x, targets=y)
    assert [instance_ids(b) for b in it()] == [[0, 1], [2, 3], [4, 5],
                                              [6, 7], [8]]


def test_cut_according_to_mask():
    T, B = 6, 4
    lengths = [2, 3, 6, 1]
    mask = np.zeros((T, B, 1))
    for b, n in enumerate(lengths):
        mask[:n, b] = 1
    x = np.arange(T * B * 2, dtype=float).reshape(T, B, 2)
    static = np.arange(B, dtype=float).reshape(1, B, 1)
    it = Minibatches(2, shuffle=False, default=x, mask=mask, static=static)
    assert it.data_shapes['static'] == (1, 4, 1)
    first, second = list(it())
    assert first['default'].shape == (3, 2, 2)
    assert first['mask'].shape == (3, 2, 1)
    np.testing.assert_array_equal(first['default'], x[:3, :2])
    np.testing.assert_array_equal(first['mask'], mask[:3, :2])
    assert second['default'].shape == (6, 2, 2)
    np.testing.assert_array_equal(second['static'], static[:, 2:])
    # cut_according_to=None never cuts; a missing mask item neither
    uncut = list(Minibatches(2, shuffle=False, cut_according_to=None,
                             default=x, mask=mask)())
    assert [b['default'].shape[0] for b in uncut] == [6, 6]
    other = list(Minibatches(2, shuffle=False, cut_according_to='seq_mask',
                             default=x, mask=mask)())
    assert [b['default'].shape[0] for b in other] == [6, 6]


def test_cut_according_to_other_name():
    mask = np.zeros((5, 2, 1))
    mask[:2] = 1
    x = np.ones((5, 2, 3))
    (batch,) = Minibatches(2, cut_according_to='lengths', default=x,
                           lengths=mask)()
    assert batch['default'].shape == (2, 2, 3)


def test_all_zero_mask_keeps_one_step():
    x = np.ones((5, 2, 3))
    (batch,) = Minibatches(2, default=x, mask=np.zeros((5, 2, 1)))()
    assert batch['default'].shape == (1, 2, 3)


# -- validation ---------------------------------------------------------------
@pytest.mark.parametrize('cls', [Minibatches, Online, Undivided])
def test_mismatched_batch_sizes_name_items_and_shapes(cls):
    with pytest.raises(ValueError) as err:
        cls(default=np.zeros((1, 10, 3)), targets=np.zeros((1, 9, 1)))
    message = str(err.value)
    for part in ("'default'", "'targets'", '(1, 10, 3)', '(1, 9, 1)'):
        assert part in message


def test_mismatched_sequence_lengths_name_items_and_shapes():
    with pytest.raises(ValueError) as err:
        Minibatches(5, default=np.zeros((7, 10, 3)),
                    targets=np.zeros((4, 10, 1)))
    message = str(err.value)
    for part in ("'default'", "'targets'", '(7, 10, 3)', '(4, 10, 1)'):
        assert part in message


def test_static_items_with_t_equal_1_are_allowed():
    it = Undivided(input_data=np.zeros((7, 10, 15)),
                   static_data=np.zeros((1, 10, 4)))
    (batch,) = it()
    assert batch['static_data'].shape == (1, 10, 4)


@pytest.mark.parametrize('cls', [Minibatches, Online, Undivided])
def test_no_data_raises(cls):
    with pytest.raises(ValueError, match='at least one named data item'):
        cls()


@pytest.mark.parametrize('shape', [(10,), (100, 64)])
def test_item_without_time_batch_and_feature_axes_raises(shape):
    """A (N, features) array, the usual layout elsewhere, would be read
    as N time steps of 64 sequences: it is refused, naming the item."""
    with pytest.raises(ValueError) as err:
        Minibatches(default=np.zeros(shape))
    assert str(err.value).startswith(
        "data item 'default' has shape {}, but data must be shaped (T, B, "
        "features...), with at least one feature axis".format(shape))


def test_lists_are_converted():
    it = Undivided(default=[[[1.0], [2.0]]])
    (batch,) = it()
    assert isinstance(batch['default'], np.ndarray)
    assert batch['default'].shape == (1, 2, 1)


# -- Online and Undivided -----------------------------------------------------
def test_online_yields_one_sequence_at_a_time():
    x, y = make_data(T=3, B=7)
    bs.global_rnd.set_seed(3)
    it = Online(default=x, targets=y)
    assert it.length == 7
    assert it.data_shapes == {'default': (3, 7, 3), 'targets': (3, 7, 1)}
    batches = list(it())
    assert all(b['default'].shape == (3, 1, 3) for b in batches)
    assert all(b['targets'].shape == (3, 1, 1) for b in batches)
    ids = [instance_ids(b)[0] for b in batches]
    assert sorted(ids) == list(range(7)) and ids != list(range(7))
    unshuffled = Online(shuffle=False, default=x, targets=y)
    assert [instance_ids(b)[0] for b in unshuffled()] == list(range(7))


def test_online_cuts_each_sequence_to_its_mask():
    mask = np.zeros((4, 2, 1))
    mask[:2, 0] = 1
    mask[:, 1] = 1
    x = np.ones((4, 2, 3))
    first, second = Online(shuffle=False, default=x, mask=mask)()
    assert first['default'].shape == (2, 1, 3)
    assert second['default'].shape == (4, 1, 3)


def test_undivided_yields_everything_once():
    x, y = make_data(T=2, B=10)
    it = Undivided(default=x, targets=y)
    assert it.length == 1
    assert it.data_shapes == {'default': (2, 10, 3), 'targets': (2, 10, 1)}
    batches = list(it())
    assert len(batches) == 1
    np.testing.assert_array_equal(batches[0]['default'], x)
    np.testing.assert_array_equal(batches[0]['targets'], y)
    assert len(list(it())) == 1   # every call is a new pass


# -- h5py datasets ------------------------------------------------------------
@pytest.fixture
def h5file(tmp_path):
    x, y = make_data(T=2, B=11)
    with h5py.File(tmp_path / 'demo.hdf5', 'w') as f:
        f['training/default'] = x
        f['training/targets'] = y.astype(np.int16)
    f = h5py.File(tmp_path / 'demo.hdf5', 'r')
    yield f, x, y
    f.close()


def test_h5py_datasets_as_input(h5file):
    f, x, y = h5file
    it = Minibatches(4, shuffle=False, **f['training'])   # manual 3.3 style
    assert it.data_shapes == {'default': (2, 11, 3), 'targets': (2, 11, 1)}
    batches = list(it())
    assert [b['default'].shape[1] for b in batches] == [4, 4, 3]
    assert all(isinstance(b['default'], np.ndarray) for b in batches)
    assert batches[0]['targets'].dtype == np.int16
    np.testing.assert_array_equal(
        np.concatenate([b['default'] for b in batches], axis=1), x)
    (online,) = [b for b in Online(**f['training'])()
                 if instance_ids(b) == [5]]
    np.testing.assert_array_equal(online['targets'], y[:, 5:6])
    (whole,) = Undivided(**f['training'])()
    assert isinstance(whole['default'], np.ndarray)
    np.testing.assert_array_equal(whole['default'], x)


def test_h5py_datasets_are_read_per_batch_only(h5file, monkeypatch):
    f, x, y = h5file
    reads = []
    original = h5py.Dataset.__getitem__

    def recording_getitem(self, key, *args, **kwargs):
        reads.append((self.name, key))
        return original(self, key, *args, **kwargs)

    monkeypatch.setattr(h5py.Dataset, '__getitem__', recording_getitem)
    mask = np.ones((2, 11, 1))
    it = Minibatches(4, shuffle=False, default=f['training/default'],
                     targets=f['training/targets'], mask=mask)
    assert reads == []   # nothing read at construction
    list(it())
    assert len(reads) == 2 * 3   # one slice per item and batch
    for _, key in reads:
        assert isinstance(key, tuple) and isinstance(key[1], slice)
        assert key[1].stop - key[1].start <= 4


def test_huge_lazy_h5py_dataset(tmp_path):
    # 800 GB of float64 that is never written: the file stays tiny, and
    # only an iterator that reads one batch at a time can work with it.
    B, F = 10 ** 6, 10 ** 5
    with h5py.File(tmp_path / 'huge.hdf5', 'w') as f:
        f.create_dataset('x', shape=(1, B, F), dtype=np.float64,
                         chunks=(1, 1, F))
    assert (tmp_path / 'huge.hdf5').stat().st_size < 10 ** 6
    with h5py.File(tmp_path / 'huge.hdf5', 'r') as f:
        it = Minibatches(10, shuffle=True, default=f['x'])
        assert it.length == B // 10
        assert it.data_shapes == {'default': (1, B, F)}
        batch = next(iter(it()))
        assert batch['default'].shape == (1, 10, F)
        assert not batch['default'].any()
        online = next(iter(Online(default=f['x'])()))
        assert online['default'].shape == (1, 1, F)
