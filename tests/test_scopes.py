"""Run scope: torn down once at the end of the run, and a failed deletion there fails the run."""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys
import tempfile
import textwrap
import unittest

ROOT = pathlib.Path(__file__).resolve().parent.parent

SUITE = textwrap.dedent(
    """
    import sys
    import unittest

    from testdata_kit import DataTestCase, create, creates


    @creates("currency")
    def currency(code):
        yield {"id": code}
        if code == "BAD":
            raise ConnectionError("the API refused the delete")
        print(f"deleted currency {code}", file=sys.stderr, flush=True)


    def setUpModule():
        create("currency", "EUR", scope="run")
        create("currency", FAIL_CODE, scope="run")


    class A(DataTestCase):
        def test_a(self):
            pass


    class B(DataTestCase):
        def test_b(self):
            pass
    """
)


FORK = textwrap.dedent(
    """
    import os
    import sys

    from testdata_kit import _scopes, create, creates


    @creates("tenant")
    def tenant():
        yield {"id": 1}
        print(f"deleted by {os.getpid()}", flush=True)


    create("tenant", scope="run")
    _scopes.note_usage()
    pid = os.fork()
    if pid == 0:
        sys.exit(0)  # the child's exit runs the atexit hooks it inherited
    os.waitpid(pid, 0)
    print(f"parent {os.getpid()}", flush=True)
    """
)


@unittest.skipUnless(hasattr(__import__("os"), "fork"), "needs fork")
class ForkTests(unittest.TestCase):
    def test_a_forked_child_never_deletes_or_reports_its_parents_data(self):
        env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
        process = subprocess.run(
            [sys.executable, "-c", FORK], env=env, capture_output=True, text=True, timeout=60, check=True
        )
        parent = process.stdout.split("parent ")[1].split()[0]
        self.assertEqual(process.stdout.count("deleted by"), 1, process.stdout)
        self.assertIn(f"deleted by {parent}", process.stdout)
        self.assertEqual(process.stderr.count("testdata_kit: created 1, deleted 1, leaked 0"), 1, process.stderr)


class RunScopeTests(unittest.TestCase):
    def run_suite(self, fail_code: str, *command: str) -> subprocess.CompletedProcess[str]:
        with tempfile.TemporaryDirectory() as tmp:
            pathlib.Path(tmp, "run_scope_suite.py").write_text(f"FAIL_CODE = {fail_code!r}\n{SUITE}")
            env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
            return subprocess.run(
                [sys.executable, *command], cwd=tmp, env=env, capture_output=True, text=True, timeout=120
            )

    def test_unittest_deletes_run_scope_data_once_before_the_summary(self):
        process = self.run_suite("USD", "-m", "unittest", "run_scope_suite")
        self.assertEqual(process.returncode, 0, process.stderr)
        err = process.stderr
        self.assertEqual(err.count("deleted currency EUR"), 1)
        self.assertLess(err.index("deleted currency USD"), err.index("deleted currency EUR"), "last in, first out")
        self.assertLess(err.index("deleted currency EUR"), err.index("Ran 2 tests"), "deleted before the summary")
        self.assertIn("testdata_kit: created 2, deleted 2, leaked 0", err)

    def test_unittest_fails_the_run_when_a_run_scope_deletion_fails(self):
        process = self.run_suite("BAD", "-m", "unittest", "run_scope_suite")
        self.assertEqual(process.returncode, 1, process.stderr)
        self.assertIn("ERROR: run-scope cleanup (testdata_kit)", process.stderr)
        self.assertIn("Could not delete <Resource currency id='BAD' test=<run>>", process.stderr)
        self.assertIn("FAILED (errors=1)", process.stderr)
        self.assertIn("deleted currency EUR", process.stderr, "the other run-scope deletion still ran")
        self.assertIn("testdata_kit: created 2, deleted 1, leaked 1", process.stderr)

    @unittest.skipUnless(importlib.util.find_spec("pytest"), "pytest is not installed")
    def test_pytest_fails_the_session_when_a_run_scope_deletion_fails(self):
        process = self.run_suite("BAD", "-m", "pytest", "-q", "-p", "no:cacheprovider", "run_scope_suite.py")
        self.assertEqual(process.returncode, 1, process.stdout + process.stderr)
        self.assertIn("2 passed", process.stdout)
        self.assertIn("testdata_kit: created 2, deleted 1, leaked 1", process.stdout)


if __name__ == "__main__":
    unittest.main()
