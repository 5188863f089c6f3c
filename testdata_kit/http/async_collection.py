"""Async collections: the awaited form of :class:`~testdata_kit.http.Collection`, for the httpx client.

Every decision (the item's address, reading the new id, what proves a deletion, when to read an item back) is
the sync collection's own code, run in steps (:mod:`testdata_kit.http._exchange`); only sending is awaited.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from testdata_kit import _redact
from testdata_kit.http._addressing import with_query
from testdata_kit.http._exchange import Answer, Call, adrive
from testdata_kit.http._verify import IS_GONE, IS_THERE
from testdata_kit.http.collection import Collection, refused
from testdata_kit.http.errors import AddressError
from testdata_kit.resources import atracked

if TYPE_CHECKING:
    import httpx

    from testdata_kit.http.aio import AsyncApiClient

__all__ = ["AsyncCollection", "answer_of"]


class AsyncCollection(Collection):
    """Same as :class:`~testdata_kit.http.Collection`, except that its calls are awaited and its deletions are async.

    Made by ``AsyncApiClient.collection(...)``. ``await users.create(...)`` goes through
    :func:`testdata_kit.resources.atracked` (journal, interrupts, ledger) and registers the verified DELETE
    with ``addAsyncCleanup`` in an :class:`~testdata_kit.aio.AsyncDataTestCase`.
    """

    api: AsyncApiClient  # type: ignore[assignment]

    async def post(self, body: Mapping[str, Any] | None = None, /, *,  # type: ignore[override]
                   headers: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None,
                   path_params: Mapping[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """POST a new item and return it, **without** tracking it; see :meth:`Collection.post
        <testdata_kit.http.Collection.post>`."""
        sent = {**(body or {}), **fields}
        answer = await self._asend(self._post_call(sent, headers, params, path_params or {}))
        item, ident = self._created(answer)
        address = self._address(item, sent, path_params or {}, ident)
        await self._confirm(address, ident, self._headers(headers), self._params(params), tracked=False)
        return item

    async def create(self, body: Mapping[str, Any] | None = None, /, *,  # type: ignore[override]
                     scope: str | None = None, owner: Any = None, headers: Mapping[str, str] | None = None,
                     params: Mapping[str, Any] | None = None, path_params: Mapping[str, Any] | None = None,
                     **fields: Any) -> dict[str, Any]:
        """POST a new item, register its verified async DELETE at the end of *scope*, and return the item.

        The parameters and errors are :meth:`Collection.create <testdata_kit.http.Collection.create>`'s.
        """
        sent = {**(body or {}), **fields}
        extra = path_params or {}
        sent_headers, sent_params = self._headers(headers), self._params(params)
        learned: dict[str, Any] = {}

        async def make() -> tuple[dict[str, Any], Any]:
            call = self._post_call(sent, headers, params, extra)
            try:
                answer = await self._asend(call)
            except (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError) as error:
                # Sent, and the answer lost on the way back: the row may exist.
                return self.possibly_created(sent, _redact.url(call.url), None, error, learned)
            made = self._made(answer, sent, extra, sent_headers, sent_params, learned)
            if "confirm" in learned:
                try:
                    # Before the journal's record of the item, so that the record can say its address is proven.
                    await self._confirm(*learned["confirm"])
                except AddressError as error:
                    learned["wrong"] = error  # raised once the item is on record
                learned["recovery"] = self._recovery(learned["confirm"][0], learned["removal"], sent_headers,
                                                     sent_params)
            return made

        resource = await atracked(self.kind, make, scope=scope, owner=owner,
                                  recovery=lambda item: learned.get("recovery"), created_nothing=refused)
        if "error" in learned:
            raise learned["error"]
        if "wrong" in learned:
            raise learned["wrong"]
        return resource.value

    async def get(self, item_or_id: Any, *, headers: Mapping[str, str] | None = None,  # type: ignore[override]
                  params: Mapping[str, Any] | None = None,
                  path_params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Return the current state of one item (a GET of its address; a one-row list answer is unwrapped)."""
        answer = await self.api.get_json(self.url(item_or_id, path_params=path_params),
                                         headers=self._headers(headers), params=self._params(params))
        if isinstance(answer, list) and len(answer) == 1:
            answer = answer[0]
        return dict(answer)

    async def delete(self, item_or_id: Any, *, headers: Mapping[str, str] | None = None,
                     params: Mapping[str, Any] | None = None, path_params: Mapping[str, Any] | None = None) -> Any:
        """DELETE one item, verified; see :meth:`Collection.delete <testdata_kit.http.Collection.delete>`."""
        ident = self.ident(item_or_id) if isinstance(item_or_id, Mapping) else item_or_id
        address = self.url(item_or_id, path_params=path_params)
        return await self._delete_at(address, self._headers(headers), self._params(params), ident,
                                     self._removal(item_or_id, path_params, address))

    async def exists(self, item_or_id: Any, *, headers: Mapping[str, str] | None = None,  # type: ignore[override]
                     params: Mapping[str, Any] | None = None,
                     path_params: Mapping[str, Any] | None = None) -> bool | None:
        """Return whether the item is at its address: True, False, or None when the answer cannot tell."""
        ident = self.ident(item_or_id) if isinstance(item_or_id, Mapping) else item_or_id
        state, _ = await adrive(self._probe(self.url(item_or_id, path_params=path_params), ident,
                                            self._headers(headers), self._params(params)), self._asend)
        return {IS_GONE: False, IS_THERE: True}.get(state)

    # -- the awaited I/O; the decisions are Collection's ---------------------------------------------------

    async def _asend(self, call: Call) -> Answer:
        # The query string is built as requests builds it: httpx would drop an address's own query
        # (``/users?id=eq.7``) when given params, and encode some values differently.
        response = await self.api.request(call.method, with_query(call.url, call.params), headers=dict(call.headers),
                                          json=call.json)
        return answer_of(response)

    async def _confirm(self, address: str, ident: Any, headers: Mapping[str, str],  # type: ignore[override]
                       params: Mapping[str, Any], tracked: bool = True) -> None:
        await adrive(self._confirming(address, ident, headers, params, tracked), self._asend)

    async def _delete_at(self, address: str, headers: Mapping[str, str],
                         params: Mapping[str, Any], ident: Any, removal: str | None = None) -> Any:
        return await adrive(self._deleting(address, headers, params, ident, removal), self._asend)


def answer_of(response: httpx.Response) -> Answer:
    """What the collections' decision code reads of an httpx *response* (read in full)."""
    return Answer(response.request.method, str(response.url), response.status_code, response.reason_phrase,
                  response.content, response.headers, response.extensions.get("testdata_attempts", 1))
