"""Tracked resources: what was created, by which test, and its release (deleted, kept or leaked).

:func:`tracked` is the one path of a tracked creation. ``@creates`` factories, scenario links, ``uses``,
``DataFactory`` and HTTP collections all create through it, so that the order of its steps (resolve the scope,
journal the intent, hold interrupts, create, track, register the deletion) is written once. The
:class:`Resource` and its release live in ``testdata_kit._resource``, the refusal policy (:func:`retry_later`) in
``testdata_kit._refusals``; import them from here.
"""

from __future__ import annotations

import inspect
import os
import unittest
from collections.abc import Awaitable, Callable, Iterable

from testdata_kit import _env, _interrupts, _refusals, _scopes, _settings, ledger
from testdata_kit._refusals import check_answer, refused_statuses, retry_later
from testdata_kit._resource import GONE, Resource
from testdata_kit._resource import plain_id as plain_id

# Names for annotations only. Importing typing would add a few milliseconds to ``import testdata_kit``, which
# unittest itself does not pay; type checkers treat this constant as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "GONE", "JOURNAL_ENV", "KEEP_ENV", "REFUSED_STATUSES", "Resource", "atracked", "check_answer", "intend",
    "refused_statuses", "retry_later", "track", "tracked",
]

#: ``TESTDATA_KEEP=failed`` keeps the data of failing tests for debugging.
KEEP_ENV = _env.KEEP_ENV
#: ``TESTDATA_JOURNAL=DIR`` journals every creation to DIR (see :mod:`testdata_kit.journal`).
JOURNAL_ENV = _env.JOURNAL_ENV

_journal_checked = False

#: Statuses that mean "refused for now" when neither the kind nor ``refused-statuses`` in setup.cfg says
#: otherwise: a bad request, a conflict (a row still referenced), a failed precondition, an unprocessable entity.
REFUSED_STATUSES = _refusals.REFUSED_STATUSES


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
    # The settings are checked here too, for the hosts that start no unittest run (pytest, a script); an
    # unusable one is raised by every creation, so none goes unjournaled.
    global _journal_checked
    _settings.check_start()
    if _env.journal_requested():
        from testdata_kit import journal  # the journal observes the ledger and never imports this module

        # A store that cannot be reached raises here, at every creation until it can: none goes unjournaled.
        journal.start()
    _journal_checked = True


def _track(
    kind: str, value: Any, delete: Callable[[], object], scope: str, holder: Any,
    gone: tuple[type[BaseException], ...] = (), recovery: dict[str, Any] | None = None, intent: int | None = None,
    register: bool = True, refused: tuple[int | type[BaseException], ...] | None = None,
) -> Resource:
    resource = Resource(kind, value, delete, holder, gone, scope, recovery, refused, intent)
    _books().add(resource)
    if register:
        _scopes.add(resource.release, scope, holder)
    return resource


def _always(error: Exception) -> bool:
    return True


