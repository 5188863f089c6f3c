"""Benchmark: ``python -m testdata_kit run -j 2`` and ``-j 4`` against a serial run of an I/O-bound suite.

The suite talks to the demo API started with ``--latency 50``, so every request waits 50 ms on the server, as
an API test suite waits on a real service. Each configuration runs the same suite against the same server in
the same invocation of this script; the script prints the median wall time of each, and the speed-ups.

Targets: ``-j 2`` at least 1.8x and ``-j 4`` at least 3.2x faster than ``-j 1``. Plain ``python -m unittest``
is printed as a second baseline, to show what the worker processes cost.

A second, CPU-trivial suite (tests that assert ``True``) runs next to it: there nothing hides the runner's own
cost (processes, discovery, reporting each outcome), printed as a ratio to plain ``python -m unittest``.

    python benchmarks/bench_parallel.py [--repeat 7] [--classes 16] [--tests 4] [--trivial 2000]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Each test creates a user and deletes it: two requests, about 100 ms of server latency.
SUITE = '''
import os
import unittest

import requests

from testdata_kit import unique

API = os.environ["DEMO_API"]


class UsersTests{n}(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.session = requests.Session()
        cls.addClassCleanup(cls.session.close)
{tests}
'''

TEST = '''
    def test_{t}(self):
        response = self.session.post(f"{{API}}/users", json={{"email": unique.email(), "name": unique.name()}})
        self.assertEqual(response.status_code, 201)
        self.session.delete(f"{{API}}/users/{{response.json()['id']}}").raise_for_status()
'''


TRIVIAL = '''
import unittest


class Trivial{n}(unittest.TestCase):
{tests}
'''


def write_trivial_suite(folder: pathlib.Path, tests: int, per_class: int = 10) -> None:
    body = "".join(f"    def test_{t}(self):\n        self.assertTrue(True)\n\n" for t in range(per_class))
    for n in range(max(1, tests // per_class)):
        (folder / f"case_trivial{n}.py").write_text(TRIVIAL.format(n=n, tests=body), encoding="utf-8")


def write_suite(folder: pathlib.Path, classes: int, tests: int) -> None:
    body = "".join(TEST.format(t=t) for t in range(tests))
    for n in range(classes):
        (folder / f"case_users{n}.py").write_text(SUITE.format(n=n, tests=body), encoding="utf-8")


def start_server(latency: int) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "testdata_kit.demo.server", "--port", "0", "--latency", str(latency)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    assert server.stdout is not None
    line = server.stdout.readline()  # "Demo API listening on http://127.0.0.1:PORT"
    return server, line.split()[-1]


def timed(command: list[str], folder: pathlib.Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    process = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr[-3000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--classes", type=int, default=16)
    parser.add_argument("--tests", type=int, default=4, help="tests per class")
    parser.add_argument("--latency", type=int, default=50, help="demo API latency in ms")
    parser.add_argument("--trivial", type=int, default=2000, help="tests in the CPU-trivial suite (0: skip it)")
    args = parser.parse_args()
    server, url = start_server(args.latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = pathlib.Path(tmp)
            write_suite(folder, args.classes, args.tests)
            env = {**os.environ, "DEMO_API": url, "PYTHONPATH": str(ROOT)}
            discover = ["-s", ".", "-p", "case_*.py"]
            runs = {
                "python -m unittest": [sys.executable, "-m", "unittest", "discover", *discover],
                "run -j 1": [sys.executable, "-m", "testdata_kit.run.runner", "-j", "1", *discover],
                "run -j 2": [sys.executable, "-m", "testdata_kit.run.runner", "-j", "2", *discover],
                "run -j 4": [sys.executable, "-m", "testdata_kit.run.runner", "-j", "4", *discover],
            }
            times: dict[str, list[float]] = {name: [] for name in runs}
            for _ in range(args.repeat):
                for name, command in runs.items():  # interleaved, so load changes hit every configuration
                    times[name].append(timed(command, folder, env))
    finally:
        server.terminate()
        server.wait()
    medians = {name: statistics.median(values) for name, values in times.items()}
    total = args.classes * args.tests
    print(f"{total} tests in {args.classes} classes, 2 requests each, demo API latency {args.latency} ms, "
          f"median of {args.repeat} runs on {os.cpu_count()} CPUs")
    for name, median in medians.items():
        print(f"  {name:<20} {median:7.2f} s")
    serial = medians["run -j 1"]
    for workers, target in (("2", 1.8), ("4", 3.2)):
        ratio = serial / medians[f"run -j {workers}"]
        verdict = "meets" if ratio >= target else "MISSES"
        print(f"  -j {workers} vs -j 1: {ratio:.2f}x (target {target}x: {verdict})")
    print(f"  -j 1 vs python -m unittest: {medians['python -m unittest'] / serial:.2f}x (worker overhead)")
    if args.trivial:
        trivial(args.trivial, args.repeat)
    return 0


def trivial(count: int, repeat: int) -> None:
    """Time the runner on tests that do nothing, against plain unittest: its own overhead, nothing else."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # both sides import from cached bytecode, as usual
    discover = ["-s", ".", "-p", "case_*.py"]
    runs = {
        "python -m unittest": [sys.executable, "-m", "unittest", "discover", *discover],
        "run -j 1": [sys.executable, "-m", "testdata_kit.run.runner", "-j", "1", *discover],
        "run -j 2": [sys.executable, "-m", "testdata_kit.run.runner", "-j", "2", *discover],
        "run -j 4": [sys.executable, "-m", "testdata_kit.run.runner", "-j", "4", *discover],
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        write_trivial_suite(folder, count)
        for command in runs.values():
            timed(command, folder, env)  # warm up: write the bytecode caches
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(repeat):
            for name, command in runs.items():  # interleaved
                times[name].append(timed(command, folder, env))
    medians = {name: statistics.median(values) for name, values in times.items()}
    plain = medians["python -m unittest"]
    print(f"{count} CPU-trivial tests in {count // 10} classes, median of {repeat} runs on {os.cpu_count()} CPUs "
          f"(the runner's own overhead; baseline: python -m unittest)")
    for name, median in medians.items():
        print(f"  {name:<20} {median:7.2f} s  {median / plain:5.2f}x")


if __name__ == "__main__":
    raise SystemExit(main())
