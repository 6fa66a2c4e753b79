"""The spec language of create_net_from_spec (manual 8.3), parsed with
brainstorm-core alone; networks built from specs are tested in the
top-level tests/test_tools.py (they need brainstorm-layers)."""
import pytest

import brainstorm as bs
from brainstorm.tools import SpecError, create_net_from_spec, parse_spec


def parsed(spec):
    return [(layer.layer_type, layer.kwargs) for layer in parse_spec(spec)]


def error_of(spec):
    with pytest.raises(SpecError) as info:
        parse_spec(spec)
    return info.value


# -- the manual's examples ----------------------------------------------------

def test_mnist_pi_example():
    assert parsed('D.2 F1200 D F1200 D') == [
        ('Dropout', {'drop_prob': 0.2}),
        ('FullyConnected', {'size': 1200}),
        ('Dropout', {}),
        ('FullyConnected', {'size': 1200}),
        ('Dropout', {})]


def test_cifar10_cnn_example():
    conv = {'kernel_size': (5, 5), 'padding': 2}
    pool = ('Pooling2D', {'kernel_size': (3, 3), 'stride': (2, 2)})
    assert parsed('C32:5p2 P3s2 C32:5p2 P3s2 C64:5p2 P3s2 F64') == [
        ('Convolution2D', dict(conv, num_filters=32)), pool,
        ('Convolution2D', dict(conv, num_filters=32)), pool,
        ('Convolution2D', dict(conv, num_filters=64)), pool,
        ('FullyConnected', {'size': 64})]


def test_docstring_example_f50_f20_f50():
    assert parsed('F50 F20 F50') == [('FullyConnected', {'size': s})
                                     for s in (50, 20, 50)]


def test_convolution_examples():
    assert parsed('C32:3') == [('Convolution2D', {'num_filters': 32,
                                                  'kernel_size': (3, 3)})]
    assert parsed('Cs32:3') == [('Convolution2D', {
        'activation': 'sigmoid', 'num_filters': 32, 'kernel_size': (3, 3)})]
    assert parsed('C8:3p1') == [('Convolution2D', {
        'num_filters': 8, 'kernel_size': (3, 3), 'padding': 1})]
    assert parsed('C8:3s2') == [('Convolution2D', {
        'num_filters': 8, 'kernel_size': (3, 3), 'stride': (2, 2)})]


def test_pooling_examples():
    assert parsed('P3s2') == [('Pooling2D', {'kernel_size': (3, 3),
                                             'stride': (2, 2)})]
    assert parsed('Pa2') == [('Pooling2D', {'type': 'avg',
                                            'kernel_size': (2, 2)})]
    assert parsed('Pm2') == [('Pooling2D', {'type': 'max',
                                            'kernel_size': (2, 2)})]
    assert parsed('P3p1') == [('Pooling2D', {'kernel_size': (3, 3),
                                             'padding': 1})]


def test_dropout_probabilities():
    assert parsed('D.5 D0.25 D0 D') == [
        ('Dropout', {'drop_prob': 0.5}), ('Dropout', {'drop_prob': 0.25}),
        ('Dropout', {'drop_prob': 0.0}), ('Dropout', {})]


# -- the grammar --------------------------------------------------------------

@pytest.mark.parametrize('letter, name', [('l', 'linear'), ('r', 'rel'),
                                          ('s', 'sigmoid'), ('t', 'tanh')])
def test_activation_letters_of_every_layer_that_takes_one(letter, name):
    assert parsed('F{0}3 R{0}4 L{0}5 C{0}6:2'.format(letter)) == [
        ('FullyConnected', {'activation': name, 'size': 3}),
        ('Recurrent', {'activation': name, 'size': 4}),
        ('Lstm', {'activation': name, 'size': 5}),
        ('Convolution2D', {'activation': name, 'num_filters': 6,
                           'kernel_size': (2, 2)})]


