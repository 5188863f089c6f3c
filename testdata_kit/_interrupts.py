"""Interrupt-safe cleanup: on SIGINT or SIGTERM, delete the pending test data of every scope, then exit.

unittest runs no cleanup at all on KeyboardInterrupt, and a SIGTERM (a CI timeout, ``kill``) ends the process
at once. Here both signals raise :class:`Interrupted`, a KeyboardInterrupt, so the stack unwinds out of the
test's code; when the unwinding reaches the test (or ``setUpClass``) context, or at the latest at exit, the
pending cleanups of the test, its class, the modules and the run are executed, then every resource the ledger
still holds is released. Three rules keep that safe:

- a signal that arrives during a create or delete call waits until the call returns, so a row is never created
  or deleted without the process knowing;
- a second signal stops the cleanup and exits at once; whatever is left stays in the journal for
  ``python -m testdata_kit sweep --journal``;
- handlers are installed only over the default ones, never over a runner's own (``unittest -c``).

Set ``TESTDATA_INTERRUPTS=0`` to leave the signals alone.

This module owns the signal state: the signal received, the create and delete calls in flight, and a signal
waiting for one to return. It sits below :mod:`testdata_kit._running`, which owns the running tests and classes
and does the unwinding (:func:`testdata_kit._running.unwind`); it never imports it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from types import FrameType

from testdata_kit import _env, _settings, ledger
from testdata_kit.errors import TestDataError

__all__ = [
    "INTERRUPTS_ENV", "ClassInterrupted", "Interrupted", "enter_call", "held", "install", "leave_call", "received",
]

INTERRUPTS_ENV = _env.INTERRUPTS_ENV

_signal: int | None = None
_installed = False
# Create and delete calls in progress, and a SIGINT/SIGTERM that arrived during one: the signal waits until
# the call returns, so that a row is never created (or deleted) without the process knowing it.
_in_flight = 0
_deferred_signal: int | None = None


def _never_busy() -> bool:
    return False


def _nothing() -> None:
    pass


# Given by install(): whether a test or class is running, and how the run ends in an idle pool worker.
_busy: Callable[[], bool] = _never_busy
_finish_run: Callable[[], None] = _nothing
_stop_between: Callable[[], bool] = _never_busy
_idle_raises = False
_ended = False


def _forget_after_fork() -> None:
    # A forked child has no call in flight, whatever its parent was doing.
    global _in_flight, _deferred_signal, _ended
    _in_flight = 0
    _deferred_signal = None
    _ended = False


os.register_at_fork(after_in_child=_forget_after_fork)


class Interrupted(KeyboardInterrupt):
    """The run was interrupted by a signal; raised in the main thread so that the tests' code unwinds."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


class ClassInterrupted(TestDataError):
    """A ``setUpClass`` or ``tearDownClass`` was interrupted, or skipped because the run already was."""

    def __init__(self, method: str, signum: int) -> None:
        self.method = method
        self.signum = signum
        name = signal.Signals(signum).name if signum else "a signal"
        super().__init__(f"{method} interrupted by {name}; the run stops here (the account says what was deleted)")


def received() -> int | None:
    """Return the first SIGINT/SIGTERM this process received, or ``None``."""
    return _signal


def enter_call() -> None:
    """Mark the start of a create or delete call: an interrupt now waits until :func:`leave_call`."""
    global _in_flight
    _in_flight += 1


def leave_call() -> None:
    """Mark the end of a create or delete call, and raise the interrupt that arrived during it, if any."""
    global _in_flight, _deferred_signal
    _in_flight -= 1
    if _deferred_signal is not None and not _in_flight:
        signum, _deferred_signal = _deferred_signal, None
        mp = sys.modules.get("multiprocessing")
        in_pool = mp is not None and mp.parent_process() is not None and not _idle_raises
        if not in_pool and not _busy() and _stop_between():
            return  # a deletion between tests (a class's cleanups): the runner stops before the next test
        raise Interrupted(signum)


