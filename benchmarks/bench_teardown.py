"""Scenario teardown: concurrent against serial, on the demo API with 20 ms of latency per request.

A test builds 10 independent chains of 5 linked resources (each needs the one before it), so teardown has
50 deletions and a critical path of 5. Serial teardown costs about 50 x 20 ms; concurrent teardown should
cost about the critical path, 5 x 20 ms. Targets: concurrent >= 4x faster than serial, and <= 1.5x the
critical path. Run: python benchmarks/bench_teardown.py [--repeat N]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
import unittest
from typing import Any

from testdata_kit import DataTestCase, Registry, creates, demo, ledger
from testdata_kit.http import ApiClient

LATENCY_MS = 20
CHAINS = 10
LINKS = 5


def declare(api: ApiClient) -> Registry:
    """Kinds link0..link4, each a demo product that needs the previous link, so deletion is a chain."""
    kinds = Registry()
    products = api.collection("products")
    for level in range(LINKS):
        needs = (f"link{level - 1}",) if level else ()

        def make(**parents: Any) -> Any:
            return products.post(name="Link", price=1)

        creates(f"link{level}", needs=needs, registry=kinds, delete=products.delete)(make)
    return kinds


def measure(kinds: Registry, workers: int) -> float:
    """Run one test that builds the chains, and return how long its cleanups (the teardown) took."""
    timing: list[float] = []

    class Chains(DataTestCase):
        registry = kinds

        def test_chains(self) -> None:
            s = self.scenario(workers=workers)
            for _ in range(CHAINS):
                s.branch().create(f"link{LINKS - 1}")  # creates the 4 links it needs on demand

        def doCleanups(self) -> Any:
            started = time.perf_counter()
            try:
                return super().doCleanups()
            finally:
                timing.append(time.perf_counter() - started)

    result = unittest.TestResult()
    with ledger.isolated() as books:
        Chains("test_chains").run(result)
    if not result.wasSuccessful() or books.deleted != CHAINS * LINKS or books.leaked:
        raise SystemExit(f"benchmark run failed: {result.errors + result.failures} {books.summary()}")
    return timing[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="teardowns measured per mode (default: 5)")
    args = parser.parse_args()
    with demo.running(latency_ms=LATENCY_MS) as server, ApiClient(server.url) as api:
        kinds = declare(api)
        measure(kinds, 16)  # warm-up: connections, thread start, imports
        serial, concurrent = [], []
        for _ in range(args.repeat):  # interleaved, so that machine noise hits both modes alike
            serial.append(measure(kinds, 1))
            concurrent.append(measure(kinds, 16))
        assert server.counts()["products"] == 0
    critical = LINKS * LATENCY_MS / 1000
    s_med, c_med = statistics.median(serial), statistics.median(concurrent)
    out = io.StringIO()
    print(f"teardown of {CHAINS} chains x {LINKS} links, {LATENCY_MS} ms per request, {args.repeat} runs", file=out)
    print(f"  serial (workers=1):      median {s_med * 1000:7.1f} ms", file=out)
    print(f"  concurrent (workers=16): median {c_med * 1000:7.1f} ms", file=out)
    print(f"  critical path:                  {critical * 1000:7.1f} ms", file=out)
    speedup, overhead = s_med / c_med, c_med / critical
    print(f"  serial / concurrent:      {speedup:5.2f}x  (target >= 4x: {'met' if speedup >= 4 else 'MISSED'})",
          file=out)
    print(f"  concurrent / critical:    {overhead:5.2f}x  (target <= 1.5x: {'met' if overhead <= 1.5 else 'MISSED'})",
          file=out)
    print(out.getvalue(), end="")
    return 0 if speedup >= 4 and overhead <= 1.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
