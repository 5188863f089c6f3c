"""Tracked resources: what was created, by which test, and its release (deleted, kept or leaked).

:func:`tracked` is the one path of a tracked creation. ``@creates`` factories, scenario links, ``uses``,
``DataFactory`` and HTTP collections all create through it, so that the order of its steps (resolve the scope,
journal the intent, hold interrupts, create, track, register the deletion) is written once.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator

from testdata_kit import _env, _interrupts, _scopes, ledger
from testdata_kit.errors import AlreadyGone, CleanupError, UsageError

# Names for annotations only. Importing typing would add a few milliseconds to ``import testdata_kit``, which
# unittest itself does not pay; type checkers treat this constant as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["GONE", "JOURNAL_ENV", "KEEP_ENV", "Resource", "atracked", "intend", "track", "tracked"]

#: ``TESTDATA_KEEP=failed`` keeps the data of failing tests for debugging.
KEEP_ENV = _env.KEEP_ENV
#: ``TESTDATA_JOURNAL=DIR`` journals every creation to DIR (see :mod:`testdata_kit.journal`).
JOURNAL_ENV = _env.JOURNAL_ENV

_journal_checked = False


class _Gone:
    def __repr__(self) -> str:
        return "GONE"


#: A deleter may return this to say the resource was already gone; that counts as a successful delete.
GONE: Any = _Gone()

_LIVE, _DELETED, _KEPT, _LEAKED = range(4)


class Resource:
    """One created thing, its deleter, and the test that owns it."""

    __slots__ = ("_delete", "_gone", "intent", "kind", "owner", "recovery", "scope", "state", "value")

    def __init__(
        self, kind: str, value: Any, delete: Callable[[], object], owner: Any = None,
        gone: tuple[type[BaseException], ...] = (), scope: str = "test", recovery: dict[str, Any] | None = None,
    ) -> None:
        self.kind = kind
        #: JSON-able description of how to delete this resource from another process after a crash,
        #: e.g. ``{"method": "DELETE", "url": "http://127.0.0.1:8000/users/17"}``; never holds secrets.
        self.recovery = recovery
        self.value = value
        self._delete = delete
        self._gone = gone
        self.owner = owner
        self.scope = scope
        self.state = _LIVE
        #: Number of the journal's "about to create" record, or ``None`` when nothing journals.
        self.intent: int | None = None

    @property
    def test_id(self) -> str:
        """The id of the owning test, the owning class's name, or the scope (``module``/``run``)."""
        owner = self.owner
        if owner is None:
            return f"<{self.scope}>"
        if isinstance(owner, type):
            return f"{owner.__module__}.{owner.__qualname__}"
        return str(owner.id()) if hasattr(owner, "id") else repr(owner)

    @property
    def ident(self) -> Any:
        """The resource's id when its value is a mapping or object with one, else ``None``."""
        value = self.value
        if isinstance(value, dict):
            return value.get("id")
        return getattr(value, "id", None)

    def __repr__(self) -> str:
        ident = self.ident
        shown = f"id={ident!r}" if ident is not None else _short(self.value)
        where = self.test_id.rpartition(".")[2] if self.owner is not None else self.test_id
        return f"<Resource {self.kind} {shown} test={where}>"

    @property
    def alive(self) -> bool:
        return self.state == _LIVE

    def release(self, *, defer_interrupts: bool = True) -> None:
        """Delete the resource once; a failure is recorded as a leak and raised as :class:`CleanupError`.

        An async deleter is run to its end here: in the owning test's event loop when it still has one (an
        interrupt unwinding an async test), else in a new one (the end of a class, module or run scope).

        :param defer_interrupts: hold a SIGINT or SIGTERM that arrives during the delete until the outcome is on
            record. Threads of a concurrent teardown pass ``False``: signals reach only the main thread, which
            is waiting for them and takes the interrupt itself.
        :raises UsageError: for an async deleter called from a running event loop; await :meth:`arelease` there.
        """
        if not self._must_delete():
            return
        if inspect.iscoroutinefunction(self._delete):
            _refuse_inside_loop(self)
        if defer_interrupts:
            _interrupts.enter_call()
        try:
            with self._deleting():
                result = self._delete()
                if inspect.isawaitable(result):
                    _run_to_end(result, self.owner)
        finally:
            # An interrupt that arrived during the delete is raised here, once the deletion is on record.
            if defer_interrupts:
                _interrupts.leave_call()

    async def arelease(self, *, defer_interrupts: bool = True) -> None:
        """Same as :meth:`release`, except that an async deleter is awaited in the running event loop.

        A sync deleter is called as it is. Registered with ``addAsyncCleanup`` by :func:`atracked`.
        """
        if not self._must_delete():
            return
        if defer_interrupts:
            _interrupts.enter_call()
        try:
            with self._deleting():
                result = self._delete()
                if inspect.isawaitable(result):
                    await result
        finally:
            if defer_interrupts:
                _interrupts.leave_call()

    def _must_delete(self) -> bool:
        """Whether a delete call is due: not when already released, nor when kept for a failed test."""
        if self.state != _LIVE:
            return False
        if _keep(self.owner):
            self.state = _KEPT
            ledger.current().mark_kept(self)
            print(f"testdata_kit: kept {self!r} of failed test {self.test_id}", file=sys.stderr)
            return False
        return True

    @contextlib.contextmanager
    def _deleting(self) -> Iterator[None]:
        """Record the outcome of the delete call made in the ``with`` block: deleted, or leaked and raised."""
        books = ledger.current()
        try:
            yield
        except (AlreadyGone, *self._gone):  # type: ignore[misc]
            pass
        except Exception as error:
            self.state = _LEAKED
            books.mark_leaked(self, f"{type(error).__name__}: {error}")
            raise CleanupError(self, error) from error
        except BaseException:
            # Interrupted half-way: whether it is gone is unknown, so the journal keeps it for a sweep.
            self.state = _LEAKED
            books.mark_leaked(self, "interrupted while deleting")
            raise
        self.state = _DELETED
        books.mark_deleted(self)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _keep(owner: Any) -> bool:
    # The environment is read only for failed tests: this runs for every deletion, and most tests pass.
    if owner is None:
        return False
    failed = getattr(owner, "_testdata_failed", None)
    if failed is None:
        outcome = getattr(owner, "_outcome", None)
        failed = outcome is not None and not outcome.success
    return bool(failed) and os.environ.get(KEEP_ENV, "").lower() == "failed"


