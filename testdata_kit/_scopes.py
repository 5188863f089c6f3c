"""Where cleanups go: the running test, its class, its module, or the end of the run.

This module chooses the scope and the holder of each cleanup, and retries refused deletions at the end of their
scope (:func:`defer`); :mod:`testdata_kit._running`, below it, owns the running tests and classes, the run-scope
cleanups and the end of the run, and everything public there is importable from here too.
"""

from __future__ import annotations

import functools
import os
import sys
import unittest
from collections.abc import Callable

from testdata_kit import ledger
from testdata_kit._running import current_class, current_test, final_attempt, finish_run, retry_passes
from testdata_kit._running import hook_result as hook_result
from testdata_kit._running import install_finish as _install_finish
from testdata_kit._running import mark_finished as mark_finished
from testdata_kit._running import note_usage as note_usage
from testdata_kit._running import pop_class as pop_class
from testdata_kit._running import pop_test as pop_test
from testdata_kit._running import push_class as push_class
from testdata_kit._running import push_test as push_test
from testdata_kit._running import run_cleanups as run_cleanups
from testdata_kit._running import run_scope_cleanups as _run_cleanups
from testdata_kit._running import running_classes as _classes
from testdata_kit._running import running_tests as _tests
from testdata_kit._running import unwind as unwind
from testdata_kit.errors import InvalidValueError, NoScopeError

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

# Refused deletions waiting for the retry pass at the end of their scope, by scope holder.
_refused: dict[tuple[str, int], dict[int, Any]] = {}


def _forget_after_fork() -> None:
    # The child of a fork inherits the refused deletions of the parent's scopes, which are not its own.
    _refused.clear()


os.register_at_fork(after_in_child=_forget_after_fork)


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
