"""Benchmark: ``python -m testdata_kit check`` on a CPU-trivial suite against three plain ``python -m unittest`` runs.

``check`` runs the suite in five modes (once, again, shuffled, two copies at once, split over ``-j 2``), so it
cannot cost less than the runs it makes; on a suite whose tests do nothing, what shows is the runner's own
overhead: process starts, discovery, and the reporting of every outcome. Both sides run from cached bytecode
(``PYTHONDONTWRITEBYTECODE`` is unset for them, after one warm-up run). The limit compared against is three
plain ``python -m unittest discover`` runs of the same suite (the target is at most 2x, issue #13). The
variants are interleaved (A B A B ...), and the script prints the median of each and the ratio, one row per
suite size.

    python benchmarks/bench_check.py [--repeat 7] [--sizes 500,2000]
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
CLASSES_PER_MODULE = 10
TESTS_PER_CLASS = 10


def write_suite(folder: pathlib.Path, tests: int) -> None:
    """Write *tests* trivial tests: modules of 10 classes of 10 tests each."""
    methods = "".join(f"    def test_{t}(self):\n        self.assertTrue(True)\n\n" for t in range(TESTS_PER_CLASS))
    per_module = CLASSES_PER_MODULE * TESTS_PER_CLASS
    for m in range(max(1, tests // per_module)):
        classes = "".join(f"class Trivial{c}(unittest.TestCase):\n{methods}\n" for c in range(CLASSES_PER_MODULE))
        (folder / f"case_trivial{m}.py").write_text(f"import unittest\n\n\n{classes}", encoding="utf-8")


def timed(command: list[str], folder: pathlib.Path, env: dict[str, str], ok: tuple[int, ...] = (0,)) -> float:
    started = time.perf_counter()
    process = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if process.returncode not in ok:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{process.stdout[-2000:]}"
                         f"{process.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--sizes", default="500,2000", help="comma-separated suite sizes, in tests")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TESTDATA_JOURNAL", None)
    # Both sides import from cached bytecode, as they do on a developer's machine or in CI.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    discover = ["-s", ".", "-p", "case_*.py"]
    print(f"check vs three plain 'python -m unittest discover' runs, CPU-trivial tests, median of {args.repeat} "
          f"interleaved runs on {os.cpu_count()} CPUs (target: check <= 2x)")
    print(f"  {'tests':>6}  {'3x unittest':>11}  {'check':>8}  {'ratio':>6}")
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            folder = pathlib.Path(tmp)
            write_suite(folder, size)
            plain, check = [], []
            timed([sys.executable, "-m", "testdata_kit", "check", *discover], folder, env)  # warm the caches
            for _ in range(args.repeat):
                plain.append(sum(timed([sys.executable, "-m", "unittest", "discover", *discover], folder, env)
                                 for _ in range(3)))
                check.append(timed([sys.executable, "-m", "testdata_kit", "check", *discover], folder, env))
        a, b = statistics.median(plain), statistics.median(check)
        print(f"  {size:>6}  {a:>10.2f}s  {b:>7.2f}s  {b / a:>5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
