"""The package's layers: no import cycle, a stdlib-only core that imports no integration, one error family.

The import graph is read from the source (``ast``), not from ``sys.modules``: only imports that run when a
module is imported count (module level, including ``try``/``if`` blocks), not those inside functions and
classes, nor those under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pathlib
import pkgutil
import sys
import unittest

import testdata_kit
from testdata_kit._interrupts import Interrupted
from testdata_kit.errors import MissingExtraError, TestDataError

PACKAGE = pathlib.Path(testdata_kit.__file__).resolve().parent

#: The core: what ``import testdata_kit`` and the tracked-creation path may load. Standard library only.
CORE = frozenset({
    "testdata_kit", "testdata_kit._details", "testdata_kit._env", "testdata_kit._interrupts", "testdata_kit._parallel",
    "testdata_kit._redact", "testdata_kit._run", "testdata_kit._async_kinds", "testdata_kit.aio",
    "testdata_kit._refusals", "testdata_kit._resource", "testdata_kit._running",
    "testdata_kit._settings",
    "testdata_kit._scopes", "testdata_kit.case", "testdata_kit.config", "testdata_kit.errors", "testdata_kit.guard",
    "testdata_kit.journal", "testdata_kit.journal._read", "testdata_kit.journal._start",
    "testdata_kit.journal._store", "testdata_kit.journal._directory", "testdata_kit.kinds",
    "testdata_kit.journal._records", "testdata_kit.journal._writer",
    "testdata_kit.ledger",
    "testdata_kit.resources", "testdata_kit.safe", "testdata_kit.scenario", "testdata_kit._teardown",
    "testdata_kit.unique",
    # Value builders that need only the standard library.
    "testdata_kit._zones", "testdata_kit.adversarial",
})
#: Integrations and tools: they build on the core, and the core never imports them at import time.
INTEGRATIONS = ("http", "fake", "_fake_catalog", "_fake_providers", "factories", "db", "demo", "lint", "run",
                "sweep", "openapi", "pytest_plugin", "_pytest_data",
                # The journal stores on a server: the core's open_store imports them by name, when configured.
                "testdata_kit.journal._postgres", "testdata_kit.journal._redis", "testdata_kit.journal._s3")
#: Third-party packages that only the extras may import.
EXTRAS = ("requests", "urllib3", "httpx", "mimesis", "psycopg", "redis", "boto3", "botocore")
#: Exceptions that must not be an ``Exception``: ``except Exception`` would swallow an interrupt.
NOT_TEST_DATA_ERRORS = (Interrupted,)


def module_name(path: pathlib.Path) -> str:
    parts = ("testdata_kit", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_type_checking(test: ast.expr) -> bool:
    return "TYPE_CHECKING" in ast.unparse(test)


def import_time_nodes(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """The import statements of *body* that run at import time (not in functions, classes or TYPE_CHECKING)."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If):
            if not is_type_checking(node.test):
                found += import_time_nodes(node.body)
            found += import_time_nodes(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody):
                found += import_time_nodes(block)
        elif isinstance(node, (ast.With, ast.For, ast.While)):
            found += import_time_nodes(node.body)
    return found


def imported_names(name: str, path: pathlib.Path, known: set[str]) -> set[str]:
    """Absolute names of the modules *name* imports at import time (package modules and top-level others)."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in import_time_nodes(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
            continue
        if node.level:
            base_parts = name.split(".")
            base_parts = base_parts[: len(base_parts) - node.level + (1 if is_package else 0)]
            base = ".".join(base_parts + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        for alias in node.names:
            full = f"{base}.{alias.name}"
            out.add(full if full in known else base)
    return out


def build_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Return (package module -> package modules it imports, package module -> everything it imports)."""
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    known = set(files)
    everything = {name: imported_names(name, path, known) for name, path in files.items()}
    inner = {name: {m for m in imports if m in known and m != name} for name, imports in everything.items()}
    # Importing a.b.c imports its parent packages first, unless the importer is inside them already.
    for name, imports in inner.items():
        for module in list(imports):
            parts = module.split(".")
            imports |= {parent for parent in (".".join(parts[:i]) for i in range(2, len(parts)))
                        if parent != name and not name.startswith(parent + ".")}
    return inner, everything


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def is_integration(module: str) -> bool:
    parts = module.split(".")
    return module in INTEGRATIONS or (len(parts) > 1 and parts[1] in INTEGRATIONS)


