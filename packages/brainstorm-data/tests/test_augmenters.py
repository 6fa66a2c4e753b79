"""The augmenting iterators: AddGaussianNoise, AddSaltNPepper, Flip, Pad,
RandomCrop, OneHot and MultiHot. Values, shapes, composition, seeding,
checkpoint states, errors, and training through them."""
import json

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.data_iterators import DataIterator
from brainstorm.hooks import Hook
from brainstorm_data.augmenters import (AddGaussianNoise, AddSaltNPepper,
                                        Flip, MultiHot, OneHot, Pad,
                                        RandomCrop)
from brainstorm_data.iterators import Minibatches, Undivided


def images(T=1, B=4, H=5, W=6, C=2, dtype=np.float32):
    """Images whose every entry is distinct (entry = its flat index)."""
    return np.arange(T * B * H * W * C, dtype=dtype).reshape(T, B, H, W, C)


def one_batch(iterator):
    (batch,) = list(iterator())
    return batch


class Recording(DataIterator):
    """Yields given batches and records the handler it was called with."""

    def __init__(self, batches, data_shapes):
        super().__init__(data_shapes, len(batches))
        self.batches, self.handlers = batches, []

    def __call__(self, handler=None):
        self.handlers.append(handler)
        yield from self.batches


# -- AddGaussianNoise ---------------------------------------------------------
def test_gaussian_noise_has_the_given_mean_and_std_per_item():
    bs.global_rnd.set_seed(1)
    a = np.zeros((2, 100, 500), dtype=np.float32)
    b = np.full((1, 100, 500), 10.0)
    t = np.arange(100).reshape(1, 100, 1)
    it = AddGaussianNoise(Undivided(a=a, b=b, t=t), {'a': 0.5, 'b': 2.0},
                          mean_dict={'a': 3.0})
    batch = one_batch(it)
    noise_a, noise_b = batch['a'] - a, batch['b'] - b
    assert abs(noise_a.mean() - 3.0) < 0.01
    assert abs(noise_a.std() - 0.5) < 0.01
    assert abs(noise_b.mean()) < 0.03           # default mean 0
    assert abs(noise_b.std() - 2.0) < 0.02
    np.testing.assert_array_equal(batch['t'], t)  # not named: unchanged
    assert batch['a'].dtype == np.float32 and batch['b'].dtype == np.float64
    assert it.data_shapes == {'a': (2, 100, 500), 'b': (1, 100, 500),
                              't': (1, 100, 1)}
    assert it.std_dict == {'a': 0.5, 'b': 2.0}
    assert it.mean_dict == {'a': 3.0, 'b': 0.0}


def test_gaussian_noise_is_drawn_anew_for_every_batch_and_pass():
    x = np.zeros((1, 6, 3))
    it = AddGaussianNoise(Minibatches(3, shuffle=False, default=x),
                          {'default': 1.0})
    first = [b['default'] for b in it()]
    second = [b['default'] for b in it()]
    assert it.length == 2
    assert not np.array_equal(first[0], first[1])
    assert not np.array_equal(first[0], second[0])


def test_gaussian_noise_on_integer_data_gives_float64():
    x = np.ones((1, 3, 2), dtype=np.int32)
    batch = one_batch(AddGaussianNoise(Undivided(default=x),
                                       {'default': 0.0}, {'default': 0.5}))
    assert batch['default'].dtype == np.float64
    np.testing.assert_allclose(batch['default'], 1.5)


# -- AddSaltNPepper -----------------------------------------------------------
def test_salt_and_pepper_fractions():
    bs.global_rnd.set_seed(2)
    x = np.full((1, 200, 1000), 0.5, dtype=np.float32)
    batch = one_batch(AddSaltNPepper(Undivided(default=x),
                                     {'default': 0.3}, {'default': 0.25}))
    out = batch['default']
    assert out.dtype == np.float32
    salt, pepper, kept = (out == 1).mean(), (out == 0).mean(), \
        (out == 0.5).mean()
    assert salt + pepper + kept == 1      # nothing else appears
    assert abs(salt - 0.3 * 0.25) < 0.003
    assert abs(pepper - 0.3 * 0.75) < 0.003
    assert abs(kept - 0.7) < 0.003


