"""Journal stores: where runs write their journal streams and leases, and where a sweeper on any machine reads them.

A store is named by a URL (``journal-store`` in setup.cfg, ``TESTDATA_JOURNAL_STORE`` in the environment):

- a path, or ``file:///abs/path``: ``DirectoryStore`` (:mod:`testdata_kit.journal._directory`), one JSON-lines
  file per stream (what ``TESTDATA_JOURNAL=DIR`` gives; the lease is the file's modification time);
- ``postgresql://`` or ``postgres://``: ``PostgresStore`` (:mod:`testdata_kit.journal._postgres`, extra ``postgres``);
- ``redis://`` or ``rediss://``: ``RedisStore`` (:mod:`testdata_kit.journal._redis`, extra ``redis``);
- ``s3://bucket/prefix``: ``S3Store`` (:mod:`testdata_kit.journal._s3`, extra ``s3``).

Every store keeps the same records (see :mod:`testdata_kit.journal`), read by the same code
(:func:`testdata_kit.journal._read.parse`), so that damage reads the same everywhere. Each process of a run
writes one *stream*, opened by :meth:`Store.open_stream` with its ``open`` record (the header) and its lease.

Decisions the shared contract left to this module:

- The header carries ``host`` (``TESTDATA_HOSTNAME``, else the host name), ``boot`` (:func:`boot_id`) and
  ``lease`` (the seconds it lasts without a beat; ``journal-lease``, else three heartbeats). A directory store's
  lease expires ``lease`` seconds after the file's modification time; remote stores keep the expiry apart,
  computed by their own clock (:meth:`Store.now`) at each beat.
- :meth:`StreamWriter.queue` is how ``release`` lines reach a writer: the default writes at once (a directory
  store's append is cheap); remote writers may hold them until the next ``write``, ``beat`` or ``close``, sent in
  the same round trip. ``intent`` and ``made`` lines always go through :meth:`StreamWriter.write`, durable
  when it returns; a writer that cannot write raises :class:`~testdata_kit.errors.StoreUnreachable`.
- Liveness (:func:`is_alive`): a stream is dead when it is closed, or when ``now > expires + skew``; before that,
  the pid check may end it early only when its host *and* boot id are this machine's. A store that cannot be
  read raises :class:`~testdata_kit.errors.StoreUnreachable` from :meth:`Store.streams`, and a sweep then
  deletes nothing: it cannot tell which runs are alive.
- A store's constructor takes the URL alone; :func:`open_store` then sets :attr:`Store.lease` and
  :attr:`Store.skew` from the settings.
"""

from __future__ import annotations

import abc
import importlib
import os
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from testdata_kit import _settings
from testdata_kit.errors import MissingExtraError, SettingError, StoreUnreachable
from testdata_kit.journal._read import HEARTBEAT, STALE_AFTER, JournalFile

__all__ = [
    "SCHEMES",
    "Lease",
    "Store",
    "StoreUnreachable",
    "StreamWriter",
    "boot_id",
    "hostname",
    "is_alive",
    "live_runs",
    "open_store",
]

#: Scheme -> "module:class" of the store, and the extra that brings its engine library.
SCHEMES: dict[str, tuple[str, str]] = {
    "file": ("testdata_kit.journal._directory:DirectoryStore", ""),
    "postgresql": ("testdata_kit.journal._postgres:PostgresStore", "postgres"),
    "postgres": ("testdata_kit.journal._postgres:PostgresStore", "postgres"),
    "redis": ("testdata_kit.journal._redis:RedisStore", "redis"),
    "rediss": ("testdata_kit.journal._redis:RedisStore", "redis"),
    "s3": ("testdata_kit.journal._s3:S3Store", "s3"),
}


def hostname() -> str:
    """The host written into leases: ``$TESTDATA_HOSTNAME``, else :func:`socket.gethostname`."""
    return _settings.value("hostname") or socket.gethostname()


_boot: list[str | None] = []


def boot_id() -> str | None:
    """This machine's boot id (Linux's ``/proc/sys/kernel/random/boot_id``), or ``None`` where there is none.

    Container host names repeat across machines; a host name and a boot id together name one running system.
    """
    if not _boot:
        try:
            with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
                _boot.append(handle.read().strip() or None)
        except OSError:
            _boot.append(None)
    return _boot[0]


