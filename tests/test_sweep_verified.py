"""The sweeper counts a deletion only on proof: against servers whose DELETE answers 404 or 204 without deleting,
``sweep`` never says "deleted" for rows that are still there, and never removes a journal whose row remains."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap
import time
import unittest

from testdata_kit import _run, journal
from tests._dead_runs import DeadRunCase

ROOT = pathlib.Path(__file__).resolve().parent.parent
KILLED_CREATE = textwrap.dedent("""
    import os, pathlib, time
    from testdata_kit import DataTestCase, unique
    from testdata_kit.http import ApiClient

    class KilledCreate(DataTestCase):
        def test_create(self):
            api = ApiClient(os.environ["TDK_DEMO_URL"])

            def answered(response, *args, **kwargs):  # the row exists; the process dies before tracking it
                pathlib.Path(os.environ["TDK_READY"]).touch()
                time.sleep(60)

            api.hooks["response"].append(answered)
            api.collection("users").create(email=unique.email(), name="Killed")
""")


class QueryFilterServerTests(DeadRunCase):
    """Rows live at ``/users?id=eq.7``; ``DELETE /users/7`` answers 404 and deletes nothing."""

    demo_options = {"addressing": "query"}

    def test_the_environment_sweep_reports_the_rows_it_could_not_delete(self):
        for _ in range(3):
            self.user()
        status, out, err = self.sweep("--url", self.server.url, "--ttl", "0s", "--yes")
        self.assertEqual(status, 1, out + err)
        self.assertEqual(self.remaining(), 3)
        self.assertNotRegex(out, r"users +3 +3 ", "never 'deleted 3'")
        self.assertRegex(out, r"users +3 +0 +0 +0 +3")
        self.assertEqual(out.count("failed: users: id "), 3, "each remaining row is listed")
        self.assertIn("For the sweep, set item (and verify) in [testdata_kit:collections.users], e.g. "
                      "item = {path}?id=eq.{id}.", out)

        self.configure(collections=True, item="{path}?id=eq.{id}")
        status, out, err = self.sweep("--url", self.server.url, "--ttl", "0s", "--yes")
        self.assertEqual((status, self.remaining()), (0, 0), out + err)
        self.assertRegex(out, r"users +3 +3 +0 +0 +0")

    def test_the_marker_fallback_after_a_kill_during_a_create_keeps_the_journal_while_the_row_remains(self):
        self.user()  # the row the killed create made; its journal has only the intent
        path = self.write_journal(self.entry(1, None))
        status, out, err = self.sweep_journal()
        self.assertEqual(status, 1, out + err)
        self.assertEqual(self.remaining(), 1)
        self.assertTrue(path.exists(), "the journal is kept while its row remains")
        self.assertRegex(out, r"users +1 +0 ")
        self.assertNotRegex(out, r"\(by marker\) +1 +1 ", "the marker sweep claims no deletion it did not prove")
        self.assertEqual(len(journal.read(path).pending()), 1)

        self.configure(collections=True, item="{path}?id=eq.{id}")
        status, out, err = self.sweep_journal()
        self.assertEqual((status, self.remaining(), path.exists()), (0, 0, False), out + err)
        self.assertRegex(out, r"users +1 +1 ")

    def test_the_same_after_a_real_kill_9_during_a_collections_create(self):
        (self.tmp / "case_killed.py").write_text(KILLED_CREATE)
        ready = self.tmp / "ready"
        env = {k: v for k, v in os.environ.items()
               if k not in (_run.RUN_ID_ENV, _run.WORKER_ENV) and not k.startswith("PYTEST_XDIST")}
        env.update(TDK_DEMO_URL=self.server.url, TDK_READY=str(ready), TESTDATA_JOURNAL=str(self.journals),
                   PYTHONPATH=str(ROOT))
        process = subprocess.Popen([sys.executable, "-m", "unittest", "case_killed"], cwd=self.tmp, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(process.wait)
        self.addCleanup(process.kill)
        deadline = time.monotonic() + 30
        while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        process.kill()
        process.wait()
        self.assertTrue(ready.exists(), "the create was answered before the kill")
        (path,) = self.journals.glob("*.jsonl")
        (entry,) = journal.read(path).pending()
        self.assertFalse(entry.confirmed, "the journal knows only the intent")
        self.assertEqual(self.remaining(), 1)

        status, out, err = self.sweep_journal()
        self.assertEqual((status, self.remaining(), path.exists()), (1, 1, True), out + err)
        self.assertNotRegex(out, r"\(by marker\) +1 +1 ")
        self.configure(collections=True, item="{path}?id=eq.{id}")
        status, out, err = self.sweep_journal()
        self.assertEqual((status, self.remaining(), path.exists()), (0, 0, False), out + err)


class AlreadyGoneTests(DeadRunCase):
    """A run killed after its DELETE and before journaling it: the entry's row is already gone."""

    def gone_entry(self, proven: bool):
        row = self.user()
        self.http.delete(f"{self.server.url}/users/{row['id']}").close()
        records = self.entry(1, row)
        if proven:
            records[1]["recovery"]["proven"] = True
        self.configure(collections=False)
        return self.write_journal(records)

    def test_a_404_at_an_address_nothing_proved_is_not_proof(self):
        path = self.gone_entry(proven=False)
        status, out, err = self.sweep_journal()
        self.assertEqual((status, path.exists()), (1, True), out + err)
        self.assertIn("so nothing proves the item is gone", out)

    def test_a_404_at_an_address_the_run_proved_is(self):
        path = self.gone_entry(proven=True)
        status, out, err = self.sweep_journal()
        self.assertEqual((status, path.exists()), (0, False), out + err)
        self.assertRegex(out, r"users +1 +1 ")


class EmptyAnswerServerTests(DeadRunCase):
    """A DELETE that matched nothing answers an empty 204, as PostgREST does."""

    demo_options = {"addressing": "query", "empty_delete_204": True}
    item = "{path}?id=eq.1{id}"  # a wrong address: it matches nothing, and the server still says 204

    def test_an_empty_204_is_not_proof(self):
        for _ in range(3):
            self.user()
        status, out, err = self.sweep("--url", self.server.url, "--ttl", "0s", "--yes")
        self.assertEqual(status, 1, out + err)
        self.assertEqual(self.remaining(), 3)
        self.assertRegex(out, r"users +3 +0 +0 +0 +3")

    def test_a_journal_replay_of_a_wrong_address_keeps_the_journal(self):
        row = self.user()
        path = self.write_journal(self.entry(1, row, url=f"{self.server.url}/users?id=eq.9{row['id']}"))
        self.configure(collections=False)
        status, out, err = self.sweep_journal()
        self.assertEqual((status, self.remaining(), path.exists()), (1, 1, True), out + err)
        self.assertRegex(out, r"users +1 +0 +0 +0 +1")


if __name__ == "__main__":
    unittest.main()
