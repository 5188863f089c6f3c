"""The journal: records written around each creation, a reader that survives damage, and SIGKILL recovery."""

from __future__ import annotations

import json
import os
import pathlib
import random
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from unittest import mock

from testdata_kit import DataTestCase, Registry, creates, demo, journal, ledger, sweep, track
from testdata_kit.journal._store import boot_id
from tests._support import problems

SUITE = pathlib.Path(__file__).resolve().parent / "journal_suite"
ROOT = SUITE.parent.parent

SWEEP_CONFIG = """[testdata_kit]
[testdata_kit:collections.users]
marker-fields = email, name
prefix-param = prefix
list-query = limit=500
[testdata_kit:collections.products]
marker-fields = name
prefix-param = prefix
list-query = limit=500
[testdata_kit:collections.orders]
owner-fields = user_id -> users, product_id -> products
prefix-param = prefix
list-query = limit=500
"""


def delete_nothing(ident):
    """A module-level recovery target."""


class WriterTests(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = pathlib.Path(tmp.name)

    def run_with_journal(self, test_class, **options):
        loader = unittest.TestLoader()
        result = unittest.TestResult()
        with ledger.isolated() as books:
            log = journal.Journal(self.dir, heartbeat=0, **options)
            books.observers.append(log)
            loader.loadTestsFromTestCase(test_class).run(result)
            records = [json.loads(line) for line in log.path.read_text().splitlines()]
            path = log.path
            books.close()
        return result, records, path

    def test_intent_is_written_before_the_create_call_and_confirmation_and_release_after(self):
        kinds = Registry()
        seen_at_create: list[list[str]] = []
        holder: dict[str, pathlib.Path] = {}

        @creates("thing", registry=kinds, recover=delete_nothing)
        def thing():
            seen_at_create.append([json.loads(x)["op"] for x in holder["path"].read_text().splitlines()])
            yield {"id": 41}

        class Inner(DataTestCase):
            registry = kinds

            def test_it(self):
                holder["path"] = next(o.path for o in ledger.current().observers if hasattr(o, "path"))
                self.create("thing")

        result, records, path = self.run_with_journal(Inner)
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual(seen_at_create, [["open", "intent"]])
        self.assertEqual([r["op"] for r in records], ["open", "intent", "made", "release"])
        self.assertEqual(records[1]["test"], Inner("test_it").id())
        self.assertEqual(records[2]["recovery"], {"call": "tests.test_journal:delete_nothing", "id": 41})
        self.assertEqual(records[3]["outcome"], "deleted")
        self.assertEqual(records[0]["pid"], os.getpid())
        self.assertFalse(path.exists(), "a process that released everything removes its journal on close")

    def test_a_leak_keeps_the_file_and_reads_back_as_pending_with_its_url(self):
        class Inner(DataTestCase):
            def test_it(self):
                track("widget", {"id": 7}, lambda: 1 / 0,
                      recovery={"method": "DELETE", "url": "http://u:pw@127.0.0.1:9/widgets/7?api_key=s3cr3t&x=1",
                                "headers": {"Authorization": "Bearer s3cr3t"}})

        result, _, path = self.run_with_journal(Inner)
        self.assertEqual(len(result.errors), 1)
        self.assertTrue(path.exists())
        self.assertNotIn("s3cr3t", path.read_text())
        self.assertNotIn("pw", path.read_text())
        found = journal.read(path)
        (entry,) = found.pending()
        self.assertEqual((entry.kind, entry.ident, entry.outcome), ("widget", 7, "leaked"))
        masked = "http://u:***@127.0.0.1:9/widgets/7?api_key=***&x=1"  # the HTTP client's own redaction
        self.assertEqual(entry.recovery, {"method": "DELETE", "url": masked})
        self.assertTrue(found.closed)
        self.assertFalse(journal.is_alive(found))

    def test_fsync_mode_writes_the_same_records(self):
        class Inner(DataTestCase):
            def test_it(self):
                track("widget", {"id": 1}, lambda: None)

        _, records, _ = self.run_with_journal(Inner, fsync=True)
        self.assertEqual([r["op"] for r in records], ["open", "intent", "made", "release"])

    def test_a_failed_create_is_recorded_as_abandoned(self):
        kinds = Registry()

        @creates("broken", registry=kinds, delete=lambda value: None)
        def broken():
            raise ValueError("the API said no")

        class Inner(DataTestCase):
            registry = kinds

            def test_it(self):
                self.create("broken")

        _, records, _ = self.run_with_journal(Inner)
        self.assertEqual([(r["op"], r.get("outcome")) for r in records[1:]],
                         [("intent", None), ("release", "abandoned")])

    def test_the_environment_variable_enables_it_for_a_whole_process(self):
        code = ("import testdata_kit, unittest\n"
                "class T(testdata_kit.DataTestCase):\n"
                "    def test_it(self):\n"
                "        testdata_kit.track('widget', {'id': 3}, lambda: 1 / 0)\n"
                "unittest.main(exit=False)\n")
        env = {**os.environ, "TESTDATA_JOURNAL": str(self.dir), "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, cwd=self.dir)
        (found,) = journal.scan(self.dir)
        self.assertEqual([e.describe() for e in found.pending()], ["widget id=3 (__main__.T.test_it)"])

    def test_heartbeat_thread_touches_the_file(self):
        log = journal.Journal(self.dir, heartbeat=0.05)
        self.addCleanup(log.close)
        os.utime(log.path, (1, 1))
        time.sleep(0.3)
        self.assertGreater(log.path.stat().st_mtime, time.time() - 5)
        self.assertTrue(journal.is_alive(journal.read(log.path)))


class ReaderTests(unittest.TestCase):
    def write(self, text: bytes) -> pathlib.Path:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        path = pathlib.Path(tmp.name, "r-host-1-x.jsonl")
        path.write_bytes(text)
        return path

    GOOD = (b'{"op":"open","run":"abc123","pid":1,"host":"h","worker":"p1","heartbeat":10}\n'
            b'{"op":"intent","n":1,"kind":"user","test":"t"}\n'
            b'{"op":"made","n":1,"id":5,"recovery":{"call":"m:f","id":5}}\n')

    def test_a_truncated_last_line_is_skipped_with_a_warning(self):
        found = journal.read(self.write(self.GOOD + b'{"op":"intent","n":2,"ki'))
        self.assertEqual([e.ident for e in found.pending()], [5])
        (problem,) = found.problems
        self.assertIn(":4: warning: truncated last line skipped", problem)

    def test_damage_and_version_are_told_apart(self):
        whole = journal.read(self.write(self.GOOD))
        self.assertEqual((whole.damaged, whole.truncated, whole.bad_lines, whole.version), (False, False, 0, None))
        self.assertFalse(whole.known_version, "a header without 'v' names no version this one can replay")
        cut = journal.read(self.write(self.GOOD.replace(b'"op":"open"', b'"op":"open","v":1') + b'{"op":"in'))
        self.assertEqual((cut.damaged, cut.truncated, cut.bad_lines, cut.known_version), (True, True, 0, True))
        newer = journal.read(self.write(self.GOOD.replace(b'"op":"open"', b'"op":"open","v":2') + b"junk\n"))
        self.assertEqual((newer.damaged, newer.truncated, newer.bad_lines, newer.version), (True, False, 1, 2))

    def test_recovery_keeps_what_a_sweeper_can_replay(self):
        kept = journal.clean_recovery({"method": "DELETE", "url": "http://127.0.0.1:9/users?id=eq.3&token=s3",
                                       "check": "http://127.0.0.1:9/users/3#x", "proven": True, "body": {"a": 1},
                                       "headers": {"X-Tenant-ID": "7", "Authorization": "Bearer s3"}})
        self.assertEqual(kept, {"method": "DELETE", "url": "http://127.0.0.1:9/users?id=eq.3&token=***",
                                "check": "http://127.0.0.1:9/users/3", "proven": True,
                                "headers": {"X-Tenant-ID": "7"}})

    def test_a_release_after_a_lost_tail_is_read(self):
        path = self.write(self.GOOD + b'{"op":"intent","n":2,"ki')
        journal.append_release(path, 1)
        found = journal.read(path)
        self.assertEqual(found.pending(), [], "the release is a line of its own, not glued to the fragment")
        self.assertEqual(found.bad_lines, 1, "the fragment is still reported, as a bad line now")

    def test_garbage_lines_are_reported_with_their_numbers_and_good_records_kept(self):
        damaged = (self.GOOD.replace(b"\n", b"\n\x00\xffgarbage\n", 1) + b"[1, 2]\n"
                   + b'{"op":"release","n":9,"outcome":"deleted"}\n{"op":"explode"}\n'
                   + b'{"op":"intent","n":3,"kind":"order","test":"t"}\n')
        found = journal.read(self.write(damaged))
        self.assertEqual(sorted(e.kind for e in found.pending()), ["order", "user"])
        text = "\n".join(found.problems)
        for expected in (":2: not a JSON record", ":5: not a JSON object", ":6: 'release' record for creation 9",
                         ":7: unknown record type 'explode'"):
            self.assertIn(expected, text)

    def test_an_unreadable_or_headerless_file_never_raises(self):
        self.assertIn("cannot be read", journal.read("/nonexistent/x.jsonl").problems[0])
        found = journal.read(self.write(b"\xff\xfe"))
        self.assertIn("no 'open' record", found.problems[-1])
        self.assertEqual(found.entries, {})

    def test_a_dead_pid_on_this_host_is_dead_even_with_a_fresh_heartbeat(self):
        process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                                 text=True, check=True)
        found = journal.read(self.write(self.GOOD))
        found.header = {**(found.header or {}), "pid": int(process.stdout), "host": socket.gethostname(),
                        "boot": boot_id()}
        self.assertFalse(journal.is_alive(found))
        found.header["pid"] = os.getpid()
        self.assertTrue(journal.is_alive(found))
        self.assertFalse(journal.is_alive(found, now=time.time() + 3600), "a stale lease is dead")


class SigkillTrials(unittest.TestCase):
    """Kill the busy suite at random points; after sweep --journal --yes the server is back to its baseline."""

    TRIALS = 20

    def test_every_trial_returns_to_baseline(self):
        seed = os.environ.get("TDK_TRIAL_SEED") or str(random.SystemRandom().randrange(2**32))
        print(f"\nSigkillTrials seed: TDK_TRIAL_SEED={seed}", file=sys.stderr)
        rng = random.Random(seed)
        with demo.running() as server, tempfile.TemporaryDirectory() as tmp, \
                mock.patch.dict(os.environ, {"TDK_DEMO_URL": server.url}), mock.patch.object(sys, "path",
                                                                                               [str(SUITE), *sys.path]):
            config = pathlib.Path(tmp, "sweep.cfg")
            config.write_text(SWEEP_CONFIG)
            env = {**os.environ, "TESTDATA_JOURNAL": str(pathlib.Path(tmp, "journal")), "PYTHONPATH": str(ROOT)}
            # A kill before the first creation leaves no folder, and sweeping a missing folder is an error (exit 2).
            pathlib.Path(env["TESTDATA_JOURNAL"]).mkdir()
            baseline = server.counts()
            leftovers = 0
            for trial in range(self.TRIALS):
                delay = rng.uniform(0.0, 0.4)
                process = subprocess.Popen([sys.executable, "-m", "unittest", "case_busy"], cwd=SUITE, env=env,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                # The delay counts from the first row the suite creates, not from the start of the process: on a
                # loaded machine the interpreter's start alone can outlast a fixed delay, and the kill then
                # lands before anything was created.
                started = time.monotonic()
                while (sum(server.counts().values()) == sum(baseline.values()) and process.poll() is None
                       and time.monotonic() - started < 60):
                    time.sleep(0.005)
                time.sleep(delay)
                process.kill()
                process.wait()
                leftovers += sum(server.counts().values()) - sum(baseline.values())
                with mock.patch("sys.stdout"), mock.patch("sys.stderr"):
                    status = sweep.main(["--journal", env["TESTDATA_JOURNAL"], "--yes", "--url", server.url,
                                         "--config", str(config)])
                self.assertEqual(status, 0, f"trial {trial} (killed {delay:.2f} s in), seed {seed}")
                self.assertEqual(server.counts(), baseline, f"trial {trial} (killed {delay:.2f} s in), seed {seed}")
            self.assertGreater(leftovers, self.TRIALS,
                               f"the kills left data behind, so the sweeps had work (seed {seed})")
            self.assertEqual(list(pathlib.Path(env["TESTDATA_JOURNAL"]).glob("*.jsonl")), [])


if __name__ == "__main__":
    unittest.main()
