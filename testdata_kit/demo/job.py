"""The main job, ``python -m testdata_kit demo``: run the example suite twice against a fresh demo API and audit it."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import io
import os
import sys
import time
import types
import unittest
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from testdata_kit import ledger
from testdata_kit.demo.server import running

__all__ = ["DEFAULT_SUITE", "RunOutcome", "main"]

DEFAULT_SUITE = "testdata_kit.demo.examples"
# The variable the example suite reads (examples/shop.py spells it out too, so that the example reads like a
# team's own suite, which would not import its API address from the library that runs it).
URL_ENV = "SHOP_API_URL"


@dataclass
class RunOutcome:
    """What one run of the suite did: its unittest result, time taken and per-kind accounting."""

    tests: int
    problems: list[str]
    skipped: int
    seconds: float
    output: str
    by_kind: dict[str, list[int]] = field(default_factory=dict)
    leaks: list[str] = field(default_factory=list)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m testdata_kit demo",
        description="Start the demo shop API on a free loopback port, run the bundled example suite twice, and "
        "report tests passed, resources created/deleted/leaked by kind, and the row counts before and after. "
        "Exits 1 on any failure, leak or changed row count, and 2 on bad options such as a --suite that does "
        "not exist.",
    )
    parser.add_argument("--runs", type=int, default=2, metavar="N", help="times to run the suite (default: 2)")
    parser.add_argument("--latency", type=float, default=0, metavar="MS", help="slow every API request by MS ms")
    parser.add_argument(
        "--fail-rate", type=float, default=0.0, metavar="P",
        help="answer DELETEs with 503 at probability P, to watch the retries keep the database clean",
    )
    parser.add_argument("--seed", type=int, help="seed of the injected failures")
    parser.add_argument(
        "--suite", default=DEFAULT_SUITE, metavar="NAME",
        help="test module, TestCase class or test method to run instead, as a dotted name like 'python -m unittest' "
        f"takes; it finds the API through ${URL_ENV} (default: %(default)s)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show unittest's output of every run")
    return parser


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def _missing(name: str) -> str | None:
    """Return why *name* names no module, class or test that unittest could load, or None when it may."""
    parts = name.split(".")
    if not all(part.isidentifier() for part in parts):
        return "that is not a dotted name"
    found = 0
    for index in range(1, len(parts) + 1):
        try:
            spec = importlib.util.find_spec(".".join(parts[:index]))
        except Exception:  # a package that fails to import: the run will show its traceback as a failed test
            return None
        if spec is None:
            break
        found = index
        if spec.submodule_search_locations is None:
            break  # a plain module: finding a submodule would import it, and the rest are names inside it anyway
    if found == 0:
        return f"there is no module named {parts[0]!r}"
    if found == len(parts):
        return None  # a module: it is imported only once the API runs, so it may read $SHOP_API_URL at import
    module_name = ".".join(parts[:found])
    try:
        target: Any = importlib.import_module(module_name)
    except Exception:
        return None
    for index in range(found, len(parts)):
        if not hasattr(target, parts[index]):
            if hasattr(target, "__path__"):  # a package: the name most likely meant a module in it
                return f"there is no module named {'.'.join(parts[: index + 1])!r}"
            return f"{'.'.join(parts[:index])!r} has no {parts[index]!r}"
        target = getattr(target, parts[index])
    # What unittest's loader accepts. It also calls any other callable, hoping for a suite: left to the run.
    loadable = isinstance(target, (types.ModuleType, unittest.TestSuite)) or (
        issubclass(target, unittest.TestCase) if isinstance(target, type) else callable(target)
    )
    if not loadable:
        what = "class" if isinstance(target, type) else type(target).__name__
        return f"{name!r} is a {what}, not a test module, TestCase class or test method"
    return None


def _run_suite(name: str, verbose: bool) -> RunOutcome:
    suite = unittest.defaultTestLoader.loadTestsFromName(name)
    buffer = io.StringIO()
    started = time.perf_counter()
    with ledger.isolated() as books:
        result = unittest.TextTestRunner(stream=buffer, verbosity=2 if verbose else 1).run(suite)
        books.close()  # whatever is still alive after the suite's last cleanup will never be deleted
    seconds = time.perf_counter() - started
    broken = [test for test, _ in result.errors + result.failures] + list(result.unexpectedSuccesses)
    problems = list(dict.fromkeys(test.id() for test in broken))  # a test with two errors counts once
    return RunOutcome(
        result.testsRun, problems, len(result.skipped), seconds, buffer.getvalue(),
        {kind: list(counts) for kind, counts in books.by_kind.items()},
        [f"{leak.text} in {leak.test_id}\n    {leak.reason}" for leak in books.leaks],
    )


def _kind_table(runs: list[RunOutcome]) -> list[str]:
    totals: dict[str, list[int]] = {}
    for run in runs:
        for kind, counts in run.by_kind.items():
            into = totals.setdefault(kind, [0, 0, 0, 0])
            for index, value in enumerate(counts):
                into[index] += value
    # Kept resources (TESTDATA_KEEP=failed) are rare; their column appears only when created != deleted + leaked
    # would otherwise leave the reader wondering where the rest went.
    columns = [("created", 0), ("deleted", 1)] + ([("kept", 2)] if any(c[2] for c in totals.values()) else [])
    columns.append(("leaked", 3))
    width = max([len(kind) for kind in totals] + [5])
    lines = ["  " + "kind".ljust(width) + "".join(f"  {title}" for title, _ in columns)]
    rows = [(kind, totals[kind]) for kind in sorted(totals)]
    rows.append(("total", [sum(counts[i] for counts in totals.values()) for i in range(4)]))
    for kind, counts in rows:
        lines.append("  " + kind.ljust(width) + "".join(f"  {counts[i]:{len(title)}d}" for title, i in columns))
    return lines


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items())


def _intro(url: str, suite: str, runs: int, out: TextIO) -> None:
    print(f"Demo shop API: {url} (in this process, empty in-memory database, stopped at the end)", file=out)
    print(f"Suite: {suite}, run {_times(runs)}", file=out, flush=True)


def report(runs: list[RunOutcome], before: dict[str, int], after: dict[str, int], out: TextIO) -> int:
    """Print the readable report of the runs and return the exit status: 0 when all is clean, else 1."""
    for number, run in enumerate(runs, 1):
        skipped = f", {run.skipped} skipped" if run.skipped else ""
        if run.problems:
            verdict = f"{len(run.problems)} FAILED{skipped}"
        elif run.tests:
            verdict = f"{'passed' if run.tests == 1 else 'all passed'}{skipped}"
        else:
            verdict = "none ran"
        print(f"Run {number}: {_plural(run.tests, 'test')}, {verdict} ({run.seconds:.2f} s)", file=out)
        for problem in run.problems:
            print(f"  failed: {problem}", file=out)
    together = {1: "", 2: ", both runs together"}.get(len(runs), f", all {len(runs)} runs together")
    print(f"Test data by kind{together}:", file=out)
    print("\n".join(_kind_table(runs)), file=out)
    leaks = [leak for run in runs for leak in run.leaks]
    for leak in leaks:
        print(f"  leaked: {leak}", file=out)
    equal = before == after
    print(f"Database rows before: {_counts(before)}", file=out)
    print(f"Database rows after:  {_counts(after)}  ({'unchanged' if equal else 'CHANGED'})", file=out)
    failed = len({problem for run in runs for problem in run.problems})
    if failed or leaks or not equal:
        reasons = [text for text, bad in ((f"{_plural(failed, 'test')} failed", failed),
                                          (f"{_plural(len(leaks), 'resource')} leaked", leaks),
                                          ("the row counts changed", not equal)) if bad]
        print(f"Result: FAILED: {', '.join(reasons)}.", file=out)
        return 1
    passed = {1: "the run passed", 2: "both runs passed"}.get(len(runs), f"all {len(runs)} runs passed")
    print(f"Result: OK: {passed}, nothing leaked, the database is as it was.", file=out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the main job and return 0 when every run passed and nothing leaked, else 1 (2 for bad options)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs {args.runs!r} must be 1 or more")
    problem = _missing(args.suite)
    if problem is not None:
        parser.error(
            f"--suite {args.suite!r} cannot be run: {problem}. Give the dotted name of a test module, TestCase "
            f"class or test method importable from here, as 'python -m unittest' takes it "
            f"(default: {DEFAULT_SUITE})"
        )
    options: dict[str, Any] = {"latency_ms": args.latency, "fail_rate": args.fail_rate, "seed": args.seed}
    if args.fail_rate:
        options["fail_methods"] = "DELETE"
    try:
        server = running(**options)
    except ValueError as error:
        parser.error(str(error))
    previous = os.environ.get(URL_ENV)
    with server:
        _intro(server.url, args.suite, args.runs, sys.stdout)
        os.environ[URL_ENV] = server.url
        try:
            before = server.counts()
            runs = []
            for number in range(1, args.runs + 1):
                runs.append(_run_suite(args.suite, args.verbose))
                if args.verbose or runs[-1].problems:
                    sys.stdout.write(f"--- Run {number}, unittest's output:\n{runs[-1].output}---\n")
            after = server.counts()
        finally:
            if previous is None:
                os.environ.pop(URL_ENV, None)
            else:
                os.environ[URL_ENV] = previous
        return report(runs, before, after, sys.stdout)

if __name__ == "__main__":
    raise SystemExit(main())
