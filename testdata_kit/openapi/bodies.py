"""Request bodies built from a schema: realistic, safe values chosen by field name and format, seeded per test.

Identity is never seeded: emails come from :func:`testdata_kit.unique.email` (reserved domains), and names,
usernames and codes carry a :func:`~testdata_kit.unique.token`, so a sweep can find them. Everything else is
drawn from a ``random.Random`` seeded with the test's seed and the kind, so the same seed gives the same values.
Phones are in fictional ranges, cards are test numbers, hosts and IPs are reserved ones (:mod:`testdata_kit.safe`).
"""

from __future__ import annotations

import base64
import datetime as _dt
import random
import re
import uuid
from typing import Any

from testdata_kit import _run, _scopes, _seeding, safe, unique
from testdata_kit.openapi._patterns import matching

__all__ = ["body_for", "merged", "rng_for"]

_MAX_DEPTH = 6
# Past this depth even required properties stop: a schema that requires itself has no finite instance.
_MAX_REQUIRED_DEPTH = 24
_MAX_MERGE = 32
_WORDS = ("amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "harbor", "iris", "juniper", "kestrel",
          "linden", "meadow", "north", "orchid", "pine", "quartz", "river", "sage", "tidal", "umber", "violet")
_FIRST = ("Alex", "Blair", "Casey", "Dana", "Eli", "Frankie", "Gray", "Harper", "Jordan", "Kai", "Morgan", "Riley")
_LAST = ("Adler", "Brooks", "Carver", "Dalton", "Ellis", "Fischer", "Garner", "Hale", "Ingram", "Keller", "Lowe")
_CITIES = ("Springfield", "Riverton", "Fairview", "Lakeside", "Georgetown", "Ashford", "Brookfield", "Milton")
_STREETS = ("Main", "Oak", "Maple", "Cedar", "Elm", "Park", "Lake", "Hill", "Church", "Mill")
_MONEY = re.compile(r"(price|amount|total|cost|balance|salary|fee|budget)", re.I)
_UNIQUE = re.compile(r"^(name|title|label|username|user_name|login|handle|slug|code|sku|key)$", re.I)
_outside: dict[tuple[str, str], random.Random] = {}


def rng_for(kind: str) -> random.Random:
    """Return the seeded stream for *kind* in the running test (or the run, outside tests).

    Seeded with ``provider_seed(test_seed(test id), "openapi:" + kind)``, so it does not depend on the order
    in which kinds are created; a failing test's report names the seed.
    """
    test = _scopes.current_test()
    if test is None:
        key = (_run.run_seed(), kind)
        if key not in _outside:
            _outside[key] = random.Random(_seeding.provider_seed(_seeding.test_seed(""), "openapi:" + kind))
        return _outside[key]
    streams: dict[str, random.Random] = test.__dict__.setdefault("_testdata_openapi_streams", {})
    if kind not in streams:
        seed = _seeding.test_seed(_seeding.test_id(test))
        streams[kind] = random.Random(_seeding.provider_seed(seed, "openapi:" + kind))
        _seeding.mark_used(test)
    return streams[kind]


def merged(doc: Any, schema: Any, resolver: Any = None, rng: random.Random | None = None,
           _depth: int = 0) -> dict[str, Any]:
    """Return *schema* with ``$ref`` followed and ``allOf`` merged into one object schema.

    ``oneOf``/``anyOf`` take their first branch (a seeded one with *rng*). Property schemas keep their own
    refs; the result's ``"_resolvers"`` maps each property to the resolver its refs are relative to.
    """
    schema, resolver = doc.deref(schema, resolver)
    if not isinstance(schema, dict) or _depth > _MAX_MERGE:  # an allOf that includes itself ends here
        return {}
    result: dict[str, Any] = {k: v for k, v in schema.items() if k not in ("allOf", "oneOf", "anyOf", "properties")}
    props: dict[str, Any] = {}
    resolvers: dict[str, Any] = {}
    required = list(schema.get("required") or ())
    parts = list(schema.get("allOf") or ())
    for key in ("oneOf", "anyOf"):
        branches = schema.get(key)
        if branches:
            parts.append(branches[int(rng.random() * len(branches))] if rng else branches[0])
    for part in parts:
        sub = merged(doc, part, resolver, rng, _depth + 1)
        props.update(sub.get("properties") or {})
        resolvers.update(sub.get("_resolvers") or {})
        required.extend(r for r in sub.get("required") or () if r not in required)
        for key, value in sub.items():
            if key not in ("properties", "required", "_resolvers"):
                result.setdefault(key, value)
    for name, prop in (schema.get("properties") or {}).items():
        props[name], resolvers[name] = prop, resolver
    if props:
        result["properties"], result["_resolvers"] = props, resolvers
        result.setdefault("type", "object")
    result["required"] = required
    return result


