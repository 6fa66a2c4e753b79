"""Descriptions: JSON-serialisable records of how to re-create an object.

A description holds the *static* state of an object: an object created from a
description is in the state of a freshly constructed one. Basic values (None,
bool, int, float, str, list, dict) describe themselves; any other object must
derive from :class:`Describable`, and its description is a dict with the key
``'@type'`` naming its class.

``'@type'`` is resolved through the plugin registry only, so a description (or
a file holding one) can never make brainstorm import or call anything that is
not a registered class.
"""
import numpy as np

__all__ = ['Describable', 'get_description', 'create_from_description',
           'DescriptionError']


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
        return this.__describe__()
    raise DescriptionError('{!r} of type {} is not describable'.format(
        this, type(this).__name__))


def create_from_description(description):
    """Instantiate a new object from a description.

    Dicts with an ``'@type'`` key are resolved through the plugin registry
    (any registered layer, handler, initializer, hook, scorer, value
    modifier, data iterator, stepper or schedule), other values are returned
    as they are (lists and dicts with their contents created).

    Raises
    ------
    DescriptionError
        If ``'@type'`` names no registered class.
    """
    if isinstance(description, dict):
        if '@type' in description:
            from brainstorm.plugins import registry
            cls = registry.describable_class(description['@type'])
            return cls.__new_from_description__(description)
        return {k: create_from_description(v) for k, v in description.items()}
    if isinstance(description, list):
        return [create_from_description(v) for v in description]
    return description