def run_ended() -> None:
    """Record that this process's run is over (cleanups done, account printed).

    A signal that arrives later, while the interpreter exits, ends the process by that signal at once,
    instead of raising in an exit handler (which Python reports with a traceback).
    """
    global _ended
    _ended = True


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the block, like :func:`enter_call` and :func:`leave_call` around it.

    For steps that belong with a create call although they come after it, such as linking a scenario's new
    resource to its parents: the interrupt is raised when the block ends, once the resource is fully on record.
    """
    enter_call()
    try:
        yield
    finally:
        leave_call()


def handle_when_idle() -> None:
    """Raise :class:`Interrupted` even when no test runs, for a process that ends the run itself (a runner's worker).

    By default an idle process-pool worker exits at once on a signal; a worker that must still report its
    account to its parent handles the interrupt in its own loop instead.
    """
    global _idle_raises
    _idle_raises = True


def install(busy: Callable[[], bool] = _never_busy, finish_run: Callable[[], None] = _nothing,
            stop_between: Callable[[], bool] = _never_busy) -> None:
    """Handle SIGINT and SIGTERM where their handlers are still Python's defaults (main thread only).

    :param busy: says whether a test or class is running; an idle pool worker exits at once instead.
    :param finish_run: ends the run (run-scope cleanups, report) before such an exit.
    :param stop_between: asks the runner to stop before its next test when no test is running, and says
        whether it could; the signal is then not raised in the runner's own code.
    """
    global _installed, _busy, _finish_run, _stop_between
    _busy, _finish_run, _stop_between = busy, finish_run, stop_between
    try:
        wanted = _settings.value("interrupts")
    except _settings.SettingError:  # reported once at the start of the run by _settings.check_start
        wanted = True
    if _installed or not wanted:
        return
    _installed = True
    previous_hook = sys.excepthook

    def excepthook(kind: type[BaseException], error: BaseException, tb: object) -> None:
        # An interrupt that escaped every test (it arrived between tests, or in a plain TestCase): the
        # cleanups already ran while it unwound, and a traceback of the runner's frames would only hide the
        # account printed at exit.
        if isinstance(error, Interrupted):
            print(f"\ntestdata_kit: {error}; stopped outside a DataTestCase test", file=sys.stderr)
            return
        previous_hook(kind, error, tb)  # type: ignore[arg-type]

    sys.excepthook = excepthook
    for signum, default in ((signal.SIGINT, signal.default_int_handler), (signal.SIGTERM, signal.SIG_DFL)):
        if signal.getsignal(signum) is default:
            try:
                signal.signal(signum, _on_signal)
            except ValueError:  # not the main thread: signals can only be handled there
                return


def _on_signal(signum: int, frame: FrameType | None) -> None:
    global _signal, _deferred_signal
    if _ended:
        _signal = _signal or signum
        exit_like_signal(signum)
        return
    if _signal is not None:
        _give_up(signum)
    _signal = signum
    if _in_flight:
        _deferred_signal = signum
        return
    mp = sys.modules.get("multiprocessing")
    if mp is not None and mp.parent_process() is not None and not _busy() and not _idle_raises:
        # An idle worker of a process pool (Pool.terminate() sends SIGTERM): nothing of ours is running,
        # and an exception would only print a traceback from the pool's loop.
        _finish_run()
        _flush()
        os._exit(128 + signum)
    if not _busy() and _stop_between():
        # Between tests: the runner stops before the next one and prints its summary; the exit then unwinds
        # what is left and ends by the signal.
        return
    raise Interrupted(signum)


def _give_up(signum: int) -> None:
    left = len(ledger.current().live)
    journal = sys.modules.get("testdata_kit.journal")
    where = " (still in the journal: run 'python -m testdata_kit sweep --journal')" if journal else ""
    print(f"\ntestdata_kit: interrupted again; leaving {left} resource(s) undeleted{where}", file=sys.stderr)
    _flush()
    os._exit(128 + signum)


def exit_like_signal(signum: int | None = None) -> None:
    """After the end-of-run report, end the process by the signal it received, as a shell or CI runner expects.

    Python alone would exit with status 1 after an uncaught KeyboardInterrupt under ``python -m``.

    :param signum: the signal to end by; default: the one this module's handler received, if any.
    """
    signum = signum if signum is not None else _signal
    if signum is not None:
        _flush()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
