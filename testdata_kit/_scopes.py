"""Where cleanups go: the running test, its class, its module, or the end of the run.

This module owns the running tests and classes and runs their cleanups, also when an interrupt unwinds them
(:func:`unwind`); :mod:`testdata_kit._interrupts`, below it, owns the signal state.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import signal
import sys
import unittest
from collections.abc import Callable

from testdata_kit import _interrupts, _parallel, _settings, ledger
from testdata_kit.errors import InvalidValueError, NoScopeError, TestDataError

# Names for annotations only. Importing typing would add a few milliseconds to ``import testdata_kit``, which
# unittest itself does not pay; type checkers treat this constant as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "SCOPES", "current_class", "current_test", "defer", "final_attempt", "finish_run", "register", "retry_passes",
]

#: The scopes a resource or cleanup can belong to, innermost first.
SCOPES = ("test", "class", "module", "run")

# A stack rather than a single slot: a test may run another test (unittest's own tests do, and so do ours).
_tests: list[unittest.TestCase] = []
_classes: list[type] = []
_run_cleanups: list[Callable[[], object]] = []
# Refused deletions waiting for the retry pass at the end of their scope, by scope holder.
_refused: dict[tuple[str, int], dict[int, Any]] = {}
_finish_installed = False
_run_finished = False
_unwound = False


def _forget_after_fork() -> None:
    # The child of a fork inherits these stacks; left as they are, its exit would run the parent's run-scope
    # cleanups and delete data the parent still uses.
    global _finish_installed, _run_finished
    _tests.clear()
    _classes.clear()
    _run_cleanups.clear()
    _refused.clear()
    _finish_installed = _run_finished = False


os.register_at_fork(after_in_child=_forget_after_fork)


def current_test() -> unittest.TestCase | None:
    """Return the DataTestCase test running now, or ``None`` outside a test."""
    return _tests[-1] if _tests else None


def current_class() -> type | None:
    """Return the class whose ``setUpClass`` or ``tearDownClass`` is running now, if any."""
    return _classes[-1] if _classes else None


def push_test(test: unittest.TestCase) -> None:
    _tests.append(test)


def pop_test(test: unittest.TestCase) -> None:
    if _interrupted():
        unwind(test)
    if _tests and _tests[-1] is test:
        _tests.pop()


def push_class(cls: type) -> None:
    _classes.append(cls)


def pop_class(cls: type) -> None:
    if _interrupted():
        unwind(None)
    if _classes and _classes[-1] is cls:
        _classes.pop()


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
    tests = [*reversed(_tests)]
    if test is not None and test not in tests:
        tests.insert(0, test)
    classes: list[type] = []
    for cls in [*(type(t) for t in tests), *reversed(_classes)]:
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


def resolve(scope: str | None, owner: Any, kind: str) -> tuple[str, Any]:
    """Return the scope and the object that owns the cleanup (a test, a class, or None)."""
    if scope is None:
        if owner is not None:
            scope = "class" if isinstance(owner, type) else "test"
        elif _tests:
            return "test", _tests[-1]
        elif _classes:
            return "class", _classes[-1]
        else:
            raise NoScopeError(kind)
    if scope == "test":
        test = owner if owner is not None else current_test()
        if test is None or isinstance(test, type):
            raise NoScopeError(kind)
        return scope, test
    if scope == "class":
        cls = owner if owner is not None else current_class()
        if cls is None and _tests:
            cls = type(_tests[-1])
        if isinstance(cls, unittest.TestCase):
            cls = type(cls)
        if not (isinstance(cls, type) and issubclass(cls, unittest.TestCase)):
            raise InvalidValueError(
                f"scope='class' needs a TestCase class to own the cleanup, got {cls!r}. "
                f"Call cls.create(...) in setUpClass, or pass owner=YourTestCase."
            )
        return scope, cls
    if scope in ("module", "run"):
        return scope, None
    raise InvalidValueError(f"Unknown scope {scope!r}. Choose one of: {', '.join(repr(s) for s in SCOPES)}.")


def register(cleanup: Callable[[], object], scope: str | None = None, owner: Any = None, kind: str = "cleanup") -> str:
    """Run *cleanup* at the end of *scope* and return the scope used.

    Same as unittest's ``addCleanup``/``addClassCleanup``/``addModuleCleanup``, except that the owner is found
    from context when omitted, and that ``'run'`` cleanups run once at the end of the process (under pytest, at
    the end of the session). All scopes are last-in, first-out, interleaved with the user's own cleanups.

    :param scope: ``'test'``, ``'class'``, ``'module'``, ``'run'``, or ``None`` for the innermost one running.
    :param owner: the test (or TestCase class) that owns the cleanup, when not the one running now.
    :param kind: named in the error raised when no scope can own the cleanup.
    """
    scope, holder = resolve(scope, owner, kind)
    add(cleanup, scope, holder)
    return scope


def add(cleanup: Callable[[], object], scope: str, holder: Any) -> None:
    """Same as :func:`register` for a scope and holder that :func:`resolve` already returned."""
    if scope == "test":
        holder.addCleanup(cleanup)
    elif scope == "class":
        holder.addClassCleanup(cleanup)
    elif scope == "module":
        unittest.addModuleCleanup(cleanup)
    else:
        _install_finish()
        _run_cleanups.append(cleanup)


def add_last(cleanup: Callable[[], object], scope: str, holder: Any) -> None:
    """Same as :func:`add`, except that *cleanup* runs after every cleanup of the scope registered so far or later.

    It goes to the bottom of the scope's last-in, first-out stack, which may already be unwinding.
    """
    entry: tuple[Callable[[], object], tuple[()], dict[str, Any]] = (cleanup, (), {})
    if scope == "test":
        holder._cleanups.insert(0, entry)
    elif scope == "class":
        holder._class_cleanups.insert(0, entry)
    elif scope == "module":
        unittest.case._module_cleanups.insert(0, entry)  # type: ignore[attr-defined]
    else:
        _install_finish()
        _run_cleanups.insert(0, cleanup)


def defer(resource: Any) -> None:
    """Retry the refused deletion of *resource* after the rest of its scope (once the scope's other cleanups ran).

    The scope's retry pass tries every refused deletion again, newest first, pass after pass until a pass
    deletes nothing more. What is still refused then waits for :func:`final_attempt` at the end of the run.
    """
    ledger.current().refused[id(resource)] = resource
    key = (resource.scope, id(resource.owner))  # not the owner itself: equal TestCases may be distinct tests
    pending = _refused.get(key)
    if pending is None:
        pending = _refused[key] = {}
        add_last(functools.partial(_scope_pass, key), resource.scope, resource.owner)
    pending[id(resource)] = resource


def _scope_pass(key: tuple[str, int]) -> None:
    left, errors = retry_passes(list(_refused.pop(key, {}).values()))
    for resource in left:
        print(f"testdata_kit: deleting {resource!r} is still refused ({_reason(resource)}); it gets one last "
              f"attempt at the end of the run", file=sys.stderr)
    if left:
        _install_finish()
    _raise_each(errors)


def _reason(resource: Any) -> str:
    error = resource.refusal
    return f"{type(error).__name__}: {error}" if error is not None else "refused"


def _raise_each(errors: list[BaseException]) -> None:
    # unittest reports each raising cleanup as an error of its own: the first error is raised here, the others
    # from cleanups of their own at the bottom of the same scope.
    if not errors:
        return
    for error in errors[1:]:
        owner = getattr(getattr(error, "resource", None), "owner", None)
        scope = getattr(getattr(error, "resource", None), "scope", "run")
        add_last(functools.partial(_reraise, error), scope, owner)
    raise errors[0]


def _reraise(error: BaseException) -> None:
    raise error


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


def _install_finish() -> None:
    global _finish_installed
    if _finish_installed:
        return
    _finish_installed = True
    atexit.register(finish_run)
    _interrupts.install(busy=lambda: bool(_tests or _classes), finish_run=finish_run)
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

    try:
        result.stopTestRun = stopTestRun
        result._testdata_run_hook = True
    except AttributeError:  # a result with __slots__: the end of the process still runs the cleanups
        pass
    return True


def run_cleanups() -> list[BaseException]:
    """Run the pending run-scope cleanups, newest first, then the :func:`final_attempt`; return the errors."""
    errors: list[BaseException] = []
    while _run_cleanups:
        cleanup = _run_cleanups.pop()
        try:
            cleanup()
        except Exception as error:  # every cleanup gets its turn; the ledger already names the resource
            errors.append(error)
    return errors + final_attempt()


def finish_run(stream: Any = None) -> None:
    """End the run in this process: run-scope cleanups, then the leak report. Safe to call more than once."""
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
    if _interrupted():
        _interrupts.exit_like_signal()


def mark_finished() -> None:
    """Record that a host (the pytest plugin) already ended the run, so that atexit prints nothing twice."""
    global _run_finished
    _run_finished = True


def note_usage() -> None:
    """Make sure the end-of-run report is printed, even when no run-scope cleanup was registered."""
    _install_finish()


if "unittest_parallel.main" in sys.modules:  # only under unittest-parallel; costs one lookup elsewhere
    _parallel.install()
