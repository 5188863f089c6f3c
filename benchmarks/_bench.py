"""What every benchmark here shares: interleaved repetitions, medians, and the printed ratio.

Each benchmark measures its claim and its baseline in the same run: the variants alternate (A B, then B A, ...)
so that a change in the machine's load hits all of them alike, each is measured at least 7 times, and the
median is printed with its ratio to the named baseline. Numbers are printed for people to read; the scripts
exit 0 whatever they are, because shared machines are noisy.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

SIZES = (10, 100, 1_000, 10_000, 100_000)


def parser(description: str, repeat: int = 7) -> argparse.ArgumentParser:
    """An argument parser with ``--repeat`` (at least 7 by default) and ``--quick`` (fewer, smaller runs)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repeat", type=int, default=repeat, help=f"measurements per variant (default: {repeat})")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a first look (about a minute)")
    return parser


def interleaved(variants: dict[str, Callable[[], float]], repeat: int) -> dict[str, float]:
    """Run each variant *repeat* times, alternating their order every round; return the median of each."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for round_number in range(repeat):
        for name in names if round_number % 2 == 0 else reversed(names):
            samples[name].append(variants[name]())
    return {name: statistics.median(values) for name, values in samples.items()}


def row(label: str, medians: dict[str, float], baseline: str, unit: str = "us", scale: float = 1e6) -> str:
    """One printed row: each median in *unit*, then the ratio of every other variant to *baseline*."""
    base = medians[baseline]
    parts = [f"{name} {value * scale:9.2f} {unit}" for name, value in medians.items()]
    ratios = [f"{name} / {baseline} {value / base:5.2f}x" for name, value in medians.items() if name != baseline]
    return f"{label:>10}  " + "  ".join(parts) + "  |  " + "  ".join(ratios)


def per_resource(create: Callable[[int], object], case: type, count: int, observer: object = None) -> float:
    """Seconds per resource to make *count* with ``create(n)`` in one test of *case*, then run its cleanups.

    The timed loop of the journal benchmarks: *observer* (a journal, or another ledger observer) listens in a
    ledger of its own, as the core's journal does; opening and closing it are the caller's, untimed.
    """
    from testdata_kit import _scopes, ledger

    with ledger.isolated() as books:
        if observer is not None:
            books.observers.append(observer)
        test = case()
        _scopes.push_test(test)
        started = time.perf_counter()
        for n in range(count):
            create(n)
        _scopes.pop_test(test)
        test.doCleanups()
        return (time.perf_counter() - started) / count
