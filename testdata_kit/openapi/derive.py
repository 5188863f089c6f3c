"""Deriving kinds from a document: each collection's create, item address, delete, id, required fields and needs.

A collection is a path whose last segment is fixed and whose POST takes a JSON object (``/pets``,
``/users/{userId}/orders``). Its item lives at the same path plus one templated segment (``/pets/{petId}``),
or, for APIs that address rows by query filter, at the collection path with the id as a query parameter of its
DELETE (``/users?id=eq.{id}``). What cannot be derived is not guessed: the kind carries the problem, and
binding refuses it unless the caller supplies the missing piece.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from testdata_kit.openapi.bodies import merged
from testdata_kit.openapi.document import Document

__all__ = ["DerivedKind", "derive", "singular"]

_PARAM = re.compile(r"^\{([^{}]+)\}$")
_LINK = re.compile(r"^(.+?)(?:_id|Id|ID)$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_JSON_TYPES = ("application/json", "application/*", "*/*")
_CREATED = ("201", "200", "2XX", "202")


@dataclass
class DerivedKind:
    """What the document says about one kind of resource; :func:`derive` makes these.

    ``problems`` lists what could not be derived (binding refuses the kind unless the caller supplies it);
    ``notes`` lists what was assumed.
    """

    name: str
    #: Where to POST, e.g. ``"/users/{userId}/orders"``.
    path: str
    #: The create operation, e.g. ``"POST /pets (addPet)"``.
    create: str
    #: The item's address with the id placeholder named after the id field: ``"/pets/{id}"``,
    #: ``"/users/{userId}/orders/{id}"`` or ``"/users?id=eq.{id}"``; ``None`` when no item path was found.
    item: str | None = None
    #: The delete operation, e.g. ``"DELETE /pets/{id} (deletePet)"``; ``None`` when the document has none.
    delete: str | None = None
    #: Whether the document describes a GET of the item, so that a deletion can be verified.
    gettable: bool = False
    #: The field of the created item that holds its id.
    id_field: str | None = None
    required: tuple[str, ...] = ()
    #: Fields sent even when not required: an id the client chooses (``username``) addresses the item.
    send_always: tuple[str, ...] = ()
    #: Kinds that must exist first: parents in the path, and required ``*_id``/``*Id`` fields.
    needs: tuple[str, ...] = ()
    #: Path parameter -> kind whose id fills it.
    path_links: dict[str, str] = field(default_factory=dict)
    #: Body field -> kind whose id it holds (required and optional ones).
    field_links: dict[str, str] = field(default_factory=dict)
    #: The request body's schema (``None`` for a create without a body) and the resolver of refs inside it.
    schema: Any = None
    resolver: Any = None
    #: Headers the create needs (PostgREST answers a create with the row only when asked to).
    headers: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: The path of the item in the document, placeholders as written there (``"/pets/{petId}"``).
    item_path: str | None = None
    id_param: str | None = None
    #: A POST without a body beside no item path: an action (``/kernels/{id}/restart``), not a kind.
    action: bool = False

    def __repr__(self) -> str:
        state = f" problems={self.problems}" if self.problems else ""
        return f"<DerivedKind {self.name} {self.create} item={self.item!r} needs={list(self.needs)}{state}>"


def singular(word: str) -> str:
    """Return the kind name for a path segment: ``"orders"`` -> ``"order"``, ``"storeItems"`` -> ``"store_item"``."""
    word = _CAMEL.sub("_", word).replace("-", "_").lower()
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _segments(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def _label(method: str, path: str, operation: dict[str, Any]) -> str:
    ident = operation.get("operationId")
    return f"{method.upper()} {path}" + (f" ({ident})" if ident else "")


def _json_schema(doc: Document, holder: dict[str, Any]) -> tuple[bool, Any, Any]:
    """Return (is JSON, schema, resolver) of a 3.x requestBody/response or a 2.0 response."""
    holder, resolver = doc.deref(holder)
    if not isinstance(holder, dict):
        return True, None, resolver
    if doc.is_swagger or "content" not in holder:
        schema = holder.get("schema")
        return schema is not None, schema, resolver
    content = holder.get("content")
    for media, entry in (content if isinstance(content, dict) else {}).items():
        if media in _JSON_TYPES or media.split(";")[0].endswith(("/json", "+json")):
            return True, entry.get("schema") if isinstance(entry, dict) else None, resolver
    return False, None, resolver


def _request_body(doc: Document, operation: dict[str, Any]) -> tuple[bool, Any, Any]:
    if doc.is_swagger:
        for parameter in operation["parameters"]:
            parameter, resolver = doc.deref(parameter)
            if not isinstance(parameter, dict):
                continue
            if parameter.get("in") == "body":
                consumes = operation.get("consumes") or doc.data.get("consumes") or ["application/json"]
                json_ok = any(c.split(";")[0].endswith(("/json", "+json")) or c == "*/*" for c in consumes)
                return json_ok, parameter.get("schema"), resolver
            if parameter.get("in") == "formData":
                return False, None, resolver
        return True, None, doc.resolver
    if "requestBody" not in operation:
        return True, None, doc.resolver
    return _json_schema(doc, operation["requestBody"])


def _response_schema(doc: Document, operation: dict[str, Any]) -> tuple[Any, Any]:
    # YAML reads an unquoted 201 as an integer; JSON and quoted YAML give the string.
    responses = {str(code): answer for code, answer in (operation.get("responses") or {}).items()}
    for code in _CREATED:
        if code in responses:
            _, schema, resolver = _json_schema(doc, responses[code])
            if schema is not None:
                return schema, resolver
    return None, None


def _properties(doc: Document, schema: Any, resolver: Any) -> dict[str, Any] | None:
    if schema is None:
        return None
    shape = merged(doc, schema, resolver)
    if shape.get("type") not in (None, "object") and "properties" not in shape:
        return None
    return shape.get("properties") or {}


def derive(doc: Document) -> list[DerivedKind]:
    """Return the kinds *doc* describes, in the order of its paths, each with what could not be derived."""
    operations = doc.operations()
    kinds: list[DerivedKind] = []
    by_item_path: dict[str, DerivedKind] = {}
    # Item paths by their collection's path: one pass, so a document of n paths costs O(n), not O(n**2).
    items: dict[str, list[str]] = {}
    for path in operations:
        head, _, last = path.rstrip("/").rpartition("/")
        if _PARAM.match(last):
            items.setdefault(head, []).append(path)
    for path, methods in operations.items():
        post = methods.get("post")
        segments = _segments(path)
        if post is None or not segments or _PARAM.match(segments[-1]):
            continue
        is_json, schema, resolver = _request_body(doc, post)
        if not is_json:
            continue
        if schema is not None:
            shape, _ = doc.deref(schema, resolver)
            if isinstance(shape, dict) and (shape.get("type") == "array" or "items" in shape):
                continue  # a bulk create (/user/createWithList) is not one resource
        kind = DerivedKind(name=singular(segments[-1]), path=path, create=_label("post", path, post),
                           schema=schema, resolver=resolver)
        _find_item(doc, kind, operations, items.get(path.rstrip("/"), []), post)
        if kind.action:
            continue
        kinds.append(kind)
        if kind.item_path:
            by_item_path[kind.item_path] = kind
    _unique_names(kinds)
    by_base: dict[str, list[DerivedKind]] = {}
    for kind in kinds:
        by_base.setdefault(singular(_segments(kind.path)[-1]), []).append(kind)
    for kind in kinds:
        _link(doc, kind, by_base, by_item_path)
    return kinds


def _find_item(doc: Document, kind: DerivedKind, operations: dict[str, dict[str, Any]], items: list[str],
               post: Any) -> None:
    items = sorted(items, key=lambda p: ("delete" not in operations[p], "get" not in operations[p]))
    created, created_resolver = _response_schema(doc, post)
    props = _properties(doc, created, created_resolver)
    if items:
        item_path = items[0]
        methods = operations[item_path]
        param = _PARAM.match(_segments(item_path)[-1]).group(1)  # type: ignore[union-attr]
        if props is None and "get" in methods:
            got, got_resolver = _response_schema(doc, methods["get"])
            props = _properties(doc, got, got_resolver)
        kind.item_path, kind.id_param, kind.gettable = item_path, param, "get" in methods
        kind.id_field = _id_field(kind, param, props)
        if kind.id_field is not None:
            prefix = item_path[: item_path.rindex("{")]
            kind.item = f"{prefix}{{{kind.id_field}}}"
        if "delete" in methods:
            kind.delete = _label("delete", kind.item or item_path, methods["delete"])
            return
    filtered = _query_delete(doc, kind, operations[kind.path], props)
    if filtered:
        return
    if not items and kind.schema is None:
        kind.action = True  # POST /kernels/{id}/restart: an action on an item, not a collection
        return
    where = f"{kind.item_path} has no DELETE" if kind.item_path else f"no item path under {kind.path}"
    kind.problems.append(f"no delete operation ({where}, and DELETE {kind.path} takes no id parameter)")


def _query_delete(doc: Document, kind: DerivedKind, methods: dict[str, Any], props: dict[str, Any] | None) -> bool:
    delete = methods.get("delete")
    if delete is None:
        return False
    for raw in delete["parameters"]:
        parameter, _ = doc.deref(raw)
        if not isinstance(parameter, dict) or parameter.get("in") != "query":
            continue
        name = parameter.get("name", "")
        if name not in ("id", "uuid", "key", f"{kind.name}_id", f"{kind.name}Id"):
            continue
        # The filter's value is the item's own field of that name, or its id for {kind}_id.
        field = name if props is None or name in props else "id" if "id" in props else None
        if field is not None:
            # PostgREST describes its row filters as parameters named rowFilter.*; their values are "op.value".
            postgrest = isinstance(raw, dict) and str(raw.get("$ref", "")).rpartition("/")[2].startswith("rowFilter.")
            kind.id_field = kind.id_field or field
            kind.item = f"{kind.path}?{name}={'eq.' if postgrest else ''}{{{kind.id_field}}}"
            kind.delete = _label("delete", kind.item, delete)
            kind.gettable = "get" in methods
            if postgrest:
                kind.headers["Prefer"] = "return=representation"
            kind.notes.append(f"items are addressed by query filter: {kind.item}")
            return True
    return False


def _id_field(kind: DerivedKind, param: str, props: dict[str, Any] | None) -> str | None:
    if props is None:
        kind.notes.append(f"the create's answer has no schema; assumed its id is in the field 'id' "
                          f"(fills {{{param}}})")
        return "id"
    if param in props:
        return param
    # {petId}, {pet_id} and {session} (the kind's own name) all name the item's id.
    if "id" in props and (param == "id" or _LINK.match(param) or param.lower().endswith("id")
                          or singular(param) == kind.name):
        return "id"
    kind.problems.append(f"cannot locate the id: {{{param}}} of {kind.item_path} matches no field of the created "
                         f"item (fields: {', '.join(sorted(props)) or 'none'})")
    return None


def _unique_names(kinds: list[DerivedKind]) -> None:
    seen: dict[str, int] = {}
    for kind in kinds:
        seen[kind.name] = seen.get(kind.name, 0) + 1
    for kind in kinds:
        if seen[kind.name] > 1:
            # /orders and /users/{id}/orders: prefix the nested one with its parent, e.g. user_order.
            fixed = [s for s in _segments(kind.path)[:-1] if not _PARAM.match(s)]
            if fixed:
                kind.notes.append(f"named {singular(fixed[-1])}_{kind.name}: another path also holds {kind.name}s")
                kind.name = f"{singular(fixed[-1])}_{kind.name}"


def client_chosen_id(doc: Document, kind: DerivedKind) -> None:
    """Set ``send_always`` when the client picks the id: a writable field named otherwise than ``id``
    (``username``), or a required one. An optional ``id`` is left for the server to assign."""
    shape = merged(doc, kind.schema, kind.resolver) if kind.schema is not None else {}
    props = shape.get("properties") or {}
    chosen = kind.id_field
    kind.send_always = ()
    if not chosen or chosen not in props:
        return
    prop, _ = doc.deref(props[chosen], (shape.get("_resolvers") or {}).get(chosen))
    if isinstance(prop, dict) and prop.get("readOnly"):
        return
    if chosen != "id" or chosen in (shape.get("required") or ()):
        kind.send_always = (chosen,)
        kind.notes.append(f"the client chooses the id: sends a unique {chosen!r} with every create")


def _stem(name: str) -> str | None:
    found = _LINK.match(name)
    return singular(found.group(1)) if found else None


def _target(kind: DerivedKind, base: str | None, by_base: dict[str, list[DerivedKind]]) -> str | None:
    """The kind a link named *base* points at: the one beside *kind* (under the same parent) if any.

    Under ``/tenants/{tenant_id}/orders``, ``user_id`` means a user of ``/tenants/{tenant_id}/users``.
    """
    candidates = [other for other in by_base.get(base or "", ()) if other is not kind]
    if not candidates:
        return None
    parent = kind.path.rstrip("/").rpartition("/")[0]
    beside = [other for other in candidates if other.path.rstrip("/").rpartition("/")[0] == parent]
    return (beside or candidates)[0].name


def _link(doc: Document, kind: DerivedKind, by_base: dict[str, list[DerivedKind]],
          by_item_path: dict[str, DerivedKind]) -> None:
    needs: list[str] = []
    segments = _segments(kind.path)
    for index, segment in enumerate(segments):
        found = _PARAM.match(segment)
        if not found:
            continue
        param = found.group(1)
        parent = by_item_path.get("/" + "/".join(segments[: index + 1]))
        target = parent.name if parent is not None else _target(kind, _stem(param) or param, by_base)
        if target is not None and target != kind.name:
            kind.path_links[param] = target
            needs.append(target)
        else:
            kind.notes.append(f"path parameter {{{param}}} names no collection; pass path_params={{{param!r}: ...}}")
    shape = merged(doc, kind.schema, kind.resolver) if kind.schema is not None else {}
    props = shape.get("properties") or {}
    resolvers = shape.get("_resolvers") or {}
    required = [name for name in shape.get("required") or ()
                if not (doc.deref(props.get(name) or {}, resolvers.get(name))[0] or {}).get("readOnly")]
    kind.required = tuple(required)
    client_chosen_id(doc, kind)
    for name in props:
        target = _target(kind, _stem(name), by_base)
        if target is not None and target != kind.name:
            kind.field_links[name] = target
            if name in required:
                needs.append(target)
    kind.needs = tuple(dict.fromkeys(needs))
