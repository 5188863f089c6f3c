"""Which calls in a test send data a server keeps: the reading behind TDK002 and TDK004.

A POST creates a record only sometimes. It does not when it builds a request object (``APIRequestFactory``),
signs in, renews a token or resets a password, sends a GraphQL query that is not a mutation, or is expected
to fail with a 4xx status. The lint counts a POST as a create only when something says so: the URL ends in
a collection (``/users/``, ``/orders``, ``user-list``) or a sign-up word, the test checks for ``201``, or
it reads the new record's ``id`` from the response.
"""

from __future__ import annotations

import ast
import http
import re
from collections.abc import Callable, Iterator

from testdata_kit.lint._urls import is_auth_url, is_create_url, template, url_texts

__all__ = [
    "ResponseFacts",
    "call_name",
    "dotted",
    "graphql_query",
    "is_create_post",
    "is_data_call",
    "is_http_call",
    "is_request_builder",
    "uncleaned_creates",
    "url_arg",
]

_CLEANUP_CALLS = frozenset(
    {"addCleanup", "addClassCleanup", "addModuleCleanup", "enterContext", "enterClassContext",
     "enterModuleContext", "callback", "push", "track"}
)
_DELETE_WORDS = ("delete", "remove", "cleanup", "clean_up", "destroy", "purge", "drop", "teardown")
_NOT_CLEANUP_CONTEXTS = frozenset(
    {"subTest", "Session", "patch", "object", "open", "suppress", "catch_warnings", "redirect_stdout",
     "redirect_stderr", "TemporaryDirectory", "settings", "override_settings", "raises", "assertRaises",
     "assertNumQueries", "freeze_time", "dict"}
)
_DATA_VERBS = frozenset({"post", "put", "patch"})
_DATA_CALLS = frozenset({"bulk_create", "get_or_create", "update_or_create", "insert", "insert_one",
                         "insert_many", "add_all", "bulk_insert_mappings", "create_batch"})
_HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options"})
_METHOD_FIRST = frozenset({"request", "stream"})
_ID_KEYS = frozenset({"id", "pk", "uuid", "_id"})
_STATUS_ATTR = re.compile(r"^(?:HTTP_)?(\d{3})(?:_[A-Z_]+)?$")


