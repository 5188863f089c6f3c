"""What is running, and how the run ends: run-scope cleanups, the last retry of refused deletions, the account.

This module owns the running tests and classes and runs their cleanups, also when an interrupt unwinds them
(:func:`unwind`); :mod:`testdata_kit._interrupts`, below it, owns the signal state, and
:mod:`testdata_kit._scopes`, above it, chooses where each cleanup goes.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import unittest
from collections.abc import Callable

from testdata_kit import _interrupts, _parallel, _settings, ledger
from testdata_kit.errors import TestDataError

# Names for annotations only. Importing typing would add a few milliseconds to ``import testdata_kit``, which
# unittest itself does not pay; type checkers treat this constant as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "current_class", "current_test", "final_attempt", "finish_run", "hook_result", "install_finish",
    "mark_finished", "note_usage", "pop_class", "pop_test", "push_class", "push_test", "retry_passes",
    "run_cleanups", "run_scope_cleanups", "running_classes", "running_tests", "unwind",
]

# A stack rather than a single slot: a test may run another test (unittest's own tests do, and so do ours).
running_tests: list[unittest.TestCase] = []
running_classes: list[type] = []
run_scope_cleanups: list[Callable[[], object]] = []
_finish_installed = False
_run_finished = False
_unwound = False
# The unittest result the run reports to, and whether one of its tests (of any TestCase) is running.
_result: Any = None
_in_test = False


def _forget_after_fork() -> None:
    # The child of a fork inherits these stacks; left as they are, its exit would run the parent's run-scope
    # cleanups and delete data the parent still uses.
    global _finish_installed, _run_finished, _result, _in_test
    running_tests.clear()
    running_classes.clear()
    run_scope_cleanups.clear()
    _finish_installed = _run_finished = _in_test = False
    _result = None


os.register_at_fork(after_in_child=_forget_after_fork)


def current_test() -> unittest.TestCase | None:
    """Return the DataTestCase test running now, or ``None`` outside a test."""
    return running_tests[-1] if running_tests else None


def current_class() -> type | None:
    """Return the class whose ``setUpClass`` or ``tearDownClass`` is running now, if any."""
    return running_classes[-1] if running_classes else None


def push_test(test: unittest.TestCase) -> None:
    running_tests.append(test)


def pop_test(test: unittest.TestCase) -> None:
    if _interrupted():
        unwind(test)
    if running_tests and running_tests[-1] is test:
        running_tests.pop()


def push_class(cls: type) -> None:
    running_classes.append(cls)


def pop_class(cls: type) -> None:
    if _interrupted():
        unwind(None)
    if running_classes and running_classes[-1] is cls:
        running_classes.pop()


def _interrupted() -> bool:
    return _interrupts.received() is not None


def unwind(test: Any) -> None:
    """Run the pending cleanups of the tests, classes, modules and run, then release what is still live.

    Called once, while an interrupt unwinds through a test or class context, or at exit.
    """
    global _unwound
    signum = _interrupts.received()
    if _unwound or signum is None:
        return
    _unwound = True
    books = ledger.current()
    name = signal.Signals(signum).name
    print(
        f"\ntestdata_kit: interrupted by {name}; deleting {len(books.live)} pending resource(s) "
        f"(send it again to stop and leave them for a sweep)",
        file=sys.stderr, flush=True,
    )
    tests = [*reversed(running_tests)]
    if test is not None and test not in tests:
        tests.insert(0, test)
    classes: list[type] = []
    for cls in [*(type(t) for t in tests), *reversed(running_classes)]:
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
    for error in run_cleanups():
        print(f"testdata_kit: run-scope cleanup failed: {error}", file=sys.stderr)
    for resource in reversed(books.still_live()):
        _run(f"deleting {resource!r}", resource.release)


def _run(what: str, call: Any) -> None:
    try:
        call()
    except Exception as error:
        print(f"testdata_kit: {what} after the interrupt failed: {error}", file=sys.stderr)



def retry_passes(resources: list[Any]) -> tuple[list[Any], list[BaseException]]:
    """Try the deletion of every refused resource again, newest first, pass after pass until one deletes nothing.

    :returns: the resources still refused, and the errors of deletions that failed for another reason (those
        are leaks now, each a :class:`~testdata_kit.CleanupError`).
    """
    pending = [resource for resource in resources if resource.alive]
    errors: list[BaseException] = []
    while pending:
        left = []
        for resource in reversed(pending):
            try:
                if not resource.attempt():
                    left.append(resource)
            except Exception as error:
                errors.append(error)
        left.reverse()
        if len(left) == len(pending):
            break
        pending = left
    return pending, errors


def final_attempt() -> list[BaseException]:
    """Give every deletion still refused one last series of passes; record what remains as leaked.

    Runs at the end of the run (:func:`run_cleanups`). Returns the errors, a
    :class:`~testdata_kit.CleanupError` per leaked resource, naming its last refusal.
    """
    books = ledger.current()
    waiting, books.refused = list(books.refused.values()), {}
    left, errors = retry_passes(waiting)
    for resource in left:
        failure = resource.give_up()
        if failure is not None:
            errors.append(failure)
    return errors


def install_finish() -> None:
    global _finish_installed
    if _finish_installed:
        return
    _finish_installed = True
    atexit.register(finish_run)
    _interrupts.install(busy=lambda: bool(running_tests or running_classes), finish_run=finish_run,
                        stop_between=_stop_between)
    # Worker processes of multiprocessing leave through os._exit and never run atexit handlers; their own
    # finalizers do run. Only consult multiprocessing when the program already imported it.
    mp = sys.modules.get("multiprocessing")
    if mp is not None and mp.parent_process() is not None:
        from multiprocessing import util

        util.Finalize(None, finish_run, exitpriority=100)


def hook_result(result: Any) -> bool:
    """End the run scope when *result*'s test run stops, and report failed run-scope cleanups as its errors.

    unittest's runners call ``stopTestRun`` once, after the last test and before they print the summary and
    choose the exit status: the last moment at which a failed deletion can still fail the run. Results
    without it (pytest's) are left alone; the pytest plugin ends the run there.

    At the first test of a run it also checks the settings (:func:`testdata_kit._settings.check_start`): an
    unusable one is added as one error, the run stops, and ``False`` says not to run the test.
    """
    if result is None or getattr(result, "_testdata_run_hook", False):
        return True
    stop = getattr(result, "stopTestRun", None)
    if stop is None:
        return True
    try:
        _settings.check_start()
    except TestDataError as error:  # SettingError, or ConfigError for a key of setup.cfg
        holder = unittest.suite._ErrorHolder("testdata_kit settings")  # type: ignore[attr-defined]
        result.addError(holder, (type(error), error, None))
        result.stop()
        with contextlib.suppress(AttributeError):
            result._testdata_run_hook = True
        return False

    def stopTestRun() -> None:
        for error in run_cleanups():
            # A deletion refused until the end of the run is an error of the test that created the resource.
            owner = getattr(getattr(error, "resource", None), "owner", None)
            if not isinstance(owner, unittest.TestCase):
                owner = unittest.suite._ErrorHolder("run-scope cleanup (testdata_kit)")  # type: ignore[attr-defined]
            result.addError(owner, (type(error), error, error.__traceback__))
        if "unittest_parallel.main" in sys.modules:
            # Each unittest-parallel task ends here, before its result goes back to the parent; the pool may
            # then terminate this worker before its exit handlers get to report.
            _parallel.send(ledger.current())
        stop()

    start_test, stop_test = result.startTest, result.stopTest

    def startTest(test: Any) -> None:
        global _in_test
        _in_test = True
        start_test(test)

    def stopTest(test: Any) -> None:
        global _in_test
        stop_test(test)
        _in_test = False

    global _result
    try:
        result.stopTestRun = stopTestRun
        result.startTest, result.stopTest = startTest, stopTest
        result._testdata_run_hook = True
        _result = result
    except AttributeError:  # a result with __slots__: the end of the process still runs the cleanups
        pass
    return True


def _stop_between() -> bool:
    """Ask the unittest runner to stop before its next test when none is running; ``False`` when it cannot."""
    if _result is None or _in_test or running_tests or running_classes or not hasattr(_result, "shouldStop"):
        return False
    _result.shouldStop = True
    return True


def run_cleanups() -> list[BaseException]:
    """Run the pending run-scope cleanups, newest first, then the :func:`final_attempt`; return the errors."""
    errors: list[BaseException] = []
    while run_scope_cleanups:
        cleanup = run_scope_cleanups.pop()
        try:
            cleanup()
        except Exception as error:  # every cleanup gets its turn; the ledger already names the resource
            errors.append(error)
    return errors + final_attempt()


def finish_run(stream: Any = None, *, end_by_signal: bool = True) -> None:
    """End the run in this process: run-scope cleanups, then the leak report. Safe to call more than once.

    :param end_by_signal: after an interrupt, end the process by its signal; a runner's worker, which still
        reports to its parent, passes ``False``.
    """
    global _run_finished
    if _run_finished:
        return
    _run_finished = True
    if _interrupted():
        unwind(None)
    for error in run_cleanups():
        print(f"testdata_kit: run-scope cleanup failed: {error}", file=stream or sys.stderr)
    books = ledger.current()
    books.close()
    try:
        if "unittest_parallel.main" in sys.modules and _parallel.send(books):
            # A unittest-parallel worker: the parent prints one total for all of them.
            books.write_report(stream, echo=False)
        else:
            books.write_report(stream)
    except OSError as error:
        # The run already chose its exit status; a lost report must still fail it, so leave with 1 at once.
        print(f"testdata_kit: the account could not be written to {_settings.where('report')}="
              f"{_settings.value('report')}: {error.strerror or error}. The run fails, because its account is lost: "
              f"check that the folder exists, is writable and has room, or unset the variable.",
              file=stream or sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(1)
    if end_by_signal:
        _interrupts.run_ended()
    if _interrupted() and end_by_signal:
        _interrupts.exit_like_signal()


def mark_finished() -> None:
    """Record that a host (the pytest plugin) already ended the run, so that atexit prints nothing twice."""
    global _run_finished
    _run_finished = True
    _interrupts.run_ended()


def note_usage() -> None:
    """Make sure the end-of-run report is printed, even when no run-scope cleanup was registered."""
    install_finish()


if "unittest_parallel.main" in sys.modules:  # only under unittest-parallel; costs one lookup elsewhere
    _parallel.install()
