"""Spec strings naming any registered layer (with keyword arguments), and
plugin letters registered through the ``brainstorm_spec_letters`` hook,
their clashes included; parsed with brainstorm-core alone (the layers are
core's test layers). Networks built from such specs are tested in the
top-level tests/test_spec_plugins.py."""
import types
import warnings

import pytest

from brainstorm.plugins import PluginError, hookimpl, registry
from brainstorm.testing.simple_layers import use_simple_layers
from brainstorm.tools.spec import (LAYER_LETTERS, SpecError, SpecLetter,
                                   parse_spec, spec_letters)


def parsed(spec):
    return [(layer.layer_type, layer.kwargs) for layer in parse_spec(spec)]


def error_of(spec):
    with pytest.raises(SpecError) as info:
        parse_spec(spec)
    return info.value


def letters_module(letters):
    module = types.ModuleType('spec_letters_plugin')
    module.brainstorm_spec_letters = hookimpl(lambda: letters)
    return module


@pytest.fixture
def plugins(monkeypatch):
    """Register letter plugins by name for one test."""
    monkeypatch.delenv('BRAINSTORM_PLUGINS_STRICT', raising=False)
    names = []

    def register(name, letters):
        names.append(name)
        registry.register_module(letters_module(letters), name)
    with use_simple_layers():
        yield register
        for name in names:
            registry.unregister_module(name)


# -- names --------------------------------------------------------------------

def test_a_registered_layer_by_name_with_and_without_arguments(plugins):
    assert parsed('F64 TestAffine(size=3) TestSoftmaxLoss D') == [
        ('FullyConnected', {'size': 64}), ('TestAffine', {'size': 3}),
        ('TestSoftmaxLoss', {}), ('Dropout', {})]


def test_keyword_arguments_are_python_literals(plugins):
    assert parsed("TestAffine(size=3, a='x y', b=(3, 3), c=[1, 2.5], "
                  "d=None, e=True)") == [
        ('TestAffine', {'size': 3, 'a': 'x y', 'b': (3, 3), 'c': [1, 2.5],
                        'd': None, 'e': True})]


def test_letters_take_keyword_arguments_too(plugins):
    plugins('my-letters', {'A': 'TestAffine'})
    assert parsed("A(size=64, activation='tanh') D A (size=2)") == [
        ('TestAffine', {'size': 64, 'activation': 'tanh'}), ('Dropout', {}),
        ('TestAffine', {'size': 2})]


def test_whitespace_around_names_and_parentheses(plugins):
    layers = parse_spec(' F3\tTestAffine ( size = 2 )\nB ')
    assert [(l.layer_type, l.kwargs, l.position, l.text) for l in layers] == [
        ('FullyConnected', {'size': 3}, 1, 'F3'),
        ('TestAffine', {'size': 2}, 4, 'TestAffine(size=2)'),
        ('BatchNorm', {}, 28, 'B')]


def test_letter_forms_keep_their_meaning(plugins):
    assert parsed('BDF3 Ft2 Pa2s2') == [
        ('BatchNorm', {}), ('Dropout', {}), ('FullyConnected', {'size': 3}),
        ('FullyConnected', {'activation': 'tanh', 'size': 2}),
        ('Pooling2D', {'type': 'avg', 'kernel_size': (2, 2),
                       'stride': (2, 2)})]


@pytest.mark.parametrize('spec, position, words', [
    ('F3 Swissh F2', 3, "unknown layer 'Swissh': no installed plugin "
                        "provides it (available: "),
    ('Nothing(size=2)', 0, "unknown layer 'Nothing(size=2)'"),
    ('TestAffine(3)', 11, 'only keyword arguments are accepted in '
                          'parentheses (name=value, ...): write '
                          'TestAffine(size=64) rather than TestAffine(64)'),
    ('TestAffine(size=x)', 16, "the value of 'size' must be a Python "
                               'literal'),
    ("TestAffine(size=2, name='h')", 19, "'name' cannot be given: layers "
                                         'of a spec get automatic names'),
    ('TestAffine(size=2', 10, "the parenthesis after 'TestAffine' is not "
                              'closed'),
    ('TestAffine(size=2,, x=1)', 18, 'the arguments in parentheses must be '
                                     'keyword arguments'),
    ('TestAffine(**d)', 11, '** is not accepted'),
    ('TestAffine x', 11, "expected a layer letter, found 'x'"),
])
def test_errors_of_names_point_at_the_problem(plugins, spec, position, words):
    err = error_of(spec)
    assert words in err.reason
    assert err.position == position
    assert str(err).splitlines()[-1].index('^') == position + 5


