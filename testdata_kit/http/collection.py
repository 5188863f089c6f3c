"""Declared collections: ``create()`` POSTs, reads the new id, and registers a verified DELETE in the current scope."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests

from testdata_kit import _redact
from testdata_kit.errors import MissingKeyError
from testdata_kit.http._addressing import (
    DEFAULT_ITEM,
    ItemTemplate,
    fill,
    placeholders,
    read_field,
    with_query,
)
from testdata_kit.http._creation import CreateAnswers, refused
from testdata_kit.http._deletion import DeletionSteps
from testdata_kit.http._exchange import Answer, Call, drive
from testdata_kit.http._verify import (
    GONE_STATUSES,
    IS_GONE,
    IS_THERE,
    SETTLE_SECONDS,
    VERIFY_ENV,
    VERIFY_KEY,
    VERIFY_MODES,
    settle_seconds,
    verify_mode,
)
from testdata_kit.http.errors import AddressError
from testdata_kit.resources import tracked

if TYPE_CHECKING:
    from testdata_kit.http.client import ApiClient

__all__ = ["GONE_STATUSES", "VERIFY_ENV", "VERIFY_KEY", "VERIFY_MODES", "Collection"]


class Collection(CreateAnswers, DeletionSteps):
    """One REST collection of an :class:`~testdata_kit.http.ApiClient`: items POSTed to *path*, found at *item*.

    Made by ``api.collection("users", path="/users")``; see :meth:`~testdata_kit.http.ApiClient.collection` for
    the parameters. :meth:`create` is the tracked form most tests want; :meth:`post` and :meth:`delete` are the
    untracked halves, for ``@creates("user", delete=users.delete)``.

    **Verified deletion.** A deletion counts only on proof. With ``verify="auto"``, the first item created
    through the collection is read back at its address (one GET per collection), which proves the address
    template; an :class:`AddressError` says at once when it is wrong. Then a DELETE answered 404 or 410,
    202, an empty 2xx (until one such answer was shown to really delete), or an empty JSON list is checked
    with a GET of the item's address: gone (404, 410, or ``[]`` for a query-filter address) counts as deleted,
    anything else raises :class:`DeleteUnprovenError` (a leak). A collection that has created nothing reads an
    item before its first deletion instead. A DELETE that failed is checked too: gone counts as deleted.
    ``"always"`` checks every deletion; ``"never"`` trusts status codes, which counts a DELETE at a wrong
    address as done (unsafe).

    **Late deletions.** Some servers answer a DELETE (2xx, often 202 or 204) before the item is gone: Jupyter
    Server ends a terminal's process after answering. When the check after such an answer still finds the item,
    it is read again after 50 ms, 100 ms, 200 ms... until *settle* seconds have passed; only then is it a leak.
    A refused DELETE (4xx) is never re-checked.
    """

    def __init__(self, api: ApiClient, name: str, *, path: str | None = None, id_field: str = "id",
                 kind: str | None = None, item: ItemTemplate | None = None,
                 headers: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None,
                 verify: str = "auto", delete_at: ItemTemplate | None = None,
                 delete_method: str = "DELETE", settle: float = SETTLE_SECONDS) -> None:
        self.api = api
        self.name = name
        self.path = "/" + (path if path is not None else name).strip("/")
        self.id_field = id_field
        self.kind = kind or name
        self.item = item if item is not None else DEFAULT_ITEM
        self.headers = dict(headers or {})
        self.params = dict(params or {})
        self.verify = verify_mode(verify, api._config)
        if self.verify == "never":
            _warn_unverified(name)
        #: Where and how an item is deleted, when not ``DELETE`` at its address (Datasette: ``POST .../-/delete``).
        self.delete_at = delete_at
        self.delete_method = delete_method.upper()
        #: Seconds a deletion the server accepted may take to finish before a GET still finding the item is a leak.
        self.settle = settle_seconds(settle)
        # Set by the first create whose item was found at its address; a GET 404 proves "gone" only then.
        self._confirmed = False
        # Set once an empty 2xx DELETE was shown to delete; later ones are trusted under "auto".
        self._empty_ok_proven = False
        # Set when a GET of an item answered neither the item nor 404/410 (405, 501...): items cannot be read.
        self._unreadable = False

    def __repr__(self) -> str:
        shown = self.item if isinstance(self.item, str) else getattr(self.item, "__name__", "callable")
        where = _redact.url(self.api.url_for(self.path))
        return (f"<{type(self).__name__} {self.name} at {where} id={self.id_field!r} "
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
            raise MissingKeyError(f"{self.name} item has no {self.id_field!r}; keys present: {sorted(item)}") from None

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
        answer = self._send(self._post_call(sent, headers, params, path_params or {}))
        item, ident = self._created(answer)
        address = self._address(item, sent, path_params or {}, ident)
        self._confirm(address, ident, self._headers(headers), self._params(params), tracked=False)
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
        sent = {**(body or {}), **fields}
        extra = path_params or {}
        sent_headers, sent_params = self._headers(headers), self._params(params)
        # What make() learns besides the item: errors to raise once the item is on record, its recovery record.
        learned: dict[str, Any] = {}

        def make() -> tuple[dict[str, Any], Any]:
            call = self._post_call(sent, headers, params, extra)
            try:
                answer = self._send(call)
            except (requests.exceptions.ReadTimeout, requests.exceptions.ChunkedEncodingError) as error:
                # Sent, and the answer lost on the way back: the row may exist.
                return self.possibly_created(sent, _redact.url(call.url), None, error, learned)
            made = self._made(answer, sent, extra, sent_headers, sent_params, learned)
            if "confirm" in learned:
                try:
                    # Before the journal's record of the item, so that the record can say its address is proven.
                    self._confirm(*learned["confirm"])
                except AddressError as error:
                    learned["wrong"] = error  # raised once the item is on record
                learned["recovery"] = self._recovery(learned["confirm"][0], learned["removal"], sent_headers,
                                                     sent_params)
            return made

        # With a journal, "about to create" is on disk before the POST leaves, so a crash during it is visible.
        # A 4xx refused the create. A 5xx may come from a proxy after the backend committed, so its intent stays
        # open for a journal sweep, as it does for anything else make() raises.
        resource = tracked(self.kind, make, scope=scope, owner=owner,
                           recovery=lambda item: learned.get("recovery"), created_nothing=refused)
        if "error" in learned:
            raise learned["error"]
        if "wrong" in learned:
            raise learned["wrong"]
        return resource.value

    def get(self, item_or_id: Any, *, headers: Mapping[str, str] | None = None,
            params: Mapping[str, Any] | None = None, path_params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Return the current state of one item (a GET of its address; a one-row list answer is unwrapped)."""
        answer = self.api.get_json(self.url(item_or_id, path_params=path_params),
                                   headers=self._headers(headers), params=self._params(params))
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
        address = self.url(item_or_id, path_params=path_params)
        return self._delete_at(address, self._headers(headers), self._params(params), ident,
                               self._removal(item_or_id, path_params, address))

    def recovery(self, item: Mapping[str, Any], *, headers: Mapping[str, str] | None = None,
                 params: Mapping[str, Any] | None = None,
                 path_params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Return how another process deletes *item* after a crash, as :meth:`create` journals it.

        The record is ``{"method": "DELETE", "url": ...}``, plus ``"headers"`` for tenant headers
        (``X-Tenant...``), ``"proven"`` once a read-back proved the address, and ``"check"`` where the item
        is read back when that is not where it is deleted; credentials are masked. For an item created with
        :meth:`post` inside a tracked creation, such as a ``@creates`` kind: ``python -m testdata_kit sweep
        --journal`` replays it.

        :param headers: the headers of the create, besides the client's and the collection's.
        :param params: the query parameters of the create, besides the collection's.
        :param path_params: values for placeholders the item does not hold, as for :meth:`url`.
        :raises KeyError: when the address needs a value found nowhere.
        """
        address = self.url(item, path_params=path_params)
        return self._recovery(address, self._removal(item, path_params, address), self._headers(headers),
                              self._params(params))

    def trust_address(self) -> None:
        """Take the item address as proven: a 404 (or ``[]``) there counts as gone. For a sweeper replaying
        addresses a run proved (``"proven"`` in a journal's recovery record)."""
        self._confirmed = True

    def exists(self, item_or_id: Any, *, headers: Mapping[str, str] | None = None,
               params: Mapping[str, Any] | None = None, path_params: Mapping[str, Any] | None = None) -> bool | None:
        """Return whether the item is at its address: True, False, or None when the answer cannot tell.

        A 404 or 410 (or ``[]`` for a query-filter address) means False only once the collection's address
        template has been confirmed by a create; before that it means None.
        """
        ident = self.ident(item_or_id) if isinstance(item_or_id, Mapping) else item_or_id
        state, _ = drive(self._probe(self.url(item_or_id, path_params=path_params), ident, self._headers(headers),
                                     self._params(params)), self._send)
        return {IS_GONE: False, IS_THERE: True}.get(state)

    # -- machinery ---------------------------------------------------------------------------------------

    def _removal(self, item_or_id: Any, path_params: Mapping[str, Any] | None, address: str) -> str:
        if self.delete_at is None:
            return address
        item = dict(item_or_id) if isinstance(item_or_id, Mapping) else {}
        ident = self.ident(item) if isinstance(item_or_id, Mapping) else item_or_id
        return self._address(item, {}, path_params or {}, ident, self.delete_at)

    def _recovery(self, address: str, removal: str, headers: Mapping[str, str],
                  params: Mapping[str, Any]) -> dict[str, Any]:
        """The journal's record for an item at *address*, deleted at *removal*: one writer for every creation."""
        record: dict[str, Any] = {"method": self.delete_method, "url": _redact.url(with_query(removal, params))}
        if self._confirmed:  # a sweeper may then take a 404 at this address as proof of deletion
            record["proven"] = True
        if removal != address:  # where a sweeper reads the item back, when not where it deletes it
            record["check"] = _redact.url(with_query(address, params))
        tenant_headers = {k: v for k, v in {**self.api.headers, **headers}.items() if k.lower().startswith("x-tenant")}
        if tenant_headers:
            record["headers"] = _redact.headers(tenant_headers)
        return record

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        return {**self.headers, **(extra or {})}

    def _params(self, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        return {**self.params, **(extra or {})}

    def _send(self, call: Call) -> Answer:
        """Send *call* through the client: the only I/O of the collection (an async one overrides it)."""
        # None rather than empty: requests then skips merging them with the session's, for every request.
        options: dict[str, Any] = {"headers": call.headers or None, "params": call.params or None}
        if call.json is not None:
            options["json"] = call.json
        # Through the session's own verb methods, which a test or a subclass may wrap.
        verb = getattr(self.api, call.method.lower()) if call.method in ("GET", "POST", "DELETE") else None
        response = verb(call.url, **options) if verb else self.api.request(call.method, call.url, **options)
        return answer_of(response)

    def _post_call(self, sent: dict[str, Any], headers: Mapping[str, str] | None, params: Mapping[str, Any] | None,
                   path_params: Mapping[str, Any]) -> Call:
        try:
            where = fill(self.path, [("the body sent", sent), ("path_params", path_params)], {},
                         f"path of collection {self.name!r}")
        except KeyError as error:
            raise KeyError(error.args[0]) from None
        return Call("POST", where, self._headers(headers), self._params(params), sent)

    def _address(self, item: dict[str, Any], sent: Mapping[str, Any], path_params: Mapping[str, Any],
                 ident: Any, template: ItemTemplate | None = None) -> str:
        """Return the absolute URL of the item (or of *template*), from the template or the callable."""
        template = self.item if template is None else template
        if callable(template):
            given = dict(item)
            if "." not in self.id_field:
                given.setdefault(self.id_field, ident)
            return self.api.url_for(str(template(given)))
        sources = [("the created item", item), ("the body sent", sent), ("path_params", path_params)]
        what = f"item address of collection {self.name!r}"
        fixed = {"id": quote(str(ident), safe="")}
        if "path" in placeholders(template):
            fixed["path"] = fill(self.path, sources, {}, f"path of collection {self.name!r}")
        return self.api.url_for(fill(template, sources, fixed, what))

    def _confirm(self, address: str, ident: Any, headers: Mapping[str, str], params: Mapping[str, Any],
                 tracked: bool = True) -> None:
        drive(self._confirming(address, ident, headers, params, tracked), self._send)

    def _delete_at(self, address: str, headers: Mapping[str, str], params: Mapping[str, Any], ident: Any,
                   removal: str | None = None) -> Any:
        """Delete the item at *address* (or by *delete_method* at *removal*), verified; return GONE or None."""
        return drive(self._deleting(address, headers, params, ident, removal), self._send)


def answer_of(response: requests.Response) -> Answer:
    """What the decision code reads of a requests *response*; the attempts count urllib3's retries."""
    retries = getattr(getattr(response.raw, "retries", None), "history", ())
    return Answer(response.request.method or "?", str(response.url), response.status_code, response.reason or "",
                  response.content, response.headers, len(retries) + 1)


_unverified_warned: set[str] = set()


def _warn_unverified(name: str) -> None:
    # Said once per collection name and process, on standard error: the account it feeds is not proven.
    if name not in _unverified_warned:
        _unverified_warned.add(name)
        print(f"testdata_kit: collection {name!r} has verify='never': its deletions count on the status code "
              f"alone, so the account cannot prove them (use verify='auto')", file=sys.stderr)
