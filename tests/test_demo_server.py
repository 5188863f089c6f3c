"""Tests for the demo shop API, through real HTTP on loopback (urllib and http.client, no mocks)."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import io
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from testdata_kit import demo
from testdata_kit.demo import server as demo_server

Answer = tuple[int, dict[str, str], Any]


def call(
    base: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> Answer:
    """Send one request with urllib and return (status, headers, decoded JSON or None)."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            payload = response.read()
            status, answer_headers = response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        with error:
            payload = error.read()
            status, answer_headers = error.code, dict(error.headers)
    return status, answer_headers, json.loads(payload) if payload else None


class ServerCase(unittest.TestCase):
    """One server per class, emptied before every test."""

    server_options: dict[str, Any] = {}

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = demo.running(**cls.server_options).start()
        cls.addClassCleanup(cls.server.stop)

    def setUp(self) -> None:
        self.server.reset()

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Answer:
        return call(self.server.url, method, path, body, **kwargs)

    def made(self, path: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        status, _, row = self.call("POST", path, body, **kwargs)
        self.assertEqual(status, 201, row)
        return row

    def chain(self, *, percent: float | None = 20, price: float = 10, quantity: int = 1) -> dict[str, Any]:
        user = self.made("/users", {"email": f"buyer{time.monotonic_ns()}@example.com", "name": "Buyer"})
        product = self.made("/products", {"name": "Widget", "price": price})
        order = {"user_id": user["id"], "product_id": product["id"], "quantity": quantity}
        if percent is not None:
            discount = self.made("/discounts", {"code": f"D{time.monotonic_ns()}", "percent": percent})
            order["discount_id"] = discount["id"]
        return self.made("/orders", order)


class CrudTests(ServerCase):
    def test_create_answers_201_with_the_row_and_a_location_that_serves_it(self) -> None:
        status, headers, row = self.call("POST", "/users", {"email": "ann@example.com", "name": "Ann"})
        self.assertEqual(status, 201)
        self.assertEqual(headers["Location"], f"/users/{row['id']}")
        self.assertEqual((row["email"], row["name"], row["tenant_id"]), ("ann@example.com", "Ann", None))
        self.assertEqual(self.call("GET", headers["Location"])[2], row)

    def test_created_at_is_utc_iso_8601_with_z(self) -> None:
        row = self.made("/tenants", {"name": "Acme"})
        self.assertRegex(row["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        moment = dt.datetime.fromisoformat(row["created_at"][:-1]).replace(tzinfo=dt.timezone.utc)
        self.assertLess(abs(dt.datetime.now(dt.timezone.utc) - moment), dt.timedelta(minutes=1))

    def test_unknown_or_malformed_id_is_404_with_a_json_error(self) -> None:
        for path in ("/products/999", "/products/abc"):
            status, headers, body = self.call("GET", path)
            self.assertEqual(status, 404)
            self.assertEqual(headers["Content-Type"], "application/json")
            self.assertIn("No product with id", body["error"])

    def test_unknown_collection_and_route_are_404(self) -> None:
        self.assertEqual(self.call("GET", "/widgets")[0], 404)
        self.assertIn("users", self.call("GET", "/widgets")[2]["error"])
        self.assertEqual(self.call("GET", "/users/1/orders")[0], 404)

    def test_delete_answers_204_then_the_row_is_gone(self) -> None:
        row = self.made("/products", {"name": "Lamp", "price": 3})
        status, headers, body = self.call("DELETE", f"/products/{row['id']}")
        self.assertEqual((status, body), (204, None))
        self.assertNotIn("Content-Length", headers)
        self.assertEqual(self.call("GET", f"/products/{row['id']}")[0], 404)
        self.assertEqual(self.call("DELETE", f"/products/{row['id']}")[0], 404)

    def test_ids_are_never_reused_even_after_reset(self) -> None:
        first = self.made("/products", {"name": "A", "price": 1})
        self.server.reset()
        self.assertGreater(self.made("/products", {"name": "B", "price": 1})["id"], first["id"])

    def test_patch_changes_fields_and_recomputes_the_order_total(self) -> None:
        order = self.chain(percent=None, price=10, quantity=1)
        status, _, patched = self.call("PATCH", f"/orders/{order['id']}", {"quantity": 4})
        self.assertEqual((status, patched["quantity"], patched["total"]), (200, 4, 40))
        status, _, body = self.call("PATCH", f"/orders/{order['id']}", {"tenant_id": None})
        self.assertEqual(status, 422)
        self.assertIn("tenant_id", body["errors"])

    def test_unsupported_method_is_405_with_allow(self) -> None:
        status, headers, _ = self.call("PUT", "/users/1", {"name": "x"})
        self.assertEqual((status, headers["Allow"]), (405, "GET, PATCH, DELETE"))
        status, headers, _ = self.call("DELETE", "/users")
        self.assertEqual((status, headers["Allow"]), (405, "GET, POST"))
        self.assertEqual(self.call("OPTIONS", "/users")[0], 501)


class ConstraintTests(ServerCase):
    def test_deleting_rows_an_order_references_is_409_until_the_order_is_gone(self) -> None:
        order = self.chain()
        for path in (
            f"/users/{order['user_id']}",
            f"/products/{order['product_id']}",
            f"/discounts/{order['discount_id']}",
        ):
            status, _, body = self.call("DELETE", path)
            self.assertEqual(status, 409, path)
            self.assertIn(f"orders {order['id']}", body["error"])
        self.assertEqual(self.call("DELETE", f"/orders/{order['id']}")[0], 204)
        for path in (f"/users/{order['user_id']}", f"/products/{order['product_id']}"):
            self.assertEqual(self.call("DELETE", path)[0], 204)

    def test_duplicate_email_and_discount_code_are_409(self) -> None:
        self.made("/users", {"email": "dup@example.com", "name": "One"})
        status, _, body = self.call("POST", "/users", {"email": "dup@example.com", "name": "Two"})
        self.assertEqual(status, 409)
        self.assertIn("'dup@example.com'", body["error"])
        self.made("/discounts", {"code": "SAVE10", "percent": 10})
        self.assertEqual(self.call("POST", "/discounts", {"code": "SAVE10", "percent": 5})[0], 409)
        other = self.made("/users", {"email": "other@example.com", "name": "Three"})
        self.assertEqual(self.call("PATCH", f"/users/{other['id']}", {"email": "dup@example.com"})[0], 409)

    def test_concurrent_duplicate_creates_yield_exactly_one_row(self) -> None:
        statuses: list[int] = []

        def create() -> None:
            statuses.append(self.call("POST", "/users", {"email": "race@example.com", "name": "R"})[0])

        threads = [threading.Thread(target=create) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(sorted(statuses), [201] + [409] * 7)
        self.assertEqual(self.server.counts()["users"], 1)

    def test_bad_bodies_are_422_with_an_error_per_field(self) -> None:
        status, _, body = self.call("POST", "/users", {"email": "not-an-email", "nickname": "x", "id": 3})
        self.assertEqual(status, 422)
        self.assertEqual(set(body["errors"]), {"email", "name", "nickname", "id"})
        self.assertIn("required", body["errors"]["name"])
        self.assertIn("unknown field", body["errors"]["nickname"])
        self.assertIn("read-only", body["errors"]["id"])
        cases = [
            ("/products", {"name": "P", "price": "9.99"}, "price", "expected a number"),
            ("/products", {"name": "", "price": 1}, "name", "empty"),
            ("/products", {"name": "P", "price": -1}, "price", "at least 0"),
            ("/discounts", {"code": "C", "percent": 101}, "percent", "at most 100"),
            ("/discounts", {"code": "C", "percent": True}, "percent", "got bool"),
            ("/orders", {"user_id": 999, "product_id": 1, "quantity": 0}, "quantity", "at least 1"),
            ("/orders", {"user_id": 999, "product_id": 1}, "user_id", "no user with id 999"),
            ("/orders", {"user_id": 1.5, "product_id": 1}, "user_id", "expected an integer"),
            ("/orders", {"product_id": 1, "total": 3}, "total", "read-only"),
        ]
        for path, payload, field, text in cases:
            with self.subTest(path=path, payload=payload):
                status, _, body = self.call("POST", path, payload)
                self.assertEqual(status, 422)
                self.assertIn(text, body["errors"][field])
        self.assertEqual(self.server.counts(), dict.fromkeys(self.server.counts(), 0))

    def test_a_json_body_that_is_not_an_object_is_422(self) -> None:
        status, _, body = self.call("POST", "/users", [1, 2])
        self.assertEqual(status, 422)
        self.assertIn("expected a JSON object", body["errors"]["body"])

    def test_non_json_or_empty_body_is_400(self) -> None:
        for raw in (b"email=a@example.com", b"{broken", b"\xff\xfe", b""):
            with self.subTest(raw=raw):
                status, _, body = self.call("POST", "/users", raw=raw)
                self.assertEqual(status, 400)
                self.assertIn("JSON", body["error"])


class OrderTotalTests(ServerCase):
    def test_the_total_applies_the_discount_and_rounds_half_up_to_cents(self) -> None:
        for price, quantity, percent, total in [
            (10, 1, 20, 8),
            (19.99, 3, 15, 50.97),
            (25, 2, None, 50),
            (0.125, 1, 0, 0.13),
            (9.99, 1, 100, 0),
        ]:
            with self.subTest(price=price, quantity=quantity, percent=percent):
                self.assertEqual(self.chain(price=price, quantity=quantity, percent=percent)["total"], total)

    def test_quantity_defaults_to_one(self) -> None:
        self.assertEqual(self.chain(percent=None, price=7)["quantity"], 1)


class ListingTests(ServerCase):
    def test_pages_carry_total_limit_offset_and_a_next_link_that_walks_everything(self) -> None:
        made = [self.made("/products", {"name": f"P{i}", "price": i})["id"] for i in range(7)]
        status, _, page = self.call("GET", "/products?limit=3&offset=3")
        self.assertEqual(status, 200)
        self.assertEqual([row["id"] for row in page["items"]], made[3:6])
        self.assertEqual((page["total"], page["limit"], page["offset"]), (7, 3, 3))
        seen, path = [], "/products?limit=3"
        while path:
            page = self.call("GET", path)[2]
            seen += [row["id"] for row in page["items"]]
            path = page["next"]
        self.assertEqual(seen, made)

    def test_default_limit_is_50_and_the_maximum_500(self) -> None:
        page = self.call("GET", "/users")[2]
        self.assertEqual((page["limit"], page["offset"], page["items"], page["next"]), (50, 0, [], None))
        self.assertEqual(self.call("GET", "/users?limit=500")[0], 200)
        for query in ("limit=501", "limit=0", "offset=-1", "limit=ten"):
            self.assertEqual(self.call("GET", f"/users?{query}")[0], 400, query)

    def test_unknown_or_repeated_query_parameters_are_400(self) -> None:
        status, _, body = self.call("GET", "/users?prefx=test-")
        self.assertEqual(status, 400)
        self.assertIn("'prefx'", body["error"])
        self.assertEqual(self.call("GET", "/products?email=a@example.com")[0], 400)
        self.assertEqual(self.call("GET", "/users?limit=1&limit=2")[0], 400)

    def test_email_filter_is_exact(self) -> None:
        self.made("/users", {"email": "ann@example.com", "name": "Ann"})
        self.made("/users", {"email": "joann@example.com", "name": "Jo"})
        items = self.call("GET", "/users?email=ann@example.com")[2]["items"]
        self.assertEqual([row["email"] for row in items], ["ann@example.com"])

    def test_prefix_matches_marker_fields_that_contain_it(self) -> None:
        marker = "test-lz3k8p-r7k2q9"
        user = self.made("/users", {"email": f"{marker}@example.com", "name": "A"})
        named = self.made("/users", {"email": "b@example.com", "name": f"User {marker}"})
        self.made("/users", {"email": "c@example.com", "name": "Real Customer"})
        product = self.made("/products", {"name": f"Product {marker}", "price": 1})
        discount = self.made("/discounts", {"code": f"CODE-{marker}", "percent": 5})
        tenant = self.made("/tenants", {"name": f"Tenant {marker}"})
        self.made("/products", {"name": "Real product", "price": 1})
        found = {
            name: [row["id"] for row in self.call("GET", f"/{name}?prefix={marker}")[2]["items"]]
            for name in ("users", "products", "discounts", "tenants")
        }
        self.assertEqual(
            found,
            {
                "users": [user["id"], named["id"]],
                "products": [product["id"]],
                "discounts": [discount["id"]],
                "tenants": [tenant["id"]],
            },
        )

    def test_orders_match_a_prefix_through_the_rows_they_reference(self) -> None:
        marked = self.made("/users", {"email": "test-abc@example.com", "name": "T"})
        product = self.made("/products", {"name": "Widget", "price": 1})
        order = self.made("/orders", {"user_id": marked["id"], "product_id": product["id"]})
        self.chain()
        items = self.call("GET", "/orders?prefix=test-abc")[2]["items"]
        self.assertEqual([row["id"] for row in items], [order["id"]])
        self.assertEqual(self.call("GET", f"/orders?user_id={marked['id']}")[2]["total"], 1)

    def test_created_before_selects_rows_older_than_the_moment(self) -> None:
        old = self.made("/users", {"email": "old@example.com", "name": "Old"})
        self.made("/users", {"email": "new@example.com", "name": "New"})
        status, _, row = self.call(
            "POST", "/_admin/backdate", {"collection": "users", "id": old["id"], "created_at": "2020-01-01T00:00:00Z"}
        )
        self.assertEqual((status, row["created_at"]), (200, "2020-01-01T00:00:00.000000Z"))
        for bound in ("2021-01-01T00:00:00Z", "2021-01-01T01:00:00%2B01:00", "2021-01-01"):
            items = self.call("GET", f"/users?created_before={bound}")[2]["items"]
            self.assertEqual([r["id"] for r in items], [old["id"]], bound)
        self.assertEqual(self.call("GET", "/users?created_before=yesterday")[0], 400)


class TenantTests(ServerCase):
    def setUp(self) -> None:
        super().setUp()
        self.acme = self.made("/tenants", {"name": "Acme"})["id"]
        self.globex = self.made("/tenants", {"name": "Globex"})["id"]

    def test_the_header_creates_in_the_tenant_and_sees_only_its_rows(self) -> None:
        mine = self.made("/users", {"email": "a@example.com", "name": "A"}, headers={"X-Tenant-ID": str(self.acme)})
        theirs = self.made("/users", {"email": "a@example.com", "name": "B"}, headers={"X-Tenant-ID": str(self.globex)})
        self.assertEqual((mine["tenant_id"], theirs["tenant_id"]), (self.acme, self.globex))
        page = self.call("GET", "/users", headers={"X-Tenant-ID": str(self.acme)})[2]
        self.assertEqual([row["id"] for row in page["items"]], [mine["id"]])
        as_acme = {"X-Tenant-ID": str(self.acme)}
        self.assertEqual(self.call("GET", f"/users/{theirs['id']}", headers=as_acme)[0], 404)
        self.assertEqual(self.call("DELETE", f"/users/{theirs['id']}", headers=as_acme)[0], 404)
        self.assertEqual(self.call("GET", "/users")[2]["total"], 2)

    def test_the_path_form_scopes_like_the_header(self) -> None:
        status, headers, row = self.call("POST", f"/tenants/{self.acme}/products", {"name": "P", "price": 2})
        self.assertEqual((status, row["tenant_id"]), (201, self.acme))
        self.assertEqual(headers["Location"], f"/tenants/{self.acme}/products/{row['id']}")
        self.assertEqual(self.call("GET", f"/tenants/{self.globex}/products")[2]["items"], [])
        self.assertEqual(self.call("GET", f"/tenants/{self.globex}/products/{row['id']}")[0], 404)
        self.assertEqual(self.call("DELETE", f"/tenants/{self.acme}/products/{row['id']}")[0], 204)

    def test_bad_unknown_or_contradictory_tenants_are_refused(self) -> None:
        self.assertEqual(self.call("GET", "/users", headers={"X-Tenant-ID": "acme"})[0], 400)
        self.assertEqual(self.call("GET", "/users", headers={"X-Tenant-ID": "9999"})[0], 404)
        self.assertEqual(self.call("GET", "/tenants/9999/users")[0], 404)
        self.assertEqual(self.call("GET", f"/tenants/{self.acme}", headers={"X-Tenant-ID": "9999"})[0], 200)
        status, _, body = self.call("GET", f"/tenants/{self.acme}/users", headers={"X-Tenant-ID": str(self.globex)})
        self.assertEqual(status, 400)
        self.assertIn("contradicts", body["error"])
        status, _, body = self.call(
            "POST",
            "/users",
            {"email": "x@example.com", "name": "X", "tenant_id": self.globex},
            headers={"X-Tenant-ID": str(self.acme)},
        )
        self.assertEqual(status, 422)
        self.assertIn("tenant_id", body["errors"])

    def test_an_order_cannot_reference_another_tenants_rows(self) -> None:
        user = self.made("/users", {"email": "u@example.com", "name": "U"}, headers={"X-Tenant-ID": str(self.globex)})
        product = self.made(f"/tenants/{self.acme}/products", {"name": "P", "price": 1})
        status, _, body = self.call(
            "POST", f"/tenants/{self.acme}/orders", {"user_id": user["id"], "product_id": product["id"]}
        )
        self.assertEqual(status, 422)
        self.assertEqual(list(body["errors"]), ["user_id"])

    def test_deleting_a_tenant_that_owns_rows_is_409(self) -> None:
        row = self.made(f"/tenants/{self.acme}/discounts", {"code": "X", "percent": 1})
        status, _, body = self.call("DELETE", f"/tenants/{self.acme}")
        self.assertEqual(status, 409)
        self.assertIn(f"discounts {row['id']}", body["error"])
        self.assertEqual(self.call("DELETE", f"/discounts/{row['id']}")[0], 204)
        self.assertEqual(self.call("DELETE", f"/tenants/{self.acme}")[0], 204)


class AdminTests(ServerCase):
    def test_counts_match_the_rows_over_http_and_in_process(self) -> None:
        self.chain()
        expected = {"tenants": 0, "users": 1, "products": 1, "discounts": 1, "orders": 1}
        self.assertEqual(self.call("GET", "/_admin/counts")[2], expected)
        self.assertEqual(self.server.counts(), expected)

    def test_deletions_are_listed_in_the_order_the_server_committed_them(self) -> None:
        order = self.chain()
        for path in (
            f"/orders/{order['id']}",
            f"/discounts/{order['discount_id']}",
            f"/users/{order['user_id']}",
            f"/products/{order['product_id']}",
        ):
            self.assertEqual(self.call("DELETE", path)[0], 204)
        log = self.call("GET", "/_admin/deletions")[2]
        self.assertEqual(
            [(entry["collection"], entry["id"]) for entry in log],
            [
                ("orders", order["id"]),
                ("discounts", order["discount_id"]),
                ("users", order["user_id"]),
                ("products", order["product_id"]),
            ],
        )
        self.assertTrue(all(entry["at"].endswith("Z") for entry in log))
        self.assertEqual(self.server.deletions(), log)

    def test_backdate_validates_its_body(self) -> None:
        status, _, body = self.call("POST", "/_admin/backdate", {"collection": "pets", "id": "1", "created_at": 5})
        self.assertEqual(status, 422)
        self.assertEqual(set(body["errors"]), {"collection", "id", "created_at"})
        missing = {"collection": "users", "id": 999, "created_at": "2020-01-01T00:00:00Z"}
        self.assertEqual(self.call("POST", "/_admin/backdate", missing)[0], 404)

    def test_in_process_backdate_treats_naive_times_as_utc(self) -> None:
        row = self.made("/tenants", {"name": "T"})
        aged = self.server.backdate("tenants", row["id"], dt.datetime(2020, 5, 1, 12, 0))
        self.assertEqual(aged["created_at"], "2020-05-01T12:00:00.000000Z")

    def test_reset_empties_every_collection_and_the_deletion_log(self) -> None:
        order = self.chain()
        self.call("DELETE", f"/orders/{order['id']}")
        status, _, body = self.call("POST", "/_admin/reset")
        self.assertEqual((status, body["deleted"]["users"]), (200, 1))
        self.assertEqual(set(self.server.counts().values()), {0})
        self.assertEqual(self.server.deletions(), [])

    def test_admin_endpoints_only_answer_their_method(self) -> None:
        self.assertEqual(self.call("POST", "/_admin/counts", {})[0], 405)
        self.assertEqual(self.call("GET", "/_admin/reset")[0], 405)
        self.assertEqual(self.call("GET", "/_admin/nothing")[0], 404)


class KeepAliveTests(ServerCase):
    def test_one_connection_serves_several_requests_including_errors_and_204(self) -> None:
        connection = http.client.HTTPConnection(urlsplit(self.server.url).netloc, timeout=10)
        self.addCleanup(connection.close)
        answers = []
        for method, path, body in [
            ("POST", "/products", b'{"name": "P", "price": 1}'),
            ("POST", "/products", b"not json"),
            ("DELETE", "/products/PLACEHOLDER", None),
            ("GET", "/products", None),
        ]:
            if "PLACEHOLDER" in path:
                path = path.replace("PLACEHOLDER", str(answers[0][1]["id"]))
            connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            raw = response.read()
            answers.append((response.status, json.loads(raw) if raw else None))
            self.assertFalse(response.will_close, path)
            sock = connection.sock
            self.assertIsNotNone(sock)
            if method == "POST" and body and body.startswith(b"{"):
                first_socket = sock
            self.assertIs(sock, first_socket)
        self.assertEqual([status for status, _ in answers], [201, 400, 204, 200])
        self.assertEqual(answers[-1][1]["total"], 0)


class FaultInjectionTests(unittest.TestCase):
    def failures(self, server: demo.DemoServer, method: str, paths: list[str]) -> list[int]:
        return [call(server.url, method, path)[0] for path in paths]

    def test_fail_rate_limited_to_delete_fails_some_deletes_and_no_creates(self) -> None:
        with demo.running(fail_rate=0.5, fail_methods=["DELETE"], seed=7) as server:
            rows = [call(server.url, "POST", "/products", {"name": f"P{i}", "price": 1}) for i in range(20)]
            self.assertEqual({status for status, _, _ in rows}, {201})
            first_try = [call(server.url, "DELETE", f"/products/{row['id']}")[0] for _, _, row in rows]
            self.assertIn(503, first_try)
            self.assertIn(204, first_try)
            self.assertEqual(set(first_try), {204, 503})
            self.assertEqual(server.counts()["products"], first_try.count(503))
            self.assertEqual(call(server.url, "GET", "/_admin/counts")[0], 200)

    def test_the_same_seed_fails_the_same_requests(self) -> None:
        runs = []
        for _ in range(2):
            with demo.running(fail_rate=0.5, seed=42) as server:
                runs.append([call(server.url, "GET", "/users")[0] for _ in range(20)])
        self.assertEqual(runs[0], runs[1])
        self.assertEqual(set(runs[0]), {200, 503})

    def test_a_503_carries_a_json_error_and_admin_endpoints_never_fail(self) -> None:
        with demo.running(fail_rate=1.0) as server:
            status, _, body = call(server.url, "POST", "/users", {"email": "a@example.com", "name": "A"})
            self.assertEqual(status, 503)
            self.assertIn("retry", body["error"])
            self.assertEqual(call(server.url, "GET", "/_admin/counts")[2]["users"], 0)

    def test_latency_is_applied_to_every_request(self) -> None:
        with demo.running(latency_ms=150) as server:
            started = time.perf_counter()
            self.assertEqual(call(server.url, "GET", "/users")[0], 200)
            self.assertGreaterEqual(time.perf_counter() - started, 0.15)

    def test_invalid_settings_are_refused_with_the_valid_range(self) -> None:
        with self.assertRaisesRegex(ValueError, r"fail_rate 1\.5 must be a probability between 0 and 1"):
            demo.running(fail_rate=1.5)
        with self.assertRaisesRegex(ValueError, r"'FETCH' must name some of: GET, POST, PATCH, DELETE"):
            demo.running(fail_methods="FETCH")
        with self.assertRaisesRegex(ValueError, "latency_ms -1"):
            demo.running(latency_ms=-1)


class LifecycleTests(unittest.TestCase):
    def test_start_and_stop_free_the_port_and_refuse_use_afterwards(self) -> None:
        server = demo.running()
        self.assertIs(server.start(), server)
        url = server.url
        self.assertEqual(call(url, "GET", "/users")[0], 200)
        server.stop()
        server.stop()  # a second stop is harmless
        with self.assertRaises(urllib.error.URLError):
            call(url, "GET", "/users")
        with self.assertRaisesRegex(RuntimeError, "not started"):
            server.counts()
        self.assertEqual(repr(server), "<DemoServer stopped>")

    def test_stop_closes_idle_keep_alive_connections(self) -> None:
        server = demo.running().start()
        connection = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=10)
        self.addCleanup(connection.close)
        connection.request("GET", "/users")
        connection.getresponse().read()
        server.stop()
        connection.request("GET", "/users")
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            connection.getresponse()

    def test_a_database_file_keeps_rows_across_restarts(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "shop.sqlite3")
            with demo.running(db=path) as server:
                row = call(server.url, "POST", "/users", {"email": "k@example.com", "name": "K"})[2]
            with demo.running(db=path) as server:
                self.assertEqual(call(server.url, "GET", f"/users/{row['id']}")[2], row)

    def test_non_loopback_hosts_are_refused_unless_allowed(self) -> None:
        with self.assertRaises(demo.RemoteHostError) as caught:
            demo.DemoServer(host="0.0.0.0")
        self.assertEqual(caught.exception.host, "0.0.0.0")
        self.assertIn("--allow-remote", str(caught.exception))
        for host in ("127.0.0.1", "127.0.0.2", "localhost", "::1"):
            self.assertTrue(demo_server.is_loopback(host), host)
        self.assertFalse(demo_server.is_loopback("example.com"))
        demo.DemoServer(host="0.0.0.0", allow_remote=True)  # constructing binds nothing

    def test_main_refuses_a_non_loopback_host_with_exit_2(self) -> None:
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = demo_server.main(["--host", "192.0.2.10", "--port", "0"])
        self.assertEqual(code, 2)
        self.assertIn("Refusing to listen on '192.0.2.10'", err.getvalue())

    def test_main_rejects_bad_flags(self) -> None:
        for argv in (["--fail-rate", "2"], ["--fail-methods", "FETCH"], ["--fail-first", "-1"], ["--hang-rate", "-1"]):
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                self.assertEqual(demo_server.main([*argv, "--port", "0"]), 2, argv)
            self.assertIn("error:", err.getvalue())


class KeysetPagingTests(ServerCase):
    def test_next_links_carry_a_cursor_and_only_the_first_page_counts(self) -> None:
        made = [self.made("/products", {"name": f"P{i}", "price": i})["id"] for i in range(7)]
        first = self.call("GET", "/products?limit=3")[2]
        self.assertEqual((first["total"], first["next"]), (7, f"/products?limit=3&after={made[2]}"))
        second = self.call("GET", first["next"])[2]
        self.assertEqual(([row["id"] for row in second["items"]], second["total"]), (made[3:6], None))
        last = self.call("GET", second["next"])[2]
        self.assertEqual(([row["id"] for row in last["items"]], last["next"]), (made[6:], None))

    def test_an_offset_page_links_on_by_cursor_and_after_with_offset_is_400(self) -> None:
        made = [self.made("/products", {"name": f"P{i}", "price": i})["id"] for i in range(5)]
        page = self.call("GET", "/products?limit=2&offset=2")[2]
        self.assertEqual(page["next"], f"/products?limit=2&after={made[3]}")
        self.assertEqual(self.call("GET", "/products?after=1&offset=2")[0], 400)

    def test_a_page_that_ends_exactly_at_the_last_row_has_no_next(self) -> None:
        for i in range(4):
            self.made("/products", {"name": f"P{i}", "price": i})
        self.assertIsNone(self.call("GET", "/products?limit=4")[2]["next"])


class QueryAddressingTests(ServerCase):
    server_options = {"addressing": "query", "array_bodies": True}

    def test_rows_live_at_a_query_filter_and_the_path_form_is_404(self) -> None:
        status, headers, rows = self.call("POST", "/users", {"email": "q@example.com", "name": "Q"})
        self.assertEqual(status, 201)
        self.assertEqual(len(rows), 1, "array_bodies answers a create with [row]")
        row_id = rows[0]["id"]
        self.assertEqual(headers["Location"], f"/users?id=eq.{row_id}")
        self.assertEqual(self.call("GET", f"/users?id=eq.{row_id}")[2], rows)
        self.assertEqual(self.call("GET", f"/users/{row_id}")[0], 404)
        self.assertEqual(self.call("DELETE", f"/users/{row_id}")[0], 404)
        self.assertEqual(self.server.counts()["users"], 1)
        self.assertEqual(self.call("DELETE", f"/users?id=eq.{row_id}")[0], 204)
        self.assertEqual(self.call("GET", f"/users?id=eq.{row_id}")[2], [])
        self.assertEqual(self.call("DELETE", f"/users?id=eq.{row_id}")[0], 404)

    def test_a_referenced_parent_is_refused_with_409(self) -> None:
        user = self.made("/users", {"email": "p@example.com", "name": "P"})[0]
        product = self.made("/products", {"name": "W", "price": 1})[0]
        self.made("/orders", {"user_id": user["id"], "product_id": product["id"]})
        status, _, body = self.call("DELETE", f"/users?id=eq.{user['id']}")
        self.assertEqual(status, 409, body)
        self.assertIn("still referenced by orders", body["error"])


class NothingDeletedTests(ServerCase):
    server_options = {"empty_delete_204": True, "location_query": True}

    def test_a_delete_that_matched_nothing_answers_204_and_location_has_a_query(self) -> None:
        _, headers, row = self.call("POST", "/users", {"email": "n@example.com", "name": "N"})
        self.assertEqual(headers["Location"], f"/users?id=eq.{row['id']}")
        self.assertEqual(self.call("DELETE", "/users/999999")[0], 204)
        self.assertEqual(self.call("DELETE", f"/users/{row['id']}")[0], 204)
        self.assertEqual(self.server.counts()["users"], 0)


class LateDeleteTests(ServerCase):
    server_options = {"delete_delay_ms": 400}

    def test_a_delete_is_answered_at_once_and_done_after_the_delay(self) -> None:
        row = self.made("/users", {"email": "l@example.com", "name": "L"})
        self.assertEqual(self.call("DELETE", f"/users/{row['id']}")[0], 204)
        self.assertEqual(self.call("GET", f"/users/{row['id']}")[0], 200, "still there just after the 204")
        self.assertEqual(self.call("DELETE", f"/users/{row['id']}")[0], 204, "a second DELETE is accepted too")
        deadline = time.monotonic() + 10
        while self.call("GET", f"/users/{row['id']}")[0] == 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.call("GET", f"/users/{row['id']}")[0], 404)
        self.assertEqual(self.server.counts()["users"], 0)
        self.assertEqual(len(self.server.deletions()), 1, "deleted once")
        self.assertEqual(self.call("DELETE", f"/users/{row['id']}")[0], 404)

    def test_the_delay_must_not_be_negative(self) -> None:
        with self.assertRaisesRegex(ValueError, r"delete_delay_ms -1 must be zero or more milliseconds"):
            demo.DemoServer(delete_delay_ms=-1)


class StartupFailureTests(unittest.TestCase):
    def test_fail_first_answers_503_until_the_time_is_up(self) -> None:
        with demo.running(fail_first_seconds=1.0, fail_methods="DELETE") as server:
            row = call(server.url, "POST", "/tenants", {"name": "T"})[2]
            self.assertEqual(call(server.url, "DELETE", f"/tenants/{row['id']}")[0], 503)
            time.sleep(1.05)
            self.assertEqual(call(server.url, "DELETE", f"/tenants/{row['id']}")[0], 204)

    def test_fail_after_makes_the_change_and_still_answers_503(self) -> None:
        with demo.running(fail_rate=1.0, fail_methods="DELETE", fail_after=True) as server:
            row = call(server.url, "POST", "/tenants", {"name": "T"})[2]
            self.assertEqual(call(server.url, "DELETE", f"/tenants/{row['id']}")[0], 503)
            self.assertEqual(server.counts()["tenants"], 0)


class ProcessTests(unittest.TestCase):
    def test_port_0_prints_the_url_serves_quietly_and_exits_0_on_sigterm(self) -> None:
        flags = ["--port", "0", "--fail-rate", "0.5", "--fail-methods", "DELETE", "--seed", "1", "--latency", "1"]
        command = [sys.executable, "-X", "dev", "-W", "error", "-m", "testdata_kit.demo.server", *flags]
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
            try:
                assert process.stdout is not None and process.stderr is not None
                ready, _, _ = select.select([process.stdout], [], [], 20)
                self.assertTrue(ready, "the server printed nothing within 20 s")
                line = process.stdout.readline()
                match = re.fullmatch(r"Demo API listening on (http://127\.0\.0\.1:(\d+))\n", line)
                self.assertIsNotNone(match, line)
                assert match is not None
                self.assertNotEqual(match[2], "0")
                self.assertEqual(call(match[1], "POST", "/tenants", {"name": "T"})[0], 201)
                process.send_signal(signal.SIGTERM)
                self.assertEqual(process.wait(timeout=20), 0)
                self.assertNotIn("POST /tenants", process.stderr.read())
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()


DOCS_PAGE = os.path.join(os.path.dirname(__file__), os.pardir, "docs", "reference", "demo-api.rst")


def _directive_body(text: str, directive: str) -> str:
    """Return the indented block that follows ``.. directive::`` in a reST page, dedented."""
    after = text.split(f".. {directive}::\n", 1)[1]
    lines = []
    for line in after.splitlines()[1:]:
        if line and not line.startswith("    "):
            break
        lines.append(line[4:])
    return textwrap.dedent("\n".join(lines)).strip() + "\n"


@unittest.skipUnless(os.path.exists(DOCS_PAGE), "the docs are not next to the tests")
class DocsExampleTests(unittest.TestCase):
    def test_the_reference_page_example_prints_what_the_page_says(self) -> None:
        with open(DOCS_PAGE, encoding="utf-8") as page:
            text = page.read()
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(_directive_body(text, "testcode"), DOCS_PAGE, "exec"), {})
        self.assertEqual(printed.getvalue(), _directive_body(text, "testoutput"))


if __name__ == "__main__":
    unittest.main()
