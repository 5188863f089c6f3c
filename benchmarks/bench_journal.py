"""Per-resource cost of tracking with the journal off, buffered (a write per record) and fsync'ed, in one run.

Each measurement creates N resources in one test and runs its cleanups; the cost per resource covers create,
registration, deletion and, with the journal on, its three records (intent, made, release). The journal runs
as users get it, heartbeat thread on. Baselines: unittest's bare ``addCleanup`` of the same deleter, and the
three raw ``os.write`` calls of records of the same size. Target: buffered journal at most 4x the bare
``addCleanup``. fsync costs a disk flush per record and is printed for reference.

Run: ``python benchmarks/bench_journal.py [--quick] [--repeat 7]``. Exits 0 whatever the numbers.
"""

from __future__ import annotations

import os
import tempfile
import time
import unittest

import _bench

from testdata_kit import DataTestCase, Registry, _scopes, creates, journal, ledger


class _Plain(unittest.TestCase):
    def runTest(self) -> None:
        """Never run; the instance only holds cleanups."""


class _Case(DataTestCase):
    def runTest(self) -> None:
        """Never run; the instance only holds cleanups."""


def _delete(value: dict[str, int]) -> None:
    value["deleted"] = 1


kinds = Registry()


@creates("widget", registry=kinds, delete=_delete, recover="bench_journal:_delete")
def widget(n: int) -> dict[str, int]:
    return {"id": n}


def bare(count: int) -> float:
    test = _Plain()
    started = time.perf_counter()
    for n in range(count):
        test.addCleanup(_delete, {"id": n})
    test.doCleanups()
    return (time.perf_counter() - started) / count


def raw_writes(count: int, directory: str) -> float:
    """Three ``os.write`` calls per resource, of records as long as the journal's, to a file in *directory*."""
    fd = os.open(os.path.join(directory, "raw.jsonl"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    intent = b'{"op":"intent","n":1,"kind":"widget","scope":"test","test":"bench_journal._Case.runTest","at":1.0}\n'
    made = b'{"op":"made","n":1,"id":1,"recovery":{"call":"bench_journal:_delete","id":1}}\n'
    release = b'{"op":"release","n":1,"outcome":"deleted"}\n'
    started = time.perf_counter()
    for _ in range(count):
        os.write(fd, intent)
        os.write(fd, made)
        os.write(fd, release)
    elapsed = time.perf_counter() - started
    os.close(fd)
    return elapsed / count


def tracked(count: int, directory: str | None, fsync: bool = False) -> float:
    with ledger.isolated() as books:
        log = None
        if directory is not None:
            log = journal.Journal(directory, fsync=fsync)  # heartbeat on, as users get it
            books.observers.append(log)
        test = _Case()
        _scopes.push_test(test)
        try:
            started = time.perf_counter()
            for n in range(count):
                widget(n)
            _scopes.pop_test(test)
            test.doCleanups()
            elapsed = time.perf_counter() - started
        finally:
            if log is not None:
                log.close()
    return elapsed / count


def main() -> int:
    args = _bench.parser(__doc__.splitlines()[0]).parse_args()
    count = 2_000 if args.quick else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        medians = _bench.interleaved({
            "bare": lambda: bare(count),
            "raw writes": lambda: raw_writes(count, tmp),
            "no journal": lambda: tracked(count, None),
            "journal": lambda: tracked(count, tmp),
            "fsync": lambda: tracked(100, tmp, fsync=True),
        }, args.repeat)
    base = medians["bare"]
    print(f"{count:,} resources per measurement, median of {args.repeat} interleaved runs, per resource "
          f"(baseline: a bare addCleanup):")
    for name, value in medians.items():
        print(f"  {name:12} {value * 1e6:9.2f} us   {value / base:6.2f}x bare addCleanup")
    share = medians["journal"] - medians["no journal"]
    print(f"  the buffered journal's own share: {share * 1e6:.2f} us, {share / medians['raw writes']:.2f}x its three "
          f"raw writes")
    ratio = medians["journal"] / base
    print(f"  buffered journal / bare addCleanup {ratio:.2f}x (target <= 4x: {'met' if ratio <= 4 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
