"""Declared collections: ``create()`` POSTs, reads the new id, and registers a verified DELETE in the current scope."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import requests

from testdata_kit import _redact, _scopes, ledger
from testdata_kit.http._addressing import DEFAULT_ITEM, ItemTemplate, fill, id_from_location, read_field
from testdata_kit.http.errors import (
    AddressError,
    ApiError,
    DeleteFailedError,
    DeleteUnprovenError,
    MissingIdError,
    ServerDownError,
    UnknownIdError,
    UnreadableCreateError,
)
from testdata_kit.resources import GONE, intend, track

if TYPE_CHECKING:
    from testdata_kit.http.client import ApiClient

__all__ = ["GONE_STATUSES", "VERIFY_ENV", "VERIFY_KEY", "VERIFY_MODES", "Collection"]

#: Answers to a DELETE that mean the item no longer exists, if the address is right (it is then checked).
GONE_STATUSES = (404, 410)
#: The values of ``verify``: check the answers that are not proof, check every deletion, or trust status codes.
VERIFY_MODES = ("auto", "always", "never")
#: The environment variable and ``[testdata_kit]`` config key that replace ``verify="auto"``.
VERIFY_ENV = "TESTDATA_HTTP_VERIFY"
VERIFY_KEY = "http-verify"
_GONE, _THERE, _UNKNOWN, _WRONG = "gone", "there", "unknown", "wrong"


class Collection:
    """One REST collection of an :class:`~testdata_kit.http.ApiClient`: items POSTed to *path*, found at *item*.

    Made by ``api.collection("users", path="/users")``; see :meth:`~testdata_kit.http.ApiClient.collection` for
    the parameters. :meth:`create` is the tracked form most tests want; :meth:`post` and :meth:`delete` are the
    untracked halves, for ``@creates("user", delete=users.delete)``.

    **Verified deletion.** A deletion counts only on proof. With ``verify="auto"``, the first item created
    through the collection is read back at its address (one GET per collection), which proves the address
    template; an :class:`AddressError` says at once when it is wrong. Then a DELETE answered 404 or 410,
    202, an empty 2xx (until one such answer was shown to really delete), or an empty JSON list is checked
    with a GET of the item's address: gone (404, 410, or ``[]`` for a query-filter address) counts as deleted,
    anything else raises :class:`DeleteUnprovenError` (a leak). ``"always"`` checks every deletion;
    ``"never"`` trusts status codes, which counts a DELETE at a wrong address as done (unsafe).
    """

    def __init__(self, api: ApiClient, name: str, *, path: str | None = None, id_field: str = "id",
                 kind: str | None = None, item: ItemTemplate | None = None,
                 headers: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None,
                 verify: str = "auto") -> None:
        self.api = api
        self.name = name
        self.path = "/" + (path if path is not None else name).strip("/")
        self.id_field = id_field
        self.kind = kind or name
        self.item = item if item is not None else DEFAULT_ITEM
        self.headers = dict(headers or {})
        self.params = dict(params or {})
        self.verify = _verify_mode(verify, api)
        # Set by the first create whose item was found at its address; a GET 404 proves "gone" only then.
        self._confirmed = False
        # Set once an empty 2xx DELETE was shown to delete; later ones are trusted under "auto".
        self._empty_ok_proven = False

    def __repr__(self) -> str:
        shown = self.item if isinstance(self.item, str) else getattr(self.item, "__name__", "callable")
        return (f"<Collection {self.name} at {_redact.url(self.api.url_for(self.path))} id={self.id_field!r} "
                f"item={shown!r} verify={self.verify!r}>")

    @property
    def template(self) -> str:
        """The item address as messages show it: the template text, or the callable's name."""
        return self.item if isinstance(self.item, str) else f"<{getattr(self.item, '__name__', 'callable')}>"

    def url(self, item_or_id: Any, *, path_params: Mapping[str, Any] | None = None) -> str:
        """Return the absolute URL of one item, given the item (a dict) or its id.

        :param path_params: values for placeholders the item does not hold, e.g. ``{"user_id": 3}``.
        :raises KeyError: when the template needs a value found nowhere.
        """
        item = dict(item_or_id) if isinstance(item_or_id, Mapping) else {}
        ident = self.ident(item) if isinstance(item_or_id, Mapping) else item_or_id
        return self._address(item, {}, path_params or {}, ident)

    def ident(self, item: Mapping[str, Any]) -> Any:
        """Return the id of *item*, read from the configured id field (``"data.id"`` reads a nested one)."""
        try:
            return read_field(item, self.id_field)
        except KeyError:
            raise KeyError(f"{self.name} item has no {self.id_field!r}; keys present: {sorted(item)}") from None

    def post(self, body: Mapping[str, Any] | None = None, /, *, headers: Mapping[str, str] | None = None,
             params: Mapping[str, Any] | None = None, path_params: Mapping[str, Any] | None = None,
             **fields: Any) -> dict[str, Any]:
        """POST a new item and return it, **without** tracking it; :meth:`create` is the tracked form.

        :param body: the JSON object to send; *fields* are added to it.
        :param headers: sent with this request, besides the client's and the collection's.
        :param params: query parameters of this request, besides the collection's.
        :param path_params: values for placeholders of *path* and of the item address.
        :raises ApiError: for a non-2xx answer, or a body that is not a JSON object.
        :raises MissingIdError: when neither the body nor the ``Location`` header gives the new id.
        :raises AddressError: when the new item is not found at the address built for it.
        """
        sent = {**(body or {}), **fields}
        response = self._post(sent, headers, params, path_params or {})
        item, ident = self._created(response)
        address = self._address(item, sent, path_params or {}, ident)
        self._confirm(address, ident, self._headers(headers), self._params(params))
        return item

    def create(self, body: Mapping[str, Any] | None = None, /, *, scope: str | None = None, owner: Any = None,
               headers: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None,
               path_params: Mapping[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """POST a new item, register its verified DELETE at the end of *scope*, and return the item.

        Same scope rules as ``@creates``: inside a test it belongs to the test, inside ``setUpClass`` to the
        class; outside both, pass *scope*. The scope is checked before anything is sent. The DELETE (and its
        check) is sent with the same *headers* and *params* as the create.

        :param body: the JSON object to send; *fields* are added to it.
        :param scope: ``'test'``, ``'class'``, ``'module'`` or ``'run'``; default: the innermost one running.
        :param owner: the test or TestCase class owning the item, when not the one running now.
        :param headers: sent with this create and its deletion, besides the client's and the collection's.
        :param params: query parameters of this create and its deletion, besides the collection's.
        :param path_params: values for placeholders of *path* and of the item address that neither the created
            item nor *body* holds, e.g. ``{"user_id": 3}`` for ``"/users/{user_id}/orders"``.
        :raises UnreadableCreateError: the server answered 2xx without a usable id; the item may exist, and is
            counted as leaked with an unknown id.
        :raises AddressError: the new item is not at the address built for it (it is still tracked).
        """
        scope, holder = _scopes.resolve(scope, owner, self.kind)
        sent = {**(body or {}), **fields}
        extra = path_params or {}
        # With a journal, "about to create" is on disk before the POST leaves, so a crash during it is visible.
        intent = intend(self.kind, scope=scope, owner=holder)
        try:
            response = self._post(sent, headers, params, extra)
        except ApiError as error:
            if intent is not None and error.status >= 400:
                ledger.current().abandon(intent)
            raise
        try:
            item, ident = self._created(response)
        except (ApiError, MissingIdError) as error:
            if not response.ok:
                if intent is not None:
                    ledger.current().abandon(intent)  # an error status means nothing was created
                raise
            # Accepted but unreadable: the row may exist. Track what is known, so the account reports it.
            shown = _redact.url(response.url)
            problem = getattr(error, "problem", None) or str(error)
            unknown = UnknownIdError(self.name, shown, response.status_code)
            track(self.kind, {"id": None, **sent}, functools.partial(_raise, unknown), scope=scope,
                  owner=holder, intent=intent)
            raise UnreadableCreateError(self.name, shown, response.status_code,
                                        _redact.body_excerpt(response.content), problem) from error
        address = self._address(item, sent, extra, ident)
        sent_headers, sent_params = self._headers(headers), self._params(params)
        recovery: dict[str, Any] = {"method": "DELETE", "url": _redact.url(_with_query(address, sent_params))}
        tenant_headers = {k: v for k, v in {**self.api.headers, **sent_headers}.items()
                          if k.lower().startswith("x-tenant")}
        if tenant_headers:
            recovery["headers"] = _redact.headers(tenant_headers)
        track(self.kind, item, functools.partial(self._delete_at, address, sent_headers, sent_params, ident),
              scope=scope, owner=holder, recovery=recovery, intent=intent)
        self._confirm(address, ident, sent_headers, sent_params)
        return item

    def get(self, item_or_id: Any, *, headers: Mapping[str, str] | None = None,
            params: Mapping[str, Any] | None = None, path_params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Return the current state of one item (a GET of its address; a one-row list answer is unwrapped)."""
        from testdata_kit.http.client import expect_json

        answer = expect_json(self.api.get(self.url(item_or_id, path_params=path_params),
                                          headers=self._headers(headers), params=self._params(params)))
        if isinstance(answer, list) and len(answer) == 1:
            answer = answer[0]
        return dict(answer)

    def delete(self, item_or_id: Any, *, headers: Mapping[str, str] | None = None,
               params: Mapping[str, Any] | None = None, path_params: Mapping[str, Any] | None = None) -> Any:
        """DELETE one item, verified as the collection's *verify* says; return :data:`~testdata_kit.GONE` when
        it was already gone.

        Connection errors and 5xx answers are retried by the client (see :class:`~testdata_kit.http.ApiClient`).

        :raises DeleteFailedError: naming the method and URL, when the deletion still failed.
        :raises DeleteUnprovenError: when the answer was not proof and a GET shows the item is still there,
            or cannot show it is gone.
        """
        ident = self.ident(item_or_id) if isinstance(item_or_id, Mapping) else item_or_id
        return self._delete_at(self.url(item_or_id, path_params=path_params), self._headers(headers),
                               self._params(params), ident)

    def exists(self, item_or_id: Any, *, headers: Mapping[str, str] | None = None,
               params: Mapping[str, Any] | None = None, path_params: Mapping[str, Any] | None = None) -> bool | None:
        """Return whether the item is at its address: True, False, or None when the answer cannot tell.

        A 404 or 410 (or ``[]`` for a query-filter address) means False only once the collection's address
        template has been confirmed by a create; before that it means None.
        """
        ident = self.ident(item_or_id) if isinstance(item_or_id, Mapping) else item_or_id
        state, _ = self._probe(self.url(item_or_id, path_params=path_params), ident, self._headers(headers),
                               self._params(params))
        return {_GONE: False, _THERE: True}.get(state)

    # -- machinery ---------------------------------------------------------------------------------------

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        return {**self.headers, **(extra or {})}

    def _params(self, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        return {**self.params, **(extra or {})}

    def _post(self, sent: dict[str, Any], headers: Mapping[str, str] | None, params: Mapping[str, Any] | None,
              path_params: Mapping[str, Any]) -> requests.Response:
        try:
            where = fill(self.path, [("the body sent", sent), ("path_params", path_params)], {},
                         f"path of collection {self.name!r}")
        except KeyError as error:
            raise KeyError(error.args[0]) from None
        return self.api.post(where, json=sent, headers=self._headers(headers), params=self._params(params))

    def _address(self, item: dict[str, Any], sent: Mapping[str, Any], path_params: Mapping[str, Any],
                 ident: Any) -> str:
        """Return the absolute URL of the item, from the template or the callable."""
        if callable(self.item):
            given = dict(item)
            if "." not in self.id_field:
                given.setdefault(self.id_field, ident)
            return self.api.url_for(str(self.item(given)))
        sources = [("the created item", item), ("the body sent", sent), ("path_params", path_params)]
        what = f"item address of collection {self.name!r}"
        path = fill(self.path, sources, {}, f"path of collection {self.name!r}")
        return self.api.url_for(fill(self.item, sources, {"path": path, "id": str(ident)}, what))

    def _probe(self, address: str, ident: Any, headers: Mapping[str, str], params: Mapping[str, Any],
               trusted: bool | None = None) -> tuple[str, str]:
        """GET the item's address: return (gone | there | wrong | unknown, what the GET showed, for messages).

        An empty answer (404, 410, ``[]``) is "gone" only at a *trusted* address (default: a confirmed one).
        """
        trusted = self._confirmed if trusted is None else trusted
        shown = _redact.url(address)
        try:
            response = self.api.get(address, headers=headers, params=params)
        except ServerDownError as error:
            return _UNKNOWN, f"GET {shown} could not reach the server ({error.reason})"
        status = response.status_code
        if status in GONE_STATUSES:
            return (_GONE if trusted else _UNKNOWN), f"GET {shown} answered {status}"
        if not response.ok:
            return _UNKNOWN, f"GET {shown} answered {status}"
        try:
            body = response.json()
        except ValueError:
            return _THERE, f"GET {shown} answered {status} with a body"
        if isinstance(body, list):
            if not body:
                return (_GONE if trusted else _UNKNOWN), f"GET {shown} answered {status} with []"
            if len(body) == 1 and _same(body[0], ident, self.id_field):
                return _THERE, f"GET {shown} answered {status} with the item"
            return _WRONG, f"GET {shown} answered a list of {len(body)} rows, so it does not address one item"
        if isinstance(body, dict) and not _same(body, ident, self.id_field):
            return _WRONG, f"GET {shown} answered {status} with another item"
        return _THERE, f"GET {shown} answered {status} with the item"

    def _confirm(self, address: str, ident: Any, headers: Mapping[str, str], params: Mapping[str, Any]) -> None:
        if self._confirmed or self.verify == "never":
            return
        # The item was created a moment ago, so an empty answer here means a wrong address, not "deleted".
        state, check = self._probe(address, ident, headers, params, trusted=True)
        if state == _THERE:
            self._confirmed = True
            return
        if state in (_GONE, _WRONG):
            raise AddressError(self.name, self.template, _redact.url(address), check)
        # 405, 5xx, an unreachable server: the address is unproven, and a later create tries again.

    def _delete_at(self, address: str, headers: Mapping[str, str], params: Mapping[str, Any], ident: Any) -> Any:
        shown = _redact.url(_with_query(address, params))
        try:
            response = self.api.delete(address, headers=headers, params=params)
        except ServerDownError as error:
            budget = f"retried for up to {self.api.retry_seconds:g} s"
            raise DeleteFailedError("DELETE", shown, None, f"cannot reach the server ({error.reason})",
                                    budget) from error
        status = response.status_code
        if status not in GONE_STATUSES and not response.ok:
            retries = getattr(getattr(response.raw, "retries", None), "history", ())
            attempts = f"{len(retries) + 1} attempt{'s' if retries else ''}"
            raise DeleteFailedError("DELETE", shown, status, _redact.body_excerpt(response.content), attempts)
        if self.verify == "never":
            return GONE if status in GONE_STATUSES else None
        empty = not response.content.strip()
        matched_nothing = response.content.strip() == b"[]"
        if (self.verify == "auto" and status not in GONE_STATUSES and status != 202 and not matched_nothing
                and (not empty or self._empty_ok_proven)):
            return None
        state, check = self._probe(address, ident, headers, params)
        if state != _GONE:
            raise DeleteUnprovenError(shown, status, self.name, self.template, check, still_there=state == _THERE)
        if empty and response.ok:
            self._empty_ok_proven = True
        return GONE if status in GONE_STATUSES else None

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
        if isinstance(item, list) and len(item) == 1 and isinstance(item[0], dict):
            item = item[0]  # PostgREST and others answer a create with the created rows
        if not isinstance(item, dict):
            shape = f"a list of {len(item)}" if isinstance(item, list) else f"a {type(item).__name__}"
            raise ApiError("POST", address, response.status_code, excerpt,
                           f"answered with JSON that is not one object ({shape})")
        try:
            return item, self.ident(item)
        except KeyError:
            pass
        location = response.headers.get("Location")
        ident = id_from_location(location, response.url, self.id_field) if location else None
        if ident:
            value: Any = int(ident) if ident.isascii() and ident.isdigit() else ident
            if "." not in self.id_field:
                item.setdefault(self.id_field, value)
            return item, value
        raise MissingIdError(self.name, self.id_field, sorted(item), address, response.status_code)


def _same(row: Any, ident: Any, id_field: str) -> bool:
    """Whether *row* is the item *ident*; a row without the id field cannot contradict it."""
    if not isinstance(row, Mapping):
        return False
    try:
        return str(read_field(row, id_field)) == str(ident)
    except KeyError:
        return True


def _with_query(address: str, params: Mapping[str, Any]) -> str:
    if not params:
        return address
    prepared = requests.models.PreparedRequest()
    prepared.prepare_url(address, params)
    return str(prepared.url)


def _raise(error: BaseException) -> None:
    raise error


def _verify_mode(verify: str, api: ApiClient) -> str:
    if verify not in VERIFY_MODES:
        raise ValueError(f"verify {verify!r} must be one of {', '.join(map(repr, VERIFY_MODES))}")
    if verify != "auto":
        return verify
    configured = os.environ.get(VERIFY_ENV, "").strip().lower()
    source = f"${VERIFY_ENV}"
    if not configured:
        configured = (api._config.get_str(VERIFY_KEY) or "auto").lower()
        source = f"{VERIFY_KEY} in {api._config.path}"
    if configured not in VERIFY_MODES:
        raise ValueError(f"{source} = {configured!r} must be one of {', '.join(map(repr, VERIFY_MODES))}")
    return configured
