"""Tests for testdata_kit.http against the real demo API (and a tiny canned server) on loopback."""

from __future__ import annotations

import io
import os
import socket
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, TypeVar
from unittest import mock

import requests

from testdata_kit import DataTestCase, NoScopeError, demo, ledger
from testdata_kit.http import (
    ApiClient,
    ApiError,
    HostNotAllowedError,
    MissingIdError,
    ServerDownError,
    log_to,
)
from tests._support import problems, run_cases

_Server = TypeVar("_Server", bound="_LoopbackServer")


class _LoopbackServer:
    """A threaded HTTP server on a free loopback port, started and stopped by ``with``."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        self.thread = threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.05})

    def __enter__(self: _Server) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.shutdown()
        self.thread.join()
        self.http.server_close()


class CannedServer(_LoopbackServer):
    """A loopback server answering every request with one fixed status, headers and body."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        canned = (status, body, headers or {})

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(canned[0])
                for name, value in canned[2].items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(canned[1])))
                self.end_headers()
                self.wfile.write(canned[1])

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(Handler)



class RefusingDeletes(_LoopbackServer):
    """A loopback server that creates items (``POST`` answers 201 with a new id) and answers every DELETE with 503.

    :param headers: extra headers of the 503 answers, e.g. ``{"Retry-After": "30"}``.
    """

    def __init__(self, headers: dict[str, str] | None = None) -> None:
        self.deletes: list[str] = []
        lock = threading.Lock()
        deletes = self.deletes
        extra = headers or {}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.answer(201, b'{"id": 1}', {})

            def do_DELETE(self) -> None:
                with lock:
                    deletes.append(self.path)
                self.answer(503, b'{"error": "try later"}', extra)

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(Handler)



def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DemoApiTestCase(unittest.TestCase):
    server: ClassVar[Any]
    api: ClassVar[ApiClient]

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = demo.running().start()
        cls.addClassCleanup(cls.server.stop)
        cls.api = ApiClient(cls.server.url)
        cls.addClassCleanup(cls.api.close)

    def setUp(self) -> None:
        self.server.reset()

    def client(self, **options: Any) -> ApiClient:
        client = ApiClient(self.server.url, **options)
        self.addCleanup(client.close)
        return client


class ClientTests(DemoApiTestCase):
    def test_relative_paths_join_the_base_url_and_absolute_urls_stay(self) -> None:
        with ApiClient(self.server.url + "/tenants/7/") as api:
            self.assertEqual(api.url_for("/users"), self.server.url + "/tenants/7/users")
            self.assertEqual(api.url_for("users/3"), self.server.url + "/tenants/7/users/3")
            self.assertEqual(api.url_for("http://127.0.0.1:9/x"), "http://127.0.0.1:9/x")

    def test_json_conveniences_round_trip_a_row(self) -> None:
        row = self.api.post_json("/users", {"email": "ann@example.com", "name": "Ann"})
        self.assertEqual(self.api.get_json(f"/users/{row['id']}")["email"], "ann@example.com")
        self.assertEqual(self.api.patch_json(f"/users/{row['id']}", {"name": "Anna"})["name"], "Anna")

    def test_a_non_2xx_json_call_raises_with_status_and_body(self) -> None:
        with self.assertRaises(ApiError) as caught:
            self.api.post_json("/users", {"email": 5})
        self.assertEqual(caught.exception.status, 422)
        self.assertIn("expected a string", caught.exception.excerpt)

    def test_the_default_timeout_applies_to_every_request(self) -> None:
        with demo.running(latency_ms=400) as slow, ApiClient(slow.url, timeout=0.1) as api:
            started = time.monotonic()
            with self.assertRaises(requests.Timeout):
                api.post("/users", json={"email": "a@example.com", "name": "A"})
            self.assertLess(time.monotonic() - started, 0.35)

    def test_response_hooks_see_every_response_and_the_log_hides_the_token(self) -> None:
        seen: list[int] = []
        stream = io.StringIO()
        api = self.client(headers={"Authorization": "Bearer s3cr3t-token-value"},
                          hooks={"response": [lambda r, **kw: seen.append(r.status_code), log_to(stream)]})
        api.get("/?access_token=s3cr3t-token-value")
        self.assertEqual(seen, [200])
        self.assertIn("GET " + self.server.url + "/?access_token=*** -> 200 OK", stream.getvalue())
        self.assertNotIn("s3cr3t", stream.getvalue() + repr(api))
        self.assertIn("'Authorization': '***'", repr(api))

    def test_an_unreachable_server_raises_a_clear_error_naming_the_url_at_once(self) -> None:
        url = f"http://127.0.0.1:{free_port()}"
        with ApiClient(url) as api:
            started = time.monotonic()
            with self.assertRaises(ServerDownError) as caught:
                api.collection("users").post(email="a@example.com", name="A")
        self.assertLess(time.monotonic() - started, 1.0)  # creates are never retried
        self.assertEqual(caught.exception.url, url + "/users")
        self.assertIn(f"POST {url}/users failed: cannot reach the server", str(caught.exception))
        self.assertIsInstance(caught.exception, requests.ConnectionError)