def body_for(doc: Any, schema: Any, resolver: Any, rng: random.Random, *, kind: str = "item",
             all_fields: bool = False) -> Any:
    """Return a value for *schema*: required properties only, or every writable one with *all_fields*.

    ``readOnly`` properties are never sent; ``writeOnly`` ones are.

    :param rng: the seeded stream (see :func:`rng_for`).
    :param kind: the kind's name, used in generated names (``"Pet test-..."``).
    """
    return _value(doc, schema, resolver, rng, kind, "", all_fields, 0)


def _value(doc: Any, schema: Any, resolver: Any, rng: random.Random, kind: str, name: str, all_fields: bool,
           depth: int) -> Any:
    shape = merged(doc, schema, resolver, rng)
    if "const" in shape:
        return shape["const"]
    if shape.get("enum"):
        choices = [v for v in shape["enum"] if v is not None] or shape["enum"]
        return choices[int(rng.random() * len(choices))]
    if "default" in shape and not _MONEY.search(name) and not _UNIQUE.match(name):
        return shape["default"]
    kind_of = _type(shape)
    if kind_of == "object":
        return _object(doc, shape, rng, kind, all_fields, depth)
    if kind_of == "array":
        low = int(shape.get("minItems", 1 if depth <= 1 else 0))
        high = int(shape.get("maxItems", max(low, 1)))
        items = shape.get("items") or {}
        count = min(max(low, 1), high) if depth < _MAX_DEPTH else low
        values: list[Any] = []
        for _ in range(count * 3):
            if len(values) >= count:
                break
            value = _value(doc, items, resolver, rng, kind, _singular_name(name), all_fields, depth + 1)
            if not shape.get("uniqueItems") or value not in values:
                values.append(value)
        return values
    if kind_of in ("integer", "number"):
        return _number(shape, rng, name, kind_of == "integer")
    if kind_of == "boolean":
        return rng.random() < 0.5
    if kind_of == "null":
        return None
    return _string(shape, rng, kind, name)


