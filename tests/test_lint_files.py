"""Files the lint cannot read or check are one TDK000 finding each, and the rest of the run goes on."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import unittest
from pathlib import Path

from testdata_kit.lint import Flake8Plugin, lint_paths, lint_source, main


class _LintDirectory(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = Path(tmp.name)
        # The finding in this file proves the run went on past the bad one.
        (self.dir / "test_z_good.py").write_text('api.get("/users/42")\n', encoding="utf-8")

    def lint(self, **options: object) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for path, finding in lint_paths([self.dir], **options):  # type: ignore[arg-type]
            found.setdefault(path.name, []).append(finding.message)
        return found

    def run_main(self, *argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main([*argv, str(self.dir)])
        return status, out.getvalue(), err.getvalue()

    def assertUnreadable(self, name: str, reason: str) -> None:
        found = self.lint()
        self.assertEqual(len(found[name]), 1, found)
        self.assertTrue(found[name][0].startswith("TDK000 "), found[name])
        self.assertIn(reason, found[name][0])
        self.assertIn("nothing in it was checked", found[name][0])
        self.assertEqual([m[:6] for m in found["test_z_good.py"]], ["TDK001"])


class UnreadableFileTests(_LintDirectory):
    def test_latin1_file_without_coding_cookie(self) -> None:
        (self.dir / "test_a_latin1.py").write_bytes('name = "Zoë"\n'.encode("latin-1"))
        self.assertUnreadable("test_a_latin1.py", "not UTF-8 and has no valid coding cookie")

    def test_unknown_encoding_in_the_cookie(self) -> None:
        (self.dir / "test_a_cookie.py").write_bytes(b"# -*- coding: klingon -*-\nx = 1\n")
        self.assertUnreadable("test_a_cookie.py", "has no valid coding cookie")

    def test_latin1_file_with_coding_cookie_is_linted(self) -> None:
        source = '# -*- coding: latin-1 -*-\nt = "Zoë jane@gmail.com"\n'
        (self.dir / "test_a_latin1.py").write_bytes(source.encode("latin-1"))
        self.assertEqual([m[:6] for m in self.lint()["test_a_latin1.py"]], ["TDK003"])

    def test_syntax_error(self) -> None:
        (self.dir / "test_a_broken.py").write_text("def broken(:\n", encoding="utf-8")
        self.assertUnreadable("test_a_broken.py", "cannot parse the file")

    def test_null_bytes(self) -> None:
        (self.dir / "test_a_nul.py").write_bytes(b"x = 1\x00\n")
        self.assertUnreadable("test_a_nul.py", "cannot parse the file")

    def test_broken_symlink(self) -> None:
        os.symlink(self.dir / "gone.py", self.dir / "test_a_link.py")
        self.assertUnreadable("test_a_link.py", "broken symbolic link")
        status, out, err = self.run_main()
        self.assertEqual((status, err), (1, ""))
        self.assertIn("test_a_link.py:1:1: TDK000", out)

    def test_symlink_loop_is_unreadable(self) -> None:
        os.symlink(self.dir / "test_a_loop.py", self.dir / "test_a_loop.py")
        self.assertUnreadable("test_a_loop.py", "cannot read the file")

    @unittest.skipIf(hasattr(os, "geteuid") and os.geteuid() == 0, "root reads files whatever their mode")
    def test_file_without_read_permission(self) -> None:
        path = self.dir / "test_a_secret.py"
        path.write_text("x = 1\n", encoding="utf-8")
        path.chmod(0)
        self.addCleanup(path.chmod, 0o600)
        self.assertUnreadable("test_a_secret.py", "cannot read the file")

    @unittest.skipIf(hasattr(os, "geteuid") and os.geteuid() == 0, "root lists directories whatever their mode")
    def test_directory_that_cannot_be_listed(self) -> None:
        locked = self.dir / "locked"
        locked.mkdir()
        (locked / "test_hidden.py").write_text("x = 1\n", encoding="utf-8")
        locked.chmod(0)
        self.addCleanup(locked.chmod, 0o700)
        found = self.lint()
        self.assertEqual(len(found["locked"]), 1, found)
        self.assertIn("TDK000 cannot list the directory", found["locked"][0])
        self.assertEqual([m[:6] for m in found["test_z_good.py"]], ["TDK001"])

    def test_expression_too_deep(self) -> None:
        for terms in (900, 100_000):
            with self.subTest(terms=terms):
                (self.dir / "test_a_deep.py").write_text("x = " + " + ".join(["1"] * terms) + "\n", encoding="utf-8")
                self.assertUnreadable("test_a_deep.py", "RecursionError")

    def test_unreadable_files_are_reported_under_any_select_but_can_be_ignored(self) -> None:
        (self.dir / "test_a_broken.py").write_text("def broken(:\n", encoding="utf-8")
        self.assertIn("test_a_broken.py", self.lint(select=["TDK003"]))
        self.assertNotIn("test_a_broken.py", self.lint(ignore=["TDK000"]))
        self.assertEqual(lint_source("def broken(:\n", select=["TDK003"])[0].code, "TDK000")

    def test_flake8_plugin_reports_an_internal_error_as_a_finding(self) -> None:
        import ast

        # A tree built by hand without positions: the rules fail on it, the plugin still answers.
        assign = ast.Assign(targets=[ast.Name(id="x", ctx=ast.Store())], value=ast.Constant(value="a@gmail.com"))
        tree = ast.Module(body=[assign], type_ignores=[])
        messages = [message for _, _, message, _ in Flake8Plugin(tree).run()]
        self.assertEqual(len(messages), 1)
        self.assertIn("TDK000 internal error in the lint (please report it): AttributeError", messages[0])

    def test_flake8_plugin_reports_recursion_as_a_finding(self) -> None:
        import ast

        tree = ast.parse("x = " + " + ".join(["1"] * 900) + "\n")
        messages = [message for _, _, message, _ in Flake8Plugin(tree).run()]
        self.assertEqual(len(messages), 1)
        self.assertTrue(messages[0].startswith("TDK000 "), messages)


class ExitStatusTests(_LintDirectory):
    """0: nothing reported; 1: findings, TDK000 included; 2: usage or internal error."""

    def test_clean_is_0_findings_are_1(self) -> None:
        self.assertEqual(self.run_main()[0], 1)
        (self.dir / "test_z_good.py").write_text('api.get("/users")\n', encoding="utf-8")
        self.assertEqual(self.run_main(), (0, "", ""))

    def test_an_unreadable_file_alone_is_1(self) -> None:
        (self.dir / "test_z_good.py").write_bytes(b'x = "\xe9"\n')
        status, out, _ = self.run_main()
        self.assertEqual(status, 1)
        self.assertIn("TDK000", out)

    def test_usage_error_is_2(self) -> None:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            self.assertEqual(main(["--select", "TDK999", str(self.dir)]), 2)
        self.assertIn("unknown code 'TDK999'", err.getvalue())


if __name__ == "__main__":
    unittest.main()
