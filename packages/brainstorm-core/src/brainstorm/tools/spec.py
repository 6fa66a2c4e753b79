"""The network spec language of ``create_net_from_spec`` (manual 8.3).

A spec is a sequence of layers, each a capital letter followed by its
arguments::

    F [act] size                    FullyConnected
    R [act] size                    Recurrent
    L [act] size                    Lstm
    B                               BatchNorm
    D [prob]                        Dropout (prob such as .5 or 0.25)
    C [act] filters : kernel [p n] [s n]    Convolution2D
    P [m|a] kernel [p n] [s n]      Pooling2D (max or average)

``act`` is one of l, r, s, t (linear, rel, sigmoid, tanh); without it the
layer's own default is used. ``p`` gives the padding, ``s`` the stride (in
both directions; in either order). Whitespace is ignored everywhere, inside
numbers too: ``'F 1 2 0 0'`` is ``'F1200'``. Numbers are written with the
ASCII digits 0-9 only (other Unicode digits, such as ``'２'`` or ``'²'``,
are errors) and are at most :data:`MAX_NUMBER`.
"""
from collections import namedtuple

__all__ = ['SpecError', 'SpecLayer', 'parse_spec', 'LAYER_LETTERS',
           'ACTIVATION_LETTERS', 'POOLING_LETTERS', 'MAX_NUMBER']

LAYER_LETTERS = {'F': 'FullyConnected', 'R': 'Recurrent', 'L': 'Lstm',
                 'B': 'BatchNorm', 'D': 'Dropout', 'C': 'Convolution2D',
                 'P': 'Pooling2D'}
ACTIVATION_LETTERS = {'l': 'linear', 'r': 'rel', 's': 'sigmoid', 't': 'tanh'}
POOLING_LETTERS = {'m': 'max', 'a': 'avg'}
DIGITS = '0123456789'
# The largest number a spec may hold (sizes, filters, kernel, padding,
# stride): the largest C int, beyond which numpy shapes overflow.
MAX_NUMBER = 2 ** 31 - 1

SpecLayer = namedtuple('SpecLayer', 'layer_type kwargs position text')
SpecLayer.__doc__ = """One layer of a parsed spec.

``layer_type`` is the registered layer name ('FullyConnected' ...),
``kwargs`` the arguments for its construction function (only those the spec
gives), ``position`` the index of its letter in the spec and ``text`` the
layer's part of the spec without whitespace (``'C32:5p2'``)."""


class SpecError(ValueError):
    """A network spec that cannot be parsed or built.

    The message quotes the spec and marks the offending place with a caret;
    ``spec``, ``position`` (index into ``spec``, ``len(spec)`` for its end)
    and ``reason`` (the message without the quote) are attributes.
    """

    def __init__(self, spec, position, reason):
        self.spec = spec
        self.position = position
        self.reason = reason
        # Other whitespace (tabs, newlines) is shown as spaces so that the
        # caret stays under the right character.
        shown = ''.join(' ' if c.isspace() else c for c in spec)
        super().__init__('{} (at position {} of the spec)\n    {!r}\n    '
                         '{}^'.format(reason, position, shown,
                                      ' ' * (position + 1)))

    def __reduce__(self):
        return type(self), (self.spec, self.position, self.reason)


class _Layer:
    """Reads the arguments of one layer: the characters of its part of the
    spec (whitespace removed) with their positions."""

    def __init__(self, spec, chars, end_position):
        self.spec = spec
        self.next_layer = spec[end_position] if end_position < len(spec) \
            else None
        self.letter, self.position = chars[0]
        self.chars = chars[1:]
        self.end_position = end_position
        self.index = 0
        self.text = ''.join(c for c, _ in chars)
        self.layer_type = LAYER_LETTERS[self.letter]

    def peek(self):
        if self.index < len(self.chars):
            return self.chars[self.index][0]
        return None

    def found(self):
        """The next character for messages."""
        char = self.peek()
        if char is not None and char.isnumeric():
            return '{!r} (numbers are written with the digits 0-9 only)'\
                .format(char)
        if char is not None:
            return repr(char)
        if self.next_layer is not None:
            return 'the next layer {!r}'.format(self.next_layer)
        return 'the end of the spec'

    def here(self):
        if self.index < len(self.chars):
            return self.chars[self.index][1]
        return self.end_position

    def error(self, reason, position=None):
        return SpecError(self.spec, self.here() if position is None
                         else position,
                         '{} in {!r} ({}): {}'.format(
                             'invalid network spec', self.text,
                             self.layer_type, reason))

    def option(self, letters):
        """The meaning of the next character if it is one of ``letters``
        (consumed), else None."""
        char = self.peek()
        if char is not None and char in letters:
            self.index += 1
            return letters[char]
        return None

    def integer(self, what, minimum):
        start = self.here()
        digits = ''
        while self.peek() is not None and self.peek() in DIGITS:
            digits += self.peek()
            self.index += 1
        if not digits:
            raise self.error('expected {} (digits), found {}'.format(
                what, self.found()))
        value = int(digits)
        if value > MAX_NUMBER:
            raise self.error('{} is too large: {} (at most {})'.format(
                what, value, MAX_NUMBER), start)
        if value < minimum:
            raise self.error('{} must be at least {}, got {}'.format(
                what, minimum, value), start)
        return value

    def probability(self):
        start = self.here()
        text = ''
        while self.peek() is not None and (self.peek() in DIGITS or
                                           self.peek() == '.'):
            text += self.peek()
            self.index += 1
        if self.peek() is not None and self.peek().isnumeric():
            raise self.error('expected a dropout probability such as .5 or '
                             '0.25, found {}'.format(self.found()))
        if text.count('.') > 1 or not any(c in DIGITS for c in text):
            raise self.error('expected a dropout probability such as .5 or '
                             '0.25, found {}'.format(
                                 repr(text) if text else self.found()),
                             start)
        value = float(text)
        if not 0.0 <= value < 1.0:
            raise self.error('the dropout probability must be in [0, 1), '
                             'got {}'.format(text), start)
        return value

    def expect(self, char, what):
        if self.peek() != char:
            raise self.error('expected {!r} {}, found {}'.format(
                char, what, self.found()))
        self.index += 1

    def padding_and_stride(self, kwargs):
        seen = set()
        while self.peek() in ('p', 's'):
            letter = self.peek()
            if letter in seen:
                raise self.error('{!r} ({}) is given twice'.format(
                    letter, 'padding' if letter == 'p' else 'stride'))
            seen.add(letter)
            self.index += 1
            if letter == 'p':
                kwargs['padding'] = self.integer('the padding', 0)
            else:
                stride = self.integer('the stride', 1)
                kwargs['stride'] = (stride, stride)

    def finish(self, kwargs, expected):
        char = self.peek()
        if char is not None:
            hint = ' (layer letters are capitals)' \
                if char.upper() in LAYER_LETTERS else ''
            raise self.error('unexpected {}; expected {}{}'.format(
                self.found(), expected, hint))
        return SpecLayer(self.layer_type, kwargs, self.position, self.text)


