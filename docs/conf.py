"""Sphinx configuration for the testdata_kit documentation."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import testdata_kit

project = "testdata_kit"
author = "The testdata_kit authors"
copyright = "2026, The testdata_kit authors"
release = testdata_kit.__version__
version = ".".join(release.split(".")[:2])

extensions = ["sphinx.ext.autodoc", "sphinx.ext.doctest"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
# Optional extras may be missing where the docs are built; autodoc then documents what it can import.
autodoc_mock_imports = ["mimesis", "psycopg"]
exclude_patterns = ["_build"]
# Furo: a content column that widens with the window and code blocks that scroll instead of being cut, so a
# 100-character command stays readable at 1280 px.
html_theme = "furo"
html_title = f"testdata_kit {release}"
pygments_style = "friendly"
pygments_dark_style = "monokai"
nitpicky = False
