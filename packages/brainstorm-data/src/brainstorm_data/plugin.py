"""Entry point of the brainstorm-data plugin."""
from brainstorm.plugins import hookimpl


@hookimpl
def brainstorm_data_iterators():
    """The data iterators of brainstorm-data."""
    from brainstorm_data.iterators import Minibatches, Online, Undivided
    return [Online, Minibatches, Undivided]


@hookimpl
def brainstorm_datasets():
    """The embedded datasets' loaders and the dataset preparation of
    brainstorm-data (what the ``brainstorm`` command uses)."""
    from brainstorm_data.datasets import load_digits, load_mnist_subset
    from brainstorm_data.prepare import (prepare_cifar10, prepare_cifar100,
                                         prepare_hutter, prepare_mnist)
    return [load_digits, load_mnist_subset, prepare_mnist, prepare_cifar10,
            prepare_cifar100, prepare_hutter]