def test_layers_without_an_activation_keep_their_default():
    assert parsed('F3 R4 L5 B') == [
        ('FullyConnected', {'size': 3}), ('Recurrent', {'size': 4}),
        ('Lstm', {'size': 5}), ('BatchNorm', {})]


def test_padding_and_stride_in_either_order():
    expected = {'num_filters': 4, 'kernel_size': (3, 3), 'padding': 1,
                'stride': (2, 2)}
    assert parsed('C4:3p1s2') == [('Convolution2D', expected)]
    assert parsed('C4:3s2p1') == [('Convolution2D', expected)]
    assert parsed('Pa3s2p1') == [('Pooling2D', {
        'type': 'avg', 'kernel_size': (3, 3), 'stride': (2, 2),
        'padding': 1})]


def test_multi_digit_numbers():
    assert parsed('C128:11p10s12') == [('Convolution2D', {
        'num_filters': 128, 'kernel_size': (11, 11), 'padding': 10,
        'stride': (12, 12)})]


def test_whitespace_is_ignored_everywhere_inside_numbers_too():
    spec = 'C32:5p2 P3s2 C32:5p2 P3s2 C64:5p2 P3s2 F64'
    spaced = ' C 3 2 : 5 p 2\tP3 s2\nC32 :5p2P3s2  C6\t4:5p2 P 3 s 2 F 6 4 '
    assert parsed(spaced) == parsed(spec)
    assert parsed('F 12 00') == [('FullyConnected', {'size': 1200})]
    assert parsed('D . 2F1 2 0 0D') == parsed('D.2 F1200 D')
    assert parsed('Ft 20') == [('FullyConnected', {'activation': 'tanh',
                                                    'size': 20})]


def test_layers_need_no_separator():
    assert parsed('D.2F1200DF1200D') == parsed('D.2 F1200 D F1200 D')


def test_empty_spec_has_no_layers():
    assert parse_spec('') == []
    assert parse_spec(' \t\n') == []


def test_positions_and_texts_of_the_layers():
    layers = parse_spec(' D .2  F1 2 ')
    assert [(l.position, l.text) for l in layers] == [(1, 'D.2'),
                                                       (7, 'F12')]


def test_the_spec_must_be_a_str():
    with pytest.raises(TypeError, match='str'):
        parse_spec(['F10'])


# -- errors -------------------------------------------------------------------

def caret_column(err):
    """Index into the quoted spec line of the caret."""
    lines = str(err).splitlines()
    quoted, caret = lines[-2], lines[-1]
    assert caret.strip() == '^'
    return caret.index('^') - quoted.index(repr(err.spec)[0]) - 1


@pytest.mark.parametrize('spec, position, words', [
    ('X3', 0, "unknown layer letter 'X'"),
    ('F10 f3', 4, "unexpected 'f'; expected nothing after the size (layer "
                  "letters are capitals)"),
    ('f3', 0, "expected a layer letter, found 'f'"),
    ('3F', 0, "expected a layer letter, found '3'"),
    ('F', 1, 'expected the size (digits), found the end of the spec'),
    ('F D', 2, "found the next layer 'D'"),
    ('Fx10', 1, "found 'x'"),
    ('F0', 1, 'the size must be at least 1, got 0'),
    ('F10 Rq3', 5, "found 'q'"),
    ('L', 1, 'expected the size'),
    ('F10r', 3, "unexpected 'r'"),
    ('Bt', 1, "unexpected 't'; expected no arguments"),
    ('D1.5', 1, 'must be in [0, 1), got 1.5'),
    ('D1', 1, 'must be in [0, 1), got 1'),
    ('D.', 1, "found '.'"),
    ('D1.2.3', 1, "found '1.2.3'"),
    ('Dr', 1, "found 'r'"),
    ('C32', 3, "expected ':' between the number of filters and the kernel"),
    ('C32:', 4, 'expected the kernel size'),
    ('C:3', 1, 'expected the number of filters'),
    ('C0:3', 1, 'the number of filters must be at least 1'),
    ('C3:0', 3, 'the kernel size must be at least 1'),
    ('C3:3q', 4, "unexpected 'q'; expected 'p' (padding) or 's' (stride)"),
    ('C3:3p1p2', 6, "'p' (padding) is given twice"),
    ('C3:3s2s2', 6, "'s' (stride) is given twice"),
    ('C3:3s0', 5, 'the stride must be at least 1, got 0'),
    ('C3:3p', 5, 'expected the padding'),
    ('Ps2', 1, "expected the kernel size (digits), found 's'"),
    ('Pr2', 1, "found 'r'"),
    ('P0', 1, 'the kernel size must be at least 1'),
    ('P2:2', 2, "unexpected ':'"),
])
def test_errors_name_the_problem_and_point_at_it(spec, position, words):
    err = error_of(spec)
    assert isinstance(err, ValueError)
    assert err.position == position
    assert words in err.reason
    assert repr(spec) in str(err)
    assert caret_column(err) == position


