"""Descriptions: JSON-serialisable records of how to re-create an object.

A description holds the *static* state of an object: an object created from a
description is in the state of a freshly constructed one. Basic values (None,
bool, int, float, str, list, dict) describe themselves; any other object must
derive from :class:`Describable`, and its description is a dict with the key
``'@type'`` naming its class.

``'@type'`` names a class by its ``__name__`` and is resolved among the
classes that are registered by a plugin or already imported and derived from
:class:`Describable` (such as one defined in the user's own script), so a
description (or a file holding one) can never make brainstorm import anything
or create anything else (see :func:`create_from_description`).
"""
import sys

import numpy as np

__all__ = ['Describable', 'get_description', 'create_from_description',
           'find_describable_class', 'DescriptionError']


class DescriptionError(ValueError):
    """Raised for a description that cannot be created or described."""


class Describable:
    """Base class of all objects that can be described and re-created.

    Subclasses can set:

    ``__undescribed__``
        a set of attribute names left out of the description, or a dict
        mapping such names to the value they get when the object is created
        from a description.
    ``__default_values__``
        a dict of attribute values that are left out of the description while
        the attribute equals its default.
    """

    __undescribed__ = {}
    __default_values__ = {}

    def __describe__(self):
        """Return the description of this object (a JSON-serialisable dict)."""
        description = {}
        undescribed = _undescribed(type(self))
        defaults = _default_values(type(self))
        for key, value in self.__dict__.items():
            if key in undescribed:
                continue
            if key in defaults and _equal(value, defaults[key]):
                continue
            try:
                description[key] = get_description(value)
            except DescriptionError as err:
                raise DescriptionError('{}.{}: {}'.format(
                    type(self).__name__, key, err)) from None
        description['@type'] = type(self).__name__
        return description

    @classmethod
    def __new_from_description__(cls, description):
        """Create a new instance of ``cls`` from ``description``.

        The constructor is not called: attributes are set from the
        description, then from ``__default_values__`` and ``__undescribed__``
        for those it leaves out, and finally ``__init_from_description__``
        runs.
        """
        instance = cls.__new__(cls)
        for key, value in _default_values(cls).items():
            setattr(instance, key, _copy_default(value))
        for klass in reversed(cls.__mro__):
            undescribed = klass.__dict__.get('__undescribed__', ())
            if isinstance(undescribed, dict):
                for key, value in undescribed.items():
                    setattr(instance, key, _copy_default(value))
            else:
                for key in undescribed:
                    setattr(instance, key, None)
        for key, value in description.items():
            if key == '@type':
                continue
            setattr(instance, key, create_from_description(value))
        instance.__init_from_description__(description)
        return instance

    def __init_from_description__(self, description):
        """Hook for extra set-up after creation from a description."""


def _undescribed(cls):
    names = set()
    for klass in reversed(cls.__mro__):
        und = klass.__dict__.get('__undescribed__', ())
        names.update(und)
    return names


def _default_values(cls):
    values = {}
    for klass in reversed(cls.__mro__):
        values.update(klass.__dict__.get('__default_values__', {}))
    return values


def _copy_default(value):
    if isinstance(value, (list, dict, set)):
        return type(value)(value)
    return value


def _equal(a, b):
    try:
        result = a == b
        return bool(result) if not isinstance(result, np.ndarray) \
            else bool(result.all())
    except Exception:
        return False


def get_description(this):
    """Create a JSON-serialisable description of ``this``.

    Parameters
    ----------
    this : Describable or basic type
        None, bool, int, float, str, a list/tuple/dict of those, a numpy
        scalar or array (described as a nested list), or a Describable.

    Returns
    -------
    A JSON-serialisable description that :func:`create_from_description`
    turns back into an equivalent object.
    """
    if this is None or isinstance(this, (bool, int, float, str)):
        return this
    if isinstance(this, np.generic):
        return this.item()
    if isinstance(this, np.ndarray):
        return this.tolist()
    if isinstance(this, (list, tuple)):
        return [get_description(v) for v in this]
    if isinstance(this, dict):
        description = {}
        for key, value in this.items():
            if not isinstance(key, str):
                raise DescriptionError(
                    'only str keys can be described, got {!r}'.format(key))
            description[key] = get_description(value)
        return description
    if isinstance(this, Describable):
        description = this.__describe__()
        _check_creates_its_class(this, description)
        return description
    raise DescriptionError('{!r} of type {} is not describable'.format(
        this, type(this).__name__))


