"""The demo API's collections and the validation of request bodies and list queries against them."""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from testdata_kit.errors import TestDataError

__all__ = [
    "COLLECTIONS",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "DemoApiError",
    "Field",
    "ListQuery",
    "Table",
    "collection_named",
    "format_timestamp",
    "parse_list_query",
    "parse_timestamp",
    "validate_body",
]

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
_MAX_TEXT = 200


class DemoApiError(TestDataError):
    """A request the demo API rejects; carries the HTTP status and, for 422, the per-field errors."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})
        super().__init__(f"{status}: {message}" + (f" {self.errors}" if self.errors else ""))

    def body(self) -> dict[str, Any]:
        """Return the JSON body the API sends for this error."""
        if self.errors:
            return {"error": self.message, "errors": self.errors}
        return {"error": self.message}


@dataclass(frozen=True)
class Field:
    """One writable column: its JSON type, whether a create needs it, and its bounds.

    :param kind: ``"text"``, ``"email"``, ``"number"``, ``"integer"`` or ``"ref"`` (an id in *ref*).
    """

    name: str
    kind: str
    required: bool = True
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    ref: str | None = None
    default: Any = None
    # Settable on create only: moving a row between tenants would break the tenant's isolation.
    create_only: bool = False


@dataclass(frozen=True)
class Table:
    """A resource type: its URL name, writable fields, marker fields for ``?prefix=`` and exact filters."""

    name: str
    singular: str
    fields: tuple[Field, ...]
    markers: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    unique: str | None = None
    tenanted: bool = True
    computed: tuple[str, ...] = ()
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column of a row, in the order the JSON object lists them."""
        return ("id", *(f.name for f in self.fields), *self.computed, "created_at")


_TENANT = Field("tenant_id", "ref", required=False, nullable=True, ref="tenants", create_only=True)

#: Collections in parent-first order; deleting in reverse order never trips a foreign key.
COLLECTIONS: dict[str, Table] = {
    c.name: c
    for c in (
        Table("tenants", "tenant", (Field("name", "text"),), markers=("name",), tenanted=False),
        Table(
            "users",
            "user",
            (Field("email", "email"), Field("name", "text"), _TENANT),
            markers=("email", "name"),
            filters=("email", "tenant_id"),
            unique="email",
        ),
        Table(
            "products",
            "product",
            (Field("name", "text"), Field("price", "number", minimum=0), _TENANT),
            markers=("name",),
            filters=("tenant_id",),
        ),
        Table(
            "discounts",
            "discount",
            (Field("code", "text"), Field("percent", "number", minimum=0, maximum=100), _TENANT),
            markers=("code",),
            filters=("code", "tenant_id"),
            unique="code",
        ),
        Table(
            "orders",
            "order",
            (
                Field("user_id", "ref", ref="users"),
                Field("product_id", "ref", ref="products"),
                Field("discount_id", "ref", required=False, nullable=True, ref="discounts"),
                Field("quantity", "integer", required=False, minimum=1, maximum=10_000, default=1),
                _TENANT,
            ),
            filters=("user_id", "product_id", "discount_id", "tenant_id"),
            computed=("total",),
        ),
    )
}


def collection_named(name: str) -> Table:
    """Return the collection called *name*, or raise a 404 listing the valid ones."""
    try:
        return COLLECTIONS[name]
    except KeyError:
        raise DemoApiError(404, f"Unknown collection {name!r}; the demo API serves: {', '.join(COLLECTIONS)}") from None


def validate_body(collection: Table, body: object, *, partial: bool = False) -> dict[str, Any]:
    """Check a decoded JSON body and return the column values it sets; raise 422 with every field's problem.

    :param partial: True for PATCH: nothing is required and create-only fields are refused.
    """
    if not isinstance(body, dict):
        raise DemoApiError(422, "invalid body", {"body": f"expected a JSON object, got {type(body).__name__}"})
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    read_only = {"id", "created_at", *collection.computed}
    for key in body:
        if key in read_only:
            errors[key] = "read-only field; the server sets it"
        elif key not in collection.by_name:
            errors[key] = f"unknown field; {collection.name} accepts: {', '.join(collection.by_name)}"
        elif partial and collection.by_name[key].create_only:
            errors[key] = "can only be set when the row is created"
    for spec in collection.fields:
        if spec.name not in body:
            if spec.required and not partial:
                errors[spec.name] = "required field is missing"
            elif not partial:
                values[spec.name] = spec.default
            continue
        if spec.name in errors:
            continue
        try:
            values[spec.name] = _check(spec, body[spec.name])
        except ValueError as problem:
            errors[spec.name] = str(problem)
    if errors:
        raise DemoApiError(422, "invalid body", errors)
    return values