def plain_id(value: Any) -> str | int | None:
    """Return the ``id`` of a mapping or object when it is a str or int (what a journal can record), else ``None``."""
    ident = value.get("id") if isinstance(value, dict) else getattr(value, "id", None)
    return ident if isinstance(ident, (str, int)) else None


def _recheck_journal_after_fork() -> None:
    # A forked child is a process of its own: it journals under its own pid, from its first creation on.
    global _journal_checked
    _journal_checked = False


os.register_at_fork(after_in_child=_recheck_journal_after_fork)


def _books() -> ledger.Ledger:
    if not _journal_checked:
        _check_journal()
    return ledger.current()


def _check_journal() -> None:
    # Once per process, at the first creation: nothing journal-related is imported when it is not enabled.
    global _journal_checked
    _journal_checked = True
    if _env.journal_requested():
        from testdata_kit import journal  # the journal observes the ledger and never imports this module

        journal.start()


def _track(
    kind: str, value: Any, delete: Callable[[], object], scope: str, holder: Any,
    gone: tuple[type[BaseException], ...] = (), recovery: dict[str, Any] | None = None, intent: int | None = None,
    register: bool = True,
) -> Resource:
    resource = Resource(kind, value, delete, holder, gone, scope, recovery)
    resource.intent = intent
    _books().add(resource)
    if register:
        if scope == "test" and hasattr(holder, "addAsyncCleanup") and inspect.iscoroutinefunction(delete):
            # In the test's own event loop, in the one newest-first cleanup list with the sync deletions.
            holder.addAsyncCleanup(resource.arelease)
        else:
            _scopes.add(resource.release, scope, holder)
    return resource


def _always(error: Exception) -> bool:
    return True


class _Creation:
    """The bookkeeping around one create call, shared by :func:`tracked` and :func:`atracked`.

    Made before the call: resolves the scope, journals the intent and holds interrupts. Then :meth:`failed` or
    :meth:`made`, and always :meth:`end`, which lets an interrupt that waited through.
    """

    def __init__(self, kind: str, scope: str | None, owner: Any) -> None:
        self.kind = kind
        self.scope, self.holder = _scopes.resolve(scope, owner, kind)
        self.books = _books()
        _interrupts.enter_call()
        try:
            self.intent = (self.books.intend(ledger.new_number(), kind, self.scope, self.holder)
                           if self.books.observers else None)
        except BaseException:
            _interrupts.leave_call()
            raise

    def failed(self, error: Exception, created_nothing: Callable[[Exception], bool]) -> None:
        if self.intent is not None and created_nothing(error):
            self.books.abandon(self.intent)

    def made(
        self, value: Any, delete: Callable[[], object], gone: Iterable[type[BaseException]],
        recovery: dict[str, Any] | Callable[[Any], dict[str, Any] | None] | None, register: bool,
    ) -> Resource:
        if callable(recovery):
            recovery = recovery(value)
        return _track(self.kind, value, delete, self.scope, self.holder, tuple(gone), recovery, self.intent, register)

    def end(self) -> None:
        # An interrupt that arrived while the resource was being made is raised here, once it is on record.
        _interrupts.leave_call()