def call_name(func: ast.expr) -> str:
    """Return the called name: ``b`` for ``a.b(...)``, ``f`` for ``f(...)``, else ``""``."""
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def dotted(node: ast.expr) -> str:
    """Return ``a.b.c`` for an attribute chain (``f().c`` when it starts at a call)."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Call):
        return dotted(node.func) + "()." + ".".join(reversed(parts))
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def url_arg(call: ast.Call) -> ast.expr | None:
    """Return the URL argument of an HTTP call: ``get(url)``, ``request("GET", url)``, ``url=``/``path=``."""
    for keyword in call.keywords:
        if keyword.arg == "url":
            return keyword.value
    index = 1 if call_name(call.func) in _METHOD_FIRST else 0
    return call.args[index] if len(call.args) > index else None


def is_http_call(call: ast.Call, verbs: frozenset[str] = _HTTP_VERBS) -> bool:
    """Return True for ``x.get(url, ...)``-shaped calls, not ``queue.put(item)`` or ``d.get(key)``."""
    if not isinstance(call.func, ast.Attribute):
        return False
    name = call.func.attr
    if name not in verbs and not (name in _METHOD_FIRST and verbs is _HTTP_VERBS):
        return False
    url = url_arg(call)
    if url is None:
        return any(kw.arg in ("json", "data") for kw in call.keywords)
    text = template(url)
    if text is not None:
        # cookies.delete("name", ...) and d.get("key") take a name, not a URL.
        return text.startswith(("/", "http:", "https:")) or "://" in text or text.startswith("\x00")
    return bool(url_texts(url)) or any(kw.arg in ("json", "data") for kw in call.keywords) or isinstance(
        url, ast.Name | ast.Attribute | ast.Call
    )


def is_request_builder(call: ast.Call) -> bool:
    """Return True when the receiver builds request objects and sends nothing (``APIRequestFactory().post``)."""
    if not isinstance(call.func, ast.Attribute):
        return False
    receiver = dotted(call.func.value).lower()
    last = receiver.rsplit(".", 1)[-1].removesuffix("()")
    return "factory" in receiver or last in ("rf", "arf")


def graphql_query(call: ast.Call, resolve: Callable[[ast.expr], str | None]) -> tuple[bool, str | None]:
    """Return (is it GraphQL, the query text when known) for a POST."""
    url = url_arg(call)
    is_graphql = url is not None and any("graphql" in text.lower() for _, text in url_texts(url))
    for value in [*call.args, *(kw.value for kw in call.keywords)]:
        if isinstance(value, ast.Dict):
            for key, item in zip(value.keys, value.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "query":
                    return True, resolve(item)
    return is_graphql, None


def _status_values(node: ast.expr) -> Iterator[int]:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        yield node.value
    elif isinstance(node, ast.Attribute):
        match = _STATUS_ATTR.match(node.attr)
        if match:
            yield int(match.group(1))
        elif node.attr in http.HTTPStatus.__members__:
            yield int(http.HTTPStatus[node.attr])
    elif isinstance(node, ast.Tuple | ast.List | ast.Set):
        for element in node.elts:
            yield from _status_values(element)


class ResponseFacts:
    """What one test does with the responses of its POSTs: the statuses it expects and the ids it reads.

    :param func: the test function.
    """

    def __init__(self, func: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._owner: dict[str, int] = {}  # a name bound to a POST's response or body -> id(call)
        self.errors: set[int] = set()
        self.created: set[int] = set()
        for node in ast.walk(func):
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                owner = self.owner(node.value)
                for target in targets:
                    if isinstance(target, ast.Name) and owner is not None:
                        self._owner[target.id] = owner
        for node in ast.walk(func):
            if isinstance(node, ast.Compare):
                self._status_check([node.left, *node.comparators])
            elif isinstance(node, ast.Call) and call_name(node.func) in ("assertEqual", "assertIn", "assertEquals"):
                self._status_check(node.args[:2])
            elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
                if node.slice.value in _ID_KEYS:
                    self._mark(self.created, node.value)
            elif isinstance(node, ast.Call) and call_name(node.func) == "get" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and first.value in _ID_KEYS and isinstance(node.func, ast.Attribute):
                    self._mark(self.created, node.func.value)

    def owner(self, node: ast.expr) -> int | None:
        """Return id() of the POST call whose response or body *node* is, if any."""
        while True:
            if isinstance(node, ast.Call) and call_name(node.func) == "post":
                return id(node)
            if isinstance(node, ast.Name):
                return self._owner.get(node.id)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "json":
                node = node.func.value
            elif isinstance(node, ast.Await) or (
                isinstance(node, ast.Attribute) and node.attr in ("data", "status_code", "status", "content")
            ):
                node = node.value
            else:
                return None

    def _mark(self, into: set[int], node: ast.expr) -> None:
        owner = self.owner(node)
        if owner is not None:
            into.add(owner)

    def _status_check(self, operands: list[ast.expr]) -> None:
        statuses = [s for node in operands for s in _status_values(node)]
        for node in operands:
            if isinstance(node, ast.Attribute) and node.attr in ("status_code", "status"):
                if any(400 <= s < 500 for s in statuses):
                    self._mark(self.errors, node)
                if 201 in statuses:
                    self._mark(self.created, node)


def is_create_post(
    call: ast.Call, facts: ResponseFacts, resolve: Callable[[ast.expr], str | None]
) -> bool:
    """Return True when the POST *call* most likely leaves a record behind on the server (see the module doc)."""
    if call_name(call.func) != "post" or not is_http_call(call) or is_request_builder(call):
        return False
    if id(call) in facts.errors:
        return False
    url = url_arg(call)
    texts = [text for _, text in url_texts(url)] if url is not None else []
    if url is not None and not texts:
        known = resolve(url)
        texts = [known] if known is not None else []
    if isinstance(url, ast.Call) and call_name(url.func) in ("reverse", "url_for", "reverse_lazy") and url.args:
        name = resolve(url.args[0])
        texts = [name] if name is not None else []
    if any(is_auth_url(text) for text in texts):
        return False
    is_graphql, query = graphql_query(call, resolve)
    if is_graphql:
        return query is not None and query.lstrip().startswith("mutation")
    return id(call) in facts.created or any(is_create_url(text) for text in texts)


def uncleaned_creates(
    func: ast.FunctionDef | ast.AsyncFunctionDef, resolve: Callable[[ast.expr], str | None]
) -> list[ast.Call]:
    """Return the creating POSTs of test *func* that no cleanup covers; none when it registers any cleanup.

    Covered: an ``addCleanup``-like call anywhere in the test, a ``try``/``finally`` that deletes, a ``with``
    block (other than ``patch``, ``assertRaises`` and the like) around the call.
    """
    covered: set[int] = set()
    creates: list[ast.Call] = []
    facts = ResponseFacts(func)
    for node in ast.walk(func):
        if isinstance(node, ast.Call) and call_name(node.func) in _CLEANUP_CALLS:
            return []
        if isinstance(node, ast.Try) and any(
            isinstance(sub, ast.Call) and any(w in call_name(sub.func).lower() for w in _DELETE_WORDS)
            for stmt in node.finalbody
            for sub in ast.walk(stmt)
        ):
            return []
        if isinstance(node, ast.With | ast.AsyncWith) and any(
            call_name(item.context_expr.func) not in _NOT_CLEANUP_CONTEXTS
            and not call_name(item.context_expr.func).startswith("assert")
            for item in node.items
            if isinstance(item.context_expr, ast.Call)
        ):
            covered.update(id(sub) for stmt in node.body for sub in ast.walk(stmt))
        if isinstance(node, ast.Call) and is_create_post(node, facts, resolve):
            creates.append(node)
    return [call for call in creates if id(call) not in covered]


def is_data_call(call: ast.Call, resolve: Callable[[ast.expr], str | None]) -> bool:
    """Return True for calls that store what they are given: HTTP writes, ``create*``, factories, ORM bulk."""
    name = call_name(call.func)
    lowered = name.lower()
    if name in _DATA_VERBS:
        if not is_http_call(call, _DATA_VERBS) or is_request_builder(call):
            return False
        is_graphql, query = graphql_query(call, resolve)
        return not is_graphql or (query is not None and query.lstrip().startswith("mutation"))
    if lowered.endswith("requestfactory"):
        return False
    # A factory class (UserFactory) creates; a lowercase header_factory(...) may build anything.
    return (
        lowered.startswith("create") or lowered.endswith("_create") or lowered in _DATA_CALLS
        or (name.endswith("Factory") and name[:1].isupper())
    )
