"""brainstorm-data: data iterators and ready-made datasets for brainstorm.

The iterators (``Online``, ``Minibatches``, ``Undivided``) register as a
plugin and are used as ``brainstorm.data_iterators.Minibatches`` or
``bs.Minibatches``; the datasets are loaded from here::

    from brainstorm_data import load_digits
    data = load_digits()   # embedded UCI digits, always available
"""
from brainstorm_data.datasets import (load_digits, load_mnist_subset,
                                      mnist_subset_path, save_as_hdf5)
from brainstorm_data.iterators import Minibatches, Online, Undivided

__all__ = ['Online', 'Minibatches', 'Undivided', 'load_digits',
           'load_mnist_subset', 'mnist_subset_path', 'save_as_hdf5']