def lease_seconds(heartbeat: float) -> float:
    """Seconds a lease lasts without a beat: ``journal-lease``, else :data:`STALE_AFTER` heartbeats (at least 5)."""
    configured = _settings.value("journal-lease")
    if configured is not None:
        return float(configured)
    return max(heartbeat * STALE_AFTER, 5.0)


def heartbeat_for(lease: float | None = None) -> float:
    """Seconds between beats for a lease of *lease* seconds: a third of it, at most :data:`HEARTBEAT`."""
    if lease is None:
        lease = _settings.value("journal-lease")
    return HEARTBEAT if lease is None else min(HEARTBEAT, float(lease) / STALE_AFTER)


@dataclass
class Lease:
    """Who writes a stream, and until when (epoch seconds, by the store's clock where it has one) it counts alive."""

    run: str
    host: str
    pid: int
    worker: str | None
    boot: str | None
    #: Seconds between beats.
    heartbeat: float
    #: Epoch seconds after which, plus the clock skew, the stream is dead.
    expires: float
    closed: bool

    @classmethod
    def from_header(cls, header: dict[str, Any], expires: float, closed: bool) -> Lease:
        """The lease an ``open`` record describes, expiring at *expires*."""
        pid = header.get("pid")
        beat = header.get("heartbeat")
        return cls(run=str(header.get("run")), host=str(header.get("host")), pid=pid if type(pid) is int else 0,
                   worker=None if header.get("worker") is None else str(header.get("worker")),
                   boot=header.get("boot") if isinstance(header.get("boot"), str) else None,
                   heartbeat=float(beat) if isinstance(beat, (int, float)) and beat > 0 else HEARTBEAT,
                   expires=expires, closed=closed)


def header_lease(header: dict[str, Any] | None) -> float:
    """The lease seconds an ``open`` record names (``lease``), else three of its heartbeats (at least 5)."""
    header = header or {}
    lease = header.get("lease")
    if isinstance(lease, (int, float)) and lease > 0:
        return float(lease)
    beat = header.get("heartbeat")
    if not isinstance(beat, (int, float)) or beat <= 0:
        beat = HEARTBEAT
    return max(beat * STALE_AFTER, 5.0)


class StreamWriter(abc.ABC):
    """One process's stream in a store: lines appended durably, a lease renewed by :meth:`beat`."""

    #: The stream's id, unique in its store.
    name: str = ""

    @abc.abstractmethod
    def write(self, lines: list[str]) -> None:
        """Append *lines* (JSON records, each with its ``"\\n"``), with any queued ones first; durable on return.

        :raises StoreUnreachable: when they could not be written; none of them then counts as written.
        """

    @abc.abstractmethod
    def beat(self) -> None:
        """Renew the lease: it now expires :attr:`Store.lease` seconds from now, by the store's clock."""

    @abc.abstractmethod
    def close(self, remove: bool) -> None:
        """Flush what is queued and let go of the stream; *remove* deletes it (nothing left to sweep).

        The caller writes the ``close`` record first.
        """

    def queue(self, line: str) -> None:
        """Send *line* (a ``release`` record) with the next write, beat or close; by default, write it now."""
        self.write([line])

    def write_line(self, line: str) -> None:
        """:meth:`write` of one line, the journal's common case; a store may do it with less work."""
        self.write([line])