class GuardTests(unittest.TestCase):
    def test_a_non_loopback_host_is_refused_before_anything_is_sent(self) -> None:
        with mock.patch.dict(os.environ, {"TESTDATA_ALLOWED_HOSTS": ""}), \
                self.assertRaises(HostNotAllowedError) as caught:
            ApiClient("https://shop.example.com/api")
        self.assertEqual(caught.exception.host, "shop.example.com")
        self.assertIn("TESTDATA_ALLOWED_HOSTS", str(caught.exception))

    def test_a_host_listed_in_the_environment_is_allowed(self) -> None:
        with mock.patch.dict(os.environ, {"TESTDATA_ALLOWED_HOSTS": "staging.example.com, shop.example.com"}):
            ApiClient("https://shop.example.com/api").close()

    def test_an_absolute_url_to_another_host_is_refused_too(self) -> None:
        with ApiClient("http://127.0.0.1:9") as api, self.assertRaises(HostNotAllowedError) as caught:
            api.get("http://10.1.2.3/users")
        self.assertEqual(caught.exception.host, "10.1.2.3")

    def test_loopback_forms_need_no_setting(self) -> None:
        for url in ("http://localhost:1", "http://127.0.0.5:1", "http://[::1]:1"):
            ApiClient(url).close()


class CollectionTests(DemoApiTestCase):
    def run_inner(self, body: Any) -> Any:
        class Inner(DataTestCase):
            def test_it(inner) -> None:
                body(inner)

        result, books = run_cases(Inner)
        self.assertEqual(problems(result), [])
        return books

    def test_create_posts_and_deletes_after_the_test_with_recovery_info(self) -> None:
        users = self.api.collection("users", path="/users", id="id")
        seen: dict[str, Any] = {}

        def body(test: Any) -> None:
            seen["row"] = users.create(email="ann@example.com", name="Ann")
            seen["recovery"] = ledger.current().still_live()[-1].recovery
            seen["counts"] = self.server.counts()["users"]

        books = self.run_inner(body)
        ident = seen["row"]["id"]
        self.assertEqual(seen["counts"], 1)
        self.assertEqual(seen["recovery"], {"method": "DELETE", "url": f"{self.server.url}/users/{ident}",
                                              "proven": True})
        self.assertEqual([(d["collection"], d["id"]) for d in self.server.deletions()], [("users", ident)])
        self.assertEqual(books.by_kind["users"], [1, 1, 0, 0])

    def test_a_journal_hears_of_the_create_before_the_post_and_of_a_refused_one(self) -> None:
        users = self.api.collection("users")
        events: list[tuple[str, Any]] = []
        server = self.server

        class Recorder:
            def on_intent(self, number: int, kind: str, scope: str, owner: Any) -> None:
                events.append(("intent", server.counts()["users"]))

            def on_abandon(self, number: int) -> None:
                events.append(("abandon", server.counts()["users"]))

            def on_create(self, resource: Any) -> None:
                events.append(("create", server.counts()["users"]))

            def on_release(self, resource: Any, outcome: str) -> None:
                events.append((outcome, server.counts()["users"]))

        class Inner(DataTestCase):
            def test_it(inner) -> None:
                ledger.current().observers.append(Recorder())
                users.create(email="journal@example.com", name="J")
                with inner.assertRaises(ApiError):
                    users.create(email="not an email", name="J")

        result, _ = run_cases(Inner)
        self.assertEqual(problems(result), [])
        self.assertEqual(
            events, [("intent", 0), ("create", 1), ("intent", 1), ("abandon", 1), ("deleted", 0)]
        )

    def test_the_id_falls_back_to_the_location_header(self) -> None:
        users = self.api.collection("users", id="uuid")
        self.run_inner(lambda test: users.create(email="b@example.com", name="B"))
        self.assertEqual(self.server.counts()["users"], 0)
        self.assertEqual(len(self.server.deletions()), 1)

    def test_a_missing_id_names_the_field_and_lists_the_keys_present(self) -> None:
        with CannedServer(201, b'{"uuid": "u-1", "name": "Ann"}') as canned, ApiClient(canned.url) as api, \
                self.assertRaises(MissingIdError) as caught:
            api.collection("users").post(name="Ann")
        self.assertEqual((caught.exception.field, caught.exception.present), ("id", ["name", "uuid"]))

    def test_a_non_json_create_shows_status_and_body(self) -> None:
        with CannedServer(200, b"<html>Welcome to the login page</html>", {"Content-Type": "text/html"}) as canned, \
                ApiClient(canned.url) as api, self.assertRaises(ApiError) as caught:
            api.collection("users").post(name="Ann")
        self.assertEqual(caught.exception.status, 200)
        self.assertIn("not JSON (text/html)", str(caught.exception))
        self.assertIn("<html>Welcome to the login page</html>", str(caught.exception))

    def test_a_refused_create_shows_status_and_body_and_tracks_nothing(self) -> None:
        users = self.api.collection("users")

        def body(test: Any) -> None:
            with test.assertRaises(ApiError) as caught:
                users.create(email="not-an-email", name="")
            test.assertEqual(caught.exception.status, 422)
            test.assertIn('"name":', caught.exception.excerpt)

        books = self.run_inner(body)
        self.assertEqual(books.created, 0)

    def test_outside_a_test_create_refuses_before_posting(self) -> None:
        with self.assertRaises(NoScopeError):
            self.api.collection("users").create(email="c@example.com", name="C")
        self.assertEqual(self.server.counts()["users"], 0)

    def test_an_item_already_gone_counts_as_deleted(self) -> None:
        users = self.api.collection("users")

        def body(test: Any) -> None:
            row = users.create(email="d@example.com", name="D")
            self.api.delete(f"/users/{row['id']}")

        books = self.run_inner(body)
        self.assertEqual((books.deleted, books.leaked), (1, 0))