def _activation(layer, kwargs):
    activation = layer.option(ACTIVATION_LETTERS)
    if activation is not None:
        kwargs['activation'] = activation


def _sized(layer):
    kwargs = {}
    _activation(layer, kwargs)
    kwargs['size'] = layer.integer('the size', 1)
    return layer.finish(kwargs, 'nothing after the size')


def _batch_norm(layer):
    return layer.finish({}, 'no arguments')


def _dropout(layer):
    kwargs = {}
    if layer.peek() is not None:
        kwargs['drop_prob'] = layer.probability()
    return layer.finish(kwargs, 'nothing after the probability')


def _convolution(layer):
    kwargs = {}
    _activation(layer, kwargs)
    kwargs['num_filters'] = layer.integer('the number of filters', 1)
    layer.expect(':', 'between the number of filters and the kernel size')
    kernel = layer.integer('the kernel size', 1)
    kwargs['kernel_size'] = (kernel, kernel)
    layer.padding_and_stride(kwargs)
    return layer.finish(kwargs, "'p' (padding) or 's' (stride)")


def _pooling(layer):
    kwargs = {}
    kind = layer.option(POOLING_LETTERS)
    if kind is not None:
        kwargs['type'] = kind
    kernel = layer.integer('the kernel size', 1)
    kwargs['kernel_size'] = (kernel, kernel)
    layer.padding_and_stride(kwargs)
    return layer.finish(kwargs, "'p' (padding) or 's' (stride)")


_READERS = {'F': _sized, 'R': _sized, 'L': _sized, 'B': _batch_norm,
            'D': _dropout, 'C': _convolution, 'P': _pooling}


def parse_spec(spec):
    """Parse a network spec (see :func:`create_net_from_spec`).

    Parameters
    ----------
    spec : str
        A line such as ``'D.2 F1200 D F1200 D'`` or ``'C32:5p2 P3s2 F64'``.

    Returns
    -------
    list[SpecLayer]
        The layers in order, each with its type and construction arguments.

    Raises
    ------
    SpecError
        A ``ValueError`` quoting the spec and pointing at the offending
        character.

    Examples
    --------
    >>> [(layer.layer_type, layer.kwargs) for layer in parse_spec('Ft20 D')]
    [('FullyConnected', {'activation': 'tanh', 'size': 20}), ('Dropout', {})]
    """
    if not isinstance(spec, str):
        raise TypeError('the network spec must be a str, got {!r}'.format(
            spec))
    chars = [(c, i) for i, c in enumerate(spec) if not c.isspace()]
    layers = []
    k = 0
    while k < len(chars):
        letter, position = chars[k]
        if letter not in LAYER_LETTERS:
            if letter.isupper():
                reason = 'unknown layer letter {!r}'.format(letter)
            else:
                reason = 'expected a layer letter, found {!r}'.format(letter)
            raise SpecError(spec, position, '{}: {}'.format(
                'invalid network spec', reason + ' (layers: {})'.format(
                    ', '.join('{} {}'.format(*item)
                              for item in LAYER_LETTERS.items()))))
        end = k + 1
        while end < len(chars) and not chars[end][0].isupper():
            end += 1
        end_position = chars[end][1] if end < len(chars) else len(spec)
        layer = _Layer(spec, chars[k:end], end_position)
        layers.append(_READERS[letter](layer))
        k = end
    return layers
