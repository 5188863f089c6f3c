"""Per-resource cost of tracking with the journal off, buffered (a write per record) and fsync'ed, in one run.

Each measurement creates N resources in one test and runs its cleanups; the cost per resource covers create,
registration, deletion and, with the journal on, its three records (intent, made, release). The journal runs
as users get it, heartbeat thread on. Baselines: unittest's bare ``addCleanup`` of the same deleter, and the
three raw ``os.write`` calls of records of the same size. Target: buffered journal at most 4x the bare
``addCleanup``. fsync costs a disk flush per record and is printed for reference.

``fixed writes`` is the floor of any journal that writes ``intent`` before each create and ``made`` after it
(each durable before the code goes on, so that a kill -9 loses neither): an observer of the ledger that makes
exactly those two ``os.write`` calls, of fixed bytes as long as the journal's records, and holds the release.
What the journal costs above it is its formatting and bookkeeping.

Run: ``python benchmarks/bench_journal.py [--quick] [--repeat 7]``. Exits 0 whatever the numbers.
"""

from __future__ import annotations

import os
import tempfile
import time
import unittest

import _bench

from testdata_kit import DataTestCase, Registry, creates, journal


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


# Records as long as the journal's for this benchmark's widgets.
INTENT = (b'{"op":"intent","n":1234,"kind":"widget","scope":"test","test":"bench_journal._Case.runTest",'
          b'"at":1764489600.123}\n')
MADE = b'{"op":"made","n":1234,"id":1234,"recovery":{"call":"bench_journal:_delete","id":1234}}\n'
RELEASE = b'{"op":"release","n":1234,"outcome":"deleted"}\n'


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
    started = time.perf_counter()
    for _ in range(count):
        os.write(fd, INTENT)
        os.write(fd, MADE)
        os.write(fd, RELEASE)
    elapsed = time.perf_counter() - started
    os.close(fd)
    return elapsed / count


def tracked(count: int, directory: str | None, fsync: bool = False) -> float:
    log = None if directory is None else journal.Journal(directory, fsync=fsync)  # heartbeat on, as users get it
    try:
        return _bench.per_resource(widget, _Case, count, log)
    finally:
        if log is not None:
            log.close()


class _FixedWrites:
    """The least a journal can do through the ledger: ``intent`` and ``made`` each one ``os.write`` of fixed bytes
    (as long as the journal's records), ``release`` held back for a later write as the journal holds it."""

    def __init__(self, directory: str) -> None:
        self.fd = os.open(os.path.join(directory, "fixed.jsonl"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.held: list[bytes] = []

    def on_intent(self, number: int, kind: str, scope: str, owner: object) -> None:
        os.write(self.fd, INTENT)

    def on_abandon(self, number: int) -> None:
        """Never called: no create fails here."""

    def on_create(self, resource: object) -> None:
        os.write(self.fd, MADE)

    def on_release(self, resource: object, outcome: str) -> None:
        self.held.append(RELEASE)

    def close(self) -> None:
        os.close(self.fd)


def fixed_writes(count: int, directory: str) -> float:
    floor = _FixedWrites(directory)
    try:
        return _bench.per_resource(widget, _Case, count, floor)
    finally:
        floor.close()


def main() -> int:
    args = _bench.parser(__doc__.splitlines()[0]).parse_args()
    count = 2_000 if args.quick else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        medians = _bench.interleaved({
            "bare": lambda: bare(count),
            "raw writes": lambda: raw_writes(count, tmp),
            "no journal": lambda: tracked(count, None),
            "fixed writes": lambda: fixed_writes(count, tmp),
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
    floor = medians["fixed writes"]
    print(f"  the floor, two fixed writes per resource through the ledger's observers: {floor / base:.2f}x bare "
          f"addCleanup; under the 4x target, {max(4 * base - floor, 0) * 1e6:.2f} us would be left to format the "
          f"two records and hold the release; the journal takes {(medians['journal'] - floor) * 1e6:.2f} us")
    ratio = medians["journal"] / base
    print(f"  buffered journal / bare addCleanup {ratio:.2f}x (target <= 4x: {'met' if ratio <= 4 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
