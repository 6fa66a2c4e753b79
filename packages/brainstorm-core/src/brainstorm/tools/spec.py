"""The network spec language of ``create_net_from_spec`` (manual 8.3).

A spec lists the hidden layers of a network, in order. Each layer is
written in one of two forms.

**Letter form**: a capital letter followed by its arguments::

    F [act] size                    FullyConnected
    R [act] size                    Recurrent
    L [act] size                    Lstm
    B                               BatchNorm
    D [prob]                        Dropout (prob such as .5 or 0.25)
    C [act] filters : kernel [p n] [s n]    Convolution2D
    P [m|a] kernel [p n] [s n]      Pooling2D (max or average)

``act`` is one of l, r, s, t (linear, rel, sigmoid, tanh); without it the
layer's own default is used. ``p`` gives the padding, ``s`` the stride (in
both directions; in either order). A letter's arguments run up to the next
capital letter, so layers need no separator (``'D.2F1200D'``). Whitespace
is ignored everywhere in a letter form, inside numbers too: ``'F 1 2 0 0'``
is ``'F1200'``. Numbers are written with the ASCII digits 0-9 only (other
Unicode digits, such as ``'２'`` or ``'²'``, are errors) and are at most
:data:`MAX_NUMBER`.

Plugins add letters of their own through the ``brainstorm_spec_letters``
hook (see :mod:`brainstorm.plugins`); the built-in letters above are
registered by brainstorm-core through the same hook. A plugin letter that
maps to a layer name takes no arguments after it (``'F64 S F10'``), or
keyword arguments in parentheses as below (``'S(beta=2)'``); a
:class:`SpecLetter` reads arguments of its own, as the built-in letters do.
A letter claimed by two plugins (or by a plugin and brainstorm-core) is a
plugin conflict: a warning when the plugins load, and an error naming both
where a spec uses it. :func:`spec_letters` lists the letters in use.

**Name form**: the name of any registered layer (built-in or from a
plugin), optionally followed by keyword arguments in parentheses::

    Name                            the layer with its default arguments
    Name(key=value, ...)            the layer with these arguments
    X(key=value, ...)               a letter X, with keyword arguments
                                    instead of its letter arguments

``'F64 Swish F10'``, ``'F64 Swish(beta=2) F10'``, ``'BatchNorm'``,
``'Dropout(drop_prob=0.1)'``, ``"F(size=64, activation='tanh')"``. The
values are Python literals: numbers, strings in quotes, ``True``,
``False``, ``None``, and tuples or lists of those (``kernel_size=(3, 3)``).
Only keyword arguments are accepted (``FullyConnected(size=64)``, not
``FullyConnected(64)``), and not ``name``: spec layers get automatic names
(``'FullyConnected'``, ``'FullyConnected_2'`` ...). Inside the parentheses
whitespace is Python's (spaces inside quotes are kept); between a name and
its parenthesis it is ignored. A name is a word of ASCII letters, digits
and underscores starting with a capital letter, and it ends at the first
other character, so a name is separated from a following letter form by
whitespace (``'Swish F10'``, not ``'SwishF10'``).

How a word starting with a capital is read:

1. followed by ``(`` (after optional whitespace): a name, or for a single
   capital a letter, with keyword arguments;
2. two or more characters that are the name of a registered layer: that
   layer, with its default arguments;
3. a capital followed by two small letters (``'Swish'``, ``'Swissh'``):
   a name, and an error naming the installed layers when no plugin
   registers it (no letter form starts so; plugin letters must not either);
4. otherwise a letter form (``'Ft20'``, ``'Pa2s2'``, ``'BDF3'`` is
   BatchNorm, Dropout, FullyConnected(3)).

Errors are :class:`SpecError`, a ``ValueError`` quoting the spec and
pointing at the character it is about.
"""
import ast
from collections import namedtuple

