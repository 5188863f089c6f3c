"""Declared collections: ``create()`` POSTs, reads the new id, and registers its DELETE in the current scope."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from testdata_kit import _redact
from testdata_kit.errors import MissingKeyError
from testdata_kit.http.errors import ApiError, DeleteFailedError, MissingIdError, ServerDownError
from testdata_kit.resources import GONE, tracked

if TYPE_CHECKING:
    import requests

    from testdata_kit.http.client import ApiClient

__all__ = ["GONE_STATUSES", "Collection"]

#: Answers to a DELETE that mean the item no longer exists, which is what the deletion wanted.
GONE_STATUSES = (404, 410)
_MISSING = object()


class Collection:
    """One REST collection of an :class:`~testdata_kit.http.ApiClient`: items POSTed to *path*, at ``{path}/{id}``.

    Made by ``api.collection("users", path="/users", id="id")``. :meth:`create` is the tracked form most tests
    want; :meth:`post` and :meth:`delete` are the untracked halves, for ``@creates("user", delete=users.delete)``
    and for anything the collection model does not fit.
    """

    def __init__(self, api: ApiClient, name: str, *, path: str | None = None, id_field: str = "id",
                 kind: str | None = None) -> None:
        self.api = api
        self.name = name
        self.path = "/" + (path if path is not None else name).strip("/")
        self.id_field = id_field
        self.kind = kind or name

    def __repr__(self) -> str:
        return f"<Collection {self.name} at {_redact.url(self.api.url_for(self.path))} id={self.id_field!r}>"

    def url(self, item_or_id: Any) -> str:
        """Return the absolute URL of one item, given the item (a dict from :meth:`post`) or its id."""
        ident = self.ident(item_or_id) if isinstance(item_or_id, Mapping) else item_or_id
        return self.api.url_for(f"{self.path}/{ident}")

    def ident(self, item: Mapping[str, Any]) -> Any:
        """Return the id of *item*, read from the configured id field (``"data.id"`` reads a nested one)."""
        value: Any = item
        for part in self.id_field.split("."):
            value = value.get(part, _MISSING) if isinstance(value, Mapping) else _MISSING
        if value is _MISSING or value is None:
            raise MissingKeyError(f"{self.name} item has no {self.id_field!r}; keys present: {sorted(item)}")
        return value

    def post(self, body: Mapping[str, Any] | None = None, /, **fields: Any) -> dict[str, Any]:
        """POST a new item and return it, **without** tracking it; :meth:`create` is the tracked form.

        :param body: the JSON object to send; *fields* are added to it.
        :raises ApiError: for a non-2xx answer, or a body that is not a JSON object.
        :raises MissingIdError: when neither the body nor the ``Location`` header gives the new id.
        """
        response = self.api.post(self.path, json={**(body or {}), **fields})
        return self._created(response)[0]

    def create(self, body: Mapping[str, Any] | None = None, /, *, scope: str | None = None, owner: Any = None,
               **fields: Any) -> dict[str, Any]:
        """POST a new item, register ``DELETE {path}/{id}`` at the end of *scope*, and return the item.

        Same scope rules as ``@creates``: inside a test it belongs to the test, inside ``setUpClass`` to the
        class; outside both, pass *scope*. The scope is checked before anything is sent.

        :param body: the JSON object to send; *fields* are added to it.
        :param scope: ``'test'``, ``'class'``, ``'module'`` or ``'run'``; default: the innermost one running.
        :param owner: the test or TestCase class owning the item, when not the one running now.
        """
        addresses: list[str] = []

        def make() -> tuple[dict[str, Any], Any]:
            response = self.api.post(self.path, json={**(body or {}), **fields})
            item, ident = self._created(response)
            addresses.append(self.url(ident))
            return item, functools.partial(self._delete_url, addresses[0])

        def recovery(item: dict[str, Any]) -> dict[str, Any]:
            kept: dict[str, Any] = {"method": "DELETE", "url": _redact.url(addresses[0])}
            tenant_headers = {k: v for k, v in self.api.headers.items() if k.lower().startswith("x-tenant")}
            if tenant_headers:
                kept["headers"] = _redact.headers(tenant_headers)
            return kept

        # With a journal, "about to create" is on disk before the POST leaves, so a crash during it is visible.
        # An error status means nothing was created. Anything else (a timeout, a body without an id) may have
        # created a row, so the intent stays open for a sweep.
        return tracked(self.kind, make, scope=scope, owner=owner, recovery=recovery,
                       created_nothing=lambda error: isinstance(error, ApiError) and error.status >= 400).value

    def get(self, item_or_id: Any) -> dict[str, Any]:
        """Return the current state of one item (a GET of its URL)."""
        return dict(self.api.get_json(self.url(item_or_id)))

    def delete(self, item_or_id: Any) -> Any:
        """DELETE one item; return :data:`~testdata_kit.GONE` when it was already gone (404 or 410).

        Connection errors and 5xx answers are retried by the client (see :class:`~testdata_kit.http.ApiClient`).

        :raises DeleteFailedError: naming the method and URL, when the deletion still failed.
        """
        return self._delete_url(self.url(item_or_id))

    def _delete_url(self, address: str) -> Any:
        shown = _redact.url(address)
        try:
            response = self.api.delete(address)
        except ServerDownError as error:
            budget = f"retried for up to {self.api.retry_seconds:g} s"
            raise DeleteFailedError("DELETE", shown, None, f"cannot reach the server ({error.reason})",
                                    budget) from error
        if response.status_code in GONE_STATUSES:
            return GONE
        if not response.ok:
            retries = getattr(getattr(response.raw, "retries", None), "history", ())
            attempts = f"{len(retries) + 1} attempt{'s' if retries else ''}"
            raise DeleteFailedError("DELETE", shown, response.status_code,
                                    _redact.body_excerpt(response.content), attempts)
        return None

    def _created(self, response: requests.Response) -> tuple[dict[str, Any], Any]:
        address = _redact.url(response.url)
        excerpt = _redact.body_excerpt(response.content)
        if not response.ok:
            raise ApiError("POST", address, response.status_code, excerpt,
                           f"answered {response.status_code} {response.reason} to a create in {self.name!r}")
        item: Any = {}
        if response.content.strip():
            try:
                item = response.json()
            except ValueError:
                type_ = response.headers.get("Content-Type", "no Content-Type")
                raise ApiError("POST", address, response.status_code, excerpt,
                               f"answered with a body that is not JSON ({type_})") from None
        if not isinstance(item, dict):
            raise ApiError("POST", address, response.status_code, excerpt,
                           f"answered with JSON that is not an object (a {type(item).__name__})")
        try:
            return item, self.ident(item)
        except KeyError:
            pass
        location = response.headers.get("Location")
        if location:
            ident = urlsplit(urljoin(response.url, location)).path.rstrip("/").rpartition("/")[2]
            if ident:
                if "." not in self.id_field:
                    item.setdefault(self.id_field, int(ident) if ident.isdigit() else ident)
                return item, ident
        raise MissingIdError(self.name, self.id_field, sorted(item), address, response.status_code)
