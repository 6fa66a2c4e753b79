"""The plugin system: pluggy hook specifications and the class registry.

Every brainstorm distribution (brainstorm-core included) declares one entry
point in the group ``brainstorm``, named after the distribution and pointing
at a module with pluggy hook implementations::

    [project.entry-points.brainstorm]
    my-layers = "my_layers.plugin"

and in ``my_layers/plugin.py``::

    from brainstorm.plugins import hookimpl

    @hookimpl
    def brainstorm_layers():
        return [MyLayer]

Plugins are loaded lazily, the first time a registered name is looked up. A
plugin that fails to import is reported with a warning naming its
distribution and the others still load. Two plugins providing the same name
in one category (or two distributions using one entry-point name) are
reported the same way: a warning naming both, and every other name keeps
working, while the name they share is not used and looking it up raises a
:class:`PluginConflictError` naming both distributions. Set the environment
variable ``BRAINSTORM_PLUGINS_STRICT=1`` to make any of these an error when
the plugins load.
"""
import importlib
import importlib.metadata
import os
import threading
import warnings

import pluggy

__all__ = ['hookimpl', 'hookspec', 'registry', 'PluginError',
           'MissingPluginError', 'PluginConflictError', 'CATEGORIES',
           'ENTRY_POINT_GROUP']

ENTRY_POINT_GROUP = 'brainstorm'
STRICT_ENV_VAR = 'BRAINSTORM_PLUGINS_STRICT'

hookspec = pluggy.HookspecMarker('brainstorm')
hookimpl = pluggy.HookimplMarker('brainstorm')


class BrainstormSpec:
    """Hook specifications: each returns a list of the classes a plugin adds.

    Classes are registered under their ``__name__`` (layers under their
    layer type, see :class:`brainstorm.layers.Layer`).
    """

    @hookspec
    def brainstorm_layers(self):
        """Layer construction functions or ``Layer`` implementation classes."""

    @hookspec
    def brainstorm_handlers(self):
        """``Handler`` subclasses."""

    @hookspec
    def brainstorm_initializers(self):
        """``Initializer`` subclasses."""

    @hookspec
    def brainstorm_hooks(self):
        """Trainer ``Hook`` subclasses."""

    @hookspec
    def brainstorm_scorers(self):
        """``Scorer`` subclasses."""

    @hookspec
    def brainstorm_value_modifiers(self):
        """``ValueModifier`` subclasses."""

    @hookspec
    def brainstorm_data_iterators(self):
        """``DataIterator`` subclasses."""

    @hookspec
    def brainstorm_steppers(self):
        """Training ``Stepper`` subclasses."""

    @hookspec
    def brainstorm_communicators(self):
        """``brainstorm.distributed.Communicator`` subclasses: transports
        between the processes of a data-parallel training job."""

    @hookspec
    def brainstorm_describables(self):
        """Other ``Describable`` classes (for example schedules)."""

    @hookspec
    def brainstorm_datasets(self):
        """Dataset functions, registered under their ``__name__``:
        ``load_<name>()`` returning ``{split: {item: array}}``, and
        ``prepare_<name>(..., filename)`` converting downloaded files to
        the HDF5 layout of the examples."""

    @hookspec
    def brainstorm_spec_letters(self):
        """Short letters for network spec strings
        (:func:`brainstorm.tools.create_net_from_spec`): a dict
        ``{letter: target}``, the letter a capital A-Z, the target a layer
        name, a layer construction function or Layer class (the letter then
        takes no arguments of its own: ``S``, or keyword arguments in
        parentheses: ``S(beta=2)``), or a
        :class:`brainstorm.tools.spec.SpecLetter` that reads arguments of
        its own. brainstorm-core registers the built-in letters (F, R, L,
        B, D, C, P) through this hook too, so a plugin claiming one of
        them clashes with brainstorm-core like any two plugins providing
        one name. Not one of :data:`CATEGORIES`; the letters are listed by
        ``registry.names('spec_letters')``."""

    @hookspec
    def brainstorm_layer_examples(self):
        """Example configurations of the plugin's layers
        (:class:`brainstorm.testing.conformance.LayerExample`), which the
        handler conformance suite runs on every handler it checks. Not a
        category of the registry: read them with
        :func:`brainstorm.testing.conformance.layer_examples`."""


CATEGORIES = ('layers', 'handlers', 'initializers', 'hooks', 'scorers',
              'value_modifiers', 'data_iterators', 'steppers', 'describables',
              'datasets', 'communicators')
# Registered and checked for clashes like the categories, but holding no
# classes: {letter: brainstorm.tools.spec.SpecLetter}.
_SPEC_LETTERS = 'spec_letters'

