"""brainstorm: fast, flexible and fun neural networks.

``import brainstorm as bs`` gives the manual's API: ``bs.Network``,
``bs.Trainer``, ``bs.layers``, ``bs.hooks``, ``bs.initializers``,
``bs.scorers``, ``bs.value_modifiers``, ``bs.training``, ``bs.tools``,
``bs.data_iterators``, ``bs.handlers``, ``bs.global_rnd``,
``bs.distributed`` (data-parallel jobs), and shortcuts such
as ``bs.Minibatches`` or ``bs.Gaussian`` for classes that plugins provide.
"""
import importlib.metadata as _metadata
import importlib.util as _util


def _refuse_the_2015_distribution():
    """Raise ImportError when the distribution named ``brainstorm`` is
    installed: an unrelated project of 2015 (version 0.5.x on the package
    index) that installs the same import name, so that its files and
    brainstorm-core's overwrite each other. One look-up of installed
    metadata (about a millisecond)."""
    try:
        other = _metadata.distribution('brainstorm')
    except _metadata.PackageNotFoundError:
        return
    raise ImportError(
        "cannot import brainstorm: the distribution 'brainstorm' {} (in {}) "
        'is installed in this environment. It is an unrelated project of '
        '2015 that installs the same import name as brainstorm-core, whose '
        'files it overwrites or shadows. Remove it with `pip uninstall '
        'brainstorm`, then reinstall brainstorm-core (`pip install '
        '--force-reinstall packages/brainstorm-core` from the root of this '
        'repository, or `pip install --force-reinstall brainstorm-core`), '
        'since uninstalling may remove files the two share.'.format(
            other.version, other.locate_file('')), name='brainstorm')


_refuse_the_2015_distribution()

from brainstorm import (data_iterators, describable, distributed, handlers,
                        hooks, initializers, layers, scorers, tools,
                        training, value_modifiers)
from brainstorm.describable import (Describable, create_from_description,
                                    get_description)
from brainstorm.fileio import FileFormatError, SaveError
from brainstorm.initializers import InitializationError
from brainstorm.plugins import MissingPluginError, registry
from brainstorm.randomness import global_rnd
from brainstorm.structure import Network
from brainstorm.training import Trainer

try:
    __version__ = _metadata.version('brainstorm-core')
except _metadata.PackageNotFoundError:  # pragma: no cover - source tree
    __version__ = '0+unknown'

__all__ = ['Network', 'Trainer', 'layers', 'hooks', 'initializers',
           'scorers', 'value_modifiers', 'training', 'tools',
           'data_iterators', 'handlers', 'describable', 'distributed',
           'global_rnd',
           'Describable', 'get_description', 'create_from_description',
           'InitializationError', 'registry', 'SaveError',
           'FileFormatError']

# Top-level shortcuts the manual's examples use (bs.Minibatches, bs.Online,
# bs.Gaussian, bs.ClipValues ...), looked up in these categories in order.
_SHORTCUT_CATEGORIES = ('data_iterators', 'initializers', 'value_modifiers',
                        'handlers', 'steppers', 'hooks', 'scorers')


def __getattr__(name):
    if name.startswith('_'):
        raise AttributeError(name)
    if _util.find_spec('brainstorm.' + name) is not None:
        # a submodule not imported yet (``from brainstorm import cli``):
        # Python imports it after an AttributeError
        raise AttributeError(name)
    for category in _SHORTCUT_CATEGORIES:
        if registry.contains(category, name):
            return registry.get(category, name)
    for category in _SHORTCUT_CATEGORIES:
        try:
            registry.get(category, name, namespace='brainstorm')
        except MissingPluginError as err:
            if 'pip install' in str(err):
                raise
    raise MissingPluginError(
        'module brainstorm has no attribute {!r} and no installed plugin '
        'provides a class of that name'.format(name), name=name)


def __dir__():
    names = set(globals())
    for category in _SHORTCUT_CATEGORIES:
        names.update(registry.names(category))
    return sorted(names)