class RetryTests(unittest.TestCase):
    def test_deletes_failing_30_percent_of_the_time_are_retried_until_nothing_leaks(self) -> None:
        retried: list[int] = []

        def count(response: requests.Response, **kwargs: Any) -> None:
            if response.request.method == "DELETE":
                retried.append(len(response.raw.retries.history))

        with demo.running(fail_rate=0.3, fail_methods="DELETE", seed=7) as server, \
                ApiClient(server.url, hooks={"response": count}) as api:
            users = api.collection("users")

            class Inner(DataTestCase):
                def test_it(self) -> None:
                    for number in range(30):
                        users.create(email=f"u{number}@example.com", name="U")

            result, books = run_cases(Inner)
            self.assertEqual(problems(result), [])
            self.assertEqual((books.deleted, books.leaked), (30, 0))
            self.assertEqual(server.counts()["users"], 0)
        self.assertGreater(sum(retried), 0)  # some 503s happened and were retried

    def test_a_delete_that_keeps_failing_is_a_leak_naming_method_and_url(self) -> None:
        with demo.running(fail_rate=1.0, fail_methods="DELETE") as server, \
                ApiClient(server.url, retry_seconds=0.3) as api:
            users = api.collection("users")
            url = server.url

            class Inner(DataTestCase):
                def test_it(self) -> None:
                    users.create(email="e@example.com", name="E")

            result, books = run_cases(Inner)
        self.assertEqual(len(result.errors), 1)
        self.assertEqual(books.leaked, 1)
        reason = books.leaks[0].reason
        self.assertIn(f"DELETE {url}/users/1 failed (", reason)
        self.assertIn("status 503", reason)

    def leak_after_refused_deletes(self, **options: Any) -> tuple[float, str, list[str]]:
        """Create one item on a server refusing every DELETE; return (teardown seconds, leak reason, DELETEs seen)."""
        with RefusingDeletes(options.pop("headers", None)) as server, ApiClient(server.url, **options) as api:
            users = api.collection("users")

            class Inner(DataTestCase):
                def test_it(self) -> None:
                    users.create(email="g@example.com", name="G")

            started = time.monotonic()
            result, books = run_cases(Inner)
            elapsed = time.monotonic() - started
            url = server.url
        self.assertEqual((len(result.errors), books.leaked), (1, 1), problems(result))
        reason = books.leaks[0].reason
        self.assertIn(f"DELETE {url}/users/1 failed (", reason)
        self.assertIn("status 503", reason)
        return elapsed, reason, server.deletes

    def test_retrying_a_failing_delete_stops_at_retry_seconds_and_a_larger_budget_tries_more(self) -> None:
        elapsed, reason, short = self.leak_after_refused_deletes(retry_seconds=0.5)
        self.assertLess(elapsed, 5.0, "retry_seconds=0.5 bounds the retries of the DELETE")
        # Three series of attempts: the first, the retry pass of the test's scope, the last at the end of the run.
        self.assertGreater(len(short), 3, "a 503 is retried")
        self.assertRegex(reason, r"^refused until the end of the run: DeleteFailedError: .* failed \(\d+ attempts\)",
                         "the leak says how often it was tried")
        _, _, longer = self.leak_after_refused_deletes(retry_seconds=2.0)
        self.assertGreater(len(longer), len(short))
        self.assertEqual(set(short + longer), {"/users/1"})

    def test_a_retry_after_header_cannot_stretch_the_budget(self) -> None:
        # A 503 with Retry-After is what a real API in maintenance answers; urllib3 would sleep that long.
        elapsed, _, deletes = self.leak_after_refused_deletes(retry_seconds=0.5, headers={"Retry-After": "30"})
        self.assertLess(elapsed, 5.0, "retry_seconds=0.5 bounds the wait even when the server asks for 30 s")
        self.assertGreaterEqual(len(deletes), 1)

    def test_a_delete_against_a_server_gone_down_is_a_leak_naming_the_url(self) -> None:
        server = demo.running().start()
        api = ApiClient(server.url, retry_seconds=0.2)
        self.addCleanup(api.close)
        users = api.collection("users")
        url = server.url

        class Inner(DataTestCase):
            def test_it(self) -> None:
                users.create(email="f@example.com", name="F")
                server.stop()

        result, books = run_cases(Inner)
        self.assertEqual(len(result.errors), 1)
        self.assertEqual(books.leaked, 1)
        self.assertIn(f"DELETE {url}/users/1 failed (retried for up to 0.2 s): cannot reach the server",
                      books.leaks[0].reason)


