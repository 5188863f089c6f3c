"""``sweep --journal`` on damaged journals: what can be read is replayed, nothing unproven is removed, and the exit
status and message say what is left and what to configure."""

from __future__ import annotations

import json
import unittest

from testdata_kit import journal
from tests._dead_runs import RUN, WORKER, DeadRunCase, marker


class LostTailTests(DeadRunCase):
    """A power loss cut the journal: 22 rows are named in it, 15 more were created after the last readable line."""

    def lost_tail(self):
        named = [self.user() for _ in range(22)]
        for _ in range(15):
            self.user()
        records = [r for number, row in enumerate(named, start=1) for r in self.entry(number, row)]
        path = self.write_journal(records, tail=b'{"op":"intent","n":23,"kind":"us')
        self.assertEqual(self.remaining(), 37)
        return path

    def test_with_collections_configured_the_rest_is_swept_by_the_runs_marker(self):
        path = self.lost_tail()
        other = self.user(f"{marker(run='otherr')}@example.com")  # another dead run's row: not this journal's
        status, out, err = self.sweep_journal()
        self.assertEqual(status, 0, out + err)
        self.assertIn("truncated last line skipped", err)
        self.assertEqual(self.remaining(), 1, "only the other run's row is left")
        self.assertEqual(self.http.get(f"{self.server.url}/users/{other['id']}").status_code, 200)
        self.assertFalse(path.exists(), "every entry and every marked row of its run is verified gone")
        self.assertRegex(out, r"users +22 +22 ")
        self.assertRegex(out, r"total +22 +22 +0 +0 +0\n\(by marker\) +15 +15 ")

    def test_an_entry_swept_by_marker_is_counted_once_in_the_total(self):
        # The process died during the create call: the journal has the intent, the server has the row.
        self.user()
        path = self.write_journal(self.entry(1, None))
        status, out, err = self.sweep_journal()
        self.assertEqual((status, self.remaining()), (0, 0), out + err)
        self.assertRegex(out, r"users +1 +1 +0 +0 +0\ntotal +1 +1 +0 +0 +0\n\(by marker\) +1 +1 +0 +0 +0\n")
        self.assertIn("  (by marker): not added to the total, since the entries above may name the same rows", out)
        self.assertFalse(path.exists())

    def test_without_collections_it_exits_1_keeps_the_journal_and_says_what_to_configure(self):
        path = self.lost_tail()
        self.configure(collections=False)
        status, out, err = self.sweep_journal()
        self.assertEqual(status, 1, out + err)
        self.assertEqual(self.remaining(), 15, "the 22 named rows are deleted; the rest cannot be found")
        self.assertTrue(path.exists(), "the journal is kept")
        self.assertIn(f"Configure [testdata_kit:collections.NAME] sections and --url (or sweep-url), and sweep "
                      f"--journal again: it then deletes every row whose marker names run {RUN}, worker {WORKER}.",
                      err)
        self.assertEqual(journal.read(path).pending(), [], "the rows it deleted are released in the journal")
        self.configure(collections=True)
        status, out, err = self.sweep_journal()
        self.assertEqual((status, self.remaining(), path.exists()), (0, 0, False), out + err)


class UnknownVersionTests(DeadRunCase):
    def test_exits_2_keeps_the_journal_and_names_both_versions(self):
        rows = [self.user(), self.user()]
        path = self.write_journal([r for n, row in enumerate(rows, start=1) for r in self.entry(n, row)], version=2)
        before = path.read_bytes()
        status, out, err = self.sweep_journal()
        self.assertEqual(status, 2, out + err)
        self.assertIn(f"{path.name}: journal format version 2, but this version of testdata_kit reads version 1; "
                      f"nothing in it was replayed, and it is kept.", err)
        self.assertEqual(path.read_bytes(), before, "kept as it was")
        self.assertEqual(self.remaining(), 2, "nothing is deleted on the word of a format it cannot read")
        # The documented way on: an environment sweep of every marked row, whatever its age.
        status, out, err = self.sweep("--url", self.server.url, "--ttl", "0s", "--yes")
        self.assertEqual((status, self.remaining()), (0, 0), out + err)

    def test_a_header_without_a_version_is_unknown_too(self):
        path = self.write_journal(self.entry(1, self.user()), version=None)
        status, _, err = self.sweep_journal()
        self.assertEqual(status, 2)
        self.assertIn("journal format version None, but this version of testdata_kit reads version 1", err)
        self.assertTrue(path.exists())


class GarbageTests(DeadRunCase):
    def test_exits_1_and_keeps_it(self):
        path = self.journals / "deadrn-host-1-abc.jsonl"
        path.write_bytes(bytes(range(256)) * 4)
        status, out, err = self.sweep_journal()
        self.assertEqual(status, 1, out + err)
        self.assertTrue(path.exists())
        self.assertIn(f"{path.name}: not a readable journal (no 'open' record naming its run), so whose it is "
                      f"cannot be known and nothing in it is replayed (its rows may be a live run's); it is kept.", err)


    def test_records_without_an_open_record_are_never_replayed(self):
        # What a store holds between a sweep that removed a stalled run's stream and the run's next heartbeat,
        # which puts the header back: the run is alive, so its rows must stay.
        row = self.user()
        path = self.journals / "deadrn-host-1-abc.jsonl"
        path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in self.entry(1, row)))
        status, out, err = self.sweep_journal()
        self.assertEqual((status, self.remaining()), (1, 1), out + err)
        self.assertIn(f"failed: users: users id={row['id']} (t.T.test_x): not replayed, its stream names no run", out)
        self.assertTrue(path.exists())


class MissingFolderTests(DeadRunCase):
    def test_exits_2_naming_the_folder(self):
        missing = self.tmp / "no-such-dir"
        status, out, err = self.sweep("--journal", str(missing), "--yes")
        self.assertEqual((status, out), (2, ""))
        self.assertIn(f"sweep: the journal folder {missing} does not exist", err)
        self.assertNotIn("Traceback", err)


class TenantReplayTests(DeadRunCase):
    def tenant(self) -> dict[str, str]:
        with self.http.post(f"{self.server.url}/tenants", json={"name": f"Shop {marker()}"}) as response:
            return {"X-Tenant-ID": str(response.json()["id"])}

    def test_the_recorded_tenant_header_is_sent(self):
        self.configure(collections=False)  # only the replay could delete the row
        mine, other = self.tenant(), self.tenant()
        row = self.user(headers=mine)
        with self.http.get(f"{self.server.url}/users/{row['id']}", headers=other) as response:
            self.assertEqual(response.status_code, 404, "another tenant's header does not find the row")
        path = self.write_journal(self.entry(1, row, headers=other))
        status, out, err = self.sweep_journal()
        self.assertEqual((status, self.remaining()), (1, 1), "sent with the recorded (wrong) tenant: not found")
        self.assertTrue(path.exists())
        path.unlink()
        path = self.write_journal(self.entry(1, row, headers=mine))
        status, out, err = self.sweep_journal()
        self.assertEqual((status, self.remaining()), (0, 0), out + err)
        self.assertFalse(path.exists())

if __name__ == "__main__":
    unittest.main()