def tracked(
    kind: str, make: Callable[[], tuple[Any, Callable[[], object]]], *, scope: str | None = None, owner: Any = None,
    gone: Iterable[type[BaseException]] = (),
    recovery: dict[str, Any] | Callable[[Any], dict[str, Any] | None] | None = None, register: bool = True,
    created_nothing: Callable[[Exception], bool] = _always,
) -> Resource:
    """Create one resource through *make* and track it: the one path every tracked creation takes.

    In order: resolve the scope (a resource nobody could delete is never created: :class:`NoScopeError` comes
    first); journal "about to create" when a journal is on; hold SIGINT and SIGTERM until the resource is on
    record; call *make*; record the resource in the ledger; register its deletion at the end of the scope.
    When *make* raises an ordinary exception for which *created_nothing* is true, the journal marks the intent
    abandoned; any other exception, and an interrupt (a ``BaseException``), leave the intent open, since the
    create call may have gone through, so that ``sweep --journal`` can find it after a crash.

    :param kind: the kind's name, as the ledger and the journal show it.
    :param make: creates the resource and returns ``(value, delete)``, *delete* taking no arguments.
    :param scope: ``'test'``, ``'class'``, ``'module'``, ``'run'``, or ``None`` for the innermost one running.
    :param owner: the test or TestCase class that owns the resource, when not the one running now.
    :param gone: exception types *delete* raises when the resource no longer exists; they count as deleted.
    :param recovery: how another process could delete it after a crash (JSON-able, no secrets), or a callable
        that returns it given the value: ``{"method": "DELETE", "url": ...}`` or ``{"call": "mod:func", "id": 7}``.
    :param register: register the deletion at the end of the scope; ``False`` for a caller that releases the
        resource itself at its turn (a scenario orders the deletions of its links).
    :param created_nothing: says whether an exception of *make* proves that nothing was created (default: any).
    :returns: the :class:`Resource`; its ``value`` is what *make* returned.
    :raises NoScopeError: no scope was given and no test or class is running.
    """
    creation = _Creation(kind, scope, owner)
    try:
        try:
            value, delete = make()
        except Exception as error:
            creation.failed(error, created_nothing)
            raise
        return creation.made(value, delete, gone, recovery, register)
    finally:
        creation.end()


async def atracked(
    kind: str, make: Callable[[], Awaitable[tuple[Any, Callable[[], object]]]], *, scope: str | None = None,
    owner: Any = None, gone: Iterable[type[BaseException]] = (),
    recovery: dict[str, Any] | Callable[[Any], dict[str, Any] | None] | None = None, register: bool = True,
    created_nothing: Callable[[Exception], bool] = _always,
) -> Resource:
    """Same as :func:`tracked`, except that *make* is awaited: the one path of an async tracked creation.

    The steps and their order are :func:`tracked`'s; interrupts are held while *make* is awaited, so a SIGINT
    during an awaited POST waits until the resource is on record. *delete* may be an async callable: in a test
    of an ``IsolatedAsyncioTestCase`` it is registered with ``addAsyncCleanup`` (in the one newest-first cleanup
    list with the sync deletions), elsewhere it is run to its end by :meth:`Resource.release`.

    :param make: an async callable (no arguments) returning ``(value, delete)``.
    :returns: the :class:`Resource`.
    :raises NoScopeError: no scope was given and no test or class is running.
    """
    creation = _Creation(kind, scope, owner)
    try:
        try:
            value, delete = await make()
        except Exception as error:
            creation.failed(error, created_nothing)
            raise
        return creation.made(value, delete, gone, recovery, register)
    finally:
        creation.end()


def _refuse_inside_loop(resource: Resource) -> None:
    import asyncio  # only for async deleters, so that sync suites never import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise UsageError(
        f"{resource!r} has an async deleter, and release() was called inside a running event loop, which it "
        f"cannot block. Use 'await resource.arelease()' there (an AsyncScenario's teardown is awaited too)."
    )


def _run_to_end(awaitable: Awaitable[object], owner: Any) -> None:
    import asyncio

    async def wait() -> None:
        await awaitable

    # The owning test's loop, when it is still open: its async clients are bound to it.
    runner = getattr(owner, "_asyncioRunner", None)
    if runner is not None:
        try:
            runner.get_loop()
        except RuntimeError:  # closed: the test is over
            runner = None
    if runner is not None:
        runner.run(wait())
    else:
        asyncio.run(wait())


def track(
    kind: str, value: Any, delete: Callable[[], object], *, scope: str | None = None, owner: Any = None,
    gone: Iterable[type[BaseException]] = (), recovery: dict[str, Any] | None = None, intent: int | None = None,
) -> Resource:
    """Record something already created, and register *delete* (no arguments) at the end of *scope*.

    For what was created outside testdata_kit; code that creates should prefer :func:`tracked`, which also
    journals the intent before the create call and holds interrupts during it.

    :param recovery: how another process could delete it after a crash (JSON-able, no secrets), for the journal:
        ``{"method": "DELETE", "url": ...}`` or ``{"call": "module:function", "id": ...}``.
    :param intent: what :func:`intend` returned before the create call; without it the journal writes the
        intent and the confirmation together.
    """
    scope, holder = _scopes.resolve(scope, owner, kind)
    return _track(kind, value, delete, scope, holder, tuple(gone), recovery, intent)


def intend(kind: str, *, scope: str | None = None, owner: Any = None) -> int | None:
    """Journal "about to create *kind*" before an integration's create call; pass the result to :func:`track`.

    Returns ``None`` (and costs nothing) when no journal is enabled.
    """
    books = _books()
    if not books.observers:
        return None
    scope, holder = _scopes.resolve(scope, owner, kind)
    return books.intend(ledger.new_number(), kind, scope, holder)