# Which distribution provides the well-known names, so that a missing name
# can tell the user what to install.
_PROVIDED_BY = {
    'brainstorm-layers': {
        'layers': ['FullyConnected', 'Dropout', 'SoftmaxCE', 'SigmoidCE',
                   'SquaredError', 'SquaredLoss', 'SquaredDifference', 'Loss',
                   'BinomialCrossEntropy', 'Convolution2D', 'Pooling2D',
                   'BatchNorm', 'Highway', 'Elementwise', 'Mask', 'Merge',
                   'NoOp', 'DeltasScaling', 'L1Decay', 'L2Decay', 'Recurrent',
                   'Lstm', 'Clockwork', 'ClockworkLstm'],
        'initializers': ['ArrayInitializer', 'DenseSqrtFanIn',
                         'DenseSqrtFanInOut', 'EchoState', 'Gaussian',
                         'Identity', 'LstmOptInit', 'Orthogonal', 'RandomWalk',
                         'SparseInputs', 'SparseOutputs', 'Uniform'],
        'value_modifiers': ['ClipValues', 'ConstrainL2Norm', 'FreezeValues',
                            'L1Decay', 'L2Decay', 'MaskValues'],
    },
    'brainstorm-hooks': {
        'hooks': ['BokehVisualizer', 'EarlyStopper', 'InfoUpdater',
                  'ModifyStepperAttribute', 'MonitorLayerDeltas',
                  'MonitorLayerGradients', 'MonitorLayerInOuts',
                  'MonitorLayerParameters', 'MonitorLoss', 'MonitorScores',
                  'ProgressBar', 'SaveBestNetwork', 'SaveLogs', 'SaveNetwork',
                  'StopAfterEpoch', 'StopAfterThresholdReached', 'StopOnNan',
                  'StopOnSigQuit'],
        'scorers': ['Accuracy', 'Hamming', 'MeanSquaredError'],
    },
    'brainstorm-data': {
        'data_iterators': ['Online', 'Minibatches', 'Undivided',
                           'AddGaussianNoise', 'AddSaltNPepper', 'Flip', 'Pad',
                           'RandomCrop', 'OneHot', 'MultiHot'],
        'datasets': ['load_digits', 'load_mnist_subset', 'prepare_mnist',
                     'prepare_cifar10', 'prepare_cifar100', 'prepare_hutter'],
    },
    'brainstorm-cuda': {
        'handlers': ['PyCudaHandler'],
    },
    'brainstorm-numba': {
        'handlers': ['NumbaHandler'],
    },
    'brainstorm-mpi': {
        'communicators': ['MpiCommunicator'],
    },
}


class PluginError(RuntimeError):
    """A plugin could not be loaded, or two plugins clash."""


class MissingPluginError(ImportError):
    """A name that no installed plugin provides.

    An ImportError, so that ``from brainstorm.handlers import X`` keeps the
    message that says what to install (Python replaces an AttributeError
    raised there with a message of its own).
    """


class PluginConflictError(MissingPluginError, PluginError):
    """A name that two (or more) plugins provide, so that none is used.

    Both a :class:`MissingPluginError` (an ImportError, so that ``from
    brainstorm.layers import X`` keeps the message) and a
    :class:`PluginError`.
    """


def _strict():
    return os.environ.get(STRICT_ENV_VAR, '').lower() in (
        '1', 'true', 'yes', 'on')


def _kind(category):
    """'layer', 'value modifier', 'dataset' ... for messages."""
    return category.rstrip('s').replace('_', ' ')


def _spec_letter_items(letters, plugin_name):
    """[(letter, SpecLetter)] from the dict a ``brainstorm_spec_letters``
    hook returns."""
    from brainstorm.tools.spec import letter_target
    if not isinstance(letters, dict):
        raise PluginError(
            'plugin {!r}: brainstorm_spec_letters must return a dict '
            '{{letter: layer name}}, got {!r}'.format(plugin_name, letters))
    items = []
    for letter, target in letters.items():
        try:
            items.append((letter, letter_target(letter, target,
                                                plugin_name)))
        except ValueError as err:
            raise PluginError(str(err)) from None
    return items


def _suggested_distribution(category, name):
    for dist, provided in _PROVIDED_BY.items():
        if name in provided.get(category, ()):
            return dist
    return None


