"""Journal stores: the directory store against the store contract, and choosing a store from the settings."""

from __future__ import annotations

import datetime
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

from testdata_kit import journal
from testdata_kit.journal._store import Store
from tests._launch import free_port
from tests._store_contract import StoreContract
from tests._two_machines import TwoMachines

ROOT = pathlib.Path(__file__).resolve().parent.parent


class DirectoryStoreContract(StoreContract, unittest.TestCase):
    """The contract, run on :class:`testdata_kit.journal.DirectoryStore` (today's journal folder)."""

    def make_store(self) -> Store:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        return journal.open_store(os.path.join(folder.name, "journal"))


class DirectoryTwoMachines(TwoMachines, unittest.TestCase):
    """Two machines sharing a folder (a network disk, say): the same guarantees as a store on a server."""

    def store_url(self) -> str:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        return os.path.join(folder.name, "shared-journal")


DOWN_SUITE = """
import pathlib, sys, unittest
from testdata_kit import DataTestCase, Registry, creates

kinds = Registry()

@creates("thing", registry=kinds)
def thing():
    pathlib.Path("created").write_text("yes")
    yield {"id": 1}

class T(DataTestCase):
    registry = kinds

    def test_creates(self):
        self.create("thing")

unittest.main(module=__name__, verbosity=0)
"""


class UnreachableStoreTests(unittest.TestCase):
    """A store that cannot be reached at a run's first journaled creation: fail fast, or fall back and say so."""

    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = pathlib.Path(tmp.name)
        # Nothing listens on a port just freed: the store is down, not misconfigured.
        self.url = f"postgresql://ci:s3cr3t@127.0.0.1:{free_port()}/journal"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TESTDATA_JOURNAL")}
        self.env.update(TESTDATA_JOURNAL_STORE=self.url, PYTHONPATH=str(ROOT))

    def run_suite(self, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", DOWN_SUITE], cwd=self.tmp, env={**self.env, **env},
                              capture_output=True, text=True, timeout=120)

    def test_the_run_fails_at_its_start_with_the_masked_url_and_the_fix(self) -> None:
        done = self.run_suite()
        # Reached before the first test, as a bad setting is: the run stops there, having run no test.
        self.assertEqual(done.returncode, 5 if sys.version_info >= (3, 12) else 1, done.stderr)
        self.assertNotIn("Traceback", done.stderr)
        masked = self.url.replace("s3cr3t", "***")
        self.assertIn(f"StoreUnreachable: the journal store {masked} cannot be reached: connection failed", done.stderr)
        self.assertIn("or set journal-store-fallback (TESTDATA_JOURNAL_STORE_FALLBACK) to a folder", done.stderr)
        self.assertNotIn("s3cr3t", done.stdout + done.stderr)
        self.assertFalse((self.tmp / "created").exists(), "nothing is created unrecorded")

    def test_with_a_fallback_the_run_journals_there_and_says_so(self) -> None:
        done = self.run_suite(TESTDATA_JOURNAL_STORE_FALLBACK="local-journal")
        self.assertEqual(done.returncode, 0, done.stderr)
        masked = self.url.replace("s3cr3t", "***")
        notes = [line for line in done.stderr.splitlines() if "journal" in line]
        self.assertEqual(len(notes), 1, done.stderr)
        self.assertIn(f"testdata_kit: the journal store {masked} cannot be reached (connection failed", notes[0])
        self.assertIn("Journaling to the fallback folder local-journal instead; sweep it with sweep --journal "
                      "local-journal.", notes[0])
        self.assertNotIn("s3cr3t", done.stdout + done.stderr)
        self.assertTrue((self.tmp / "created").exists())
        self.assertTrue((self.tmp / "local-journal").is_dir(), "the journal went to the fallback folder")

    def test_a_sweep_that_cannot_read_the_store_deletes_nothing(self) -> None:
        from testdata_kit import _run, demo

        with demo.running() as server:
            email = f"test-{_run.base36(1614556800)}-oldrun-p1-{_run.random_token(8)}@example.com"
            import requests

            with requests.post(f"{server.url}/users", json={"email": email, "name": "Old"}, timeout=10) as answer:
                row = answer.json()
            server.backdate("users", row["id"], datetime.datetime(2021, 3, 1, tzinfo=datetime.timezone.utc))
            (self.tmp / "setup.cfg").write_text("[testdata_kit]\nttl = 1h\n[testdata_kit:collections.users]\n"
                                                "marker-fields = email\n")
            done = subprocess.run([sys.executable, "-m", "testdata_kit", "sweep", "--url", server.url, "--yes"],
                                  cwd=self.tmp, env=self.env, capture_output=True, text=True, timeout=120)
            self.assertEqual(done.returncode, 2, done.stdout + done.stderr)
            self.assertIn("cannot be reached", done.stderr)
            self.assertIn("runs still alive cannot be told apart, so nothing was deleted", done.stderr)
            self.assertNotIn("s3cr3t", done.stdout + done.stderr)
            self.assertEqual(server.counts()["users"], 1, "the stale row stays: its run may be alive elsewhere")
