import json
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

import brainstorm as bs
from brainstorm.describable import (Describable, DescriptionError,
                                    create_from_description, get_description)
from brainstorm.plugins import hookimpl, registry


class Thing(Describable):
    __undescribed__ = {'cache': 'empty'}
    __default_values__ = {'flag': False}

    def __init__(self, size, flag=False):
        self.size = size
        self.flag = flag
        self.cache = 'full'
        self.initialised = False

    def __init_from_description__(self, description):
        self.initialised = True


class Holder(Describable):
    def __init__(self, child, items):
        self.child = child
        self.items = items


class _Plugin:
    @staticmethod
    @hookimpl
    def brainstorm_describables():
        return [Thing, Holder]


@pytest.fixture
def registered():
    registry.register_module(_Plugin, 'test-describable')
    yield
    registry.unregister_module('test-describable')


def test_basic_values_describe_themselves():
    for value in (None, True, 3, 2.5, 'x', [1, 'a'], {'a': [1, 2]}):
        assert get_description(value) == value
    assert get_description((1, 2)) == [1, 2]
    assert get_description(np.float32(1.5)) == 1.5
    assert get_description(np.arange(3)) == [0, 1, 2]


def test_description_leaves_out_undescribed_and_defaults(registered):
    d = get_description(Thing(5))
    assert d == {'@type': 'Thing', 'size': 5, 'initialised': False}
    d = get_description(Thing(5, flag=True))
    assert d['flag'] is True
    json.dumps(d)


def test_round_trip_sets_defaults_undescribed_and_calls_init(registered):
    t = create_from_description(get_description(Thing(7)))
    assert isinstance(t, Thing)
    assert t.size == 7 and t.flag is False and t.cache == 'empty'
    assert t.initialised is True


def test_nested_round_trip(registered):
    h = Holder(Thing(1), [Thing(2), 3])
    h2 = create_from_description(json.loads(json.dumps(get_description(h))))
    assert isinstance(h2.child, Thing) and h2.child.size == 1
    assert isinstance(h2.items[0], Thing) and h2.items[1] == 3


def test_unknown_type_is_refused():
    with pytest.raises(DescriptionError, match='unknown @type'):
        create_from_description({'@type': 'os.system', 'command': 'ls'})
    with pytest.raises(DescriptionError, match='unknown @type'):
        create_from_description({'@type': 'NoSuchThing', 'size': 1})


def test_undescribable_object_raises():
    with pytest.raises(DescriptionError, match='not describable'):
        get_description(object())
    with pytest.raises(DescriptionError, match='str keys'):
        get_description({1: 2})


# -- classes of the user's own code -------------------------------------------

class Unregistered(Describable):
    """Defined here, registered by no plugin."""

    def __init__(self, rate):
        self.rate = rate


def test_an_imported_unregistered_subclass_round_trips():
    description = json.loads(json.dumps(get_description(Unregistered(0.5))))
    assert description == {'@type': 'Unregistered', 'rate': 0.5}
    again = create_from_description(description)
    assert type(again) is Unregistered and again.rate == 0.5


USER_SCRIPT = '''
import json
from brainstorm.describable import (Describable, create_from_description,
                                    get_description)

class MySchedule(Describable):
    __undescribed__ = {'calls': 0}

    def __init__(self, start, factor):
        self.start = start
        self.factor = factor
        self.calls = 0

    def __call__(self, epoch):
        self.calls += 1
        return self.start * self.factor ** epoch

text = json.dumps(get_description(MySchedule(0.1, 0.5)))
again = create_from_description(json.loads(text))
print(type(again).__module__, type(again).__name__, again(2), again.calls)
'''


def test_a_subclass_defined_in_the_users_script_round_trips(tmp_path):
    script = tmp_path / 'my_script.py'
    script.write_text(USER_SCRIPT)
    result = subprocess.run([sys.executable, str(script)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['__main__', 'MySchedule', '0.025', '1']


def module_with(name, source, monkeypatch):
    """An imported module ``name`` (in sys.modules for the test)."""
    module = types.ModuleType(name)
    monkeypatch.setitem(sys.modules, name, module)
    exec(textwrap.dedent(source), module.__dict__)
    return module


CLASS_SOURCE = '''
from brainstorm.describable import Describable

class Twin(Describable):
    def __init__(self, x):
        self.x = x
'''


def test_two_imported_classes_of_one_name_are_an_error_naming_both(
        monkeypatch):
    module_with('user_module_one', CLASS_SOURCE, monkeypatch)
    module_with('user_module_two', CLASS_SOURCE, monkeypatch)
    with pytest.raises(DescriptionError) as info:
        create_from_description({'@type': 'Twin', 'x': 1})
    message = str(info.value)
    assert "@type 'Twin' is ambiguous: 2 different Describable classes " \
           'have that name: user_module_one.Twin and user_module_two.Twin' \
        in message
    assert 'rename one of them' in message


def test_a_class_named_like_a_registered_one_cannot_be_described(
        monkeypatch):
    module = module_with('user_schedules', '''
        from brainstorm.describable import Describable

        class Linear(Describable):
            def __init__(self, slope):
                self.slope = slope
        ''', monkeypatch)
    with pytest.raises(DescriptionError) as info:
        get_description(module.Linear(2.0))
    assert str(info.value) == (
        "cannot describe user_schedules.Linear: its @type 'Linear' names the "
        'registered class brainstorm.training.schedules.Linear (registered '
        'by brainstorm-core), which the description would create instead; '
        'rename the class')
    # the registered class keeps its name: descriptions of it still work
    schedule = bs.training.schedules.Linear(0.1, 0.0, num_steps=4)
    again = create_from_description(get_description(schedule))
    assert type(again) is bs.training.schedules.Linear


def test_a_class_defined_again_in_its_module_counts_once(monkeypatch):
    module = module_with('user_notebook', CLASS_SOURCE, monkeypatch)
    old = module.Twin
    exec(textwrap.dedent(CLASS_SOURCE), module.__dict__)  # the cell again
    assert module.Twin is not old
    again = create_from_description({'@type': 'Twin', 'x': 3})
    assert type(again) is module.Twin and again.x == 3


def test_classes_of_modules_no_longer_imported_are_not_created(monkeypatch):
    with monkeypatch.context() as patch:
        module = module_with('user_removed', CLASS_SOURCE, patch)
    assert 'user_removed' not in sys.modules
    with pytest.raises(DescriptionError, match="unknown @type 'Twin'"):
        create_from_description({'@type': 'Twin', 'x': 1})
    del module


def test_a_description_never_imports_a_module(tmp_path, monkeypatch):
    (tmp_path / 'never_imported_module.py').write_text(textwrap.dedent('''
        from brainstorm.describable import Describable

        class NeverImported(Describable):
            pass
        '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(DescriptionError, match="unknown @type "
                                               "'NeverImported'"):
        create_from_description({'@type': 'NeverImported'})
    assert 'never_imported_module' not in sys.modules
