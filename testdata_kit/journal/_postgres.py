"""The PostgreSQL journal store: streams, records and leases in two tables, leases on the server's clock.

``journal-store = postgresql://user@host/db`` (or ``postgres://``). The password comes from the URL or from
libpq's own sources (``PGPASSWORD``, ``~/.pgpass``, ``PGSERVICE``...), and is masked wherever the URL is shown.
Two tables, created ``IF NOT EXISTS`` on first use (under an advisory lock, so that runs starting together do
not race), in the schema the connection's ``search_path`` names (``?options=-csearch_path%3Dci`` picks one):

``testdata_journal_streams``
    one row per stream: the lease (run, host, pid, worker, boot id, heartbeat, lease seconds), ``expires``
    (epoch seconds, by the server's ``now()``) and ``closed``.
``testdata_journal_records``
    the stream's JSON lines in order, deleted with their stream.

Each :meth:`PostgresWriter.write` is one statement, one round trip, committed before it returns: the lines it
is given, after any queued ``release`` lines, and the lease's renewal. Needs the ``postgres`` extra (psycopg).
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any

from testdata_kit import _redact, _run
from testdata_kit.errors import MissingExtraError, StoreUnreachable
from testdata_kit.journal._read import JournalFile, parse
from testdata_kit.journal._store import Lease, Store, StreamWriter, header_lease

try:
    import psycopg
except ImportError as error:  # pragma: no cover - the extra is missing
    raise MissingExtraError("psycopg", "postgres", "The PostgreSQL journal store") from error

__all__ = ["RECORDS", "STREAMS", "PostgresStore", "PostgresWriter"]

STREAMS = "testdata_journal_streams"
RECORDS = "testdata_journal_records"

_SCHEMA = f"""
SELECT pg_advisory_xact_lock(hashtext('testdata_journal'));
CREATE TABLE IF NOT EXISTS {STREAMS} (
    name text PRIMARY KEY,
    run text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    worker text,
    boot text,
    heartbeat double precision NOT NULL,
    lease double precision NOT NULL,
    started double precision NOT NULL,
    expires double precision NOT NULL,
    closed boolean NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS {RECORDS} (
    seq bigserial PRIMARY KEY,
    stream text NOT NULL REFERENCES {STREAMS} (name) ON DELETE CASCADE,
    line text NOT NULL
);
CREATE INDEX IF NOT EXISTS {RECORDS}_stream ON {RECORDS} (stream, seq);
"""
_EXISTING = f"SELECT (to_regclass('{STREAMS}') IS NOT NULL)::int + (to_regclass('{RECORDS}') IS NOT NULL)::int"
_NOW = "extract(epoch from clock_timestamp())::double precision"
# One statement: the lines, in order, then the lease renewed by the server's clock.
_APPEND = f"""
WITH added AS (
    INSERT INTO {RECORDS} (stream, line)
    SELECT %(name)s, line FROM unnest(%(lines)s::text[]) WITH ORDINALITY AS given(line, position) ORDER BY position
)
UPDATE {STREAMS} SET expires = {_NOW} + lease WHERE name = %(name)s
"""
_CLOSE = _APPEND.replace("SET expires", "SET closed = true, expires")
_OPEN = f"""
WITH stream AS (
    INSERT INTO {STREAMS} (name, run, host, pid, worker, boot, heartbeat, lease, started, expires)
    VALUES (%(name)s, %(run)s, %(host)s, %(pid)s, %(worker)s, %(boot)s, %(heartbeat)s, %(lease)s, {_NOW},
            {_NOW} + %(lease)s)
    RETURNING name
)
INSERT INTO {RECORDS} (stream, line) SELECT name, %(line)s FROM stream
"""
_READ = f"""
SELECT s.name, s.run, s.host, s.pid, s.worker, s.boot, s.heartbeat, s.started, s.expires, s.closed,
       coalesce(string_agg(r.line, '' ORDER BY r.seq), '')
FROM {STREAMS} s LEFT JOIN {RECORDS} r ON r.stream = s.name
GROUP BY s.name ORDER BY s.started, s.name
"""

# Connections a forked child inherited: never used, never closed (closing would end the parent's session too).
_inherited: list[Any] = []


class PostgresStore(Store):
    """Journal streams in PostgreSQL (see the module's description of the tables).

    :param url: a libpq URL, ``postgresql://[user[:password]@]host[:port]/dbname[?...]``.
    """

    def __init__(self, url: str) -> None:
        self._dsn = url
        self.url = _redact.url(url)
        self._connection: Any = None
        self._pid = 0
        self._ready = False
        self._lock = threading.RLock()

    def _unreachable(self, error: BaseException) -> StoreUnreachable:
        cause = " ".join(str(error).split()) or type(error).__name__
        try:
            parts = psycopg.conninfo.conninfo_to_dict(self._dsn)
        except psycopg.Error:
            parts = {}
        if parts.get("password"):  # libpq never says it; a server's message might quote it
            cause = re.sub(rf"(?<!\w){re.escape(str(parts['password']))}(?!\w)", _redact.MASK, cause)
        where = f"{parts.get('host') or 'localhost'}:{parts.get('port') or 5432}"
        return StoreUnreachable(self.url, cause, (
            f"Check that PostgreSQL is up at {where} and that the URL's user may connect and create tables there; "
            f"or set journal-store-fallback (TESTDATA_JOURNAL_STORE_FALLBACK) to a folder to journal to meanwhile."))

    def _conn(self) -> Any:
        """The connection of this process (autocommit), with the tables in place; reconnects after a failure."""
        connection = self._connection
        if connection is not None and self._pid != os.getpid():
            _inherited.append(connection)
            connection = self._connection = None
        if connection is not None and connection.closed:
            connection = self._connection = None
        if connection is None:
            try:
                connection = psycopg.connect(self._dsn, autocommit=True, connect_timeout=10,
                                             application_name="testdata_kit journal")
                # A sweeper's role may lack CREATE on the schema: the DDL runs only when a table is missing.
                if not self._ready and (connection.execute(_EXISTING).fetchone() or (0,))[0] < 2:
                    with connection.transaction():
                        connection.execute(_SCHEMA)
            except psycopg.Error as error:
                if connection is not None:
                    connection.close()
                raise self._unreachable(error) from None
            self._connection, self._pid, self._ready = connection, os.getpid(), True
        return connection

    def run(self, query: str, params: Any = None) -> Any:
        """Execute *query* (one round trip) and return its cursor. :raises StoreUnreachable: on any failure."""
        with self._lock:
            connection = self._conn()
            try:
                return connection.execute(query, params)
            except psycopg.Error as error:
                if connection.broken:
                    connection.close()
                raise self._unreachable(error) from None

    def check(self) -> None:
        self.run("SELECT 1")

    def now(self) -> float:
        return float(self.run(f"SELECT {_NOW}").fetchone()[0])

    def open_stream(self, header: dict[str, Any]) -> PostgresWriter:
        from testdata_kit.journal import encode_record

        safe_host = re.sub(r"[^A-Za-z0-9.]", "_", str(header.get("host")))[:40]
        started = float(header.get("started") or 0)
        name = (f"{header.get('run')}-{safe_host}-{header.get('pid')}-{_run.base36(int(started * 1000))}-"
                f"{_run.random_token(4)}")
        pid = header.get("pid")
        opening = {
            "name": name, "run": str(header.get("run")), "host": str(header.get("host")),
            "pid": pid if type(pid) is int else 0, "worker": header.get("worker"), "boot": header.get("boot"),
            "heartbeat": float(header.get("heartbeat") or 0), "lease": header_lease(header),
            "line": encode_record(header),
        }
        self.run(_OPEN, opening)
        return PostgresWriter(self, name, opening)

    def streams(self) -> list[JournalFile]:
        found = []
        for name, run, host, pid, worker, boot, heartbeat, started, expires, closed, data in self.run(_READ):
            journal = JournalFile(Path(name), name=name, mtime=started, store=self)
            parse(journal, data.encode(), f"{self.url} {name}")
            journal.lease = Lease(run=run, host=host, pid=pid, worker=worker, boot=boot, heartbeat=heartbeat,
                                  expires=expires, closed=closed)
            found.append(journal)
        return found

    def append_release(self, journal: JournalFile, number: int, outcome: str = "swept") -> None:
        from testdata_kit.journal import encode_record

        # A stream whose tail was cut mid-line ends without "\n": the record must not be glued to that fragment.
        line = encode_record({"op": "release", "n": number, "outcome": outcome})
        # FROM the stream's row: a stream another sweeper removed meanwhile gets nothing (not a foreign-key error).
        self.run(f"INSERT INTO {RECORDS} (stream, line) SELECT name, CASE WHEN right(coalesce(("
                 f"SELECT line FROM {RECORDS} WHERE stream = %(name)s ORDER BY seq DESC LIMIT 1), E'\\n'), 1) = "
                 f"E'\\n' THEN '' ELSE E'\\n' END || %(line)s FROM {STREAMS} WHERE name = %(name)s",
                 {"name": journal.name, "line": line})

    def remove(self, journal: JournalFile) -> None:
        self.run(f"DELETE FROM {STREAMS} WHERE name = %s", (journal.name,))

    def close(self) -> None:
        with self._lock:
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None


class PostgresWriter(StreamWriter):
    """One stream in a :class:`PostgresStore`; queued ``release`` lines ride with the next statement.

    Safe to use from the heartbeat thread and the main thread at once.
    """

    def __init__(self, store: PostgresStore, name: str, opening: dict[str, Any] | None = None) -> None:
        self.store = store
        self.name = name
        # The parameters of the stream's _OPEN statement, to put back a stream a sweeper removed.
        self._opening = opening
        self._queued: list[str] = []
        self._lock = threading.Lock()

    def write(self, lines: list[str]) -> None:
        with self._lock:
            batch = [*self._queued, *lines]
            try:
                self.store.run(_APPEND, {"name": self.name, "lines": batch})
            except StoreUnreachable as error:
                # A sweeper removed the stream: it called this run dead (its beats stalled past the lease) while
                # the run went on. Put the stream back, header and a new lease first, rather than report a store
                # that "cannot be reached" and name the wrong fix.
                if self._opening is None or not isinstance(error.__context__, psycopg.errors.ForeignKeyViolation):
                    raise
                self.store.run(_OPEN, self._opening)
                self.store.run(_APPEND, {"name": self.name, "lines": batch})
            self._queued.clear()

    def queue(self, line: str) -> None:
        with self._lock:
            self._queued.append(line)

    def beat(self) -> None:
        self.write([])

    def close(self, remove: bool) -> None:
        if remove:
            self.store.run(f"DELETE FROM {STREAMS} WHERE name = %s", (self.name,))
            return
        with self._lock:
            self.store.run(_CLOSE, {"name": self.name, "lines": self._queued})
            self._queued.clear()
