"""Routing one demo API request: its URL to a store call, its answer as status and JSON, the admin endpoints.

:func:`dispatch` knows nothing of sockets: :mod:`testdata_kit.demo._handler` reads the request, injects latency
and failures, calls it, and writes the :class:`Response` it returns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from testdata_kit.demo._openapi import document as openapi_document
from testdata_kit.demo._schema import COLLECTIONS, DemoApiError, collection_named, parse_list_query, parse_timestamp
from testdata_kit.demo._store import Store

__all__ = ["ADDRESSING", "TENANT_HEADER", "Response", "Settings", "dispatch"]

#: The header that scopes a request to one tenant, as ``/tenants/ID/...`` does.
TENANT_HEADER = "X-Tenant-ID"


#: The ways the demo API can address one row: ``/users/7``, or a query filter ``/users?id=eq.7``.
ADDRESSING = ("path", "query")


@dataclass(frozen=True)
class Settings:
    """Behaviour switches of one server: injected latency and failures, request logging, and the misbehaviours
    of real REST servers (query-filter addressing, array answers, a Location with a query, 204 on nothing)."""

    latency_ms: float = 0.0
    fail_rate: float = 0.0
    fail_methods: frozenset[str] | None = None
    seed: int | None = None
    verbose: bool = False
    addressing: str = "path"
    array_bodies: bool = False
    location_query: bool = False
    empty_delete_204: bool = False
    fail_first_seconds: float = 0.0
    fail_after: bool = False
    hang_rate: float = 0.0
    hang_seconds: float = 2.0
    delete_delay_ms: float = 0.0


@dataclass
class Response:
    """Status, JSON payload (``None`` for no body) and extra headers of one answer."""

    status: int
    payload: Any = None
    headers: Mapping[str, str] | None = None


def dispatch(store: Store, method: str, target: str, raw_body: bytes, tenant_header: str | None,
             settings: Settings = Settings(), later: Callable[[str, int, int | None], None] | None = None) -> Response:
    """Route one request to the store and return the answer; raises :class:`DemoApiError` for 4xx answers.

    :param later: with ``settings.delete_delay_ms``, receives (collection, id, tenant) of a row to delete once
        that delay has passed; the DELETE is answered 204 at once, as a server deleting in the background does.
    """
    url = urlsplit(target)
    segments = [s for s in url.path.split("/") if s]
    query = parse_qs(url.query, keep_blank_values=True)
    if segments[:1] == ["_admin"]:
        return _admin(store, method, segments[1:], raw_body)
    if segments == ["openapi.json"]:
        _allow(method, url.path, "GET")
        return Response(200, openapi_document(settings.addressing))
    tenant = _tenant_from_header(tenant_header)
    base = ""
    if len(segments) >= 3 and segments[0] == "tenants" and segments[2] in COLLECTIONS:
        path_tenant = _row_id("tenants", segments[1])
        if tenant is not None and tenant != path_tenant:
            raise DemoApiError(
                400, f"{TENANT_HEADER}: {tenant} contradicts the path's tenant {path_tenant}; send only one"
            )
        if not COLLECTIONS[segments[2]].tenanted:
            raise DemoApiError(404, f"No route for {url.path}: tenants do not nest")
        tenant, base, segments = path_tenant, f"/tenants/{path_tenant}", segments[2:]
    if not segments:
        _allow(method, url.path, "GET")
        return Response(200, {"collections": list(COLLECTIONS), "admin": [f"/_admin/{n}" for n in _ADMIN]})
    name = collection_named(segments[0]).name
    if not COLLECTIONS[name].tenanted:
        tenant = None  # tenants are not owned by a tenant; a scoped client may still read and create them
    if len(segments) == 1 and settings.addressing == "query" and "id" in query:
        return _by_filter(store, settings, method, name, url.path, query, raw_body, tenant, later)
    if len(segments) == 1:
        if _allow(method, url.path, "GET", "POST") == "POST":
            row = store.create(name, _json(raw_body), tenant)
            query_style = settings.location_query or settings.addressing == "query"
            location = f"{base}/{name}?id=eq.{row['id']}" if query_style else f"{base}/{name}/{row['id']}"
            return Response(201, [row] if settings.array_bodies else row, {"Location": location})
        page = parse_list_query(COLLECTIONS[name], query)
        items, total, more = store.list_rows(name, page, tenant)
        following = None
        if more and items:
            # The next link is a keyset cursor whatever this page used, so walking every page stays linear.
            params = {key: values[0] for key, values in query.items() if key != "offset"}
            params.update(limit=str(page.limit), after=str(items[-1]["id"]))
            following = f"{base}/{name}?{urlencode(params)}"
        return Response(200, {"items": items, "total": total, "limit": page.limit,
                              "offset": page.offset if page.after is None else None, "next": following})
    if len(segments) == 2:
        if settings.addressing == "query":
            raise DemoApiError(404, f"No route for {url.path}: rows are addressed as /{name}?id=eq.ID")
        row_id = _row_id(name, segments[1])
        verb = _allow(method, url.path, "GET", "PATCH", "DELETE")
        if verb == "GET":
            return Response(200, store.get(name, row_id, tenant))
        if verb == "PATCH":
            return Response(200, store.update(name, row_id, _json(raw_body), tenant))
        if settings.empty_delete_204 and store.find(name, row_id, tenant) is None:
            return Response(204)
        _delete(store, settings, later, name, row_id, tenant)
        return Response(204)
    raise DemoApiError(404, f"No route for {url.path}")


def _by_filter(store: Store, settings: Settings, method: str, name: str, path: str, query: dict[str, list[str]],
               raw_body: bytes, tenant: int | None,
               later: Callable[[str, int, int | None], None] | None = None) -> Response:
    """One row addressed by ``?id=eq.ID`` (or ``?id=ID``): GET answers a list of 0 or 1 rows."""
    if len(query) != 1 or len(query["id"]) != 1:
        raise DemoApiError(400, f"Filter rows by id alone, e.g. {path}?id=eq.7")
    raw = query["id"][0]
    row_id = _row_id(name, raw[3:] if raw.startswith("eq.") else raw)
    verb = _allow(method, path, "GET", "PATCH", "DELETE")
    found = store.find(name, row_id, tenant)
    if verb == "GET":
        return Response(200, [] if found is None else [found])
    if found is None:
        if settings.empty_delete_204:
            return Response(204)
        raise DemoApiError(404, f"No {COLLECTIONS[name].singular} with id {row_id}")
    if verb == "PATCH":
        return Response(200, [store.update(name, row_id, _json(raw_body), tenant)])
    _delete(store, settings, later, name, row_id, tenant)
    return Response(204)


def _delete(store: Store, settings: Settings, later: Callable[[str, int, int | None], None] | None, name: str,
            row_id: int, tenant: int | None) -> None:
    if not settings.delete_delay_ms or later is None:
        store.delete(name, row_id, tenant)
        return
    store.get(name, row_id, tenant)  # a row that is not there is still a 404
    later(name, row_id, tenant)


_ADMIN = {"counts": "GET", "deletions": "GET", "backdate": "POST", "reset": "POST"}


def _admin(store: Store, method: str, segments: list[str], raw_body: bytes) -> Response:
    action = segments[0] if len(segments) == 1 else ""
    if action not in _ADMIN:
        raise DemoApiError(404, f"No admin endpoint {'/'.join(segments)!r}; there are: {', '.join(_ADMIN)}")
    _allow(method, f"/_admin/{action}", _ADMIN[action])
    if action == "counts":
        return Response(200, store.counts())
    if action == "deletions":
        return Response(200, store.deletions())
    if action == "reset":
        return Response(200, {"deleted": store.reset()})
    body = _json(raw_body)
    errors: dict[str, str] = {}
    if not isinstance(body, dict):
        raise DemoApiError(422, "invalid body", {"body": f"expected a JSON object, got {type(body).__name__}"})
    collection, row_id, stamp = body.get("collection"), body.get("id"), body.get("created_at")
    if collection not in COLLECTIONS:
        errors["collection"] = f"expected one of {', '.join(COLLECTIONS)}, got {collection!r}"
    if isinstance(row_id, bool) or not isinstance(row_id, int):
        errors["id"] = f"expected an integer row id, got {row_id!r}"
    moment = None
    if isinstance(stamp, str):
        try:
            moment = parse_timestamp(stamp, "created_at")
        except DemoApiError as problem:
            errors["created_at"] = problem.message
    else:
        errors["created_at"] = f"expected an ISO-8601 string like '2024-05-01T12:00:00Z', got {stamp!r}"
    for extra in sorted(set(body) - {"collection", "id", "created_at"}):
        errors[extra] = "unknown field; backdate accepts: collection, id, created_at"
    if errors or moment is None:
        raise DemoApiError(422, "invalid body", errors)
    return Response(200, store.backdate(str(collection), int(row_id), moment))  # type: ignore[arg-type]


def _allow(method: str, path: str, *allowed: str) -> str:
    if method not in allowed:
        raise DemoApiError(
            405, f"{method} is not allowed on {path}; use {', '.join(allowed)}", headers={"Allow": ", ".join(allowed)}
        )
    return method


def _row_id(collection: str, raw: str) -> int:
    if raw.isascii() and raw.isdigit():
        return int(raw)
    raise DemoApiError(404, f"No {COLLECTIONS[collection].singular} with id {raw!r}; ids are positive integers")


def _tenant_from_header(raw: str | None) -> int | None:
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if text.isascii() and text.isdigit() and int(text) > 0:
        return int(text)
    raise DemoApiError(400, f"{TENANT_HEADER}: {raw!r} is not a tenant id; send the integer id of a tenant")


def _json(raw: bytes) -> object:
    if not raw.strip():
        raise DemoApiError(400, "The request body is empty; send a JSON object")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise DemoApiError(400, f"The request body is not valid JSON ({error}); send a JSON object") from None
