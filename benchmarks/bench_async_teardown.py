"""Async scenario teardown against its critical path, on the demo API with 20 ms of latency per request.

A test of an AsyncDataTestCase builds N independent chains of 5 linked resources (each needs the one before
it) through an AsyncApiClient, then awaits the scenario's teardown. Its critical path is one chain: 5
deletions one after another. The demo API runs in a process of its own, as a real API would. The baseline
is measured in the same run: the teardown of 1 chain. Target: the teardown of 10 chains costs <= 1.2x the
baseline. IsolatedAsyncioTestCase runs in asyncio's debug mode; a row without it, and one of the sync
scenario's threads, are measured alongside for comparison. Variants are interleaved; medians of --repeat runs.
Run: python benchmarks/bench_async_teardown.py [--repeat N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import statistics
import subprocess
import sys
import time
import unittest
import urllib.request
from collections.abc import Iterator
from typing import Any

from testdata_kit import AsyncDataTestCase, DataTestCase, Registry, creates, ledger
from testdata_kit.http import ApiClient
from testdata_kit.http.aio import AsyncApiClient

LATENCY_MS = 20
LINKS = 5
SIZES = (1, 5, 10)
TARGET = 1.2


def declare(api: AsyncApiClient) -> Registry:
    """Async kinds link0..link4, each a demo product that needs the previous link, so deletion is a chain."""
    kinds = Registry()
    products = api.collection("products")
    for level in range(LINKS):
        needs = (f"link{level - 1}",) if level else ()

        async def make(**parents: Any) -> Any:
            return await products.post(name="Link", price=1)

        creates(f"link{level}", needs=needs, registry=kinds, delete=products.delete)(make)
    return kinds


def measure(url: str, chains: int, debug: bool = True) -> float:
    """Run one async test that builds *chains* chains, and return how long awaiting their teardown took.

    :param debug: keep asyncio's debug mode, which IsolatedAsyncioTestCase turns on (it records a stack for
        every scheduled callback, about 3x the CPU of the teardown).
    """
    timing: list[float] = []

    class Chains(AsyncDataTestCase):
        async def asyncSetUp(self) -> None:
            self.api = AsyncApiClient(url)
            self.addAsyncCleanup(self.api.aclose)
            loop = asyncio.get_running_loop()
            loop.slow_callback_duration = 5  # debug mode's report would cost time
            loop.set_debug(debug)

        async def test_chains(self) -> None:
            self.registry = declare(self.api)
            s = self.scenario()
            # One first item proves the address (a GET) and one empty 204 the deletions, outside the timing.
            await s.branch().create("link0")
            await s.teardown()
            for _ in range(chains):
                await s.branch().create(f"link{LINKS - 1}")  # creates the 4 links it needs on demand
            started = time.perf_counter()
            await s.teardown()
            timing.append(time.perf_counter() - started)

    result = unittest.TestResult()
    with ledger.isolated() as books:
        Chains("test_chains").run(result)
    if not result.wasSuccessful() or books.deleted != chains * LINKS + 1 or books.leaked:
        raise SystemExit(f"benchmark run failed: {result.errors + result.failures} {books.summary()}")
    return timing[0]


def measure_threads(url: str, chains: int) -> float:
    """For comparison: the sync scenario's teardown of the same chains, by 16 threads and the requests client."""
    timing: list[float] = []

    class Chains(DataTestCase):
        def test_chains(self) -> None:
            api = ApiClient(url)
            self.addCleanup(api.close)
            products = api.collection("products")
            self.registry = Registry()
            for level in range(LINKS):
                needs = (f"link{level - 1}",) if level else ()
                creates(f"link{level}", needs=needs, registry=self.registry, delete=products.delete)(
                    lambda **parents: products.post(name="Link", price=1))
            s = self.scenario(workers=16)
            s.branch().create("link0")
            s.teardown()
            for _ in range(chains):
                s.branch().create(f"link{LINKS - 1}")
            started = time.perf_counter()
            s.teardown()
            timing.append(time.perf_counter() - started)

    result = unittest.TestResult()
    with ledger.isolated() as books:
        Chains("test_chains").run(result)
    if not result.wasSuccessful() or books.deleted != chains * LINKS + 1 or books.leaked:
        raise SystemExit(f"benchmark run failed: {result.errors + result.failures} {books.summary()}")
    return timing[0]


@contextlib.contextmanager
def demo_process(latency_ms: int) -> Iterator[str]:
    """Serve the demo API from a process of its own, so that its threads do not share the client's GIL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "testdata_kit", "serve-demo", "--port", str(port),
                               "--latency", str(latency_ms)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/users", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the demo API did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="teardowns measured per size (default: 7)")
    args = parser.parse_args()
    with demo_process(LATENCY_MS) as url:
        measure(url, max(SIZES))  # warm-up: imports, the TLS context, the first connections
        runs: dict[int, list[float]] = {size: [] for size in SIZES}
        threads: list[float] = []
        quiet: list[float] = []
        for _ in range(args.repeat):  # interleaved, so that machine noise hits every variant alike
            for size in SIZES:
                runs[size].append(measure(url, size))
            quiet.append(measure(url, max(SIZES), debug=False))
            threads.append(measure_threads(url, max(SIZES)))
    baseline = statistics.median(runs[1])
    print(f"async teardown of N chains x {LINKS} links, {LATENCY_MS} ms per request, medians of {args.repeat} runs")
    print(f"  baseline: the critical path, 1 chain (5 deletions in a row): {baseline * 1000:6.1f} ms "
          f"(latency alone: {LINKS * LATENCY_MS} ms)")
    print(f"  {'chains':>6} {'deletions':>9} {'median':>9} {'/ baseline':>10}")
    for size in SIZES:
        median = statistics.median(runs[size])
        print(f"  {size:>6} {size * LINKS:>9} {median * 1000:>7.1f}ms {median / baseline:>9.2f}x")
    nodebug, sync = statistics.median(quiet), statistics.median(threads)
    top = max(SIZES)
    print(f"  {top} chains, asyncio debug mode off:           {nodebug * 1000:7.1f}ms {nodebug / baseline:5.2f}x")
    print(f"  {top} chains, the sync scenario with 16 threads: {sync * 1000:7.1f}ms {sync / baseline:5.2f}x")
    ratio = statistics.median(runs[max(SIZES)]) / baseline
    print(f"  {max(SIZES)} chains / critical path: {ratio:.2f}x (target <= {TARGET}x: "
          f"{'met' if ratio <= TARGET else 'MISSED'})")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
