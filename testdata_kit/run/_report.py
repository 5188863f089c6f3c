"""What ``python -m testdata_kit run`` prints and writes: unittest's summary, the count line, JUnit XML, JSON."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from testdata_kit.run._workers import FAILING, Outcome

__all__ = ["Tally", "fixture_parts", "write_json", "write_junit"]

_SEPARATOR1 = "=" * 70
_SEPARATOR2 = "-" * 70
_SHORT = {"success": ".", "failure": "F", "error": "E", "skip": "s", "expected_failure": "x",
          "unexpected_success": "u", "not_run": "E"}
_LONG = {"success": "ok", "failure": "FAIL", "error": "ERROR", "skip": "skipped", "expected_failure":
         "expected failure", "unexpected_success": "unexpected success", "not_run": "not run"}
_FIXTURE = re.compile(r"^(?P<method>\w+) \((?P<parent>[^()]+)\)$")


def fixture_parts(description: str) -> tuple[str, str] | None:
    """Split ``"setUpClass (pkg.mod.Class)"`` into ``("setUpClass", "pkg.mod.Class")``; ``None`` otherwise."""
    match = _FIXTURE.match(description)
    return (match["method"], match["parent"]) if match else None


class Tally:
    """Collects outcomes as they arrive and prints them the way ``unittest.TextTestRunner`` does.

    :param stream: where progress and the summary go (standard error, as for ``python -m unittest``).
    :param verbosity: 0 quiet, 1 a character per test, 2 a line per test.
    """

    def __init__(self, stream: TextIO | None = None, verbosity: int = 1, progress: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.verbosity = verbosity
        self.progress = progress
        self.tests: dict[int, Outcome] = {}
        self.fixtures: list[Outcome] = []
        self._flushed = 0.0

    def add(self, outcome: Outcome) -> None:
        """Record one outcome and show it."""
        if outcome.position >= 0:
            self.tests[outcome.position] = outcome
        else:
            self.fixtures.append(outcome)
        if self.progress is not None:
            self.progress.write(_SHORT[outcome.outcome])
        if self.verbosity >= 2:
            detail = f" {outcome.detail!r}" if outcome.outcome == "skip" and outcome.detail else ""
            self.stream.write(f"{outcome.description} ... {_LONG[outcome.outcome]}{detail}\n")
        elif self.verbosity == 1:
            self.stream.write(_SHORT[outcome.outcome])
        # Flushing after every outcome costs two system calls a test; a tenth of a second is as good to watch.
        now = time.monotonic()
        if now - self._flushed >= 0.1:
            self.flush()
            self._flushed = now

    def flush(self) -> None:
        """Write out what :meth:`add` showed so far."""
        if self.progress is not None:
            self.progress.flush()
        self.stream.flush()

    def outcomes(self) -> list[Outcome]:
        """Every test outcome in suite order, then every fixture outcome."""
        return [self.tests[p] for p in sorted(self.tests)] + self.fixtures

    def counts(self) -> dict[str, int]:
        """Passed, failed and skipped as the final line counts them.

        Each test counts once; a test that could not run because ``setUpClass``/``setUpModule`` failed counts
        as failed, and an error in a teardown or a class or module cleanup counts as one more failure, so the
        line never says ``0 failed`` for a run that exits with 1.
        """
        tests = self.tests.values()
        passed = sum(1 for t in tests if t.outcome in ("success", "expected_failure"))
        failed = sum(1 for t in tests if t.outcome in FAILING)
        skipped = sum(1 for t in tests if t.outcome == "skip")
        for fixture in self.fixtures:
            parts = fixture_parts(fixture.description)
            if fixture.outcome in FAILING and not (parts and parts[0].startswith("setUp")):
                failed += 1
        return {"passed": passed, "failed": failed, "skipped": skipped}

    def tests_run(self) -> int:
        return sum(1 for t in self.tests.values() if t.started)

    def successful(self) -> bool:
        return not any(o.outcome in FAILING for o in self.outcomes())

    def summary(self, elapsed: float, notes: Sequence[str] = ()) -> None:
        """Print the errors and failures, ``Ran N tests in T``, the verdict, *notes*, and the final count line."""
        self.flush()
        write = self.stream.write
        if self.verbosity == 1:
            write("\n")
        # Tests that never ran are not errors of their own in unittest's output: the fixture that stopped them is.
        for label, kinds in (("ERROR", ("error",)), ("FAIL", ("failure",))):
            for outcome in self.outcomes():
                if outcome.outcome in kinds:
                    where = f" [worker {outcome.worker}]" if outcome.worker else ""
                    write(f"{_SEPARATOR1}\n{label}: {outcome.description}{where}\n{_SEPARATOR2}\n")
                    write(f"{outcome.detail.rstrip()}\n\n")
        for outcome in self.outcomes():
            if outcome.outcome == "unexpected_success":
                write(f"{_SEPARATOR1}\nUNEXPECTED SUCCESS: {outcome.description}\n")
        run = self.tests_run()
        write(f"{_SEPARATOR2}\nRan {run} test{'s' if run != 1 else ''} in {elapsed:.3f}s\n\n")
        everything = self.outcomes()
        failures = sum(1 for o in everything if o.outcome == "failure")
        errors = sum(1 for o in everything if o.outcome == "error")
        infos = [f"failures={failures}"] * bool(failures) + [f"errors={errors}"] * bool(errors)
        skips = sum(1 for o in everything if o.outcome == "skip")
        expected = sum(1 for o in everything if o.outcome == "expected_failure")
        unexpected = sum(1 for o in everything if o.outcome == "unexpected_success")
        infos += [f"skipped={skips}"] * bool(skips) + [f"expected failures={expected}"] * bool(expected)
        infos += [f"unexpected successes={unexpected}"] * bool(unexpected)
        verdict = "FAILED" if not self.successful() else ("NO TESTS RAN" if run == 0 and not skips else "OK")
        write(verdict + (f" ({', '.join(infos)})" if infos else "") + "\n")
        not_run = sum(1 for o in everything if o.outcome == "not_run")
        if not_run:
            write(f"{not_run} test{'s' if not_run != 1 else ''} did not run (a setUpClass or setUpModule failed, "
                  f"--failfast, Ctrl-C or a crashed worker); they count as failed\n")
        for note in notes:
            write(note + "\n")
        counts = self.counts()
        line = f"{counts['passed']} passed, {counts['failed']} failed"
        if counts["skipped"]:
            line += f", {counts['skipped']} skipped"
        write(line + "\n")
        self.stream.flush()


def write_junit(path: str, outcomes: Sequence[Outcome], elapsed: float) -> None:
    """Write JUnit XML: one ``testsuite`` per class, fixtures as test cases named after the fixture method.

    Each test case carries ``<properties>`` (``testdata_kit.created``, ``.deleted``, ``.kept``, ``.leaked``,
    ``.seed`` and ``.test_seed``); a failed one also carries its data details in ``<system-out>``.
    """
    suites: dict[str, list[tuple[str, Outcome]]] = {}
    for outcome in outcomes:
        parts = fixture_parts(outcome.description) if outcome.position < 0 else None
        if parts:
            classname, name = parts[1], parts[0]
        else:
            classname, _, name = outcome.id.rpartition(".")
        suites.setdefault(classname or outcome.unit, []).append((name, outcome))
    from xml.etree import ElementTree  # only for a JUnit report: its import costs every run 2 ms

    root = ElementTree.Element("testsuites", name="testdata_kit", time=f"{elapsed:.3f}")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for classname, cases in suites.items():
        suite = ElementTree.SubElement(root, "testsuite", name=classname)
        counts = dict.fromkeys(totals, 0)
        for name, outcome in cases:
            case = ElementTree.SubElement(
                suite, "testcase", classname=classname, name=name, time=f"{outcome.duration:.3f}"
            )
            counts["tests"] += 1
            if outcome.properties:
                found = ElementTree.SubElement(case, "properties")
                for prop, text in outcome.properties:
                    ElementTree.SubElement(found, "property", name=prop, value=text)
            first_line = (outcome.detail.strip().splitlines() or [""])[-1][:200]
            if outcome.outcome in ("failure", "unexpected_success"):
                counts["failures"] += 1
                ElementTree.SubElement(case, "failure", message=first_line or outcome.outcome).text = outcome.detail
            elif outcome.outcome in ("error", "not_run"):
                counts["errors"] += 1
                ElementTree.SubElement(case, "error", message=first_line).text = outcome.detail
            elif outcome.outcome == "skip":
                counts["skipped"] += 1
                ElementTree.SubElement(case, "skipped", message=outcome.detail)
            if outcome.data:
                ElementTree.SubElement(case, "system-out").text = outcome.data
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ElementTree.indent(root)
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def write_json(path: str, data: dict[str, Any], outcomes: Sequence[Outcome]) -> None:
    """Write the run's machine-readable record: *data* plus one entry per test and per fixture."""
    entries = [
        {"id": o.id, "outcome": o.outcome, "class": o.unit, "worker": o.worker, "duration": round(o.duration, 4),
         "detail": o.detail, "fixture": o.position < 0}
        for o in outcomes
    ]
    # No indent: json then encodes in C, ten times faster on a large suite; one test a line keeps it readable.
    head = json.dumps(data)[:-1]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f'{head}, "tests": [\n' + ",\n".join(map(json.dumps, entries)) + "\n]}\n")
