"""SIGINT and SIGTERM in the middle of a real run delete every pending resource before the process exits."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from testdata_kit import demo

SUITE = pathlib.Path(__file__).resolve().parent / "journal_suite"
ROOT = SUITE.parent.parent


class InterruptTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = demo.running().start()
        cls.addClassCleanup(cls.server.stop)

    def interrupt(self, signum: int, mode: str = "wait") -> tuple[subprocess.CompletedProcess[str], str]:
        """Run case_wait until it says it is ready, send *signum*, and return the finished process."""
        baseline = self.server.counts()
        with tempfile.TemporaryDirectory() as tmp:
            ready = pathlib.Path(tmp, "ready")
            env = {**os.environ, "TDK_DEMO_URL": self.server.url, "TDK_READY": str(ready), "TDK_MODE": mode,
                   "PYTHONPATH": str(ROOT), "TESTDATA_JOURNAL": str(pathlib.Path(tmp, "journal"))}
            process = subprocess.Popen(
                [sys.executable, "-X", "dev", "-m", "unittest", "case_wait"], cwd=SUITE, env=env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            deadline = time.monotonic() + 20
            while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertIsNone(process.poll(), "the suite ended before it was interrupted")
            during = self.server.counts()
            process.send_signal(signum)
            stdout, stderr = process.communicate(timeout=30)
            journal_left = sorted(p.name for p in pathlib.Path(tmp, "journal").glob("*.jsonl"))
        self.assertGreater(during["users"], baseline["users"], "nothing was created before the signal")
        self.assertEqual(self.server.counts(), baseline, stderr)
        self.assertEqual(journal_left, [], "a run that cleaned up fully leaves no journal behind")
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr), stderr

    def test_sigint_mid_test_deletes_test_class_module_and_run_data(self):
        process, stderr = self.interrupt(signal.SIGINT)
        self.assertEqual(process.returncode, -signal.SIGINT, stderr)
        self.assertIn("testdata_kit: interrupted by SIGINT; deleting 6 pending resource(s)", stderr)
        self.assertIn("own cleanup ran", process.stdout, "the test's own addCleanup callbacks run too")
        self.assertIn("created 6, deleted 6, leaked 0", stderr)

    def test_sigterm_mid_test_deletes_everything_and_exits_by_sigterm(self):
        process, stderr = self.interrupt(signal.SIGTERM)
        self.assertEqual(process.returncode, -signal.SIGTERM, stderr)
        self.assertIn("created 6, deleted 6, leaked 0", stderr)

    def test_a_signal_during_a_create_call_waits_for_it_and_deletes_what_it_made(self):
        process, stderr = self.interrupt(signal.SIGTERM, mode="slow-create")
        self.assertEqual(process.returncode, -signal.SIGTERM, stderr)
        self.assertIn("created 7, deleted 7, leaked 0", stderr)

    def test_a_signal_during_an_http_collection_create_waits_for_it_and_deletes_what_it_made(self):
        process, stderr = self.interrupt(signal.SIGTERM, mode="slow-http-create")
        self.assertEqual(process.returncode, -signal.SIGTERM, stderr)
        self.assertIn("created 7, deleted 7, leaked 0", stderr)


LINK_SUITE = pathlib.Path(__file__).resolve().parent / "interrupt_suite"
RUNNERS = {
    "unittest": [sys.executable, "-m", "unittest", "case_slow_link"],
    "run": [sys.executable, "-m", "testdata_kit", "run", "-j", "1", "case_slow_link"],
    "pytest": [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
               "case_slow_link.py"],
}


class InterruptedRunTests(unittest.TestCase):
    """A signal during a scenario link's POST (300 ms): the report of each runner, and nothing left behind."""

    @classmethod
    def setUpClass(cls):
        cls.server = demo.running(latency_ms=300).start()
        cls.addClassCleanup(cls.server.stop)

    def interrupt(self, runner: str, signum: int) -> subprocess.CompletedProcess[str]:
        with tempfile.TemporaryDirectory() as tmp:
            ready = pathlib.Path(tmp, "ready")
            env = {**os.environ, "TDK_DEMO_URL": self.server.url, "TDK_READY": str(ready), "PYTHONPATH": str(ROOT)}
            process = subprocess.Popen(RUNNERS[runner], cwd=LINK_SUITE, env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
            deadline = time.monotonic() + 20
            while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            self.assertIsNone(process.poll(), "the suite ended before it was interrupted")
            time.sleep(0.1)  # the order's POST is on its way: the server answers after 300 ms
            process.send_signal(signum)
            output, _ = process.communicate(timeout=30)
        self.assertEqual(self.server.counts(), dict.fromkeys(self.server.counts(), 0), output)
        self.assertIn("created 3, deleted 3, leaked 0", output)
        self.assertNotIn("Traceback", output)
        return subprocess.CompletedProcess(process.args, process.returncode, output)

    def test_unittest_reports_the_interrupted_test_then_the_summary_then_the_account(self):
        result = self.interrupt("unittest", signal.SIGTERM)
        self.assertEqual(result.returncode, -signal.SIGTERM, result.stdout)
        self.assertRegex(result.stdout, r"ERROR: test_chain \(case_slow_link\.LinkTests.*\)\n-+\n"
                                        r"testdata_kit\._interrupts\.Interrupted: interrupted by SIGTERM\n")
        summary = result.stdout.index("Ran 1 test in")
        self.assertLess(summary, result.stdout.index("FAILED (errors=1)"))
        self.assertLess(summary, result.stdout.index("created 3, deleted 3, leaked 0"))

    def test_the_run_command_reports_the_interrupted_test_and_ends_by_the_signal(self):
        result = self.interrupt("run", signal.SIGINT)
        self.assertEqual(result.returncode, -signal.SIGINT, result.stdout)
        self.assertRegex(result.stdout, r"ERROR: test_chain \(case_slow_link\.LinkTests.*\) \[worker w1\]\n-+\n"
                                        r"testdata_kit\._interrupts\.Interrupted: interrupted by SIGINT\n")
        self.assertLess(result.stdout.index("Ran 1 test in"), result.stdout.index("created 3, deleted 3, leaked 0"))

    def test_pytest_reports_the_interrupted_test_and_the_account(self):
        result = self.interrupt("pytest", signal.SIGTERM)
        self.assertEqual(result.returncode, 2, result.stdout)  # pytest's own status for an interrupted session
        self.assertIn("FAILED case_slow_link.py::LinkTests::test_chain", result.stdout)
        self.assertIn("Interrupted: interrupted by SIGTERM", result.stdout)


if __name__ == "__main__":
    unittest.main()
