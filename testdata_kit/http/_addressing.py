"""Where a collection's items live: filling address templates, and finding a new item's id in a create's answer."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import requests

from testdata_kit import _redact
from testdata_kit.http.errors import ApiError, MissingIdError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from testdata_kit.http._exchange import Answer

__all__ = [
    "DEFAULT_ITEM",
    "ItemTemplate",
    "fill",
    "id_from_location",
    "placeholders",
    "read_created",
    "read_field",
    "with_query",
]

#: The item address most REST APIs use; ``"{path}?id=eq.{id}"`` is the query-filter style.
DEFAULT_ITEM = "{path}/{id}"
ItemTemplate = str | Callable[[dict[str, Any]], str]

_MISSING = object()
# PostgREST-style operators in a filter value: "eq.7" means "equals 7".
_OPERATOR = re.compile(r"^[a-z]{2,5}\.(.+)$")


def placeholders(template: str) -> list[str]:
    """Return the names of the ``{placeholders}`` of *template*, in order (``"{path}/{id}"`` -> path, id)."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def read_field(item: Any, field: str) -> Any:
    """Return *item*'s value at *field*, or raise ``KeyError``.

    ``"data.id"`` reads a nested field, and ``"rows.0.id"`` the first element of a list.
    """
    value: Any = item
    for part in field.split("."):
        if isinstance(value, list) and part.isdigit():
            value = value[int(part)] if int(part) < len(value) else _MISSING
        else:
            value = value.get(part, _MISSING) if isinstance(value, Mapping) else _MISSING
    if value is _MISSING or value is None:
        raise KeyError(field)
    return value


def fill(template: str, sources: list[tuple[str, Mapping[str, Any]]], fixed: Mapping[str, str], what: str) -> str:
    """Fill *template*'s placeholders: *fixed* values first (``path``, ``id``), then each source in order.

    Values from the sources are percent-encoded, so an id like ``"a/b"`` stays one path segment.

    :param sources: ``(label, mapping)`` pairs, e.g. ``("the created item", item)``; labels appear in errors.
    :param what: names the template in errors, e.g. ``"item address of collection 'orders'"``.
    :raises KeyError: naming the placeholder, where it was looked up, and how to supply it.
    """
    values: dict[str, str] = {}
    for name in placeholders(template):
        if name in fixed:
            values[name] = fixed[name]
            continue
        for _, source in sources:
            try:
                values[name] = quote(str(read_field(source, name)), safe="")
                break
            except KeyError:
                continue
        else:
            labels = [label for label, _ in sources]
            looked = " or ".join([", ".join(labels[:-1]), labels[-1]] if len(labels) > 1 else labels)
            raise KeyError(
                f"the {what} {template!r} needs {{{name}}}, and none of {looked} has a field {name!r}; "
                f"pass it with create(..., path_params={{{name!r}: ...}})"
            )
    return template.format(**values)


def id_from_location(location: str, base: str, id_field: str) -> str | None:
    """Return the id a ``Location`` header names, or ``None``.

    Absolute and relative locations both work. A query string wins over the path: ``/users?id=eq.7`` gives
    ``"7"`` (the parameter named like the id field's last part, or the only parameter; an operator prefix
    such as ``eq.`` is dropped). Otherwise the last path segment is the id: ``/users/7`` gives ``"7"``.
    """
    parts = urlsplit(urljoin(base, location))
    if parts.query:
        query = parse_qs(parts.query, keep_blank_values=True)
        key = id_field.rpartition(".")[2]
        values = query.get(key) or (next(iter(query.values())) if len(query) == 1 else None)
        if not values or not values[0]:
            return None
        found = _OPERATOR.match(values[0])
        return found.group(1) if found else values[0]
    last = parts.path.rstrip("/").rpartition("/")[2]
    return last or None


def with_query(address: str, params: Mapping[str, Any]) -> str:
    """Return *address* with *params* added to its query string, as requests would send it."""
    if not params:
        return address
    if "://" not in address:
        # A relative address ("/users"): requests prepares only absolute URLs, so borrow a reserved host.
        base = "http://relative.invalid"
        return with_query(base + "/" + address.lstrip("/"), params)[len(base):]
    prepared = requests.models.PreparedRequest()
    prepared.prepare_url(address, params)
    return str(prepared.url)


def read_created(response: Answer, name: str, id_field: str) -> tuple[dict[str, Any], Any]:
    """Return the created item and its id from a create's answer.

    The item is the body, or the one element of an array body; the id is its *id_field*, else the one the
    ``Location`` header names (even when the body is unreadable).

    :raises ApiError: for a non-2xx answer, or a body that is neither an object nor names the id elsewhere.
    :raises MissingIdError: when neither the body nor ``Location`` gives the id.
    """
    address = _redact.url(response.url)
    excerpt = _redact.body_excerpt(response.content)
    if not response.ok:
        raise ApiError("POST", address, response.status, excerpt,
                       f"answered {response.status} {response.reason} to a create in {name!r}")
    item: Any = {}
    unreadable = None  # why the body cannot be the item; the Location header may still name the id
    if response.content.strip():
        try:
            item = response.json()
        except ValueError:
            type_ = response.headers.get("Content-Type", "no Content-Type")
            unreadable, item = f"answered with a body that is not JSON ({type_})", {}
    if isinstance(item, list) and len(item) == 1 and isinstance(item[0], dict):
        item = item[0]  # PostgREST and others answer a create with the created rows
    if not isinstance(item, dict):
        shape = f"a list of {len(item)}" if isinstance(item, list) else f"a {type(item).__name__}"
        unreadable, item = f"answered with JSON that is not one object ({shape})", {}
    if unreadable is None:
        try:
            return item, read_field(item, id_field)
        except KeyError:
            pass
    location = response.headers.get("Location")
    ident = id_from_location(location, response.url, id_field) if location else None
    if ident:
        value: Any = int(ident) if ident.isascii() and ident.isdigit() else ident
        if "." not in id_field:
            item.setdefault(id_field, value)
        return item, value
    if unreadable is not None:
        raise ApiError("POST", address, response.status, excerpt, unreadable)
    raise MissingIdError(name, id_field, sorted(item), address, response.status)
