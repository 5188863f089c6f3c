"""The lint rules: one AST walk over a module that yields a Finding per test-data mistake.

Which code runs against an isolated database is decided in :mod:`._scope`, which POSTs create records in
:mod:`._creates`, and how URLs are read in :mod:`._urls`. Where the walk cannot tell, it stays silent.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from testdata_kit.lint._bindings import Resolver, string_bindings
from testdata_kit.lint._creates import (
    call_name,
    dotted,
    is_data_call,
    is_http_call,
    is_request_builder,
    uncleaned_creates,
    url_arg,
)
from testdata_kit.lint._personal import looks_like_email, looks_like_person_name, real_personal_data
from testdata_kit.lint._scope import EXTERNAL_CLIENTS, Isolation
from testdata_kit.lint._urls import HOLE, hardcoded_id, is_collection_url, url_texts

__all__ = ["RULES", "Finding", "check_tree"]

#: Every code with its one-line summary; codes are stable and never reused.
RULES = {
    "TDK001": "hard-coded id in a requested URL path or an ORM lookup",
    "TDK002": "literal email or name used as data to create",
    "TDK003": "real-looking personal data",
    "TDK004": "resource created with POST in a test with no cleanup registered",
    "TDK005": "first/last record assertion on a collection endpoint",
    "TDK006": "fixed time.sleep() in a test instead of polling",
    "TDK007": "seeded fake value used for an identity field",
}


@dataclass(frozen=True, order=True)
class Finding:
    """One reported problem; *col* is 0-based like the AST (the CLI prints it 1-based, as flake8 does)."""

    line: int
    col: int
    code: str
    message: str


_LOOKUPS = frozenset({"get", "filter", "exclude", "get_or_none", "filter_by", "get_object_or_404"})
# Keys whose value is usually unique: a person's name under "name" or "display_name" collides with the next
# run's; first, last and full names (and an address's names) carry no uniqueness, so they are not checked.
_PERSON_KEYS = frozenset({"name", "displayname"})
# A dict with one of these keys is a postal address, where even "name" is not unique data.
_ADDRESS_KEYS = frozenset({"street", "streetaddress", "streetaddress1", "city", "postalcode", "zip", "zipcode",
                           "countryarea", "line1", "addressline1", "postcode"})
_IDENTITY_FAKES = frozenset(
    {"email", "safe_email", "free_email", "company_email", "ascii_email", "ascii_safe_email",
     "ascii_free_email", "user_name", "username", "uuid4", "identifier"}
)
# A test with one of these in a name tests time itself (a timeout, an expiry, a rate limit): its sleep is the
# behaviour under test, not a wait for data.
_TIME_WORDS = re.compile(r"timeout|ttl|expir|waiting|deadline|throttl|rate_limit|idle|keepalive|alive|"
                         r"debounce|max_age|lifetime", re.IGNORECASE)
# A test that reads these sleeps so the clock moves on (a Last-Modified header, an ordering by a time field):
# a later timestamp is what it waits for, and a longer sleep only makes it slower, never flaky.
_CLOCK_WORDS = re.compile(r"modified|timestamp|ordering=-?\w*(?:_at\b|date|time|last_)", re.IGNORECASE)
_CARD_NAME = re.compile(r"card|(?:^|_)pan(?:$|_)|(?:^|_)cc(?:$|_)|ccnum|credit", re.IGNORECASE)
_ERROR_KEYS = frozenset({"detail", "details", "error", "errors", "non_field_errors", "messages", "warnings"})
_FAKE_RECEIVERS = ("fake", "faker", "person", "mimesis", "generic")


def check_tree(tree: ast.AST) -> list[Finding]:
    """Return every finding in *tree*, sorted by position.

    :param tree: a parsed module (``ast.parse(source)``).
    :raises RecursionError: on expressions nested deeper than the interpreter's recursion limit allows.
    """
    checker = _Checker(tree)
    checker.visit(tree)
    return sorted(set(checker.findings))


def _normal(key: str) -> str:
    return re.sub(r"[_\s-]", "", key.lower())


def _about_time(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    # The test's name, and keyword names such as request_timeout= or ttl= on the thing under test; not the
    # plain timeout= that nearly every HTTP call carries. Also strings and keywords that read the clock's
    # effect (If-Modified-Since, ?ordering=-created_at).
    words = [func.name] + [
        n.arg for n in ast.walk(func) if isinstance(n, ast.keyword) and n.arg and n.arg != "timeout"
    ]
    if any(_TIME_WORDS.search(word) for word in words):
        return True
    texts = [n.value for n in ast.walk(func) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return any(_CLOCK_WORDS.search(text) for text in texts + words)


def _is_first_or_last(index: ast.expr) -> bool:
    if isinstance(index, ast.Constant):
        return index.value == 0 and not isinstance(index.value, bool)
    return (
        isinstance(index, ast.UnaryOp)
        and isinstance(index.op, ast.USub)
        and isinstance(index.operand, ast.Constant)
        and index.operand.value == 1
    )


def _is_collection_get(node: ast.expr) -> bool:
    if not (isinstance(node, ast.Call) and call_name(node.func) == "get" and is_http_call(node)):
        return False
    url = url_arg(node)
    texts = url_texts(url) if url is not None else []
    return len(texts) == 1 and is_collection_url(texts[0][1])


@dataclass
class _Scope:
    isolated: bool
    in_test: bool = False
    resolve: Resolver = field(default_factory=Resolver)
    sent: set[str] = field(default_factory=set)  # names passed to a data call in this scope
    loops: int = 0
    about_time: bool = False  # the test is about timeouts, expiry or waiting: a sleep is what it tests
    context: list[str] = field(default_factory=list)  # "create", "assert", "settings", "card"; innermost last
    lists: set[str] = field(default_factory=set)  # names bound to a collection's JSON list
    responses: set[str] = field(default_factory=set)


class _Checker(ast.NodeVisitor):
    def __init__(self, tree: ast.AST) -> None:
        self.findings: list[Finding] = []
        self._docstrings: set[int] = set()
        self._reported: set[tuple[int, str]] = set()
        self._iso = Isolation(tree)
        body = tree.body if isinstance(tree, ast.Module) else []
        self._module_strings = string_bindings(body, deep=False)
        self._scopes = [_Scope(isolated=False, resolve=Resolver(self._module_strings))]
        self._class_isolated = [False]
        self._class_pytest_style = [False]
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                first = node.body[0] if node.body else None
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                    self._docstrings.add(id(first.value))
        self._scopes[0].sent = self._sent_names(body, self._scopes[0].resolve)

    @property
    def scope(self) -> _Scope:
        return self._scopes[-1]

    def report(self, node: ast.AST, code: str, message: str) -> None:
        if (id(node), code) in self._reported:
            return
        self._reported.add((id(node), code))
        self.findings.append(Finding(node.lineno, node.col_offset, code, f"{code} {message}"))  # type: ignore[attr-defined]

    def _sent_names(self, body: list[ast.stmt], resolve: Resolver) -> set[str]:
        sent: set[str] = set()
        for node in (n for stmt in body for n in ast.walk(stmt)):
            if isinstance(node, ast.Call) and is_data_call(node, resolve):
                for argument in [*node.args, *(kw.value for kw in node.keywords)]:
                    sent.update(n.id for n in ast.walk(argument) if isinstance(n, ast.Name))
        return sent

    def _shared(self, call: ast.Call | None = None) -> bool:
        """Return True when the current code may write to or read from a shared environment."""
        if not self.scope.isolated:
            return True
        root = dotted(call.func).split(".")[0] if call is not None else ""
        return root in EXTERNAL_CLIENTS

    # -- scopes -------------------------------------------------------------------------------------
    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._class_isolated.append(self._class_isolated[-1] or self._iso.class_isolated(node))
        self._class_pytest_style.append(not node.bases)
        self.generic_visit(node)
        self._class_isolated.pop()
        self._class_pytest_style.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        outer = self.scope
        in_class = len(self._class_isolated) > 1 and not self._class_pytest_style[-1]
        isolated = (
            outer.isolated or self._class_isolated[-1] or self._iso.function_isolated(node, in_class=in_class)
        )
        resolve = Resolver(*outer.resolve.scopes, string_bindings(node.body, deep=True))
        scope = _Scope(isolated=isolated, in_test=node.name.startswith("test"), resolve=resolve)
        scope.sent = self._sent_names(node.body, resolve)
        scope.about_time = _about_time(node)
        self._scopes.append(scope)
        if scope.in_test:
            self._check_cleanup(node)
        self.generic_visit(node)
        self._scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_For(self, node: ast.For | ast.AsyncFor | ast.While) -> None:
        self.scope.loops += 1
        self.generic_visit(node)
        self.scope.loops -= 1

    visit_AsyncFor = visit_While = visit_For

    def _in(self, context: str, node: ast.AST) -> None:
        self.scope.context.append(context)
        self.generic_visit(node)
        self.scope.context.pop()

    def visit_Assert(self, node: ast.Assert) -> None:
        self._in("assert", node)

    def visit_Assign(self, node: ast.Assign) -> None:
        sent = any(isinstance(t, ast.Name) and t.id in self.scope.sent for t in node.targets)
        if sent and isinstance(node.value, ast.Dict | ast.List) and self._shared():
            self._in("create", node)
        elif any(_CARD_NAME.search(dotted(t)) for t in node.targets if isinstance(t, ast.Name | ast.Attribute)):
            self._in("card", node)
        else:
            self.generic_visit(node)
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.scope.lists.discard(target.id)
                self.scope.responses.discard(target.id)
                if self._is_collection_list(node.value):
                    self.scope.lists.add(target.id)
                elif _is_collection_get(node.value):
                    self.scope.responses.add(target.id)

    # -- literals: TDK002, TDK003 -------------------------------------------------------------------
    def visit_Constant(self, node: ast.Constant) -> None:
        if id(node) in self._docstrings:
            return
        value = node.value
        if isinstance(value, int) and not isinstance(value, bool) and self.scope.context[-1:] == ["card"]:
            # Only under a card-like name: long integers elsewhere are seeds, hashes and timestamps.
            value = str(value)
        if not isinstance(value, str):
            return
        why = real_personal_data(value)
        if why:
            self.report(node, "TDK003", why)
        if self.scope.context[-1:] == ["create"] and looks_like_email(value):
            self._report_literal(node, "email", value)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                why = real_personal_data(part.value)
                if why:
                    self.report(node, "TDK003", why)
            else:
                self.visit(part)

    def _report_literal(self, node: ast.AST, what: str, value: str) -> None:
        fix = "unique.email()" if what == "email" else "unique.name() or a seeded fake name"
        self.report(
            node, "TDK002",
            f"literal {what} {value!r} used as data to create; use {fix} so tests and runs don't collide",
        )

    def _check_card_int(self, key: str, value: ast.expr) -> None:
        if _CARD_NAME.search(key) and isinstance(value, ast.Constant) and type(value.value) is int:
            self.scope.context.append("card")
            self.visit_Constant(value)
            self.scope.context.pop()

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                self._check_card_int(key.value, value)
        if self.scope.context[-1:] == ["create"]:
            keys = {_normal(k.value) for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
            address = bool(keys & _ADDRESS_KEYS)
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    self._check_field(key.value, value, address=address)
        self.generic_visit(node)

    def _check_field(self, key: str, value: ast.expr, *, address: bool = False) -> None:
        constant = self.scope.resolve.constant(value)
        text = self.scope.resolve.text(value)
        if constant is None or text is None:
            return
        normal = _normal(key)
        if ("email" in normal or normal == "mail") and looks_like_email(text):
            self._report_literal(constant, "email", text)
        elif normal in ("username", "login") and re.match(r"^[A-Za-z][\w.-]*$", text):
            self._report_literal(constant, "user name", text)
        elif normal in _PERSON_KEYS and not address and looks_like_person_name(text, strict=normal == "name"):
            self._report_literal(constant, "name", text)

    # -- calls --------------------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        name = call_name(node.func)
        context = None
        if name.startswith("assert") or name.startswith("fail"):
            context = "assert"
        elif (is_data_call(node, self.scope.resolve) and self._shared(node)) or (
            self.scope.context[-1:] == ["create"] and name[:1].isupper()
        ):
            # A data call, or a model built inside one (bulk_create([User(email=...)])).
            context = "create"
            for keyword in node.keywords:
                if keyword.arg:
                    self._check_field(keyword.arg, keyword.value)
        elif name in ("patch", "setattr", "setenv", "override_settings", "modify_settings", "settings"):
            context = "settings"
        for keyword in node.keywords:
            if keyword.arg:
                self._check_card_int(keyword.arg, keyword.value)
        self._check_requested_url(node)
        self._check_lookup(node)
        if name == "sleep" and self.scope.in_test and not self.scope.loops and not self.scope.about_time and dotted(
            node.func
        ) in ("time.sleep", "sleep"):
            self.report(
                node, "TDK006",
                "time.sleep() in a test waits a fixed time for data; poll for the condition with a deadline "
                "instead",
            )
        if name in _IDENTITY_FAKES and isinstance(node.func, ast.Attribute):
            receiver = dotted(node.func.value).lower()
            if "unique" not in receiver and any(word in receiver for word in _FAKE_RECEIVERS):
                self.report(
                    node, "TDK007",
                    f"{dotted(node.func)}() is seeded and repeats on every run with the same seed; "
                    f"use unique.email() / unique.token() for identity fields",
                )
        if context:
            self._in(context, node)
        else:
            self.generic_visit(node)

    # -- TDK001 -------------------------------------------------------------------------------------
    def _check_requested_url(self, call: ast.Call) -> None:
        if not is_http_call(call) or is_request_builder(call) or not self._shared(call):
            return
        url = url_arg(call)
        if url is None:
            return
        texts = url_texts(url)
        bound = self.scope.resolve.bound(url)
        if not texts and bound is not None:
            # url = "/users/42" or URL = BASE + "/users/42", then get(url): reported where the string is.
            texts = url_texts(bound)
        for node, text in texts:
            segment = hardcoded_id(text)
            if segment is not None:
                self.report(
                    node, "TDK001",
                    f"hard-coded id {segment!r} in URL path {text.replace(HOLE, '{...}')!r}; "
                    f"create the record in the test and use its id",
                )
                return

    def _check_lookup(self, call: ast.Call) -> None:
        if not self._shared(call):
            return
        name = call_name(call.func)
        pairs: list[tuple[str, ast.expr]] = []
        if name in _LOOKUPS and (name == "get_object_or_404" or ".objects" in dotted(call.func)):
            pairs = [(kw.arg, kw.value) for kw in call.keywords if kw.arg]
            where = f"{dotted(call.func)}()"
        elif name in ("reverse", "reverse_lazy"):
            for keyword in call.keywords:
                if keyword.arg == "kwargs" and isinstance(keyword.value, ast.Dict):
                    pairs = [(k.value, v) for k, v in zip(keyword.value.keys, keyword.value.values, strict=True)
                             if isinstance(k, ast.Constant) and isinstance(k.value, str)]
            where = f"{name}()"
        for key, value in pairs:
            is_key = key in ("pk", "id") or key.endswith(("_id", "_pk", "__id", "__pk"))
            if is_key and isinstance(value, ast.Constant) and type(value.value) is int:
                self.report(
                    value, "TDK001",
                    f"hard-coded primary key {value.value!r} for {key!r} in {where}; create the record in the "
                    f"test and use its pk",
                )

    # -- TDK005 -------------------------------------------------------------------------------------
    def _is_collection_list(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.scope.lists
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            # Envelopes like {"items": [...]}: the list under a string key is still the collection; an error's
            # "detail" or "errors" list is not.
            key = node.slice.value
            return isinstance(key, str) and key not in _ERROR_KEYS and self._is_collection_list(node.value)
        inner = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "json":
            inner = node.func.value
        elif isinstance(node, ast.Attribute) and node.attr == "data":
            inner = node.value
        if inner is None:
            return False
        return _is_collection_get(inner) or (isinstance(inner, ast.Name) and inner.id in self.scope.responses)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if _is_first_or_last(node.slice) and self._is_collection_list(node.value) and self._shared():
            which = "first" if isinstance(node.slice, ast.Constant) else "last"
            self.report(
                node, "TDK005",
                f"{which}-record assertion on a collection listing, which concurrent tests change; "
                f"look up the record this test created by its id",
            )
        self.generic_visit(node)

    # -- TDK004 -------------------------------------------------------------------------------------
    def _check_cleanup(self, func: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for call in uncleaned_creates(func, self.scope.resolve):
            if self._shared(call):
                self.report(
                    call, "TDK004",
                    f"POST in {func.name}() creates data that nothing deletes; register its deletion with "
                    f"self.addCleanup() or create it through testdata_kit",
                )
