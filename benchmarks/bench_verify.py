"""Verified deletion: what verify="auto" and verify="always" cost over verify="never" (trusting status codes).

One test creates N users through a fresh collection and its cleanup deletes them, on the demo API on loopback
(1 ms of latency per request, as a fast local API has). "never" sends N POSTs and N DELETEs; "auto" adds one
GET at the first create (it proves the address template) and one after the first empty 204 (it proves that
such an answer means deleted); "always" adds a GET after every DELETE. The baseline is "never". Variants are
interleaved, each size is measured --repeat times, and the medians and ratios are printed, one row per size.
Run: python benchmarks/bench_verify.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time
import unittest

from testdata_kit import DataTestCase, demo, ledger
from testdata_kit.http import ApiClient

SIZES = (10, 100)
MODES = ("never", "auto", "always")
LATENCY_MS = 1


def measure(api: ApiClient, size: int, verify: str) -> float:
    """Return the seconds one test creating *size* users and deleting them takes, under *verify*."""
    users = api.collection("users", verify=verify)

    class Users(DataTestCase):
        def test_users(self) -> None:
            for _ in range(size):
                users.create(email=f"{time.perf_counter_ns()}@example.com", name="Bench")

    result = unittest.TestResult()
    started = time.perf_counter()
    with ledger.isolated() as books:
        Users("test_users").run(result)
    elapsed = time.perf_counter() - started
    if not result.wasSuccessful() or books.deleted != size or books.leaked:
        raise SystemExit(f"benchmark run failed: {result.errors + result.failures} {books.summary()}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per size and mode (default: 7)")
    args = parser.parse_args()
    print(f"create N users, then clean up, demo API with {LATENCY_MS} ms per request; medians of {args.repeat} runs")
    print(f"{'N':>5} {'never':>10} {'auto':>10} {'always':>10} {'auto/never':>11} {'always/never':>13}")
    with demo.running(latency_ms=LATENCY_MS) as server, ApiClient(server.url) as api:
        for mode in MODES:  # warm-up: connections, imports
            measure(api, 5, mode)
        for size in SIZES:
            times: dict[str, list[float]] = {mode: [] for mode in MODES}
            for _ in range(args.repeat):  # interleaved, so that machine noise hits every mode alike
                for mode in MODES:
                    times[mode].append(measure(api, size, mode))
            med = {mode: statistics.median(values) for mode, values in times.items()}
            print(f"{size:>5} {med['never'] * 1000:8.1f}ms {med['auto'] * 1000:8.1f}ms {med['always'] * 1000:8.1f}ms"
                  f" {med['auto'] / med['never']:10.2f}x {med['always'] / med['never']:12.2f}x")
        assert server.counts()["users"] == 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
