import json

import numpy as np
import pytest

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


def test_unregistered_type_is_refused():
    with pytest.raises(DescriptionError, match='unknown @type'):
        create_from_description({'@type': 'os.system', 'command': 'ls'})
    with pytest.raises(DescriptionError):
        create_from_description({'@type': 'Thing', 'size': 1})


def test_undescribable_object_raises():
    with pytest.raises(DescriptionError, match='not describable'):
        get_description(object())
    with pytest.raises(DescriptionError, match='str keys'):
        get_description({1: 2})
