"""Sphinx configuration of the aras documentation site.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (needs the
``docs`` extra: ``pip install -e ".[docs]"``), then open ``docs/_build/html/index.html``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the worktree's aras and formulations, even when not installed

from aras import __version__  # noqa: E402

project = "aras"
author = "the aras authors"
copyright = "the aras authors"  # noqa: A001
version = release = __version__

extensions = [
    "myst_parser",              # the guides are Markdown
    "sphinx.ext.autodoc",       # the API reference from the docstrings
    "sphinx.ext.autosummary",   # one page per module, found recursively
    "sphinx.ext.napoleon",      # NumPy-style docstrings
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
templates_path = ["_templates"]
# Generated results pages that the guides link to but that are not pages of their own are
# excluded; README.md files of folders too.
exclude_patterns = ["_build", "**/README.md", "api/generated/*.tmp"]

myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
# Links to files of the repository outside docs/ (benchmarks/, instances/, examples/) are
# plain links to the repository, not pages.
myst_url_schemes = ["http", "https", "mailto"]

autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    "member-order": "bysource",
    "ignore-module-all": True,   # aras re-exports its short paths; document each name once
}
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_typehints_description_target = "documented_params"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True   # "Attributes" as fields: a `#:` comment on the same name is no duplicate

html_theme = "pydata_sphinx_theme"
html_title = f"aras {__version__}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = ["_static"]
html_css_files = ["custom.css"]
# The guides are single pages: no section navigation beside them (the API reference keeps it).
html_sidebars = {page: [] for page in (
    "index", "usage", "frontends", "extending", "studies", "steady-state", "results",
    "performance", "model", "contract", "bounds", "heuristics", "formulations", "energy",
    "development", "paper/summary", "studies/paper/summary", "studies/sensitivity/summary")}
