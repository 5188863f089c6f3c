"""One tracked resource and its release: deleted, already gone, kept for a failed test, refused for now, or leaked.

Created by the tracked-creation path of :mod:`testdata_kit.resources`, which re-exports :class:`Resource` and
:data:`GONE`; whether a deleter's error is a refusal is :mod:`testdata_kit._refusals`'s call.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Awaitable, Callable

from testdata_kit import _interrupts, _scopes, _settings, ledger
from testdata_kit._refusals import check_answer, retry_later
from testdata_kit.errors import AlreadyGone, CleanupError, TestDataError, UsageError

# Names for annotations only. Importing typing would add a few milliseconds to ``import testdata_kit``, which
# unittest itself does not pay; type checkers treat this constant as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["GONE", "Resource", "plain_id"]


class _Gone:
    def __repr__(self) -> str:
        return "GONE"


#: A deleter may return this to say the resource was already gone; that counts as a successful delete.
GONE: Any = _Gone()

# Ordered so that ``state <= _REFUSED`` means "not settled yet".
_LIVE, _REFUSED, _DELETED, _KEPT, _LEAKED = range(5)


class Resource:
    """One created thing, its deleter, and the test that owns it. Calling it is :meth:`release`.

    :param delete: deletes the resource: called with no arguments, or with *value* when *with_value* is true
        (which spares a ``functools.partial`` per resource).
    """

    __slots__ = ("_delete", "_gone", "_with_value", "intent", "kind", "owner", "recovery", "refusal", "refused",
                 "scope", "state", "value")

    def __init__(
        self, kind: str, value: Any, delete: Callable[[], object] | Callable[[Any], object], owner: Any = None,
        gone: tuple[type[BaseException], ...] = (), scope: str = "test", recovery: dict[str, Any] | None = None,
        refused: tuple[int | type[BaseException], ...] | None = None, intent: int | None = None,
        with_value: bool = False,
    ) -> None:
        self.kind = kind
        #: JSON-able description of how to delete this resource from another process after a crash,
        #: e.g. ``{"method": "DELETE", "url": "http://127.0.0.1:8000/users/17"}``; never holds secrets.
        self.recovery = recovery
        self.value = value
        self._delete = delete
        self._with_value = with_value
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
                result = self._delete(self.value) if self._with_value else self._delete()  # type: ignore[call-arg]
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

    # A resource is its own test-scope cleanup (``addCleanup(resource)``): a bound ``release`` would be one more
    # object per resource for the garbage collector to walk.
    __call__ = release

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
                result = self._delete(self.value) if self._with_value else self._delete()  # type: ignore[call-arg]
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
