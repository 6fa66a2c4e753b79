"""The packages as published software: the LICENSE in the repository and in
every wheel, package READMEs that read correctly on the package index (no
relative links, install lines for today and for a release), and the refusal
to run beside the unrelated 2015 distribution named ``brainstorm``."""
import pathlib
import re
import subprocess
import sys
import zipfile

import pytest

try:
    import tomllib
except ImportError:   # Python 3.10
    import tomli as tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = sorted(p for p in (ROOT / 'packages').iterdir()
                  if (p / 'pyproject.toml').exists())
PACKAGE_IDS = [p.name for p in PACKAGES]


def test_every_package_of_the_monorepo_is_checked():
    assert {'brainstorm-core', 'brainstorm-layers', 'brainstorm-hooks',
            'brainstorm-data'} <= set(PACKAGE_IDS)


def test_the_root_license_is_mit_of_the_brainstorm_developers():
    text = (ROOT / 'LICENSE').read_text()
    assert text.startswith('MIT License\n')
    assert re.search(r'Copyright \(c\) \d{4} the brainstorm developers', text)
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text


@pytest.mark.parametrize('package', PACKAGES, ids=PACKAGE_IDS)
def test_each_package_declares_and_carries_the_license(package):
    project = tomllib.loads((package / 'pyproject.toml').read_text())[
        'project']
    assert project['license'] == 'MIT'
    assert project.get('license-files') == ['LICENSE'], \
        '{}: add license-files = ["LICENSE"] to [project]'.format(package.name)
    assert (package / 'LICENSE').read_bytes() == \
        (ROOT / 'LICENSE').read_bytes(), \
        '{}/LICENSE differs from the LICENSE at the root'.format(package.name)
    assert project['readme'] == 'README.md'


@pytest.mark.parametrize('package', PACKAGES, ids=PACKAGE_IDS)
def test_each_wheel_holds_the_license_and_the_readme(package, tmp_path):
    builders = pytest.importorskip('hatchling.builders.wheel',
                                   reason='hatchling (the build backend) is '
                                          'not installed')
    builder = builders.WheelBuilder(str(package))
    wheel, = builder.build(directory=str(tmp_path), versions=['standard'])
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        licenses = [n for n in names if n.endswith('.dist-info/licenses/'
                                                   'LICENSE')]
        assert len(licenses) == 1, names
        assert z.read(licenses[0]) == (ROOT / 'LICENSE').read_bytes()
        metadata_name, = [n for n in names
                          if n.endswith('.dist-info/METADATA')]
        metadata = z.read(metadata_name).decode('utf-8')
    assert 'License-Expression: MIT' in metadata
    assert 'License-File: LICENSE' in metadata
    # the README is the long description shown on the package index
    readme = (package / 'README.md').read_text()
    assert readme.splitlines()[0] in metadata


# links in Markdown: [text](target), ![alt](target), [label]: target, and
# HTML href= / src= attributes
LINK_PATTERNS = (re.compile(r'\]\(\s*<?([^)\s>]+)'),
                 re.compile(r'^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)',
                            re.MULTILINE),
                 re.compile(r'''(?:href|src)\s*=\s*["']([^"']+)["']'''))


def relative_links(text):
    """The link targets of Markdown ``text`` that are not absolute
    addresses (https://..., http://..., mailto:)."""
    # code spans and blocks hold no links
    text = re.sub(r'```.*?```', '', text, flags=re.DOTALL)
    text = re.sub(r'`[^`\n]*`', '', text)
    targets = [m for pattern in LINK_PATTERNS for m in pattern.findall(text)]
    return [t for t in targets
            if not re.match(r'(https?://|mailto:)', t, re.IGNORECASE)]


def test_relative_links_are_found():
    text = ('see [the core](../brainstorm-core/README.md), [logs](#logs),\n'
            '![plot](docs/plot.png) and <a href="LICENSE">it</a>\n'
            '[ref]: docs/index.md\n'
            'but not [numba](https://numba.pydata.org), `[x](y)` or\n'
            '```\n[a](b)\n```\n')
    assert relative_links(text) == ['../brainstorm-core/README.md', '#logs',
                                    'docs/plot.png', 'docs/index.md',
                                    'LICENSE']


@pytest.mark.parametrize('package', PACKAGES, ids=PACKAGE_IDS)
def test_package_readmes_hold_no_relative_links(package):
    # a package's README is its description on the package index, where a
    # relative link (or one to an anchor) leads nowhere
    links = relative_links((package / 'README.md').read_text())
    assert not links, (
        '{}/README.md links to {}: on the package index these lead nowhere; '
        'write the path as text or link to an absolute address'.format(
            package.name, ', '.join(links)))


@pytest.mark.parametrize('package', PACKAGES, ids=PACKAGE_IDS)
def test_package_readmes_say_how_to_install_today_and_once_published(
        package):
    text = (package / 'README.md').read_text()
    name = package.name
    today = re.compile(r"pip install .*'?packages/{}(\[\w+\])?'?(\s|$)"
                       .format(re.escape(name)), re.MULTILINE)
    published = re.compile(r"pip install .*(?<![/\w-])'?{}(\[\w+\])?'?(\s|$)"
                           .format(re.escape(name)), re.MULTILINE)
    assert today.search(text), \
        '{}/README.md lacks `pip install packages/{}` (from the ' \
        'repository)'.format(name, name)
    assert published.search(text), \
        '{}/README.md lacks `pip install {}` (once published)'.format(
            name, name)
    assert 'once published' in text


# -- the unrelated 2015 distribution ------------------------------------------
def import_brainstorm_beside(tmp_path, dist_info):
    """Import brainstorm in a new interpreter whose path also holds the
    metadata folder ``dist_info`` (a distribution with no files)."""
    folder = tmp_path / dist_info
    folder.mkdir()
    name, version = dist_info[:-len('.dist-info')].rsplit('-', 1)
    (folder / 'METADATA').write_text(
        'Metadata-Version: 2.1\nName: {}\nVersion: {}\n'.format(
            name, version))
    return subprocess.run(
        [sys.executable, '-c', 'import sys; sys.path.append({!r}); '
         'import brainstorm; print("imported")'.format(str(tmp_path))],
        capture_output=True, text=True, timeout=120)


def test_import_refuses_the_2015_brainstorm_distribution(tmp_path):
    result = import_brainstorm_beside(tmp_path, 'brainstorm-0.5.0.dist-info')
    assert result.returncode == 1
    assert 'imported' not in result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('ImportError: cannot import brainstorm: the '
                           "distribution 'brainstorm' 0.5.0 (in {})".format(
                               tmp_path))
    assert 'unrelated project of 2015' in last
    assert '`pip uninstall brainstorm`' in last
    assert 'reinstall brainstorm-core' in last


def test_import_accepts_other_distributions_with_similar_names(tmp_path):
    result = import_brainstorm_beside(tmp_path,
                                      'brainstorm_extra-0.5.0.dist-info')
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'imported'
