"""What every journal store must do, as a mixin: a test class per store adds it and says how to make the store.

A subclass defines ``make_store()`` (a fresh, empty store; clean it up with ``addCleanup``) and may define
``make_unreachable_store()`` (a store of the same kind that cannot be reached, its URL holding the password
``s3cr3t``), else the unreachable test is skipped.
"""

from __future__ import annotations

import os
import time
import types
from typing import Any

from testdata_kit import journal
from testdata_kit.errors import StoreUnreachable, TestDataError
from testdata_kit.journal._store import Lease, Store, boot_id, hostname


def header(run: str = "run001", *, pid: int | None = None, host: str | None = None, worker: str = "p1",
           started: float | None = None, lease: float = 30.0, boot: str | None = "") -> dict[str, Any]:
    """An ``open`` record as :class:`testdata_kit.journal.Journal` writes it."""
    return {"op": "open", "v": journal.FORMAT_VERSION, "run": run, "pid": os.getpid() if pid is None else pid,
            "host": host or hostname(), "worker": worker, "started": round(started or time.time(), 3),
            "heartbeat": 10.0, "boot": boot_id() if boot == "" else boot, "lease": lease}


def line(record: dict[str, Any]) -> str:
    return journal.encode_record(record)


def intent(number: int, kind: str = "widget") -> str:
    return line({"op": "intent", "n": number, "kind": kind, "scope": "test", "test": "t.T.test_x", "at": 1.0})


def made(number: int, ident: Any) -> str:
    return line({"op": "made", "n": number, "id": ident,
                 "recovery": {"method": "DELETE", "url": f"http://127.0.0.1:9/widgets/{ident}"}})


def release(number: int, outcome: str = "deleted") -> str:
    return line({"op": "release", "n": number, "outcome": outcome})