def test_a_layer_of_a_missing_package_says_what_to_install(plugins):
    if registry.contains('layers', 'BatchNorm'):
        pytest.skip('brainstorm-layers is installed')
    err = error_of('BatchNorm')
    assert 'pip install brainstorm-layers' in err.reason


# -- plugin letters -----------------------------------------------------------

def test_core_registers_the_builtin_letters_through_the_hook():
    for letter, layer_type in LAYER_LETTERS.items():
        assert registry.provider('spec_letters', letter) == 'brainstorm-core'
        assert spec_letters()[letter] == layer_type


def test_a_plugin_letter_names_a_layer(plugins):
    plugins('my-letters', {'A': 'TestAffine'})
    assert registry.provider('spec_letters', 'A') == 'my-letters'
    assert spec_letters()['A'] == 'TestAffine'
    assert parsed('F3 A(size=2) D A(size=4)') == [
        ('FullyConnected', {'size': 3}), ('TestAffine', {'size': 2}),
        ('Dropout', {}), ('TestAffine', {'size': 4})]
    err = error_of('A4')
    assert "unexpected '4'; expected no arguments (keyword arguments go in " \
        'parentheses: A(...))' in err.reason


def test_a_plugin_letter_may_be_a_construction_function(plugins):
    from brainstorm.testing.simple_layers import TestSoftmaxLoss
    plugins('my-letters', {'S': TestSoftmaxLoss})
    assert parsed('F3 S') == [('FullyConnected', {'size': 3}),
                              ('TestSoftmaxLoss', {})]


def test_a_plugin_letter_with_arguments_of_its_own(plugins):
    def read(reader):
        return reader.finish({'size': reader.integer('the size', 1)},
                             'nothing after the size')
    plugins('my-letters', {'A': SpecLetter('TestAffine', read)})
    assert parsed('A12 A 3') == [('TestAffine', {'size': 12}),
                                 ('TestAffine', {'size': 3})]
    err = error_of('F2 A0')
    assert err.position == 4
    assert "in 'A0' (TestAffine): the size must be at least 1" in err.reason


def test_a_clash_with_a_builtin_letter_is_a_plugin_conflict(plugins):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        plugins('clashing-letters', {'F': 'TestAffine', 'A': 'TestAffine'})
        assert parsed('A(size=2)') == [('TestAffine', {'size': 2})]
    messages = [str(w.message) for w in caught]
    assert messages == [
        "two brainstorm plugins provide the spec letter 'F': "
        "'brainstorm-core' and 'clashing-letters'; neither is used, the "
        'other names are; uninstall one of them, or set '
        'BRAINSTORM_PLUGINS_STRICT=1 to make this an error']
    assert registry.conflicts[('spec_letters', 'F')] == [
        'brainstorm-core', 'clashing-letters']
    err = error_of('D F3')
    assert err.position == 2
    assert err.reason == (
        "invalid network spec: two brainstorm plugins provide the spec "
        "letter 'F': 'brainstorm-core' and 'clashing-letters', so neither "
        'is used; uninstall one of them')


def test_a_clash_between_plugins_is_reported_and_strict_mode_fails(
        plugins, monkeypatch):
    plugins('first-letters', {'Q': 'TestAffine'})
    with pytest.warns(RuntimeWarning, match="spec letter 'Q': "
                                            "'first-letters' and "
                                            "'second-letters'"):
        plugins('second-letters', {'Q': 'TestSoftmaxLoss'})
        registry.load()
    assert "'first-letters' and 'second-letters'" in error_of('Q').reason
    monkeypatch.setenv('BRAINSTORM_PLUGINS_STRICT', '1')
    registry.reset()
    with pytest.raises(PluginError, match="two brainstorm plugins provide "
                                          "the spec letter 'Q'"):
        registry.load()


@pytest.mark.parametrize('letters, words', [
    ({'a': 'TestAffine'}, "registers the spec letter 'a', but spec letters "
                          'are single capital ASCII letters'),
    ({'AB': 'TestAffine'}, "registers the spec letter 'AB'"),
    ({'A': 42}, "maps the spec letter 'A' to 42; a letter maps to a layer "
                'name'),
    (['A'], 'brainstorm_spec_letters must return a dict'),
])
def test_invalid_letter_registrations_name_the_plugin(plugins, letters,
                                                      words):
    plugins('bad-letters', letters)
    with pytest.raises(PluginError) as info:
        registry.load()
    assert words in str(info.value)
    assert 'bad-letters' in str(info.value)
    registry.unregister_module('bad-letters')
