"""The lint rules: one AST walk over a module that yields a Finding per test-data mistake.

The walk and its scopes are here, with the rules on calls (TDK004, TDK006, TDK007); the rules on literal values
are in :mod:`._literal_rules` and those on records the test did not create in :mod:`._record_rules`. Which code
runs against an isolated database is decided in :mod:`._scope`, which POSTs create records in
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
    uncleaned_creates,
)
from testdata_kit.lint._literal_rules import CARD_NAME, LiteralRules
from testdata_kit.lint._record_rules import RecordRules, is_collection_get
from testdata_kit.lint._scope import EXTERNAL_CLIENTS, Isolation

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
_FAKE_RECEIVERS = ("fake", "faker", "person", "mimesis", "generic")


def check_tree(tree: ast.AST) -> list[Finding]:
    """Return every finding in *tree*, sorted by position.

    :param tree: a parsed module (``ast.parse(source)``).
    :raises RecursionError: on expressions nested deeper than the interpreter's recursion limit allows.
    """
    checker = _Checker(tree)
    checker.visit(tree)
    return sorted(set(checker.findings))


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


@dataclass
class Scope:
    """What the walk knows about the module or function it is in."""

    isolated: bool
    in_test: bool = False
    resolve: Resolver = field(default_factory=Resolver)
    sent: set[str] = field(default_factory=set)  # names passed to a data call in this scope
    loops: int = 0
    about_time: bool = False  # the test is about timeouts, expiry or waiting: a sleep is what it tests
    context: list[str] = field(default_factory=list)  # "create", "assert", "settings", "card"; innermost last
    lists: set[str] = field(default_factory=set)  # names bound to a collection's JSON list
    responses: set[str] = field(default_factory=set)


class _Checker(LiteralRules, RecordRules):
    def __init__(self, tree: ast.AST) -> None:
        self.findings: list[Finding] = []
        self._docstrings: set[int] = set()
        self._reported: set[tuple[int, str]] = set()
        self._iso = Isolation(tree)
        body = tree.body if isinstance(tree, ast.Module) else []
        self._module_strings = string_bindings(body, deep=False)
        self._scopes = [Scope(isolated=False, resolve=Resolver(self._module_strings))]
        self._class_isolated = [False]
        self._class_pytest_style = [False]
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                first = node.body[0] if node.body else None
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                    self._docstrings.add(id(first.value))
        self._scopes[0].sent = self._sent_names(body, self._scopes[0].resolve)

    @property
    def scope(self) -> Scope:
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
        scope = Scope(isolated=isolated, in_test=node.name.startswith("test"), resolve=resolve)
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
        elif any(CARD_NAME.search(dotted(t)) for t in node.targets if isinstance(t, ast.Name | ast.Attribute)):
            self._in("card", node)
        else:
            self.generic_visit(node)
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.scope.lists.discard(target.id)
                self.scope.responses.discard(target.id)
                if self._is_collection_list(node.value):
                    self.scope.lists.add(target.id)
                elif is_collection_get(node.value):
                    self.scope.responses.add(target.id)

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

    # -- TDK004 -------------------------------------------------------------------------------------
    def _check_cleanup(self, func: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for call in uncleaned_creates(func, self.scope.resolve):
            if self._shared(call):
                self.report(
                    call, "TDK004",
                    f"POST in {func.name}() creates data that nothing deletes; register its deletion with "
                    f"self.addCleanup() or create it through testdata_kit",
                )
