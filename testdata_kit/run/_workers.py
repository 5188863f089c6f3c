"""Worker processes of ``python -m testdata_kit run``: each runs whole classes and reports every outcome.

A worker is a forked or spawned process that loads the suite itself, then runs the classes the parent hands it one at a
time, keeping unittest's own fixture state between them: ``setUpClass`` runs once per class, ``setUpModule``
once per module per worker, and at the end the worker tears down its last class and module and runs its
run-scope cleanups (``testdata_kit._scopes.finish_run``), because pool processes never run ``atexit``.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import signal
import sys
import time
import unittest
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from testdata_kit import _details, _env, _interrupts, _scopes, ledger
from testdata_kit.run._suite import Discovery, Unit, class_key, fingerprint

__all__ = ["Outcome", "WorkerSpec", "interrupted_by", "run_units"]

# The suite a forked worker inherits from run_units in its parent.
_inherited: list[unittest.TestCase] | None = None

# How long a finished test's outcome may wait in a worker before it is sent to the parent.
_BATCH_SECONDS = 0.05

# The signal that interrupted run_units in this process, so that the runner can end by it after its summary.
_received: int | None = None

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


def _worker_main(conn: Connection, spec: WorkerSpec, name: str) -> None:
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
        tests = _inherited if _inherited is not None else spec.discovery.tests()
    except BaseException as error:
        conn.send(("broken", f"could not load the suite: {type(error).__name__}: {error}"))
        return
    if _inherited is None and fingerprint([t.id() for t in tests]) != spec.fingerprint:
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


@dataclass
class _Worker:
    name: str
    process: Any
    conn: Connection
    module: str | None = None
    units: list[Unit] = field(default_factory=list)
    done: set[int] = field(default_factory=set)
    finished: dict[str, Any] | None = None


def _next_unit(remaining: list[Unit], module: str | None) -> Unit | None:
    # Prefer the worker's current module: leaving it tears it down, and coming back would set it up again.
    for index, unit in enumerate(remaining):
        if unit.module == module:
            return remaining.pop(index)
    return remaining.pop(0) if remaining else None


def _start_method() -> str:
    """Return ``fork`` when it is safe and cheaper, else ``spawn``.

    A forked worker starts with the suite already imported, which saves each worker the imports (about a
    fifth of a second with requests). Forking is only safe on Linux, in a process with no other thread, and
    that has tracked no test data itself: a forked worker would otherwise inherit, and then delete, the
    parent's run-scope data. ``python -m testdata_kit run`` always qualifies; a runner started from inside
    a test run usually spawns.
    """
    import threading

    if not sys.platform.startswith("linux") or threading.active_count() > 1:
        return "spawn"
    if ledger.current().created or _scopes.current_test() is not None:
        return "spawn"
    return "fork"


def run_units(
    spec: WorkerSpec, units: Sequence[Unit], workers: int, worker_names: Sequence[str],
    on_outcome: Callable[[Outcome], None], describe: Callable[[int], tuple[str, str]], dist: str = "load",
    tests: Sequence[unittest.TestCase] | None = None,
) -> list[dict[str, Any]]:
    """Run *units* on *workers* spawned processes and return what each worker reported when it finished.

    Every outcome is passed to *on_outcome* as it arrives. Tests of a class that a crashed worker did not
    finish are reported as errors naming the worker and its exit code; the remaining workers carry on.

    :param worker_names: the ``TESTDATA_WORKER`` token of each worker, distinct within the run.
    :param describe: returns the id and ``str(test)`` of a suite position, for tests that never finished.
    :param dist: ``"load"``: a free worker takes the next class, preferring its current module;
        ``"roundrobin"``: class *i* goes to worker *i* mod *workers*, the same placement on every run.
    :param tests: the suite as the caller loaded it from *spec*; forked workers use it instead of loading again.
    """
    global _inherited
    method = _start_method()
    context: Any = multiprocessing.get_context(method)
    _inherited = list(tests) if tests is not None and method == "fork" else None
    sys.stdout.flush()
    sys.stderr.flush()  # a forked worker would print whatever is still buffered a second time
    count = max(1, min(workers, len(units)))
    shared = list(units)
    # With round robin each worker owns its queue; with load balancing they all draw from one list.
    queues = [list(units[n::count]) for n in range(count)] if dist == "roundrobin" else [shared] * count
    pool: list[_Worker] = []
    for name in worker_names[:count]:
        parent_end, child_end = context.Pipe()
        worker_spec = WorkerSpec(spec.discovery, spec.fingerprint, {**spec.environ, _env.WORKER_ENV: name},
                                 spec.buffer, spec.failfast, spec.properties)
        process = context.Process(target=_worker_main, args=(child_end, worker_spec, name), name=f"tdk-{name}")
        process.start()
        child_end.close()  # so that the parent sees EOF when the worker dies
        pool.append(_Worker(name, process, parent_end))
    stopping = False
    active = {w.conn: w for w in pool}

    def on_signal(signum: int, frame: Any) -> None:
        # Hand out no more classes, and pass the signal on to every worker: each unwinds its running test,
        # reports it as interrupted and sends its account. A second signal is passed on too, and makes the
        # workers give up at once.
        nonlocal stopping
        global _received
        stopping = True
        _received = _received or signum
        for worker in pool:
            if worker.finished is None and worker.process.is_alive():
                with contextlib.suppress(OSError):
                    os.kill(worker.process.pid, signum)

    handlers = _take_signals(on_signal)
    # Hold the first classes back until every worker has loaded the suite, so that the first N chunks go to
    # N different workers however fast each one started (the placement a user sees is then predictable).
    waiting: list[_Worker] | None = []

    def hand_out(worker: _Worker) -> None:
        # Several classes at a time, fewer as the queue runs down (guided self-scheduling): a round trip per
        # class costs more than a class of trivial tests, and small last chunks keep the workers even.
        queue = queues[pool.index(worker)]
        size = 0 if stopping else max(1, len(queue) // (4 * (1 if dist == "roundrobin" else count)))
        worker.units = []
        while len(worker.units) < size:
            unit = _next_unit(queue, worker.module)
            if unit is None:
                break
            worker.units.append(unit)
            worker.module = unit.module
        worker.done = set()
        # One list of positions: the worker runs it as one suite, which sets classes up and down as it goes.
        worker.conn.send([p for unit in worker.units for p in unit.tests] if worker.units else None)

    try:
        while active:
            ready = wait(list(active), timeout=1.0)
            for conn in ready:
                worker = active[conn]  # type: ignore[index]
                try:
                    kind, payload = worker.conn.recv()
                except (EOFError, OSError):
                    del active[conn]  # type: ignore[arg-type]
                    _lost(worker, on_outcome, describe)
                    continue
                if kind == "outcomes":
                    for outcome in payload:
                        if outcome.position >= 0:
                            worker.done.add(outcome.position)
                        on_outcome(outcome)
                        if spec.failfast and outcome.outcome in FAILING:
                            stopping = True
                elif kind == "ready" and waiting is not None:
                    waiting.append(worker)
                elif kind == "ready":
                    hand_out(worker)
                elif kind == "broken":
                    on_outcome(Outcome(f"worker {worker.name}", f"worker {worker.name}", "error", detail=payload,
                                       worker=worker.name))
                    stopping = True
                else:
                    worker.finished = payload
                    worker.units = []
            if waiting is not None and len(waiting) == len(active):
                for worker in sorted(waiting, key=pool.index):
                    hand_out(worker)
                waiting = None
    finally:
        for worker in pool:
            if worker.finished is None and worker.process.is_alive():
                # Left the loop early (an exception): a worker asks for work only between classes, so this
                # tells it to tear down and finish instead of waiting for a task forever.
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
        for worker in pool:
            worker.process.join(timeout=30)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
            with contextlib.suppress(AttributeError):
                worker.process.close()
        # Only now: a signal while the workers finish is still this run's, reported after its summary.
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    return [w.finished for w in pool if w.finished is not None]


def _take_signals(handler: Callable[[int, Any], None]) -> dict[int, Any]:
    """Install *handler* for SIGINT and SIGTERM (main thread only) and return the handlers it replaced."""
    replaced: dict[int, Any] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread: the caller keeps its own handling
            replaced[signum] = signal.signal(signum, handler)
    return replaced


def interrupted_by() -> int | None:
    """Return the SIGINT or SIGTERM that interrupted the last :func:`run_units` in this process, or ``None``."""
    return _received


def _lost(
    worker: _Worker, on_outcome: Callable[[Outcome], None], describe: Callable[[int], tuple[str, str]],
) -> None:
    """Report the tests a dead worker was running and never finished."""
    if worker.finished is not None or not worker.units:
        return
    worker.process.join(timeout=5)
    code = worker.process.exitcode
    for unit in worker.units:
        for position in unit.tests:
            if position not in worker.done:
                test_id, text = describe(position)
                on_outcome(Outcome(
                    test_id, text, "error", worker=worker.name, unit=unit.key, position=position, started=False,
                    detail=f"worker {worker.name} exited with code {code} while running {unit.key}; "
                           f"this test did not finish",
                ))
