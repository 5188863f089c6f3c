"""The Redis journal store: each stream a list of JSON lines, each lease a key that Redis itself expires.

``redis://[user:password@]host[:port][/db][?prefix=P]`` (or ``rediss://`` for TLS), with redis-py (extra
``redis``). Keys, under the prefix ``testdata:journal:`` unless ``?prefix=`` names another:

``streams``
    a sorted set of stream names, scored by their start time, so that :meth:`RedisStore.streams` lists them
    oldest first;
``stream:NAME``
    a list of the stream's records, one JSON line (with its newline) per element, so that a line cut short
    reads as in a file; ``RPUSH`` appends many in one command;
``lease:NAME``
    the lease as JSON, with ``expires`` by the server's clock (``TIME``) and a key expiry ``lease + skew``
    seconds away, renewed by every beat. Once Redis has expired the key, the stream reads as dead; a closed
    stream's lease stays, marked closed, until the stream is removed.

A sweeper's ``release`` records are queued and sent together, per 500 and when the sweep ends (all streams' in
one round trip); a sweeper that dies first only makes the next one verify those deletions again.

A credential comes from the URL only (redis-py reads no variables); every URL shown has it masked. Records are
as durable as the server makes them: a Redis without persistence loses them when it restarts.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from testdata_kit import _redact, _run, _settings
from testdata_kit.errors import MissingExtraError, SettingError, StoreUnreachable
from testdata_kit.journal._read import JournalFile, parse
from testdata_kit.journal._store import Lease, Store, StreamWriter, header_lease

try:
    import redis
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("redis", "redis", "The journal store redis://") from exc

__all__ = ["DEFAULT_PREFIX", "RedisStore", "RedisWriter"]

#: Where the keys go unless the URL's ``?prefix=`` says otherwise.
DEFAULT_PREFIX = "testdata:journal:"
# Seconds to wait for a connection or an answer: a store that does not answer must fail the run early,
# not hang it.
_TIMEOUT = 10.0
# Streams read per round trip by streams().
_CHUNK = 200
# A sweeper's release records are sent in batches of this many (and at the end of the sweep).
_RELEASE_BATCH = 500
# Appends to a stream, and puts back what a sweeper removed when it called the writer dead (its heartbeat stalled
# past the lease): the header first, the lease (expiring by the server's clock) and the index entry, so that what
# the run records next is still listed, owned and alive. Without it RPUSH would recreate a list no sweep lists.
# KEYS: stream, lease, streams. ARGV: header line, started, name, lease JSON with "expires":0, seconds, expiry ms,
# then the lines.
_APPEND = """
if redis.call('EXISTS', KEYS[1]) == 0 then
    local now = redis.call('TIME')
    local expires = tonumber(now[1]) + tonumber(now[2]) / 1e6 + tonumber(ARGV[5])
    local lease = string.gsub(ARGV[4], '"expires":0', '"expires":' .. string.format('%.3f', expires), 1)
    redis.call('RPUSH', KEYS[1], ARGV[1])
    redis.call('SET', KEYS[2], lease, 'PX', ARGV[6])
    redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