def create_from_description(description):
    """Instantiate a new object from a description.

    Dicts with an ``'@type'`` key are created as the class of that name,
    other values are returned as they are (lists and dicts with their
    contents created). The class is looked up among

    * the classes plugins register (handlers, initializers, hooks, scorers,
      value modifiers, data iterators, steppers, schedules ...), and
    * the :class:`Describable` subclasses already imported, found by walking
      ``Describable``'s subclasses (classes of modules in ``sys.modules``): a
      class defined in the user's own script (``__main__``) or module is
      created again once that module has run.

    Nothing is ever imported to find a class. Name clashes are never
    resolved by chance:

    * a registered class wins over unregistered ones of the same name
      (registering is what declares the meaning of a name, and files such
      as checkpoints must keep creating it). To keep this from creating the
      wrong class silently, :func:`get_description` refuses to describe an
      unregistered class named like a registered one, naming both;
    * several unregistered classes of one name (two modules defining it)
      are an error naming all their modules; rename one of them.

    A class that was defined again in the same module (a notebook cell run
    twice) counts once, as the class the module holds now.

    Raises
    ------
    DescriptionError
        If ``'@type'`` names no such class, or more than one.
    """
    if isinstance(description, dict):
        if '@type' in description:
            cls = find_describable_class(description['@type'])
            return cls.__new_from_description__(description)
        return {k: create_from_description(v) for k, v in description.items()}
    if isinstance(description, list):
        return [create_from_description(v) for v in description]
    return description


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _held_by_module(cls):
    """Whether ``cls`` is what its module holds under its qualified name."""
    obj = sys.modules.get(cls.__module__)
    for part in cls.__qualname__.split('.'):
        obj = getattr(obj, part, None)
    return obj is cls


def find_describable_class(type_name):
    """The class that a description's ``'@type'`` names (see
    :func:`create_from_description`): the one registered or imported
    :class:`Describable` subclass of that ``__name__``.

    Raises
    ------
    DescriptionError
        If no such class exists, or several unregistered ones do.
    """
    if not isinstance(type_name, str):
        raise DescriptionError('@type must be a class name (str), got '
                               '{!r}'.format(type_name))
    registered = _registered_class(type_name)
    if registered is not None:
        return registered
    # classes of imported modules (not of modules that were removed), one
    # per module and qualified name: the one the module holds now, else the
    # latest defined
    by_place = {}
    for cls in _subclasses(Describable):
        if cls.__name__ != type_name or cls.__module__ not in sys.modules:
            continue
        place = (cls.__module__, cls.__qualname__)
        if place not in by_place or not _held_by_module(by_place[place]):
            by_place[place] = cls
    candidates = list(by_place.values())
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise DescriptionError(
            'unknown @type {!r}: no installed brainstorm plugin registers a '
            'class of that name and no imported Describable subclass has it; '
            'descriptions only create such classes and never import anything '
            '(import or define the class before creating it from its '
            'description)'.format(type_name))

    raise DescriptionError(
        '@type {!r} is ambiguous: {} different Describable classes have that '
        'name: {}; descriptions name classes by their name alone, so rename '
        'one of them'.format(type_name, len(candidates),
                             ' and '.join(sorted(_where(c)
                                                 for c in candidates))))


def _where(cls, type_name=None):
    text = '{}.{}'.format(cls.__module__, cls.__qualname__)
    if type_name is not None:
        from brainstorm.plugins import registry
        text += ' (registered by {})'.format(
            registry.describable_provider(type_name))
    return text


def _registered_class(type_name):
    """The Describable class a plugin registers as ``type_name``, or None."""
    from brainstorm.plugins import registry
    try:
        registered = registry.describable_class(type_name)
    except DescriptionError:
        return None
    if isinstance(registered, type) and issubclass(registered, Describable):
        return registered
    return None


def _check_creates_its_class(this, description):
    """Refuse a description that would create another, registered class."""
    type_name = description.get('@type') if isinstance(description, dict) \
        else None
    if type_name != type(this).__name__:
        return
    registered = _registered_class(type_name)
    if registered is not None and registered is not type(this):
        raise DescriptionError(
            'cannot describe {}: its @type {!r} names the registered class '
            '{}, which the description would create instead; rename the '
            'class'.format(_where(type(this)), type_name,
                           _where(registered, type_name)))
