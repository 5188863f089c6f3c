"""Journal stores: per-resource cost of tracked creation journaled to each store, and a sweep over 10k entries.

Part 1. Each measurement creates N resources in one test and runs its cleanups, with a ``Journal`` (heartbeat
thread on, as users get it) writing to the store; per resource that is the ``intent`` and ``made`` records,
each durable before the code goes on, and the ``release``, which rides along with the next write. Baseline:
the local buffered journal (a folder, a write per record). Opening and closing the stream are not timed.

Part 2. A dead run's stream of 10,000 confirmed entries (``intent`` + ``made``, recovery a ``recover=`` call)
in each store, written 500 records at a time and, for S3, folded as a beat does. Timed: ``sweep --journal URL``
as a dry run (read every stream, judge its lease, list what it would delete) and with ``--yes`` (replay every
entry through a call that proves it gone, append its ``swept`` release, remove the stream), the stream
rebuilt before each replay, untimed. Baseline: the directory store.

Servers: PostgreSQL from ``$TESTDATA_POSTGRES_DSN``, Redis from ``$TESTDATA_REDIS_URL`` (``.ci/start-redis``), an
S3-compatible server started here from ``$TESTDATA_MOTO_SERVER`` (moto's server mode); a store whose server is
not there is left out, and the output says so. All on loopback: the remote numbers are round trips to this
machine, a lower bound for a server across a network.

Run: ``python benchmarks/bench_journal_stores.py [--quick] [--repeat 7]``. Exits 0 whatever the numbers.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import _bench

from testdata_kit import DataTestCase, Registry, _run, creates, journal
from testdata_kit import sweep as sweeper
from testdata_kit.errors import AlreadyGone
from testdata_kit.journal._store import Store, boot_id, hostname

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


class _Case(DataTestCase):
    def runTest(self) -> None:
        """Never run; the instance only holds cleanups."""


def _delete(value: dict[str, int]) -> None:
    value["deleted"] = 1


def gone(ident: Any) -> None:
    """The sweep's proof that entry *ident* is gone (the recover= call the journal names)."""
    raise AlreadyGone(ident)


kinds = Registry()


@creates("widget", registry=kinds, delete=_delete, recover="bench_journal_stores:gone")
def widget(n: int) -> dict[str, int]:
    return {"id": n}


def tracked(count: int, make_store: Callable[[], Store]) -> float:
    store = make_store()
    log = journal.Journal(store=store)  # heartbeat on, as users get it
    try:
        return _bench.per_resource(widget, _Case, count, log)
    finally:
        log.close()
        store.close()


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def build_dead_stream(url: str, entries: int) -> None:
    """Write a dead run's stream of *entries* confirmed entries to the store at *url*, 500 records per write.

    Dead as a run killed on this machine is: its pid is gone, its host and boot id are this machine's.
    """
    store = journal.open_store(url)
    header = {"op": "open", "v": journal.FORMAT_VERSION, "run": _run.random_token(6), "pid": dead_pid(),
              "host": hostname(), "worker": "p1", "started": round(time.time(), 3), "heartbeat": 10.0,
              "boot": boot_id(), "lease": 30.0}
    writer = store.open_stream(header)
    lines: list[str] = []
    for n in range(1, entries + 1):
        lines.append(journal.encode_record({"op": "intent", "n": n, "kind": "widget", "scope": "test",
                                            "test": "bench._Case.runTest", "at": 1.0}))
        lines.append(journal.encode_record({"op": "made", "n": n, "id": n,
                                            "recovery": {"call": "bench_journal_stores:gone", "id": n}}))
        if len(lines) >= 500:
            writer.write(lines)
            lines = []
    writer.write(lines)
    writer.beat()  # the S3 store folds its writes here, as a run's heartbeat would have
    store.close()


def swept(url: str, delete: bool, rebuild: Callable[[], None]) -> float:
    if delete:
        rebuild()
    argv = ["--journal", url] + (["--yes"] if delete else [])
    with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()) as err:
        started = time.perf_counter()
        status = sweeper.main(argv)
        elapsed = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"sweep {argv} exited {status}: {out.getvalue()[-500:]} {err.getvalue()[-500:]}")
    return elapsed