class ImportGraphTests(unittest.TestCase):
    def setUp(self) -> None:
        self.graph, self.everything = build_graph()

    def test_the_graph_reader_sees_relative_imports_and_skips_type_checking_blocks(self) -> None:
        # The reader itself must be able to fail: a known edge and a known non-edge of today's package.
        self.assertIn("testdata_kit._interrupts", self.graph["testdata_kit.resources"])
        self.assertIn("testdata_kit.journal._read", self.graph["testdata_kit.journal"])
        self.assertNotIn("testdata_kit.scenario", self.graph["testdata_kit.case"])  # under TYPE_CHECKING
        tree = ast.parse("from . import b\nif TYPE_CHECKING:\n    import c\ndef f():\n    import d\n")
        self.assertEqual([ast.unparse(n) for n in import_time_nodes(tree.body)], ["from . import b"])

    def test_no_module_level_import_cycle(self) -> None:
        self.assertEqual(find_cycles(self.graph), [], "import cycles between testdata_kit modules")
        self.assertEqual(find_cycles({"a": {"b"}, "b": {"a"}}), [["a", "b", "a"]])

    def test_every_root_module_is_core_or_an_integration(self) -> None:
        # A new module must choose its layer here, so that the next two tests cover it.
        tools = {"testdata_kit.cli", "testdata_kit.__main__", "testdata_kit.factory_check", "testdata_kit._fields",
                 "testdata_kit._seeding"}
        unplaced = sorted(m for m in self.graph if m not in CORE and not is_integration(m) and m not in tools)
        self.assertEqual(unplaced, [])

    def test_the_core_imports_no_integration_and_no_extra(self) -> None:
        stdlib = sys.stdlib_module_names
        problems = []
        for module in sorted(CORE):
            for imported in sorted(self.everything[module]):
                top = imported.split(".")[0]
                if top == "testdata_kit":
                    if imported != "testdata_kit" and imported not in CORE:
                        problems.append(f"{module} imports {imported}")
                elif top not in stdlib or top in EXTRAS:
                    problems.append(f"{module} imports {imported}")
        self.assertEqual(problems, [])


def private_reach_ins(source: str) -> list[str]:
    """The ``module._name`` uses in *source*, where ``from testdata_kit import module`` bound the module."""
    tree = ast.parse(source)
    modules = {alias.asname or alias.name for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom) and node.module == "testdata_kit" for alias in node.names}
    return [
        f"line {node.lineno}: {node.value.id}.{node.attr}" for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
        and node.attr.startswith("_") and not node.attr.startswith("__")
    ]


class PrivateNamesTests(unittest.TestCase):
    def test_no_module_uses_another_modules_private_names(self) -> None:
        # kinds once reached into five private names of resources; the creation path is public now (tracked).
        found = {module_name(path): private_reach_ins(path.read_text(encoding="utf-8"))
                 for path in PACKAGE.rglob("*.py")}
        self.assertEqual({name: uses for name, uses in found.items() if uses}, {})
        self.assertEqual(private_reach_ins("from testdata_kit import resources\nresources._track()\n"),
                         ["line 2: resources._track"])


def package_modules() -> list[str]:
    names = ["testdata_kit"]
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="testdata_kit."):
        if not info.name.endswith("__main__"):
            names.append(info.name)
    return names


class ErrorFamilyTests(unittest.TestCase):
    def test_every_exception_class_the_package_defines_is_a_test_data_error(self) -> None:
        checked, skipped, offenders = [], [], []
        for name in package_modules():
            try:
                module = importlib.import_module(name)
            except (ImportError, MissingExtraError) as error:  # an extra that is not installed here
                skipped.append(f"{name}: {error}")
                continue
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ != name or not issubclass(cls, BaseException):
                    continue
                checked.append(cls)
                if not issubclass(cls, TestDataError) and cls not in NOT_TEST_DATA_ERRORS:
                    offenders.append(f"{name}.{cls.__qualname__}")
        self.assertEqual(offenders, [], f"modules skipped for a missing extra: {skipped or 'none'}")
        self.assertGreater(len(checked), 20)

    def test_an_interrupt_is_no_ordinary_exception(self) -> None:
        self.assertFalse(issubclass(Interrupted, Exception))
        self.assertTrue(issubclass(Interrupted, KeyboardInterrupt))


if __name__ == "__main__":
    unittest.main()
