"""The lint rules: one AST walk over a module that yields a Finding per test-data mistake."""

from __future__ import annotations

import ast
import itertools
import re
from dataclasses import dataclass

from testdata_kit.lint._personal import looks_like_email, looks_like_person_name, real_personal_data

__all__ = ["RULES", "Finding", "check_tree"]

#: Every code with its one-line summary; codes are stable and never reused.
RULES = {
    "TDK001": "hard-coded id in a URL path",
    "TDK002": "literal email or name used as data to create",
    "TDK003": "real-looking personal data",
    "TDK004": "resource created with post/put in a test with no cleanup registered",
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


_HOLE = "\x00"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/]*")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RESOURCE = re.compile(r"^[A-Za-z][A-Za-z_-]*$")
# Segments after which a number is a version or a page, not a record id.
_NOT_RESOURCES = frozenset({"v", "api", "version", "versions", "page", "pages", "rev", "revision"})
_FS_ROOTS = frozenset({"tmp", "dev", "proc", "sys", "etc", "usr", "var", "home", "opt", "bin", "mnt", "srv"})
_CREATE_VERBS = frozenset({"post", "put", "patch"})
_CLEANUP_CALLS = frozenset(
    {"addCleanup", "addClassCleanup", "addModuleCleanup", "enterContext", "enterClassContext",
     "enterModuleContext", "callback", "push", "track"}
)
_DELETE_WORDS = ("delete", "remove", "cleanup", "clean_up", "destroy", "purge", "drop", "teardown")
_NOT_CLEANUP_CONTEXTS = frozenset(
    {"subTest", "Session", "patch", "object", "open", "suppress", "catch_warnings", "redirect_stdout",
     "redirect_stderr", "TemporaryDirectory", "settings", "override_settings"}
)
_PERSON_KEYS = frozenset(
    {"name", "firstname", "lastname", "fullname", "givenname", "familyname", "surname", "displayname",
     "contactname", "customername"}
)
_IDENTITY_FAKES = frozenset(
    {"email", "safe_email", "free_email", "company_email", "ascii_email", "ascii_safe_email",
     "ascii_free_email", "user_name", "username", "uuid4", "identifier"}
)
_FAKE_RECEIVERS = ("fake", "faker", "person", "mimesis", "generic")


