"""``python -m testdata_kit check``: prove a suite independent by running it again, shuffled and beside itself.

Each mode runs the suite through ``python -m testdata_kit run`` in subprocesses, in one environment, in this
order: ``once``; ``again`` (whatever the first run left behind is still there); ``shuffled`` (modules,
classes and tests in a seeded random order); ``copies`` (N copies of the whole suite at the same time); and
``split`` (the classes spread over ``-j`` workers). A test that passes in the first mode and fails in a later
one is coupled to something, and the first mode it fails in names the likely cause.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from testdata_kit import _env, ledger
from testdata_kit.errors import TestDataError
from testdata_kit.run import _launch
from testdata_kit.run._suite import Discovery, add_discovery_arguments
from testdata_kit.run.runner import default_workers

__all__ = ["CAUSES", "MODES", "CheckError", "main"]

#: The modes in the order they run; a test's first failing mode decides its likely cause.
MODES = ("once", "again", "shuffled", "copies", "split")

#: mode -> (cause code used in the JSON report, explanation printed for a test that first fails there).
CAUSES = {
    "once": ("fails-alone", "fails in a single plain run: fix it before judging its independence"),
    "again": ("leftover-data", "leftover data from an earlier run: it passed on the first run and fails on the "
                               "second in the same environment, so a run leaves data behind or changes shared data"),
    "shuffled": ("order-dependence", "order dependence: it passes in the usual order and fails shuffled, so it needs "
                                     "a test that usually runs before it, or a test that runs after it breaks it"),
    "copies": ("concurrent-copy", "collision with a concurrent copy: it passes alone and fails while another copy "
                                  "of the suite runs, so the copies share fixed values or records"),
    "split": ("other-class-or-worker", "depends on another class or collides with another worker: it passes in "
                                       "one process and fails when the classes are split across workers"),
}

# A mode that runs longer than this prints how far it got, so a large suite never looks stuck.
_PROGRESS_EVERY = 5.0


class CheckError(TestDataError):
    """A mode could not run the suite at all (the runner failed before any test), so nothing can be judged."""

    def __init__(self, mode: str, exit_code: int, output: str) -> None:
        self.mode = mode
        self.exit_code = exit_code
        self.output = output
        tail = "\n".join(output.strip().splitlines()[-15:])
        super().__init__(
            f"Mode {mode!r} could not run the suite (runner exit status {exit_code}). Make sure "
            f"'python -m testdata_kit run' with the same arguments works. Its last output:\n{tail}"
        )


@dataclass
class ModeResult:
    """The outcome of one mode: per test id, whether it failed and the last line of its first error."""

    name: str
    label: str
    duration: float = 0.0
    counts: dict[str, int] = field(default_factory=lambda: {"passed": 0, "failed": 0, "skipped": 0})
    failed: dict[str, str] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    leaks: list[dict[str, Any]] = field(default_factory=list)


def _modes_arg(value: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in value.split(",") if part.strip())
    unknown = [name for name in chosen if name not in MODES]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown mode {(unknown or [value])[0]!r}; choose from {', '.join(MODES)} (comma-separated)"
        )
    return tuple(name for name in MODES if name in chosen)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number >= 1")
    return int(value)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m testdata_kit check",
        description="Run a unittest suite once, again, shuffled, as several copies at once and split across "
                    "workers, and report each test that fails in some mode with the likely cause, plus the "
                    "data testdata_kit saw leak. Exit status: 0 nothing found, 1 findings, 2 could not run.",
    )
    parser.add_argument("--modes", type=_modes_arg, default=MODES, metavar="LIST",
                        help=f"comma-separated modes to run, always in this order: {','.join(MODES)} (all)")
    parser.add_argument("--seed", help="seed of the shuffled mode (and TESTDATA_SEED); replays a reported shuffle")
    parser.add_argument("--copies", type=_positive, default=2, metavar="N",
                        help="copies of the suite run at the same time in the copies mode (2)")
    parser.add_argument("-j", "--workers", type=_positive, default=None, metavar="N",
                        help=f"workers of the split mode (default {max(2, default_workers())})")
    parser.add_argument("--json", metavar="PATH", help="also write the report as JSON, for CI")
    add_discovery_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m testdata_kit check`` and return 0 (independent), 1 (findings) or 2 (could not run).

    :param argv: the arguments after ``check``; ``None`` reads ``sys.argv[1:]``.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    seed = args.seed or str(random.SystemRandom().randrange(10**6))
    workers = args.workers or max(2, default_workers())
    discovery = Discovery.from_args(args)
    out = sys.stdout
    labels = {"once": "once", "again": "again", "shuffled": f"shuffled (seed {seed})",
              "copies": f"copies (x{args.copies})", "split": f"split (-j {workers})"}
    print(f"testdata_kit check: modes {', '.join(labels[m] for m in args.modes)}", file=out, flush=True)
    results: list[ModeResult] = []
    with tempfile.TemporaryDirectory(prefix="tdk-check-") as tmp:
        for mode in args.modes:
            copies = args.copies if mode == "copies" else 1
            # The split mode places classes round robin, so a replay puts every class in the same worker.
            extra = {"shuffled": ["--shuffle", "--seed", seed],
                     "split": ["-j", str(workers), "--dist", "roundrobin"]}.get(mode, ["-j", "1"])
            try:
                result = _run_mode(mode, labels[mode], copies, extra, discovery, seed, Path(tmp), results)
            except CheckError as error:
                print(f"python -m testdata_kit check: error: {error}", file=sys.stderr)
                return 2
            results.append(result)
            print(f"  {labels[mode]:<22} {sum(result.counts.values()):>5} tests  {result.counts['passed']:>5} passed"
                  f"  {result.counts['failed']:>4} failed  {result.duration:6.1f} s", file=out, flush=True)
    report = _judge(results, seed)
    _print_report(report, out, args, seed)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1)
            handle.write("\n")
    return 0 if report["ok"] else 1


def _run_mode(mode: str, label: str, copies: int, extra: list[str], discovery: Discovery, seed: str,
              tmp: Path, earlier: Sequence[ModeResult]) -> ModeResult:
    """Run one mode (several runner processes for ``copies``) and collect its per-test outcomes and leaks."""
    environ = {key: value for key, value in os.environ.items()
               if key not in (_env.RUN_ID_ENV, _env.WORKER_ENV, "CI_NODE_INDEX", "CI_NODE_TOTAL")}
    environ[_env.RUN_SEED_ENV] = seed  # one seed for every mode: only the order and the concurrency change
    report_path = tmp / f"{mode}.ledger"
    environ[ledger.REPORT_ENV] = str(report_path)
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        runs: list[tuple[Path, TextIO, Any]] = []
        # Registered before anything starts: if a later Popen fails, or Ctrl-C arrives during the wait, the copies
        # already running are killed and reaped (no zombie, no orphan writing on) and every log is closed.
        stack.callback(_stop, runs)
        for copy in range(copies):
            stem = tmp / f"{mode}-{copy}"
            arguments = ["-q", *extra, "--json", f"{stem}.json", "--progress-file", f"{stem}.progress",
                         *discovery.as_args()]
            log: TextIO = stack.enter_context(open(f"{stem}.log", "w+", encoding="utf-8"))
            runs.append((stem, log, _launch.start(arguments, log, environ)))
        total = sum(earlier[0].counts.values()) * copies if earlier else 0
        _wait([process for _, _, process in runs], [Path(f"{stem}.progress") for stem, _, _ in runs], label, total)
        result = ModeResult(mode, label, time.perf_counter() - started)
        for stem, log, process in runs:
            log.seek(0)
            output = log.read()
            path = Path(f"{stem}.json")
            if process.returncode not in (0, 1) or not path.exists():
                raise CheckError(mode, process.returncode, output)
            data = json.loads(path.read_text(encoding="utf-8"))
            for key in result.counts:
                result.counts[key] += data["counts"][key]
            for entry in data["tests"]:
                if entry["fixture"] and entry["id"].startswith("setUp"):
                    continue  # the tests it stopped are reported as not run, each on its own
                result.seen.add(entry["id"])
                if entry["outcome"] in ("failure", "error", "unexpected_success", "not_run"):
                    lines = entry["detail"].strip().splitlines() or [entry["outcome"]]
                    result.failed.setdefault(entry["id"], lines[-1])
    if report_path.exists():
        result.leaks = ledger.read_reports(report_path)["leaked"]
    return result


def _stop(runs: Sequence[tuple[Path, TextIO, Any]]) -> None:
    for _, _, process in runs:
        if process.poll() is None:
            process.kill()
        process.wait()


def _wait(processes: Sequence[Any], progress: Sequence[Path], label: str, total: int) -> None:
    started = last = time.monotonic()
    for process in processes:
        # Block on the process itself rather than polling: a mode ends the moment its last runner does.
        while True:
            try:
                process.wait(timeout=max(0.05, last + _PROGRESS_EVERY - time.monotonic()))
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            done = sum(path.stat().st_size for path in progress if path.exists())
            of = f"/{total}" if total else ""
            print(f"    {label}: {done}{of} tests done, {now - started:.0f} s", file=sys.stderr, flush=True)
            last = now


def _judge(results: Sequence[ModeResult], seed: str) -> dict[str, Any]:
    """Turn the modes' outcomes into findings (one per coupled test) and grouped leaks."""
    findings = []
    ids = sorted({test for result in results for test in result.seen})
    for test in ids:
        failed = [result for result in results if test in result.failed]
        if not failed:
            continue
        first = failed[0]
        code, explanation = CAUSES[first.name]
        findings.append({
            "test": test, "failed_modes": [r.name for r in failed], "cause": code, "explanation": explanation,
            "first_error": first.failed[test], "first_mode": first.label,
        })
    leaks: dict[tuple[str, str], dict[str, Any]] = {}
    for result in results:
        for leak in result.leaks:
            entry = leaks.setdefault((leak["test"], leak["kind"]), {
                "test": leak["test"], "kind": leak["kind"], "example": leak["resource"], "reason": leak["reason"],
                "count": 0, "modes": [],
            })
            entry["count"] += 1
            if result.name not in entry["modes"]:
                entry["modes"].append(result.name)
    modes = [{"mode": r.name, "label": r.label, "duration": round(r.duration, 3), **r.counts} for r in results]
    return {"ok": not findings and not leaks, "seed": seed, "modes": modes, "findings": findings,
            "leaks": list(leaks.values())}