@contextlib.contextmanager
def stores(folder: str) -> Iterator[tuple[dict[str, Callable[[], str]], list[str]]]:
    """Name -> a function giving a fresh, empty store URL; and the reasons stores were left out."""
    makers: dict[str, Callable[[], str]] = {}
    missing: list[str] = []
    counter = iter(range(10**9))
    makers["directory"] = lambda: os.path.join(folder, f"dir-{next(counter)}")
    redis_url = os.environ.get("TESTDATA_REDIS_URL")
    with contextlib.ExitStack() as stack:
        dsn = os.environ.get("TESTDATA_POSTGRES_DSN")
        if dsn and importlib.util.find_spec("testdata_kit.journal._postgres") is not None:
            import psycopg

            # Tables of its own, in a schema dropped at the end; each sweep removes the stream it replayed.
            schema = f"bench_{_run.random_token(8).lower()}"
            with psycopg.connect(dsn, autocommit=True) as admin:
                admin.execute(f"CREATE SCHEMA {schema}")

            def drop() -> None:
                with psycopg.connect(dsn, autocommit=True) as admin:
                    admin.execute(f"DROP SCHEMA {schema} CASCADE")

            stack.callback(drop)
            pg_url = f"{dsn}{'&' if '?' in dsn else '?'}options=-csearch_path%3D{schema}"
            makers["postgres"] = lambda: pg_url
        else:
            missing.append("postgres (set TESTDATA_POSTGRES_DSN: .ci/start-postgres)")
        if redis_url:
            makers["redis"] = lambda: f"{redis_url}?prefix=bench:{_run.random_token(8)}:"
        else:
            missing.append("redis (set TESTDATA_REDIS_URL: .ci/start-redis)")
        if os.environ.get("TESTDATA_MOTO_SERVER"):
            from tests._moto_server import MotoServer

            server = stack.enter_context(MotoServer())
            os.environ.update(server.environment())
            client = server.client()

            def s3_url() -> str:
                bucket = f"bench-{_run.random_token(10).lower()}"
                client.create_bucket(Bucket=bucket)
                return f"s3://{bucket}/runs"

            makers["s3"] = s3_url
        else:
            missing.append("s3 (set TESTDATA_MOTO_SERVER to moto_server's path)")
        yield makers, missing


def main() -> int:
    args = _bench.parser(__doc__.splitlines()[0]).parse_args()
    count = 100 if args.quick else 300
    entries = 2_000 if args.quick else 10_000
    with tempfile.TemporaryDirectory() as folder, stores(folder) as (makers, missing):
        local = os.path.join(folder, "local")
        variants = {"local journal": lambda: tracked(count, lambda: journal.DirectoryStore(local))}
        for name, make_url in makers.items():
            variants[name] = (lambda make_url=make_url: tracked(count, lambda: journal.open_store(make_url())))
        medians = _bench.interleaved(variants, args.repeat)
        print(f"Part 1: {count} tracked creations per measurement, median of {args.repeat} interleaved runs, per "
              f"resource (intent + made + release; baseline: the local buffered journal):")
        for name, value in medians.items():
            print(f"  {name:14} {value * 1e6:10.1f} us   {value / medians['local journal']:8.2f}x local journal")

        urls = {name: make_url() for name, make_url in makers.items()}
        sweeps: dict[str, Callable[[], float]] = {}
        for name, url in urls.items():
            build_dead_stream(url, entries)
            sweeps[f"{name} dry"] = (lambda url=url: swept(url, False, lambda: None))
        dry = _bench.interleaved(sweeps, args.repeat)
        replays: dict[str, Callable[[], float]] = {}
        for name, url in urls.items():
            replays[f"{name} replay"] = (lambda url=url: swept(url, True, lambda: build_dead_stream(url, entries)))
        replay = _bench.interleaved(replays, args.repeat)
        print(f"Part 2: sweep --journal over one dead stream of {entries:,} entries, median of {args.repeat} "
              f"interleaved runs (baseline: the directory store):")
        for label, results in (("dry run", dry), ("replay", replay)):
            base = next(iter(results.values()))
            for name, value in results.items():
                print(f"  {label:8} {name.split()[0]:10} {value * 1e3:9.1f} ms  {value / entries * 1e6:7.1f} us/entry"
                      f"   {value / base:6.2f}x directory")
        for reason in missing:
            print(f"  left out: {reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
