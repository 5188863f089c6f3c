"""Tests for scenario chains: needs, attributes, tracking, and children-first teardown on the demo API."""

from __future__ import annotations

import io
import pathlib
import random
import tempfile
import threading
import time
import unittest
from typing import Any, ClassVar
from unittest import mock

from testdata_kit import DataTestCase, Registry, _scopes, creates, demo, ledger
from testdata_kit.http import ApiClient
from testdata_kit.scenario import Scenario
from tests._stores import FlakyChainStore, LinkStore
from tests._support import problems, run_cases


def shop_kinds(api: ApiClient) -> Registry:
    """Declare user/product/discount/order against the demo API in a private registry."""
    kinds = Registry()
    users, products = api.collection("users"), api.collection("products")
    discounts, orders = api.collection("discounts"), api.collection("orders")
    counter = iter(range(1, 1000))

    @creates("user", registry=kinds, delete=users.delete)
    def user(name: str = "U") -> Any:
        return users.post(email=f"u{next(counter)}@example.com", name=name)

    @creates("product", registry=kinds, delete=products.delete)
    def product(price: float = 10) -> Any:
        return products.post(name="P", price=price)

    @creates("discount", registry=kinds, delete=discounts.delete)
    def discount(percent: float = 10) -> Any:
        return discounts.post(code=f"D{next(counter)}", percent=percent)

    @creates("order", needs=("user", "product"), registry=kinds, delete=orders.delete)
    def order(user: Any, product: Any, discount: Any = None, quantity: int = 1) -> Any:
        return orders.post(user_id=user["id"], product_id=product["id"], quantity=quantity,
                           discount_id=discount["id"] if discount else None)

    return kinds


class ScenarioTests(unittest.TestCase):
    server: ClassVar[Any]
    api: ClassVar[ApiClient]

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = demo.running().start()
        cls.addClassCleanup(cls.server.stop)
        cls.api = ApiClient(cls.server.url)
        cls.addClassCleanup(cls.api.close)
        cls.kinds = shop_kinds(cls.api)

    def setUp(self) -> None:
        self.server.reset()

    def run_test(self, body: Any) -> Any:
        kinds = self.kinds

        class Inner(DataTestCase):
            registry = kinds

            def test_it(inner) -> None:
                body(inner)

        result, books = run_cases(Inner)
        self.assertEqual(problems(result), [])
        return books

    def deleted(self) -> list[str]:
        return [d["collection"] for d in self.server.deletions()]

    def test_the_lesson_chain_gives_the_discounted_total_and_deletes_children_first(self) -> None:
        seen: dict[str, Any] = {}

        def body(test: Any) -> None:
            s = test.scenario(workers=1).user().product(price=10).discount(percent=20).order()
            seen["total"] = s.order["total"]

        books = self.run_test(body)
        self.assertEqual(seen["total"], 8)
        self.assertEqual(self.deleted(), ["orders", "discounts", "products", "users"])
        self.assertEqual((books.created, books.deleted, books.leaked), (4, 4, 0))

    def test_children_go_first_whatever_the_creation_order(self) -> None:
        seen: dict[str, Any] = {}

        def body(test: Any) -> None:
            s = test.scenario(workers=1)
            s.discount()       # created first, yet the order made from it must go before it
            s.order()          # user and product created on demand, in between
            s.create("product", as_="spare")
            seen.update(spare=s.spare["id"], product=s.product["id"])

        self.run_test(body)
        deleted = [f"{d['collection']} {d['id']}" for d in self.server.deletions()]
        self.assertEqual([entry.split()[0] for entry in deleted],
                         ["products", "orders", "products", "users", "discounts"])
        self.assertEqual((deleted[0], deleted[2]), (f"products {seen['spare']}", f"products {seen['product']}"))

    def test_needs_come_from_what_the_scenario_holds(self) -> None:
        seen: dict[str, Any] = {}

        def body(test: Any) -> None:
            s = test.scenario().user(name="Ann").order()
            s.create("user", as_="bob", name="Bob")
            s.create("order", user=s.bob, as_="second")
            seen.update(ann=s.user, bob=s.bob, first=s.order, second=s.second, product=s.product)

        books = self.run_test(body)
        self.assertEqual(seen["first"]["user_id"], seen["ann"]["id"])
        self.assertEqual(seen["second"]["user_id"], seen["bob"]["id"])
        self.assertEqual(seen["second"]["product_id"], seen["product"]["id"])  # one product, shared
        self.assertEqual(books.by_kind["product"], [1, 1, 0, 0])
        self.assertEqual(self.server.counts(), dict.fromkeys(self.server.counts(), 0))

    def test_a_held_kind_still_chains_and_still_reads_as_the_resource(self) -> None:
        seen: dict[str, Any] = {}

        def body(test: Any) -> None:
            s = test.scenario(workers=1).user(name="Ann")
            first = s["user"]
            s.user(name="Bob").order()              # a second user, and the order takes the latest
            b = s.branch().user(name="Cy").order()  # the branch, too, chains on a kind its parent holds
            seen.update(first=first, user=s.user, raw=s.user.value, order=s.order, cy=b.user, cy_order=b.order)
            seen["name"], seen["id"], seen["eq"] = s.user["name"], s.user["id"], s.user == s["user"]

        books = self.run_test(body)
        self.assertEqual((seen["first"]["name"], seen["name"], seen["cy"]["name"]), ("Ann", "Bob", "Cy"))
        self.assertIsInstance(seen["raw"], dict)
        self.assertTrue(seen["eq"])
        self.assertEqual(seen["order"]["user_id"], seen["id"])
        self.assertEqual(seen["cy_order"]["user_id"], seen["cy"]["id"])
        self.assertEqual(books.by_kind["user"], [3, 3, 0, 0])
        self.assertEqual(self.server.counts(), dict.fromkeys(self.server.counts(), 0))

    def test_concurrent_teardown_keeps_children_before_parents(self) -> None:
        chains: list[dict[str, Any]] = []

        def body(test: Any) -> None:
            s = test.scenario(workers=8)
            for _ in range(4):
                b = s.branch().user().product().discount().order()
                chains.append({"orders": b.order["id"], "users": b.user["id"], "products": b.product["id"],
                               "discounts": b.discount["id"]})

        self.run_test(body)
        position = {(d["collection"], d["id"]): index for index, d in enumerate(self.server.deletions())}
        self.assertEqual(len(position), 16)
        for chain in chains:
            self.assertEqual(chain["orders"] - chains[0]["orders"], chains.index(chain))  # distinct chains
            for parent in ("users", "products", "discounts"):
                self.assertLess(position["orders", chain["orders"]], position[parent, chain[parent]])

    def test_the_users_own_cleanups_keep_their_lifo_place(self) -> None:
        log: list[str] = []

        def body(test: Any) -> None:
            test.addCleanup(lambda: log.append(f"before-scenario cleanup, users left {self.server.counts()['users']}"))
            s = test.scenario()
            s.order()
            test.addCleanup(lambda: log.append(f"after-scenario cleanup, orders left {self.server.counts()['orders']}"))

        self.run_test(body)
        self.assertEqual(log, ["after-scenario cleanup, orders left 1", "before-scenario cleanup, users left 0"])

    def test_an_unknown_attribute_names_the_kinds_and_results(self) -> None:
        def body(test: Any) -> None:
            s = test.scenario().user()
            with test.assertRaises(AttributeError) as caught:
                s.usr  # noqa: B018
            test.assertIn("Kinds: discount, order, product, user; results so far: user", str(caught.exception))

        self.run_test(body)


