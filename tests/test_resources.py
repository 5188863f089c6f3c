"""Tests for @creates factories, tracked resources and their release."""

from __future__ import annotations

import os
import pathlib
import tempfile
import unittest
from unittest import mock

from testdata_kit import (
    GONE,
    AlreadyGone,
    CleanupError,
    DataTestCase,
    FactoryProtocolError,
    NoScopeError,
    Registry,
    RetryLater,
    UnknownKindError,
    create,
    creates,
    track,
)
from testdata_kit.resources import KEEP_ENV
from tests._support import problems, run_cases


def make_kinds(log: list[str]) -> tuple[Registry, dict[str, object]]:
    """Declare user/product/order kinds in a private registry that log their creations and deletions."""
    kinds = Registry()
    ids = iter(range(1, 10_000))

    @creates("user", registry=kinds)
    def user(name: str = "Test User"):
        body = {"id": next(ids), "name": name}
        log.append(f"create user {body['id']}")
        yield body
        log.append(f"delete user {body['id']}")

    def delete_product(body):
        log.append(f"delete product {body['id']}")

    @creates("product", registry=kinds, delete=delete_product)
    def product(price: int = 10):
        body = {"id": next(ids), "price": price}
        log.append(f"create product {body['id']}")
        return body

    @creates("order", needs=("user", "product"), registry=kinds)
    def order(user, product):
        body = {"id": next(ids), "user": user["id"], "product": product["id"]}
        log.append(f"create order {body['id']}")
        yield body
        log.append(f"delete order {body['id']}")

    return kinds, {"user": user, "product": product, "order": order}