def test_salt_and_pepper_default_ratio_and_extremes():
    bs.global_rnd.set_seed(3)
    x = np.full((1, 100, 1000), 0.5)
    half = one_batch(AddSaltNPepper(Undivided(default=x),
                                    {'default': 0.2}))['default']
    assert abs((half == 1).mean() - 0.1) < 0.003
    assert abs((half == 0).mean() - 0.1) < 0.003
    none = one_batch(AddSaltNPepper(Undivided(default=x),
                                    {'default': 0.0}))['default']
    np.testing.assert_array_equal(none, x)
    salt = one_batch(AddSaltNPepper(Undivided(default=x), {'default': 1.0},
                                    {'default': 1.0}))['default']
    np.testing.assert_array_equal(salt, np.ones_like(x))
    pepper = one_batch(AddSaltNPepper(Undivided(default=x), {'default': 1.0},
                                      {'default': 0.0}))['default']
    np.testing.assert_array_equal(pepper, np.zeros_like(x))


# -- Flip ---------------------------------------------------------------------
def test_flip_reverses_the_width_axis_of_the_chosen_sequences():
    bs.global_rnd.set_seed(4)
    x = images(T=3, B=200, H=3, W=4, C=2)
    y = np.arange(200).reshape(1, 200, 1)
    it = Flip(Undivided(default=x, targets=y))
    assert it.prob_dict == {'default': 0.5}      # the manual's default
    out = one_batch(it)['default']
    flipped = []
    for b in range(200):
        if np.array_equal(out[:, b], x[:, b]):
            flipped.append(False)
        else:
            # the W axis (3 of (T, B, H, W, C)), at every time step alike
            np.testing.assert_array_equal(out[:, b], x[:, b, :, ::-1])
            flipped.append(True)
    assert 0.4 < np.mean(flipped) < 0.6


def test_flip_probability_per_item_and_extremes():
    bs.global_rnd.set_seed(5)
    x = images(B=1000, H=2, W=2, C=1)
    z = images(B=1000, H=2, W=2, C=1) * 2
    out = one_batch(Flip(Undivided(default=x, other=z),
                         {'default': 0.2, 'other': 1.0}))
    flipped = ~np.all(out['default'] == x, axis=(0, 2, 3, 4))
    assert abs(flipped.mean() - 0.2) < 0.04
    np.testing.assert_array_equal(out['other'], z[:, :, :, ::-1])
    kept = one_batch(Flip(Undivided(default=x), {'default': 0}))['default']
    np.testing.assert_array_equal(kept, x)


# -- Pad ----------------------------------------------------------------------
def test_pad_puts_the_value_on_all_four_sides():
    x = images(T=2, B=3, H=2, W=3, C=2) + 1
    it = Pad(Undivided(default=x), {'default': 2}, {'default': -1})
    assert it.data_shapes == {'default': (2, 3, 6, 7, 2)}
    out = one_batch(it)['default']
    assert out.shape == (2, 3, 6, 7, 2) and out.dtype == x.dtype
    np.testing.assert_array_equal(out[:, :, 2:4, 2:5], x)
    border = np.ones(out.shape, dtype=bool)
    border[:, :, 2:4, 2:5] = False
    assert np.all(out[border] == -1)
    assert border.sum() == 2 * 3 * 2 * (6 * 7 - 2 * 3)


def test_pad_defaults_to_zeros_and_keeps_integer_dtype():
    x = np.full((1, 2, 1, 1, 1), 7, dtype=np.uint8)
    out = one_batch(Pad(Undivided(default=x), {'default': 1}))['default']
    expected = np.zeros((1, 2, 3, 3, 1), dtype=np.uint8)
    expected[:, :, 1, 1] = 7
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.uint8
    same = one_batch(Pad(Undivided(default=x), {'default': 0}))['default']
    np.testing.assert_array_equal(same, x)