def _type(shape: dict[str, Any]) -> str:
    declared = shape.get("type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), "null")
    if declared:
        return str(declared)
    if "properties" in shape or "additionalProperties" in shape:
        return "object"
    if "items" in shape:
        return "array"
    if any(k in shape for k in ("minimum", "maximum", "multipleOf")):
        return "number"
    return "string"


def _object(doc: Any, shape: dict[str, Any], rng: random.Random, kind: str, all_fields: bool,
            depth: int) -> dict[str, Any]:
    props = shape.get("properties") or {}
    resolvers = shape.get("_resolvers") or {}
    required = set(shape.get("required") or ())
    result: dict[str, Any] = {}
    for name, prop in props.items():
        if (name not in required and not (all_fields and depth < _MAX_DEPTH)) or depth >= _MAX_REQUIRED_DEPTH:
            continue
        sub, _ = doc.deref(prop, resolvers.get(name))
        if isinstance(sub, dict) and sub.get("readOnly"):
            continue
        result[name] = _value(doc, prop, resolvers.get(name), rng, kind, name, all_fields, depth + 1)
    return result


def _number(shape: dict[str, Any], rng: random.Random, name: str, integer: bool) -> int | float:
    low, high = shape.get("minimum"), shape.get("maximum")
    ex_low, ex_high = shape.get("exclusiveMinimum"), shape.get("exclusiveMaximum")
    step = shape.get("multipleOf")
    lowered = name.lower()
    default_low, default_high = (1, 10) if "quantity" in lowered or "count" in lowered else (1, 1000)
    if lowered == "age":
        default_low, default_high = 18, 90
    # OpenAPI 3.0 and Swagger write exclusive bounds as booleans beside minimum; 3.1 writes the bound itself.
    if isinstance(ex_low, bool):
        ex_low = low if ex_low else None
    if isinstance(ex_high, bool):
        ex_high = high if ex_high else None
    lo = max(v for v in (low, ex_low, default_low if low is None and ex_low is None else None) if v is not None)
    hi_candidates = [v for v in (high, ex_high) if v is not None]
    hi = min(hi_candidates) if hi_candidates else max(lo, default_high) + (0 if lo <= default_high else 100)
    if integer or step:
        unit = step or 1
        first = -(-lo // unit) * unit
        if ex_low is not None and first <= ex_low:
            first += unit
        last = (hi // unit) * unit
        if ex_high is not None and last >= ex_high:
            last -= unit
        count = max(int((last - first) / unit), 0)
        value = first + unit * rng.randint(0, count)
        return int(value) if integer else value
    value = rng.uniform(lo, hi)
    if _MONEY.search(name):
        value = round(value, 2)
    if (ex_low is not None and value <= ex_low) or (ex_high is not None and value >= ex_high):
        value = (lo + hi) / 2
    return value


def _string(shape: dict[str, Any], rng: random.Random, kind: str, name: str) -> str:
    text = _by_format(shape.get("format", ""), rng) or _by_name(name, rng, kind)
    if text is None:
        text = " ".join(rng.choice(_WORDS) for _ in range(2))
    pattern = shape.get("pattern")
    if pattern and not re.search(pattern, text):
        text = matching(pattern, rng) or text
    low, high = int(shape.get("minLength", 0)), shape.get("maxLength")
    if len(text) < low:
        text += "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(low - len(text)))
    if high is not None and len(text) > int(high):
        # Keep the end, where a marker token's nonce lives, so short fields stay distinct.
        text = text[-int(high):] if _UNIQUE.match(name) else text[: int(high)]
    return text


def _by_format(fmt: str, rng: random.Random) -> str | None:
    if fmt in ("email", "idn-email"):
        return unique.email()
    if fmt == "uuid":
        return str(uuid.uuid4())
    if fmt in ("date", "date-time", "time"):
        moment = _dt.datetime(2000, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(seconds=rng.randrange(788_918_400))
        if fmt == "date":
            return moment.date().isoformat()
        return moment.strftime("%H:%M:%SZ" if fmt == "time" else "%Y-%m-%dT%H:%M:%SZ")
    if fmt in ("uri", "url", "uri-reference", "iri"):
        return f"https://{safe.hostname(rng, rng.choice(_WORDS))}/{rng.choice(_WORDS)}"
    if fmt in ("hostname", "idn-hostname"):
        return safe.hostname(rng, rng.choice(_WORDS))
    if fmt == "ipv4":
        return safe.ipv4(rng)
    if fmt == "ipv6":
        return safe.ipv6(rng)
    if fmt == "password":
        return unique.token()
    if fmt == "byte":
        return base64.b64encode(bytes(rng.getrandbits(8) for _ in range(12))).decode()
    if fmt == "phone":
        return safe.phone(rng)
    return None


def _by_name(name: str, rng: random.Random, kind: str) -> str | None:
    key = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    if "email" in key:
        return unique.email()
    if _UNIQUE.match(key):
        return unique.name(kind.replace("_", " ").title()) if key in ("name", "title", "label") else unique.token()
    if key.endswith(("phone", "phone_number", "telephone", "mobile", "fax")):
        return safe.phone(rng)
    if key in ("first_name", "firstname", "given_name"):
        return _person("first_name", rng)
    if key in ("last_name", "lastname", "surname", "family_name"):
        return _person("last_name", rng)
    if key.endswith(("full_name", "display_name", "contact_name", "owner_name")):
        return f"{_person('first_name', rng)} {_person('last_name', rng)}"
    if key in ("street", "address", "address1", "address_line1", "line1", "street_address"):
        return f"{rng.randint(1, 999)} {rng.choice(_STREETS)} Street"
    if key in ("city", "town"):
        return rng.choice(_CITIES)
    if key in ("zip", "zipcode", "zip_code", "postal_code", "postcode"):
        return f"{rng.randrange(10000, 99999)}"
    if key in ("country", "country_code"):
        return "US"
    if key in ("state", "region"):
        return rng.choice(("CA", "NY", "TX", "WA"))
    if key == "currency" or key.endswith("_currency"):
        return rng.choice(("USD", "EUR", "GBP"))
    if "iban" in key:
        return safe.iban(rng)
    if "card" in key:
        return safe.card_number(rng)
    if key.endswith(("url", "uri", "website", "homepage")):
        return _by_format("uri", rng)
    if key.endswith(("description", "bio", "notes", "note", "comment", "summary")):
        return " ".join(rng.choice(_WORDS) for _ in range(6)).capitalize() + "."
    return None


def _person(part: str, rng: random.Random) -> str:
    # mimesis names when the fake extra is installed, seeded per test like the rest; a short list otherwise.
    from testdata_kit import fake

    try:
        person = fake.current().person
    except ImportError:  # MissingExtraError: mimesis is not installed
        return rng.choice(_FIRST if part == "first_name" else _LAST)
    return str(person.first_name() if part == "first_name" else person.last_name())


def _singular_name(name: str) -> str:
    return name[:-1] if name.endswith("s") else name
