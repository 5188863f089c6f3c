"""Strings that match a schema's ``pattern``, drawn from the regular expression's parse tree (stdlib ``re``)."""

from __future__ import annotations

import random
import re
import string
from typing import Any

from testdata_kit.errors import TestDataError

try:  # Python 3.11+ moved the parser and warns on the old name
    import re._parser as _sre  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre

__all__ = ["matching"]

# A pattern's unbounded repeats (x*, x+) are drawn short: test data wants plausible, not exhaustive.
_MAX_EXTRA = 4
_CATEGORIES = {
    "CATEGORY_DIGIT": string.digits,
    "CATEGORY_WORD": string.ascii_letters + string.digits + "_",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_DIGIT": string.ascii_letters,
    "CATEGORY_NOT_WORD": "-.",
    "CATEGORY_NOT_SPACE": string.ascii_letters + string.digits,
}
_PRINTABLE = string.ascii_letters + string.digits


def matching(pattern: str, rng: random.Random, tries: int = 20) -> str | None:
    """Return a string that ``re.search(pattern)`` accepts, or ``None`` when this generator cannot make one.

    Handles literals, classes, ranges, categories (``\\d``, ``\\w``), groups, alternation, repeats and anchors;
    lookarounds and backreferences are beyond it.
    """
    try:
        tree = _sre.parse(pattern)
        compiled = re.compile(pattern)
    except (re.error, RecursionError):
        return None
    for _ in range(tries):
        try:
            text = _emit(tree, rng, {})
        except _Unsupported:
            return None
        if compiled.search(text):
            return text
    return None


class _Unsupported(TestDataError):
    pass


def _emit(tree: Any, rng: random.Random, groups: dict[int, str]) -> str:
    return "".join(_one(op, value, rng, groups) for op, value in tree)


def _one(op: Any, value: Any, rng: random.Random, groups: dict[int, str]) -> str:
    name = str(op)
    if name == "LITERAL":
        return chr(value)
    if name == "NOT_LITERAL":
        return next(c for c in _PRINTABLE if ord(c) != value)
    if name == "ANY":
        return rng.choice(_PRINTABLE)
    if name == "AT":
        return ""
    if name == "IN":
        return _in(value, rng)
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, sub = value
        count = low + rng.randint(0, min(_MAX_EXTRA, (high if high != _sre.MAXREPEAT else low + _MAX_EXTRA) - low))
        return "".join(_emit(sub, rng, groups) for _ in range(count))
    if name == "SUBPATTERN":
        group, _, _, sub = value
        text = _emit(sub, rng, groups)
        if group is not None:
            groups[group] = text
        return text
    if name == "BRANCH":
        return _emit(rng.choice(value[1]), rng, groups)
    if name == "GROUPREF":
        return groups.get(value, "")
    if name == "ATOMIC_GROUP":
        return _emit(value, rng, groups)
    raise _Unsupported(name)


def _in(items: Any, rng: random.Random) -> str:
    choices: list[str] = []
    negate = False
    for op, value in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            choices.append(chr(value))
        elif name == "RANGE":
            low, high = value
            choices.extend(chr(c) for c in range(low, min(high, low + 200) + 1))
        elif name == "CATEGORY":
            choices.extend(_CATEGORIES.get(str(value), _PRINTABLE))
        else:
            raise _Unsupported(name)
    if negate:
        allowed = [c for c in _PRINTABLE if c not in choices]
        return rng.choice(allowed) if allowed else "_"
    return rng.choice(choices) if choices else ""
