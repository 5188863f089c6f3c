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


if __name__ == "__main__":
    unittest.main()
