"""Tests for ``python -m testdata_kit check`` on the fixture suites, against the demo API.

The legacy suite (tests/legacy_suite) has one coupled test per mode; check must flag each in the mode that
reveals it, with that mode's cause, and flag nothing else. The refactored suite (tests/refactored_suite) must
pass every mode, leak nothing, and be lint-clean.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pathlib
import shlex
import subprocess
import sys
import tempfile
import unittest
from typing import Any
from unittest import mock

import requests

from testdata_kit import demo
from testdata_kit import lint as tdk_lint
from testdata_kit.run import _launch, check
from testdata_kit.run._suite import Discovery

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
LEGACY = HERE / "legacy_suite"
REFACTORED = HERE / "refactored_suite"

# Prints the first seed whose shuffle runs OrderTests.test_recent_orders before test_place_order, and
# OrderTests before ReceiptTests: the seed under which only the order-dependent test breaks.
_FIND_SEED = """
import sys
from testdata_kit.run._suite import Discovery, shuffle, units_of
tests = Discovery(start=sys.argv[1], pattern="case_*.py").tests()
ids = [t.id() for t in tests]
for seed in range(1000):
    order = [ids[p].split(".", 1)[1] for unit in shuffle(units_of(tests), str(seed)) for p in unit.tests]
    at = order.index
    if at("OrderTests.test_recent_orders") < at("OrderTests.test_place_order") < at("ReceiptTests.test_receipt_total"):
        print(seed)
        break
