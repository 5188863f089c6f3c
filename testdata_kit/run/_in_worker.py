"""The worker's side of ``python -m testdata_kit run``: run the classes the parent hands over, send every outcome.

A worker is a forked or spawned process that loads the suite itself, then runs the classes the parent hands it one at a
time, keeping unittest's own fixture state between them: ``setUpClass`` runs once per class, ``setUpModule``
once per module per worker, and at the end the worker tears down its last class and module and runs its
run-scope cleanups (``testdata_kit._scopes.finish_run``), because pool processes never run ``atexit``.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import time
import unittest
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from testdata_kit import _details, _interrupts, _scopes, ledger
from testdata_kit.run._suite import Discovery, class_key, fingerprint

__all__ = ["FAILING", "Outcome", "WorkerSpec", "inherited", "worker_main"]

# The suite a forked worker inherits from run_units in its parent.
inherited: list[unittest.TestCase] | None = None

# How long a finished test's outcome may wait in a worker before it is sent to the parent.
_BATCH_SECONDS = 0.05

#: Outcomes that make a run fail, as ``TestResult.wasSuccessful`` counts them.
FAILING = frozenset({"failure", "error", "unexpected_success", "not_run"})


@dataclass
class Outcome:
    """One test's (or one fixture's) result as it travels from a worker to the parent."""

    id: str
    description: str
    outcome: str  # success, failure, error, skip, expected_failure, unexpected_success, not_run
    duration: float = 0.0
    worker: str = ""
    detail: str = ""
    unit: str = ""
    position: int = -1  # index in the suite; -1 for class and module fixtures
    started: bool = True  # False for tests the parent reports because they never ran
    #: JUnit properties: the test's created/deleted/kept/leaked counts and seeds (see testdata_kit._details).
    properties: list[tuple[str, str]] = field(default_factory=list)
    #: For a failed test: the resources it owned, its events and its last HTTP exchange, after its cleanups.
    data: str = ""


@dataclass(frozen=True)
class WorkerSpec:
    """What every worker needs: how to load the suite, what it must find, and its result options."""

    discovery: Discovery
    fingerprint: str
    environ: dict[str, str] = field(default_factory=dict)
    buffer: bool = False
    failfast: bool = False
    #: Send each test's JUnit properties (its counts and seeds); only a JUnit report reads them.
    properties: bool = True


class _Recorder(unittest.TestResult):
    """A TestResult that sends each outcome to the parent as soon as it is known."""

    def __init__(self, send: Callable[[Outcome], None], worker: str, positions: dict[int, int],
                 properties: bool = True) -> None:
        super().__init__()
        self._send = send
        self._properties = properties
        self._worker = worker
        self._positions = positions  # id(test) -> position in the suite
        self._current: Outcome | None = None
        self._started = 0.0

    def _outcome(self, test: Any, outcome: str, detail: str = "") -> None:
        if isinstance(test, unittest.TestCase) and self._current is None:
            # Python 3.12.0-3.12.1 report a skipped test without startTest/stopTest around it.
            self._send(Outcome(test.id(), str(test), outcome, worker=self._worker, detail=detail,
                               unit=class_key(test), position=self._positions.get(id(test), -1)))
            return
        if isinstance(test, unittest.TestCase) and self._current is not None:
            current = self._current
            # A failing subtest fails the whole test; later subtests must not turn it back into a success.
            if current.outcome in ("", "success") or (current.outcome == "skip" and outcome in FAILING):
                current.outcome = outcome
            if detail:
                current.detail = f"{current.detail}\n{detail}" if current.detail else detail
            return
        # A class or module fixture (unittest passes an _ErrorHolder named like "setUpClass (mod.Class)").
        description = str(test)
        self._send(Outcome(description, description, outcome, worker=self._worker, detail=detail))

    def startTest(self, test: unittest.TestCase) -> None:
        super().startTest(test)
        self._started = time.perf_counter()
        self._current = Outcome(
            test.id(), str(test), "", worker=self._worker, unit=class_key(test),
            position=self._positions.get(id(test), -1),
        )

    def stopTest(self, test: unittest.TestCase) -> None:
        super().stopTest(test)
        current, self._current = self._current, None
        if current is not None:
            current.duration = time.perf_counter() - self._started
            current.outcome = current.outcome or "success"
            if self._properties:  # a digest per test, sent and unpickled: only for a JUnit report
                current.properties = _details.properties(test)
            if current.outcome in FAILING:
                current.data = _details.failure_text(test)
            _details.forget(test)
            self._send(current)

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        self._outcome(test, "success")

    def addError(self, test: Any, err: Any) -> None:
        super().addError(test, err)
        self._outcome(test, "error", self.errors[-1][1])

    def addFailure(self, test: Any, err: Any) -> None:
        super().addFailure(test, err)
        self._outcome(test, "failure", self.failures[-1][1])

    def addSkip(self, test: Any, reason: str) -> None:
        super().addSkip(test, reason)
        self._outcome(test, "skip", reason)

    def addExpectedFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addExpectedFailure(test, err)
        self._outcome(test, "expected_failure")

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:
        super().addUnexpectedSuccess(test)
        self._outcome(test, "unexpected_success")

    def addSubTest(self, test: unittest.TestCase, subtest: Any, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            text = (self.failures if failed else self.errors)[-1][1]
            self._outcome(test, "failure" if failed else "error", f"{subtest}\n{text}")


def worker_main(conn: Connection, spec: WorkerSpec, name: str) -> None:
    # A process group of its own: Ctrl-C in a terminal reaches only the parent, which passes the signal on
    # exactly once (twice would mean "give up" to the worker). The worker then handles it as a plain unittest
    # process does: the running test unwinds and is reported as interrupted, and the worker reports its account.
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _interrupts.handle_when_idle()
    _scopes.note_usage()
    os.environ.update(spec.environ)
    try:
        # A forked worker already holds the suite its parent loaded (never run there, and so the same suite);
        # loading it again would cost each worker what the parent's discovery cost.
        tests = inherited if inherited is not None else spec.discovery.tests()
    except BaseException as error:
        conn.send(("broken", f"could not load the suite: {type(error).__name__}: {error}"))
        return
    if inherited is None and fingerprint([t.id() for t in tests]) != spec.fingerprint:
        conn.send(("broken", "loaded a different suite than the parent (does importing a test module depend on "
                             "the process, the time or randomness?)"))
        return
    batch = _Batch(conn)
    result = _Recorder(batch.add, name, {id(t): n for n, t in enumerate(tests)}, spec.properties)
    result.buffer = spec.buffer
    result.failfast = spec.failfast
    try:
        while _interrupts.received() is None:
            conn.send(("ready", None))
            positions = conn.recv()
            if positions is None:
                break
            # Tell the sub-suite that a run is already in progress, so that it keeps the class and module set
            # up for the next class instead of tearing them down at its end (TestSuite.run's top-level logic).
            result._testRunEntered = True  # type: ignore[attr-defined]
            unittest.TestSuite([tests[p] for p in positions]).run(result)
            batch.send()
        result._testRunEntered = False  # type: ignore[attr-defined]
        unittest.TestSuite().run(result)  # the top-level pass: tear down the last class and module
    except _interrupts.Interrupted:
        pass  # between tests or classes: unwinding already ran every pending cleanup
    batch.send()
    report = io.StringIO()
    _scopes.finish_run(report, end_by_signal=False)
    conn.send(("finished", {
        "tests_run": result.testsRun, "ledger": ledger.current().as_dict(), "report": report.getvalue(),
    }))


class _Batch:
    """Outcomes on their way to the parent, sent together: one message per test costs more than a trivial test.

    They leave at the end of each chunk of classes, and with the first outcome that finds the oldest waiting
    for :data:`_BATCH_SECONDS` or more, so that the parent's progress stays close behind.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.outcomes: list[Outcome] = []
        self.since = 0.0

    def add(self, outcome: Outcome) -> None:
        if not self.outcomes:
            self.since = time.monotonic()
        self.outcomes.append(outcome)
        if time.monotonic() - self.since >= _BATCH_SECONDS:
            self.send()

    def send(self) -> None:
        if self.outcomes:
            outcomes, self.outcomes = self.outcomes, []
            self.conn.send(("outcomes", outcomes))
