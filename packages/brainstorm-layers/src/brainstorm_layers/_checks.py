"""Checks of layer arguments and input shapes, shared by the layers of this
package.

Every argument is checked twice, by the same code with the same messages:
by the construction function (so that ``FullyConnected(0)`` fails where it
is written) and by the layer's ``setup`` (networks built from an
architecture or a file never call the construction function). A layer
module declares its arguments once::

    ARGUMENTS = OrderedDict(
        size=Argument('a positive int', positive_int),
        activation=Argument('one of ...', one_of(...), default='rel'))

and calls ``check_arguments(layer_type, name, given, ARGUMENTS)`` in both
places. Messages name the layer type and name, the argument (or input),
what was expected and what was received::

    FullyConnected layer 'Hid': argument 'size': expected a positive int or
    a non-empty tuple/list of positive ints, but received 0
"""
import math
from collections import OrderedDict
from numbers import Integral, Real

from brainstorm.layers import LayerValidationError

__all__ = ['REQUIRED', 'INVALID', 'Argument', 'check_arguments',
           'layer_label', 'shape_message', 'check_window_fits',
           'describe_options', 'positive_int', 'int_at_least', 'int_pair',
           'positive_shape', 'one_of', 'real_in', 'finite_real']

REQUIRED = type('Required', (), {'__repr__': lambda self: 'REQUIRED'})()
"""Default of an argument that has none (it must be given)."""

INVALID = type('Invalid', (), {'__repr__': lambda self: 'INVALID'})()
"""What a normaliser returns for a value it does not accept."""


def layer_label(layer_type, name):
    """``"FullyConnected layer 'Hid'"`` (``"... layer (unnamed)"`` for a
    layer constructed without a name): the prefix of every message, the
    same as :meth:`Layer.error` uses."""
    if name is None:
        return '{} layer (unnamed)'.format(layer_type)
    return '{} layer {!r}'.format(layer_type, name)


class Argument:
    """One keyword argument of a layer.

    Parameters
    ----------
    expected : str
        What the argument expects, in words ("a positive int").
    normalise : callable
        value -> the normalised value (e.g. an int made a pair), or
        :data:`INVALID`.
    default : object
        The default of the construction function; :data:`REQUIRED` where
        the argument has none.
    """

    def __init__(self, expected, normalise, default=REQUIRED):
        self.expected = expected
        self.normalise = normalise
        self.default = default

    @property
    def required(self):
        return self.default is REQUIRED

    def __repr__(self):
        return 'Argument({!r}, default={!r})'.format(self.expected,
                                                      self.default)


def check_arguments(layer_type, name, given, arguments):
    """Check the arguments ``given`` (a dict) against the declared
    ``arguments`` (argument name -> :class:`Argument`).

    Returns an OrderedDict argument name -> normalised value, defaults
    filled in. Raises a :class:`LayerValidationError` naming the layer and
    listing every problem (a missing required argument, or a value of the
    wrong kind with what was expected and what was received). Arguments
    that are not declared are not looked at (the construction function's
    signature and :meth:`Layer._validate_kwargs` reject those).
    """
    problems = []
    values = OrderedDict()
    for arg_name, argument in arguments.items():
        if arg_name in given:
            value = given[arg_name]
        elif argument.required:
            problems.append('argument {!r} is required (expected {}), but '
                            'was not given'.format(arg_name,
                                                   argument.expected))
            continue
        else:
            value = argument.default
        normalised = argument.normalise(value)
        if normalised is INVALID:
            problems.append('argument {!r}: expected {}, but received '
                            '{!r}'.format(arg_name, argument.expected, value))
        else:
            values[arg_name] = normalised
    if problems:
        raise LayerValidationError('{}: {}'.format(
            layer_label(layer_type, name), '; '.join(problems)))
    return values


def shape_message(in_name, expected, received, note=''):
    """The message for an input of the wrong shape (for ``Layer.error``):
    ``"input 'targets' expects shape ('T', 'B', 4) (<note>), but receives
    ('T', 'B', 3)"``."""
    return 'input {!r} expects shape {}{}, but receives {}'.format(
        in_name, _shape_str(expected), ' ({})'.format(note) if note else '',
        _shape_str(received))


def check_window_fits(layer, what, window, padding, structure):
    """Raise ``layer.error`` unless a ``window`` (kh, kw) fits images of
    the input ``structure`` (T, B, H, W, C) with ``padding`` on all
    sides."""
    kh, kw = window
    height, width = structure.feature_shape[:2]
    if height + 2 * padding >= kh and width + 2 * padding >= kw:
        return
    raise layer.error(
        '{} {}x{} does not fit: input {!r} expects images of at least {}x{} '
        'pixels (with padding {}), but receives shape {}'.format(
            what, kh, kw, 'default', max(kh - 2 * padding, 1),
            max(kw - 2 * padding, 1), padding, _shape_str(structure.shape)))


def _shape_str(shape):
    if isinstance(shape, tuple):
        return '({})'.format(', '.join(repr(s) for s in shape) +
                             (',' if len(shape) == 1 else ''))
    return str(shape)


# -- normalisers --------------------------------------------------------------

def _is_int(value):
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, Real) and not isinstance(value, bool) and \
        math.isfinite(value)


def int_at_least(minimum):
    """An int >= ``minimum`` (bools are not ints here)."""
    def normalise(value):
        return int(value) if _is_int(value) and value >= minimum else INVALID
    return normalise


positive_int = int_at_least(1)
"""A positive int."""


def int_pair(value):
    """A positive int ``n`` (read as ``(n, n)``) or a pair of positive
    ints (tuple or list, as in architectures read from JSON)."""
    if _is_int(value):
        return (int(value), int(value)) if value >= 1 else INVALID
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            _is_int(v) and v >= 1 for v in value):
        return (int(value[0]), int(value[1]))
    return INVALID


def positive_shape(value):
    """A positive int ``n`` (read as ``(n,)``) or a non-empty tuple/list of
    positive ints."""
    if _is_int(value):
        return (int(value),) if value >= 1 else INVALID
    if isinstance(value, (tuple, list)) and value and all(
            _is_int(v) and v >= 1 for v in value):
        return tuple(int(v) for v in value)
    return INVALID


def one_of(*options):
    """One of ``options`` (compared with ==; the types must match too, so
    1 is not '1' and True is not 1)."""
    def normalise(value):
        for option in options:
            if isinstance(value, type(option)) and \
                    isinstance(value, bool) == isinstance(option, bool) and \
                    value == option:
                return option
        return INVALID
    return normalise


def real_in(low=None, high=None, low_closed=True, high_closed=True):
    """A finite real number (not a bool) within the given bounds."""
    def normalise(value):
        if not _is_real(value):
            return INVALID
        if low is not None and (value < low or
                                (value == low and not low_closed)):
            return INVALID
        if high is not None and (value > high or
                                 (value == high and not high_closed)):
            return INVALID
        return float(value)
    return normalise


finite_real = real_in()
"""Any finite real number (not a bool)."""


def describe_options(options):
    """``"one of 'linear', 'rel'"`` for messages."""
    return 'one of ' + ', '.join(repr(o) for o in options)
