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
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import unittest
from types import FrameType

from testdata_kit import _env, _scopes, ledger

# Names for annotations only. Importing typing would add a few milliseconds to ``import testdata_kit``, which
# unittest itself does not pay; type checkers treat this constant as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["INTERRUPTS_ENV", "Interrupted", "install", "received"]

INTERRUPTS_ENV = _env.INTERRUPTS_ENV

_signal: int | None = None
_installed = False
_unwound = False


class Interrupted(KeyboardInterrupt):
    """The run was interrupted by a signal; raised in the main thread so that the tests' code unwinds."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


def received() -> int | None:
    """Return the first SIGINT/SIGTERM this process received, or ``None``."""
    return _signal


def install() -> None:
    """Handle SIGINT and SIGTERM where their handlers are still Python's defaults (main thread only)."""
    global _installed
    if _installed or os.environ.get(INTERRUPTS_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return
    _installed = True
    for signum, default in ((signal.SIGINT, signal.default_int_handler), (signal.SIGTERM, signal.SIG_DFL)):
        if signal.getsignal(signum) is default:
            try:
                signal.signal(signum, _on_signal)
            except ValueError:  # not the main thread: signals can only be handled there
                return


def _on_signal(signum: int, frame: FrameType | None) -> None:
    global _signal
    if _signal is not None:
        _give_up(signum)
    _signal = signum
    if _scopes._in_flight:
        _scopes._deferred_signal = signum
        return
    mp = sys.modules.get("multiprocessing")
    if mp is not None and mp.parent_process() is not None and not (_scopes._tests or _scopes._classes):
        # An idle worker of a process pool (Pool.terminate() sends SIGTERM): nothing of ours is running,
        # and an exception would only print a traceback from the pool's loop.
        _scopes.finish_run()
        _flush()
        os._exit(128 + signum)
    raise Interrupted(signum)


def raise_interrupt(signum: int) -> None:
    """Raise the interrupt that waited for a create or delete call to return."""
    raise Interrupted(signum)


def _give_up(signum: int) -> None:
    left = len(ledger.current().live)
    journal = sys.modules.get("testdata_kit.journal")
    where = " (still in the journal: run 'python -m testdata_kit sweep --journal')" if journal else ""
    print(f"\ntestdata_kit: interrupted again; leaving {left} resource(s) undeleted{where}", file=sys.stderr)
    _flush()
    os._exit(128 + signum)


def unwind(test: Any) -> None:
    """Run the pending cleanups of the tests, classes, modules and run, then release what is still live.

    Called once, while an interrupt unwinds through a test or class context, or at exit.
    """
    global _unwound
    if _unwound or _signal is None:
        return
    _unwound = True
    books = ledger.current()
    name = signal.Signals(_signal).name
    print(
        f"\ntestdata_kit: interrupted by {name}; deleting {len(books.live)} pending resource(s) "
        f"(send it again to stop and leave them for a sweep)",
        file=sys.stderr, flush=True,
    )
    tests = [*reversed(_scopes._tests)]
    if test is not None and test not in tests:
        tests.insert(0, test)
    classes: list[type] = []
    for cls in [*(type(t) for t in tests), *reversed(_scopes._classes)]:
        if cls not in classes:
            classes.append(cls)
    for each in tests:
        _run("test cleanups", each.doCleanups)
    for cls in classes:
        do_class_cleanups = getattr(cls, "doClassCleanups", None)
        if do_class_cleanups is not None:
            _run("class cleanups", do_class_cleanups)
    # doModuleCleanups raises only the first error; run it until the list is empty so none is skipped.
    while unittest.case._module_cleanups:  # type: ignore[attr-defined]
        _run("module cleanups", unittest.case.doModuleCleanups)
    for error in _scopes.run_cleanups():
        print(f"testdata_kit: run-scope cleanup failed: {error}", file=sys.stderr)
    for resource in reversed(books.still_live()):
        _run(f"deleting {resource!r}", resource.release)


def _run(what: str, call: Any) -> None:
    try:
        call()
    except Exception as error:
        print(f"testdata_kit: {what} after the interrupt failed: {error}", file=sys.stderr)


def exit_like_signal() -> None:
    """After the end-of-run report, end the process by the signal it received, as a shell or CI runner expects.

    Python alone would exit with status 1 after an uncaught KeyboardInterrupt under ``python -m``.
    """
    if _signal is not None:
        _flush()
        signal.signal(_signal, signal.SIG_DFL)
        os.kill(os.getpid(), _signal)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