class StoreContract:
    """Tests every journal store passes; mix into a ``unittest.TestCase`` that defines ``make_store()``."""

    def make_store(self) -> Store:
        raise NotImplementedError

    def make_unreachable_store(self) -> Store | None:
        return None

    # The mixin is not a TestCase (unittest would collect it); these are the TestCase methods it uses.
    assertEqual: Any
    assertTrue: Any
    assertFalse: Any
    assertIn: Any
    assertNotIn: Any
    assertIsInstance: Any
    assertIs: Any
    assertGreater: Any
    assertRaises: Any
    addCleanup: Any
    skipTest: Any

    def store(self) -> Store:
        store = self.make_store()
        self.addCleanup(store.close)
        return store

    def only(self, store: Store) -> journal.JournalFile:
        streams = store.streams()
        self.assertEqual(len(streams), 1, [s.name for s in streams])
        return streams[0]

    def test_a_new_store_has_no_streams_and_can_be_reached(self) -> None:
        store = self.store()
        store.check()
        self.assertEqual(store.streams(), [])

    def test_open_stream_writes_the_header_and_the_lease(self) -> None:
        store = self.store()
        writer = store.open_stream(header("run001", worker="gw3"))
        self.addCleanup(writer.close, False)
        found = self.only(store)
        self.assertEqual(found.name, writer.name)
        self.assertIs(found.store, store)
        self.assertEqual(found.run_id, "run001")
        self.assertEqual(found.header["worker"], "gw3")
        self.assertIsInstance(found.lease, Lease)
        self.assertEqual((found.lease.run, found.lease.host, found.lease.pid, found.lease.worker, found.lease.boot),
                         ("run001", hostname(), os.getpid(), "gw3", boot_id()))
        self.assertFalse(found.closed or found.lease.closed)
        self.assertGreater(found.lease.expires, store.now())
        self.assertEqual(found.problems, [])

    def test_written_lines_are_read_back_as_entries(self) -> None:
        store = self.store()
        writer = store.open_stream(header())
        self.addCleanup(writer.close, False)
        writer.write([intent(1)])
        writer.write([made(1, 17), intent(2), made(2, "a-b")])
        writer.write([release(2)])
        found = self.only(store)
        self.assertEqual([(e.number, e.ident, e.outcome) for e in found.pending()], [(1, 17, None)])
        self.assertEqual(found.entries[2].outcome, "deleted")
        self.assertTrue(found.entries[1].replayable)

    def test_queued_releases_reach_the_store_by_the_next_write_or_close(self) -> None:
        store = self.store()
        writer = store.open_stream(header())
        writer.write([intent(1), made(1, 1), intent(2), made(2, 2)])
        writer.queue(release(1))
        writer.write([intent(3)])
        self.assertEqual(self.only(store).entries[1].outcome, "deleted")
        writer.queue(release(2))
        writer.write([line({"op": "close", "at": 1.0})])
        writer.close(remove=False)
        found = self.only(store)
        self.assertEqual([e.number for e in found.pending()], [3])
        self.assertTrue(found.closed)
        self.assertTrue(found.lease.closed)
        self.assertFalse(store.is_alive(found))

    def test_close_with_remove_leaves_nothing(self) -> None:
        store = self.store()
        writer = store.open_stream(header())
        writer.write([intent(1), release(1, "abandoned"), line({"op": "close", "at": 1.0})])
        writer.close(remove=True)
        self.assertEqual(store.streams(), [])

    def test_a_beat_moves_the_expiry_forward(self) -> None:
        store = self.store()
        writer = store.open_stream(header(lease=5.0))
        self.addCleanup(writer.close, False)
        before = self.only(store).lease.expires
        time.sleep(0.05)
        writer.beat()
        after = self.only(store).lease.expires
        self.assertGreater(after, before)
        self.assertTrue(store.is_alive(self.only(store)))

    def test_liveness_follows_the_lease_and_the_clock_skew(self) -> None:
        store = self.store()
        store.skew = 10.0
        writer = store.open_stream(header(lease=5.0, host="another-machine"))
        self.addCleanup(writer.close, False)
        found = self.only(store)
        self.assertTrue(store.is_alive(found))
        self.assertTrue(store.is_alive(found, now=found.lease.expires + 9), "within the clock skew")
        self.assertFalse(store.is_alive(found, now=found.lease.expires + 11), "expired beyond the skew")
        self.assertEqual(store.live_runs([found]), {"run001"})

    def test_a_dead_pid_ends_a_lease_early_only_on_this_machine(self) -> None:
        store = self.store()
        gone = _dead_pid()
        writer = store.open_stream(header("runhere", pid=gone))
        self.addCleanup(writer.close, False)
        other = store.open_stream(header("runthere", pid=gone, host="same-pid-elsewhere"))
        self.addCleanup(other.close, False)
        # A container on another machine with this one's host name: the boot ids differ.
        twin = store.open_stream(header("runtwin", pid=gone, boot="another-machines-boot-id"))
        self.addCleanup(twin.close, False)
        by_run = {s.run_id: s for s in store.streams()}
        self.assertEqual(by_run["runhere"].lease.boot is None, boot_id() is None)
        if boot_id() is not None:
            self.assertFalse(store.is_alive(by_run["runhere"]), "same host and boot id, pid gone")
        self.assertTrue(store.is_alive(by_run["runthere"]), "another host: only the lease can end it")
        self.assertTrue(store.is_alive(by_run["runtwin"]), "the same host name alone never ends a lease")

    def test_append_release_and_remove(self) -> None:
        store = self.store()
        writer = store.open_stream(header())
        writer.write([intent(1), made(1, 5), intent(2), made(2, 6)])
        writer.close(remove=False)
        found = self.only(store)
        store.append_release(found, 2)
        again = self.only(store)
        self.assertEqual(again.entries[2].outcome, "swept")
        self.assertEqual([e.number for e in again.pending()], [1])
        store.remove(again)
        self.assertEqual(store.streams(), [])

    def test_streams_come_oldest_first(self) -> None:
        store = self.store()
        names = []
        for number in range(3):
            writer = store.open_stream(header(f"run00{number}", started=time.time() + number))
            writer.write([intent(1)])
            names.append(writer.name)
            writer.close(remove=False)
            time.sleep(0.02)
        self.assertEqual([s.name for s in store.streams()], names)
        self.assertEqual(len(set(names)), 3)

    def test_damage_is_described_not_raised(self) -> None:
        store = self.store()
        writer = store.open_stream(header())
        writer.write([intent(1), "not json\n", made(1, 3), '{"op":"made","n":1'])
        writer.close(remove=False)
        found = self.only(store)
        self.assertEqual(found.bad_lines, 1)
        self.assertTrue(found.truncated)
        self.assertTrue(found.damaged)
        self.assertEqual(found.entries[1].ident, 3)
        self.assertTrue(any("not a JSON record" in problem for problem in found.problems), found.problems)

    def test_a_journal_writes_through_the_store(self) -> None:
        store = self.store()
        log = journal.Journal(store=store, heartbeat=0, run_id="jrun01")
        widget = types.SimpleNamespace(intent=None, kind="widget", scope="test", owner=None, ident=41,
                                       recovery={"method": "DELETE", "url": "http://u:pw@127.0.0.1:9/widgets/41"})
        gadget = types.SimpleNamespace(intent=None, kind="gadget", scope="test", owner=None, ident=42, recovery=None)
        log.on_create(widget)
        log.on_create(gadget)
        log.on_release(gadget, "deleted")
        log.close()
        found = self.only(store)
        self.assertTrue(found.closed)
        self.assertEqual([e.describe() for e in found.pending()], ["widget id=41 (<test>)"])
        self.assertNotIn("pw", str(found.entries[widget.intent].recovery))
        self.assertEqual(found.entries[gadget.intent].outcome, "deleted")

    def test_a_journal_with_nothing_left_removes_its_stream(self) -> None:
        store = self.store()
        log = journal.Journal(store=store, heartbeat=0)
        widget = types.SimpleNamespace(intent=None, kind="widget", scope="test", owner=None, ident=1, recovery=None)
        log.on_create(widget)
        log.on_release(widget, "deleted")
        log.close()
        self.assertEqual(store.streams(), [])

    def test_the_url_never_shows_a_password(self) -> None:
        store = self.make_unreachable_store()
        if store is None:
            self.skipTest("this store has no credentials")
        self.addCleanup(store.close)
        self.assertNotIn("s3cr3t", store.url)
        self.assertNotIn("s3cr3t", repr(store))
        with self.assertRaises(StoreUnreachable) as caught:
            store.check()
        self.assertIsInstance(caught.exception, TestDataError)
        self.assertNotIn("s3cr3t", str(caught.exception))
        self.assertIn(store.url, str(caught.exception))


    def test_a_stream_swept_while_its_writer_was_stalled_is_never_written_unlisted(self) -> None:
        # A run whose heartbeat stalled past its lease (a stopped VM, a blocked thread) is swept and its stream
        # removed. When the run resumes, what it records next must, by its next beat, be in a stream a sweeper
        # lists, owned by the run and alive: not in a removed file, an unlisted key, or pieces without a header.
        for beat_first in (False, True):
            with self.subTest(beat_first=beat_first):
                store = self.store()
                writer = store.open_stream(header("run009"))
                self.addCleanup(writer.close, False)
                writer.write([intent(1)])
                writer.write([made(1, 1)])
                writer.beat()  # the last beat before the stall
                store.remove(self.only(store))  # as a sweep does, once it has deleted widget 1
                self.assertEqual(store.streams(), [])
                if beat_first:  # the stalled heartbeat thread wakes before the run writes again
                    writer.beat()
                writer.write([intent(2), made(2, 2)])
                writer.beat()  # as the heartbeat thread does; a store may put the stream back by then
                found = self.only(store)
                self.assertEqual(found.run_id, "run009")
                self.assertIn(2, [e.number for e in found.pending()])
                self.assertEqual(found.problems, [])
                self.assertTrue(store.is_alive(found))

    def test_a_second_sweeper_finishing_a_stream_the_first_removed_is_no_error(self) -> None:
        # Two sweeps at once (a nightly job and a hand-run one) read the same dead stream; the first removes it.
        # The second's release record and removal must neither fail nor leave a stream without a header behind.
        store = self.store()
        writer = store.open_stream(header("run007", pid=_dead_pid()))
        writer.write([intent(1), made(1, 1), intent(2)])
        first = self.only(store)
        second = self.only(store)
        store.remove(first)
        store.append_release(second, 2)
        store.remove(second)
        self.assertEqual(store.streams(), [])

def _dead_pid() -> int:
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid
