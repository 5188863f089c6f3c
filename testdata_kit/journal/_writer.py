"""The journal's writer: one process's stream of records, its lease kept alive, and the move to a fallback folder."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from testdata_kit import _run, ledger
from testdata_kit.errors import StoreUnreachable
from testdata_kit.journal import _store
from testdata_kit.journal._directory import DirectoryStore
from testdata_kit.journal._read import FORMAT_VERSION, HEARTBEAT
from testdata_kit.journal._records import OUTCOMES as _OUTCOMES
from testdata_kit.journal._records import clean_recovery, encode_record
from testdata_kit.journal._records import encode as _encode
from testdata_kit.journal._records import id_text as _id_text
from testdata_kit.journal._records import test_name as _test_name
from testdata_kit.journal._store import Store, StreamWriter

__all__ = ["Journal"]

# This process's id, kept up to date across forks, so that a write need not ask the system for it.
_pid = os.getpid()


def _new_pid_after_fork() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_new_pid_after_fork)


class Journal:
    """Writes one process's journal stream to a store; a ledger observer (:attr:`testdata_kit.ledger.Ledger.observers`).

    **Not** meant to be shared across a fork: the child opens a stream of its own on its first record.

    A write that fails before a create (its ``intent``) raises :class:`~testdata_kit.errors.StoreUnreachable`, so
    the create does not happen unrecorded; with *fallback*, the journal instead moves to that folder for the rest of
    the process, copying the stream's records there first, and says so on stderr. A write that fails after a
    create (its confirmation, a release) is kept and sent with the next write.

    The ``release`` record of a *deleted* resource goes to :meth:`StreamWriter.queue`: a store may hold it back and
    send it with a later record (a folder sends it with the next one, in the same ``write``), since a lost one only
    makes a sweeper check that resource again. :meth:`flush` sends what is held back now.

    :param directory: where the file goes (created if missing), when no *store* is given.
    :param fsync: fsync each record, not just write it (a directory store).
    :param heartbeat: seconds between beats of the heartbeat thread; ``0`` disables the thread; default a third of
        ``journal-lease``, at most 10.
    :param run_id: the run's id (default: :func:`testdata_kit._run.run_id`).
    :param store: the store to write to (see :func:`open_store`); default a :class:`DirectoryStore` in *directory*.
    :param fallback: a folder to move to when *store* fails.
    """

    def __init__(
        self, directory: str | os.PathLike[str] | None = None, *, fsync: bool = False, heartbeat: float | None = None,
        run_id: str | None = None, store: Store | None = None, fallback: str | os.PathLike[str] | None = None,
    ) -> None:
        if store is None:
            store = DirectoryStore(directory if directory is not None else ".testdata-journal", fsync=fsync)
        self.store = store
        self.directory = Path(store.directory) if isinstance(store, DirectoryStore) else None
        self.fsync = fsync
        self.heartbeat = _store.heartbeat_for() if heartbeat is None else heartbeat
        self.run_id = run_id or _run.run_id()
        self.fallback = fallback
        self.path: Path | None = None
        self.name = ""
        self._writer: StreamWriter | None = None
        self._header: dict[str, Any] = {}
        # Every line sent, while a fallback may need them all; lines a failed write could not send after a create.
        self._history: list[str] | None = [] if fallback is not None else None
        self._unsent: list[str] = []
        self._pid = 0
        self._open_entries = 0
        # Encoded once: kind names and recovery calls, and the owner of the last intent with its test's name.
        self._texts: dict[str, str] = {}
        self._heads: dict[tuple[str, str], str] = {}  # (kind, scope) -> their part of an intent record
        self._owner: Any = None
        self._owner_text = "null"
        self._kind: str | None = None
        self._scope: str | None = None
        self._middle = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._open()

    def __repr__(self) -> str:
        where = str(self.path) if self.path is not None else f"{self.store.url} {self.name}"
        return f"<Journal {where!r} fsync={self.fsync}>"

    def _open(self) -> None:
        self._pid = _pid
        started = time.time()
        self._header = {
            "op": "open", "v": FORMAT_VERSION, "run": self.run_id, "pid": self._pid, "host": _store.hostname(),
            "worker": _run.worker_token(), "started": round(started, 3), "heartbeat": self.heartbeat,
            "boot": _store.boot_id(), "lease": _store.lease_seconds(self.heartbeat or HEARTBEAT),
        }
        if self._history is not None:
            self._history = [encode_record(self._header)]
        try:
            self._writer = self.store.open_stream(self._header)
        except (StoreUnreachable, OSError) as error:
            self._move_to_fallback(error, [])
        self._opened()
        if self.heartbeat > 0:
            self._stop.clear()
            self._thread = threading.Thread(target=self._beat, name="testdata_kit-journal-heartbeat", daemon=True)
            self._thread.start()

    def _opened(self) -> None:
        writer = self._writer
        self.name = writer.name if writer is not None else ""
        self.path = getattr(writer, "path", None)

    def _move_to_fallback(self, error: BaseException, lines: list[str]) -> None:
        """Continue in the fallback folder with every record so far and *lines*, or raise :class:`StoreUnreachable`."""
        url = self.store.url
        if self.fallback is None or isinstance(self.store, DirectoryStore):
            if isinstance(error, StoreUnreachable):
                raise error
            if isinstance(self.store, DirectoryStore):
                raise error
            raise StoreUnreachable(url, str(error), _FIX) from error
        history = self._history or []
        self.store = DirectoryStore(self.fallback, fsync=self.fsync)
        self.directory = Path(self.fallback)
        self._writer = writer = self.store.open_stream(self._header)
        writer.write([*history[1:], *lines])
        self._history = None
        self._opened()
        cause = error.cause if isinstance(error, StoreUnreachable) else str(error)
        print(f"testdata_kit: the journal store {url} failed ({cause}); journaling to the fallback folder "
              f"{self.fallback} from now on ({len(history) + len(lines)} records copied there). Sweep it with "
              f"sweep --journal {self.fallback}.", file=sys.stderr)

    def _beat(self) -> None:
        warned = False
        lease = float(self._header.get("lease") or 0.0)
        renewed = time.monotonic()
        while not self._stop.wait(self.heartbeat):
            writer = self._writer
            if writer is None:
                return
            try:
                writer.beat()
                warned = False
                now = time.monotonic()
                if lease and now - renewed > lease:
                    # The process was frozen (a stopped VM, a debugger, a blocked interpreter): a sweep elsewhere
                    # was right to call it dead, and may have deleted its data. Its tests would fail unexplained.
                    print(f"testdata_kit: warning: this run's journal lease lapsed: {now - renewed:.0f} s without "
                          f"a heartbeat, longer than the {lease:g} s lease, so a sweep on another machine may have "
                          f"deleted this run's data meanwhile. Raise journal-lease if the process is often held up "
                          f"that long.", file=sys.stderr)
                renewed = now
            except OSError:
                if isinstance(self.store, DirectoryStore):
                    return
            except Exception as error:  # the store's own errors: a sweeper elsewhere may soon call this run dead
                if not warned:
                    warned = True
                    print(f"testdata_kit: warning: the journal store {self.store.url} missed a heartbeat "
                          f"({error}); retrying every {self.heartbeat:g} s", file=sys.stderr)

    def _write(self, record: dict[str, Any]) -> None:
        self._write_line(encode_record(record))

    def _write_line(self, line: str) -> None:
        """Send *line* durably; raise if it cannot be (an intent: before its create)."""
        if self._pid != _pid:
            self._thread = None  # threads do not survive a fork
            self._open()
        writer = self._writer
        if writer is None:
            return
        unsent = self._unsent
        if not unsent and self._history is None:  # the common case: one line, nothing held back, no fallback
            try:
                writer.write_line(line)
            except (StoreUnreachable, OSError) as error:
                self._move_to_fallback(error, [line])
            return
        lines = [*unsent, line] if unsent else [line]
        try:
            writer.write(lines)
        except (StoreUnreachable, OSError) as error:
            self._move_to_fallback(error, lines)
        if unsent:
            unsent.clear()
        if self._history is not None:
            self._history.extend(lines)

    def _write_after(self, line: str) -> None:
        """Send *line* (a record of what already happened); keep it for the next write if the store is down."""
        try:
            self._write_line(line)
        except StoreUnreachable as error:
            if not self._unsent:
                print(f"testdata_kit: warning: {error} The record is kept and sent with the next one.",
                      file=sys.stderr)
            self._unsent.append(line)

    # The three records of every resource are formatted by hand rather than by json: they are written for each
    # creation, and their parts are numbers, fixed words, and names encoded once (kinds, tests, recovery calls).

    def on_intent(self, number: int, kind: str, scope: str, owner: Any) -> None:
        self._open_entries += 1
        if owner is not self._owner or kind is not self._kind or scope is not self._scope or owner is None:
            # The record's middle is kept for the last (owner, kind, scope): a test makes its resources in a row.
            if owner is not self._owner or owner is None:
                self._owner = owner
                self._owner_text = _encode(_test_name(owner, scope))
            head = self._heads.get((kind, scope))
            if head is None:
                head = self._heads[kind, scope] = f'"kind":{_encode(kind)},"scope":{_encode(scope)}'
            self._kind, self._scope = kind, scope
            self._middle = f',{head},"test":{self._owner_text},"at":'
        try:
            self._write_line(f'{{"op":"intent","n":{number}{self._middle}{time.time():.3f}}}\n')
        except BaseException:
            self._open_entries -= 1
            raise

    def on_abandon(self, number: int) -> None:
        self._open_entries -= 1
        self._write_after(f'{{"op":"release","n":{number},"outcome":"abandoned"}}\n')

    def on_create(self, resource: Any) -> None:
        number = resource.intent
        if number is None:  # tracked after the fact (track() without intend()): intent and confirmation at once
            number = resource.intent = ledger.new_number()
            self.on_intent(number, resource.kind, resource.scope, resource.owner)
        ident = resource.ident
        recovery = resource.recovery
        if recovery is None:
            recovery_text = "null"
        elif len(recovery) == 2 and type(recovery.get("call")) is str and "id" in recovery:
            # A @creates(recover=...) kind: _recovery_text's first case, without its call.
            call = recovery["call"]
            call_text = self._texts.get(call)
            if call_text is None:
                call_text = self._texts[call] = _encode(call)
            rid = recovery["id"]
            recovery_text = f'{{"call":{call_text},"id":{rid if type(rid) is int else _id_text(rid)}}}'
        else:
            recovery_text = self._recovery_text(recovery)
        self._write_after(f'{{"op":"made","n":{number},"id":{ident if type(ident) is int else _id_text(ident)},'
                          f'"recovery":{recovery_text}}}\n')

    def _recovery_text(self, recovery: dict[str, Any]) -> str:
        call = recovery.get("call")
        if len(recovery) == 2 and isinstance(call, str) and "id" in recovery:  # a @creates(recover=...) kind
            call_text = self._texts.get(call)
            if call_text is None:
                call_text = self._texts[call] = _encode(call)
            return f'{{"call":{call_text},"id":{_id_text(recovery["id"])}}}'
        return _encode(clean_recovery(recovery))

    def on_release(self, resource: Any, outcome: str) -> None:
        if resource.intent is not None:
            if outcome != "leaked":
                self._open_entries -= 1
            outcome_text = _OUTCOMES.get(outcome) or _encode(outcome)
            line = f'{{"op":"release","n":{resource.intent},"outcome":{outcome_text}}}\n'
            writer = self._writer
            if writer is None or self._unsent or self._pid != _pid or outcome != "deleted":
                # Kept and leaked resources still exist: a sweeper must learn of them from the record itself.
                self._write_after(line)
                return
            try:
                # A lost release of a deleted resource only makes a sweeper verify the deletion again, so a store
                # may hold it back and send it with a later record.
                writer.queue(line)
            except (StoreUnreachable, OSError):
                self._write_after(line)
                return
            if self._history is not None:
                self._history.append(line)

    def flush(self) -> None:
        """Send the ``release`` records the store holds back (see :meth:`StreamWriter.queue`) now."""
        writer = self._writer
        if writer is None or self._pid != _pid:
            return
        lines = list(self._unsent)
        writer.write(lines)  # with what the store queued first
        self._unsent.clear()
        if self._history is not None:
            self._history.extend(lines)

    def close(self) -> None:
        """Write the ``close`` record, stop the heartbeat and close the stream; remove it if nothing is left to sweep.

        Safe to call twice.
        """
        writer = self._writer
        if writer is None:
            return
        mine = self._pid == _pid
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if mine:
            self._write_after(encode_record({"op": "close", "at": round(time.time(), 3)}))
        writer = self._writer
        self._writer = None
        if writer is None:
            return
        try:
            writer.close(remove=mine and self._open_entries == 0 and not self._unsent)
        except StoreUnreachable as error:
            print(f"testdata_kit: warning: {error} The journal stream {writer.name} stays; a sweep verifies what "
                  f"it names.", file=sys.stderr)
        if mine:
            self.store.close()


_FIX = ("Check that the store is up and reachable from this machine, or set journal-store-fallback "
        "(TESTDATA_JOURNAL_STORE_FALLBACK) to a folder to journal to meanwhile.")