end
for first = 7, #ARGV, 1000 do
    redis.call('RPUSH', KEYS[1], unpack(ARGV, first, math.min(first + 999, #ARGV)))
end
return 1
"""
_FIX = ("Check that the Redis server is running and reachable from this machine, and the URL's host, port, "
        "database and password; or set journal-store-fallback to a folder.")


def _cause(error: BaseException) -> str:
    # redis-py's messages name the host and port, never the password; keep the first line.
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else 'no message'}"


class RedisStore(Store):
    """Journal streams and leases in a Redis database (see the module's key layout).

    :param url: ``redis://`` or ``rediss://``, as redis-py's ``from_url`` takes it, plus an optional
        ``prefix`` query parameter for the keys.
    :raises SettingError: when redis-py cannot read the URL (a port that is not a number, a URL without a host).
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        prefixes = [value for name, value in pairs if name == "prefix"]
        self.prefix = prefixes[-1] if prefixes else DEFAULT_PREFIX
        engine_url = urlunsplit(parts._replace(query=urlencode([(n, v) for n, v in pairs if n != "prefix"])))
        self.url = _redact.url(url)
        try:
            self.client = redis.Redis.from_url(engine_url, socket_connect_timeout=_TIMEOUT, socket_timeout=_TIMEOUT)
        except ValueError as error:  # redis-py's own words name neither the setting nor the URL
            raise SettingError(_settings.where("journal-store"), self.url,
                               f"redis://[USER:PASSWORD@]HOST[:PORT][/DB] ({error})") from None
        # A sweeper's release records, by stream, until the next flush.
        self._releases: dict[str, list[str]] = {}
        self._queued = 0
        self.append_script = self.client.register_script(_APPEND)

    def key(self, *parts: str) -> str:
        """The key for *parts* under this store's prefix: ``key("stream", name)`` is ``PREFIXstream:NAME``."""
        return self.prefix + ":".join(parts)

    def unreachable(self, error: BaseException) -> StoreUnreachable:
        """The error to raise for an engine *error*: this store's masked URL, the cause and the fix."""
        return StoreUnreachable(self.url, _cause(error), _FIX)

    def check(self) -> None:
        try:
            self.client.ping()
        except redis.RedisError as error:
            raise self.unreachable(error) from None

    def now(self) -> float:
        try:
            seconds, micros = self.client.time()
        except redis.RedisError as error:
            raise self.unreachable(error) from None
        return seconds + micros / 1e6

    def open_stream(self, header: dict[str, Any]) -> RedisWriter:
        from testdata_kit.journal import encode_record

        safe_host = re.sub(r"[^A-Za-z0-9.]", "_", str(header.get("host")))[:40]
        started = float(header.get("started") or time.time())
        # Host names repeat across containers: the random part keeps two machines' streams apart.
        name = (f"{header.get('run')}-{safe_host}-{header.get('pid')}-{_run.base36(int(started * 1000))}-"
                f"{_run.random_token(4)}")
        writer = RedisWriter(self, name, header)
        try:
            now = self.now()  # the server's clock, and nothing is written when the server is away
            with self.client.pipeline(transaction=True) as pipe:
                pipe.rpush(self.key("stream", name), encode_record(header))
                writer.renew(pipe, now)
                pipe.zadd(self.key("streams"), {name: started})
                pipe.execute()
        except redis.RedisError as error:
            raise self.unreachable(error) from None
        return writer

    def streams(self) -> list[JournalFile]:
        self.flush()
        try:
            members: list[bytes] = self.client.zrange(self.key("streams"), 0, -1)  # type: ignore[assignment]
            names = [member.decode() for member in members]
            found = []
            for start in range(0, len(names), _CHUNK):
                chunk = names[start:start + _CHUNK]
                with self.client.pipeline(transaction=False) as pipe:
                    for name in chunk:
                        pipe.lrange(self.key("stream", name), 0, -1)
                        pipe.get(self.key("lease", name))
                    # A key another tool wrote (WRONGTYPE) damages its stream only, not the whole listing.
                    answers = pipe.execute(raise_on_error=False)
                for index, name in enumerate(chunk):
                    lines, lease = answers[2 * index], answers[2 * index + 1]
                    for answer in (lines, lease):
                        if isinstance(answer, Exception) and not isinstance(answer, redis.ResponseError):
                            raise answer
                    found.append(self._journal(name, lines, lease))
        except redis.RedisError as error:
            raise self.unreachable(error) from None
        return found

    def _journal(self, name: str, lines: list[bytes] | Exception, lease: bytes | Exception | None) -> JournalFile:
        from pathlib import Path

        journal = JournalFile(Path(name), name=name, store=self)
        if isinstance(lines, Exception):
            journal.problems.append(f"{self.url} {name}: cannot be read: {_cause(lines)}")
            journal.bad_lines += 1  # damaged: whatever it held is unknown, so it is kept
            return journal
        if isinstance(lease, Exception):
            lease = None  # read as no lease, as when Redis expired it; a live writer's next beat overwrites it
        journal = parse(journal, _joined(lines), f"{self.url} {name}")
        journal.mtime = 0.0
        if journal.header is not None:
            journal.lease = _lease(journal, lease)
        return journal

    def append_release(self, journal: JournalFile, number: int, outcome: str = "swept") -> None:
        """Queue a ``release`` record for *journal*'s stream; sent in batches, and by :meth:`flush` or :meth:`close`.

        A record lost with a sweeper that dies before sending it only makes the next sweep verify that deletion
        again.
        """
        from testdata_kit.journal import encode_record

        queued = self._releases.setdefault(journal.name, [])
        queued.append(encode_record({"op": "release", "n": number, "outcome": outcome}))
        self._queued += 1
        if self._queued >= _RELEASE_BATCH:
            self.flush()

    def flush(self) -> None:
        """Send every queued ``release`` record, all streams' in one round trip."""
        pending, self._releases, self._queued = self._releases, {}, 0
        if not pending:
            return
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for name, lines in pending.items():
                    pipe.rpush(self.key("stream", name), *lines)
                pipe.execute()
        except redis.RedisError as error:
            raise self.unreachable(error) from None

    def remove(self, journal: JournalFile) -> None:
        self._queued -= len(self._releases.pop(journal.name, ()))
        try:
            with self.client.pipeline(transaction=True) as pipe:
                pipe.delete(self.key("stream", journal.name), self.key("lease", journal.name))
                pipe.zrem(self.key("streams"), journal.name)
                pipe.execute()
        except redis.RedisError as error:
            raise self.unreachable(error) from None

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.client.close()


def _joined(parts: list[bytes]) -> bytes:
    # Each element is whole records, but one cut short must not swallow the record appended after it.
    return b"".join(part if part.endswith(b"\n") or index == len(parts) - 1 else part + b"\n"
                    for index, part in enumerate(parts))


def _lease(journal: JournalFile, raw: bytes | None) -> Lease:
    # No key: Redis expired it (the writer stopped beating) or it was never written; either way the stream is
    # dead, unless it was closed, which its records say.
    header = journal.header or {}
    try:
        stored = json.loads(raw) if raw is not None else None
    except ValueError:
        stored = None
    if not isinstance(stored, dict):
        return Lease.from_header(header, expires=0.0, closed=journal.closed)
    expires = stored.get("expires")
    return Lease.from_header(header, expires=float(expires) if isinstance(expires, (int, float)) else 0.0,
                             closed=bool(stored.get("closed")) or journal.closed)


class RedisWriter(StreamWriter):
    """One process's stream in a :class:`RedisStore`: ``RPUSH`` per write, queued releases riding along."""

    def __init__(self, store: RedisStore, name: str, header: dict[str, Any]) -> None:
        self.store = store
        self.name = name
        self.header = header
        self.lease_seconds = header_lease(header) if store.lease is None else float(store.lease)
        self._stream = store.key("stream", name)
        self._lease = store.key("lease", name)
        self._queued: list[str] = []
        self._closed = False
        self._started = float(header.get("started") or time.time())

    def lease_json(self, now: float | None, closed: bool = False) -> str:
        """The lease record: who writes the stream and until when (*now* + the lease, by the server's clock).

        *now* ``None`` writes ``"expires":0``, for the append script to fill in by the server's clock.
        """
        header = self.header
        return json.dumps({"run": header.get("run"), "host": header.get("host"), "pid": header.get("pid"),
                           "worker": header.get("worker"), "boot": header.get("boot"),
                           "heartbeat": header.get("heartbeat"),
                           "expires": 0 if now is None else round(now + self.lease_seconds, 3),
                           "closed": closed}, separators=(",", ":"))

    def expiry_ms(self) -> int:
        """Milliseconds until Redis removes the lease key: ``lease + skew`` seconds, and one more."""
        return int((self.lease_seconds + self.store.skew) * 1000) + 1000

    def renew(self, pipe: Any, now: float) -> None:
        """Add the lease, expiring ``lease + skew`` seconds from now by Redis' own clock, to *pipe*."""
        pipe.set(self._lease, self.lease_json(now), px=self.expiry_ms())

    def append(self, values: list[str], client: Any = None) -> Any:
        """Append *values* to the stream, putting back its header, lease and listing if a sweeper removed them."""
        from testdata_kit.journal import encode_record

        store = self.store
        return store.append_script(
            keys=[self._stream, self._lease, store.key("streams")],
            args=[encode_record(self.header), self._started, self.name, self.lease_json(None), self.lease_seconds,
                  self.expiry_ms(), *values],
            client=client)

    def queue(self, line: str) -> None:
        self._queued.append(line)

    def write(self, lines: list[str]) -> None:
        if self._closed:
            return
        values = self._queued + lines
        if not values:
            return
        try:
            self.append(values)
        except redis.RedisError as error:
            raise self.store.unreachable(error) from None
        self._queued = []

    def beat(self) -> None:
        if self._closed:
            return
        store = self.store
        try:
            now = store.now()
            with store.client.pipeline(transaction=True) as pipe:
                if self._queued:
                    self.append(self._queued, client=pipe)
                self.renew(pipe, now)
                pipe.execute()
        except redis.RedisError as error:
            raise store.unreachable(error) from None
        self._queued = []

    def close(self, remove: bool) -> None:
        if self._closed:
            return
        self._closed = True
        store = self.store
        try:
            with store.client.pipeline(transaction=True) as pipe:
                if remove:
                    pipe.delete(self._stream, self._lease)
                    pipe.zrem(store.key("streams"), self.name)
                else:
                    if self._queued:
                        self.append(self._queued, client=pipe)
                    pipe.set(self._lease, self.lease_json(time.time(), closed=True))
                pipe.execute()
        except redis.RedisError as error:
            raise store.unreachable(error) from None
        finally:
            self._queued = []
