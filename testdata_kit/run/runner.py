"""``python -m testdata_kit run``: a parallel, shardable runner for unittest suites that keeps classes whole.

Tests of one class always run in one worker process, so ``setUpClass`` runs once per class; each worker tears
down its modules and its run-scope data before it exits. ``--shard I/N`` (or ``CI_NODE_INDEX``/
``CI_NODE_TOTAL``) picks a deterministic share of the classes for one CI machine. The output is unittest's,
followed by one plain line such as ``41 passed, 1 failed, 2 skipped``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from testdata_kit import _interrupts, _run, ledger
from testdata_kit.run._report import Tally, fixture_parts, write_json, write_junit
from testdata_kit.run._suite import (
    Discovery,
    ShardError,
    add_discovery_arguments,
    fingerprint,
    parse_shard,
    shard,
    shard_from_env,
    shuffle,
    units_of,
)
from testdata_kit.run._workers import Outcome, WorkerSpec, interrupted_by, restore_signals, run_units

__all__ = ["NO_TESTS_EXIT", "default_workers", "main"]

#: Exit status when no test ran, as ``python -m unittest`` gives from Python 3.12 on (on every version here).
NO_TESTS_EXIT = 5


def default_workers() -> int:
    """Return the number of CPUs this process may use (the default of ``-j``)."""
    counter = getattr(os, "process_cpu_count", None) or os.cpu_count
    return max(1, counter() or 1)


def _workers_arg(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of workers: give a whole number >= 1, e.g. -j 4")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m testdata_kit run",
        description="Run a unittest suite in parallel worker processes, whole classes at a time, optionally "
                    "one shard of it on one CI machine. Exit status as python -m unittest: 0 passed, 1 failed, "
                    "5 no tests ran.",
    )
    parser.add_argument("-j", "--workers", type=_workers_arg, default=None, metavar="N",
                        help=f"worker processes (default: the number of CPUs, {default_workers()} here)")
    parser.add_argument("--dist", choices=("load", "roundrobin"), default="load",
                        help="load: a free worker takes the next class (default); roundrobin: class i goes to "
                             "worker i mod N, the same placement every run")
    parser.add_argument("--shard", metavar="I/N",
                        help="run only shard I of N (1-based); default from CI_NODE_INDEX and CI_NODE_TOTAL")
    parser.add_argument("--shuffle", action="store_true",
                        help="run modules, classes and tests in a random order (printed with its seed)")
    parser.add_argument("--seed", metavar="S",
                        help="seed of --shuffle and of fake values (TESTDATA_SEED); default: TESTDATA_SEED or random")
    parser.add_argument("-v", "--verbose", dest="verbosity", action="store_const", const=2, default=1,
                        help="one line per test")
    parser.add_argument("-q", "--quiet", dest="verbosity", action="store_const", const=0, help="no progress")
    parser.add_argument("-b", "--buffer", action="store_true", help="hide output of passing tests")
    parser.add_argument("-f", "--failfast", action="store_true", help="hand out no more classes after a failure")
    parser.add_argument("--junit-xml", metavar="PATH", help="also write the results as JUnit XML")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON (what check reads)")
    parser.add_argument("--progress-file", help=argparse.SUPPRESS)
    add_discovery_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m testdata_kit run`` and return its exit status: 0, 1, 2 (usage error) or 5 (no tests).

    :param argv: the arguments after ``run``; ``None`` reads ``sys.argv[1:]``.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        chosen_shard = parse_shard(args.shard) if args.shard else shard_from_env()
    except ShardError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    progress = open(args.progress_file, "a", encoding="utf-8") if args.progress_file else None  # noqa: SIM115
    try:
        code = _run_suite(args, chosen_shard, sys.stderr, progress)
    finally:
        if progress is not None:
            progress.close()
        restore_signals()
    # Interrupted: the summary and the account are printed; end by the signal, as a plain unittest run does.
    _interrupts.exit_like_signal(interrupted_by())
    return code


def _run_suite(args: argparse.Namespace, chosen_shard: tuple[int, int] | None, stream: TextIO,
               progress: TextIO | None) -> int:
    discovery = Discovery.from_args(args)
    try:
        tests = discovery.tests()
    except ImportError as error:  # e.g. "Start directory is not importable"
        print(f"python -m testdata_kit run: error: {error}", file=stream)
        return 2
    ids = [test.id() for test in tests]
    units = units_of(tests)
    selected = shard(units, *chosen_shard) if chosen_shard else units
    seed = args.seed or _run.run_seed()
    if args.shuffle:
        selected = shuffle(selected, seed)
    workers = args.workers or default_workers()
    environ = {_run.RUN_ID_ENV: _run.run_id(), _run.RUN_SEED_ENV: str(seed)}
    names = [f"w{n}" for n in range(1, workers + 1)]
    count = sum(len(unit.tests) for unit in selected)
    where = f", shard {chosen_shard[0]}/{chosen_shard[1]}" if chosen_shard else ""
    order = f", shuffled (replay with --shuffle --seed {seed})" if args.shuffle else f", seed {seed}"
    used = min(workers, len(selected)) or 1
    print(f"testdata_kit run {environ[_run.RUN_ID_ENV]}: {count} tests in {len(selected)} classes{where}, "
          f"{used} worker{'s' if used != 1 else ''}{order}", file=stream)
    if not tests:
        print(f"NO TESTS RAN: nothing matched {' '.join(discovery.as_args())!r}", file=stream)
        return NO_TESTS_EXIT
    if not selected:
        # More shards than classes: an empty shard is expected, not a mistake, so it must not fail CI.
        index, total = chosen_shard or (1, 1)
        print(f"0 passed, 0 failed (shard {index}/{total} is empty: the suite has only {len(units)} classes)",
              file=stream)
        return 0

    tally = Tally(stream, args.verbosity, progress)
    started = time.perf_counter()
    spec = WorkerSpec(discovery, fingerprint(ids), environ, args.buffer, args.failfast, bool(args.junit_xml))
    finished = run_units(spec, selected, workers, names, tally.add, lambda p: (ids[p], str(tests[p])), args.dist,
                         tests)
    _account_for_missing(tally, selected, tests)
    elapsed = time.perf_counter() - started
    tally.summary(elapsed, _ledger_lines(finished))
    outcomes = tally.outcomes()
    if args.junit_xml:
        write_junit(args.junit_xml, outcomes, elapsed)
    code = 1 if not tally.successful() else 0
    if code == 0 and tally.tests_run() == 0 and not tally.counts()["skipped"]:
        code = NO_TESTS_EXIT
    if args.json:
        write_json(args.json, {
            "run_id": environ[_run.RUN_ID_ENV], "seed": str(seed), "shuffled": args.shuffle,
            "shard": list(chosen_shard) if chosen_shard else None, "workers": used, "duration": elapsed,
            "exit_code": code, "counts": tally.counts(), "ledger": _sum_ledgers(finished),
        }, outcomes)
    return code


def _account_for_missing(tally: Tally, selected: Sequence[Any], tests: Sequence[Any]) -> None:
    """Give every selected test that sent no outcome one: skipped or not run, with the fixture that caused it."""
    causes: dict[str, Outcome] = {}
    for fixture in tally.fixtures:
        parts = fixture_parts(fixture.description)
        if parts and parts[0].startswith("setUp"):
            causes[parts[1]] = fixture
    for unit in selected:
        for position in unit.tests:
            if position in tally.tests:
                continue
            test = tests[position]
            cause = causes.get(unit.key) or causes.get(unit.module)
            if cause is not None and cause.outcome == "skip":
                outcome, detail = "skip", cause.detail
            elif cause is not None:
                outcome, detail = "not_run", f"not run: {cause.description} failed"
            else:
                outcome, detail = "not_run", "not run: the run stopped before this test (failfast, Ctrl-C or a crash)"
            tally.tests[position] = Outcome(test.id(), str(test), outcome, detail=detail, unit=unit.key,
                                            position=position, started=False)


def _sum_ledgers(finished: Sequence[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {"created": 0, "deleted": 0, "kept": [], "leaked": []}
    for report in finished:
        books = report["ledger"]
        total["created"] += books["created"]
        total["deleted"] += books["deleted"]
        total["kept"] += books["kept"]
        total["leaked"] += books["leaked"]
    return total


def _ledger_lines(finished: Sequence[dict[str, Any]]) -> list[str]:
    """Return testdata_kit's accounting for the whole run, summed over the workers, as printed lines."""
    lines = [line for report in finished for line in report["report"].splitlines()
             if "run-scope cleanup failed" in line]
    total = _sum_ledgers(finished)
    if not total["created"] and not total["leaked"]:
        return lines
    return lines + ledger.totals_lines(total)


if __name__ == "__main__":
    raise SystemExit(main())
