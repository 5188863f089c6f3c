"""The wording of check's and run's usage errors: each names the bad value, what was expected and the fix."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import unittest
from unittest import mock

from testdata_kit.errors import TestDataError
from testdata_kit.run import _suite, check, runner


def call(main, *args: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(args))
    return code, err.getvalue().strip().splitlines()[-1]


class RunMessages(unittest.TestCase):
    def test_bad_shard(self):
        self.assertEqual(call(runner.main, "--shard", "3/2"), (2, (
            "python -m testdata_kit run: error: --shard '3/2' is not a shard: expected I/N with 1 <= I <= N, "
            "e.g. '1/4' for the first of four machines (shards count from 1, as GitLab's CI_NODE_INDEX does)."
        )))

    def test_bad_shard_from_the_ci_environment(self):
        with mock.patch.dict(os.environ, {"CI_NODE_INDEX": "0", "CI_NODE_TOTAL": "2"}):
            code, message = call(runner.main)
        self.assertEqual(code, 2)
        self.assertIn("CI_NODE_INDEX/CI_NODE_TOTAL '0/2' is not a shard", message)

    def test_bad_worker_count(self):
        self.assertEqual(call(runner.main, "-j", "0"), (2, (
            "python -m testdata_kit run: error: argument -j/--workers: '0' is not a number of workers: "
            "give a whole number >= 1, e.g. -j 4"
        )))

    def test_shard_error_carries_its_parts(self):
        with self.assertRaises(_suite.ShardError) as caught:
            _suite.parse_shard("2of3")
        self.assertIsInstance(caught.exception, TestDataError)
        self.assertEqual((caught.exception.value, caught.exception.source), ("2of3", "--shard"))

    def test_nothing_to_run(self):
        with tempfile.TemporaryDirectory() as empty:
            code, message = call(runner.main, "-s", empty)
        self.assertEqual(code, runner.NO_TESTS_EXIT)
        self.assertEqual(message, f"NO TESTS RAN: nothing matched '-s {empty} -p test*.py'")


class CheckMessages(unittest.TestCase):
    def test_unknown_mode(self):
        self.assertEqual(call(check.main, "--modes", "once,twice"), (2, (
            "python -m testdata_kit check: error: argument --modes: unknown mode 'twice'; "
            "choose from once, again, shuffled, copies, split (comma-separated)"
        )))

    def test_a_suite_that_cannot_run_names_the_mode_and_shows_the_runner_output(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = check.main(["--modes", "once", "-s", "/nonexistent-suite"])
        self.assertEqual(code, 2)
        self.assertIn(
            "python -m testdata_kit check: error: Mode 'once' could not run the suite (runner exit status 2). "
            "Make sure 'python -m testdata_kit run' with the same arguments works. Its last output:\n"
            "python -m testdata_kit run: error: Start directory is not importable: '/nonexistent-suite'",
            err.getvalue(),
        )


if __name__ == "__main__":
    unittest.main()
