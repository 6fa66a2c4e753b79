"""brainstorm.testing.extras: a missing optional extra skips a test, or
fails it with $BRAINSTORM_REQUIRE_EXTRAS=1."""
import pytest

from brainstorm.testing import extras


@pytest.mark.parametrize('value, required', [(None, False), ('', False),
                                             ('0', False), ('1', True),
                                             ('yes', True)])
def test_the_switch(monkeypatch, value, required):
    if value is None:
        monkeypatch.delenv(extras.REQUIRE_EXTRAS, raising=False)
    else:
        monkeypatch.setenv(extras.REQUIRE_EXTRAS, value)
    assert extras.extras_required() is required
    outcome = pytest.fail.Exception if required else pytest.skip.Exception
    with pytest.raises(outcome, match=r"the optional module "
                                      r"no_such_module_here cannot be "
                                      r"imported .*; pip install it"):
        extras.import_extra('no_such_module_here', 'pip install it')
    with pytest.raises(outcome, match=r"the program 'no-such-program-here' "
                                      r"is not on PATH; apt-get install it"):
        extras.find_program('no-such-program-here', 'apt-get install it')
    if required:
        with pytest.raises(outcome, match=r'\$BRAINSTORM_REQUIRE_EXTRAS='
                                          r'{} requires every optional '
                                          r'extra'.format(value)):
            extras.missing_extra('something is missing')


def test_present_extras_are_returned(monkeypatch):
    monkeypatch.setenv(extras.REQUIRE_EXTRAS, '1')
    assert extras.import_extra('json', 'builtin').dumps(1) == '1'
    assert extras.find_program('sh', 'builtin').endswith('sh')
