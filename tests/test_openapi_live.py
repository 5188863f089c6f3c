"""Kinds from a document a running server publishes: the demo API's own /openapi.json, on loopback."""

from __future__ import annotations

import json
import unittest
from typing import Any, ClassVar

import requests

from testdata_kit import DataTestCase, demo
from testdata_kit.http import ApiClient, HostNotAllowedError
from testdata_kit.kinds import Registry
from testdata_kit.openapi import DocumentError, load
from tests._support import problems, run_cases
from tests.test_openapi import validator


def _live(server: Any, **options: Any) -> tuple[ApiClient, Registry, list[tuple[str, Any]]]:
    """A client made from the server's own document alone, and the (path, body) of every POST it sends."""
    sent: list[tuple[str, Any]] = []

    def record(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.request.method == "POST":
            sent.append((requests.utils.urlparse(response.request.url).path, json.loads(response.request.body)))

    registry = Registry()
    api = ApiClient.from_openapi(f"{server.url}/openapi.json", registry=registry, hooks={"response": record},
                                 **options)
    return api, registry, sent


class DemoDocumentTests(unittest.TestCase):
    addressing = "path"
    server: ClassVar[Any]

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = demo.DemoServer(addressing=cls.addressing).start()
        cls.addClassCleanup(cls.server.stop)

    def test_a_scenario_creates_the_chain_from_the_document_alone_and_rows_return_to_their_count(self) -> None:
        api, registry, sent = _live(self.server)
        self.addCleanup(api.close)
        before = self.server.counts()
        during: dict[str, int] = {}

        class Inner(DataTestCase):
            def test_it(inner) -> None:
                s = inner.scenario().order()
                inner.assertEqual(s.order["user_id"], s.user["id"])
                inner.assertEqual(s.order["product_id"], s.product["id"])
                during.update(self.server.counts())

        Inner.registry = registry
        result, books = run_cases(Inner)
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual({k: during[k] - before[k] for k in during},
                         {"tenants": 0, "users": 1, "products": 1, "discounts": 0, "orders": 1})
        self.assertEqual(self.server.counts(), before)
        self.assertEqual((books.created, books.deleted, books.leaked), (3, 3, 0))
        doc = load(api.get_json("/openapi.json"))
        for path, body in sent:
            name = path.strip("/").split("/")[0]
            schema = {"$ref": f"#/components/schemas/New{name[:-1].capitalize()}"}
            with self.subTest(path=path):
                self.assertEqual([e.message for e in validator(doc, schema).iter_errors(body)], [], body)

    def test_create_makes_the_parents_it_needs_and_deletes_them_after_it(self) -> None:
        api, registry, _ = _live(self.server)
        self.addCleanup(api.close)
        before = self.server.counts()

        class Inner(DataTestCase):
            def test_it(inner) -> None:
                order = inner.create("order", quantity=3)
                inner.assertEqual(order["quantity"], 3)
                discount = inner.create("discount", all_fields=True)
                inner.assertIn("code", discount)
                inner.create("order", discount=discount)

        Inner.registry = registry
        result, books = run_cases(Inner)
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual((books.created, books.deleted, books.leaked), (7, 7, 0))
        self.assertEqual(self.server.counts(), before)
        self.assertTrue({"discount", "order", "product", "tenant", "user"} <= set(api.openapi.kinds()))


class NestedDemoTests(unittest.TestCase):
    """Rows reached under their tenant, ``/tenants/{tenant_id}/orders/{id}``: nested collections and needs."""

    def test_a_nested_chain_stays_in_one_tenant_and_is_deleted(self) -> None:
        with demo.DemoServer() as server:
            api, registry, _ = _live(server)
            self.addCleanup(api.close)
            order = api.openapi.derived["tenant_order"]
            self.assertEqual((order.path, order.item), ("/tenants/{tenant_id}/orders",
                                                        "/tenants/{tenant_id}/orders/{id}"))
            self.assertEqual(order.needs, ("tenant", "tenant_user", "tenant_product"))
            before = server.counts()
            tenants: list[set[Any]] = []

            class Inner(DataTestCase):
                def test_scenario(inner) -> None:
                    s = inner.scenario().tenant_order()
                    tenants.append({s.tenant["id"], s.tenant_user["tenant_id"], s.tenant_product["tenant_id"],
                                    s.tenant_order["tenant_id"]})

                def test_create(inner) -> None:
                    made = inner.create("tenant_order")
                    users = api.get_json(f"/tenants/{made['tenant_id']}/users/{made['user_id']}")
                    tenants.append({made["tenant_id"], users["tenant_id"]})

            Inner.registry = registry
            result, books = run_cases(Inner)
            self.assertTrue(result.wasSuccessful(), problems(result))
            self.assertEqual([len(found) for found in tenants], [1, 1])
            self.assertEqual((books.created, books.deleted, books.leaked), (8, 8, 0))
            self.assertEqual(server.counts(), before)


class QueryAddressedDemoTests(DemoDocumentTests):
    """The same, against a server that addresses rows PostgREST-style: ``DELETE /users?id=eq.7``."""

    addressing = "query"

    def test_items_are_addressed_by_query_filter(self) -> None:
        api, _, _ = _live(self.server)
        self.addCleanup(api.close)
        self.assertEqual(api.openapi.derived["user"].item, "/users?id=eq.{id}")


class BindingTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = demo.DemoServer().start()
        cls.addClassCleanup(cls.server.stop)

    def _users_without_delete(self) -> dict[str, Any]:
        document = requests.get(f"{self.server.url}/openapi.json", timeout=10).json()
        del document["paths"]["/users/{id}"]["delete"]
        del document["servers"]
        return document

    def test_a_kind_without_delete_is_refused_where_it_is_used(self) -> None:
        registry = Registry()
        api = ApiClient.from_openapi(self._users_without_delete(), self.server.url, registry=registry)
        self.addCleanup(api.close)
        self.assertIn("user", api.openapi.refused)
        before = self.server.counts()

        class Inner(DataTestCase):
            def test_it(inner) -> None:
                inner.create("user")

        Inner.registry = registry
        result, books = run_cases(Inner)
        self.assertEqual(len(result.errors), 1)
        self.assertIn("KindNotDerivableError: Kind 'user' cannot be derived from the OpenAPI document: no delete "
                      "operation (/users/{id} has no DELETE", result.errors[0][1])
        self.assertEqual((books.created, self.server.counts()), (0, before))

    def test_delete_given_binds_the_kind(self) -> None:
        registry = Registry()
        deleted = []

        def remove(item: dict[str, Any]) -> None:
            deleted.append(item["id"])
            requests.delete(f"{self.server.url}/users/{item['id']}", timeout=10).raise_for_status()

        api = ApiClient.from_openapi(self._users_without_delete(), self.server.url, registry=registry,
                                     delete={"user": remove})
        self.addCleanup(api.close)

        class Inner(DataTestCase):
            def test_it(inner) -> None:
                inner.create("user")

        Inner.registry = registry
        result, books = run_cases(Inner)
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual((books.deleted, len(deleted)), (1, 1))

    def test_a_document_without_a_server_needs_base_url(self) -> None:
        with self.assertRaises(DocumentError) as caught:
            ApiClient.from_openapi(self._users_without_delete(), registry=Registry())
        self.assertIn("Pass base_url='http://127.0.0.1:8000'", str(caught.exception))

    def test_a_document_url_that_answers_an_error(self) -> None:
        with self.assertRaises(DocumentError) as caught:
            ApiClient.from_openapi(f"{self.server.url}/swagger.json", registry=Registry())
        self.assertEqual(str(caught.exception),
                         f"OpenAPI document {self.server.url}/swagger.json: cannot be fetched: the server answered "
                         f"404 Not Found. Check the URL, and pass headers= if the API needs credentials to read its "
                         f"document.")

    def test_the_host_guard_applies_to_the_document_url(self) -> None:
        with self.assertRaises(HostNotAllowedError):
            ApiClient.from_openapi("https://api.example.com/openapi.json", registry=Registry())

    def test_body_without_sending(self) -> None:
        api = ApiClient.from_openapi(f"{self.server.url}/openapi.json", registry=Registry())
        self.addCleanup(api.close)
        self.assertEqual(sorted(api.openapi.body("user")), ["email", "name"])
        self.assertEqual(api.openapi.body("product", price=3)["price"], 3)
        with self.assertRaises(LookupError):
            api.openapi.body("invoice")


class DemoPublishesItsDocumentTests(unittest.TestCase):
    def test_the_document_is_valid_openapi_3_1_in_both_addressing_modes(self) -> None:
        for addressing in ("path", "query"):
            with self.subTest(addressing), demo.DemoServer(addressing=addressing) as server:
                document = requests.get(f"{server.url}/openapi.json", timeout=10).json()
                load(document, validate=True)
                self.assertEqual(document["openapi"], "3.1.0")
                self.assertEqual(requests.post(f"{server.url}/openapi.json", timeout=10).status_code, 405)