__all__ = ['SpecError', 'SpecLayer', 'SpecLetter', 'SpecReader', 'parse_spec',
           'spec_letters', 'builtin_letters', 'LAYER_LETTERS',
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


class SpecReader:
    """Reads the arguments of one letter-form layer: the characters between
    its letter and the next capital letter (whitespace removed), with their
    positions in the spec.

    The ``read`` function of a :class:`SpecLetter` receives one and reads
    the layer's arguments with its methods (:meth:`peek`, :meth:`option`,
    :meth:`integer`, :meth:`probability`, :meth:`expect`), then returns
    ``reader.finish(kwargs, 'what may follow')``, which checks that nothing
    is left. Its errors are :class:`SpecError` pointing at the character
    they name (make your own with :meth:`error`).
    """

    def __init__(self, spec, chars, end_position, layer_type):
        self.spec = spec
        self.next_layer = spec[end_position] if end_position < len(spec) \
            else None
        self.letter, self.position = chars[0]
        self.chars = chars[1:]
        self.end_position = end_position
        self.index = 0
        self.text = ''.join(c for c, _ in chars)
        self.layer_type = layer_type

    def peek(self):
        if self.index < len(self.chars):
            return self.chars[self.index][0]
        return None

    def found(self):
        """The next character for messages."""
        char = self.peek()
        if char is not None and char.isnumeric() and char not in DIGITS:
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
        """The :class:`SpecLayer` with ``kwargs``, once every character
        is read; otherwise a :class:`SpecError` saying that ``expected``
        was (a phrase such as ``'nothing after the size'``)."""
        char = self.peek()
        if char is not None:
            hint = ' (layer letters are capitals)' \
                if char.upper() in LAYER_LETTERS or \
                char.upper() in _letters() else ''
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


SpecLetter = namedtuple('SpecLetter', 'layer_type read')
SpecLetter.__doc__ = """A layer letter with arguments of its own.

``layer_type`` is the registered name of the layer the letter makes;
``read(reader)`` reads the arguments that follow the letter from a
:class:`SpecReader` and returns ``reader.finish(kwargs, expected)``. The
built-in letters are made this way, for example ``D``::

    def read_dropout(reader):
        kwargs = {}
        if reader.peek() is not None:
            kwargs['drop_prob'] = reader.probability()
        return reader.finish(kwargs, 'nothing after the probability')

    SpecLetter('Dropout', read_dropout)
"""


def _no_arguments(reader):
    return reader.finish({}, 'no arguments (keyword arguments go in '
                             'parentheses: {}(...))'.format(reader.letter))


def builtin_letters():
    """The letters brainstorm-core registers (through the
    ``brainstorm_spec_letters`` hook, like any plugin):
    ``{letter: SpecLetter}``."""
    readers = {'F': _sized, 'R': _sized, 'L': _sized, 'B': _batch_norm,
               'D': _dropout, 'C': _convolution, 'P': _pooling}
    return {letter: SpecLetter(LAYER_LETTERS[letter], read)
            for letter, read in readers.items()}


def letter_target(letter, target, plugin_name='a plugin'):
    """Check one entry ``letter: target`` of a ``brainstorm_spec_letters``
    hook and return the target as a :class:`SpecLetter` (a layer name, or a
    layer construction function or Layer class, becomes a letter without
    arguments of its own)."""
    if not isinstance(letter, str) or len(letter) != 1 or \
            letter not in _CAPITALS:
        raise ValueError(
            'plugin {!r} registers the spec letter {!r}, but spec letters '
            'are single capital ASCII letters (A-Z)'.format(plugin_name,
                                                            letter))
    if isinstance(target, SpecLetter):
        if not isinstance(target.layer_type, str) or \
                not callable(target.read):
            raise ValueError(
                'plugin {!r}: the SpecLetter of {!r} needs a layer name and '
                'a callable read(reader), got {!r}'.format(
                    plugin_name, letter, target))
        return target
    if isinstance(target, str):
        layer_type = target
    else:
        from brainstorm.layers.base_layer import layer_type_of
        layer_type = layer_type_of(target)
    if not layer_type or not _is_name(layer_type):
        raise ValueError(
            'plugin {!r} maps the spec letter {!r} to {!r}; a letter maps to '
            'a layer name (str), a layer construction function or Layer '
            'class, or a brainstorm.tools.spec.SpecLetter'.format(
                plugin_name, letter, target))
    return SpecLetter(layer_type, _no_arguments)


def spec_letters():
    """``{letter: layer name}``: every letter that specs may use now (the
    built-in ones and those of the installed plugins, without the letters
    that several plugins claim)."""
    return {letter: target.layer_type
            for letter, target in sorted(_letters().items())}


def _letters():
    from brainstorm.plugins import registry
    return {letter: registry.get('spec_letters', letter)
            for letter in registry.names('spec_letters')}


_CAPITALS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
_SMALL = _CAPITALS.lower()
_NAME_CHARS = _CAPITALS + _SMALL + DIGITS + '_'


def _is_name(text):
    return bool(text) and text[0] in _CAPITALS and \
        all(c in _NAME_CHARS for c in text)


def _word_at(spec, position):
    """The run of ASCII letters, digits and underscores at ``position``."""
    end = position
    while end < len(spec) and spec[end] in _NAME_CHARS:
        end += 1
    return spec[position:end], end


def _skip_space(spec, position):
    while position < len(spec) and spec[position].isspace():
        position += 1
    return position


def _looks_like_name(word):
    """Two small letters right after the capital: no letter form starts
    so."""
    return len(word) >= 3 and word[1] in _SMALL and word[2] in _SMALL


def _closing_parenthesis(spec, opening):
    """Index of the bracket closing ``spec[opening]`` (quotes respected),
    or None."""
    depth, quote, index = 0, None, opening
    while index < len(spec):
        char = spec[index]
        if quote is not None:
            if char == '\\':
                index += 1
            elif char == quote:
                quote = None
        elif char in '\'"':
            quote = char
        elif char in '([{':
            depth += 1
        elif char in ')]}':
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return None


def _keyword_arguments(spec, opening, closing, layer_type, text):
    """Read ``(name=value, ...)`` (Python literals as values) between the
    parentheses at ``opening`` and ``closing``."""
    source = 'f(' + spec[opening + 1:closing] + ')'
    line_starts = [0]
    for index, char in enumerate(source):
        if char == '\n':
            line_starts.append(index + 1)

    def position(lineno, col):
        # source[1] is spec[opening]
        index = line_starts[max(lineno, 1) - 1] + max(col, 0)
        return min(max(opening + index - 1, opening), closing)

    def error(reason, at):
        return SpecError(spec, at, 'invalid network spec in {!r} ({}): {}'
                         .format(text, layer_type, reason))

    try:
        call = ast.parse(source, mode='eval').body
    except SyntaxError as err:
        raise error('the arguments in parentheses must be keyword arguments '
                    'such as (beta=2, activation=\'tanh\'): {}'.format(
                        err.msg),
                    position(err.lineno or 1, (err.offset or 1) - 1)) \
            from None
    if not isinstance(call, ast.Call) or call.args:
        node = call.args[0] if isinstance(call, ast.Call) else call
        raise error('only keyword arguments are accepted in parentheses '
                    '(name=value, ...): write {}(size=64) rather than '
                    '{}(64)'.format(layer_type, layer_type),
                    position(node.lineno, node.col_offset))
    kwargs = {}
    for keyword in call.keywords:
        if keyword.arg is None:
            raise error('** is not accepted; write each argument as '
                        'name=value', position(keyword.lineno,
                                               keyword.col_offset))
        if keyword.arg == 'name':
            raise error("'name' cannot be given: layers of a spec get "
                        "automatic names ({0}, {0}_2, ...)".format(
                            layer_type),
                        position(keyword.lineno, keyword.col_offset))
        try:
            kwargs[keyword.arg] = ast.literal_eval(keyword.value)
        except ValueError:
            raise error('the value of {!r} must be a Python literal (a '
                        'number, a string in quotes, True, False, None, or '
                        'a tuple or list of those)'.format(keyword.arg),
                        position(keyword.value.lineno,
                                 keyword.value.col_offset)) from None
    return kwargs


def _registered(spec, position, layer_type, text):
    """Check that ``layer_type`` is a registered layer (SpecError naming
    what to install, or the plugins that clash, otherwise)."""
    from brainstorm.plugins import (MissingPluginError, PluginConflictError,
                                    registry)
    try:
        registry.get('layers', layer_type, namespace='brainstorm.layers')
    except MissingPluginError as err:
        # the registry's message without its 'brainstorm.layers.X: ' or
        # "brainstorm.layers has no 'X': " prefix
        reason = str(err)
        for prefix in ('brainstorm.layers.{}: '.format(layer_type),
                       'brainstorm.layers has no {!r}: '.format(layer_type)):
            if reason.startswith(prefix):
                reason = reason[len(prefix):]
        what = 'cannot use the layer' if isinstance(
            err, PluginConflictError) else 'unknown layer'
        raise SpecError(spec, position, 'invalid network spec: {} {!r}: {}'
                        .format(what, text, reason)) from None


def _letter(spec, position):
    """The SpecLetter registered for the letter at ``position``."""
    from brainstorm.plugins import PluginConflictError, registry
    letter = spec[position]
    try:
        return registry.get('spec_letters', letter,
                            namespace='brainstorm.tools.spec_letters')
    except PluginConflictError as err:
        reason = str(err).split(': ', 1)[-1]
        raise SpecError(spec, position, 'invalid network spec: {}'.format(
            reason)) from None
    except ImportError:
        pass
    reason = 'unknown layer letter {!r}'.format(letter) if letter.isupper() \
        else 'expected a layer letter, found {!r}'.format(letter)
    raise SpecError(spec, position, '{}: {} (layers: {}; or a layer name, '
                    'such as FullyConnected(size=10))'.format(
                        'invalid network spec', reason,
                        ', '.join('{} {}'.format(*item)
                                  for item in spec_letters().items())))


def parse_spec(spec):
    """Parse a network spec (see :func:`create_net_from_spec` and the
    grammar in this module's docstring).

    Parameters
    ----------
    spec : str
        A line such as ``'D.2 F1200 D F1200 D'``, ``'C32:5p2 P3s2 F64'``
        or ``'F64 Swish(beta=2) F10'``.

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
    >>> [(layer.layer_type, layer.kwargs)
    ...  for layer in parse_spec("Dropout(drop_prob=0.1) F(size=3)")]
    [('Dropout', {'drop_prob': 0.1}), ('FullyConnected', {'size': 3})]
    """
    if not isinstance(spec, str):
        raise TypeError('the network spec must be a str, got {!r}'.format(
            spec))
    from brainstorm.plugins import registry
    layers = []
    position = _skip_space(spec, 0)
    while position < len(spec):
        if spec[position] not in _CAPITALS:
            _letter(spec, position)     # raises the error for the character
        word, word_end = _word_at(spec, position)
        after = _skip_space(spec, word_end)
        parenthesis = after < len(spec) and spec[after] == '('
        if parenthesis or (len(word) > 1 and
                           registry.contains('layers', word)) or \
                _looks_like_name(word):
            if len(word) == 1:
                layer_type = _letter(spec, position).layer_type
            else:
                layer_type = word
            end, kwargs = word_end, {}
            if parenthesis:
                closing = _closing_parenthesis(spec, after)
                if closing is None:
                    raise SpecError(
                        spec, after, 'invalid network spec: the parenthesis '
                        'after {!r} is not closed'.format(word))
                end = closing + 1
            text = ''.join(spec[position:end].split())
            _registered(spec, position, layer_type, text)
            if parenthesis:
                kwargs = _keyword_arguments(spec, after, closing, layer_type,
                                            text)
            layers.append(SpecLayer(layer_type, kwargs, position, text))
            position = _skip_space(spec, end)
            continue
        target = _letter(spec, position)
        chars = [(spec[position], position)]
        end = position + 1
        while end < len(spec) and not spec[end].isupper():
            if not spec[end].isspace():
                chars.append((spec[end], end))
            end += 1
        reader = SpecReader(spec, chars, end, target.layer_type)
        layer = target.read(reader)
        if not isinstance(layer, SpecLayer):
            raise TypeError(
                'the read function of the spec letter {!r} must return '
                'reader.finish(kwargs, expected), got {!r}'.format(
                    spec[position], layer))
        layers.append(layer)
        position = end
    return layers
