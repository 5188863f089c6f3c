"""The directory store: one JSON-lines file per stream in a folder, the lease the file's modification time.

What ``TESTDATA_JOURNAL=DIR`` and ``journal-dir`` give, and the fallback of every remote store. The interface it
implements is :mod:`testdata_kit.journal._store`'s.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

from testdata_kit import _run
from testdata_kit.errors import StoreUnreachable
from testdata_kit.journal._read import JournalFile, read
from testdata_kit.journal._store import Store, StreamWriter, file_lease

__all__ = ["DirectoryStore", "DirectoryWriter"]


class DirectoryStore(Store):
    """Streams as ``RUN-HOST-PID-START.jsonl`` files in a folder, each record one ``write`` call; today's journal.

    The lease is the file's modification time, touched by every record and every beat. On a disk shared
    between machines the clocks differ: ``journal-clock-skew`` allows for it.

    :param directory: the folder (created when a stream is opened).
    :param fsync: fsync each write, which survives a power loss and costs a disk flush per record.
    """

    def __init__(self, directory: str | os.PathLike[str], *, fsync: bool = False) -> None:
        self.directory = Path(directory)
        self.url = str(directory)
        self.fsync = fsync

    def check(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreUnreachable(self.url, error.strerror or str(error),
                                   "Point the journal at a folder this process can create.") from None
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise StoreUnreachable(self.url, "the folder is not writable",
                                   "Fix its permissions, or point the journal at another folder.")

    def open_stream(self, header: dict[str, Any]) -> DirectoryWriter:
        from testdata_kit.journal import encode_record

        safe_host = re.sub(r"[^A-Za-z0-9.]", "_", str(header.get("host")))[:40]
        started = float(header.get("started") or time.time())
        name = f"{header.get('run')}-{safe_host}-{header.get('pid')}-{_run.base36(int(started * 1000))}.jsonl"
        self.directory.mkdir(parents=True, exist_ok=True)
        writer = DirectoryWriter(self.directory / name, self.fsync)
        writer.write([encode_record(header)])
        return writer

    def streams(self) -> list[JournalFile]:
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob("*.jsonl"), key=_mtime):
            journal = read(path)
            journal.store = self
            journal.lease = file_lease(journal) if journal.header is not None else None
            found.append(journal)
        return found

    def append_release(self, journal: JournalFile, number: int, outcome: str = "swept") -> None:
        from testdata_kit.journal import encode_record

        path = journal.path
        record = encode_record({"op": "release", "n": number, "outcome": outcome}).encode()
        try:
            with open(path, "rb") as handle:
                # After a lost tail the file ends mid-line: the record must not be glued to that fragment.
                handle.seek(0, os.SEEK_END)
                if handle.tell():
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) != b"\n":
                        record = b"\n" + record
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)  # without O_CREAT: see below
        except FileNotFoundError:
            return  # another sweeper removed the file meanwhile: nothing is left to record in
        try:
            os.write(fd, record)
        finally:
            os.close(fd)

    def remove(self, journal: JournalFile) -> None:
        journal.path.unlink(missing_ok=True)  # two sweepers at once: the other may have removed it


# Release records a directory stream holds back at most before it writes them (see DirectoryWriter.queue).
_QUEUE_MAX = 64


class DirectoryWriter(StreamWriter):
    """One journal file, open for appending; each :meth:`write` is one ``os.write`` call."""

    def __init__(self, path: Path, fsync: bool) -> None:
        self.path = path
        self.name = path.name
        self.fsync = fsync
        # Readable by the owner only: recovery URLs may name internal hosts.
        # Read and write: a file a sweeper removed is copied back from this descriptor (see beat).
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        self._queued: list[str] = []

    def write(self, lines: list[str]) -> None:
        fd = self._fd
        if fd is None:
            return
        if self._queued:
            queued, self._queued = self._queued, []  # swapped first: a release queued meanwhile goes too
            lines = queued + lines
        elif not lines:
            return
        os.write(fd, (lines[0] if len(lines) == 1 else "".join(lines)).encode())
        if self.fsync:
            os.fsync(fd)

    def write_line(self, line: str) -> None:
        # write([line]) without its list: two of these per tracked resource (intent, made).
        fd = self._fd
        if fd is None:
            return
        if self._queued:
            queued, self._queued = self._queued, []
            line = "".join(queued) + line
        os.write(fd, line.encode())
        if self.fsync:
            os.fsync(fd)

    def queue(self, line: str) -> None:
        # Held for the next write (the next intent, before its create call), in the same os.write: a write
        # fewer per resource. With fsync, or once _QUEUE_MAX wait, it goes at once.
        self._queued.append(line)
        if self.fsync or len(self._queued) >= _QUEUE_MAX:
            self.write([])

    def beat(self) -> None:
        if self._queued:
            self.write([])
        if self._fd is not None and hasattr(os, "pread") and os.fstat(self._fd).st_nlink == 0:
            self._restore(self._fd)
        os.utime(self.path)

    def _restore(self, fd: int) -> None:
        # A sweeper on another machine removed the file: it called this run dead (its beats stalled past the
        # lease) while the run went on. Writes since then went to the removed file, where no sweep reads them:
        # put everything back under the file's name, and send the writes there from now on.
        new = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        old = os.dup(fd)
        try:
            copied = _copy(old, new, 0)
            os.dup2(new, fd, inheritable=False)  # one step: no write can fall between the two files
            _copy(old, fd, copied)  # what the other thread wrote to the old file meanwhile
            if self.fsync:
                os.fsync(fd)
        finally:
            os.close(old)
            os.close(new)

    def close(self, remove: bool) -> None:
        if self._fd is not None:
            if not remove:
                self.write([])
            os.close(self._fd)
            self._fd = None
        if remove:
            self.path.unlink(missing_ok=True)


def _copy(source: int, target: int, offset: int) -> int:
    """Append *source*'s bytes from *offset* to *target*; return the offset reached."""
    while chunk := os.pread(source, 1 << 20, offset):
        os.write(target, chunk)
        offset += len(chunk)
    return offset


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
