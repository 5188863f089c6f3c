"""Async scenario teardown against its critical path, on the demo API with 20 ms of latency per request.

A test of an AsyncDataTestCase builds N independent chains of 5 linked resources (each needs the one before
it) through an AsyncApiClient, then awaits the scenario's teardown. The test runs as users' tests run: under
IsolatedAsyncioTestCase's own event loop settings (asyncio's debug mode on, slow-callback reports at 0.1 s).
The limit is the critical path: 1 chain, 5 deletions one after another, measured in the same run (its floor is
5 x 20 ms of latency). Target: the teardown of 10 chains costs <= 1.2x the critical path. The demo API runs in
a process of its own, as a real API would; the CPU seconds of both processes during each teardown are printed,
to show which side is busy. For comparison, rows without asyncio's debug mode and with the sync scenario's
threads. Variants are interleaved (order reversed every round); medians of --repeat runs (at least 7).
Run: python benchmarks/bench_async_teardown.py [--repeat N]
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import statistics
import subprocess
import sys
import time
import unittest
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import _bench

from testdata_kit import AsyncDataTestCase, DataTestCase, Registry, creates, ledger
from testdata_kit.http import ApiClient
from testdata_kit.http.aio import AsyncApiClient

LATENCY_MS = 20
LINKS = 5
SIZES = (1, 5, 10)
TARGET = 1.2


class Sample:
    """One measured teardown: its wall time and the CPU time of the test's process and of the API's, in seconds."""

    def __init__(self, wall: float, cpu: float, server_cpu: float | None) -> None:
        self.wall = wall
        self.cpu = cpu
        self.server_cpu = server_cpu


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


def measure(url: str, server: int, chains: int, debug: bool = True) -> Sample:
    """Run one async test that builds *chains* chains, and time awaiting their teardown.

    :param debug: ``True`` leaves the event loop as IsolatedAsyncioTestCase makes it (asyncio's debug mode
        on); ``False`` turns debug mode off, for the comparison row only.
    """
    samples: list[Sample] = []

    class Chains(AsyncDataTestCase):
        async def asyncSetUp(self) -> None:
            self.api = AsyncApiClient(url)
            self.addAsyncCleanup(self.api.aclose)
            if not debug:
                asyncio.get_running_loop().set_debug(False)

        async def test_chains(self) -> None:
            self.registry = declare(self.api)
            s = self.scenario()
            # One first item proves the address (a GET) and one empty 204 the deletions, outside the timing.
            await s.branch().create("link0")
            await s.teardown()
            for _ in range(chains):
                await s.branch().create(f"link{LINKS - 1}")  # creates the 4 links it needs on demand
            samples.append(await timed(s.teardown, server))

    result = unittest.TestResult()
    with ledger.isolated() as books:
        Chains("test_chains").run(result)
    if not result.wasSuccessful() or books.deleted != chains * LINKS + 1 or books.leaked:
        raise SystemExit(f"benchmark run failed: {result.errors + result.failures} {books.summary()}")
    return samples[0]


def timed(teardown: Callable[[], Any], server: int) -> Any:
    """Return an awaitable of the :class:`Sample` of ``await teardown()``."""

    async def run() -> Sample:
        cpu, served, started = time.process_time(), process_cpu(server), time.perf_counter()
        await teardown()
        wall = time.perf_counter() - started
        after = process_cpu(server)
        return Sample(wall, time.process_time() - cpu, None if after is None or served is None else after - served)

    return run()


def measure_sleeps(chains: int) -> Sample:
    """For comparison: the same chains with no HTTP, each deletion an ``asyncio.sleep`` of the latency.

    What is left over the sleeps is the library's own cost (and the debug mode's share of it).
    """
    samples: list[Sample] = []

    async def delete(value: object) -> None:
        await asyncio.sleep(LATENCY_MS / 1000)

    class Chains(AsyncDataTestCase):
        async def test_chains(self) -> None:
            self.registry = Registry()
            for level in range(LINKS):
                needs = (f"link{level - 1}",) if level else ()

                async def make(**parents: Any) -> dict[str, int]:
                    return {"id": 1}

                creates(f"link{level}", needs=needs, registry=self.registry, delete=delete)(make)
            s = self.scenario()
            for _ in range(chains):
                await s.branch().create(f"link{LINKS - 1}")
            samples.append(await timed(s.teardown, os.getpid()))

    result = unittest.TestResult()
    with ledger.isolated() as books:
        Chains("test_chains").run(result)
    if not result.wasSuccessful() or books.deleted != chains * LINKS or books.leaked:
        raise SystemExit(f"benchmark run failed: {result.errors + result.failures} {books.summary()}")
    samples[0].server_cpu = None
    return samples[0]


def measure_threads(url: str, server: int, chains: int) -> Sample:
    """For comparison: the sync scenario's teardown of the same chains, by 16 threads and the requests client."""
    samples: list[Sample] = []

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
            cpu, served, started = time.process_time(), process_cpu(server), time.perf_counter()
            s.teardown()
            wall = time.perf_counter() - started
            after = process_cpu(server)
            samples.append(Sample(wall, time.process_time() - cpu,
                                  None if after is None or served is None else after - served))

    result = unittest.TestResult()
    with ledger.isolated() as books:
        Chains("test_chains").run(result)
    if not result.wasSuccessful() or books.deleted != chains * LINKS + 1 or books.leaked:
        raise SystemExit(f"benchmark run failed: {result.errors + result.failures} {books.summary()}")
    return samples[0]


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) the process *pid* has used, from /proc; ``None`` where there is no /proc."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def demo_process(latency_ms: int) -> Iterator[tuple[str, int]]:
    """Serve the demo API from a process of its own, so that its threads do not share the client's GIL.

    Yields its URL and its process id.
    """
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
        yield url, server.pid
    finally:
        server.terminate()
        server.wait(10)


