"""The documentation site (docs/) leaves nothing out.

Every class and function that a package of this repository registers (the
registry's categories: layers, handlers, initializers, hooks, scorers, value
modifiers, data iterators, steppers, describables, datasets, communicators)
must be the target of an autodoc directive of the API pages, and every
operation of the handler protocol must have its entry on the handler
operations page. These tests read the page sources, so they run without
Sphinx; where the site was built (``hatch run docs:build``) the built HTML
is checked too. The build itself, with warnings as errors and the guide's
doctests, is ``hatch run docs:build``.
"""
import importlib
import pathlib
import re

import pytest

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

from brainstorm.handlers.base_handler import OPERATIONS
from brainstorm.plugins import CATEGORIES, registry

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / 'docs'
HTML = DOCS / '_build' / 'html'

DIRECTIVE = re.compile(
    r'^\s*\.\.\s+auto(?:class|function|data|method|exception|attribute)'
    r'::\s+([\w.]+)\s*$', re.M)


def workspace_distributions():
    """Names of the distributions under packages/ (their pyproject.toml)."""
    names = set()
    for pyproject in sorted((ROOT / 'packages').glob('*/pyproject.toml')):
        with open(pyproject, 'rb') as f:
            names.add(tomllib.load(f)['project']['name'])
    return names


def page_sources():
    """{relative path: text} of every .rst page of docs/."""
    return {str(p.relative_to(DOCS)): p.read_text(encoding='utf-8')
            for p in sorted(DOCS.rglob('*.rst'))
            if '_build' not in p.parts}


