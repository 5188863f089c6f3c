"""The rules on literal values: real-looking personal data (TDK003) and literal emails or names sent as data to
create (TDK002), plus card numbers written as integers."""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from testdata_kit.lint._personal import looks_like_email, looks_like_person_name, real_personal_data

if TYPE_CHECKING:
    from testdata_kit.lint._rules import Scope

__all__ = ["CARD_NAME", "LiteralRules"]

# Keys whose value is usually unique: a person's name under "name" or "display_name" collides with the next
# run's; first, last and full names (and an address's names) carry no uniqueness, so they are not checked.
_PERSON_KEYS = frozenset({"name", "displayname"})
# A dict with one of these keys is a postal address, where even "name" is not unique data.
_ADDRESS_KEYS = frozenset({"street", "streetaddress", "streetaddress1", "city", "postalcode", "zip", "zipcode",
                           "countryarea", "line1", "addressline1", "postcode"})
CARD_NAME = re.compile(r"card|(?:^|_)pan(?:$|_)|(?:^|_)cc(?:$|_)|ccnum|credit", re.IGNORECASE)


def _normal(key: str) -> str:
    return re.sub(r"[_\s-]", "", key.lower())


class LiteralRules(ast.NodeVisitor):
    """The checker's visits of constants, f-strings and dicts, and its checks of a field sent to create."""

    if TYPE_CHECKING:  # provided by the checker that mixes these rules in
        _docstrings: set[int]

        @property
        def scope(self) -> Scope: ...

        def report(self, node: ast.AST, code: str, message: str) -> None: ...

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
        if CARD_NAME.search(key) and isinstance(value, ast.Constant) and type(value.value) is int:
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