def main() -> int:
    args = _bench.parser(__doc__.splitlines()[0]).parse_args()
    repeat = 3 if args.quick else args.repeat
    top = max(SIZES)
    with demo_process(LATENCY_MS) as (url, pid):
        measure(url, pid, top)  # warm-up: imports, the TLS context, the first connections
        variants: dict[str, Callable[[], Sample]] = {f"{n} chains": functools.partial(measure, url, pid, n)
                                                     for n in SIZES}
        variants[f"{top} chains, debug off"] = functools.partial(measure, url, pid, top, debug=False)
        variants[f"{top} chains, sync threads"] = functools.partial(measure_threads, url, pid, top)
        variants["1 chains, no HTTP"] = functools.partial(measure_sleeps, 1)
        variants[f"{top} chains, no HTTP"] = functools.partial(measure_sleeps, top)
        samples: dict[str, list[Sample]] = {name: [] for name in variants}
        names = list(variants)
        for round_number in range(repeat):  # interleaved, the order reversed every round
            for name in names if round_number % 2 == 0 else reversed(names):
                samples[name].append(variants[name]())

    def median(name: str, field: str) -> float | None:
        values = [getattr(sample, field) for sample in samples[name]]
        return None if None in values else statistics.median(values)

    limit = median("1 chains", "wall")
    assert limit is not None
    print(f"async teardown of N chains x {LINKS} links, {LATENCY_MS} ms per request, under IsolatedAsyncioTestCase "
          f"(asyncio debug mode on), medians of {repeat} interleaved runs")
    print(f"  limit = the critical path: 1 chain, {LINKS} deletions in a row: {limit * 1000:.1f} ms "
          f"(its latency alone: {LINKS * LATENCY_MS} ms)")
    print(f"  {'variant':<26} {'deletions':>9} {'median':>9} {'/ critical path':>15} {'test CPU':>9} {'API CPU':>8}")
    for name in names:
        if name == "1 chains, no HTTP":
            print("  without HTTP, each deletion a 20 ms sleep (the library's own cost), against 1 chain of them:")
        wall, cpu, served = median(name, "wall"), median(name, "cpu"), median(name, "server_cpu")
        base = median("1 chains, no HTTP", "wall") if name.endswith("no HTTP") else limit
        assert wall is not None and cpu is not None and base is not None
        chains = int(name.split()[0])
        shown = "     n/a" if served is None else f"{served * 1000:6.0f}ms"
        print(f"  {name:<26} {chains * LINKS:>9} {wall * 1000:>7.1f}ms {wall / base:>14.2f}x "
              f"{cpu * 1000:>7.0f}ms {shown}")
    ratio = (median(f"{top} chains", "wall") or 0) / limit
    floor = (median(f"{top} chains", "cpu") or 0) / limit
    # One event loop runs every deletion's client code: its CPU time is a floor no concurrency can go under.
    print(f"  {top} chains: the test process's CPU alone is {floor:.2f}x the critical path")
    verdict = "met" if ratio <= TARGET else "MISSED"
    print(f"  {top} chains / critical path: {ratio:.2f}x (target <= {TARGET}x: {verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