@pytest.mark.parametrize('value', [300, -1, 0.5])
def test_pad_value_that_the_dtype_cannot_hold_raises(value):
    x = np.zeros((1, 1, 2, 2, 1), dtype=np.uint8)
    it = Pad(Undivided(default=x), {'default': 1}, {'default': value})
    with pytest.raises(ValueError, match=r"Pad: value_dict\['default'\] = "
                       r"{!r} .* uint8 \(integers in \[0, 255\]\)".format(
                           value)):
        one_batch(it)


# -- RandomCrop ---------------------------------------------------------------
def test_random_crop_takes_windows_from_within_each_sample():
    bs.global_rnd.set_seed(6)
    T, B, H, W, C = 2, 300, 4, 5, 3
    x = images(T, B, H, W, C)
    it = RandomCrop(Minibatches(100, shuffle=False, default=x),
                    {'default': (3, 3)})
    assert it.data_shapes == {'default': (T, B, 3, 3, C)}
    assert it.length == 3
    out = np.concatenate([b['default'] for b in it()], axis=1)
    assert out.shape == (T, B, 3, 3, C)
    offsets = []
    for b in range(B):
        # entry = flat index, so the top-left pixel gives the offsets
        first = int(out[0, b, 0, 0, 0]) - b * H * W * C
        top, left = divmod(first // C, W)
        np.testing.assert_array_equal(
            out[:, b], x[:, b, top:top + 3, left:left + 3])
        offsets.append((top, left))
    # every position where the window fits occurs, and no other
    assert set(offsets) == {(i, j) for i in range(2) for j in range(3)}


def test_random_crop_of_the_full_size_is_the_identity_and_int_is_square():
    x = images(B=3, H=4, W=4)
    out = one_batch(RandomCrop(Undivided(default=x), {'default': (4, 4)}))
    np.testing.assert_array_equal(out['default'], x)
    square = RandomCrop(Undivided(default=x), {'default': 2})
    assert square.shape_dict == {'default': (2, 2)}
    assert one_batch(square)['default'].shape == (1, 3, 2, 2, 2)


# -- OneHot / MultiHot --------------------------------------------------------
def test_one_hot_against_numpy():
    rnd = np.random.RandomState(0)
    idx = rnd.randint(0, 5, (3, 4, 1))
    x = rnd.randn(3, 4, 2)
    it = OneHot(Undivided(default=idx, other=x), {'default': 5})
    assert it.data_shapes == {'default': (3, 4, 5), 'other': (3, 4, 2)}
    batch = one_batch(it)
    np.testing.assert_array_equal(batch['default'], np.eye(5)[idx[..., 0]])
    assert batch['default'].dtype == np.float32
    np.testing.assert_array_equal(batch['other'], x)


def test_one_hot_accepts_integral_floats():
    idx = np.array([[[0.0], [2.0]]], dtype=np.float32)
    out = one_batch(OneHot(Undivided(t=idx), {'t': 3}))['t']
    np.testing.assert_array_equal(out, [[[1, 0, 0], [0, 0, 1]]])


def test_multi_hot_against_numpy():
    idx = np.array([[[0, 3, 3], [1, 2, 4]],
                    [[4, 4, 4], [0, 1, 0]]], dtype=np.uint8)
    it = MultiHot(Undivided(default=idx), {'default': 6})
    assert it.data_shapes == {'default': (2, 2, 6)}
    expected = np.zeros((2, 2, 6))
    for t in range(2):
        for b in range(2):
            expected[t, b, idx[t, b]] = 1
    out = one_batch(it)['default']
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.float32


@pytest.mark.parametrize('cls, bad', [(OneHot, 5), (OneHot, -1),
                                      (OneHot, 1.5), (MultiHot, 7)])
def test_hot_index_out_of_range_raises_naming_value_and_vocab(cls, bad):
    idx = np.zeros((2, 3, 1))
    idx[1, 2, 0] = bad
    it = cls(Undivided(tokens=idx), {'tokens': 5})
    with pytest.raises(ValueError, match=r"{}: data item 'tokens' holds {!r} "
                       r"at index \(1, 2, 0\), but indices must be integers "
                       r"in \[0, 5\) \(vocab_size_dict\['tokens'\] = 5\)"
                       .format(cls.__name__, float(bad))):
        one_batch(it)


# -- composition, seeding, checkpoints ----------------------------------------
def test_composition_reports_shapes_and_applies_every_step():
    bs.global_rnd.set_seed(7)
    x = images(B=50, H=4, W=4, C=1)
    y = np.random.RandomState(0).randint(0, 3, (1, 50, 1))
    inner = Minibatches(10, shuffle=True, default=x, targets=y)
    it = OneHot(Flip(RandomCrop(Pad(inner, {'default': 1}),
                                {'default': (4, 5)}), {'default': 1.0}),
                {'targets': 3})
    assert it.length == 5
    assert it.data_shapes == {'default': (1, 50, 4, 5, 1),
                              'targets': (1, 50, 3)}
    seen = 0
    for batch in it():
        ids = np.argmax(batch['targets'], axis=2)
        assert batch['default'].shape == (1, 10, 4, 5, 1)
        for b in range(10):
            # undo the flip; the window must lie inside the padded image
            window = batch['default'][0, b, :, ::-1, 0]
            n = int(window.max()) // 16    # which image it came from
            padded = np.pad(x[0, n, :, :, 0], 1)
            assert y[0, n, 0] == ids[0, b]   # targets stay with their image
            assert any(np.array_equal(window, padded[i:i + 4, j:j + 5])
                       for i in range(3) for j in range(2))
            seen += 1
    assert seen == 50


def make_chain(seed):
    bs.global_rnd.set_seed(seed)
    x = images(B=20, H=5, W=5, C=1)
    inner = Minibatches(5, shuffle=True, default=x)
    return AddSaltNPepper(AddGaussianNoise(Flip(RandomCrop(
        inner, {'default': 3})), {'default': 0.1}), {'default': 0.1})


def test_same_seed_same_augmentation():
    first = [b['default'] for b in make_chain(8)()]
    again = [b['default'] for b in make_chain(8)()]
    other = [b['default'] for b in make_chain(9)()]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_checkpoint_state_restores_augmentation_and_inner_order():
    it = make_chain(10)
    state = json.loads(json.dumps(it.get_checkpoint_state()))
    first = [b['default'] for b in it()]
    second = [b['default'] for b in it()]
    assert not all(np.array_equal(a, b) for a, b in zip(first, second))
    it.set_checkpoint_state(state)
    for a, b in zip(first, it()):
        np.testing.assert_array_equal(a, b['default'])
    # the innermost state is Minibatches' own
    inner_state = state
    while 'iter' in inner_state:
        inner_state = inner_state['iter']
    assert set(inner_state) == {'rnd'}


def test_handler_is_passed_to_the_wrapped_iterator():
    x = np.zeros((1, 2, 1))
    inner = Recording([{'default': x}], {'default': (1, 2, 1)})
    handler = bs.handlers.NumpyHandler(np.float32)
    list(OneHot(inner, {'default': 2})(handler))
    assert inner.handlers == [handler]


@pytest.mark.parametrize('make', [
    lambda d: AddGaussianNoise(d, {'default': 1.0}),
    lambda d: AddSaltNPepper(d, {'default': 0.5}),
    lambda d: Flip(d, {'default': 1.0}),
    lambda d: Pad(d, {'default': 1}),
    lambda d: RandomCrop(d, {'default': (2, 2)}),
])
def test_the_users_data_is_never_written_into(make):
    x = images(B=6, H=3, W=3, C=1) / 100
    original = x.copy()
    batch = one_batch(make(Undivided(default=x)))
    np.testing.assert_array_equal(x, original)
    assert not np.shares_memory(batch['default'], x)


def test_hot_vectors_do_not_share_the_users_data():
    idx = np.zeros((1, 2, 1), dtype=np.int64)
    out = one_batch(OneHot(Undivided(default=idx), {'default': 1}))
    assert not np.shares_memory(out['default'], idx)
    np.testing.assert_array_equal(idx, 0)


# -- errors -------------------------------------------------------------------
def test_unknown_item_names_iterator_item_and_provided_items():
    it = Undivided(default=images(), targets=np.zeros((1, 4, 1)))
    with pytest.raises(ValueError, match=r"Flip: prob_dict names the data "
                       r"item 'image', which the wrapped iterator Undivided "
                       r"does not provide \(it provides 'default', "
                       r"'targets'\)"):
        Flip(it, {'image': 0.5})
    with pytest.raises(ValueError, match="OneHot: vocab_size_dict names .*"
                       "'labels'"):
        OneHot(it, {'labels': 3})
    with pytest.raises(ValueError, match="AddGaussianNoise: mean_dict names "
                       "the data item 'targets', which is not in std_dict"):
        AddGaussianNoise(it, {'default': 1.0}, {'targets': 1.0})
    with pytest.raises(ValueError, match="Flip: prob_dict names the data item "
                       "'default'"):
        Flip(Undivided(image=images()))     # the default prob_dict


@pytest.mark.parametrize('make', [
    lambda d: Flip(d), lambda d: Pad(d, {'default': 1}),
    lambda d: RandomCrop(d, {'default': 1})])
def test_image_augmenters_need_5d_data(make):
    it = Undivided(default=np.zeros((1, 4, 8)))
    with pytest.raises(ValueError, match=r": data item 'default' has shape "
                       r"\(1, 4, 8\) \(rank 3\), but \w+ needs 5D data "
                       r"shaped \(T, B, H, W, C\)"):
        make(it)


def test_hot_rank_and_width_errors():
    with pytest.raises(ValueError, match=r"OneHot: data item 'default' has "
                       r"shape \(1, 4, 2\), but OneHot needs one index per "
                       r"step, shaped \(T, B, 1\)"):
        OneHot(Undivided(default=np.zeros((1, 4, 2))), {'default': 3})
    with pytest.raises(ValueError, match=r"MultiHot: data item 'default' has "
                       r"shape \(1, 4, 2, 1\) \(rank 4\), but MultiHot needs "
                       r"3D data shaped \(T, B, K\)"):
        MultiHot(Undivided(default=np.zeros((1, 4, 2, 1))), {'default': 3})


def test_crop_bigger_than_the_images_raises():
    with pytest.raises(ValueError, match=r"RandomCrop: shape_dict"
                       r"\['default'\] = \(3, 7\) is bigger than the images "
                       r"of the data item 'default': \(H, W\) = \(5, 6\) "
                       r"\(the item is shaped \(1, 4, 5, 6, 2\)\)"):
        RandomCrop(Undivided(default=images()), {'default': (3, 7)})


@pytest.mark.parametrize('make, message', [
    (lambda d: Flip(d, {'default': 1.5}),
     r"Flip: prob_dict\['default'\] must be a probability in \[0, 1\], "
     r"got 1.5"),
    (lambda d: Flip(d, {'default': -0.1}), r"Flip: prob_dict\['default'\]"),
    (lambda d: AddSaltNPepper(d, {'default': 2}),
     r"AddSaltNPepper: prob_dict\['default'\] must be a probability"),
    (lambda d: AddSaltNPepper(d, {'default': 0.5}, {'default': 1.1}),
     r"AddSaltNPepper: ratio_dict\['default'\] must be a fraction in "
     r"\[0, 1\], got 1.1"),
    (lambda d: AddSaltNPepper(d, {'default': float('nan')}),
     r"AddSaltNPepper: prob_dict\['default'\] must be a probability"),
    (lambda d: AddGaussianNoise(d, {'default': -1}),
     r"AddGaussianNoise: std_dict\['default'\] must be a finite number >= 0, "
     r"got -1"),
    (lambda d: Pad(d, {'default': -1}),
     r"Pad: size_dict\['default'\] must be an integer >= 0, got -1"),
    (lambda d: Pad(d, {'default': 1.5}), r"Pad: size_dict\['default'\]"),
    (lambda d: RandomCrop(d, {'default': (0, 2)}),
     r"RandomCrop: shape_dict\['default'\] must be a crop shape \(h, w\) of "
     r"two positive integers .*got \(0, 2\)"),
    (lambda d: OneHot(d, {'default': 0}),
     r"OneHot: vocab_size_dict\['default'\] must be a positive integer, "
     r"got 0"),
])
def test_bad_settings_raise_naming_iterator_argument_and_value(make,
                                                                message):
    with pytest.raises(ValueError, match=message):
        make(Undivided(default=images()))


def test_wrong_argument_types_raise_type_errors():
    with pytest.raises(TypeError, match=r"Flip: iter must be a data iterator "
                       r"\(such as Minibatches\)"):
        Flip(images())
    with pytest.raises(TypeError, match="AddGaussianNoise: std_dict must be a "
                       "dict mapping data item names to settings, got 0.1"):
        AddGaussianNoise(Undivided(default=images()), 0.1)


def test_hot_needs_index_dtypes():
    it = OneHot(Undivided(default=np.array([[['a']]])), {'default': 2})
    with pytest.raises(ValueError, match="OneHot: data item 'default' must "
                       "hold integer indices, got dtype <U1"):
        one_batch(it)


def test_batch_without_a_named_item_raises():
    inner = Recording([{'other': np.zeros((1, 1, 1))}],
                      {'default': (1, 1, 1)})
    with pytest.raises(ValueError, match="OneHot: the wrapped iterator "
                       "Recording yielded a batch without the data item "
                       "'default' \\(the batch holds 'other'\\)"):
        list(OneHot(inner, {'default': 2})())


def test_batch_with_another_shape_than_announced_raises():
    inner = Recording([{'default': np.zeros((1, 2, 3, 3, 1))}],
                      {'default': (1, 2, 5, 5, 1)})
    with pytest.raises(ValueError, match=r"RandomCrop: shape_dict\['default'\]"
                       r" = \(4, 4\) is bigger"):
        list(RandomCrop(inner, {'default': 4})())


# -- training -----------------------------------------------------------------
class StopAfter(Hook):
    can_stop_training = True

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def __call__(self, epoch_nr, update_nr, net, stepper, logs):
        if epoch_nr >= self.epochs:
            raise StopIteration('done')


def test_training_a_network_on_one_hot_inputs():
    pytest.importorskip('brainstorm_layers')
    bs.global_rnd.set_seed(12)
    rnd = np.random.RandomState(0)
    symbols = rnd.randint(0, 6, (3, 60, 1))
    targets = symbols % 3                  # learnable from the one-hot input
    it = OneHot(Minibatches(10, default=symbols, targets=targets),
                {'default': 6})
    inp, out = bs.tools.get_in_out_layers('classification', 6, 3)
    net = bs.Network.from_layer(inp >> out)
    net.initialize(bs.initializers.Gaussian(0.1))
    trainer = bs.Trainer(bs.training.SgdStepper(0.5), verbose=False)
    trainer.add_hook(StopAfter(15))
    trainer.train(net, it)
    losses = trainer.logs['rolling_training']['total_loss']
    assert trainer.current_update_nr == 15 * 6
    assert losses[-1] < 0.5 * losses[0]
    net.provide_external_data(one_batch(OneHot(
        Undivided(default=symbols, targets=targets), {'default': 6})))
    net.forward_pass()
    predictions = net.get('Output.outputs.predictions')
    assert predictions.shape == (3, 60, 3)
    assert (predictions.argmax(axis=2) == targets[..., 0]).mean() > 0.95
