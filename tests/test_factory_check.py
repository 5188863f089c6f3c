"""Tests for ``python -m testdata_kit factories``: the factory lint on the command line."""

from __future__ import annotations

import contextlib
import io
import pathlib
import sys
import tempfile
import textwrap
import unittest

from testdata_kit.cli import main

GOOD = """
from testdata_kit.factories import DataFactory, Lazy, Trait

class Product(DataFactory):
    name = "lamp"
    price = 10
    discounted = Trait(price=Lazy(lambda p: 5))
"""

BROKEN = GOOD + """
class Order(DataFactory):
    quantity = 1
    bulk = Trait(quantity=Lazy(lambda o: 1 / 0))
"""


# The documented foreign-key pattern: the id comes from the server, so a build has none.
FOREIGN_KEY = """
from testdata_kit import creates
from testdata_kit.factories import DataFactory, SubFactory, Trait

@creates("fk_user", delete=lambda user: None)
def fk_user(**payload):
    return {"id": 1, **payload}

@creates("fk_order", delete=lambda order: None)
def fk_order(**payload):
    return {"id": 2, **payload}

class UserFactory(DataFactory):
    class Meta:
        creates = "fk_user"
    name = "Ann"

class OrderFactory(DataFactory):
    class Meta:
        creates = "fk_order"
    user_id = SubFactory(UserFactory, pick="id")
    quantity = 1
    bulk = Trait(quantity=100)
"""


class FactoryCheckTests(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = pathlib.Path(tmp.name)
        sys.path.insert(0, tmp.name)
        self.addCleanup(sys.path.remove, tmp.name)

    def module(self, name: str, source: str) -> str:
        (self.dir / f"{name}.py").write_text(textwrap.dedent(source))
        self.addCleanup(sys.modules.pop, name, None)
        return name

    def run_cli(self, *args: str) -> tuple[int, str, str]:
        with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()) as err:
            code = main(["factories", *args])
        return code, out.getvalue(), err.getvalue()

    def test_every_factory_and_trait_builds(self) -> None:
        code, out, _ = self.run_cli(self.module("fc_good", GOOD))
        self.assertEqual(code, 0, out)
        self.assertEqual(out, "1 factory, 2 builds: 2 passed, 0 failed\n")

    def test_a_sub_factory_picking_an_id_builds_with_a_placeholder(self) -> None:
        code, out, _ = self.run_cli(self.module("fc_foreign_key", FOREIGN_KEY))
        self.assertEqual(code, 0, out)
        self.assertEqual(out, "2 factories, 3 builds: 3 passed, 0 failed\n")
        built = sys.modules["fc_foreign_key"].OrderFactory.build()
        self.assertEqual(repr(built["user_id"]), "<id of a built UserFactory: only create() gives one>")

    def test_a_trait_that_cannot_build_is_reported_with_its_error(self) -> None:
        code, out, _ = self.run_cli(self.module("fc_broken", BROKEN))
        self.assertEqual(code, 1)
        self.assertIn("FAILED fc_broken.Order with bulk=True: ZeroDivisionError: division by zero\n", out)
        self.assertTrue(out.endswith("2 factories, 4 builds: 3 passed, 1 failed\n"), out)

    def test_a_module_that_cannot_be_imported_is_a_usage_error(self) -> None:
        code, _, err = self.run_cli("fc_missing_module")
        self.assertEqual(code, 2)
        self.assertIn("cannot import 'fc_missing_module'", err)
        self.assertIn("Give a dotted module name importable from here", err)

    def test_a_module_without_factories_is_a_usage_error(self) -> None:
        code, _, err = self.run_cli(self.module("fc_empty", "VALUE = 1\n"))
        self.assertEqual(code, 2)
        self.assertIn("no DataFactory is declared in fc_empty", err)


if __name__ == "__main__":
    unittest.main()
