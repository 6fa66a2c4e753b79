"""Sphinx configuration of the brainstorm documentation site.

Build it with ``hatch run docs:build`` (HTML into docs/_build/html with
warnings as errors, then the code examples of the guide run by
sphinx.ext.doctest).
"""
import datetime
import importlib.metadata
import os
import sys

# Plugins that fail to load must fail the build, not leave a class out.
os.environ.setdefault('BRAINSTORM_PLUGINS_STRICT', '1')
# Numba compiles into a cache beside its sources; keep the docs build from
# writing there when the packages are installed read-only.
os.environ.setdefault('NUMBA_CACHE_DIR',
                      os.path.join(os.path.dirname(__file__), '_build',
                                   'numba-cache'))

project = 'brainstorm'
author = 'the brainstorm developers'
copyright = '2015-{}, {}'.format(datetime.date.today().year, author)
try:
    release = importlib.metadata.version('brainstorm-core')
except importlib.metadata.PackageNotFoundError:
    sys.exit('docs/conf.py: brainstorm-core is not installed; build the '
             'site with `hatch run docs:build`, whose environment installs '
             'every package of the monorepo')
version = release

extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.doctest',
    'sphinx.ext.viewcode',
    'numpydoc',
    'myst_parser',
]

source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
root_doc = 'index'
exclude_patterns = ['_build', 'Thumbs.db', '.DS_Store']
nitpicky = False

# -- autodoc / numpydoc ------------------------------------------------------
autodoc_member_order = 'bysource'
autodoc_typehints = 'none'
autodoc_default_options = {'show-inheritance': True}
# Members are listed by explicit directives (see docs/api); numpydoc's own
# member tables would document every method a second time.
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = False

# -- MyST (architecture notes, changelog, README sections) ------------------
myst_heading_anchors = 3
myst_enable_extensions = ['colon_fence']

# -- doctest -----------------------------------------------------------------
doctest_global_setup = '''
import numpy as np
import brainstorm as bs
bs.global_rnd.set_seed(42)
'''
# only the guide's explicit doctest blocks, not the examples of docstrings
doctest_test_doctest_blocks = ''

# -- HTML --------------------------------------------------------------------
html_theme = 'pydata_sphinx_theme'
html_title = 'brainstorm {}'.format(release)
html_static_path = []
html_theme_options = {
    'navigation_with_keys': False,
    'show_toc_level': 2,
    'header_links_before_dropdown': 6,
    'navbar_align': 'left',
    'footer_start': ['copyright'],
    'footer_end': ['sphinx-version'],
}
# a definite light/dark mode for pages opened without a stored choice
# (from a file, offline), so that the theme's script starts without an error
html_context = {'default_mode': 'auto'}
# pages without a section of their own: no left sidebar
html_sidebars = {page: [] for page in ('index', 'handler_operations',
                                       'ARCHITECTURE', 'benchmarks',
                                       'changelog')}
html_show_sourcelink = False