def _print_report(report: dict[str, Any], out: TextIO, args: argparse.Namespace, seed: str) -> None:
    findings, leaks = report["findings"], report["leaks"]
    if findings:
        print("\nCoupled or failing tests:", file=out)
        for finding in findings:
            print(f"  {finding['test']}\n    fails in: {', '.join(finding['failed_modes'])}"
                  f"\n    likely cause: {finding['explanation']}"
                  f"\n    first error ({finding['first_mode']}): {finding['first_error']}", file=out)
    if leaks:
        print("\nLeaked data (testdata_kit accounting):", file=out)
        for leak in leaks:
            print(f"  {leak['kind']} created by {leak['test']}: leaked {leak['count']} time(s) in "
                  f"{', '.join(leak['modes'])}\n    e.g. {leak['example']}: {leak['reason']}", file=out)
    if report["ok"]:
        print("\nNo findings: the suite passed in every mode and leaked nothing.", file=out)
        return
    causes: dict[str, int] = {}
    for finding in findings:
        causes[finding["cause"]] = causes.get(finding["cause"], 0) + 1
    parts = [f"{count} {cause}" for cause, count in causes.items()]
    print(f"\n{len(findings)} test(s) flagged ({', '.join(parts) or 'none'}), {len(leaks)} leak(s).", file=out)
    if "shuffled" in {m for f in findings for m in f["failed_modes"]}:
        # Quoted for a shell: an unquoted -p test*.py would be expanded by the shell and select other tests.
        command = ["python", "-m", "testdata_kit", "check", "--modes", "shuffled", "--seed", str(seed),
                   *Discovery.from_args(args).as_args()]
        print(f"Replay the shuffle: {shlex.join(command)}", file=out)


if __name__ == "__main__":
    raise SystemExit(main())
