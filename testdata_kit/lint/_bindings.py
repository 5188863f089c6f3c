"""Names bound to string literals: how the lint follows ``email = "a@b.test"`` to where the value is sent."""

from __future__ import annotations

import ast

from testdata_kit.lint._urls import template

__all__ = ["Resolver", "string_bindings"]


def string_bindings(body: list[ast.stmt], *, deep: bool) -> dict[str, ast.Constant]:
    """Names bound exactly once to one string literal (``email = "a@b.test"``) in *body*."""
    found: dict[str, ast.Constant | None] = {}
    nodes = (n for stmt in body for n in ast.walk(stmt)) if deep else iter(body)
    for node in nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            value = node.value
            ok = isinstance(value, ast.Constant) and isinstance(value.value, str) and name not in found
            found[name] = value if ok else None  # type: ignore[assignment]
    return {name: value for name, value in found.items() if value is not None}


class Resolver:
    """Looks a name up in the function's and the module's single string bindings."""

    def __init__(self, *scopes: dict[str, ast.Constant]) -> None:
        self.scopes = scopes

    def constant(self, node: ast.expr) -> ast.Constant | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node
        if isinstance(node, ast.Name):
            for scope in reversed(self.scopes):
                if node.id in scope:
                    return scope[node.id]
        return None

    def text(self, node: ast.expr) -> str | None:
        """Return the string literal *node* is or names, else None."""
        found = self.constant(node)
        return found.value if found is not None and isinstance(found.value, str) else None

    def __call__(self, node: ast.expr) -> str | None:
        text = self.text(node)
        return text if text is not None else template(node)