def test_errors_name_the_layer_text_and_type():
    err = error_of('D.2 F1200 C 3 2 : x')
    assert "in 'C32:x' (Convolution2D)" in err.reason
    assert err.position == 18
    assert caret_column(err) == 18


def test_error_positions_count_the_whitespace():
    err = error_of('F 1 0 \t R 1 0  x')
    assert err.spec == 'F 1 0 \t R 1 0  x'
    assert err.position == 15
    assert "unexpected 'x'" in err.reason
    lines = str(err).splitlines()
    # the tab is shown as a space, so that the caret lines up
    assert lines[-2] == "    'F 1 0   R 1 0  x'"
    assert lines[-1] == '    ' + ' ' * 16 + '^'


def test_unknown_layer_letters_list_the_known_ones():
    err = error_of('F10 Q3')
    assert err.position == 4
    for text in ('F FullyConnected', 'R Recurrent', 'L Lstm', 'B BatchNorm',
                 'D Dropout', 'C Convolution2D', 'P Pooling2D'):
        assert text in err.reason


def test_create_net_from_spec_reports_spec_errors_before_building():
    """The spec is read first: its errors come before any layer is needed
    (so also with brainstorm-core alone)."""
    with pytest.raises(SpecError) as info:
        create_net_from_spec('classification', 4, 3, 'F10 F0')
    assert info.value.position == 5
    assert bs.tools.SpecError is SpecError


@pytest.mark.parametrize('spec, position, words', [
    ('F99999999999999999999', 1,
     'the size is too large: 99999999999999999999 (at most 2147483647)'),
    ('C99999999999999999999:3', 1, 'the number of filters is too large'),
    ('C3:3p99999999999999999999', 5, 'the padding is too large'),
    ('P99999999999999999999', 1, 'the kernel size is too large'),
    ('F\uff120', 1, "expected the size (digits), found '\uff12' (numbers "
                    'are written with the digits 0-9 only)'),
    ('F\u0661\u0662', 1, "found '\u0661' (numbers are written with the "
                         'digits 0-9 only)'),
    ('F2\u00b2', 2, "unexpected '\u00b2' (numbers are written with the "
                    'digits 0-9 only)'),
    ('C3:3s\u00b2', 5, "expected the stride (digits), found '\u00b2'"),
    ('D.\u0665', 2, "expected a dropout probability such as .5 or 0.25, "
                    "found '\u0665'"),
])
def test_overflowing_and_non_ascii_numbers_are_spec_errors(spec, position,
                                                          words):
    err = error_of(spec)
    assert err.position == position
    assert words in err.reason
    assert caret_column(err) == position
    with pytest.raises(SpecError):
        create_net_from_spec('classification', 4, 3, spec)


def test_the_largest_number_is_accepted():
    assert parsed('F2147483647') == [('FullyConnected',
                                      {'size': 2147483647})]
