"""The httpx client and its collections against the demo API: the sync collection's decisions, awaited."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import tempfile
import time
import unittest
from collections.abc import Awaitable, Callable
from typing import Any
from unittest import mock

import httpx

from testdata_kit import AsyncDataTestCase, DataTestCase, NoScopeError, UsageError, demo, journal, ledger
from testdata_kit.http import (
    AddressError,
    ApiClient,
    ApiError,
    HostNotAllowedError,
    ServerDownError,
    UnreadableCreateError,
)
from testdata_kit.http.aio import AsyncApiClient, AsyncCollection
from tests._support import problems, run_cases
from tests.test_async import Recorder
from tests.test_http import CannedServer, RefusingDeletes, free_port

Body = Callable[[Any], Awaitable[None]]


def run_async(url: str, body: Body, **options: Any) -> tuple[Any, Any]:
    """Run ``await body(test)`` as the only test of an async suite whose ``test.api`` is an AsyncApiClient."""

    class Inner(AsyncDataTestCase):
        async def asyncSetUp(self) -> None:
            # Steps that wait on the demo server in this thread (stopping it) are slow by asyncio's debug measure.
            asyncio.get_running_loop().slow_callback_duration = 5
            self.api = AsyncApiClient(url, **options)
            self.addAsyncCleanup(self.api.aclose)

        async def test_it(self) -> None:
            await body(self)

    return run_cases(Inner)


def _async_case(url: str, body: Body, **options: Any) -> type[AsyncDataTestCase]:
    class Inner(AsyncDataTestCase):
        async def asyncSetUp(self) -> None:
            asyncio.get_running_loop().slow_callback_duration = 5
            self.api = AsyncApiClient(url, **options)
            self.addAsyncCleanup(self.api.aclose)

        async def test_it(self) -> None:
            await body(self)

    return Inner


def run_sync(url: str, body: Callable[[Any], None], **options: Any) -> tuple[Any, Any]:
    """The same as :func:`run_async` with the requests client, for comparing the two."""

    class Inner(DataTestCase):
        def setUp(self) -> None:
            self.api = ApiClient(url, **options)
            self.addCleanup(self.api.close)

        def test_it(self) -> None:
            body(self)

    return run_cases(Inner)


class CollectionTests(unittest.TestCase):
    def test_create_get_exists_and_delete_leave_no_row_and_an_honest_account(self) -> None:
        with demo.running() as server:

            async def body(test: Any) -> None:
                users = test.api.collection("users")
                test.assertIsInstance(users, AsyncCollection)
                ann, bob, eve = await asyncio.gather(*(users.create(email=f"{n}@example.com", name=n)
                                                       for n in ("ann", "bob", "eve")))
                test.assertEqual((await users.get(ann))["name"], "ann")
                test.assertIs(await users.exists(bob), True)
                await users.delete(eve)
                test.assertIs(await users.exists(eve), False)
                test.assertEqual(server.counts()["users"], 2)

            result, books = run_async(server.url, body)
            rows = server.counts()["users"]
        self.assertEqual(problems(result), [])
        self.assertEqual((rows, books.summary()), (0, "created 3, deleted 3, leaked 0"))

    def test_get_reads_one_row_at_a_query_filter_address(self) -> None:
        with demo.running(addressing="query", array_bodies=True) as server:

            async def body(test: Any) -> None:
                users = test.api.collection("users", item="{path}?id=eq.{id}")
                await users.create(email="ann@example.com", name="ann")
                bob = await users.create(email="bob@example.com", name="bob")
                test.assertEqual((await users.get(bob))["name"], "bob")
                test.assertEqual((await test.api.get_json("/users", params={"id": f"eq.{bob['id']}"}))[0]["name"],
                                 "bob")

            result, books = run_async(server.url, body)
            rows = server.counts()["users"]
        self.assertEqual(problems(result), [])
        self.assertEqual((rows, books.summary()), (0, "created 2, deleted 2, leaked 0"))

    def test_every_rest_style_ends_as_it_does_with_the_sync_collection(self) -> None:
        # (server switches, collection options): the decisions are one code, so the outcomes must agree.
        styles = [
            ({}, {}),
            ({"addressing": "query", "empty_delete_204": True, "array_bodies": True}, {"item": "{path}?id=eq.{id}"}),
            ({"location_query": True}, {"id": "uuid"}),
            ({}, {"verify": "always"}),
            ({"addressing": "query"}, {}),  # a wrong template: an AddressError, the row tracked and leaked
        ]
        for switches, options in styles:
            outcomes = []
            for runner in ("sync", "async"):
                with self.subTest(switches=switches, options=options, runner=runner), \
                        demo.running(**switches) as server:
                    if runner == "sync":
                        def body(test: Any, options: dict[str, Any] = options) -> None:
                            users = test.api.collection("users", **options)
                            for n in range(2):
                                users.create(email=f"s{n}@example.com", name="S")

                        result, books = run_sync(server.url, body)
                    else:
                        async def abody(test: Any, options: dict[str, Any] = options) -> None:
                            users = test.api.collection("users", **options)
                            for n in range(2):
                                await users.create(email=f"s{n}@example.com", name="S")

                        result, books = run_async(server.url, abody)
                    # The exception's own line, the last of the traceback (the failure details follow it).
                    kinds = sorted(text.split("\ntestdata_kit: details of")[0].rstrip("\n").split("\n")[-1]
                                   .split(":")[0] for text in problems(result))
                    outcomes.append((server.counts()["users"], books.summary(), kinds))
            self.assertEqual(outcomes[0], outcomes[1], (switches, options))

    def test_a_wrong_item_template_is_an_address_error_naming_it(self) -> None:
        with demo.running(addressing="query") as server:

            async def body(test: Any) -> None:
                users = test.api.collection("users")
                with test.assertRaisesRegex(AddressError, r"its items are not at '\{path\}/\{id\}'"):
                    await users.create(email="w@example.com", name="W")

            result, books = run_async(server.url, body)
        self.assertEqual(books.created, 1, "the item is still tracked")
        self.assertEqual(len(result.errors), 1, "and its cleanup cannot prove it gone")

    def test_a_204_for_a_delete_that_went_elsewhere_is_checked_and_counted_as_a_leak(self) -> None:
        with demo.running(addressing="query", empty_delete_204=True) as server:

            async def body(test: Any) -> None:
                users = test.api.collection("users", item="{path}?id=eq.{id}", delete_at="{path}?id=eq.9999{id}",
                                            verify="always")
                await users.create(email="q@example.com", name="Q")

            _, books = run_async(server.url, body)
            rows = server.counts()["users"]
        self.assertEqual((rows, books.deleted, books.leaked), (1, 0, 1))
        self.assertIn("DeleteUnprovenError", books.leaks[0].reason)
        self.assertIn("the item is still there", books.leaks[0].reason)

    def test_per_call_headers_reach_the_create_its_check_and_its_delete(self) -> None:
        sent: list[tuple[str, str | None]] = []

        async def record(response: httpx.Response) -> None:
            sent.append((response.request.method, response.request.headers.get("X-Tenant-ID")))

        with demo.running() as server, ApiClient(server.url) as api:
            tenant = api.post_json("/tenants", {"name": "Acme"})["id"]

            async def body(test: Any) -> None:
                users = test.api.collection("users")
                item = await users.create(email="t@example.com", name="T", headers={"X-Tenant-ID": str(tenant)})
                test.assertEqual(item["tenant_id"], tenant)

            result, books = run_async(server.url, body, event_hooks={"response": [record]})
            api.delete(f"/tenants/{tenant}")
            rows = server.counts()["users"]
        self.assertEqual(problems(result), [])
        self.assertEqual((rows, books.deleted), (0, 1))
        # The read-back that confirms the address, then the DELETE and, for its empty 204, the check.
        self.assertEqual(sent, [("POST", str(tenant)), ("GET", str(tenant)), ("DELETE", str(tenant)),
                                ("GET", str(tenant))])

    def test_the_journal_hears_of_the_create_before_the_post_and_of_a_refused_one(self) -> None:
        events: list[tuple[str, Any]] = []
        with demo.running() as server:

            async def body(test: Any) -> None:
                ledger.current().observers.append(Recorder(events))
                users = test.api.collection("users")
                await users.create(email="j@example.com", name="J")
                with test.assertRaises(ApiError):
                    await users.create(email="not an email", name="J")

            result, _ = run_async(server.url, body)
        self.assertEqual(problems(result), [])
        self.assertEqual([e[0] for e in events], ["intent", "create", "intent", "abandon", "deleted"])

    def test_an_accepted_create_without_an_id_is_counted_as_leaked(self) -> None:
        with CannedServer(201, b"") as canned:

            async def body(test: Any) -> None:
                with test.assertRaisesRegex(UnreadableCreateError, r"probably created the 'users' item"):
                    await test.api.collection("users").create(email="u@example.com", name="U")

            _, books = run_async(canned.url, body)
        self.assertEqual((books.created, books.leaked), (1, 1))

    def test_outside_a_test_create_refuses_before_posting(self) -> None:
        with demo.running() as server:

            async def outside() -> None:
                async with AsyncApiClient(server.url) as api:
                    await api.collection("users").create(email="o@example.com", name="O")

            with self.assertRaises(NoScopeError):
                asyncio.run(outside())
            self.assertEqual(server.counts()["users"], 0)


class TenantTests(unittest.TestCase):
    """``tenant()`` and ``derive()`` as the requests client has them, awaited."""

    def test_a_tenant_per_test_scopes_a_client_by_header_or_path_and_goes_after_its_data(self) -> None:
        seen: dict[str, Any] = {}
        for via in ("header", "path"):
            with self.subTest(via=via), demo.running() as server:
                seen.clear()

                async def body(test: Any, via: str = via) -> None:
                    shop = await test.api.tenant(via=via)
                    row = await shop.collection("products").create(name="Lamp", price=3)
                    seen.update(row=row["tenant_id"], tenant=shop.tenant_id, tenants=server.counts()["tenants"],
                                client=shop)

                result, books = run_async(server.url, body)
                self.assertEqual(problems(result), [])
                self.assertEqual((seen["row"], seen["tenants"]), (seen["tenant"], 1))
                self.assertTrue(seen["client"].is_closed, "the scoped client is closed with the test")
                self.assertEqual(server.counts(), dict.fromkeys(server.counts(), 0))
                self.assertEqual([d["collection"] for d in server.deletions()], ["products", "tenants"])
                self.assertEqual(books.by_kind["tenant"], [1, 1, 0, 0])

    def test_the_kind_tenants_are_counted_as_can_be_chosen(self) -> None:
        with demo.running() as server:
            async def body(test: Any) -> None:
                await test.api.tenant(kind="org")

            result, books = run_async(server.url, body)
        self.assertEqual(problems(result), [])
        self.assertEqual(list(books.by_kind), ["org"])

    def test_a_class_scoped_async_tenant_is_refused_before_anything_is_created(self) -> None:
        with demo.running() as server:
            async def body(test: Any) -> None:
                with test.assertRaises(UsageError) as caught:
                    await test.api.tenant(scope="class")
                test.assertIn("ApiClient.tenant()", str(caught.exception))
                with test.assertRaises(ValueError) as wrong:
                    await test.api.tenant(via="cookie")
                test.assertIn("'header', 'path'", str(wrong.exception))

            result, books = run_async(server.url, body)
            self.assertEqual(server.counts()["tenants"], 0)
        self.assertEqual(problems(result), [])
        self.assertEqual(books.created, 0)

    def test_derive_keeps_settings_headers_auth_and_hooks_and_adds_the_changes(self) -> None:
        seen: list[tuple[str, str | None, str | None]] = []

        async def record(response: httpx.Response) -> None:
            request = response.request
            seen.append((request.url.path, request.headers.get("X-Team"), request.headers.get("Authorization")))

        with demo.running() as server:
            async def body(test: Any) -> None:
                child = test.api.derive(headers={"X-Team": "blue"})
                test.addAsyncCleanup(child.aclose)
                test.assertIsInstance(child, AsyncApiClient)
                test.assertIsNot(child, test.api)
                test.assertEqual((child.retries, child.retry_seconds, child.timeout_seconds), (3, 1.5, 2.0))
                await child.collection("users").create(email="d@example.com", name="D")
                moved = test.api.derive(base_url=server.url + "/tenants/7")
                test.addAsyncCleanup(moved.aclose)
                test.assertEqual(moved.url_for("users"), server.url + "/tenants/7/users")
                test.assertNotIn("X-Team", moved.headers)
                with test.assertRaises(HostNotAllowedError):
                    test.api.derive(base_url="http://api.example.com")

            result, books = run_async(server.url, body, retries=3, retry_seconds=1.5, timeout=2.0,
                                      auth=httpx.BasicAuth("tester", "s3cret"), event_hooks={"response": [record]})
            rows = server.counts()["users"]
        self.assertEqual(problems(result), [])
        self.assertEqual(books.summary(), "created 1, deleted 1, leaked 0")
        self.assertEqual(rows, 0)
        self.assertEqual({team for _, team, _ in seen}, {"blue"}, "the create, its check and its delete")
        self.assertTrue(all(auth and auth.startswith("Basic ") for _, _, auth in seen))


class JournalTests(unittest.TestCase):
    """The crash record of async creations is the sync one's: written before the POST, replayable after a leak."""

    def run_with_journal(self, url: str, body: Body, **options: Any) -> tuple[Any, Any, list[dict[str, Any]], Any]:
        with tempfile.TemporaryDirectory() as tmp, ledger.isolated() as books:
            log = journal.Journal(pathlib.Path(tmp), heartbeat=0)
            books.observers.append(log)
            result = unittest.TestResult()
            _async_case(url, body, **options)("test_it").run(result)
            log.flush()  # the release records that wait for the next record
            records = [json.loads(line) for line in log.path.read_text().splitlines()]
            books.close()
            found = journal.read(log.path) if log.path.exists() else None
        return result, books, records, found

    def test_the_intent_is_on_disk_before_the_post_and_the_release_after_the_delete(self) -> None:
        seen_at_post: list[list[str]] = []

        async def on_request(request: httpx.Request) -> None:
            if request.method == "POST":
                path = next(o.path for o in ledger.current().observers if hasattr(o, "path"))
                seen_at_post.append([json.loads(line)["op"] for line in path.read_text().splitlines()])

        with demo.running() as server:
            url = server.url

            async def body(test: Any) -> None:
                await test.api.collection("users").create(email="j@example.com", name="J")

            result, _books, records, found = self.run_with_journal(server.url, body,
                                                                  event_hooks={"request": [on_request]})
        self.assertEqual(problems(result), [])
        self.assertEqual(seen_at_post, [["open", "intent"]])
        self.assertEqual([r["op"] for r in records], ["open", "intent", "made", "release"])
        self.assertEqual(records[2]["recovery"]["url"], url + "/users/1")
        self.assertEqual(records[3]["outcome"], "deleted")
        self.assertIsNone(found, "a journal whose entries were all deleted is removed")

    def test_a_delete_that_cannot_reach_the_server_stays_in_the_journal_with_its_url(self) -> None:
        with demo.running() as server:
            url = server.url

            async def body(test: Any) -> None:
                await test.api.collection("users").create(email="k@example.com", name="K")
                server.stop()

            result, books, _, found = self.run_with_journal(server.url, body, retry_seconds=0.2)
        self.assertEqual(books.leaked, 1)
        self.assertEqual(len(result.errors), 1)
        (entry,) = found.pending()
        self.assertEqual((entry.kind, entry.ident, entry.outcome), ("users", 1, "leaked"))
        self.assertEqual(entry.recovery["method"], "DELETE")
        self.assertEqual(entry.recovery["url"], url + "/users/1")