class ThreadingTests(unittest.TestCase):
    def test_independent_branches_are_deleted_at_the_same_time(self) -> None:
        kinds = Registry()
        active, peak = [0], [0]
        lock = threading.Lock()

        def slow_delete(value: Any) -> None:
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.05)
            with lock:
                active[0] -= 1

        creates("leaf", registry=kinds, delete=slow_delete)(lambda: {"id": object()})

        class Inner(DataTestCase):
            registry = kinds

            def test_it(self) -> None:
                s = self.scenario(workers=4)
                for _ in range(6):
                    s.create("leaf", as_="x")

        result, books = run_cases(Inner)
        self.assertEqual(problems(result), [])
        self.assertEqual(books.deleted, 6)
        self.assertEqual(peak[0], 4)

    def test_failed_deletions_are_all_reported_and_parents_still_tried(self) -> None:
        kinds = Registry()
        tried: list[str] = []

        def refuse(value: Any) -> None:
            tried.append(value["name"])
            raise RuntimeError(f"cannot delete {value['name']}")

        creates("parent", registry=kinds, delete=refuse)(lambda: {"name": "parent"})
        creates("child", needs=("parent",), registry=kinds, delete=refuse)(lambda parent: {"name": "child"})

        class Inner(DataTestCase):
            registry = kinds

            def test_it(self) -> None:
                self.scenario().child()

        result, books = run_cases(Inner)
        self.assertEqual(tried, ["child", "parent"])
        self.assertEqual(books.leaked, 2)
        # One error of the test holds both (with any other failed deletion of the test).
        self.assertIn("CleanupErrorGroup: 2 deletions failed", problems(result)[0])

    def test_links_are_journaled_like_any_other_creation(self) -> None:
        kinds = Registry()
        events: list[tuple[str, str]] = []

        class Recorder:
            def on_intent(self, number: int, kind: str, scope: str, owner: Any) -> None:
                events.append(("intent", kind))

            def on_abandon(self, number: int) -> None:
                events.append(("abandon", ""))

            def on_create(self, resource: Any) -> None:
                events.append(("create", resource.kind))

            def on_release(self, resource: Any, outcome: str) -> None:
                events.append((outcome, resource.kind))

        creates("parent", registry=kinds, delete=lambda value: None)(lambda: {"id": 1})
        creates("child", needs=("parent",), registry=kinds, delete=lambda value: None)(lambda parent: {"id": 2})

        class Inner(DataTestCase):
            registry = kinds

            def test_it(self) -> None:
                ledger.current().observers.append(Recorder())
                self.scenario(workers=2).child()

        result, _ = run_cases(Inner)
        self.assertEqual(problems(result), [])
        self.assertEqual(
            events,
            [("intent", "parent"), ("create", "parent"), ("intent", "child"), ("create", "child"),
             ("deleted", "child"), ("deleted", "parent")],
        )

    def test_workers_must_be_positive(self) -> None:
        with self.assertRaises(ValueError):
            Scenario(scope="run", workers=0)


