"""Value modifiers: ConstrainL2Norm, ClipValues, FreezeValues, L1Decay,
L2Decay, MaskValues."""
import numpy as np
import pytest

import brainstorm as bs
from brainstorm.describable import (create_from_description,
                                    get_description)
from brainstorm.handlers import DebugHandler, NumpyHandler
from brainstorm.value_modifiers import ValueModifier
from brainstorm_layers.value_modifiers import (ClipValues, ConstrainL2Norm,
                                               FreezeValues, L1Decay, L2Decay,
                                               MaskValues)

ALL = (ClipValues, ConstrainL2Norm, FreezeValues, L1Decay, L2Decay,
       MaskValues)


@pytest.fixture
def handler():
    return DebugHandler(NumpyHandler(np.float64))


def test_registered():
    for cls in ALL:
        assert issubclass(cls, ValueModifier)
        assert getattr(bs.value_modifiers, cls.__name__) is cls
    assert bs.ClipValues is ClipValues


def test_dense_weights_columns(handler):
    rnd = np.random.RandomState(0)
    W = rnd.randn(6, 5)
    W[:, 1] *= 0.01                      # a short column stays as it is
    before = W.copy()
    view = handler.create_from_numpy(W)
    ConstrainL2Norm(1.5)(handler, view)
    after = handler.get_numpy_copy(view)
    norms = np.linalg.norm(before, axis=0)
    for j in range(5):
        if norms[j] > 1.5:
            assert np.isclose(np.linalg.norm(after[:, j]), 1.5)
            assert np.allclose(after[:, j], before[:, j] * 1.5 / norms[j])
        else:
            assert np.array_equal(after[:, j], before[:, j])
    assert norms[1] < 1.5


def test_conv_weights_per_filter(handler):
    rnd = np.random.RandomState(1)
    W = rnd.randn(4, 3, 2, 2)
    W[2] *= 0.01
    view = handler.create_from_numpy(W)
    ConstrainL2Norm(1.0)(handler, view)
    after = handler.get_numpy_copy(view)
    norms = np.linalg.norm(after.reshape(4, -1), axis=1)
    assert np.allclose(norms[[0, 1, 3]], 1.0)
    assert np.allclose(after[2], W[2])


def test_biases_are_ignored(handler):
    b = handler.create_from_numpy(np.full(5, 10.0))
    ConstrainL2Norm(1.0)(handler, b)
    assert np.array_equal(handler.get_numpy_copy(b), np.full(5, 10.0))


def test_limit_must_be_positive():
    with pytest.raises(ValueError, match='ConstrainL2Norm: limit'):
        ConstrainL2Norm(0)


def test_description_round_trip(handler):
    mod = ConstrainL2Norm(2.0)
    mod(handler, handler.create_from_numpy(np.ones((3, 2))))  # fills a cache
    description = get_description(mod)
    assert description == {'@type': 'ConstrainL2Norm', 'limit': 2.0}
    copy = create_from_description(description)
    assert copy.limit == 2.0


def test_as_weight_modifier_in_training():
    inp, out = bs.tools.get_in_out_layers('classification', 5, 3,
                                          projection_name='FC')
    net = bs.Network.from_layer(inp >> bs.layers.FullyConnected(4) >> out)
    net.initialize(bs.initializers.Gaussian(1.0), seed=1)
    net.set_weight_modifiers({'FC': ConstrainL2Norm(0.5)})
    rnd = np.random.RandomState(2)
    net.provide_external_data({'default': rnd.randn(1, 8, 5),
                               'targets': rnd.randint(0, 3, (1, 8, 1))})
    stepper = bs.training.SgdStepper(0.1)
    stepper.start(net)
    stepper.run()
    norms = np.linalg.norm(net.get('FC.parameters.W'), axis=0)
    assert np.all(norms <= 0.5 + 1e-6)


def apply(handler, modifier, values, *extra):
    view = handler.create_from_numpy(np.array(values, dtype=np.float64))
    modifier(handler, view, *[handler.create_from_numpy(np.asarray(e))
                              for e in extra])
    return handler.get_numpy_copy(view)


VALUES = np.array([[-2.0, -0.5, 0.0], [0.25, 1.5, 3.0]])


def test_clip_values(handler):
    assert np.array_equal(apply(handler, ClipValues(), VALUES),
                          np.clip(VALUES, -1, 1))
    assert np.array_equal(apply(handler, ClipValues(-0.4, 0.3), VALUES),
                          np.clip(VALUES, -0.4, 0.3))


