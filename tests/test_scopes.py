"""Run scope: torn down once at the end of the run, and a failed deletion there fails the run."""

from __future__ import annotations

import importlib.util
import io
import os
import pathlib
import subprocess
import sys
import tempfile
import textwrap
import unittest
from typing import Any
from unittest import mock

from testdata_kit import CleanupError, DataTestCase, Registry, _scopes, creates, ledger
from tests._stores import FlakyChainStore, LinkStore, StillReferenced
from tests._support import problems

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


class RetryPassTests(unittest.TestCase):
    """A refused deletion is retried after the rest of its scope, then at the end of the run; only then a leak."""

    def run_with_final_attempt(self, *classes: type[unittest.TestCase]) -> tuple[unittest.TestResult, Any, list]:
        # What the end of the run does, inside an isolated ledger: run the suite, then the last attempt.
        suite = unittest.TestSuite(unittest.TestLoader().loadTestsFromTestCase(cls) for cls in classes)
        result = unittest.TestResult()
        with ledger.isolated() as books:
            suite.run(result)
            final = _scopes.final_attempt()
        return result, books, final

    def test_late_link_in_test_scope_ends_with_nothing_left(self):
        # #11 case 6: newest first deletes the profile first, which the store refuses while the user points at
        # it; the user goes, then the retry pass deletes the profile.
        for options in ({"refused": (StillReferenced,)}, {}):  # the kind's refused=, or the default statuses
            with self.subTest(**{key: repr(value) for key, value in options.items()}):
                store = LinkStore()
                kinds = store.kinds(**options)

                class Inner(DataTestCase):
                    registry = kinds

                    def test_it(self) -> None:
                        user = self.create("user")
                        profile = self.create("profile")
                        user["profile_id"] = profile["id"]

                result, books, final = self.run_with_final_attempt(Inner)
                self.assertTrue(result.wasSuccessful(), problems(result))
                self.assertEqual((store.rows(), books.summary(), final), (0, "created 2, deleted 2, leaked 0", []))

    def test_the_retry_pass_runs_after_the_tests_other_cleanups(self):
        store = LinkStore()
        kinds = store.kinds()
        order: list[str] = []

        class Inner(DataTestCase):
            registry = kinds

            def test_it(self) -> None:
                self.addCleanup(order.append, "user's cleanup registered first")
                user = self.create("user")
                profile = self.create("profile")
                user["profile_id"] = profile["id"]
                self.addCleanup(order.append, "user's cleanup registered last")
                self.addCleanup(lambda: order.append(f"profile there: {bool(store.profiles)}"))

        result, _, _ = self.run_with_final_attempt(Inner)
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual(order, ["profile there: True", "user's cleanup registered last",
                                 "user's cleanup registered first"])
        self.assertEqual(store.rows(), 0)

    def test_deleted_at_the_end_of_the_run_counts_deleted_and_the_test_shows_no_error(self):
        # #11 case 7 in miniature: the server is down while the test's cleanups run, up again before the run ends.
        store = FlakyChainStore(seed=0, p503=1.0)
        kinds = store.kinds(1)

        class Inner(DataTestCase):
            registry = kinds

            def test_1_creates(self) -> None:
                self.create("link0")

            def test_2_server_answers_again(self) -> None:
                store.flaky = False

        with mock.patch("sys.stderr", new_callable=io.StringIO) as stderr:
            result, books, final = self.run_with_final_attempt(Inner)
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual((store.rows, books.summary(), final), ({}, "created 1, deleted 1, leaked 0", []))
        self.assertIn("is still refused (ServerDown: DELETE failed after its retries: 503); it gets one last "
                      "attempt at the end of the run", stderr.getvalue())

    def test_still_refused_at_the_end_of_the_run_is_a_leak_naming_the_refusal(self):
        store = FlakyChainStore(seed=0, p503=0.0, p_hang=1.0)
        kinds = store.kinds(1)

        class Inner(DataTestCase):
            registry = kinds

            def test_it(self) -> None:
                self.create("link0")

        with mock.patch("sys.stderr", new_callable=io.StringIO):
            result, books, final = self.run_with_final_attempt(Inner)
        self.assertTrue(result.wasSuccessful(), problems(result))  # not yet a leak when the test ends
        self.assertEqual(books.summary(), "created 1, deleted 0, leaked 1")
        self.assertEqual([type(error) for error in final], [CleanupError])
        self.assertEqual(books.leaks[0].reason, "refused until the end of the run: ServerDown: DELETE failed after "
                                                "its retries: no answer")
        self.assertIs(final[0].resource.owner.__class__, Inner)

    def test_an_error_that_is_not_a_refusal_is_a_leak_at_once(self):
        kinds = Registry()
        calls: list[int] = []

        def broken(row: dict[str, int]) -> None:
            calls.append(row["id"])
            raise ValueError("bug in the deleter")

        creates("thing", registry=kinds, delete=broken)(lambda: {"id": 1})

        class Inner(DataTestCase):
            registry = kinds

            def test_it(self) -> None:
                self.create("thing")

        result, books, final = self.run_with_final_attempt(Inner)
        self.assertEqual(len(result.errors), 1)
        self.assertEqual((books.summary(), final, calls), ("created 1, deleted 0, leaked 1", [], [1]))

    def test_a_refusal_until_the_end_of_a_real_run_is_an_error_of_its_test(self):
        with tempfile.TemporaryDirectory() as tmp:
            pathlib.Path(tmp, "refusing_suite.py").write_text(textwrap.dedent(
                """
                from testdata_kit import DataTestCase, RetryLater, creates

                def refuse(row):
                    raise RetryLater("row 7 is locked")

                creates("row", delete=refuse)(lambda: {"id": 7})

                class A(DataTestCase):
                    def test_makes_a_row(self):
                        self.create("row")

                    def test_other(self):
                        pass
                """
            ))
            done = subprocess.run([sys.executable, "-m", "unittest", "-v", "refusing_suite"], cwd=tmp,
                                  capture_output=True, text=True, timeout=60,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertIn("ERROR: test_makes_a_row (refusing_suite.A", done.stderr)
        self.assertIn("Could not delete <Resource row id=7 test=test_makes_a_row>: RetryLater: row 7 is locked",
                      done.stderr)
        self.assertIn("testdata_kit: created 1, deleted 0, leaked 1", done.stderr)
