"""A run killed with SIGKILL while it holds the user -> product -> discount -> order chain on a REST server
nobody here wrote (json-server, Datasette) is fully removed by the documented recovery,
``python -m testdata_kit sweep --journal DIR --yes``: the rows counted in the server's own store are back to the
baseline and the journal is gone. Skipped without the servers, failed under CI without them (see
tests/test_http_real_servers.py).
"""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from typing import ClassVar

from testdata_kit import journal
from tests._datasette import Datasette
from tests._json_server import JsonServer
from tests._launch import ExternalServer

ROOT = pathlib.Path(__file__).resolve().parent.parent
SUITE = ROOT / "tests" / "journal_suite"


class KilledChainCase(unittest.TestCase):
    launcher: ClassVar[type[ExternalServer]]
    module: ClassVar[str]
    #: The sweep's keys for the users collection besides marker-fields: how the server lists and deletes.
    users_section: ClassVar[str] = ""

    def setUp(self) -> None:
        self.server = self.launcher().__enter__()  # type: ignore[call-arg]
        self.addCleanup(self.server.__exit__)
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.tmp = pathlib.Path(folder.name)
        self.journal = self.tmp / "journal"
        self.env = {**os.environ, "PYTHONPATH": f"{ROOT}:{SUITE}", "TESTDATA_JOURNAL": str(self.journal),
                    "TDK_READY": str(self.tmp / "ready"), "TDK_SERVER": self.module,
                    "TDK_SERVER_URL": self.server.url}
        for name in ("TESTDATA_HTTP_VERIFY", "TESTDATA_PREFIX", "TESTDATA_SWEEP_TOKEN"):
            self.env.pop(name, None)

    def kill_while_holding(self) -> str:
        process = subprocess.Popen([sys.executable, "-m", "unittest", "case_real_server"], cwd=SUITE,
                                   env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: process.poll() is None and process.kill())
        deadline = time.monotonic() + 30
        while not (self.tmp / "ready").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                out, err = process.communicate()
                self.fail(f"the run never held its rows: {out}{err}")
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        out, err = process.communicate(timeout=30)
        self.assertEqual(process.returncode, -signal.SIGKILL)
        return out + err

    def sweep(self, *args: str) -> subprocess.CompletedProcess[str]:
        # cwd is the temporary folder: no setup.cfg there, so only the journal and args tell the sweep what to do.
        return subprocess.run([sys.executable, "-m", "testdata_kit", "sweep", "--journal", str(self.journal),
                               "--yes", *args], cwd=self.tmp, env=self.env, capture_output=True, text=True, timeout=60)

    def test_a_killed_chain_is_fully_swept_from_the_journal(self) -> None:
        baseline = self.server.counts()
        output = self.kill_while_holding()
        held = {name: count - baseline[name] for name, count in self.server.counts().items()}
        self.assertEqual(held, {"users": 1, "products": 1, "discounts": 1, "orders": 1}, output)
        pending = [entry for found in journal.scan(self.journal) for entry in found.pending()]
        self.assertEqual(len(pending), 4, output)
        self.assertTrue(all(entry.replayable for entry in pending), [entry.describe() for entry in pending])

        swept = self.sweep()
        self.assertEqual(swept.returncode, 0, swept.stdout + swept.stderr)
        self.assertEqual(self.server.counts(), baseline, swept.stdout + swept.stderr)
        self.assertEqual(list(self.journal.glob("*.jsonl")), [], "a fully replayed journal is removed")
        again = self.sweep()
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
        self.assertEqual(self.server.counts(), baseline)

    def test_a_row_created_during_the_kill_is_swept_by_its_marker(self) -> None:
        baseline = self.server.counts()
        self.env["TDK_IN_FLIGHT"] = "1"
        output = self.kill_while_holding()
        held = {name: count - baseline[name] for name, count in self.server.counts().items()}
        self.assertEqual(held, {"users": 2, "products": 1, "discounts": 1, "orders": 1}, output)
        config = self.tmp / "sweep.cfg"
        config.write_text(f"[testdata_kit:collections.users]\nmarker-fields = email\n{self.users_section}",
                          encoding="utf-8")

        journal_only = self.sweep()
        self.assertEqual(journal_only.returncode, 1, "without collections the in-flight user cannot be found")
        self.assertEqual(self.server.counts(), {**baseline, "users": baseline["users"] + 1})
        self.assertEqual(len(list(self.journal.glob("*.jsonl"))), 1, "the journal is kept")

        swept = self.sweep("--config", str(config), "--url", self.server.url)
        self.assertEqual(swept.returncode, 0, swept.stdout + swept.stderr)
        self.assertRegex(swept.stdout, r"\(by marker\) +1 +1 ", swept.stdout)
        self.assertEqual(self.server.counts(), baseline, swept.stdout + swept.stderr)
        self.assertEqual(list(self.journal.glob("*.jsonl")), [], "a fully swept journal is removed")


class JsonServerKilledChainTests(KilledChainCase):
    launcher = JsonServer
    module = "json_server"


class DatasetteKilledChainTests(KilledChainCase):
    launcher = Datasette
    module = "datasette"
    # Listed as a JSON array, the next page named by a Link header; read back by query filter; deleted by POST.
    users_section = ("path = /data/users.json\nlist-query = _shape=array&_size=1\n"
                     "item = /data/users.json?id__exact={id}&_shape=array\n"
                     "delete-at = /data/users/{id}/-/delete\ndelete-method = POST\n")


del KilledChainCase  # a base, not a test of its own

if __name__ == "__main__":
    unittest.main()