def resolve(target):
    """The object a dotted autodoc target names, or None."""
    parts = target.split('.')
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module('.'.join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def documented_objects(pages):
    """({id(object): target}, [targets that resolve to nothing])."""
    found, broken = {}, []
    for text in pages.values():
        for target in DIRECTIVE.findall(text):
            obj = resolve(target)
            if obj is None:
                broken.append(target)
            else:
                found[id(obj)] = target
    return found, broken


def registered_objects(distributions):
    """[(category, name, object)] of everything ``distributions``
    register."""
    items = []
    for category in CATEGORIES:
        for name in registry.names(category):
            if registry.provider(category, name) in distributions:
                items.append((category, name,
                              registry.get(category, name)))
    return items


def missing_from_pages(pages, distributions):
    """Lines naming each registered object no directive of ``pages``
    documents."""
    found, _ = documented_objects(pages)
    return ['{}: {} ({}.{})'.format(category, name, obj.__module__,
                                    obj.__qualname__)
            for category, name, obj in registered_objects(distributions)
            if id(obj) not in found]


def test_the_registry_is_not_empty():
    # the checks below would pass on nothing
    items = registered_objects(workspace_distributions())
    categories = {category for category, _, _ in items}
    assert {'layers', 'handlers', 'initializers', 'hooks', 'scorers',
            'value_modifiers', 'data_iterators', 'steppers',
            'communicators'} <= categories
    assert len(items) > 90


def test_every_registered_name_is_in_the_api_reference():
    missing = missing_from_pages(page_sources(), workspace_distributions())
    assert not missing, (
        'registered by a package but documented on no page of docs/ (add '
        'an autoclass/autofunction directive to the page of its package '
        'in docs/api/):\n  ' + '\n  '.join(missing))


def test_every_autodoc_target_exists():
    _, broken = documented_objects(page_sources())
    assert not broken, (
        'autodoc directives of docs/ name objects that do not exist (a '
        'renamed or removed class?):\n  ' + '\n  '.join(broken))


def test_a_page_missing_a_layer_is_reported():
    pages = page_sources()
    page = 'api/layers.rst'
    directive = '.. autofunction:: brainstorm_layers.fully_connected.' \
                'FullyConnected\n'
    assert directive in pages[page]
    pages[page] = pages[page].replace(directive, '')
    missing = missing_from_pages(pages, workspace_distributions())
    assert missing == ['layers: FullyConnected (brainstorm_layers.'
                       'fully_connected.FullyConnected)']


def test_every_handler_operation_is_on_its_page():
    text = (DOCS / 'handler_operations.rst').read_text(encoding='utf-8')
    listed = re.findall(
        r'^\.\. automethod:: brainstorm\.handlers\.base_handler\.Handler\.'
        r'(\w+)\s*$', text, re.M)
    missing = sorted(set(OPERATIONS) - set(listed))
    assert not missing, (
        'handler operations without an entry in docs/handler_operations.rst '
        '(add an automethod directive to the group it belongs to): '
        + ', '.join(missing))
    assert len(listed) == len(set(listed)), 'an operation is listed twice'


def test_every_page_of_docs_is_reachable():
    # every page must be in a toctree (Sphinx warns otherwise, and the
    # build fails on warnings); checked here too, without Sphinx
    sources = {p.relative_to(DOCS).with_suffix('').as_posix()
               for p in DOCS.rglob('*')
               if p.suffix in ('.rst', '.md') and '_build' not in p.parts}
    listed = {'index'}
    for path in DOCS.rglob('*.rst'):
        if '_build' in path.parts:
            continue
        base = path.parent.relative_to(DOCS)
        for block in re.findall(r'\.\. toctree::\n((?:[ \t]+.*\n|\n)+)',
                                path.read_text(encoding='utf-8')):
            for line in block.splitlines():
                entry = line.strip()
                if entry and not entry.startswith(':'):
                    listed.add((base / entry).as_posix()
                               .replace('guide/../', '')
                               .replace('api/../', ''))
    orphans = sorted(sources - listed)
    assert not orphans, ('pages of docs/ that no toctree lists: '
                         + ', '.join(orphans))


@pytest.mark.skipif(not (HTML / 'index.html').exists(),
                    reason='the site is not built (hatch run docs:build)')
def test_built_html_documents_every_registered_name():
    html = '\n'.join(p.read_text(encoding='utf-8')
                     for p in (HTML / 'api').glob('*.html'))
    html += (HTML / 'handler_operations.html').read_text(encoding='utf-8')
    missing = []
    for category, name, obj in registered_objects(workspace_distributions()):
        anchor = 'id="{}.{}"'.format(obj.__module__, obj.__qualname__)
        if anchor not in html:
            missing.append('{}: {} ({})'.format(category, name, anchor))
    assert not missing, ('registered names without an entry in the built '
                         'API pages (rebuild with hatch run docs:build):\n  '
                         + '\n  '.join(missing))


def _browser_helper():
    import importlib.util
    path = ROOT / 'packages' / 'brainstorm-hooks' / 'tests' / '_browser.py'
    spec = importlib.util.spec_from_file_location('brainstorm_docs_browser',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('page, heading', [
    ('index.html', 'brainstorm'),
    ('handler_operations.html', 'Handler operations'),
])
def test_the_built_site_renders_in_a_browser(tmp_path, page, heading):
    """The built pages open offline in a real headless browser: their
    title and navigation show, their stylesheets and scripts load (the
    theme is bundled, nothing comes from the internet) and the console
    reports no error."""
    from brainstorm.testing.extras import import_extra, missing_extra
    built = ROOT / 'docs' / '_build' / 'html' / page
    if not built.exists():
        missing_extra('the documentation site is not built ({} is missing): '
                      'hatch run docs:build'.format(built))
    import_extra('PIL', 'pip install pillow')
    import_extra('tornado', 'pip install tornado (bokeh brings it)')
    helper = _browser_helper()
    browser = helper.Browser(helper.find_browser(), tmp_path)
    try:
        browser.open(helper.file_url(built))
        title = browser.wait_for(
            'document.readyState == "complete" && document.title',
            'the page to load')
        assert heading.lower() in title.lower(), title
        # the theme's stylesheet replaces the browser's default serif font
        font = browser.evaluate('getComputedStyle(document.body).fontFamily')
        assert 'times' not in font.lower(), \
            'the theme\'s stylesheet did not apply (font {!r})'.format(font)
        navigation = browser.evaluate(
            'document.querySelectorAll("nav a").length')
        assert navigation >= 5, 'no navigation links rendered'
        shot = browser.screenshot()
        shot.save(str(tmp_path / page.replace('.html', '.png')))
        assert helper.distinct_colours(shot) > 20
        assert browser.console_errors() == []
    finally:
        browser.close()
