"""``brainstorm new-plugin``: the distribution it writes installs with
``pip install -e`` and passes its own tests.

The plugin is installed into a throw-away virtual environment that sees
this environment's packages (a .pth file adding its site-packages) but
installs into its own, so the plugin registry of the other tests never
sees the new plugin.
"""
import os
import subprocess
import sys
import sysconfig
import tomllib

import pytest

import brainstorm.cli as cli
from brainstorm.scaffold import (ScaffoldError, default_layer_name,
                                 new_plugin)


def test_new_plugin_writes_a_complete_distribution(tmp_path, capsys):
    code = cli.main(['new-plugin', 'brainstorm-swish', '--directory',
                     str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    root = tmp_path / 'brainstorm-swish'
    assert 'wrote the plugin distribution {} (6 files)'.format(root) in out
    assert 'pip install -e ".[test]"' in out
    assert sorted(str(p.relative_to(root)) for p in root.rglob('*')
                  if p.is_file()) == [
        'README.md', 'pyproject.toml', 'src/brainstorm_swish/__init__.py',
        'src/brainstorm_swish/plugin.py', 'src/brainstorm_swish/swish.py',
        'tests/test_swish.py']
    meta = tomllib.loads((root / 'pyproject.toml').read_text())
    assert meta['build-system']['build-backend'] == 'hatchling.build'
    assert meta['project']['name'] == 'brainstorm-swish'
    assert meta['project']['dependencies'] == ['brainstorm-core>=0.1']
    assert meta['project']['entry-points']['brainstorm'] == {
        'brainstorm-swish': 'brainstorm_swish.plugin'}
    layer = (root / 'src/brainstorm_swish/swish.py').read_text()
    assert 'def Swish(beta=1.0, name=None)' in layer
    assert "expected_kwargs = {'beta'}" in layer
    for name in ('check_layer_gradients', 'save_as_hdf5',
                 'check_layer_example'):
        assert name in (root / 'tests/test_swish.py').read_text()


def test_the_layer_name_can_be_chosen(tmp_path):
    root = new_plugin('acme-activations', tmp_path, layer='ScaledSwish')
    assert (root / 'src/acme_activations/scaled_swish.py').is_file()
    assert 'def ScaledSwish(' in (
        root / 'src/acme_activations/scaled_swish.py').read_text()
    assert default_layer_name('my-layers') == 'MyLayers'
    assert default_layer_name('brainstorm-swish') == 'Swish'


@pytest.mark.parametrize('argv, message', [
    (['x y'], "the plugin name 'x y' is not a valid distribution name"),
    (['3d-layers'], "gives the import name '3d_layers', which is not a "
                    'Python identifier'),
    (['brainstorm-layers'], "gives the import name 'brainstorm_layers' of a "
                            'brainstorm package'),
    (['my-plugin', '--layer', 'swish'], "the layer name 'swish' must start "
                                        'with a capital ASCII letter'),
    (['my-plugin', '--layer', 'Input'], "the layer name 'Input' is "
                                        'reserved'),
])
def test_invalid_names_are_usage_errors(tmp_path, capsys, argv, message):
    assert cli.main(['new-plugin', '--directory', str(tmp_path)] +
                    argv) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_not_overwritten(tmp_path):
    (tmp_path / 'my-plugin').mkdir()
    (tmp_path / 'my-plugin' / 'keep.txt').write_text('mine')
    with pytest.raises(ScaffoldError, match='already exists and is not an '
                                            'empty folder'):
        new_plugin('my-plugin', tmp_path)
    assert os.listdir(tmp_path / 'my-plugin') == ['keep.txt']


def run(argv, cwd, timeout=120):
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True,
                            timeout=timeout,
                            env=dict(os.environ, PYTHONDONTWRITEBYTECODE='1'))
    assert result.returncode == 0, 'command {} failed:\n{}\n{}'.format(
        argv, result.stdout, result.stderr)
    return result.stdout


def test_the_generated_plugin_passes_its_own_tests_after_pip_install_e(
        tmp_path):
    root = new_plugin('brainstorm-swish', tmp_path)
    venv = tmp_path / 'venv'
    run([sys.executable, '-m', 'venv', '--without-pip', str(venv)], tmp_path)
    python = str(venv / ('Scripts/python.exe' if os.name == 'nt'
                         else 'bin/python'))
    purelib = run([python, '-c', 'import sysconfig; '
                   "print(sysconfig.get_paths()['purelib'])"],
                  tmp_path).strip()
    # the packages of this environment (brainstorm-core and the others,
    # pytest, pip, hatchling), with their editable installs' .pth files
    with open(os.path.join(purelib, '_this_environment.pth'), 'w') as f:
        f.write('import site; site.addsitedir({!r})\n'.format(
            sysconfig.get_paths()['purelib']))
    run([python, '-m', 'pip', 'install', '--quiet', '--no-index',
         '--no-build-isolation', '--no-deps', '-e', str(root)], tmp_path)
    listing = run([python, '-m', 'brainstorm.cli', 'plugins'], tmp_path)
    assert 'brainstorm-swish 0.1.0\n  layers: Swish' in listing
    out = run([python, '-m', 'pytest', '-q', '-p', 'no:cacheprovider'],
              root)
    assert '14 passed' in out, out
    # the plugin went into the throw-away environment only
    from brainstorm.plugins import registry
    assert not registry.contains('layers', 'Swish')