class CreatesTests(unittest.TestCase):
    def test_factory_called_in_a_test_registers_deletion_on_that_test_in_reverse_order(self):
        log: list[str] = []
        kinds, f = make_kinds(log)

        class Inner(DataTestCase):
            registry = kinds

            def test_it(self):
                buyer = f["user"]()  # no self passed: the running test is found from context
                item = self.create("product", price=25)
                f["order"](buyer, item)
                log.append("test body done")

        result, books = run_cases(Inner)
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual(
            log,
            ["create user 1", "create product 2", "create order 3", "test body done",
             "delete order 3", "delete product 2", "delete user 1"],
        )
        self.assertEqual((books.created, books.deleted, books.leaked), (3, 3, 0))

    def test_cleanup_runs_even_when_the_test_fails(self):
        log: list[str] = []
        kinds, f = make_kinds(log)

        class Inner(DataTestCase):
            registry = kinds

            def test_it(self):
                f["user"]()
                self.fail("boom")

        result, books = run_cases(Inner)
        self.assertEqual(len(result.failures), 1)
        self.assertEqual(log, ["create user 1", "delete user 1"])
        self.assertEqual(books.leaked, 0)

    def test_cleanup_runs_when_setup_fails_after_creating(self):
        log: list[str] = []
        kinds, f = make_kinds(log)

        class Inner(DataTestCase):
            registry = kinds

            def setUp(self):
                f["user"]()
                raise RuntimeError("setUp broke after creating a user")

            def test_it(self):
                log.append("test ran")

        result, _ = run_cases(Inner)
        self.assertEqual(len(result.errors), 1)
        self.assertEqual(log, ["create user 1", "delete user 1"])

    def test_creations_interleave_with_the_users_own_cleanups_lifo(self):
        log: list[str] = []
        kinds, f = make_kinds(log)

        class Inner(DataTestCase):
            registry = kinds

            def test_it(self):
                self.addCleanup(log.append, "user cleanup A")
                f["user"]()
                self.addCleanup(log.append, "user cleanup B")
                f["product"]()

        run_cases(Inner)
        self.assertEqual(
            log[2:], ["delete product 2", "user cleanup B", "delete user 1", "user cleanup A"]
        )

    def test_failing_deletion_does_not_stop_the_others_and_names_the_resource(self):
        log: list[str] = []
        kinds = Registry()

        @creates("fragile", registry=kinds, delete=lambda body: (_ for _ in ()).throw(ConnectionError("refused")))
        def fragile():
            return {"id": 7}

        _, f = make_kinds(log)

        class Inner(DataTestCase):
            def test_it(self):
                f["user"]()
                fragile()
                f["product"]()
                self.assertEqual(1, 2)

        result, books = run_cases(Inner)
        self.assertEqual(log[-2:], ["delete product 2", "delete user 1"], "the other deletions still ran")
        self.assertEqual(len(result.failures), 1, "the test's own failure is still reported")
        self.assertIn("AssertionError: 1 != 2", result.failures[0][1])
        self.assertEqual(len(result.errors), 1)
        error_text = result.errors[0][1]
        self.assertIn("CleanupError: Could not delete <Resource fragile id=7 test=test_it>", error_text)
        self.assertIn("ConnectionError: refused", error_text)
        self.assertEqual(books.leaked, 1)
        self.assertEqual(books.leaks[0].kind, "fragile")
        self.assertTrue(books.leaks[0].test_id.endswith("Inner.test_it"))

    def test_already_gone_counts_as_deleted(self):
        kinds = Registry()

        class NotFound(Exception):
            pass

        def raise_not_found(body):
            raise NotFound(body)

        @creates("a", registry=kinds, delete=lambda body: GONE)
        def a():
            return 1

        @creates("b", registry=kinds, gone=(NotFound,), delete=raise_not_found)
        def b():
            return 2

        @creates("c", registry=kinds)
        def c():
            yield 3
            raise AlreadyGone("deleted by the test itself")

        class Inner(DataTestCase):
            def test_it(self):
                a(), b(), c()

        result, books = run_cases(Inner)
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual((books.created, books.deleted, books.leaked), (3, 3, 0))

    def test_keep_failed_keeps_only_the_data_of_failing_tests_and_lists_it(self):
        log: list[str] = []
        kinds, f = make_kinds(log)

        class Inner(DataTestCase):
            registry = kinds

            def test_fails(self):
                f["user"](name="kept")
                self.fail("look at the data")

            def test_passes(self):
                f["user"](name="deleted")

        with mock.patch.dict(os.environ, {KEEP_ENV: "failed"}), mock.patch("sys.stderr") as err:
            result, books = run_cases(Inner)
        self.assertEqual(len(result.failures), 1)
        self.assertEqual(log.count("delete user 1"), 0, "the failing test's user was kept")
        self.assertIn("delete user 2", log, "the passing test's user was deleted")
        self.assertEqual(len(books.kept), 1)
        self.assertIn("<Resource user id=1 test=test_fails>", books.kept[0])
        printed = "".join(call.args[0] for call in err.write.call_args_list)
        self.assertIn("kept <Resource user id=1 test=test_fails>", printed)
        self.assertIn("kept 1", books.summary())

    def test_generator_that_never_yields_is_a_clear_error(self):
        kinds = Registry()

        @creates("ghost", registry=kinds)
        def ghost():
            return
            yield

        class Inner(DataTestCase):
            def test_it(self):
                ghost()

        result, books = run_cases(Inner)
        self.assertIn("returned without yielding", problems(result)[0])
        self.assertEqual(books.created, 0)

    def test_generator_that_yields_twice_is_a_clear_error_at_cleanup(self):
        kinds = Registry()

        @creates("twice", registry=kinds)
        def twice():
            yield 1
            yield 2

        class Inner(DataTestCase):
            def test_it(self):
                twice()

        result, books = run_cases(Inner)
        self.assertIn("yielded more than once", problems(result)[0])
        self.assertEqual(books.leaked, 1)

    def test_unknown_kind_lists_the_known_ones(self):
        log: list[str] = []
        kinds, _ = make_kinds(log)
        with self.assertRaises(UnknownKindError) as caught:
            kinds.get("usr")
        self.assertEqual(caught.exception.known, ["order", "product", "user"])
        self.assertIsInstance(caught.exception, LookupError)

    def test_needs_naming_an_unknown_kind_fails_on_first_use_before_creating(self):
        kinds = Registry()
        made: list[int] = []

        @creates("order", needs=("prodcut",), registry=kinds)
        def order():
            made.append(1)
            yield {}

        class Inner(DataTestCase):
            def test_it(self):
                order()

        result, _ = run_cases(Inner)
        self.assertIn("Unknown kind 'prodcut'", problems(result)[0])
        self.assertEqual(made, [])
        with self.assertRaises(UnknownKindError):
            kinds.check()

    def test_create_outside_a_test_without_scope_refuses_before_creating(self):
        log: list[str] = []
        _kinds, f = make_kinds(log)
        with self.assertRaises(NoScopeError):
            f["user"]()
        self.assertEqual(log, [], "nothing was created that nobody would delete")

    def test_track_joins_accounting_for_things_created_elsewhere(self):
        deleted: list[str] = []

        class Inner(DataTestCase):
            def test_it(self):
                resource = track("row", {"id": 5}, lambda: deleted.append("row 5"))
                self.assertEqual(repr(resource), "<Resource row id=5 test=test_it>")

        result, books = run_cases(Inner)
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual(deleted, ["row 5"])
        self.assertEqual(books.by_kind["row"], [1, 1, 0, 0])

    def test_create_by_name_with_explicit_registry(self):
        log: list[str] = []
        kinds, _ = make_kinds(log)

        class Inner(DataTestCase):
            def test_it(self):
                body = create("product", registry=kinds, price=3)
                self.assertEqual(body["price"], 3)

        result, _ = run_cases(Inner)
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual(log, ["create product 1", "delete product 1"])

    def test_repr_of_factory_is_readable(self):
        log: list[str] = []
        _, f = make_kinds(log)
        self.assertEqual(repr(f["order"]), "<Factory order (generator) needs=['user', 'product']>")
        self.assertEqual(repr(f["product"]), "<Factory product (delete=delete_product)>")

    def test_cleanup_error_keeps_its_parts(self):
        error = CleanupError("res", ValueError("x"))
        self.assertEqual(error.resource, "res")
        self.assertIsInstance(error.error, ValueError)

    def test_generator_factory_rejects_delete_and_plain_factory_needs_delete(self):
        with self.assertRaises(FactoryProtocolError):
            creates("x", registry=Registry(), delete=print)(lambda: (yield))
        with self.assertRaises(FactoryProtocolError):
            creates("x", registry=Registry())(lambda: 1)


