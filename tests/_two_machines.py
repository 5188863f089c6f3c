"""Two "machines" sharing one journal store: runs in processes with their own host names and folders, a sweep from
the other one. A mixin: a test class per store adds it to ``unittest.TestCase`` and defines ``store_url()``.

``store_url()`` returns the URL of an empty store of the test's own (clean it up with ``addCleanup``). The runs are
journal_suite/case_hold.py against the demo API; each machine has its own working folder and ``TESTDATA_HOSTNAME``,
and nothing but the store connects them.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

import requests

from testdata_kit import _run, demo, journal
from tests._dead_runs import COLLECTIONS

ROOT = pathlib.Path(__file__).resolve().parent.parent
SUITE = ROOT / "tests" / "journal_suite"
OLD = datetime.datetime(2021, 3, 1, tzinfo=datetime.timezone.utc)


class TwoMachines:
    """A killed run on machine A swept from machine B; a live run on A left alone by B's marker sweep."""

    def store_url(self) -> str:
        raise NotImplementedError

    # TestCase methods the mixin uses.
    assertEqual: Any
    assertIn: Any
    assertIsNone: Any
    assertFalse: Any
    addCleanup: Any
    fail: Any

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        self.server = demo.running().start()
        self.addCleanup(self.server.stop)
        self.http = requests.Session()
        self.addCleanup(self.http.close)
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = pathlib.Path(tmp.name)
        self.url = self.store_url()
        inherited = {k: v for k, v in os.environ.items()
                     if not k.startswith(("TESTDATA_JOURNAL", "PYTEST_XDIST"))
                     and k not in (_run.RUN_ID_ENV, _run.WORKER_ENV, "TESTDATA_HOSTNAME")}
        self.base_env = {**inherited, "TDK_DEMO_URL": self.server.url,
                         "PYTHONPATH": os.pathsep.join([str(ROOT), str(SUITE)])}

    def machine(self, name: str, **env: str) -> tuple[pathlib.Path, dict[str, str]]:
        """The working folder and environment of machine *name*: its own host name and local folders."""
        folder = self.tmp / name
        folder.mkdir(exist_ok=True)
        (folder / "setup.cfg").write_text(f"[testdata_kit]\nttl = 1h\n{COLLECTIONS}")
        return folder, {**self.base_env, "TESTDATA_HOSTNAME": f"{name}.ci.example", "TESTDATA_JOURNAL_STORE": self.url,
                        "TESTDATA_JOURNAL_STORE_FALLBACK": str(folder / "fallback"), **env}

    def rows(self) -> set[tuple[str, int]]:
        found = set()
        for collection in ("users", "products", "orders"):
            with self.http.get(f"{self.server.url}/{collection}", params={"limit": 500}) as response:
                self.assertEqual(response.status_code, 200, response.text)
                found.update((collection, item["id"]) for item in response.json()["items"])
        return found

    def hold(self, machine: str, **env: str) -> subprocess.Popen[str]:
        """Start case_hold on *machine*; return once it holds its rows (``go`` in its folder lets it end)."""
        folder, environment = self.machine(machine, **env)
        ready = folder / "ready"
        process = subprocess.Popen(
            [sys.executable, "-m", "unittest", "case_hold"], cwd=folder, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
            env={**environment, "TDK_READY": str(ready), "TDK_GO": str(folder / "go")})
        self.addCleanup(self.reap, process)
        deadline = time.monotonic() + 30
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                self.fail(f"the run on {machine} never held its rows: {self.reap(process)}")
            time.sleep(0.02)
        return process

    def reap(self, process: subprocess.Popen[str]) -> tuple[str, str]:
        if process.returncode is not None:
            return "", ""
        if process.poll() is None:
            process.kill()
        return process.communicate()

    def sweep(self, machine: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        folder, environment = self.machine(machine, TESTDATA_JOURNAL_CLOCK_SKEW="0", **env)
        return subprocess.run([sys.executable, "-m", "testdata_kit", "sweep", *args], env=environment, cwd=folder,
                              capture_output=True, text=True, timeout=120)

    def streams(self) -> list[journal.JournalFile]:
        store = journal.open_store(self.url)
        try:
            return store.streams()
        finally:
            store.close()

    def wait_until_dead(self, host: str) -> None:
        """Wait until every stream of *host* has a lease expired (no clock skew); fail after 60 s."""
        deadline = time.monotonic() + 60
        while True:
            store = journal.open_store(self.url)
            try:
                mine = [s for s in store.streams() if (s.header or {}).get("host") == host]
                if mine and not any(journal.is_alive(s, store.now(), skew=0) for s in mine):
                    return
            finally:
                store.close()
            if time.monotonic() > deadline:
                self.fail(f"the lease of {host} never expired: {[s.lease for s in mine]}")
            time.sleep(0.2)

    def test_a_run_killed_on_one_machine_is_swept_from_another(self) -> None:
        baseline = self.rows()
        dead = self.hold("machine-a", TESTDATA_JOURNAL_LEASE="2")
        dead_rows = self.rows() - baseline
        self.assertEqual({c for c, _ in dead_rows}, {"users", "products", "orders"})
        self.reap(dead)  # SIGKILL: no cleanup, no close record, no more heartbeats
        self.assertEqual(dead.returncode, -signal.SIGKILL)
        (stream,) = [s for s in self.streams() if s.header and s.header["host"] == "machine-a.ci.example"]
        self.assertEqual(stream.header["pid"], dead.pid)

        self.wait_until_dead("machine-a.ci.example")
        swept = self.sweep("machine-b", "--journal", self.url, "--yes")
        self.assertEqual(swept.returncode, 0, swept.stdout + swept.stderr)
        self.assertEqual({(d["collection"], d["id"]) for d in self.server.deletions()}, dead_rows,
                         "exactly the dead run's rows are deleted")
        self.assertEqual(self.rows() - baseline, set(), "0 rows left")
        self.assertEqual(self.streams(), [], "a fully replayed journal is removed from the store")
        self.assertFalse((self.tmp / "machine-b" / "fallback").exists(), "the store was used, not the fallback")

    def test_a_live_run_on_one_machine_is_left_alone_by_a_sweep_from_another(self) -> None:
        baseline = self.rows()
        live = self.hold("machine-a")
        live_rows = self.rows() - baseline
        for collection, ident in live_rows:  # older than the TTL: only the lease protects them
            self.server.backdate(collection, ident, OLD)
        with self.http.post(f"{self.server.url}/users", json={
                "email": f"test-{_run.base36(1614556800)}-oldrun-p1-{_run.random_token(8)}@example.com",
                "name": "Left"}) as response:
            self.assertEqual(response.status_code, 201, response.text)
            stale = response.json()
        self.server.backdate("users", stale["id"], OLD)

        swept = self.sweep("machine-b", "--url", self.server.url, "--yes")
        self.assertEqual(swept.returncode, 0, swept.stdout + swept.stderr)
        self.assertEqual({(d["collection"], d["id"]) for d in self.server.deletions()}, {("users", stale["id"])},
                         "the stale row of a run nobody leases goes; the live run's rows stay")
        self.assertEqual(self.rows(), baseline | live_rows)
        self.assertIsNone(live.poll(), "the live run is still running")
        journal_sweep = self.sweep("machine-b", "--journal", self.url, "--yes")
        self.assertEqual(journal_sweep.returncode, 0, journal_sweep.stdout + journal_sweep.stderr)
        self.assertEqual(self.rows(), baseline | live_rows, "a journal sweep leaves a live run alone too")

        (self.tmp / "machine-a" / "go").touch()
        out, err = live.communicate(timeout=60)
        self.assertEqual(live.returncode, 0, out + err)
        self.assertEqual(self.rows(), baseline, "the live run deleted its own rows")
        self.assertEqual(self.streams(), [], "and removed its stream")

    def test_a_run_stalled_past_its_lease_is_swept_and_then_ends_cleanly(self) -> None:
        # A stopped VM or a process frozen by a debugger: no heartbeat, so another machine's sweep rightly calls
        # the run dead and deletes its rows. When the run wakes up it must find its rows gone (verified, not
        # deleted twice) and leave no stream behind for the next sweep.
        baseline = self.rows()
        stalled = self.hold("machine-a", TESTDATA_JOURNAL_LEASE="2")
        rows = self.rows() - baseline
        stalled.send_signal(signal.SIGSTOP)
        self.addCleanup(lambda: stalled.poll() is None and stalled.send_signal(signal.SIGCONT))
        self.wait_until_dead("machine-a.ci.example")
        swept = self.sweep("machine-b", "--journal", self.url, "--yes")
        self.assertEqual(swept.returncode, 0, swept.stdout + swept.stderr)
        self.assertEqual(self.rows() - baseline, set())
        self.assertEqual({(d["collection"], d["id"]) for d in self.server.deletions()}, rows)

        stalled.send_signal(signal.SIGCONT)
        (self.tmp / "machine-a" / "go").touch()
        out, err = stalled.communicate(timeout=60)
        self.assertEqual(stalled.returncode, 0, out + err)
        self.assertIn(f"created {len(rows)}, deleted {len(rows)}, leaked 0", err)
        self.assertIn("this run's journal lease lapsed", err, "the run says why its data may have gone")
        self.assertEqual(len(self.server.deletions()), len(rows), "nothing deleted twice")
        self.assertEqual(self.streams(), [], "no stream left behind")