class Registry:
    """Classes contributed by plugins, keyed by category and name."""

    def __init__(self):
        self._lock = threading.RLock()
        self._loaded = False
        self._classes = {}      # category -> {name: object}
        self._providers = {}    # category -> {name: plugin name}
        self.failures = {}      # distribution name -> error message
        # (category, name) -> the distributions that all provide it
        self.conflicts = {}
        self._distributions = {}   # plugin (entry-point) name -> distribution
        self.plugin_manager = None
        self._extra_modules = []

    # -- loading -----------------------------------------------------------
    def _create_plugin_manager(self):
        pm = pluggy.PluginManager('brainstorm')
        pm.add_hookspecs(BrainstormSpec)
        strict = _strict()
        self.failures = {}
        self._distributions = {}
        seen = {}
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist is not None else ep.name
            if ep.name in seen:
                if seen[ep.name] == ep.value:
                    continue   # the same distribution seen twice on sys.path
                message = (
                    'two brainstorm plugins use the entry-point name {!r}: '
                    '{!r} ({}) and {!r} ({}); each distribution must name its '
                    'entry point after itself'.format(
                        ep.name, self._distributions[ep.name], seen[ep.name],
                        dist, ep.value))
                if strict:
                    raise PluginError(message)
                self.failures.setdefault(dist, message)
                warnings.warn('{}; the second is skipped; set {}=1 to make '
                              'this an error'.format(message, STRICT_ENV_VAR),
                              RuntimeWarning, stacklevel=4)
                continue
            seen[ep.name] = ep.value
            self._distributions[ep.name] = dist
            try:
                module = ep.load()
                pm.register(module, name=ep.name)
            except Exception as err:  # noqa: BLE001 - any plugin error
                message = '{}: {}'.format(type(err).__name__, err)
                if strict:
                    raise PluginError(
                        'brainstorm plugin from distribution {!r} failed to '
                        'load ({})'.format(dist, message)) from err
                self.failures[dist] = message
                warnings.warn(
                    'brainstorm plugin from distribution {!r} failed to load '
                    'and is skipped ({}); set {}=1 to make this an '
                    'error'.format(dist, message, STRICT_ENV_VAR),
                    RuntimeWarning, stacklevel=4)
        if 'brainstorm-core' not in seen:
            # running from a source tree without installed metadata
            from brainstorm import builtins
            pm.register(builtins, name='brainstorm-core')
        for name, module in self._extra_modules:
            pm.register(module, name=name)
        return pm

    def _collect(self, pm):
        """({category: {name: object}}, {category: {name: plugin}},
        {(category, name): [plugins]}): what the plugins provide, and the
        names several of them provide (left out of the first two)."""
        categories = CATEGORIES + (_SPEC_LETTERS,)
        classes = {c: {} for c in categories}
        providers = {c: {} for c in categories}
        conflicts = {}
        for category in categories:
            caller = getattr(pm.hook, 'brainstorm_' + category)
            for impl in caller.get_hookimpls():
                items = impl.function() or []
                if category == _SPEC_LETTERS:
                    items = _spec_letter_items(items, impl.plugin_name)
                for item in items:
                    if category == _SPEC_LETTERS:
                        name, item = item
                    else:
                        name = self._name_of(category, item,
                                             impl.plugin_name)
                    key = (category, name)
                    if key in conflicts:
                        if impl.plugin_name not in conflicts[key]:
                            conflicts[key].append(impl.plugin_name)
                    elif name in classes[category] and \
                            classes[category][name] is not item:
                        conflicts[key] = [providers[category].pop(name),
                                          impl.plugin_name]
                        del classes[category][name]
                    else:
                        classes[category][name] = item
                        providers[category][name] = impl.plugin_name
        for (category, name), plugins in sorted(conflicts.items()):
            message = 'two brainstorm plugins provide the {} {!r}: {}'.format(
                _kind(category), name, self._names_of(plugins))
            if _strict():
                raise PluginError(message)
            warnings.warn('{}; neither is used, the other names are; '
                          'uninstall one of them, or set {}=1 to make this '
                          'an error'.format(message, STRICT_ENV_VAR),
                          RuntimeWarning, stacklevel=4)
        return classes, providers, conflicts

    def _names_of(self, plugins):
        """"'dist-a' and 'dist-b'": the distributions of ``plugins``."""
        names = [repr(self._distributions.get(p, p)) for p in plugins]
        return ', '.join(names[:-1]) + ' and ' + names[-1]

    @staticmethod
    def _name_of(category, item, plugin_name):
        if category == 'layers':
            from brainstorm.layers.base_layer import layer_type_of
            name = layer_type_of(item)
            if name is None:
                raise PluginError(
                    'plugin {!r} registered {!r} as a layer, but it is '
                    'neither a Layer subclass nor a layer construction '
                    'function'.format(plugin_name, item))
            return name
        return item.__name__

    def load(self):
        """Load all plugins (done automatically on first use)."""
        with self._lock:
            if self._loaded:
                return
            pm = self._create_plugin_manager()
            classes, providers, conflicts = self._collect(pm)
            self.plugin_manager = pm
            self._classes, self._providers = classes, providers
            self.conflicts = conflicts
            self._loaded = True

    def reset(self):
        """Forget all loaded plugins; the next look-up loads them again."""
        with self._lock:
            self._loaded = False
            self._classes, self._providers = {}, {}
            self.conflicts = {}
            self.plugin_manager = None

    def register_module(self, module, name):
        """Register a module of hook implementations by hand (used in tests
        and in interactive sessions; installed plugins use entry points)."""
        with self._lock:
            self._extra_modules.append((name, module))
            self.reset()

    def unregister_module(self, name):
        with self._lock:
            self._extra_modules = [(n, m) for n, m in self._extra_modules
                                   if n != name]
            self.reset()

    # -- look-up -----------------------------------------------------------
    def names(self, category):
        self.load()
        return sorted(self._classes[category])

    def contains(self, category, name):
        """Whether plugins provide ``name`` (True also for a name several
        provide, which :meth:`get` refuses naming them)."""
        self.load()
        return name in self._classes[category] or \
            (category, name) in self.conflicts

    def get(self, category, name, namespace=None):
        """Return the object registered as ``name`` in ``category``.

        Raises
        ------
        MissingPluginError
            If no installed plugin provides it; the message says which
            distribution does.
        PluginConflictError
            If several installed plugins provide it; the message names
            them.
        """
        self.load()
        try:
            return self._classes[category][name]
        except KeyError:
            pass
        namespace = namespace or 'brainstorm.' + category
        if (category, name) in self.conflicts:
            raise self._conflict_error(category, name, namespace)
        dist = _suggested_distribution(category, name)
        if dist is not None and dist in self.failures:
            hint = '{} is installed but failed to load: {}'.format(
                dist, self.failures[dist])
        elif dist is not None:
            hint = 'it is provided by {0}: pip install {0}'.format(dist)
        else:
            known = ', '.join(self.names(category)) or 'none'
            hint = 'no installed plugin provides it (available: {})'.format(
                known)
        raise MissingPluginError('{} has no {!r}: {}'.format(
            namespace, name, hint), name=name)

    def _conflict_error(self, category, name, namespace):
        return PluginConflictError(
            '{}.{}: two brainstorm plugins provide the {} {!r}: {}, so '
            'neither is used; uninstall one of them'.format(
                namespace, name, _kind(category), name,
                self._names_of(self.conflicts[(category, name)])), name=name)

    def provider(self, category, name):
        """Name of the plugin (distribution) that provides ``name``."""
        self.load()
        return self._providers[category][name]

    def layer_impl(self, layer_type):
        """The Layer implementation class registered as ``layer_type``."""
        from brainstorm.layers.base_layer import layer_impl_of
        return layer_impl_of(self.get('layers', layer_type))

    def describable_class(self, type_name):
        """The registered Describable class named ``type_name`` (any
        category but layers)."""
        from brainstorm.describable import DescriptionError
        self.load()
        for category in CATEGORIES:
            if category == 'layers':
                continue
            if type_name in self._classes[category]:
                return self._classes[category][type_name]
            if (category, type_name) in self.conflicts:
                raise self._conflict_error(category, type_name,
                                           'brainstorm.' + category)
        raise DescriptionError(
            'unknown @type {!r}: no installed brainstorm plugin registers a '
            'class of that name, and descriptions can only create registered '
            'classes'.format(type_name))

    def describable_provider(self, type_name):
        """Name of the plugin that registers the class ``type_name`` that
        :meth:`describable_class` returns (None if none does)."""
        self.load()
        for category in CATEGORIES:
            if category != 'layers' and type_name in self._classes[category]:
                return self._providers[category][type_name]
        return None

    def plugin_info(self):
        """{plugin name: {category: [names]}} for every loaded plugin
        (names in :attr:`conflicts` under each plugin providing them)."""
        self.load()
        info = {}
        for category, providers in self._providers.items():
            for name, plugin in providers.items():
                info.setdefault(plugin, {}).setdefault(category, []).append(
                    name)
        for (category, name), plugins in self.conflicts.items():
            for plugin in plugins:
                info.setdefault(plugin, {}).setdefault(category, []).append(
                    name)
        return info


registry = Registry()


def make_namespace(category, module_globals, module_name):
    """Return ``(__getattr__, __dir__)`` for a facade module that resolves
    names of ``category`` through the registry (PEP 562)."""

    def __getattr__(name):
        if name.startswith('_'):
            raise AttributeError(name)
        obj = registry.get(category, name, namespace=module_name)
        if category == 'layers':
            from brainstorm.layers.base_layer import layer_constructor_of
            obj = layer_constructor_of(obj)
        return obj

    def __dir__():
        return sorted(set(module_globals) | set(registry.names(category)))

    return __getattr__, __dir__