def check_tree(tree: ast.AST) -> list[Finding]:
    """Return every finding in *tree*, sorted by position.

    :param tree: a parsed module (``ast.parse(source)``).
    """
    checker = _Checker(tree)
    checker.visit(tree)
    return sorted(set(checker.findings))


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _dotted(node: ast.expr) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Call):
        return _dotted(node.func) + "()." + ".".join(reversed(parts))
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _template(node: ast.expr) -> str | None:
    """Return a string or f-string as text, each ``{...}`` replaced by a hole (int literals kept)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if not isinstance(node, ast.JoinedStr):
        return None
    pieces = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            pieces.append(str(value.value))
        elif isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Constant) and isinstance(
            value.value.value, int
        ):
            pieces.append(str(value.value.value))
        else:
            pieces.append(_HOLE)
    return "".join(pieces)


def _path_segments(text: str) -> list[str] | None:
    """Return the path segments of a URL-like *text*, or None when it is not a URL path."""
    if any(ch.isspace() for ch in text):
        return None
    scheme = _SCHEME.match(text)
    if scheme:
        rest = text[scheme.end():]
    elif text.startswith(_HOLE):
        rest = text.lstrip(_HOLE)
    else:
        rest = text
    if not rest.startswith("/"):
        return None
    segments = re.split(r"[?#]", rest, maxsplit=1)[0].split("/")[1:]
    if not scheme and segments and segments[0] in _FS_ROOTS:
        return None
    return segments


def _hardcoded_id(text: str) -> str | None:
    segments = _path_segments(text)
    for previous, segment in itertools.pairwise(segments or []):
        is_id = segment.isdigit() or _UUID.match(segment)
        if is_id and _RESOURCE.match(previous) and previous.lower() not in _NOT_RESOURCES:
            return segment
    return None


def _is_collection_url(node: ast.expr) -> bool:
    text = _template(node)
    segments = _path_segments(text) if text is not None else None
    if not segments:
        return False
    last = segments[-1] or (segments[-2] if len(segments) > 1 else "")
    return bool(_RESOURCE.match(last))


def _is_collection_get(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and bool(node.args)
        and _is_collection_url(node.args[0])
    )


def _is_first_or_last(index: ast.expr) -> bool:
    if isinstance(index, ast.Constant):
        return index.value == 0 and not isinstance(index.value, bool)
    return (
        isinstance(index, ast.UnaryOp)
        and isinstance(index.op, ast.USub)
        and isinstance(index.operand, ast.Constant)
        and index.operand.value == 1
    )


def _is_create_request(call: ast.Call) -> bool:
    """Return True for ``x.post(url, ...)``/``x.put(url, ...)``, not ``queue.put(item)``."""
    if not isinstance(call.func, ast.Attribute) or call.func.attr not in ("post", "put"):
        return False
    urlish = bool(call.args) and _template(call.args[0]) is not None
    return urlish or any(kw.arg in ("url", "json", "data") for kw in call.keywords)


class _Checker(ast.NodeVisitor):
    def __init__(self, tree: ast.AST) -> None:
        self.findings: list[Finding] = []
        self._docstrings: set[int] = set()
        self._reported: set[int] = set()
        self._context: list[str] = []  # "create" / "assert", innermost last
        self._in_test = False
        self._loops = 0
        self._lists: list[set[str]] = [set()]  # names bound to a collection's JSON list, per function
        self._responses: list[set[str]] = [set()]
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                first = node.body[0] if node.body else None
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                    self._docstrings.add(id(first.value))

    def report(self, node: ast.AST, code: str, message: str) -> None:
        self._reported.add(id(node))
        self.findings.append(Finding(node.lineno, node.col_offset, code, f"{code} {message}"))  # type: ignore[attr-defined]

    # -- scopes -------------------------------------------------------------------------------------
    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        saved = (self._in_test, self._loops, self._context)
        self._in_test = node.name.startswith("test")
        self._loops, self._context = 0, []
        self._lists.append(set())
        self._responses.append(set())
        if self._in_test:
            self._check_cleanup(node)
        self.generic_visit(node)
        self._lists.pop()
        self._responses.pop()
        self._in_test, self._loops, self._context = saved

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_For(self, node: ast.For | ast.AsyncFor | ast.While) -> None:
        self._loops += 1
        self.generic_visit(node)
        self._loops -= 1

    visit_AsyncFor = visit_While = visit_For

    def visit_Assert(self, node: ast.Assert) -> None:
        self._context.append("assert")
        self.generic_visit(node)
        self._context.pop()

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        for target in node.targets:
            if isinstance(target, ast.Name):
                self._lists[-1].discard(target.id)
                self._responses[-1].discard(target.id)
                if self._is_collection_list(node.value):
                    self._lists[-1].add(target.id)
                elif _is_collection_get(node.value):
                    self._responses[-1].add(target.id)

    # -- literals: TDK001, TDK002, TDK003 -----------------------------------------------------------
    def visit_Constant(self, node: ast.Constant) -> None:
        if id(node) in self._docstrings or id(node) in self._reported:
            return
        value = node.value
        if isinstance(value, int) and not isinstance(value, bool) and 13 <= len(str(value)) <= 19:
            value = str(value)
        if not isinstance(value, str):
            return
        segment = _hardcoded_id(value)
        if segment is not None:
            self._report_id(node, segment, value)
        why = real_personal_data(value)
        if why:
            self.report(node, "TDK003", why)
        if self._context[-1:] == ["create"] and looks_like_email(value):
            self._report_literal(node, "email", value)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        text = _template(node) or ""
        segment = _hardcoded_id(text)
        if segment is not None:
            self._report_id(node, segment, text.replace(_HOLE, "{...}"))
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                why = real_personal_data(part.value)
                if why:
                    self.report(node, "TDK003", why)
            else:
                self.visit(part)

    def _report_id(self, node: ast.AST, segment: str, text: str) -> None:
        self.report(
            node, "TDK001",
            f"hard-coded id {segment!r} in URL path {text!r}; create the record in the test and use its id",
        )

    def _report_literal(self, node: ast.AST, what: str, value: str) -> None:
        fix = "unique.email()" if what == "email" else "unique.name() or a seeded fake name"
        self.report(
            node, "TDK002",
            f"literal {what} {value!r} used as data to create; use {fix} so tests and runs don't collide",
        )

    def visit_Dict(self, node: ast.Dict) -> None:
        if self._context[-1:] != ["assert"]:
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    self._check_field(key.value, value)
        self.generic_visit(node)

    def _check_field(self, key: str, value: ast.expr) -> None:
        if not isinstance(value, ast.Constant) or not isinstance(value.value, str):
            return
        normal = re.sub(r"[_\s-]", "", key.lower())
        text = value.value
        if ("email" in normal or normal == "mail") and looks_like_email(text):
            self._report_literal(value, "email", text)
        elif normal in ("username", "login") and re.match(r"^[A-Za-z][\w.-]*$", text):
            self._report_literal(value, "user name", text)
        elif normal in _PERSON_KEYS and looks_like_person_name(text, strict=normal == "name"):
            self._report_literal(value, "name", text)

    # -- calls: TDK002 keywords, TDK006, TDK007, context for the others -----------------------------
    def visit_Call(self, node: ast.Call) -> None:
        name = _name(node.func)
        lowered = name.lower()
        context = None
        if name.startswith("assert") or name.startswith("fail"):
            context = "assert"
        elif name in _CREATE_VERBS or lowered.startswith("create") or "factory" in lowered:
            context = "create"
            for keyword in node.keywords:
                if keyword.arg:
                    self._check_field(keyword.arg, keyword.value)
        if name == "sleep" and self._in_test and not self._loops and _dotted(node.func) in ("time.sleep", "sleep"):
            self.report(
                node, "TDK006",
                "time.sleep() in a test waits a fixed time for data; poll for the condition with a deadline "
                "instead",
            )
        if name in _IDENTITY_FAKES and isinstance(node.func, ast.Attribute):
            receiver = _dotted(node.func.value).lower()
            if "unique" not in receiver and any(word in receiver for word in _FAKE_RECEIVERS):
                self.report(
                    node, "TDK007",
                    f"{_dotted(node.func)}() is seeded and repeats on every run with the same seed; "
                    f"use unique.email() / unique.token() for identity fields",
                )
        if context:
            self._context.append(context)
        self.generic_visit(node)
        if context:
            self._context.pop()

    # -- TDK005 -------------------------------------------------------------------------------------
    def _is_collection_list(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self._lists[-1]
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            # Envelopes like {"items": [...]}: the list under a string key is still the collection.
            return isinstance(node.slice.value, str) and self._is_collection_list(node.value)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "json":
            inner = node.func.value
            return _is_collection_get(inner) or (isinstance(inner, ast.Name) and inner.id in self._responses[-1])
        return False

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if _is_first_or_last(node.slice) and self._is_collection_list(node.value):
            which = "first" if isinstance(node.slice, ast.Constant) else "last"
            self.report(
                node, "TDK005",
                f"{which}-record assertion on a collection listing, which concurrent tests change; "
                f"look up the record this test created by its id",
            )
        self.generic_visit(node)

    # -- TDK004 -------------------------------------------------------------------------------------
    def _check_cleanup(self, func: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        covered: set[int] = set()
        creates: list[ast.Call] = []
        for node in ast.walk(func):
            if isinstance(node, ast.Call) and _name(node.func) in _CLEANUP_CALLS:
                return
            if isinstance(node, ast.Try) and any(
                isinstance(sub, ast.Call) and any(w in _name(sub.func).lower() for w in _DELETE_WORDS)
                for stmt in node.finalbody
                for sub in ast.walk(stmt)
            ):
                return
            if isinstance(node, ast.With | ast.AsyncWith) and any(
                _name(item.context_expr.func) not in _NOT_CLEANUP_CONTEXTS
                and not _name(item.context_expr.func).startswith("assert")
                for item in node.items
                if isinstance(item.context_expr, ast.Call)
            ):
                covered.update(id(sub) for stmt in node.body for sub in ast.walk(stmt))
            if isinstance(node, ast.Call) and _is_create_request(node):
                creates.append(node)
        for call in creates:
            if id(call) not in covered:
                verb = _name(call.func).upper()
                self.report(
                    call, "TDK004",
                    f"{verb} in {func.name}() creates data that nothing deletes; register its deletion with "
                    f"self.addCleanup() or create it through testdata_kit",
                )

