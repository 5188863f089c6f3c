"""Scenario teardown: its scheduler against a thread pool, its cost in memory, and on a real server.

1. Concurrent teardown (16 workers) of N independent resources whose deleters each sleep 1 ms, against
   ``ThreadPoolExecutor(16).map`` over the same deleters. Targets: at most 1.2x the pool at N = 8,000, and the
   cost per resource at 100k within 1.2x of that at 1,000 (a scheduler that grows with N shows here).
2. In memory: the teardown of a scenario of N resources (chains of 5 links, default workers) against a bare
   ``addCleanup`` per resource on a plain TestCase, both timed from the first cleanup to the last. Target: at most
   4x at every N from 100 to 100k.
3. On the demo API with 20 ms of latency per request: 10 chains of 5 links, serial (``workers=1``) against
   concurrent, and the critical path (5 x 20 ms). Targets: concurrent at least 4x faster than serial, and within
   1.5x of the critical path.

Run: ``python benchmarks/bench_teardown.py [--quick] [--repeat 7]`` (about five minutes; ``--quick`` leaves out
N = 100k in part 1 and takes about two). Prints medians and ratios; exits 0 whatever the numbers.
"""

from __future__ import annotations

import time
import unittest
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import _bench

from testdata_kit import DataTestCase, Registry, creates, demo, ledger
from testdata_kit.http import ApiClient

SLEEP = 0.001
LINKS = 5


def sleeper(value: Any) -> None:
    time.sleep(SLEEP)


def forget(value: Any) -> None:
    value.clear()


def declare(prefix: str, delete: Any, make: Any) -> Registry:
    """Kinds link0..link4, each needing the previous one, so a chain is deleted child first, and a leaf.

    Each part uses kind names of its own: a teardown remembers which kinds proved slow in this process.
    """
    kinds = Registry()
    for level in range(LINKS):
        needs = (f"{prefix}link{level - 1}",) if level else ()
        creates(f"{prefix}link{level}", needs=needs, registry=kinds, delete=delete)(make)
    creates(f"{prefix}leaf", registry=kinds, delete=delete)(make)
    return kinds


def scenario_teardown(kinds: Registry, build: Any, workers: int | None = None) -> float:
    """Build a scenario in one test with *build(s)*; return the seconds its cleanups took."""
    timing: list[float] = []

    class Case(DataTestCase):
        registry = kinds

        def test_it(self) -> None:
            s = self.scenario() if workers is None else self.scenario(workers=workers)
            build(s)

        def doCleanups(self) -> Any:
            started = time.perf_counter()
            try:
                return super().doCleanups()
            finally:
                timing.append(time.perf_counter() - started)

    result = unittest.TestResult()
    with ledger.isolated() as books:
        Case("test_it").run(result)
    if not result.wasSuccessful() or books.leaked or books.deleted != books.created:
        raise SystemExit(f"benchmark run failed: {result.errors + result.failures} {books.summary()}")
    return timing[0]


def pool_map(n: int) -> float:
    rows = [{"id": i} for i in range(n)]
    started = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(sleeper, rows))
    return time.perf_counter() - started


def leaves(n: int) -> Any:
    def build(s: Any) -> None:
        for _ in range(n):
            s.create("sleepy_leaf", as_="leaf")
    return build


def chains(n: int, prefix: str) -> Any:
    def build(s: Any) -> None:
        for _ in range(max(1, n // LINKS)):
            s.branch().create(f"{prefix}link{LINKS - 1}")  # creates the links it needs on demand
    return build


def bare_cleanups(n: int) -> float:
    timing: list[float] = []

    class Plain(unittest.TestCase):
        def test_it(self) -> None:
            for i in range(n):
                self.addCleanup(forget, {"id": i})

        def doCleanups(self) -> Any:
            started = time.perf_counter()
            try:
                return super().doCleanups()
            finally:
                timing.append(time.perf_counter() - started)

    Plain("test_it").run(unittest.TestResult())
    return timing[0]


def batched(measure: Any, n: int, total: int) -> float:
    """Seconds per resource of *measure(n)*, repeated until about *total* resources were handled."""
    batches = max(1, total // n)
    return sum(measure(n) for _ in range(batches)) / (batches * n)


def main() -> int:
    args = _bench.parser(__doc__.splitlines()[0]).parse_args()
    slow = declare("sleepy_", sleeper, lambda **parents: {"id": 0})
    fast = declare("memory_", forget, lambda **parents: {"id": 0})

    print(f"1. concurrent teardown of N resources, deleters sleeping {SLEEP * 1e3:g} ms, median of {args.repeat} "
          f"interleaved runs, per resource (baseline: ThreadPoolExecutor(16).map over the same deleters)")
    per_resource: dict[int, float] = {}
    sizes = (125, 1_000, 8_000) if args.quick else (125, 1_000, 8_000, 100_000)
    for n in sizes:
        medians = _bench.interleaved({
            "pool.map": lambda: pool_map(n) / n,  # noqa: B023 (called before the loop moves on)
            "teardown": lambda: scenario_teardown(slow, leaves(n)) / n,  # noqa: B023
        }, args.repeat)
        per_resource[n] = medians["teardown"]
        print(_bench.row(f"N={n:,}", medians, "pool.map"), flush=True)
    if 100_000 in per_resource:
        growth = per_resource[100_000] / per_resource[1_000]
        print(f"   per resource at 100k / at 1k: {growth:.2f}x (target <= 1.2x)")

    print(f"2. teardown in memory, chains of {LINKS}, median of {args.repeat} interleaved runs, per resource "
          f"(baseline: a bare addCleanup per resource; target <= 4x from N = 100)")
    total = 20_000 if args.quick else 100_000
    for n in _bench.SIZES:
        medians = _bench.interleaved({
            "bare": lambda: batched(bare_cleanups, n, total),  # noqa: B023
            "scenario": lambda: batched(lambda m: scenario_teardown(fast, chains(m, "memory_")), n, total),  # noqa: B023
        }, args.repeat)
        print(_bench.row(f"N={n:,}", medians, "bare"), flush=True)

    latency_ms = 20
    with demo.running(latency_ms=latency_ms) as server, ApiClient(server.url) as api:
        products = api.collection("products")
        demo_kinds = declare("demo_", products.delete, lambda **parents: products.post(name="Link", price=1))
        scenario_teardown(demo_kinds, chains(10 * LINKS, "demo_"))  # warm-up: connections, threads, imports
        medians = _bench.interleaved({
            "serial": lambda: scenario_teardown(demo_kinds, chains(10 * LINKS, "demo_"), workers=1),
            "concurrent": lambda: scenario_teardown(demo_kinds, chains(10 * LINKS, "demo_")),
        }, args.repeat)
        assert server.counts()["products"] == 0
    critical = LINKS * latency_ms / 1000
    print(f"3. demo API, {latency_ms} ms per request, 10 chains x {LINKS} links, median of {args.repeat} "
          f"interleaved runs: serial {medians['serial'] * 1e3:.1f} ms, concurrent {medians['concurrent'] * 1e3:.1f} "
          f"ms, critical path {critical * 1e3:.0f} ms")
    print(f"   serial / concurrent {medians['serial'] / medians['concurrent']:.2f}x (target >= 4x), "
          f"concurrent / critical path {medians['concurrent'] / critical:.2f}x (target <= 1.5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
