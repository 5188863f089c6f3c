"""The core imports only the standard library, and the version has one source."""

from __future__ import annotations

import configparser
import pathlib
import subprocess
import sys
import types
import unittest

import testdata_kit

ROOT = pathlib.Path(__file__).resolve().parent.parent


class ImportTests(unittest.TestCase):
    def test_core_import_leaves_the_extras_unloaded(self):
        code = (
            "import sys, testdata_kit, testdata_kit.unique, testdata_kit.case, testdata_kit.resources;"
            "print(','.join(m for m in ('requests', 'urllib3', 'mimesis', 'psycopg') if m in sys.modules))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
        self.assertEqual(out.stdout.strip(), "")

    def test_all_names_exist_and_cover_the_public_names(self):
        self.assertEqual(len(set(testdata_kit.__all__)), len(testdata_kit.__all__))
        public = {
            name for name, value in vars(testdata_kit).items()
            if not name.startswith("_") and name != "TYPE_CHECKING"
            and (name == "unique" or not isinstance(value, types.ModuleType))
        }
        self.assertEqual(public - set(testdata_kit.__all__), set(), "public names missing from __all__")
        for name in testdata_kit.__all__:
            self.assertTrue(hasattr(testdata_kit, name), name)


class VersionTests(unittest.TestCase):
    def test_setup_cfg_reads_the_version_from_the_package(self):
        parser = configparser.ConfigParser()
        parser.read(ROOT / "setup.cfg")
        self.assertEqual(parser["metadata"]["version"], "attr: testdata_kit.__version__")
        self.assertRegex(testdata_kit.__version__, r"^\d+\.\d+\.\d+")

    def test_changelog_mentions_the_current_version(self):
        changelog = (ROOT / "docs" / "changelog.rst").read_text(encoding="utf-8")
        self.assertIn(testdata_kit.__version__, changelog)


if __name__ == "__main__":
    unittest.main()
