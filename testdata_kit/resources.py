"""Tracked resources: what was created, by which test, and its release (deleted, kept or leaked).

:func:`tracked` is the one path of a tracked creation. ``@creates`` factories, scenario links, ``uses``,
``DataFactory`` and HTTP collections all create through it, so that the order of its steps (resolve the scope,
journal the intent, hold interrupts, create, track, register the deletion) is written once.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Awaitable, Callable, Iterable

from testdata_kit import _env, _interrupts, _scopes, _settings, ledger
from testdata_kit.errors import AlreadyGone, CleanupError, DeleterAnswerError, RetryLater, TestDataError, UsageError

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


class _Gone:
    def __repr__(self) -> str:
        return "GONE"


#: A deleter may return this to say the resource was already gone; that counts as a successful delete.
GONE: Any = _Gone()

# Ordered so that ``state <= _REFUSED`` means "not settled yet".
_LIVE, _REFUSED, _DELETED, _KEPT, _LEAKED = range(5)

#: Statuses that mean "refused for now" when neither the kind nor ``refused-statuses`` in setup.cfg says
#: otherwise: a bad request, a conflict (a row still referenced), a failed precondition, an unprocessable entity.
REFUSED_STATUSES = frozenset((400, 409, 412, 422))
_configured_statuses: frozenset[int] | None = None


class Resource:
    """One created thing, its deleter, and the test that owns it."""

    __slots__ = ("_delete", "_gone", "intent", "kind", "owner", "recovery", "refusal", "refused", "scope", "state",
                 "value")

    def __init__(
        self, kind: str, value: Any, delete: Callable[[], object], owner: Any = None,
        gone: tuple[type[BaseException], ...] = (), scope: str = "test", recovery: dict[str, Any] | None = None,
        refused: tuple[int | type[BaseException], ...] | None = None, intent: int | None = None,
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
        self.intent = intent
        #: Statuses and exception types that mean "retry later" for this resource; ``None``: the defaults.
        self.refused = refused
        #: The exception of the last refused deletion, while the resource waits for its next attempt.
        self.refusal: BaseException | None = None

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
        test_id = self.test_id
        # A pytest node id ("tests/test_a.py::test_x") names the test after its last "::", not its last dot.
        where = test_id.rpartition("::" if "::" in test_id else ".")[2] if self.owner is not None else test_id
        return f"<Resource {self.kind} {shown} test={where}>"

    @property
    def alive(self) -> bool:
        """Not settled yet: never released, or its deletion was refused and waits for another attempt."""
        return self.state <= _REFUSED

    def release(self, *, defer_interrupts: bool = True, retry_in_scope: bool = True) -> bool:
        """Delete the resource unless it is settled; return ``False`` when the deletion was refused for now.

        A deletion is refused when :func:`retry_later` says so of the deleter's exception. The resource then
        stays alive, with the exception in :attr:`refusal`, and is tried again after the rest of its scope, pass
        after pass, and once more at the end of the run (:func:`testdata_kit._scopes.defer`). Any other
        exception makes it a leak at once.

        :param defer_interrupts: hold a SIGINT or SIGTERM that arrives during the delete until the outcome is on
            record. Threads of a concurrent teardown pass ``False``: signals reach only the main thread, which
            is waiting for them and takes the interrupt itself.
        :param retry_in_scope: queue a refused deletion for the retry pass of its scope; ``False`` for a caller
            that retries it itself (:meth:`attempt`).
        :returns: ``True`` when the resource is settled (deleted, already gone, or kept).
        :raises CleanupError: the deleter failed for a reason that is not a refusal; the resource is leaked.
        """
        # The common case (live, and owned by a passed test or by no test) is decided here without _due's call.
        if (self.state or (self.owner is not None and getattr(self.owner, "_testdata_failed", None) is not False)) \
                and not self._due():
            return True
        if defer_interrupts:
            _interrupts.enter_call()
        try:
            try:
                result = self._delete()
                if result is not None:
                    if inspect.isawaitable(result):
                        result = _run_to_end(result, self)
                    check_answer(result, self._delete)
            except _InsideLoop as error:
                misuse = error.__cause__  # a misuse, not an outcome: the resource stays live
                assert misuse is not None
                raise misuse from None
            except BaseException as error:
                return self._failed(error, retry_in_scope)
            # _deleted(), inlined: this runs once per resource.
            if self.state:
                self.refusal = None
            self.state = _DELETED
            ledger.current().mark_deleted(self)
            return True
        finally:
            # An interrupt that arrived during the delete is raised here, once the deletion is on record.
            if defer_interrupts:
                _interrupts.leave_call()

    async def arelease(self, *, defer_interrupts: bool = True, retry_in_scope: bool = True) -> bool:
        """Same as :meth:`release`, except that an async deleter is awaited in the running event loop.

        A sync deleter is called as it is. Registered with ``addAsyncCleanup`` by :func:`atracked`.
        """
        if not self._due():
            return True
        if defer_interrupts:
            _interrupts.enter_call()
        try:
            try:
                result = self._delete()
                if result is not None:
                    if inspect.isawaitable(result):
                        result = await result
                    check_answer(result, self._delete)
            except BaseException as error:
                return self._failed(error, retry_in_scope)
            self._deleted()
            return True
        finally:
            if defer_interrupts:
                _interrupts.leave_call()

    def _due(self) -> bool:
        """Whether a delete call is due: not when settled, nor when kept for a failed test."""
        if self.state > _REFUSED:
            return False
        owner = self.owner
        # Most owners are tests that passed (``_testdata_failed`` is False): they need no look at the environment.
        if self.state == _LIVE and owner is not None and getattr(owner, "_testdata_failed", None) is not False \
                and _keep(owner):
            self.state = _KEPT
            ledger.current().mark_kept(self)
            print(f"testdata_kit: kept {self!r} of failed test {self.test_id}", file=sys.stderr)
            return False
        return True

    def _deleted(self) -> None:
        if self.state:
            self.refusal = None
        self.state = _DELETED
        ledger.current().mark_deleted(self)

    def _failed(self, error: BaseException, retry_in_scope: bool) -> bool:
        """Record the outcome of a delete call that raised *error*; re-raise it unless it is settled or refused."""
        if isinstance(error, (AlreadyGone, *self._gone)):
            self._deleted()
            return True
        if not isinstance(error, Exception):
            # Interrupted half-way: whether it is gone is unknown, so the journal keeps it for a sweep.
            self.state = _LEAKED
            ledger.current().mark_leaked(self, "interrupted while deleting")
            raise error
        if retry_later(error, self.refused):
            self.state = _REFUSED
            self.refusal = error
            if retry_in_scope:
                _scopes.defer(self)
            return False
        reason = f"{type(error).__name__}: {error}"
        if self.state == _REFUSED and self.refusal is not None:
            # Retried after a refusal and failed otherwise (a client closed by then): the refusal is the news.
            reason = f"{type(self.refusal).__name__}: {self.refusal}; retried later: {reason}"
        self.state = _LEAKED
        ledger.current().mark_leaked(self, reason)
        raise CleanupError(self, error) from error

    def attempt(self, *, defer_interrupts: bool = True) -> bool:
        """Same as :meth:`release`, except that a refused deletion is left for the caller to retry."""
        return self.release(defer_interrupts=defer_interrupts, retry_in_scope=False)

    def give_up(self) -> CleanupError | None:
        """Record a resource whose deletion is still refused as leaked; return the error naming the refusal.

        Called when the last retry pass at the end of the run deleted nothing more. Returns ``None`` for a
        resource that is not waiting after a refusal.
        """
        error = self.refusal
        if self.state != _REFUSED or error is None:
            return None
        self.state = _LEAKED
        ledger.current().mark_leaked(self, f"refused until the end of the run: {type(error).__name__}: {error}")
        failure = CleanupError(self, error)
        failure.__cause__ = error
        return failure


def retry_later(error: BaseException, refused: tuple[int | type[BaseException], ...] | None = None) -> bool:
    """Whether *error*, raised by a deleter, means "refused for now: try again after the other deletions".

    In order: a :class:`~testdata_kit.RetryLater` is; so is an instance of a type in *refused*; an error with a
    boolean ``retry_later`` attribute says for itself; then an error with a ``status`` attribute is, when the
    status is a refused one, a 5xx, or ``None`` (no answer within the client's retry budget); nothing else is.

    :param refused: statuses and exception types given as ``refused=`` to the kind or collection. Its ints
        replace the configured refused statuses; its types add to :class:`~testdata_kit.RetryLater`.
    """
    if isinstance(error, RetryLater):
        return True
    statuses = None
    if refused:
        if isinstance(error, tuple(item for item in refused if isinstance(item, type))):
            return True
        ints = frozenset(item for item in refused if isinstance(item, int))
        statuses = ints or None
    flag = getattr(error, "retry_later", None)
    if isinstance(flag, bool):  # the error knows (an HTTP error for an id never read: no later pass can help)
        return flag
    if not hasattr(error, "status"):
        return False
    status = error.status
    if status is None:  # no answer at all within the client's retry budget: the server may answer later
        return True
    if not isinstance(status, int):
        return False
    return status >= 500 or status in (statuses if statuses is not None else refused_statuses())


def refused_statuses() -> frozenset[int]:
    """The statuses that mean "refused for now": ``refused-statuses`` in setup.cfg, else :data:`REFUSED_STATUSES`.

    Read once per process, at the first failed deletion.

    :raises ConfigError: an item of ``refused-statuses`` is not a number from 100 to 599.
    """
    global _configured_statuses
    if _configured_statuses is None:
        from testdata_kit import config

        loaded = config.load()
        items = loaded.get_list("refused-statuses", [str(status) for status in sorted(REFUSED_STATUSES)])
        bad = [item for item in items if not (item.isdigit() and 100 <= int(item) <= 599)]
        if bad:
            raise config.ConfigError(loaded.path, "refused-statuses", bad[0],
                                     "HTTP statuses that mean 'refused for now', e.g. 400, 409, 412, 422",
                                     loaded.section_name)
        _configured_statuses = frozenset(int(item) for item in items)
    return _configured_statuses


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
    return bool(failed) and _settings.value("keep") == "failed"


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
                    register, created_nothing, refused if refused is None or type(refused) is tuple else tuple(refused))


def tracked_in(
    kind: str, make: Callable[..., tuple[Any, Callable[[], object]]], args: tuple[Any, ...], kwargs: dict[str, Any],
    scope: str, holder: Any, gone: tuple[type[BaseException], ...] = (),
    recovery: dict[str, Any] | Callable[[Any], dict[str, Any] | None] | None = None, register: bool = True,
    created_nothing: Callable[[Exception], bool] = _always,
    refused: tuple[int | type[BaseException], ...] | None = None,
) -> Resource:
    """:func:`tracked` in a scope already resolved: the same steps, with ``make(*args, **kwargs)``.

    For callers that resolved the scope themselves (the factories), so that a creation costs one resolve and
    no ``functools.partial``.

    :param scope: and *holder*: as :func:`testdata_kit._scopes.resolve` returned them.
    :param gone: and *refused*: tuples (or ``None`` for *refused*), as :class:`Resource` holds them.
    :returns: the :class:`Resource`.
    """
    if not _journal_checked:
        _check_journal()
    books = ledger.current()
    _interrupts.enter_call()
    try:
        intent = books.intend(ledger.new_number(), kind, scope, holder) if books.observers else None
        try:
            value, delete = make(*args, **kwargs)
        except Exception as error:
            if intent is not None and created_nothing(error):
                books.abandon(intent)
            raise
        if recovery is not None and callable(recovery):
            recovery = recovery(value)
        resource = Resource(kind, value, delete, holder, gone, scope, recovery, refused, intent)
        books.add(resource)
        if register:
            if scope == "test" and _async_holders.get(type(holder)) is False:
                holder.addCleanup(resource.release)  # _register's common case, without its call
            else:
                _register(resource, scope, holder, delete)
        return resource
    finally:
        # An interrupt that arrived while the resource was being made is raised here, once it is on record.
        _interrupts.leave_call()


# Whether a holder's class can take async cleanups (an IsolatedAsyncioTestCase), asked once per class.
_async_holders: dict[type, bool] = {}


def _register(resource: Resource, scope: str, holder: Any, delete: Callable[[], object]) -> None:
    if scope != "test":
        _scopes.add(resource.release, scope, holder)
        return
    cls = type(holder)
    takes_async = _async_holders.get(cls)
    if takes_async is None:
        takes_async = _async_holders[cls] = hasattr(holder, "addAsyncCleanup")
    if takes_async and inspect.iscoroutinefunction(delete):
        # In the test's own event loop, in the one newest-first cleanup list with the sync deletions.
        holder.addAsyncCleanup(resource.arelease)
    else:
        holder.addCleanup(resource.release)


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


def check_answer(result: Any, deleter: Any) -> None:
    """Raise :class:`DeleterAnswerError` when a deleter returned an HTTP response with a 4xx or 5xx status.

    Any object with an integer ``status_code`` counts as a response (requests', httpx's). Other results, and
    2xx and 3xx answers, pass: the deleter is trusted to have checked what it could.
    """
    status = getattr(result, "status_code", None)
    if type(status) is int and status >= 400:
        name = getattr(deleter, "__qualname__", None) or getattr(getattr(deleter, "func", None), "__qualname__", None)
        raise DeleterAnswerError(f"the deleter {name or repr(deleter)}", status,
                                 str(getattr(result, "reason", None) or getattr(result, "reason_phrase", "") or ""))


class _InsideLoop(TestDataError):
    """Carries the :class:`UsageError` of :func:`_run_to_end` past the outcome bookkeeping of ``release``."""


def _run_to_end(awaitable: Awaitable[object], resource: Resource) -> object:
    """Run an async deleter to its end from :meth:`Resource.release`, which cannot await.

    :raises UsageError: inside a running event loop, which a blocking call cannot share.
    """
    import asyncio  # only for async deleters, so that sync suites never import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        getattr(awaitable, "close", lambda: None)()
        raise _InsideLoop from UsageError(
            f"{resource!r} has an async deleter, and release() was called inside a running event loop, which it "
            f"cannot block. Use 'await resource.arelease()' there (an AsyncScenario's teardown is awaited too)."
        )

    async def wait() -> object:
        return await awaitable

    # The owning test's loop, when it is still open: its async clients are bound to it.
    runner = getattr(resource.owner, "_asyncioRunner", None)
    if runner is not None:
        try:
            runner.get_loop()
        except RuntimeError:  # closed: the test is over
            runner = None
    if runner is not None:
        return runner.run(wait())
    return asyncio.run(wait())


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