class RetryTests(unittest.TestCase):
    def test_deletes_failing_30_percent_of_the_time_are_retried_until_nothing_leaks(self) -> None:
        refused: list[int] = []

        async def count(response: httpx.Response) -> None:
            if response.request.method == "DELETE" and response.status_code == 503:
                refused.append(1)

        with demo.running(fail_rate=0.3, fail_methods="DELETE", seed=7) as server:

            async def body(test: Any) -> None:
                users = test.api.collection("users")
                for number in range(30):
                    await users.create(email=f"u{number}@example.com", name="U")

            result, books = run_async(server.url, body, event_hooks={"response": [count]})
            rows = server.counts()["users"]
        self.assertEqual(problems(result), [])
        self.assertEqual((rows, books.deleted, books.leaked), (0, 30, 0))
        self.assertGreater(len(refused), 0, "some 503s happened and were retried")

    def test_a_refused_delete_is_retried_within_retry_seconds_and_the_leak_counts_the_attempts(self) -> None:
        with RefusingDeletes({"Retry-After": "30"}) as server:

            async def body(test: Any) -> None:
                await test.api.collection("users").create(email="g@example.com", name="G")

            started = time.monotonic()
            result, books = run_async(server.url, body, retry_seconds=0.5)
            elapsed = time.monotonic() - started
        self.assertEqual((len(result.errors), books.leaked), (1, 1), problems(result))
        self.assertGreater(len(server.deletes), 1, "a 503 is retried")
        self.assertIn(f"DELETE {server.url}/users/1 failed ({len(server.deletes)} attempts)", books.leaks[0].reason)
        self.assertLess(elapsed, 5.0, "retry_seconds=0.5 bounds the wait even when the server asks for 30 s")

    def test_a_create_is_never_retried(self) -> None:
        posts: list[int] = []

        async def count(response: httpx.Response) -> None:
            if response.request.method == "POST":
                posts.append(response.status_code)

        with demo.running(fail_rate=1.0, fail_methods="POST") as server:

            async def body(test: Any) -> None:
                with test.assertRaisesRegex(ApiError, "answered 503"):
                    await test.api.collection("users").create(email="p@example.com", name="P")

            result, books = run_async(server.url, body, event_hooks={"response": [count]})
        self.assertEqual(posts, [503])
        # A 503 may come after the backend committed: the account counts the row as possibly left behind.
        self.assertEqual(books.summary(), "created 1, deleted 0, leaked 1")
        self.assertIn("(answered 503): its id was never read, so it may still exist", "\n".join(problems(result)))

    def test_an_unreachable_server_fails_a_create_at_once_naming_the_url(self) -> None:
        url = f"http://127.0.0.1:{free_port()}"

        async def body(test: Any) -> None:
            with test.assertRaisesRegex(ServerDownError, rf"POST {url}/users failed: cannot reach the server"):
                await test.api.collection("users").create(email="d@example.com", name="D")

        result, books = run_async(url, body)
        self.assertEqual(problems(result), [])
        self.assertEqual(books.created, 0)

    def test_a_delete_against_a_server_gone_down_is_a_leak_naming_the_url(self) -> None:
        server = demo.running().start()
        url = server.url

        async def body(test: Any) -> None:
            await test.api.collection("users").create(email="f@example.com", name="F")
            server.stop()

        result, books = run_async(url, body, retry_seconds=0.2)
        self.assertEqual((len(result.errors), books.leaked), (1, 1))
        self.assertIn(f"DELETE {url}/users/1 failed (retried for up to 0.2 s): cannot reach the server",
                      books.leaks[0].reason)


