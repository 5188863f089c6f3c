"""Per-resource cost of tracking with the journal off, buffered (write per record) and fsync'ed, in one run.

Each round creates N resources in one test and runs its cleanups; the cost per resource covers create,
registration, deletion and the three journal records. The baseline is unittest's bare ``addCleanup``.
Run: ``python benchmarks/bench_journal.py [N] [ROUNDS]``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import unittest

from testdata_kit import DataTestCase, Registry, _scopes, creates, journal, ledger


class _Case(DataTestCase):
    def test_it(self) -> None:
        """Never run; the instance only holds cleanups."""


def _delete(value: dict[str, int]) -> None:
    value["deleted"] = 1


def _rounds(make_round, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        test = _Case("test_it")
        _scopes.push_test(test)
        try:
            start = time.perf_counter()
            make_round(test)
            test.doCleanups()
            times.append(time.perf_counter() - start)
        finally:
            _scopes.pop_test(test)
    return times


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    kinds = Registry()

    @creates("widget", registry=kinds, delete=_delete, recover="benchmarks.bench_journal:_delete")
    def widget(n: int) -> dict[str, int]:
        return {"id": n}

    def bare(test: unittest.TestCase) -> None:
        for n in range(count):
            test.addCleanup(_delete, {"id": n})

    def tracked(test: unittest.TestCase) -> None:
        for n in range(count):
            widget(n)

    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, fsync in (("bare addCleanup", None), ("tracked, no journal", None), ("journal, buffered", False),
                             ("journal, fsync", True)):
            with ledger.isolated() as books:
                log = None
                if fsync is not None:
                    log = journal.Journal(tmp, fsync=fsync, heartbeat=0)
                    books.observers.append(log)
                body = bare if label == "bare addCleanup" else tracked
                n_rounds = rounds if not fsync else max(3, rounds // 3)
                results[label] = statistics.median(_rounds(body, n_rounds)) / count * 1e6
                if log is not None:
                    log.close()
    base, off = results["bare addCleanup"], results["tracked, no journal"]
    print(f"{count} resources per round, medians per resource:")
    for label, micros in results.items():
        print(f"  {label:22} {micros:9.2f} us   x{micros / base:6.2f} of bare addCleanup   "
              f"x{micros / off:6.2f} of no journal")


if __name__ == "__main__":
    main()
