"""The S3 journal store: each stream a folder of small objects in a bucket, for AWS S3 or any S3-compatible server.

``s3://bucket/prefix``, with boto3 (extra ``s3``). boto3 finds the endpoint, the region and the credentials the
way it always does: ``AWS_ENDPOINT_URL`` (MinIO, Ceph, moto...), ``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, the instance role; testdata_kit has no variable of its own. A key
pair may also be written in the URL, ``s3://KEY:SECRET@bucket/prefix``; it is masked wherever the URL is shown.

Objects, under ``prefix/STREAM/``:

``lease.json``
    who writes the stream and ``expires``: S3 has no clock to ask, so this is the writer's clock plus the
    lease; the sweeper allows ``journal-clock-skew`` on top, for the difference between machines' clocks;
``bNNNNNNNNNN.jsonl``
    one object per write, numbered in order: every ``intent`` and ``made`` is one PUT, durable when it
    returns, with the ``release`` lines queued since the last write riding along;
``cNNNNNNNNNN.jsonl``
    all the stream's records up to write NNNNNNNNNN in one object: the writer folds its writes into one at
    every beat (then deletes the ones folded), so that reading a stream costs a few GETs, not one per record;
``rTIME-TOKEN.jsonl``
    ``release`` records a sweeper appended, after every record of the writer.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from testdata_kit import _redact, _run, _settings
from testdata_kit.errors import MissingExtraError, SettingError, StoreUnreachable
from testdata_kit.journal._read import JournalFile, parse
from testdata_kit.journal._store import Lease, Store, StreamWriter, header_lease

try:
    import boto3
    import botocore.config
    import botocore.exceptions
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("boto3", "s3", "The journal store s3://") from exc

__all__ = ["S3Store", "S3Writer"]

_ENGINE_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)
# GETs in flight while reading the streams: S3 answers each in milliseconds, one at a time that adds up.
_READERS = 8
# A sweeper's release records are sent in batches of this many (and at the end of the sweep).
_RELEASE_BATCH = 500
_FIX = ("Check the bucket exists and that AWS_ENDPOINT_URL (for a server other than AWS), the region and the "
        "credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) reach it; or set "
        "journal-store-fallback to a folder.")


def _cause(error: BaseException) -> str:
    # botocore's messages name the operation, the bucket and the endpoint, never the secret key.
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else 'no message'}"


def _missing(error: BaseException) -> bool:
    return isinstance(error, botocore.exceptions.ClientError) and \
        error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404")


class S3Store(Store):
    """Journal streams and leases as objects in an S3 bucket (see the module's object layout).

    :param url: ``s3://bucket`` or ``s3://bucket/prefix``; ``s3://KEY:SECRET@bucket/prefix`` gives credentials
        (percent-encoded: a secret's ``/`` as ``%2F``, ``+`` as ``%2B``).
    :raises SettingError: when the URL names no bucket.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.url = _redact.url(url)
        self.bucket = parts.hostname or ""
        if not self.bucket:
            raise SettingError(_settings.where("journal-store"), self.url, "s3://BUCKET/PREFIX, naming the bucket")
        prefix = unquote(parts.path).strip("/")
        self.prefix = prefix + "/" if prefix else ""
        options: dict[str, Any] = {}
        if parts.username:
            options["aws_access_key_id"] = unquote(parts.username)
            options["aws_secret_access_key"] = unquote(parts.password or "")
        # Fail a store that does not answer in seconds, not after botocore's minutes of retries.
        config = botocore.config.Config(connect_timeout=10, read_timeout=30, retries={"max_attempts": 3},
                                        max_pool_connections=_READERS * 2)
        self._options = options
        self._config = config
        self._client: Any = None
        self._client_pid = 0
        self._releases: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """This process's boto3 S3 client: made on first use, and again in a forked child (sockets are not shared)."""
        if self._client is None or self._client_pid != os.getpid():
            self._client = boto3.session.Session().client("s3", config=self._config, **self._options)
            self._client_pid = os.getpid()
        return self._client

    def unreachable(self, error: BaseException) -> StoreUnreachable:
        """The error to raise for an engine *error*: this store's masked URL, the cause and the fix."""
        return StoreUnreachable(self.url, _cause(error), _FIX)

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except _ENGINE_ERRORS as error:
            raise self.unreachable(error) from None

    def put(self, key: str, body: bytes) -> None:
        """Write one object under the prefix. :raises StoreUnreachable: when S3 refuses or does not answer."""
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=body)
        except _ENGINE_ERRORS as error:
            raise self.unreachable(error) from None

    def delete(self, keys: list[str]) -> None:
        """Delete objects under the prefix, a thousand per request (S3's limit)."""
        try:
            for start in range(0, len(keys), 1000):
                objects = [{"Key": self.prefix + key} for key in keys[start:start + 1000]]
                answer = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})
                refused = answer.get("Errors") or []
                if refused:  # a stream half-removed must not be reported removed
                    first = refused[0]
                    raise StoreUnreachable(self.url, f"{len(refused)} object(s) not deleted, such as "
                                           f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}", _FIX)
        except _ENGINE_ERRORS as error:
            raise self.unreachable(error) from None

    def open_stream(self, header: dict[str, Any]) -> S3Writer:
        safe_host = re.sub(r"[^A-Za-z0-9.]", "_", str(header.get("host")))[:40]
        started = float(header.get("started") or time.time())
        # Host names repeat across containers: the random part keeps two machines' streams apart.
        name = (f"{header.get('run')}-{safe_host}-{header.get('pid')}-{_run.base36(int(started * 1000))}-"
                f"{_run.random_token(4)}")
        writer = S3Writer(self, name, header)
        writer.start()
        return writer

    def _listing(self) -> dict[str, list[str]]:
        # Stream name -> the names of its objects, in S3's (lexicographic) order.
        found: dict[str, list[str]] = {}
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                stream, _, leaf = item["Key"][len(self.prefix):].partition("/")
                if leaf and "/" not in leaf:
                    found.setdefault(stream, []).append(leaf)
        return found

    def streams(self) -> list[JournalFile]:
        self.flush()
        try:
            listing = self._listing()
            with ThreadPoolExecutor(_READERS) as pool:
                read = list(pool.map(lambda item: self._read(*item), listing.items()))
        except _ENGINE_ERRORS as error:
            raise self.unreachable(error) from None
        journals = [journal for journal in read if journal is not None]
        journals.sort(key=lambda j: (_started(j.header), j.name))
        return journals

    def _read(self, name: str, leaves: list[str]) -> JournalFile | None:
        # A writer folding its writes deletes the ones it folded: a GET that finds one gone lists again.
        for _ in range(5):
            try:
                return self._read_once(name, leaves)
            except botocore.exceptions.ClientError as error:
                if not _missing(error):
                    raise
            page = self.client.list_objects_v2(Bucket=self.bucket, Prefix=f"{self.prefix}{name}/")
            leaves = [item["Key"].rpartition("/")[2] for item in page.get("Contents", ())]
            if not leaves:
                return None  # removed meanwhile
        return self._read_once(name, leaves)

    def _read_once(self, name: str, leaves: list[str]) -> JournalFile:
        folded = [leaf for leaf in leaves if re.fullmatch(r"c\d{10}\.jsonl", leaf)]
        upto = int(folded[-1][1:11]) if folded else 0
        parts = folded[-1:] + [leaf for leaf in leaves if re.fullmatch(r"b\d{10}\.jsonl", leaf)
                               and int(leaf[1:11]) > upto]
        parts += [leaf for leaf in leaves if leaf.startswith("r") and leaf.endswith(".jsonl")]
        data = _joined([self._get(f"{name}/{leaf}") for leaf in parts])
        journal = parse(JournalFile(Path(name), name=name, store=self), data, f"{self.url}/{name}")
        lease = self._get(f"{name}/lease.json") if "lease.json" in leaves else None
        if journal.header is not None:
            journal.lease = _lease(journal, lease)
        return journal

    def _get(self, key: str) -> bytes:
        body: bytes = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()
        return body

    def append_release(self, journal: JournalFile, number: int, outcome: str = "swept") -> None:
        """Queue a ``release`` record for *journal*'s stream; sent in batches, and by :meth:`flush` or :meth:`close`.

        A record lost with a sweeper that dies before sending it only makes the next sweep verify that deletion
        again.
        """
        from testdata_kit.journal import encode_record

        line = encode_record({"op": "release", "n": number, "outcome": outcome})
        with self._lock:
            queued = self._releases.setdefault(journal.name, [])
            queued.append(line)
            full = len(queued) >= _RELEASE_BATCH
        if full:
            self.flush()

    def flush(self) -> None:
        """Send every queued ``release`` record, one object per stream."""
        with self._lock:
            pending, self._releases = self._releases, {}
        for name, lines in pending.items():
            stamp = _run.base36(int(time.time() * 1000)).rjust(9, "0")
            self.put(f"{name}/r{stamp}-{_run.random_token(6)}.jsonl", "".join(lines).encode())

    def remove(self, journal: JournalFile) -> None:
        with self._lock:
            self._releases.pop(journal.name, None)
        try:
            page_keys = [item["Key"][len(self.prefix):] for page in self.client.get_paginator("list_objects_v2")
                         .paginate(Bucket=self.bucket, Prefix=f"{self.prefix}{journal.name}/")
                         for item in page.get("Contents", ())]
        except _ENGINE_ERRORS as error:
            raise self.unreachable(error) from None
        self.delete(page_keys)

    def close(self) -> None:
        self.flush()


