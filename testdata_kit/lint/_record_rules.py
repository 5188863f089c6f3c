"""The rules on records a test did not create: hard-coded ids (TDK001) and the first or last record of a
collection listing (TDK005)."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from testdata_kit.lint._creates import call_name, dotted, is_http_call, is_request_builder, url_arg
from testdata_kit.lint._urls import HOLE, hardcoded_id, is_collection_url, url_texts

if TYPE_CHECKING:
    from testdata_kit.lint._rules import Scope

__all__ = ["RecordRules", "is_collection_get"]

_LOOKUPS = frozenset({"get", "filter", "exclude", "get_or_none", "filter_by", "get_object_or_404"})
_ERROR_KEYS = frozenset({"detail", "details", "error", "errors", "non_field_errors", "messages", "warnings"})


def _is_first_or_last(index: ast.expr) -> bool:
    if isinstance(index, ast.Constant):
        return index.value == 0 and not isinstance(index.value, bool)
    return (
        isinstance(index, ast.UnaryOp)
        and isinstance(index.op, ast.USub)
        and isinstance(index.operand, ast.Constant)
        and index.operand.value == 1
    )


def is_collection_get(node: ast.expr) -> bool:
    if not (isinstance(node, ast.Call) and call_name(node.func) == "get" and is_http_call(node)):
        return False
    url = url_arg(node)
    texts = url_texts(url) if url is not None else []
    return len(texts) == 1 and is_collection_url(texts[0][1])


class RecordRules(ast.NodeVisitor):
    """The checker's checks of requested URLs and ORM lookups, and its visit of subscripts."""

    if TYPE_CHECKING:  # provided by the checker that mixes these rules in
        @property
        def scope(self) -> Scope: ...

        def report(self, node: ast.AST, code: str, message: str) -> None: ...

        def _shared(self, call: ast.Call | None = None) -> bool: ...

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
        return is_collection_get(inner) or (isinstance(inner, ast.Name) and inner.id in self.scope.responses)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if _is_first_or_last(node.slice) and self._is_collection_list(node.value) and self._shared():
            which = "first" if isinstance(node.slice, ast.Constant) else "last"
            self.report(
                node, "TDK005",
                f"{which}-record assertion on a collection listing, which concurrent tests change; "
                f"look up the record this test created by its id",
            )
        self.generic_visit(node)
