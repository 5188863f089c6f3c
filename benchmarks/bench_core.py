"""Benchmark the core's claims against their baselines, measured in the same run.

1. Tracked create + cleanup per resource, one row per N resources in a test (10 to 100k), against a bare
   ``addCleanup`` of the same deleter on a plain TestCase (target: at most 2.5x at every N). Both variants
   create N rows, register their deletion, and run the test's cleanups; the test's own start-up is left out.
2. Memory testdata_kit holds per tracked resource beyond the resource itself (target: at most 1 KiB).
3. ``import testdata_kit`` wall time against ``import unittest``, the framework it extends (target: at most 1.3x).

Run: ``python benchmarks/bench_core.py [--quick] [--repeat 7]``. Prints medians and ratios; exits 0 whatever
the numbers, because timings on shared machines are for people to read, not for CI to gate on.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import tracemalloc
import unittest

import _bench

from testdata_kit import DataTestCase, Registry, _scopes, creates, ledger

kinds = Registry()


def delete_row(row: dict) -> None:
    row.clear()


def make_row(i: int) -> dict:
    return {"id": i}


@creates("row", registry=kinds, delete=delete_row)
def row(i: int) -> dict:
    return make_row(i)


class Plain(unittest.TestCase):
    def runTest(self) -> None:  # only a holder of cleanups here
        pass


class Tracked(DataTestCase):
    def runTest(self) -> None:
        pass


def bare_round(n: int, batches: int) -> float:
    started = time.perf_counter()
    for _ in range(batches):
        test = Plain()
        for i in range(n):
            test.addCleanup(delete_row, make_row(i))
        test.doCleanups()
    return (time.perf_counter() - started) / (n * batches)


def tracked_round(n: int, batches: int) -> float:
    with ledger.isolated():
        started = time.perf_counter()
        for _ in range(batches):
            test = Tracked()
            _scopes.push_test(test)
            for i in range(n):
                row(i)
            _scopes.pop_test(test)
            test.doCleanups()
        elapsed = time.perf_counter() - started
    return elapsed / (n * batches)


def memory_per_resource(n: int) -> float:
    """Bytes testdata_kit holds per live tracked resource, beyond the resource itself.

    Everything allocated while *n* resources are created and tracked (the Resource records, the ledger's
    entries, the bound cleanups on the test) is counted; the rows themselves are subtracted.
    """
    test = Tracked()
    with ledger.isolated():
        _scopes.push_test(test)
        tracemalloc.start()
        try:
            before = tracemalloc.take_snapshot()
            rows = [row(i) for i in range(n)]
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
            _scopes.pop_test(test)
        held = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
        resources_themselves = sum(sys.getsizeof(value) for value in rows) + sys.getsizeof(rows)
        test.doCleanups()
    return (held - resources_themselves) / n


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
    args = _bench.parser(__doc__.splitlines()[0]).parse_args()
    per_sample = 10_000 if args.quick else 50_000
    print(f"1. create + cleanup per resource, median of {args.repeat} interleaved runs "
          f"(baseline: a bare addCleanup on a plain TestCase; target <= 2.5x at every N)")
    worst = 0.0
    for n in _bench.SIZES:
        batches = max(1, per_sample // n)
        medians = _bench.interleaved({
            "bare": lambda: bare_round(n, batches),  # noqa: B023 (called before the loop moves on)
            "tracked": lambda: tracked_round(n, batches),  # noqa: B023
        }, args.repeat)
        worst = max(worst, medians["tracked"] / medians["bare"])
        print(_bench.row(f"N={n:,}", medians, "bare"), flush=True)
    print(f"   worst ratio {worst:.2f}x (target <= 2.5x: {'met' if worst <= 2.5 else 'MISSED'})")

    extra = memory_per_resource(per_sample)
    print(f"2. memory held per tracked resource beyond the resource itself, over {per_sample:,}: {extra:.0f} bytes "
          f"(target <= 1024)")

    # Alternate the two imports so that a change in machine load hits both alike.
    env = _bytecode_env()
    plain, ours = [], []
    for _ in range(max(args.repeat, 21)):
        plain.append(import_time("unittest", env))
        ours.append(import_time("testdata_kit", env))
    print(f"3. import wall time (median of {len(plain)}, alternating): unittest "
          f"{statistics.median(plain) * 1e3:.1f} ms, testdata_kit {statistics.median(ours) * 1e3:.1f} ms, "
          f"ratio {statistics.median(ours) / statistics.median(plain):.2f}x (target <= 1.3x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