def _joined(parts: list[bytes]) -> bytes:
    # Each object is whole records, but one cut short must not swallow the records of the next.
    return b"".join(part if part.endswith(b"\n") or index == len(parts) - 1 else part + b"\n"
                    for index, part in enumerate(parts))


def _started(header: dict[str, Any] | None) -> float:
    # A header is whatever its writer wrote: a start that is not a number sorts first and ends no lease later.
    started = (header or {}).get("started")
    return float(started) if isinstance(started, (int, float)) and not isinstance(started, bool) else 0.0


def _lease(journal: JournalFile, raw: bytes | None) -> Lease:
    header = journal.header or {}
    try:
        stored = json.loads(raw) if raw is not None else None
    except ValueError:
        stored = None
    if not isinstance(stored, dict) or not isinstance(stored.get("expires"), (int, float)):
        # No readable lease: the writer died between its first record and its lease; dead once that is old.
        return Lease.from_header(header, expires=_started(header) + header_lease(header),
                                 closed=journal.closed)
    return Lease.from_header(header, expires=float(stored["expires"]), closed=bool(stored.get("closed"))
                             or journal.closed)


class S3Writer(StreamWriter):
    """One process's stream in an :class:`S3Store`: one PUT per write, folded into one object at each beat.

    **Not** thread-safe beyond what the journal needs: the heartbeat thread's :meth:`beat` and the writes of
    the creating thread take turns on a lock.
    """

    def __init__(self, store: S3Store, name: str, header: dict[str, Any]) -> None:
        self.store = store
        self.name = name
        self.header = header
        self.lease_seconds = header_lease(header) if store.lease is None else float(store.lease)
        self._lines: list[bytes] = []  # every record written, for folding
        self._sequence = 0
        self._folded = 0  # the write number the newest fold covers
        self._folds: list[str] = []
        self._queued: list[str] = []
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        """Write the header and the lease; both are durable when this returns."""
        from testdata_kit.journal import encode_record

        self.write([encode_record(self.header)])
        self._put_lease(closed=False)

    def _put_lease(self, closed: bool) -> None:
        header = self.header
        lease = {"run": header.get("run"), "host": header.get("host"), "pid": header.get("pid"),
                 "worker": header.get("worker"), "boot": header.get("boot"), "heartbeat": header.get("heartbeat"),
                 "expires": round(time.time() + self.lease_seconds, 3), "closed": closed}
        self.store.put(f"{self.name}/lease.json", json.dumps(lease, separators=(",", ":")).encode())

    def queue(self, line: str) -> None:
        with self._lock:
            self._queued.append(line)

    def write(self, lines: list[str]) -> None:
        with self._lock:
            if self._closed:
                return
            self._write(lines)

    def _write(self, lines: list[str]) -> None:
        body = "".join(self._queued + lines).encode()
        if not body:
            return
        self.store.put(f"{self.name}/b{self._sequence + 1:010d}.jsonl", body)
        self._sequence += 1
        self._queued = []
        self._lines.append(body)

    def beat(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._write([])
            self._fold(everything=self._removed())
            self._put_lease(closed=False)

    def _removed(self) -> bool:
        # A sweeper removes a stream it calls dead, its lease with it; this run went on (its beats had stalled past
        # the lease), and its writes since then are pieces without their header, which no sweep can tell is alive.
        # One HEAD per beat finds that out.
        store = self.store
        try:
            store.client.head_object(Bucket=store.bucket, Key=f"{store.prefix}{self.name}/lease.json")
        except botocore.exceptions.ClientError as error:
            if _missing(error) or error.response.get("Error", {}).get("Code") == "NotFound":
                return True
            raise store.unreachable(error) from None
        except _ENGINE_ERRORS as error:
            raise store.unreachable(error) from None
        return False

    def _fold(self, everything: bool = False) -> None:
        # One object with everything so far, then the ones it replaces: a reader lists either the fold or the
        # writes (and lists again when a write it saw has gone).
        # *everything*: put every record back (the header first), whatever the last fold covered.
        if self._sequence - self._folded < 2 and not everything:
            return
        fold = f"c{self._sequence:010d}.jsonl"
        self.store.put(f"{self.name}/{fold}", _joined(self._lines))
        self.store.delete([f"{self.name}/b{n:010d}.jsonl" for n in range(self._folded + 1, self._sequence + 1)]
                          + [f"{self.name}/{old}" for old in self._folds if old != fold])
        self._folded = self._sequence
        self._folds = [fold]

    def close(self, remove: bool) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if remove:
                self.store.remove(JournalFile(Path(self.name), name=self.name))
                return
            self._write([])
            self._fold()
            self._put_lease(closed=True)
