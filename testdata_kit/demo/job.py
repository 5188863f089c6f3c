"""The main job, ``python -m testdata_kit demo``: run the example suite twice against a fresh demo API and audit it."""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
import unittest
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from testdata_kit import ledger
from testdata_kit.demo.server import running

__all__ = ["DEFAULT_SUITE", "RunOutcome", "main"]

DEFAULT_SUITE = "testdata_kit.demo.examples"
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
        "Exits 1 on any failure, leak or changed row count.",
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
        help=f"dotted name of the suite to run; it reads the API URL from ${URL_ENV} (default: %(default)s)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show unittest's output of every run")
    return parser


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
        [f"{leak.text} in {leak.test_id}: {leak.reason}" for leak in books.leaks],
    )


def _kind_table(runs: list[RunOutcome]) -> list[str]:
    totals: dict[str, list[int]] = {}
    for run in runs:
        for kind, counts in run.by_kind.items():
            into = totals.setdefault(kind, [0, 0, 0, 0])
            for index, value in enumerate(counts):
                into[index] += value
    width = max([len(kind) for kind in totals] + [5])
    lines = [f"  {'kind'.ljust(width)}  created  deleted  leaked"]
    for kind in sorted(totals):
        created, deleted, _kept, leaked = totals[kind]
        lines.append(f"  {kind.ljust(width)}  {created:7d}  {deleted:7d}  {leaked:6d}")
    created, deleted, leaked = (sum(c[i] for c in totals.values()) for i in (0, 1, 3))
    lines.append(f"  {'total'.ljust(width)}  {created:7d}  {deleted:7d}  {leaked:6d}")
    return lines


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items())


def report(url: str, runs: list[RunOutcome], before: dict[str, int], after: dict[str, int], out: TextIO) -> int:
    """Print the readable report of the runs and return the exit status: 0 when all is clean, else 1."""
    failed = False
    print(f"Demo shop API at {url}", file=out)
    for number, run in enumerate(runs, 1):
        skipped = f", {run.skipped} skipped" if run.skipped else ""
        if run.problems:
            failed = True
            verdict = f"{len(run.problems)} FAILED{skipped}"
        else:
            verdict = f"all passed{skipped}"
        print(f"Run {number}: {run.tests} tests, {verdict} ({run.seconds:.2f} s)", file=out)
        for problem in run.problems:
            print(f"  failed: {problem}", file=out)
    print("Resources, both runs together:" if len(runs) == 2 else "Resources, all runs together:", file=out)
    print("\n".join(_kind_table(runs)), file=out)
    leaks = [leak for run in runs for leak in run.leaks]
    for leak in leaks:
        print(f"  leaked: {leak}", file=out)
    equal = before == after
    print(f"Rows before: {_counts(before)}", file=out)
    print(f"Rows after:  {_counts(after)}  ({'equal' if equal else 'DIFFERENT'})", file=out)
    if failed or leaks or not equal:
        reasons = [text for text, bad in (("tests failed", failed), (f"{len(leaks)} leaked", leaks),
                                          ("row counts changed", not equal)) if bad]
        print(f"Result: FAILED: {', '.join(reasons)}.", file=out)
        return 1
    print(f"Result: OK: {len(runs)} runs passed, nothing leaked, the database is as it was.", file=out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the main job and return 0 when every run passed and nothing leaked, else 1 (2 for bad options)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs {args.runs!r} must be 1 or more")
    options: dict[str, Any] = {"latency_ms": args.latency, "fail_rate": args.fail_rate, "seed": args.seed}
    if args.fail_rate:
        options["fail_methods"] = "DELETE"
    try:
        server = running(**options)
    except ValueError as error:
        parser.error(str(error))
    previous = os.environ.get(URL_ENV)
    with server:
        os.environ[URL_ENV] = server.url
        try:
            before = server.counts()
            runs = []
            for _ in range(args.runs):
                runs.append(_run_suite(args.suite, args.verbose))
                if args.verbose or runs[-1].problems:
                    sys.stdout.write(runs[-1].output)
            after = server.counts()
        finally:
            if previous is None:
                os.environ.pop(URL_ENV, None)
            else:
                os.environ[URL_ENV] = previous
        return report(server.url, runs, before, after, sys.stdout)


if __name__ == "__main__":
    raise SystemExit(main())