class Store(abc.ABC):
    """Where journal streams live. Subclasses take the URL as their one argument.

    :ivar url: the URL as people may see it, credentials masked.
    :ivar lease: seconds a lease lasts without a beat, or ``None`` for three heartbeats.
    :ivar skew: seconds of clock difference allowed between machines before a lease counts as expired.
    """

    url: str = ""
    lease: float | None = None
    skew: float = 30.0

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"

    @abc.abstractmethod
    def check(self) -> None:
        """Reach the store now. :raises StoreUnreachable: with the masked URL, the cause and the fix."""

    @abc.abstractmethod
    def open_stream(self, header: dict[str, Any]) -> StreamWriter:
        """Create a stream whose first record is *header* (the ``open`` record) and its lease, both durable."""

    @abc.abstractmethod
    def streams(self) -> list[JournalFile]:
        """Every stream, oldest first, each with ``name``, ``lease`` and ``store``; damage is in ``problems``.

        :raises StoreUnreachable: when the store cannot be read.
        """

    def now(self) -> float:
        """The store's clock (epoch seconds) where it has one; this machine's otherwise."""
        return time.time()

    @abc.abstractmethod
    def append_release(self, journal: JournalFile, number: int, outcome: str = "swept") -> None:
        """Append a ``release`` record for creation *number* to the stream *journal* was read from."""

    @abc.abstractmethod
    def remove(self, journal: JournalFile) -> None:
        """Delete the stream *journal* was read from, and its lease."""

    def close(self) -> None:  # noqa: B027 (most stores hold a connection; a folder has nothing to let go)
        """Let go of connections; the store may not be used afterwards."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def is_alive(self, journal: JournalFile, now: float | None = None) -> bool:
        """:func:`is_alive` with this store's clock and skew."""
        return is_alive(journal, self.now() if now is None else now, skew=self.skew)

    def live_runs(self, journals: list[JournalFile]) -> set[str]:
        """The run ids with at least one live stream among *journals*."""
        now = self.now()
        return {j.run_id for j in journals if j.run_id and self.is_alive(j, now)}


def file_lease(journal: JournalFile) -> Lease:
    """A directory stream's lease: its header, expiring ``lease`` seconds after the file was last touched."""
    return Lease.from_header(journal.header or {}, journal.mtime + header_lease(journal.header), journal.closed)


def is_alive(journal: JournalFile, now: float | None = None, *, skew: float | None = None) -> bool:
    """Tell whether the process that writes *journal* may still be running.

    Dead means: it wrote ``close``, or its lease expired more than *skew* seconds ago (default:
    ``journal-clock-skew``), or it runs on this machine (same host **and** boot id) and its pid is gone. A stream
    without a readable lease counts as dead only once its file is stale.

    :param now: epoch seconds by the store's clock; default this machine's.
    """
    lease = journal.lease if isinstance(journal.lease, Lease) else file_lease(journal)
    if journal.closed or lease.closed:
        return False
    if skew is None:
        skew = float(_settings.value("journal-clock-skew"))
    if (time.time() if now is None else now) > lease.expires + skew:
        return False
    if lease.pid > 0 and lease.boot is not None and lease.host == hostname() and lease.boot == boot_id():
        return _pid_exists(lease.pid)
    return True


def live_runs(journals: list[JournalFile]) -> set[str]:
    """Return the run ids with at least one live stream (see :func:`is_alive`; this machine's clock)."""
    now = time.time()
    return {j.run_id for j in journals if j.run_id and is_alive(j, now)}


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def open_store(url: str) -> Store:
    """Return the store *url* names (see the module's list of schemes), its lease and skew from the settings.

    Nothing is reached yet: call :meth:`Store.check` for that. Engine libraries are imported here, not before.

    :raises SettingError: for an unknown scheme, naming the value and the schemes.
    :raises MissingExtraError: when the engine's library is not installed, naming the extra.
    """
    text = url.strip()
    scheme = urlsplit(text).scheme.lower() if "://" in text else ""
    from testdata_kit.journal._directory import DirectoryStore  # it builds on this module

    if not scheme or (len(scheme) == 1 and os.name == "nt"):
        store: Store = DirectoryStore(text)
    elif scheme not in SCHEMES:
        from testdata_kit import _redact

        raise SettingError(_settings.where("journal-store"), _redact.url(text),
                           f"a folder, or a URL whose scheme is one of {', '.join(s + '://' for s in SCHEMES)}")
    elif scheme == "file":
        store = DirectoryStore(unquote(urlsplit(text).path))
    else:
        target, extra = SCHEMES[scheme]
        module_name, _, class_name = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            if error.name and error.name.startswith("testdata_kit"):
                raise
            raise MissingExtraError(error.name or extra, extra, f"The journal store {scheme}://") from None
        store = getattr(module, class_name)(text)
    store.lease = _settings.value("journal-lease")
    store.skew = float(_settings.value("journal-clock-skew"))
    return store