def _check(spec: Field, value: object) -> Any:
    if value is None:
        if spec.nullable:
            return None
        raise ValueError("must not be null")
    if spec.kind in ("text", "email"):
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {type(value).__name__}")
        if not value.strip():
            raise ValueError("must not be empty")
        if len(value) > _MAX_TEXT:
            raise ValueError(f"must be at most {_MAX_TEXT} characters, got {len(value)}")
        if spec.kind == "email":
            local, at, domain = value.partition("@")
            if not (local and at and domain) or "@" in domain or any(c.isspace() for c in value):
                raise ValueError(f"expected an email address like 'name@example.com', got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        expected = "a number" if spec.kind == "number" else "an integer"
        raise ValueError(f"expected {expected}, got {type(value).__name__}")
    if spec.kind in ("integer", "ref") and not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    low = 1 if spec.kind == "ref" else spec.minimum
    if low is not None and value < low:
        raise ValueError(f"must be at least {low:g}, got {value!r}")
    if spec.maximum is not None and value > spec.maximum:
        raise ValueError(f"must be at most {spec.maximum:g}, got {value!r}")
    return value


@dataclass(frozen=True)
class ListQuery:
    """What ``GET /{collection}`` asked for: exact filters, a marker substring, an age bound and a page."""

    filters: dict[str, Any]
    prefix: str | None = None
    created_before: str | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    #: Keyset paging: rows with an id above this one. Each page then costs the same, however deep it is.
    after: int | None = None


def parse_list_query(collection: Table, params: Mapping[str, list[str]]) -> ListQuery:
    """Turn the query string of a list request into a :class:`ListQuery`; raise 400 on anything unknown."""
    allowed = ("prefix", "created_before", "limit", "offset", "after", *collection.filters)
    filters: dict[str, Any] = {}
    for key, values in params.items():
        if key not in allowed:
            raise DemoApiError(
                400, f"Unknown query parameter {key!r} for {collection.name}; use one of: {', '.join(allowed)}"
            )
        if len(values) != 1:
            raise DemoApiError(400, f"Query parameter {key!r} was given {len(values)} times; give it once")
    one = {key: values[0] for key, values in params.items()}
    for name in collection.filters:
        if name in one:
            spec = collection.by_name[name]
            filters[name] = _int_param(name, one[name], 1) if spec.kind == "ref" else one[name]
    before = one.get("created_before")
    if "after" in one and "offset" in one:
        raise DemoApiError(400, "Give either 'after' (an id, for keyset paging) or 'offset', not both")
    return ListQuery(
        filters=filters,
        prefix=one.get("prefix") or None,
        created_before=None if before is None else format_timestamp(parse_timestamp(before, "created_before")),
        limit=_int_param("limit", one.get("limit", str(DEFAULT_LIMIT)), 1, MAX_LIMIT),
        offset=_int_param("offset", one.get("offset", "0"), 0),
        after=_int_param("after", one["after"], 0) if "after" in one else None,
    )


def _int_param(name: str, raw: str, low: int, high: int | None = None) -> int:
    try:
        number = int(raw)
    except ValueError:
        number = None
    if number is None or number < low or (high is not None and number > high):
        bounds = f"{low}..{high}" if high is not None else f">= {low}"
        raise DemoApiError(400, f"Query parameter {name}={raw!r} must be an integer {bounds}")
    return number


def parse_timestamp(raw: str, what: str = "timestamp") -> _dt.datetime:
    """Parse an ISO-8601 timestamp (``Z`` or an offset; naive means UTC) into an aware UTC datetime."""
    text = raw.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        moment = _dt.datetime.fromisoformat(text)
    except ValueError:
        raise DemoApiError(
            400, f"{what}={raw!r} is not an ISO-8601 timestamp; use e.g. '2024-05-01T12:00:00Z'"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment.astimezone(_dt.timezone.utc)


def format_timestamp(moment: _dt.datetime) -> str:
    """Format an aware datetime the way rows store it: fixed width, so text order is time order."""
    return moment.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