class RetryRoundTests(unittest.TestCase):
    """Refused deletions in a scenario: retried round after round, then after the test's other cleanups."""

    def run_with_final_attempt(self, case: type[unittest.TestCase]) -> tuple[Any, Any, list[BaseException]]:
        result = unittest.TestResult()
        with ledger.isolated() as books:
            unittest.TestLoader().loadTestsFromTestCase(case).run(result)
            final = _scopes.final_attempt()
        return result, books, final

    def test_late_link_ends_with_nothing_left_serial_and_concurrent(self) -> None:
        # #11 case 6 in a scenario: the link from user to profile is made after both exist, so the scenario's
        # order cannot know it; the store refuses the profile first, then the next round deletes it.
        for workers in (1, None, 4):
            with self.subTest(workers=workers):
                store = LinkStore()
                kinds = store.kinds()

                class Inner(DataTestCase):
                    registry = kinds
                    options = {} if workers is None else {"workers": workers}

                    def test_it(self) -> None:
                        s = self.scenario(**self.options)
                        s.user().profile()
                        s.user["profile_id"] = s.profile["id"]

                result, books, final = self.run_with_final_attempt(Inner)
                self.assertEqual(problems(result), [])
                self.assertEqual((store.rows(), books.summary(), final), (0, "created 2, deleted 2, leaked 0", []))

    def test_flaky_server_leaves_no_row_once_it_answers_again(self) -> None:
        # #11 case 7: 30% of DELETEs answer 503 and 10% get no answer after the client's retries; parents are
        # refused with 409 while a child is still there. Nothing may be left, and the account must agree.
        seed = random.randrange(2**32)
        store = FlakyChainStore(seed)
        kinds = store.kinds(4)

        class Inner(DataTestCase):
            registry = kinds

            def test_1_builds_chains(self) -> None:
                s = self.scenario()
                for _ in range(50):
                    s.branch().create("link3")

            def test_2_server_answers_again(self) -> None:
                store.flaky = False

        with mock.patch("sys.stderr", new_callable=io.StringIO):
            result, books, final = self.run_with_final_attempt(Inner)
        self.assertEqual(problems(result), [], f"seed {seed}")
        self.assertEqual((len(store.rows), books.summary(), final), (0, "created 200, deleted 200, leaked 0", []),
                         f"seed {seed}")

    def test_demo_api_failing_deletes_leave_no_row_once_it_answers_again(self) -> None:
        # #11 case 7 against the demo API: 30% of DELETEs answer 503 and 10% hang past the client's timeout,
        # the store refuses a referenced row with 409. The API then restarts without failures (same port and
        # database) before the run ends: no row may be left, and the account must say so.
        seed = random.randrange(2**32)
        with tempfile.TemporaryDirectory() as tmp:
            db = str(pathlib.Path(tmp, "shop.sqlite3"))
            flaky = demo.DemoServer(db=db, fail_rate=0.3, hang_rate=0.1, hang_seconds=2.0, fail_methods="DELETE",
                                    seed=seed).start()
            port = flaky.port
            healthy: list[demo.DemoServer] = []
            self.addCleanup(lambda: [server.stop() for server in (flaky, *healthy)])
            api = ApiClient(flaky.url, timeout=1.0, retries=1, retry_seconds=0.2, backoff=0.01)
            self.addCleanup(api.close)
            kinds = shop_kinds(api)

            class Inner(DataTestCase):
                registry = kinds

                def test_1_builds_chains(self) -> None:
                    s = self.scenario()
                    for _ in range(10):
                        s.branch().user().product().discount().order()

                def test_2_the_api_restarts_without_failures(self) -> None:
                    flaky.stop()
                    healthy.append(demo.DemoServer(db=db, port=port).start())

            with mock.patch("sys.stderr", new_callable=io.StringIO):
                result, books, final = self.run_with_final_attempt(Inner)
            counts = healthy[0].counts()
        self.assertEqual(problems(result), [], f"seed {seed}")
        self.assertEqual((sum(counts.values()), books.summary(), final), (0, "created 40, deleted 40, leaked 0", []),
                         f"seed {seed}: {counts}")


if __name__ == "__main__":
    unittest.main()
