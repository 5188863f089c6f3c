"""Every public name is documented: each public module's ``__all__`` against the reference pages' directives.

A name counts as documented when an autodoc (or ``.. data::``) directive names it, through any module that
exports the same object, or when an ``automodule`` directive lists it in ``:members:`` (an empty list means the
whole ``__all__``). Private modules (a part starting with ``_``) and the bundled example suite are not API.
"""

from __future__ import annotations

import importlib
import pathlib
import pkgutil
import re
import types
import unittest

import testdata_kit

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
DIRECTIVE = re.compile(r"^\.\. (auto\w+|py:\w+|data|function|class|exception)::\s*(\S+)((?:\n   .*)*)", re.M)
MEMBERS = re.compile(r":members:(.*(?:\n {6,}.*)*)")


def public_modules() -> list[str]:
    names = ["testdata_kit"] + [m.name for m in pkgutil.walk_packages(testdata_kit.__path__, "testdata_kit.")]
    return [n for n in names if not any(p.startswith("_") for p in n.split(".")) and ".demo.examples" not in n]


def documented() -> tuple[list[tuple[types.ModuleType, str]], set[str]]:
    """Return the (module, name) pairs the reference pages document, and the modules given an automodule."""
    text = "\n".join(path.read_text() for path in DOCS.rglob("*.rst"))
    pairs: list[tuple[types.ModuleType, str]] = []
    modules: set[str] = set()
    for kind, target, options in DIRECTIVE.findall(text):
        if kind == "automodule":
            modules.add(target)
            members = MEMBERS.search(options)
            if members is None:
                continue
            module = importlib.import_module(target)
            names = [n.strip() for n in members.group(1).replace("\n", " ").split(",") if n.strip()]
            pairs += [(module, n) for n in names or getattr(module, "__all__", [])]
        else:
            # More signatures may follow on the next lines (".. data:: a.X" then "          a.Y"), up to a blank
            # line or the first option.
            more = []
            for line in options.split("\n")[1:]:
                if not line.strip() or line.strip().startswith(":"):
                    break
                more.append(line.strip())
            for each in (target, *more):
                owner, _, name = each.rpartition(".")
                try:
                    pairs.append((importlib.import_module(owner), name))
                except ImportError:
                    continue  # a class attribute such as Collection.create: its class is checked on its own
    return pairs, modules


class ReferenceCoversAll(unittest.TestCase):
    def test_every_name_in_all_is_documented(self) -> None:
        pairs, modules = documented()
        missing = []
        for name in public_modules():
            module = importlib.import_module(name)
            for attr in getattr(module, "__all__", []):
                value = getattr(module, attr)
                if isinstance(value, types.ModuleType) and value.__name__ in modules:
                    continue
                if not any(attr == n and (m is module or getattr(m, n, object()) is value) for m, n in pairs):
                    missing.append(f"{name}.{attr}")
        self.assertEqual(missing, [], "add these to a page of docs/reference (autodoc, or :members:)")

    def test_every_documented_name_exists(self) -> None:
        pairs, _ = documented()
        absent = [f"{m.__name__}.{n}" for m, n in pairs if not hasattr(m, n)]
        self.assertEqual(absent, [])
