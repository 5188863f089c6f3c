"""Where a collection's items live: filling address templates, and finding a new item's id in a create's answer."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, quote, urljoin, urlsplit

__all__ = ["DEFAULT_ITEM", "ItemTemplate", "fill", "id_from_location", "placeholders", "read_field"]

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
    """Return *item*'s value at *field* (``"data.id"`` reads a nested one), or raise ``KeyError``."""
    value: Any = item
    for part in field.split("."):
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
            looked = ", ".join(label for label, _ in sources) or "nothing"
            raise KeyError(
                f"the {what} {template!r} needs {{{name}}}, and neither {looked} has a field {name!r}; "
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
