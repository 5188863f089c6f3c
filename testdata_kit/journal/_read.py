"""Reading journals: the entries of each file or stream, damage described rather than raised.

The writing side and the record format are in :mod:`testdata_kit.journal`, which re-exports everything here;
import from there. Only ``sweep`` and tools that inspect journals need this half.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FORMAT_VERSION", "HEARTBEAT", "STALE_AFTER", "Entry", "JournalFile", "parse", "read", "scan"]

#: The ``v`` of the ``open`` record this version writes, and the only one it replays.
FORMAT_VERSION = 1

#: Seconds between heartbeats; a lease lasts :data:`STALE_AFTER` heartbeats without a beat (unless
#: ``journal-lease`` says otherwise; see :mod:`testdata_kit.journal._store`).
HEARTBEAT = 10.0
STALE_AFTER = 3


@dataclass
class Entry:
    """One creation found in a journal: what it was, whether it was confirmed, and how it ended."""

    number: int
    kind: str
    test: str
    scope: str = "test"
    confirmed: bool = False
    ident: Any = None
    recovery: dict[str, Any] | None = None
    outcome: str | None = None

    @property
    def pending(self) -> bool:
        """True when the resource may still exist and nobody means to keep it."""
        return self.outcome in (None, "leaked")

    @property
    def replayable(self) -> bool:
        """True when a sweeper can delete it: confirmed with a URL, or with a call and an id."""
        recovery = self.recovery or {}
        return self.confirmed and bool(recovery.get("url") or (recovery.get("call") and recovery.get("id") is not None))

    def describe(self) -> str:
        """Return a one-line description for listings, e.g. ``user id=17 (test_checkout)``."""
        shown = f"id={self.ident!r}" if self.ident is not None else "id unknown"
        return f"{self.kind} {shown} ({self.test})"


@dataclass
class JournalFile:
    """What :func:`read` found in one journal file; damage is described in :attr:`problems`, never raised."""

    path: Path
    header: dict[str, Any] | None = None
    entries: dict[int, Entry] = field(default_factory=dict)
    closed: bool = False
    problems: list[str] = field(default_factory=list)
    mtime: float = 0.0
    #: The last line lacks its newline: the process (or the machine) died while writing, and what followed is lost.
    truncated: bool = False
    #: Lines that are not records (garbage, or records of an unknown type), besides a truncated last line.
    bad_lines: int = 0
    #: The stream's id, unique in its store (a directory store's: the file name).
    name: str = ""
    #: The stream's lease (a :class:`testdata_kit.journal._store.Lease`), when its store keeps one apart.
    lease: Any = None
    #: The :class:`testdata_kit.journal._store.Store` it was read from, when read through one.
    store: Any = None

    @property
    def version(self) -> Any:
        """The format version the ``open`` record names (``None`` without a header or a ``v``)."""
        return None if self.header is None else self.header.get("v")

    @property
    def known_version(self) -> bool:
        """True when the header names :data:`FORMAT_VERSION`, the one this version can replay."""
        return self.version == FORMAT_VERSION

    @property
    def damaged(self) -> bool:
        """True when records may be missing: a truncated tail, or lines that could not be read."""
        return self.truncated or self.bad_lines > 0

    @property
    def run_id(self) -> str | None:
        return None if self.header is None else str(self.header.get("run"))

    def pending(self) -> list[Entry]:
        """Entries that may still exist, newest first (the order that deletes children before parents)."""
        return sorted((e for e in self.entries.values() if e.pending), key=lambda e: -e.number)


def read(path: str | os.PathLike[str]) -> JournalFile:
    """Read a journal file, keeping every good record and describing every bad line in ``problems``.

    A last line without its newline is what a crash mid-write leaves: it is skipped with a warning. Any
    other line that is not a valid record is reported with its line number. Never raises.
    """
    result = JournalFile(Path(path), name=Path(path).name)
    try:
        result.mtime = os.stat(path).st_mtime
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        result.problems.append(f"{path}: cannot be read: {error}")
        return result
    return parse(result, data, str(path))


def parse(result: JournalFile, data: bytes, where: str) -> JournalFile:
    """Apply the records in *data* (JSON lines) to *result* and return it; *where* names the stream in problems.

    The reading rules of :func:`read`, for stores that hand over a stream's bytes rather than a file. Never raises.
    """
    lines = data.split(b"\n")
    complete = data.endswith(b"\n")
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        last = number == len(lines) and not complete
        problem = _apply(result, raw)
        if problem is None:
            continue
        if last:
            result.truncated = True
            result.problems.append(f"{where}:{number}: warning: truncated last line skipped (the process died "
                                   f"while writing it)")
        else:
            result.bad_lines += 1
            result.problems.append(f"{where}:{number}: {problem}; line skipped: {raw[:80]!r}")
    if result.header is None and not any("cannot be read" in p for p in result.problems):
        result.problems.append(f"{where}: no 'open' record, so the owner of this file is unknown")
    return result


def _apply(result: JournalFile, raw: bytes) -> str | None:
    try:
        record = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return "not a JSON record"
    if not isinstance(record, dict):
        return "not a JSON object"
    op = record.get("op")
    number = record.get("n")
    if op == "open":
        result.header = record
    elif op == "close":
        result.closed = True
    elif op not in ("intent", "made", "release"):
        return f"unknown record type {op!r}"
    elif not isinstance(number, int):
        return f"{op!r} record without a number 'n'"
    elif op == "intent":
        result.entries[number] = Entry(number, str(record.get("kind")), str(record.get("test")),
                                       str(record.get("scope", "test")))
    elif number not in result.entries:
        return f"{op!r} record for creation {number}, which has no 'intent' record"
    elif op == "made":
        entry = result.entries[number]
        entry.confirmed = True
        entry.ident = record.get("id")
        recovery = record.get("recovery")
        entry.recovery = recovery if isinstance(recovery, dict) else None
    else:
        result.entries[number].outcome = str(record.get("outcome"))
    return None


def scan(directory: str | os.PathLike[str]) -> list[JournalFile]:
    """Read every ``*.jsonl`` journal file in *directory*, oldest first; a missing directory gives ``[]``."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    return [read(path) for path in sorted(folder.glob("*.jsonl"), key=_mtime)]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
