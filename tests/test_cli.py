"""Tests for the ``python -m testdata_kit`` dispatcher."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import unittest

import testdata_kit
from testdata_kit.cli import COMMANDS, main


class CliTests(unittest.TestCase):
    def test_help_lists_every_command(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(main(["--help"]), 0)
        for name in COMMANDS:
            self.assertIn(f"  {name} ", out.getvalue())

    def test_no_arguments_is_a_usage_error(self):
        with contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(main([]), 2)

    def test_unknown_command_names_the_choices(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            self.assertEqual(main(["sweap"]), 2)
        self.assertIn("unknown command 'sweap'. Choose one of: ", err.getvalue())
        self.assertIn("lint", err.getvalue())

    def test_every_command_returns_a_status_for_help_and_for_a_bad_option(self):
        for name in COMMANDS:
            with self.subTest(command=name), contextlib.redirect_stdout(io.StringIO()) as out, \
                    contextlib.redirect_stderr(io.StringIO()) as err:
                self.assertEqual(main([name, "--help"]), 0)
                self.assertIn("usage:", out.getvalue())
                self.assertEqual(main([name, "--no-such-option"]), 2)
                self.assertIn("error:", err.getvalue())

    def test_every_command_module_has_a_main(self):
        import importlib

        for name, (module, _) in COMMANDS.items():
            with self.subTest(command=name):
                self.assertTrue(callable(importlib.import_module(module).main))

    def test_python_m_entry_point(self):
        out = subprocess.run(
            [sys.executable, "-m", "testdata_kit", "--version"], capture_output=True, text=True, check=True
        )
        self.assertEqual(out.stdout.strip(), f"testdata_kit {testdata_kit.__version__}")


if __name__ == "__main__":
    unittest.main()