def tracked(
    kind: str, make: Callable[[], tuple[Any, Callable[[], object]]], *, scope: str | None = None, owner: Any = None,
    gone: Iterable[type[BaseException]] = (),
    recovery: dict[str, Any] | Callable[[Any], dict[str, Any] | None] | None = None, register: bool = True,
    created_nothing: Callable[[Exception], bool] = _always,
    refused: Iterable[int | type[BaseException]] | None = None,
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
    :param refused: statuses and exception types that mean "refused for now, retry later" for this resource
        (see :meth:`Resource.attempt`); default: the configured refused statuses.
    :returns: the :class:`Resource`; its ``value`` is what *make* returned.
    :raises NoScopeError: no scope was given and no test or class is running.
    """
    scope, holder = _scopes.resolve(scope, owner, kind)
    return tracked_in(kind, make, (), {}, scope, holder, gone if type(gone) is tuple else tuple(gone), recovery,
                      register, refused if refused is None or type(refused) is tuple else tuple(refused),
                      created_nothing=created_nothing)


def tracked_in(
    kind: str, make: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
    scope: str, holder: Any, gone: tuple[type[BaseException], ...] = (),
    recovery: dict[str, Any] | Callable[[Any], dict[str, Any] | None] | None = None, register: bool = True,
    refused: tuple[int | type[BaseException], ...] | None = None, deleter: Callable[[Any], object] | None = None,
    created_nothing: Callable[[Exception], bool] = _always,
) -> Resource:
    """:func:`tracked` in a scope already resolved: the same steps, with ``make(*args, **kwargs)``.

    For callers that resolved the scope themselves (the factories), so that a creation costs one resolve and
    no ``functools.partial``.

    :param scope: and *holder*: as :func:`testdata_kit._scopes.resolve` returned them.
    :param gone: and *refused*: tuples (or ``None`` for *refused*), as :class:`Resource` holds them.
    :param deleter: when given, *make* returns the value alone, and ``deleter(value)`` deletes it.
    :returns: the :class:`Resource`.
    """
    if not _journal_checked:
        _check_journal()
    books = ledger.current()
    _interrupts.enter_call()
    try:
        intent = books.intend(ledger.new_number(), kind, scope, holder) if books.observers else None
        try:
            if deleter is None:
                value, delete = make(*args, **kwargs)
            else:
                value, delete = make(*args, **kwargs), deleter
        except Exception as error:
            if intent is not None and created_nothing(error):
                books.abandon(intent)
            raise
        if recovery is not None and callable(recovery):
            recovery = recovery(value)
        resource = Resource(kind, value, delete, holder, gone, scope, recovery, refused, intent, deleter is not None)
        books.add(resource)
        if register:
            if scope == "test" and _plain_holders.get(type(holder)):
                # _register's common case, without its call nor addCleanup's: the entry addCleanup would append.
                holder._cleanups.append((resource, (), _NO_KWARGS))
            else:
                _register(resource, scope, holder, delete)
        return resource
    finally:
        # An interrupt that arrived while the resource was being made is raised here, once it is on record.
        _interrupts.leave_call()


# Whether a holder's class can take async cleanups (an IsolatedAsyncioTestCase), asked once per class.
_async_holders: dict[type, bool] = {}
# Classes whose addCleanup is unittest's own and that take no async cleanups: a test-scope deletion may go
# straight onto their cleanup list. Asked once per class.
_plain_holders: dict[type, bool] = {}
# The keyword arguments of every cleanup entry appended directly: none, and never changed (unpacked only).
_NO_KWARGS: dict[str, Any] = {}


def _register(resource: Resource, scope: str, holder: Any, delete: Callable[..., object]) -> None:
    if scope != "test":
        _scopes.add(resource.release, scope, holder)
        return
    cls = type(holder)
    takes_async = _async_holders.get(cls)
    if takes_async is None:
        takes_async = _async_holders[cls] = hasattr(holder, "addAsyncCleanup")
        _plain_holders[cls] = not takes_async and getattr(cls, "addCleanup", None) is unittest.TestCase.addCleanup
    if takes_async and inspect.iscoroutinefunction(delete):
        # In the test's own event loop, in the one newest-first cleanup list with the sync deletions.
        holder.addAsyncCleanup(resource.arelease)
    else:
        holder.addCleanup(resource)


async def atracked(
    kind: str, make: Callable[[], Awaitable[tuple[Any, Callable[[], object]]]], *, scope: str | None = None,
    owner: Any = None, gone: Iterable[type[BaseException]] = (),
    recovery: dict[str, Any] | Callable[[Any], dict[str, Any] | None] | None = None, register: bool = True,
    created_nothing: Callable[[Exception], bool] = _always,
    refused: Iterable[int | type[BaseException]] | None = None,
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
    scope, holder = _scopes.resolve(scope, owner, kind)
    books = _books()
    _interrupts.enter_call()
    try:
        intent = books.intend(ledger.new_number(), kind, scope, holder) if books.observers else None
        try:
            value, delete = await make()
        except Exception as error:
            if intent is not None and created_nothing(error):
                books.abandon(intent)
            raise
        return _record(books, kind, value, delete, scope, holder, gone, recovery, refused, intent, register)
    finally:
        _interrupts.leave_call()


def _record(
    books: ledger.Ledger, kind: str, value: Any, delete: Callable[[], object], scope: str, holder: Any,
    gone: Iterable[type[BaseException]], recovery: dict[str, Any] | Callable[[Any], dict[str, Any] | None] | None,
    refused: Iterable[int | type[BaseException]] | None, intent: int | None, register: bool,
) -> Resource:
    """The second half of :func:`tracked` and :func:`atracked`: put what *make* returned on record."""
    if recovery is not None and callable(recovery):
        recovery = recovery(value)
    resource = Resource(
        kind, value, delete, holder, gone if type(gone) is tuple else tuple(gone), scope,
        recovery, refused if refused is None or type(refused) is tuple else tuple(refused), intent,
    )
    books.add(resource)
    if register:
        _register(resource, scope, holder, delete)
    return resource


def track(
    kind: str, value: Any, delete: Callable[[], object], *, scope: str | None = None, owner: Any = None,
    gone: Iterable[type[BaseException]] = (), recovery: dict[str, Any] | None = None, intent: int | None = None,
    refused: Iterable[int | type[BaseException]] | None = None,
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
    return _track(kind, value, delete, scope, holder, tuple(gone), recovery, intent,
                  refused=None if refused is None else tuple(refused))


def intend(kind: str, *, scope: str | None = None, owner: Any = None) -> int | None:
    """Journal "about to create *kind*" before an integration's create call; pass the result to :func:`track`.

    Returns ``None`` (and costs nothing) when no journal is enabled.
    """
    books = _books()
    if not books.observers:
        return None
    scope, holder = _scopes.resolve(scope, owner, kind)
    return books.intend(ledger.new_number(), kind, scope, holder)