class _Answer(Exception):
    def __init__(self, status: object) -> None:
        super().__init__(f"status {status}")
        self.status = status


class RetryLaterTests(unittest.TestCase):
    def test_which_errors_mean_retry_later(self):
        from testdata_kit.resources import retry_later

        self.assertTrue(retry_later(RetryLater("locked")))
        for status in (400, 409, 412, 422, 500, 503, None):
            self.assertTrue(retry_later(_Answer(status)), status)
        for status in (401, 403, 405, "409"):
            self.assertFalse(retry_later(_Answer(status)), status)
        self.assertFalse(retry_later(ValueError("a bug")))
        # A kind's statuses replace the default ones; its exception types add to RetryLater.
        self.assertFalse(retry_later(_Answer(400), (409,)))
        self.assertTrue(retry_later(_Answer(423), (409, 423)))
        self.assertTrue(retry_later(KeyError("x"), (KeyError,)))
        self.assertTrue(retry_later(_Answer(400), (KeyError,)))

    def test_refused_statuses_come_from_setup_cfg(self):
        from testdata_kit import _refusals, config, resources

        # The statuses are read once per process, by the refusal policy's module.
        with tempfile.TemporaryDirectory() as tmp, mock.patch.object(_refusals, "_configured_statuses", None):
            pathlib.Path(tmp, "setup.cfg").write_text("[testdata_kit]\nrefused-statuses = 409, 423\n")
            real_load = config.load
            with mock.patch.object(config, "load", lambda: real_load(pathlib.Path(tmp, "setup.cfg"))):
                self.assertEqual(resources.refused_statuses(), frozenset({409, 423}))

    def test_refused_statuses_must_be_statuses(self):
        from testdata_kit import _refusals, config, resources

        # The statuses are read once per process, by the refusal policy's module.
        with tempfile.TemporaryDirectory() as tmp, mock.patch.object(_refusals, "_configured_statuses", None):
            pathlib.Path(tmp, "setup.cfg").write_text("[testdata_kit]\nrefused-statuses = 409, conflict\n")
            real_load = config.load
            with mock.patch.object(config, "load", lambda: real_load(pathlib.Path(tmp, "setup.cfg"))), \
                    self.assertRaises(config.ConfigError) as caught:
                resources.refused_statuses()
        self.assertIn("refused-statuses = 'conflict' is not valid; expected HTTP statuses that mean 'refused for "
                      "now', e.g. 400, 409, 412, 422.", str(caught.exception))

    def test_refused_of_creates_takes_statuses_and_exception_classes(self):
        with self.assertRaises(FactoryProtocolError) as caught:
            creates("x", registry=Registry(), delete=print, refused=("409",))
        self.assertIn("refused= of @creates('x') takes HTTP statuses and exception classes, got '409'",
                      str(caught.exception))
        factory = creates("x", registry=Registry(), delete=print, refused=(409, KeyError))(lambda: 1)
        self.assertEqual(factory.refused, (409, KeyError))


class DeleterAnswerTests(unittest.TestCase):
    """A deleter that returns the server's answer unchecked cannot make a refused deletion count as done."""

    def test_a_returned_refusal_is_retried_then_leaked_and_a_returned_404_is_not_proof(self):
        import requests

        from testdata_kit import demo, unique

        with demo.running() as server, requests.Session() as http:
            kinds = Registry()

            @creates("user", registry=kinds, delete=lambda row: http.delete(f"{server.url}/users/{row['id']}"))
            def user():
                return http.post(f"{server.url}/users", json={"email": unique.email(), "name": "U"}).json()

            @creates("ghost", registry=kinds, delete=lambda row: http.delete(f"{server.url}/users/999999"))
            def ghost():
                return {"id": 999999}

            class Inner(DataTestCase):
                registry = kinds

                def test_referenced(self):
                    row = self.create("user")
                    # An order the test does not track keeps the user referenced: the server answers 409.
                    product = http.post(f"{server.url}/products", json={"name": unique.name(), "price": 1}).json()
                    http.post(f"{server.url}/orders", json={"user_id": row["id"], "product_id": product["id"]})

                def test_wrong_address(self):
                    self.create("ghost")

            result, books = run_cases(Inner)
            text = "\n".join(problems(result))
            self.assertEqual(books.deleted, 0, text)
            self.assertEqual(books.leaked, 2, text)
            self.assertEqual(server.counts()["users"], 1, "the refused user is still there, and the account says so")
            self.assertIn("returned HTTP 409 Conflict: not proof of deletion", text)
            self.assertIn("returned HTTP 404 Not Found: not proof of deletion (a 404 or 410 at an address", text)


if __name__ == "__main__":
    unittest.main()