def test_mask_values(handler):
    mask = np.array([[1, 0, 1], [0, 1, 0.5]])
    assert np.array_equal(apply(handler, MaskValues(mask), VALUES),
                          VALUES * mask)
    rows = MaskValues([[0], [1]])                 # broadcasts over columns
    assert np.array_equal(apply(handler, rows, VALUES), VALUES * [[0], [1]])


def test_mask_values_shape_error(handler):
    mod = MaskValues(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r'MaskValues: a mask of shape '
                                         r'\(3, 2\) does not fit values of '
                                         r'shape \(2, 3\)'):
        apply(handler, mod, VALUES)


def test_l1_and_l2_decay_add_to_gradients(handler):
    grads = np.array([[0.1, 0.2, 0.3], [-0.1, 0.0, 1.0]])
    assert np.allclose(apply(handler, L1Decay(0.01), grads, VALUES),
                       grads + 0.01 * np.sign(VALUES))
    assert np.allclose(apply(handler, L2Decay(0.5), grads, VALUES),
                       grads + 0.5 * VALUES)


@pytest.mark.parametrize('cls', [L1Decay, L2Decay])
def test_decays_need_the_parameters(handler, cls):
    with pytest.raises(ValueError, match=cls.__name__ + ' changes gradients.*'
                       'set_gradient_modifiers'):
        apply(handler, cls(0.1), VALUES)


def test_freeze_values_keeps_the_first_values(handler):
    view = handler.create_from_numpy(VALUES.copy())
    mod = FreezeValues()
    mod(handler, view)
    handler.fill(view, 7.0)
    mod(handler, view)
    assert np.array_equal(handler.get_numpy_copy(view), VALUES)
    # after a change of handler the kept values carry over
    other = NumpyHandler(np.float32)
    view32 = other.create_from_numpy(np.zeros((2, 3), np.float32))
    mod(other, view32)
    assert np.array_equal(other.get_numpy_copy(view32), VALUES)


def test_freeze_values_to_given_weights(handler):
    weights = np.arange(6.0).reshape(2, 3)
    assert np.array_equal(apply(handler, FreezeValues(weights), VALUES),
                          weights)
    with pytest.raises(ValueError, match=r'FreezeValues: weights of shape '
                                         r'\(2, 3\) do not fit values of '
                                         r'shape \(3, 2\)'):
        apply(handler, FreezeValues(weights), VALUES.T)


def test_list_order_matters(handler):
    """Clipping a masked weight and masking a clipped one differ where the
    mask is larger than the clipping bound."""
    inp = bs.layers.Input({'default': ('T', 'B', 2)})
    net = bs.Network.from_layer(inp >> bs.layers.FullyConnected(3, name='H'))
    net.set_handler(handler)
    mask = np.array([[2.0, 0.0, 1.0], [0.5, 3.0, 1.0]])
    results = []
    for mods in ([ClipValues(-1, 1), MaskValues(mask)],
                 [MaskValues(mask), ClipValues(-1, 1)]):
        net.initialize(H={'W': VALUES, 'bias': 0})
        net.set_weight_modifiers(H={'W': mods})
        net.apply_weight_modifiers()
        results.append(net.get('H.parameters.W'))
    assert np.allclose(results[0], np.clip(VALUES, -1, 1) * mask)
    assert np.allclose(results[1], np.clip(VALUES * mask, -1, 1))
    assert not np.allclose(results[0], results[1])


def classification_net(seed=1):
    inp, out = bs.tools.get_in_out_layers('classification', 5, 3,
                                          projection_name='FC')
    net = bs.Network.from_layer(inp >> bs.layers.FullyConnected(
        4, name='Hid') >> out)
    net.set_handler(DebugHandler(NumpyHandler(np.float64)))
    net.initialize(bs.initializers.Gaussian(1.0), seed=seed)
    rnd = np.random.RandomState(2)
    net.provide_external_data({'default': rnd.randn(1, 8, 5),
                               'targets': rnd.randint(0, 3, (1, 8, 1))})
    return net


def sgd_step(net, lr=0.1):
    stepper = bs.training.SgdStepper(lr)
    stepper.start(net)
    stepper.run()


@pytest.mark.parametrize('decay, term', [
    (L1Decay(0.05), lambda W: 0.05 * np.sign(W)),
    (L2Decay(0.05), lambda W: 0.05 * W)])
