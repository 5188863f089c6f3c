"""Deciding what proves a deletion: the steps a collection runs to confirm an address, delete, and check.

The steps are generators that yield each :class:`~testdata_kit.http._exchange.Call` to send and receive its
answer, so that the sync :class:`~testdata_kit.http.Collection` and the async collection share every decision
and differ only in how they send (:mod:`testdata_kit.http._exchange`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from testdata_kit import _redact
from testdata_kit.errors import AlreadyGone
from testdata_kit.http._addressing import with_query
from testdata_kit.http._exchange import Call, Steps, Wait
from testdata_kit.http._verify import GONE_STATUSES, IS_GONE, IS_THERE, IS_WRONG, cannot_read, probe, rechecks
from testdata_kit.http.errors import AddressError, DeleteFailedError, DeleteUnprovenError, ServerDownError
from testdata_kit.resources import GONE

if TYPE_CHECKING:
    from testdata_kit.http.client import ApiClient

__all__ = ["DeletionSteps"]


class DeletionSteps:
    """The decisions of :class:`~testdata_kit.http.Collection` about an item's address and its deletion.

    A base class: the collection sets the attributes below in its ``__init__`` and drives the steps, sending
    each call they yield.
    """

    # Set by Collection.__init__; see there.
    api: ApiClient
    name: str
    id_field: str
    verify: str
    delete_method: str
    settle: float
    _confirmed: bool
    _empty_ok_proven: bool
    _unreadable: bool

    if TYPE_CHECKING:
        @property
        def template(self) -> str: ...

    def _probe(self, address: str, ident: Any, headers: Mapping[str, str], params: Mapping[str, Any],
               trusted: bool | None = None) -> Steps[tuple[str, str]]:
        trusted = self._confirmed if trusted is None else trusted
        return probe(address, ident, self.id_field, headers, params, trusted)

    # -- decisions, shared with the async collection: steps that yield the calls to send -----------------

    def _confirming(self, address: str, ident: Any, headers: Mapping[str, str], params: Mapping[str, Any],
                    tracked: bool = True) -> Steps[None]:
        if self._confirmed or self.verify == "never":
            return
        # The item was created a moment ago, so an empty answer here means a wrong address, not "deleted".
        state, check = yield from self._probe(address, ident, headers, params, trusted=True)
        if state == IS_THERE:
            self._confirmed = True
            return
        if state in (IS_GONE, IS_WRONG):
            raise AddressError(self.name, self.template, _redact.url(address), check, tracked)
        # 405, 5xx, an unreachable server: the address is unproven, and a later create tries again.
        self._unreadable = cannot_read(check)

    def _deleting(self, address: str, headers: Mapping[str, str], params: Mapping[str, Any], ident: Any,
                  removal: str | None = None) -> Steps[Any]:
        try:
            return (yield from self._delete_once(address, headers, params, ident, removal or address))
        except _AlreadyGone:
            return GONE

    def _delete_once(self, address: str, headers: Mapping[str, str], params: Mapping[str, Any], ident: Any,
                     removal: str) -> Steps[Any]:
        if self.verify != "never" and not self._confirmed and not self._unreadable:
            # Nothing created through this collection has proved its address yet (delete() of an item made
            # elsewhere, a sweep): an item about to be deleted should be there, so read it first.
            state, check = yield from self._probe(address, ident, headers, params, trusted=True)
            if state == IS_THERE:
                self._confirmed = True
            elif cannot_read(check):
                self._unreadable = True
        try:
            response = yield Call(self.delete_method, removal, headers, params)
        except ServerDownError as error:
            budget = f"retried for up to {self.api.retry_seconds:g} s"
            failure = DeleteFailedError("DELETE", _shown(removal, params), None,
                                        f"cannot reach the server ({error.reason})", budget)
            yield from self._unless_gone(failure, address, ident, headers, params)
            raise failure from error
        status = response.status
        if status not in GONE_STATUSES and not response.ok:
            attempts = f"{response.attempts} attempt{'s' if response.attempts > 1 else ''}"
            failure = DeleteFailedError("DELETE", _shown(removal, params), status,
                                        _redact.body_excerpt(response.content), attempts)
            yield from self._unless_gone(failure, address, ident, headers, params)
            raise failure
        if self.verify == "never":
            return GONE if status in GONE_STATUSES else None
        empty = not response.content.strip()
        matched_nothing = response.content.strip() == b"[]"
        if (self.verify == "auto" and status not in GONE_STATUSES and status != 202 and not matched_nothing
                and (not empty or self._empty_ok_proven)):
            return None
        state, check = yield from self._probe(address, ident, headers, params)
        waited = 0.0
        if state == IS_THERE and response.ok:
            # Accepted, but not done yet (a server that deletes in the background): give it a bounded while.
            for wait in rechecks(self.settle):
                yield Wait(wait)
                waited += wait
                state, check = yield from self._probe(address, ident, headers, params)
                if state != IS_THERE:
                    break
        if state != IS_GONE:
            raise DeleteUnprovenError(_shown(removal, params), status, self.name, self.template, check,
                                      still_there=state == IS_THERE, waited=waited)
        if empty and response.ok and not waited:
            # Only an answer that was already true proves the next ones: one that needed time does not.
            self._empty_ok_proven = True
        return GONE if status in GONE_STATUSES else None

    def _unless_gone(self, failure: DeleteFailedError, address: str, ident: Any, headers: Mapping[str, str],
                     params: Mapping[str, Any]) -> Steps[None]:
        """Return quietly when *failure* should be raised; raise :class:`_AlreadyGone` when the item is gone anyway.

        A DELETE whose answer was lost (a timeout, a 503 from a proxy after the backend committed) may have
        deleted the item: reporting it as leaked would be the account lying the other way.
        """
        if self.verify == "never" or failure.status in (400, 401, 403, 409, 412, 422):
            return
        state, _ = yield from self._probe(address, ident, headers, params)
        if state == IS_GONE:
            raise _AlreadyGone


class _AlreadyGone(AlreadyGone):
    """A failed DELETE whose item a GET then showed to be gone."""


def _shown(address: str, params: Mapping[str, Any]) -> str:
    # The deletion's address as messages show it (credentials masked); formatted only for a message, since a
    # sweep deletes rows by the hundred thousand.
    return _redact.url(with_query(address, params))
