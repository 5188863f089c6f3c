"""The settings layer: one parser per setting, whether a variable or a setup.cfg key sets it, read lazily."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

from testdata_kit import _settings
from testdata_kit.config import ConfigError
from testdata_kit.errors import InvalidValueError, SettingError, TestDataError


class SameWordsWhereverSet(unittest.TestCase):
    def in_folder_with(self, text: str) -> None:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        pathlib.Path(folder.name, "setup.cfg").write_text(text)
        previous = os.getcwd()
        os.chdir(folder.name)
        self.addCleanup(os.chdir, previous)

    def test_fsync_maybe_as_variable_and_as_key(self) -> None:
        with mock.patch.dict(os.environ, {"TESTDATA_JOURNAL_FSYNC": "maybe"}), \
                self.assertRaises(SettingError) as from_env:
            _settings.value("journal-fsync")
        self.in_folder_with("[testdata_kit]\njournal-fsync = maybe\n")
        with mock.patch.dict(os.environ, {"TESTDATA_JOURNAL_FSYNC": ""}), \
                self.assertRaises(ConfigError) as from_key:
            _settings.value("journal-fsync")
        self.assertEqual(str(from_env.exception),
                         "TESTDATA_JOURNAL_FSYNC='maybe' is not valid; expected true or false (also yes/no, on/off, "
                         "1/0).")
        self.assertTrue(str(from_key.exception).endswith(
            "[testdata_kit] journal-fsync = 'maybe' is not valid; expected true or false (also yes/no, on/off, "
            "1/0)."), str(from_key.exception))

    def test_the_variable_wins_over_the_key(self) -> None:
        self.in_folder_with("[testdata_kit]\njournal-fsync = no\n")
        with mock.patch.dict(os.environ, {"TESTDATA_JOURNAL_FSYNC": "yes"}):
            self.assertIs(_settings.value("journal-fsync"), True)
        with mock.patch.dict(os.environ, {"TESTDATA_JOURNAL_FSYNC": ""}):
            self.assertIs(_settings.value("journal-fsync"), False)

    def test_keep_names_its_choices(self) -> None:
        with mock.patch.dict(os.environ, {"TESTDATA_KEEP": "yes"}), self.assertRaises(SettingError) as caught:
            _settings.value("keep")
        self.assertIn("'failed' (keep the data of failing tests)", str(caught.exception))
        self.assertEqual((caught.exception.setting, caught.exception.value), ("TESTDATA_KEEP", "yes"))
        with mock.patch.dict(os.environ, {"TESTDATA_KEEP": "FAILED"}):
            self.assertEqual(_settings.value("keep"), "failed")

    def test_a_setting_error_is_caught_as_the_library_s_and_as_value_error(self) -> None:
        self.assertTrue(issubclass(SettingError, TestDataError))
        self.assertTrue(issubclass(SettingError, InvalidValueError))
        self.assertTrue(issubclass(SettingError, ValueError))

    def test_every_core_variable_has_one_setting(self) -> None:
        from testdata_kit import _env

        variables = {s.env for s in _settings.SETTINGS.values()}
        for name in ("KEEP_ENV", "INTERRUPTS_ENV", "JOURNAL_ENV", "JOURNAL_FSYNC_ENV", "REPORT_ENV",
                     "TEARDOWN_WORKERS_ENV"):
            self.assertIn(getattr(_env, name), variables)


class Cheap(unittest.TestCase):
    def test_import_reads_no_setting_and_loads_no_parser(self) -> None:
        code = ("import sys, testdata_kit; print('configparser' in sys.modules, "
                "sys.modules['testdata_kit._settings']._checked)")
        environ = {**os.environ, "TESTDATA_KEEP": "yes"}  # would raise if anything read it at import
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environ)
        self.assertEqual(done.stdout, "False False\n")
