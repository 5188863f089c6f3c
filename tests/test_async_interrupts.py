"""SIGINT during an awaited create, or while an async test awaits, deletes everything before the process exits."""

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

SUITE = pathlib.Path(__file__).resolve().parent / "async_suite"
ROOT = SUITE.parent.parent


class AsyncInterruptTests(unittest.TestCase):
    def interrupt(self, signum: int, mode: str, latency_ms: float) -> tuple[int, str, str]:
        """Run case_async_wait until it says it is ready, send *signum*; return (status, stdout, stderr)."""
        with demo.running(latency_ms=latency_ms) as server, tempfile.TemporaryDirectory() as tmp:
            ready = pathlib.Path(tmp, "ready")
            env = {**os.environ, "TDK_DEMO_URL": server.url, "TDK_READY": str(ready), "TDK_MODE": mode,
                   "PYTHONPATH": str(ROOT), "TESTDATA_JOURNAL": str(pathlib.Path(tmp, "journal"))}
            process = subprocess.Popen(
                [sys.executable, "-X", "dev", "-m", "unittest", "case_async_wait"], cwd=SUITE, env=env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            deadline = time.monotonic() + 30
            while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            self.assertIsNone(process.poll(), "the suite ended before it was interrupted")
            during = server.counts()["users"]
            process.send_signal(signum)
            stdout, stderr = process.communicate(timeout=60)
            journal_left = sorted(p.name for p in pathlib.Path(tmp, "journal").glob("*.jsonl"))
            left = server.counts()["users"]
        self.assertGreater(during, 0, "nothing was created before the signal")
        self.assertEqual(left, 0, stderr)
        self.assertEqual(journal_left, [], "a run that cleaned up fully leaves no journal behind")
        self.assertIn("own cleanup ran", stdout, "the test's own cleanups run too")
        self.assertNotIn("never awaited", stderr)
        return process.returncode, stdout, stderr

    def test_sigint_during_an_awaited_create_waits_for_it_and_deletes_what_it_made(self) -> None:
        # 1 s per request: the signal lands while the POST of the fifth user is awaited.
        status, _, stderr = self.interrupt(signal.SIGINT, "slow-create", latency_ms=1000)
        self.assertEqual(status, -signal.SIGINT, stderr)
        self.assertIn("testdata_kit: interrupted by SIGINT; deleting 5 pending resource(s)", stderr)
        self.assertIn("created 5, deleted 5, leaked 0", stderr)

    def test_sigint_while_gathered_creates_are_awaited_deletes_them_and_everything_before(self) -> None:
        # Each create runs in a task of its own: cancelled before the cleanups, neither raises the interrupt again
        # in the middle of them (every deletion after it was skipped, and all six leaked).
        status, _, stderr = self.interrupt(signal.SIGINT, "gather", latency_ms=1000)
        self.assertEqual(status, -signal.SIGINT, stderr)
        self.assertIn("testdata_kit: interrupted by SIGINT; deleting 6 pending resource(s)", stderr)
        self.assertIn("created 6, deleted 6, leaked 0", stderr)

    def test_sigterm_while_an_async_test_awaits_deletes_everything_and_exits_by_sigterm(self) -> None:
        status, _, stderr = self.interrupt(signal.SIGTERM, "wait", latency_ms=0)
        self.assertEqual(status, -signal.SIGTERM, stderr)
        self.assertIn("created 4, deleted 4, leaked 0", stderr)


if __name__ == "__main__":
    unittest.main()