class GuardAndRedactionTests(unittest.TestCase):
    def test_a_non_loopback_host_is_refused_before_anything_is_sent(self) -> None:
        with mock.patch.dict(os.environ, {"TESTDATA_ALLOWED_HOSTS": ""}):
            with self.assertRaisesRegex(HostNotAllowedError, r"Refusing to send requests to 'api\.example\.com'"):
                AsyncApiClient("https://api.example.com")

            async def absolute() -> None:
                async with AsyncApiClient("http://127.0.0.1:9") as api:
                    await api.get("https://api.example.com/users")

            with self.assertRaises(HostNotAllowedError):
                asyncio.run(absolute())

    def test_credentials_never_show_in_the_repr_or_the_errors(self) -> None:
        url = f"http://ann:s3cret@127.0.0.1:{free_port()}"

        async def body(test: Any) -> None:
            test.assertNotIn("s3cret", repr(test.api))
            test.assertNotIn("tok3n", repr(test.api))
            with test.assertRaises(ServerDownError) as caught:
                await test.api.collection("users").create(email="r@example.com", name="R")
            test.assertNotIn("s3cret", str(caught.exception))

        result, _ = run_async(url, body, headers={"Authorization": "Bearer tok3n"})
        self.assertEqual(problems(result), [])


if __name__ == "__main__":
    unittest.main()
