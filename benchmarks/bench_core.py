"""Benchmark the core's claims against their baselines, measured in the same run.

1. Per-resource cost of create + cleanup through testdata_kit against a bare ``addCleanup`` of the same deleter,
   over 100k resources (target: at most 3x).
2. Memory testdata_kit holds per tracked resource beyond the resource itself (target: at most 1 KiB).
3. ``import testdata_kit`` wall time against ``import unittest``, the framework it extends (target: at most 1.3x).

Run: ``python benchmarks/bench_core.py``. Prints medians and ratios; exits 0 whatever the numbers, because
timings on shared machines are for people to read, not for CI to gate on.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import tracemalloc
import unittest

from testdata_kit import DataTestCase, Registry, creates, ledger

N = 100_000
REPEATS = 5
kinds = Registry()


def delete_row(row: dict) -> None:
    row.clear()


def make_row(i: int) -> dict:
    return {"id": i}


@creates("row", registry=kinds, delete=delete_row)
def row(i: int) -> dict:
    return make_row(i)


class Bare(unittest.TestCase):
    def test_bare(self) -> None:
        for i in range(N):
            value = make_row(i)
            self.addCleanup(delete_row, value)


class Tracked(DataTestCase):
    def test_tracked(self) -> None:
        for i in range(N):
            row(i)


def time_case(case: type[unittest.TestCase], name: str) -> float:
    test = case(name)
    result = unittest.TestResult()
    with ledger.isolated():
        start = time.perf_counter()
        test.run(result)
        elapsed = time.perf_counter() - start
    assert result.wasSuccessful(), result.errors
    return elapsed


def memory_per_resource() -> float:
    """Bytes held per live tracked resource, minus what a bare addCleanup of the same value holds."""

    def held(case: type[unittest.TestCase], body) -> int:
        test = case("run")
        with ledger.isolated():
            tracemalloc.start()
            before = tracemalloc.take_snapshot()
            body(test)
            after = tracemalloc.take_snapshot()
            tracemalloc.stop()
            size = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
            test.doCleanups()
        return size

    from testdata_kit import _scopes

    class Probe(DataTestCase):
        def run(self, result=None):  # only a holder of cleanups here
            return None

    values = [make_row(i) for i in range(N)]

    def bare(test):
        for value in values:
            test.addCleanup(delete_row, value)

    def tracked(test):
        _scopes.push_test(test)
        try:
            for value in values:
                kinds.get("row").create_in("test", test, (value["id"],), {})
        finally:
            _scopes.pop_test(test)

    # The tracked variant also creates the rows (the resource itself); subtract that from its total.
    row_size = sum(sys.getsizeof(make_row(i)) for i in range(100)) / 100
    return (held(Probe, tracked) - held(Probe, bare)) / N - row_size


def import_time(module: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
    return time.perf_counter() - start


def main() -> int:
    bare = [time_case(Bare, "test_bare") for _ in range(REPEATS)]
    tracked = [time_case(Tracked, "test_tracked") for _ in range(REPEATS)]
    bare_us = statistics.median(bare) / N * 1e6
    tracked_us = statistics.median(tracked) / N * 1e6
    print(f"create+cleanup per resource over {N:,}: bare addCleanup {bare_us:.2f} us, "
          f"testdata_kit {tracked_us:.2f} us, ratio {tracked_us / bare_us:.2f}x (target <= 3x)")

    extra = memory_per_resource()
    print(f"memory held per tracked resource beyond a bare addCleanup: {extra:.0f} bytes (target <= 1024)")

    runs = 21
    plain = [import_time("unittest") for _ in range(runs)]
    ours = [import_time("testdata_kit") for _ in range(runs)]
    print(f"import wall time (median of {runs}): unittest {statistics.median(plain) * 1e3:.1f} ms, "
          f"testdata_kit {statistics.median(ours) * 1e3:.1f} ms, "
          f"ratio {statistics.median(ours) / statistics.median(plain):.2f}x (target <= 1.3x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
