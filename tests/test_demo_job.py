"""Tests for the main job, ``python -m testdata_kit demo``: clean runs pass, leaks and failures exit 1."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import unittest

from testdata_kit import DataTestCase, unique
from testdata_kit.demo import job
from testdata_kit.demo.examples import shop


def run_job(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = job.main(list(args))
    return code, out.getvalue()


class _Suites:
    """Suites for the job to run; nested so that no runner collects them by themselves."""

    class Leaky(DataTestCase):
        def test_an_order_nobody_deletes_keeps_its_user(self) -> None:
            shop.connect()
            self.addCleanup(shop.disconnect)
            buyer = shop.users.create(email=unique.email(), name="Buyer")
            item = shop.products.create(name="Lamp", price=2)
            shop.orders.post(user_id=buyer["id"], product_id=item["id"])  # untracked: the leak

    class Failing(DataTestCase):
        def test_fails(self) -> None:
            self.fail("on purpose")

    class FailingWithData(DataTestCase):
        def test_fails_after_creating_a_user(self) -> None:
            shop.connect()
            self.addCleanup(shop.disconnect)
            shop.users.create(email=unique.email(), name="Kept")
            self.fail("on purpose")


class DemoJobTests(unittest.TestCase):
    def test_the_bundled_suite_runs_twice_cleanly(self) -> None:
        code, output = run_job()
        self.assertEqual(code, 0, output)
        self.assertRegex(output, r"^Demo shop API: http://127\.0\.0\.1:\d+ \(in this process, empty in-memory database")
        self.assertIn("\nSuite: testdata_kit.demo.examples, run twice\n", output)
        self.assertRegex(output, r"Run 1: \d+ tests, all passed")
        self.assertRegex(output, r"Run 2: \d+ tests, all passed")
        self.assertIn("Test data by kind, both runs together:\n  kind      created  deleted  leaked\n", output)
        self.assertRegex(output, r"\n  order +12 +12 +0\n")
        self.assertRegex(output, r"\n  tenant +4 +4 +0\n")  # singular, like the other kinds
        self.assertRegex(output, r"\n  total +48 +48 +0\n")
        self.assertIn("  (unchanged)\n", output)
        self.assertIn("Result: OK: both runs passed, nothing leaked, the database is as it was.", output)
        self.assertNotIn(job.URL_ENV, os.environ)

    def test_deletes_failing_30_percent_of_the_time_still_leave_nothing(self) -> None:
        code, output = run_job("--fail-rate", "0.3", "--seed", "11", "--runs", "1")
        self.assertEqual(code, 0, output)
        self.assertIn("Suite: testdata_kit.demo.examples, run once\n", output)
        self.assertIn("Test data by kind:\n", output)
        self.assertIn("Result: OK: the run passed, nothing leaked", output)

    def test_one_test_and_three_runs_are_counted_in_good_english(self) -> None:
        one = "testdata_kit.demo.examples.test_users.UserTests.test_a_new_user_can_be_read_back"
        code, output = run_job("--suite", one, "--runs", "3")
        self.assertEqual(code, 0, output)
        self.assertIn(f"Suite: {one}, run 3 times\n", output)
        self.assertIn("Run 3: 1 test, passed (", output)
        self.assertNotIn("1 tests", output)
        self.assertIn("Test data by kind, all 3 runs together:\n", output)
        self.assertIn("Result: OK: all 3 runs passed, nothing leaked", output)

    def test_a_leak_is_reported_with_its_url_and_fails_the_job(self) -> None:
        code, output = run_job("--suite", "tests.test_demo_job._Suites.Leaky", "--runs", "1")
        self.assertEqual(code, 1, output)
        test = "test_an_order_nobody_deletes_keeps_its_user"
        self.assertRegex(output, rf"\n  leaked: <Resource user id=\d+ test={test}> in tests\.test_demo_job\._Suites\."
                                 rf"Leaky\.{test}\n    refused until the end of the run: DeleteFailedError: "
                                 rf"DELETE http://127\.0\.0\.1:\d+/users/\d+ failed")
        self.assertRegex(output, r"Database rows after: .* users 1, .* orders 1 +\(CHANGED\)")
        self.assertIn("Run 1: 1 test, 1 FAILED", output)
        self.assertIn("Result: FAILED: 1 test failed, 2 resources leaked, the row counts changed.", output)

    def test_a_failing_test_fails_the_job_and_shows_unittests_output_after_the_intro(self) -> None:
        code, output = run_job("--suite", "tests.test_demo_job._Suites.Failing", "--runs", "1")
        self.assertEqual(code, 1)
        self.assertLess(output.index("Demo shop API:"), output.index("--- Run 1, unittest's output:\n"))
        self.assertLess(output.index("--- Run 1, unittest's output:\n"), output.index("AssertionError: on purpose"))
        self.assertIn("Result: FAILED: 1 test failed.", output)

    def test_data_kept_for_debugging_gets_its_own_column(self) -> None:
        self.addCleanup(os.environ.pop, "TESTDATA_KEEP", None)
        os.environ["TESTDATA_KEEP"] = "failed"
        with contextlib.redirect_stderr(io.StringIO()) as err:
            code, output = run_job("--suite", "tests.test_demo_job._Suites.FailingWithData", "--runs", "1")
        self.assertEqual(code, 1, output)
        self.assertIn("kept <Resource user", err.getvalue())
        self.assertIn("  kind   created  deleted  kept  leaked\n  user         1        0     1       0\n", output)
        self.assertIn("Result: FAILED: 1 test failed, the row counts changed.", output)

    def test_bad_options_are_a_usage_error(self) -> None:
        with contextlib.redirect_stderr(io.StringIO()) as err, self.assertRaises(SystemExit) as caught:
            job.main(["--fail-rate", "3"])
        self.assertEqual(caught.exception.code, 2)
        self.assertIn("fail_rate 3.0 must be a probability", err.getvalue())

    def test_a_suite_that_does_not_exist_is_a_usage_error_before_the_api_starts(self) -> None:
        cases = {
            "tests.no_such_module": "there is no module named 'tests.no_such_module'",
            "no_such_package.tests": "there is no module named 'no_such_package'",
            "tests.test_demo_job._Suites.Nope": "'tests.test_demo_job._Suites' has no 'Nope'",
            "tests.test_demo_job._Suites.Failing.test_nope": "'tests.test_demo_job._Suites.Failing' has no 'test_nope'",
            "tests.test_demo_job._Suites": "'tests.test_demo_job._Suites' is a class, not a test module",
            "tests..test_demo_job": "that is not a dotted name",
        }
        for suite, reason in cases.items():
            with self.subTest(suite), contextlib.redirect_stderr(io.StringIO()) as err, \
                    contextlib.redirect_stdout(io.StringIO()) as out, self.assertRaises(SystemExit) as caught:
                job.main(["--suite", suite])
            self.assertEqual(caught.exception.code, 2)
            self.assertIn(f"error: --suite {suite!r} cannot be run: {reason}", err.getvalue())
            self.assertIn("dotted name of a test module, TestCase class or test method", err.getvalue())
            self.assertIn("(default: testdata_kit.demo.examples)", err.getvalue())
            self.assertEqual(out.getvalue(), "")  # no API was started, no test ran

    def test_it_runs_as_a_process(self) -> None:
        done = subprocess.run([sys.executable, "-m", "testdata_kit.demo.job", "--runs", "1"],
                              capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("Result: OK", done.stdout)


if __name__ == "__main__":
    unittest.main()
