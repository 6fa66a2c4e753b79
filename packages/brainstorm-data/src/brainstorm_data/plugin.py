"""Entry point of the brainstorm-data plugin."""
from brainstorm.plugins import hookimpl


@hookimpl
def brainstorm_data_iterators():
    """The data iterators of brainstorm-data: the basic ones and the
    augmenting ones that wrap them."""
    from brainstorm_data.augmenters import (AddGaussianNoise, AddSaltNPepper,
                                            Flip, MultiHot, OneHot, Pad,
                                            RandomCrop)
    from brainstorm_data.iterators import Minibatches, Online, Undivided
    return [Online, Minibatches, Undivided, AddGaussianNoise, AddSaltNPepper,
            Flip, Pad, RandomCrop, OneHot, MultiHot]


@hookimpl
def brainstorm_datasets():
    """The embedded datasets' loaders and the dataset preparation of
    brainstorm-data (what the ``brainstorm`` command uses)."""
    from brainstorm_data.datasets import load_digits, load_mnist_subset
    from brainstorm_data.prepare import (prepare_cifar10, prepare_cifar100,
                                         prepare_hutter, prepare_mnist)
    return [load_digits, load_mnist_subset, prepare_mnist, prepare_cifar10,
            prepare_cifar100, prepare_hutter]