def test_decay_in_a_training_step(decay, term):
    plain, decayed = classification_net(), classification_net()
    decayed.set_gradient_modifiers(Hid={'W': decay})
    before = decayed.get('Hid.parameters.W')
    sgd_step(plain)
    sgd_step(decayed)
    assert np.allclose(decayed.get('Hid.gradients.W'),
                       plain.get('Hid.gradients.W') + term(before))
    assert np.allclose(decayed.get('Hid.parameters.W'),
                       plain.get('Hid.parameters.W') - 0.1 * term(before))
    # parameters without the modifier train as without it
    assert np.array_equal(decayed.get('FC.parameters.W'),
                          plain.get('FC.parameters.W'))


def test_weight_modifiers_in_a_training_step():
    net = classification_net()
    frozen = net.get('FC.parameters.W')
    mask = (np.arange(20).reshape(5, 4) % 3 != 0).astype(float)
    net.set_weight_modifiers(Hid={'W': [ClipValues(-0.5, 0.5),
                                        MaskValues(mask)]},
                             FC={'W': FreezeValues()})
    net.apply_weight_modifiers()      # FreezeValues keeps the initial W
    sgd_step(net)
    W = net.get('Hid.parameters.W')
    assert np.all(np.abs(W) <= 0.5) and np.all(W[mask == 0] == 0)
    assert np.any(np.abs(W) == 0.5)
    assert np.array_equal(net.get('FC.parameters.W'), frozen)
    assert not np.array_equal(net.get('FC.parameters.bias'),
                              classification_net().get('FC.parameters.bias'))


def test_gradient_clipping_in_a_training_step():
    plain, clipped = classification_net(), classification_net()
    clipped.set_gradient_modifiers(default=ClipValues(-0.01, 0.01))
    sgd_step(plain)
    sgd_step(clipped)
    assert np.allclose(clipped.get('gradients'),
                       np.clip(plain.get('gradients'), -0.01, 0.01))


def test_freeze_values_first_call_is_after_the_first_update():
    net = classification_net()
    initial = net.get('FC.parameters.W')
    net.set_weight_modifiers(FC={'W': FreezeValues()})
    stepper = bs.training.SgdStepper(0.1)
    stepper.start(net)
    stepper.run()
    after_first = net.get('FC.parameters.W')
    assert not np.array_equal(after_first, initial)
    stepper.run()
    stepper.run()
    assert np.array_equal(net.get('FC.parameters.W'), after_first)


@pytest.mark.parametrize('cls', [L1Decay, L2Decay])
def test_decay_as_weight_modifier_is_an_error(cls):
    net = classification_net()
    net.set_weight_modifiers(Hid={'W': cls(0.1)})
    with pytest.raises(ValueError, match="{} on 'Hid.W' changes "
                                         "gradients".format(cls.__name__)):
        sgd_step(net)


@pytest.mark.parametrize('make, match', [
    (lambda: ClipValues(1.0, -1.0), r'ClipValues: high'),
    (lambda: ClipValues('a'), r'ClipValues: low'),
    (lambda: FreezeValues('abc'), r'FreezeValues: weights'),
    (lambda: L1Decay(-0.1), r'L1Decay: factor'),
    (lambda: L2Decay(float('nan')), r'L2Decay: factor'),
    (lambda: MaskValues([[1, 2], [3]]), r'MaskValues: mask')])
def test_argument_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize('modifier, expected', [
    (ClipValues(), {'@type': 'ClipValues', 'low': -1.0, 'high': 1.0}),
    (ClipValues(-0.5, 2), {'@type': 'ClipValues', 'low': -0.5, 'high': 2}),
    (FreezeValues(), {'@type': 'FreezeValues'}),
    (FreezeValues([[1, 2]]), {'@type': 'FreezeValues',
                              'weights': [[1.0, 2.0]]}),
    (L1Decay(0.01), {'@type': 'L1Decay', 'factor': 0.01}),
    (L2Decay(0.5), {'@type': 'L2Decay', 'factor': 0.5}),
    (MaskValues([[1, 0]]), {'@type': 'MaskValues', 'mask': [[1.0, 0.0]]})])
def test_new_description_round_trip(handler, modifier, expected):
    values = np.array([[3.0, -4.0]])
    extra = (values,) if isinstance(modifier, (L1Decay, L2Decay)) else ()
    result = apply(handler, modifier, values, *extra)   # fills caches
    assert get_description(modifier) == expected
    copy = create_from_description(expected)
    assert type(copy) is type(modifier)
    assert get_description(copy) == expected
    assert np.array_equal(apply(handler, copy, values, *extra), result)
