"""One version for every package; sibling dependencies pinned to it."""
import importlib.metadata
import pathlib
import re

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = sorted((ROOT / 'packages').glob('*/pyproject.toml'))


def load(path):
    with open(path, 'rb') as f:
        return tomllib.load(f)['project']


def test_all_seven_packages_exist():
    names = {load(p)['name'] for p in PACKAGES}
    assert names == {'brainstorm-core', 'brainstorm-layers',
                     'brainstorm-hooks', 'brainstorm-data', 'brainstorm-cuda',
                     'brainstorm-numba', 'brainstorm-mpi'}


def test_versions_agree_and_siblings_are_pinned():
    projects = [load(p) for p in PACKAGES]
    versions = {p['name']: p['version'] for p in projects}
    assert len(set(versions.values())) == 1, versions
    version = versions['brainstorm-core']
    names = set(versions)
    for project in projects:
        for dep in project.get('dependencies', []):
            name = re.split(r'[<>=!~ \[;@]', dep, maxsplit=1)[0]
            if name in names:
                assert dep.replace(' ', '') == '{}=={}'.format(
                    name, version), (project['name'], dep)


def test_each_package_declares_one_entry_point_named_after_itself():
    for path in PACKAGES:
        with open(path, 'rb') as f:
            data = tomllib.load(f)['project']
        eps = data['entry-points']['brainstorm']
        assert list(eps) == [data['name']], path


@pytest.mark.parametrize('path', PACKAGES, ids=lambda p: p.parent.name)
def test_installed_metadata_matches(path):
    project = load(path)
    installed = importlib.metadata.version(project['name'])
    assert installed == project['version']
