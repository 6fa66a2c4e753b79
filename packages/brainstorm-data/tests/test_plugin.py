"""The iterators resolve by name through brainstorm's plugin registry."""
import brainstorm as bs
import brainstorm_data
from brainstorm.plugins import registry
from brainstorm_data import augmenters, iterators

AUGMENTERS = ('AddGaussianNoise', 'AddSaltNPepper', 'Flip', 'Pad',
              'RandomCrop', 'OneHot', 'MultiHot')


def test_import_from_data_iterators():
    from brainstorm.data_iterators import Minibatches, Online, Undivided
    assert Minibatches is iterators.Minibatches
    assert Online is iterators.Online
    assert Undivided is iterators.Undivided


def test_top_level_shortcuts():
    assert bs.Minibatches is iterators.Minibatches
    assert bs.Online is iterators.Online
    assert bs.Undivided is iterators.Undivided
    assert bs.data_iterators.Minibatches is iterators.Minibatches


def test_augmenters_resolve_by_name():
    from brainstorm.data_iterators import Flip, OneHot
    assert Flip is augmenters.Flip
    assert OneHot is augmenters.OneHot
    for name in AUGMENTERS:
        assert getattr(bs.data_iterators, name) is getattr(augmenters, name)
        assert getattr(bs, name) is getattr(augmenters, name)


def test_provided_by_brainstorm_data():
    for name in ('Online', 'Minibatches', 'Undivided') + AUGMENTERS:
        assert registry.provider('data_iterators', name) == 'brainstorm-data'
        assert name in dir(bs.data_iterators)


def test_package_reexports():
    assert brainstorm_data.Minibatches is iterators.Minibatches
    for name in ('load_digits', 'load_mnist_subset', 'save_as_hdf5'):
        assert callable(getattr(brainstorm_data, name))