"""


def shared_staging_data(url: str) -> None:
    """Make the demo API look like the shared database the legacy suite was written for: user 42 is Alice."""
    with requests.Session() as session:
        for n in range(41):
            filler = session.post(f"{url}/users", json={"email": f"filler{n}@example.com", "name": "F"}, timeout=5)
            session.delete(f"{url}/users/{filler.json()['id']}", timeout=5)
        alice = session.post(f"{url}/users", json={"email": "alice@test.com", "name": "Alice"}, timeout=5).json()
    assert alice["id"] == 42, alice


class CheckTestCase(unittest.TestCase):
    def setUp(self):
        self.server = demo.running().start()
        self.addCleanup(self.server.stop)
        patcher = mock.patch.dict(os.environ, {"DEMO_API": self.server.url, "PYTHONPATH": str(ROOT)})
        patcher.start()
        self.addCleanup(patcher.stop)
        for name in ("TESTDATA_REPORT", "TESTDATA_RUN_ID", "TESTDATA_WORKER"):
            os.environ.pop(name, None)
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.json_path = pathlib.Path(tmp.name, "check.json")

    def check(self, suite: pathlib.Path, *args: str) -> tuple[int, str, str, dict[str, Any]]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = check.main([*args, "--json", str(self.json_path), "-s", str(suite), "-p", "case_*.py"])
        return code, out.getvalue(), err.getvalue(), json.loads(self.json_path.read_text(encoding="utf-8"))


class LegacySuiteTests(CheckTestCase):
    def test_each_coupled_test_is_flagged_in_its_mode_with_its_cause(self):
        shared_staging_data(self.server.url)
        seed = subprocess.run([sys.executable, "-c", _FIND_SEED, str(LEGACY)], capture_output=True, text=True,
                              check=True).stdout.strip()
        code, out, _, report = self.check(LEGACY, "--seed", seed, "-j", "2")
        self.assertEqual(code, 1, out)
        findings = {f["test"].split(".", 1)[1]: f for f in report["findings"]}
        expected = {
            "SignupTests.test_signup": ("leftover-data", "again"),
            "OrderTests.test_recent_orders": ("order-dependence", "shuffled"),
            "AccountTests.test_account_activation": ("concurrent-copy", "copies"),
            "ReceiptTests.test_receipt_total": ("other-class-or-worker", "split"),
            "LoyaltyTests.test_first_purchase": ("fails-alone", "once"),
        }
        for test, (cause, mode) in expected.items():
            with self.subTest(test=test):
                self.assertIn(test, findings, out)
                self.assertEqual(findings[test]["cause"], cause, out)
                self.assertEqual(findings[test]["failed_modes"][0], mode, out)
        # Reading shared data is a lint finding, not a coupling: these pass in every mode.
        for test in ("SharedUserTests.test_alice_profile", "SharedUserTests.test_first_user_is_alice",
                     "OrderTests.test_place_order"):
            self.assertNotIn(test, findings, out)
        self.assertEqual(findings["SignupTests.test_signup"]["failed_modes"], ["again", "shuffled", "copies", "split"])
        self.assertIn("409", findings["SignupTests.test_signup"]["first_error"])
        (leak,) = report["leaks"]
        self.assertEqual(leak["kind"], "legacy_customer")
        self.assertEqual(leak["modes"], list(check.MODES))
        self.assertIn("likely cause: order dependence", out)
        self.assertIn("likely cause: leftover data from an earlier run", out)
        self.assertIn(f"Replay the shuffle: python -m testdata_kit check --modes shuffled --seed {seed}", out)
        # Pasted into a shell, the line must select the same tests: the pattern stays one quoted argument.
        replay = next(line for line in out.splitlines() if line.startswith("Replay the shuffle: "))
        self.assertIn("-p 'case_*.py'", replay)
        self.assertEqual(shlex.split(replay.partition(": ")[2])[-2:], ["-p", "case_*.py"])

    def test_seed_replays_the_shuffle(self):
        seed = subprocess.run([sys.executable, "-c", _FIND_SEED, str(LEGACY)], capture_output=True, text=True,
                              check=True).stdout.strip()
        shared_staging_data(self.server.url)
        code, out, _, report = self.check(LEGACY, "--modes", "shuffled", "--seed", seed)
        self.assertEqual(code, 1)
        self.assertEqual([m["mode"] for m in report["modes"]], ["shuffled"])
        flagged = {f["test"].split(".", 1)[1] for f in report["findings"]}
        self.assertIn("OrderTests.test_recent_orders", flagged, out)
        self.assertNotIn("SignupTests.test_signup", flagged, "a first run in a clean environment leaves no data")

    def test_lint_flags_every_mistake(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = tdk_lint.main([str(LEGACY)])
        self.assertEqual(code, 1)
        found = {(pathlib.Path(line.split(":")[0]).name, line.split()[1]) for line in out.getvalue().splitlines()}
        for finding in [("case_users.py", "TDK001"), ("case_users.py", "TDK002"), ("case_users.py", "TDK004"),
                        ("case_users.py", "TDK005"), ("case_orders.py", "TDK005"), ("case_accounts.py", "TDK002"),
                        ("case_accounts.py", "TDK006"), ("case_migrated.py", "TDK004")]:
            self.assertIn(finding, found)


class RefactoredSuiteTests(CheckTestCase):
    def test_passes_every_mode_and_leaks_nothing(self):
        with mock.patch.object(check, "_PROGRESS_EVERY", 0.0):
            code, out, err, report = self.check(REFACTORED, "--seed", "2", "-j", "2", "--copies", "3")
        self.assertEqual(code, 0, out)
        self.assertTrue(report["ok"])
        self.assertEqual(report["findings"], [])
        self.assertEqual(report["leaks"], [])
        self.assertEqual([m["mode"] for m in report["modes"]], list(check.MODES))
        self.assertEqual([m["passed"] for m in report["modes"]], [8, 8, 8, 24, 8])
        self.assertIn("No findings", out)
        self.assertIn("tests done", err, "progress is shown while a mode runs")
        self.assertEqual(self.server.counts()["users"], 0, "nothing was left behind")

    def test_is_lint_clean(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(tdk_lint.main([str(REFACTORED)]), 0, out.getvalue())


class StoppedModeTests(unittest.TestCase):
    """A mode that stops half-way (a copy cannot start, or Ctrl-C in the wait) leaves no process and no open log."""

    def run_mode(self, fail_on_copy: int, wait: Any = None) -> None:
        real_popen = subprocess.Popen
        self.started: list[tuple[subprocess.Popen[Any], Any]] = []

        def popen(command: Any, **kwargs: Any) -> subprocess.Popen[Any]:
            if len(self.started) == fail_on_copy:
                raise FileNotFoundError(2, "No such file or directory", command[0])
            # A copy that would outlive the mode unless it is killed.
            process = real_popen([sys.executable, "-c", "import time; time.sleep(60)"], **kwargs)
            self.addCleanup(lambda: process.poll() is None and (process.kill(), process.wait()))
            self.started.append((process, kwargs["stdout"]))
            return process

        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        with mock.patch.object(_launch.subprocess, "Popen", popen), \
                mock.patch.object(_launch, "_can_fork", lambda: False), \
                mock.patch.object(check, "_wait", wait or check._wait):
            check._run_mode("parallel", "parallel", 2, [], Discovery(start=tmp.name), "1", pathlib.Path(tmp.name), [])

    def assert_all_stopped(self, count: int) -> None:
        self.assertEqual(len(self.started), count)
        for process, log in self.started:
            self.assertIsNotNone(process.returncode, "a copy is still running (or was never reaped)")
            self.assertTrue(log.closed, "its log file is still open")

    def test_a_copy_that_cannot_start_kills_and_reaps_the_copy_already_running(self):
        with self.assertRaises(FileNotFoundError):
            self.run_mode(fail_on_copy=1)
        self.assert_all_stopped(1)

    def test_an_interrupt_during_the_wait_kills_and_reaps_every_copy(self):
        def interrupted(*args: Any) -> None:
            raise KeyboardInterrupt

        with self.assertRaises(KeyboardInterrupt):
            self.run_mode(fail_on_copy=-1, wait=interrupted)
        self.assert_all_stopped(2)


class LaunchTests(unittest.TestCase):
    """check forks its runners when it can; the fork behaves like ``python -m testdata_kit run``."""

    def test_a_forked_runner_writes_to_its_log_and_exits_with_the_runner_s_status(self):
        if not _launch._can_fork():
            self.skipTest("forking needs Linux and a process with a single thread")
        with tempfile.TemporaryDirectory() as tmp:
            pathlib.Path(tmp, "case_one.py").write_text(
                "import unittest\n\nclass One(unittest.TestCase):\n    def test_fails(self):\n"
                "        self.fail('as planned')\n", encoding="utf-8")
            with open(pathlib.Path(tmp, "log"), "w+", encoding="utf-8") as log, \
                    contextlib.redirect_stderr(io.StringIO()) as caller:
                process = _launch.start(["-q", "-s", tmp, "-p", "case_*.py"], log, dict(os.environ))
                self.assertIsInstance(process, _launch._Forked)
                self.assertEqual(process.wait(timeout=120), 1)
                log.seek(0)
                output = log.read()
        self.assertIn("AssertionError: as planned", output)
        self.assertIn("0 passed, 1 failed", output)
        self.assertEqual(caller.getvalue(), "", "the fork writes to its log, not to the caller's streams")


if __name__ == "__main__":
    unittest.main()
