"""The parent's side of ``python -m testdata_kit run``: start the workers, hand out classes, collect outcomes.

Classes go out a few at a time to whichever worker asks (or round robin); a signal is passed on to every
worker once; the tests of a worker that died are reported as errors. What a worker itself does is in
:mod:`testdata_kit.run._in_worker`.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import unittest
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from testdata_kit import _env, _scopes, ledger
from testdata_kit.run import _in_worker
from testdata_kit.run._in_worker import FAILING, Outcome, WorkerSpec, worker_main
from testdata_kit.run._suite import Unit

__all__ = ["Outcome", "WorkerSpec", "interrupted_by", "restore_signals", "run_units"]

# The signal that interrupted run_units in this process, so that the runner can end by it after its summary.
_received: int | None = None
# The handlers run_units replaced, put back by restore_signals once the runner is done.
_saved: dict[int, Any] = {}


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
    method = _start_method()
    context: Any = multiprocessing.get_context(method)
    _in_worker.inherited = list(tests) if tests is not None and method == "fork" else None
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
        process = context.Process(target=worker_main, args=(child_end, worker_spec, name), name=f"tdk-{name}")
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
        # A signal while the workers finish, or while the runner prints its summary and writes its reports, is
        # still this run's: recorded, it ends the process after them (restore_signals, then interrupted_by).
        for signum, handler in handlers.items():
            _saved.setdefault(signum, handler)
            signal.signal(signum, _record_late)
    return [w.finished for w in pool if w.finished is not None]


def _record_late(signum: int, frame: Any) -> None:
    global _received
    _received = _received or signum


def restore_signals() -> None:
    """Put back the SIGINT and SIGTERM handlers :func:`run_units` replaced; until then a signal is only recorded."""
    for signum, handler in _saved.items():
        signal.signal(signum, handler)
    _saved.clear()


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
