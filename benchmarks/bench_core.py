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
    """Bytes testdata_kit holds per live tracked resource, beyond the resource itself.

    Everything allocated while 100k resources are created and tracked (the Resource records, the ledger's
    entries, the bound cleanups on the test) is counted; the rows themselves are subtracted.
    """
    from testdata_kit import _scopes

    class Probe(DataTestCase):
        def runTest(self) -> None:  # only a holder of cleanups here
            pass

    test = Probe()
    with ledger.isolated():
        _scopes.push_test(test)
        tracemalloc.start()
        try:
            before = tracemalloc.take_snapshot()
            rows = [row(i) for i in range(N)]
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
            _scopes.pop_test(test)
        held = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
        resources_themselves = sum(sys.getsizeof(value) for value in rows) + sys.getsizeof(rows)
        test.doCleanups()
    return (held - resources_themselves) / N


def _bytecode_env() -> dict[str, str]:
    """The environment of an installed package: compiled bytecode that Python may read.

    unittest is read from the standard library's .pyc files; with PYTHONDONTWRITEBYTECODE set (as on some CI
    images) a source checkout would be compiled on every import instead, which no pip install does.
    """
    import compileall
    import os

    import testdata_kit

    compileall.compile_dir(os.path.dirname(testdata_kit.__file__), quiet=1)
    return {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def import_time(module: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=env)
    return time.perf_counter() - start


def main() -> int:
    bare = [time_case(Bare, "test_bare") for _ in range(REPEATS)]
    tracked = [time_case(Tracked, "test_tracked") for _ in range(REPEATS)]
    bare_us = statistics.median(bare) / N * 1e6
    tracked_us = statistics.median(tracked) / N * 1e6
    print(f"create+cleanup per resource over {N:,}: bare addCleanup {bare_us:.2f} us, "
          f"testdata_kit {tracked_us:.2f} us, ratio {tracked_us / bare_us:.2f}x (target <= 3x)")

    extra = memory_per_resource()
    print(f"memory held per tracked resource beyond the resource itself: {extra:.0f} bytes (target <= 1024)")

    # Alternate the two imports so that a change in machine load hits both alike.
    env = _bytecode_env()
    plain, ours = [], []
    for _ in range(21):
        plain.append(import_time("unittest", env))
        ours.append(import_time("testdata_kit", env))
    print(f"import wall time (median of {len(plain)}, alternating): unittest {statistics.median(plain) * 1e3:.1f} ms, "
          f"testdata_kit {statistics.median(ours) * 1e3:.1f} ms, "
          f"ratio {statistics.median(ours) / statistics.median(plain):.2f}x (target <= 1.3x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
