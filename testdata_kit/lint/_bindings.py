"""Names bound once in a scope: how the lint follows ``email = "a@b.test"`` to where the value is sent."""

from __future__ import annotations

import ast

from testdata_kit.lint._urls import template

__all__ = ["Resolver", "string_bindings"]


def string_bindings(body: list[ast.stmt], *, deep: bool) -> dict[str, ast.expr]:
    """Return the names bound exactly once in *body* (``email = "a@b.test"``, ``URL = BASE + "/users/42"``).

    :param deep: look into nested statements too (a function's body), not only the top level (a module's).
    """
    found: dict[str, ast.expr | None] = {}
    nodes = (n for stmt in body for n in ast.walk(stmt)) if deep else iter(body)
    for node in nodes:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    single = target.id not in found and len(node.targets) == 1
                    found[target.id] = node.value if single else None
            continue
        # Bound some other way (a loop, a with, +=): too many values to follow.
        others: list[ast.expr] = []
        if isinstance(node, ast.AnnAssign | ast.AugAssign | ast.For | ast.AsyncFor):
            others = [node.target]
        elif isinstance(node, ast.With | ast.AsyncWith):
            others = [item.optional_vars for item in node.items if item.optional_vars is not None]
        for target in others:
            if isinstance(target, ast.Name):
                found[target.id] = None
    return {name: value for name, value in found.items() if value is not None}


class Resolver:
    """Looks a name up in the function's and then the module's single bindings."""

    def __init__(self, *scopes: dict[str, ast.expr]) -> None:
        self.scopes = scopes

    def bound(self, node: ast.expr) -> ast.expr | None:
        """Return the expression a name is bound to, else None."""
        if isinstance(node, ast.Name):
            for scope in reversed(self.scopes):
                if node.id in scope:
                    return scope[node.id]
        return None

    def constant(self, node: ast.expr) -> ast.Constant | None:
        """Return the string literal *node* is or names, as its AST node."""
        value = node if isinstance(node, ast.Constant) else self.bound(node)
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value
        return None

    def text(self, node: ast.expr) -> str | None:
        """Return the string literal *node* is or names, else None."""
        found = self.constant(node)
        return found.value if found is not None and isinstance(found.value, str) else None

    def __call__(self, node: ast.expr) -> str | None:
        text = self.text(node)
        return text if text is not None else template(node)
