"""Collections against REST servers nobody here wrote: json-server (npm) and Datasette's write API (PyPI).

Each test compares the account (created, deleted, leaked) with the rows counted in the server's own store
(json-server's db.json, Datasette's SQLite file) before and after. The servers are installed and found as
.ci/run does it; without them the tests are skipped, except under CI, where they fail.
"""

from __future__ import annotations

import unittest
from typing import Any, ClassVar

from testdata_kit import DataTestCase, unique
from testdata_kit.http import AddressError, ApiClient, Collection
from tests import _datasette as datasette
from tests import _json_server as json_server
from tests._datasette import Datasette
from tests._json_server import JsonServer
from tests._launch import ExternalServer
from tests._support import problems, run_cases


class RealServerCase(unittest.TestCase):
    server: ClassVar[ExternalServer]
    api: ClassVar[ApiClient]
    launcher: ClassVar[type[ExternalServer]]

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = cls.launcher().__enter__()  # type: ignore[call-arg]
        cls.addClassCleanup(cls.server.__exit__)
        cls.api = ApiClient(cls.server.url, retry_seconds=1)
        cls.addClassCleanup(cls.api.close)

    def chain(self, links: list[tuple[Collection, Any]]) -> None:
        """Run two tests that each create the whole chain (each link refers to those before it), twice over;
        the store, counted from its own file, must end as it began after each run."""
        before = self.server.counts()

        class Chain(DataTestCase):
            def test_one(inner) -> None:
                made: list[Any] = []
                for collection, body in links:
                    made.append(collection.create(body(made)))

            test_two = test_one

        size = 2 * len(links)
        for _ in range(2):  # twice: the second run must not trip over anything the first left
            result, books = run_cases(Chain)
            self.assertEqual(problems(result), [])
            self.assertEqual((books.created, books.deleted, books.leaked), (size, size, 0))
            self.assertEqual(self.server.counts(), before)

class JsonServerTests(RealServerCase):
    """json-server: items at /things/{id}; a DELETE at a wrong address answers 404."""

    launcher = JsonServer

    def test_a_user_product_discount_order_chain_leaves_the_store_as_it_was(self) -> None:
        self.chain(json_server.chain(self.api))

    def test_a_wrong_item_address_is_reported_at_the_create_and_counted_as_leaked(self) -> None:
        users = self.api.collection("users", item="/people/{id}")
        made: list[Any] = []

        def body(test: Any) -> None:
            with test.assertRaises(AddressError):
                users.create(email=unique.email(), name="Lost")
            made.extend(self.api.get_json("/users"))

        class Inner(DataTestCase):
            def test_it(self) -> None:
                body(self)

        _, books = run_cases(Inner)
        self.assertEqual((books.deleted, books.leaked), (0, 1))
        self.assertEqual(self.server.counts()["users"], 1, "the leak the account reports is really there")
        self.api.delete(f"/users/{made[0]['id']}")
        self.assertEqual(self.server.counts()["users"], 0)


class DatasetteTests(RealServerCase):
    """Datasette: inserts at /db/table/-/insert, reads by query filter, deletes by POST, enforces foreign keys."""

    launcher = Datasette

    def collection(self, table: str, **options: Any) -> Collection:
        return datasette.collection(self.api, table, **options)

    def test_a_user_product_discount_order_chain_leaves_the_store_as_it_was(self) -> None:
        self.chain(datasette.chain(self.api))

    def test_a_refused_parent_is_a_leak_that_is_really_there(self) -> None:
        users = self.collection("users")
        kept: list[int] = []

        class Inner(DataTestCase):
            def test_it(inner) -> None:
                user = users.create({"row": {"email": unique.email(), "name": "Parent"}})
                # Untracked, so nothing deletes it first: the user's deletion is refused by the foreign key.
                product = self.api.post_json("/data/products/-/insert", {"row": {"name": "Pen",
                                                                                  "user_id": user["rows"][0]["id"]}})
                kept.append(product["rows"][0]["id"])

        result, books = run_cases(Inner)
        self.assertEqual((books.deleted, books.leaked), (0, 1))
        self.assertIn("status 400", books.leaks[0].reason)
        self.assertIn("FOREIGN KEY", books.leaks[0].reason)
        self.assertEqual(self.server.counts(), {"users": 1, "products": 1, "discounts": 0, "orders": 0})
        self.assertEqual(len(result.errors), 1)
        self.api.post(f"/data/products/{kept[0]}/-/delete")
        self.assertEqual(self.server.counts()["products"], 0)
        users.delete(self.api.get_json("/data/users.json?_shape=array")[0]["id"])
        self.assertEqual(self.server.counts(), {"users": 0, "products": 0, "discounts": 0, "orders": 0})

    def test_the_default_address_is_caught_not_counted_as_deleted(self) -> None:
        users = self.api.collection("users", path="/data/users/-/insert", id="rows.0.id")

        class Inner(DataTestCase):
            def test_it(inner) -> None:
                with inner.assertRaises(AddressError):
                    users.create({"row": {"email": unique.email(), "name": "Lost"}})

        _, books = run_cases(Inner)
        self.assertEqual((books.deleted, books.leaked), (0, 1))
        self.assertEqual(self.server.counts()["users"], 1, "the leak the account reports is really there")
        self.collection("users").delete(self.api.get_json("/data/users.json?_shape=array")[0]["id"])
        self.assertEqual(self.server.counts()["users"], 0)


if __name__ == "__main__":
    unittest.main()
