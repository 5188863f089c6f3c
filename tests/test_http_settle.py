"""Late deletions: a DELETE the server accepted before the item is gone is re-checked for a while (``settle``)."""

from __future__ import annotations

import unittest
from typing import Any

from testdata_kit import DataTestCase, demo
from testdata_kit.http import ApiClient, DeleteFailedError, DeleteUnprovenError
from testdata_kit.http._verify import rechecks
from tests._support import problems, run_cases


class RecheckScheduleTests(unittest.TestCase):
    def test_waits_double_and_add_up_to_the_settle_time(self) -> None:
        self.assertEqual(rechecks(1), [0.05, 0.1, 0.2, 0.4, 0.25])
        for seconds in (0.01, 0.3, 2, 7.5):
            self.assertAlmostEqual(sum(rechecks(seconds)), seconds)
        self.assertEqual(rechecks(0), [], "settle=0 re-checks nothing")

    def test_settle_must_be_seconds(self) -> None:
        with demo.running() as server, ApiClient(server.url) as api:
            for wrong in (-1, "2s", True, None):
                with self.subTest(wrong=wrong), self.assertRaises(ValueError) as caught:
                    api.collection("users", settle=wrong)  # type: ignore[arg-type]
                self.assertEqual(str(caught.exception), f"settle {wrong!r} must be a number of seconds from 0 "
                                                        f"(no re-check) to 3600, e.g. settle=2")


class OpenApiSettleTests(unittest.TestCase):
    def test_from_openapi_passes_settle_to_every_collection(self) -> None:
        from testdata_kit import Registry

        with demo.running() as server:
            for given, expected in ({}, 2.0), ({"settle": 0.5}, 0.5):
                with self.subTest(given=given), ApiClient.from_openapi(server.url + "/openapi.json",
                                                                       registry=Registry(), **given) as api:
                    self.assertEqual({c.settle for c in api.openapi.collections.values()}, {expected})


class LateDeletionTests(unittest.TestCase):
    """Against the demo API with ``delete_delay_ms``: it answers 204 and deletes the row 800 ms later."""

    def setUp(self) -> None:
        self.server = demo.running(delete_delay_ms=800).start()
        self.addCleanup(self.server.stop)
        self.sent: list[str] = []
        self.api = ApiClient(self.server.url, hooks={"response": self.record})
        self.addCleanup(self.api.close)

    def record(self, response: Any, *args: Any, **kwargs: Any) -> None:
        self.sent.append(f"{response.request.method} {response.status_code}")

    def run_one(self, **options: Any) -> tuple[Any, Any]:
        users = self.api.collection("users", **options)

        class Inner(DataTestCase):
            def test_it(inner) -> None:
                users.create(email="late@example.com", name="Late")

        return run_cases(Inner)

    def test_a_deletion_that_finishes_late_counts_once_it_is_done(self) -> None:
        for verify in ("auto", "always"):
            with self.subTest(verify=verify):
                result, books = self.run_one(verify=verify)
                self.assertTrue(result.wasSuccessful(), problems(result))
                self.assertEqual((books.created, books.deleted, books.leaked), (1, 1, 0))
                self.assertEqual(self.server.counts()["users"], 0)
                after = self.sent[self.sent.index("DELETE 204"):]
                self.assertEqual(after[1], "GET 200", "the first check still finds the item")
                self.assertEqual(after[-1], "GET 404", "re-checked until it was gone")
                self.sent.clear()

    def test_past_the_settle_time_it_is_a_leak_that_names_the_wait(self) -> None:
        result, books = self.run_one(settle=0.1)
        self.assertEqual((books.created, books.deleted, books.leaked), (1, 0, 1))
        ((_, text),) = result.errors
        self.assertIn("DeleteUnprovenError", text)
        self.assertIn("with the item, still 0.1 s later: the item is still there", text)
        self.assertIn("give collection 'users' a longer settle= (seconds)", text)
        self.assertEqual(self.sent.count("GET 200"), 1 + 1 + len(rechecks(0.1)),
                         "read back after the create, checked after the DELETE, then each re-check")

    def test_without_settle_the_first_check_decides(self) -> None:
        result, books = self.run_one(settle=0)
        self.assertEqual(books.leaked, 1, problems(result))
        self.assertEqual(self.sent[-2:], ["DELETE 204", "GET 200"])

    def test_a_refused_deletion_is_not_rechecked(self) -> None:
        # A server that refuses at once: the demo without the delay, which answers 409 for a referenced user.
        prompt = demo.running().start()
        self.addCleanup(prompt.stop)
        api = ApiClient(prompt.url, hooks={"response": self.record})
        self.addCleanup(api.close)
        users, orders, products = api.collection("users"), api.collection("orders"), api.collection("products")
        user = users.post(email="owner@example.com", name="Owner")
        product = products.post(name="Thing", price=3)
        order = orders.post(user_id=user["id"], product_id=product["id"], quantity=1)
        self.sent.clear()
        with self.assertRaises(DeleteFailedError) as caught:
            users.delete(user)
        self.assertEqual(caught.exception.status, 409)
        self.assertNotIsInstance(caught.exception, DeleteUnprovenError)
        self.assertEqual(self.sent, ["DELETE 409"], "a refusal is an answer: nothing to wait for")
        for collection, item in ((orders, order), (users, user), (products, product)):
            collection.delete(item)
        self.assertEqual(sum(prompt.counts().values()), 0)


if __name__ == "__main__":
    unittest.main()
