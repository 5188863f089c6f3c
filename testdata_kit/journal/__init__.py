"""The crash-safe journal: an append-only JSON-lines record of every creation, its confirmation and its release.

Enable it with ``TESTDATA_JOURNAL=DIR`` (or ``journal-dir = DIR`` in the ``[testdata_kit]`` section of
``setup.cfg``). Each process of a run then writes one file in DIR, named ``RUN-HOST-PID-START.jsonl``, with one
record per line, each written by a single ``write`` call as soon as it happens (except the ``release`` of a
deleted resource, which goes out with the next record: see :class:`Journal`):

``open``
    the lease: run id, pid, host, worker token, start time and heartbeat interval.
``intent``
    number *n*, kind, scope and test, written **before** the create call.
``made``
    *n*, the id and the ``recovery`` that another process can replay (an HTTP method and URL, or a
    ``"module:function"`` to call with the id), written after the create call returned.
``release``
    *n* and the outcome (``deleted``, ``kept``, ``leaked``, ``abandoned`` when the create call failed, or
    ``swept`` when a sweeper deleted it later).
``close``
    the process ended normally.

The journal is one package with two halves: this module writes, ``testdata_kit.journal._read`` reads; import
everything from here. The core starts it at a process's first tracked creation when :func:`enabled` (whose
cheap check, like the variable's name, sits in ``testdata_kit._env`` so that processes that never journal do
not import this package); the journal then observes the ledger (:attr:`testdata_kit.ledger.Ledger.observers`)
and never imports the core's creation path.

The heartbeat is the file's modification time: every record touches it, and a daemon thread touches it every
``heartbeat`` seconds. A run is alive while its file is fresh and, on the same host, its pid exists. With
``TESTDATA_JOURNAL_FSYNC=1`` (or ``journal-fsync = true``) each record is also fsync'ed, which survives a power
loss and costs a disk flush per record. In recovery URLs a password in the user part and secret-looking query
parameters are masked as ``***`` (the sweeper replays them without those). Of the headers, only those the
integration names for replay are kept (an HTTP collection keeps its tenant's ``X-Tenant-*``), with credential
headers masked; no body is ever written.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from testdata_kit import _env, _run, _settings, ledger
from testdata_kit._env import JOURNAL_ENV
from testdata_kit.journal._read import FORMAT_VERSION, HEARTBEAT, Entry, JournalFile, is_alive, read, scan
from testdata_kit.journal._read import STALE_AFTER as STALE_AFTER
from testdata_kit.journal._read import live_runs as live_runs

if TYPE_CHECKING:
    from testdata_kit.config import Config

__all__ = [
    "FORMAT_VERSION",
    "FSYNC_ENV",
    "JOURNAL_ENV",
    "Entry",
    "Journal",
    "JournalFile",
    "configured_directory",
    "enabled",
    "is_alive",
    "read",
    "scan",
    "start",
]

FSYNC_ENV = _env.JOURNAL_FSYNC_ENV
_RECOVERY_KEYS = ("method", "url", "check", "headers", "proven", "call", "id")
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
# The outcomes of release records, encoded once.
_OUTCOMES = {word: _encode(word) for word in ("deleted", "kept", "leaked", "abandoned", "swept")}


# Release records of deleted resources held back at most, before a write of their own (see Journal._pending).
_PENDING_MAX = 64

# This process's id, kept up to date across forks, so that a write need not ask the system for it.
_pid = os.getpid()


def _new_pid_after_fork() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_new_pid_after_fork)


def _id_text(ident: Any) -> str:
    # The id as JSON when it is a str or int (what a sweeper can use), else null.
    if type(ident) is int:
        return str(ident)
    return _encode(ident) if isinstance(ident, (str, int)) else "null"


def _test_name(owner: Any, scope: str) -> str:
    if owner is None:
        return f"<{scope}>"
    if isinstance(owner, type):
        return f"{owner.__module__}.{owner.__qualname__}"
    return str(owner.id()) if hasattr(owner, "id") else type(owner).__name__


def clean_recovery(recovery: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return the replayable part of *recovery*: method, url and check (credentials masked as ``***``), the
    headers the integration chose to keep (a tenant's, already redacted), call, id.

    The URLs go through :func:`testdata_kit._redact.url`, the same vocabulary of secret names as the HTTP
    client's messages; the fragment is dropped, since no server ever sees it. Bodies are never kept, nor any
    header the integration did not name.


    :param recovery: what the integration passed to ``track(..., recovery=...)``.
    """
    if not recovery:
        return None
    kept = {key: recovery[key] for key in _RECOVERY_KEYS if key in recovery}
    for key in ("url", "check"):
        url = kept.get(key)
        if isinstance(url, str):
            from testdata_kit import _redact  # urllib.parse only when something is journaled

            kept[key] = _redact.url(url.partition("#")[0])
    headers = kept.get("headers")
    if headers is not None:
        from testdata_kit import _redact

        # A masked credential would only be dropped by the sweeper: keep what can be replayed, or nothing.
        shown = _redact.headers(headers) if isinstance(headers, dict) else {}
        kept["headers"] = {name: value for name, value in shown.items() if value != _redact.MASK}
        if not kept["headers"]:
            del kept["headers"]
    return kept