class TenantTests(DemoApiTestCase):
    def test_a_tenant_per_test_scopes_a_client_by_header_or_path(self) -> None:
        seen: dict[str, Any] = {}
        for via in ("header", "path"):
            def body(test: Any, via: str = via) -> None:
                shop = self.api.tenant(via=via)
                row = shop.collection("products").create(name="Lamp", price=3)
                seen[via] = (row["tenant_id"], shop.tenant_id, self.server.counts()["tenants"])

            self.run_inner(body)
            tenant_row, tenant_id, tenants = seen[via]
            self.assertEqual((tenant_row, tenants), (tenant_id, 1), via)
        self.assertEqual(self.server.counts(), dict.fromkeys(self.server.counts(), 0))
        collections = [d["collection"] for d in self.server.deletions()]
        self.assertEqual(collections, ["products", "tenants"] * 2)

    def run_inner(self, body: Any) -> None:
        class Inner(DataTestCase):
            def test_it(inner) -> None:
                body(inner)

        result, _ = run_cases(Inner)
        self.assertEqual(problems(result), [])

    def test_a_class_tenant_serves_every_test_of_the_class_then_goes(self) -> None:
        api, server = self.api, self.server
        tenant_ids: list[Any] = []

        class Inner(DataTestCase):
            @classmethod
            def setUpClass(cls) -> None:
                cls.shop = api.tenant()

            def test_one(self) -> None:
                tenant_ids.append(self.shop.collection("users").create(email="g@example.com", name="G")["tenant_id"])

            def test_two(self) -> None:
                tenant_ids.append(self.shop.collection("users").create(email="g@example.com", name="G")["tenant_id"])

        result, books = run_cases(Inner)
        self.assertEqual(problems(result), [])
        self.assertEqual(len(set(tenant_ids)), 1)
        self.assertEqual(books.by_kind["tenant"], [1, 1, 0, 0])  # counted in the singular, like ``user``
        self.assertNotIn("tenants", books.by_kind)
        self.assertEqual(server.counts()["tenants"], 0)

    def test_the_kind_tenants_are_counted_as_can_be_chosen(self) -> None:
        class Inner(DataTestCase):
            def test_it(inner) -> None:
                self.api.tenant(kind="org")

        result, books = run_cases(Inner)
        self.assertEqual(problems(result), [])
        self.assertEqual(list(books.by_kind), ["org"])
        self.assertEqual(books.by_kind["org"], [1, 1, 0, 0])

    def test_an_unknown_way_of_scoping_is_refused(self) -> None:
        with self.assertRaises(ValueError) as caught:
            self.api.tenant(via="cookie", scope="run")
        self.assertIn("'header', 'path'", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
