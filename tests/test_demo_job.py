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


class DemoJobTests(unittest.TestCase):
    def test_the_bundled_suite_runs_twice_cleanly(self) -> None:
        code, output = run_job()
        self.assertEqual(code, 0, output)
        self.assertRegex(output, r"Run 1: \d+ tests, all passed")
        self.assertRegex(output, r"Run 2: \d+ tests, all passed")
        self.assertRegex(output, r"\n  order +12 +12 +0\n")
        self.assertIn("(equal)", output)
        self.assertIn("Result: OK: 2 runs passed, nothing leaked", output)
        self.assertNotIn(job.URL_ENV, os.environ)

    def test_deletes_failing_30_percent_of_the_time_still_leave_nothing(self) -> None:
        code, output = run_job("--fail-rate", "0.3", "--seed", "11", "--runs", "1")
        self.assertEqual(code, 0, output)

    def test_a_leak_is_reported_with_its_url_and_fails_the_job(self) -> None:
        code, output = run_job("--suite", "tests.test_demo_job._Suites.Leaky", "--runs", "1")
        self.assertEqual(code, 1, output)
        self.assertRegex(output, r"leaked: <Resource user id=\d+ .*DELETE http://127\.0\.0\.1:\d+/users/\d+ failed")
        self.assertIn("(DIFFERENT)", output)
        self.assertIn("Result: FAILED: tests failed, 2 leaked, row counts changed.", output)
        self.assertIn("1 tests, 1 FAILED", output)

    def test_a_failing_test_fails_the_job_and_shows_unittests_output(self) -> None:
        code, output = run_job("--suite", "tests.test_demo_job._Suites.Failing", "--runs", "1")
        self.assertEqual(code, 1)
        self.assertIn("AssertionError: on purpose", output)
        self.assertIn("Result: FAILED: tests failed.", output)

    def test_bad_options_are_a_usage_error(self) -> None:
        with contextlib.redirect_stderr(io.StringIO()) as err, self.assertRaises(SystemExit) as caught:
            job.main(["--fail-rate", "3"])
        self.assertEqual(caught.exception.code, 2)
        self.assertIn("fail_rate 3.0 must be a probability", err.getvalue())

    def test_it_runs_as_a_process(self) -> None:
        done = subprocess.run([sys.executable, "-m", "testdata_kit.demo.job", "--runs", "1"],
                              capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("Result: OK", done.stdout)


if __name__ == "__main__":
    unittest.main()