class Journal:
    """Writes one process's journal file; a ledger observer (see :attr:`testdata_kit.ledger.Ledger.observers`).

    **Not** meant to be shared across a fork: the child opens a file of its own on its first record.

    Each record is written as it happens, with one exception that saves a write per resource: the ``release``
    record of a *deleted* resource waits for the next record (an intent, before the next create call), for
    :meth:`flush` or :meth:`close`, or until 64 wait, and goes out in the same write. A crash that loses it only
    makes a sweeper check that resource again. With *fsync* nothing waits.

    :param directory: where the file goes (created if missing).
    :param fsync: fsync each record, not just write it.
    :param heartbeat: seconds between touches of the file by the heartbeat thread; ``0`` disables the thread.
    :param run_id: the run's id (default: :func:`testdata_kit._run.run_id`).
    """

    def __init__(
        self, directory: str | os.PathLike[str], *, fsync: bool = False, heartbeat: float = HEARTBEAT,
        run_id: str | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.fsync = fsync
        self.heartbeat = heartbeat
        self.run_id = run_id or _run.run_id()
        self.path: Path | None = None
        self._fd: int | None = None
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
        # Release records of deleted resources not written yet: they go out with the next record (one write for
        # both), or once _PENDING_MAX of them wait. A lost one only makes a sweeper check the resource again.
        self._pending: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._open()

    def __repr__(self) -> str:
        return f"<Journal {str(self.path)!r} fsync={self.fsync}>"

    def _open(self) -> None:
        self._pid = _pid
        started = time.time()
        host = socket.gethostname()
        safe_host = re.sub(r"[^A-Za-z0-9.]", "_", host)[:40]
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{self.run_id}-{safe_host}-{self._pid}-{_run.base36(int(started * 1000))}.jsonl"
        self.path = self.directory / name
        # Readable by the owner only: recovery URLs may name internal hosts.
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._write({
            "op": "open", "v": FORMAT_VERSION, "run": self.run_id, "pid": self._pid, "host": host,
            "worker": _run.worker_token(), "started": round(started, 3), "heartbeat": self.heartbeat,
        })
        if self.heartbeat > 0:
            self._stop.clear()
            self._thread = threading.Thread(target=self._beat, name="testdata_kit-journal-heartbeat", daemon=True)
            self._thread.start()

    def _beat(self) -> None:
        path = self.path
        while not self._stop.wait(self.heartbeat):
            try:
                os.utime(path)  # type: ignore[arg-type]
            except OSError:
                return

    def _write(self, record: dict[str, Any]) -> None:
        self._write_line(_encode(record) + "\n")

    def _write_line(self, line: str) -> None:
        if self._pid != _pid:
            self._thread = None  # threads do not survive a fork
            self._pending = []  # the parent's, which the parent writes
            self._open()
        elif self._pending:
            pending, self._pending = self._pending, []  # swapped first: a release appended meanwhile goes too
            pending.append(line)
            line = "".join(pending)
        fd = self._fd
        if fd is None:
            return
        os.write(fd, line.encode())
        if self.fsync:
            os.fsync(fd)

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
        self._write_line(f'{{"op":"intent","n":{number}{self._middle}{time.time():.3f}}}\n')

    def on_abandon(self, number: int) -> None:
        self._open_entries -= 1
        self._write_line(f'{{"op":"release","n":{number},"outcome":"abandoned"}}\n')

    def on_create(self, resource: Any) -> None:
        number = resource.intent
        if number is None:  # tracked after the fact (track() without intend()): intent and confirmation at once
            number = resource.intent = ledger.new_number()
            self.on_intent(number, resource.kind, resource.scope, resource.owner)
        value = resource.value
        ident = value.get("id") if type(value) is dict else resource.ident
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
        self._write_line(f'{{"op":"made","n":{number},"id":{ident if type(ident) is int else _id_text(ident)},'
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
            if outcome == "deleted" and not self.fsync and self._pid == _pid:
                # Proven gone: nothing is lost if a crash loses this record before the next write carries it.
                pending = self._pending
                pending.append(f'{{"op":"release","n":{resource.intent},"outcome":"deleted"}}\n')
                if len(pending) >= _PENDING_MAX:
                    self._write_line(pending.pop())
                return
            outcome_text = _OUTCOMES.get(outcome) or _encode(outcome)
            self._write_line(f'{{"op":"release","n":{resource.intent},"outcome":{outcome_text}}}\n')

    def flush(self) -> None:
        """Write the release records held back now, rather than with the next record (see :class:`Journal`)."""
        if self._pending:
            self._write_line("")

    def close(self) -> None:
        """Write the ``close`` record, stop the heartbeat and close the file; remove it if nothing is left to sweep.

        Safe to call twice.
        """
        if self._fd is None:
            return
        mine = self._pid == _pid
        if mine:
            self._write({"op": "close", "at": round(time.time(), 3)})
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        os.close(self._fd)
        self._fd = None
        if mine and self._open_entries == 0 and self.path is not None:
            self.path.unlink(missing_ok=True)


#: Whether this process should journal: ``$TESTDATA_JOURNAL`` is set, or setup.cfg may set ``journal-dir``.
#: Cheap on purpose, and defined in :mod:`testdata_kit._env` so that the core can ask it at a process's first
#: tracked creation without importing this package when nothing journals.
enabled = _env.journal_requested


def start(books: ledger.Ledger | None = None, directory: str | os.PathLike[str] | None = None) -> Journal:
    """Attach a journal to *books* (default: the current ledger), configured from the environment or setup.cfg.

    :param directory: where to write; default :func:`configured_directory`, else ``.testdata-journal``.
    """
    books = books or ledger.current()
    fsync = bool(_settings.value("journal-fsync"))
    if directory is None:
        directory = configured_directory() or ".testdata-journal"
    journal = Journal(directory, fsync=fsync)
    books.observers.append(journal)
    return journal


def configured_directory(loaded: Config | None = None) -> str | None:
    """Return the journal directory in force: ``$TESTDATA_JOURNAL``, else ``journal-dir``, else ``None``.

    Runs write and ``sweep`` reads where this says; two rules would send the sweeper where no run wrote.

    :param loaded: the section to read ``journal-dir`` from; default: the current directory's, read only if needed.
    """
    from_env = os.environ.get(JOURNAL_ENV)
    if from_env or loaded is None:
        return _settings.value("journal-dir") or None
    return loaded.get_str("journal-dir") or None


def append_release(path: str | os.PathLike[str], number: int, outcome: str = "swept") -> None:
    """Append a ``release`` record to a dead run's journal (the sweeper does this after deleting)."""
    record = (_encode({"op": "release", "n": number, "outcome": outcome}) + "\n").encode()
    with open(path, "rb") as handle:
        # After a lost tail the file ends mid-line: the record must not be glued to that fragment.
        handle.seek(0, os.SEEK_END)
        if handle.tell():
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                record = b"\n" + record
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, record)
    finally:
        os.close(fd)
