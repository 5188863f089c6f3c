"""Collections against REST APIs that do not look like /things/{id}: the demo API's misbehaviour switches.

Each test pins one case of the "honest cleanup against any REST API" issue: the account (created, deleted,
leaked) must match the rows the server still holds, read from the server's own database.
"""

from __future__ import annotations

import os
import time
import unittest
from collections.abc import Callable
from typing import Any
from unittest import mock

import requests

from testdata_kit import DataTestCase, demo, ledger
from testdata_kit.config import Config
from testdata_kit.http import AddressError, ApiClient, ApiError, DeleteUnprovenError, UnreadableCreateError
from tests._support import problems, run_cases
from tests.test_http import CannedServer


def run_test(body: Callable[[Any], None]) -> tuple[Any, Any]:
    """Run *body(test)* as the only test of an inner suite; return (result, ledger)."""

    class Inner(DataTestCase):
        def test_it(self) -> None:
            body(self)

    return run_cases(Inner)


class Recorder:
    """A ledger observer that writes down the journal's events in *events*, in order."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    def on_intent(self, number: int, kind: str, scope: str, owner: Any) -> None:
        self.events.append("intent")

    def on_abandon(self, number: int) -> None:
        self.events.append("abandon")

    def on_create(self, resource: Any) -> None:
        self.events.append("create")

    def on_release(self, resource: Any, outcome: str) -> None:
        self.events.append(outcome)


class QueryFilterAddressingTests(unittest.TestCase):
    """Case 1: rows addressed as /users?id=eq.7; /users/7 is 404 and a DELETE there deletes nothing."""

    def test_the_default_address_is_refused_at_the_create_and_the_row_is_counted_as_leaked(self) -> None:
        with demo.running(addressing="query", empty_delete_204=True) as server, ApiClient(server.url) as api:
            users = api.collection("users")

            def body(test: Any) -> None:
                with test.assertRaises(AddressError) as caught:
                    users.create(email="q1@example.com", name="Q")
                test.assertIn("'{path}/{id}'", str(caught.exception))
                test.assertIn("item='{path}?id=eq.{id}'", str(caught.exception))

            result, books = run_test(body)
            rows = server.counts()["users"]
        self.assertEqual(rows, 1, "the row is still in the database")
        self.assertEqual((books.created, books.deleted, books.leaked), (1, 0, 1), "so the account says leaked")
        self.assertEqual(len(result.errors), 1, problems(result))

    def test_a_query_filter_template_deletes_and_proves_it(self) -> None:
        with demo.running(addressing="query", empty_delete_204=True) as server, ApiClient(server.url) as api:
            users = api.collection("users", item="{path}?id=eq.{id}")
            result, books = run_test(lambda test: [users.create(email=f"q{n}@example.com", name="Q")
                                                   for n in range(3)])
            rows = server.counts()["users"]
        self.assertEqual(problems(result), [])
        self.assertEqual((rows, books.created, books.deleted, books.leaked), (0, 3, 3, 0))

    def test_a_204_on_nothing_is_checked_and_a_row_still_there_is_a_leak_naming_the_template(self) -> None:
        # The template reaches the row for GET, but the DELETE goes elsewhere: the server answers 204 anyway.
        with demo.running(addressing="query", empty_delete_204=True) as server, ApiClient(server.url) as api:
            users = api.collection("users", item="{path}?id=eq.{id}", verify="always")
            real_delete = api.delete

            def misdirected(url: str, **kwargs: Any) -> requests.Response:
                return real_delete(url.replace("eq.", "eq.9999"), **kwargs)

            api.delete = misdirected  # type: ignore[method-assign]
            result, books = run_test(lambda test: users.create(email="q@example.com", name="Q"))
            rows = server.counts()["users"]
        self.assertEqual((rows, books.deleted, books.leaked), (1, 0, 1))
        self.assertEqual(len(result.errors), 1, problems(result))
        self.assertIn("DeleteUnprovenError", books.leaks[0].reason)
        self.assertIn("the item is still there", books.leaks[0].reason)
        self.assertIn("'{path}?id=eq.{id}'", books.leaks[0].reason)

    def test_verify_never_trusts_the_status_code_and_is_documented_as_unsafe(self) -> None:
        with demo.running(addressing="query", empty_delete_204=True) as server, ApiClient(server.url) as api:
            users = api.collection("users", verify="never")
            _, books = run_test(lambda test: users.create(email="n@example.com", name="N"))
            rows = server.counts()["users"]
        self.assertEqual((rows, books.deleted, books.leaked), (1, 1, 0), "what verify='never' means: it can lie")


class ArrayAnswerTests(unittest.TestCase):
    """Case 2: a create answered with [{...}] leaves a tracked row, deleted after the test."""

    def test_a_one_element_array_answer_is_the_item(self) -> None:
        with demo.running(array_bodies=True) as server, ApiClient(server.url) as api:
            users = api.collection("users")

            def body(test: Any) -> None:
                for n in range(2):
                    test.assertEqual(users.create(email=f"a{n}@example.com", name="A")["name"], "A")

            result, books = run_test(body)
            rows = server.counts()["users"]
        self.assertEqual(problems(result), [])
        self.assertEqual((rows, books.created, books.deleted, books.leaked), (0, 2, 2, 0))

    def test_an_accepted_create_without_a_readable_id_is_a_leak_and_keeps_its_journal_intent(self) -> None:
        events: list[str] = []

        with CannedServer(201, b'[{"name": "A"}, {"name": "B"}]') as canned, ApiClient(canned.url) as api:
            users = api.collection("users")

            def body(test: Any) -> None:
                ledger.current().observers.append(Recorder(events))
                with test.assertRaises(UnreadableCreateError) as caught:
                    users.create(name="A")
                test.assertIn("answered 201, so the server probably created", str(caught.exception))

            result, books = run_test(body)
        self.assertEqual((books.created, books.deleted, books.leaked), (1, 0, 1))
        self.assertIn("its id was never read, so it may still exist", books.leaks[0].reason)
        self.assertEqual(events, ["intent", "create", "leaked"], "never abandoned: the row may exist")
        self.assertEqual(len(result.errors), 1, problems(result))


    def test_an_answer_without_an_id_is_a_leak_too(self) -> None:
        with CannedServer(201, b'{"name": "A"}') as canned, ApiClient(canned.url) as api:
            users = api.collection("users")

            def body(test: Any) -> None:
                with test.assertRaises(UnreadableCreateError) as caught:
                    users.create(name="A")
                test.assertIn("its answer has no field 'id' (keys present: 'name')", str(caught.exception))

            _, books = run_test(body)
        self.assertEqual((books.created, books.leaked), (1, 1))

    def test_an_unreadable_body_with_a_location_still_gives_the_id(self) -> None:
        headers = {"Content-Type": "text/html", "Location": "/users?id=eq.7"}
        with CannedServer(201, b"<html>created</html>", headers) as canned, ApiClient(canned.url) as api:
            self.assertEqual(api.collection("users").post(name="A"), {"id": 7})


class LocationQueryTests(unittest.TestCase):
    """Case 3: Location: /users?id=eq.7 names id 7, not 'users'."""

    def test_the_id_is_read_from_the_location_query(self) -> None:
        with demo.running(location_query=True) as server, ApiClient(server.url) as api:
            users = api.collection("users", id="uuid")

            def body(test: Any) -> None:
                item = users.create(email="l@example.com", name="L")
                test.assertEqual(item["uuid"], item["id"])

            result, books = run_test(body)
            rows, deleted = server.counts()["users"], server.deletions()
        self.assertEqual(problems(result), [])
        self.assertEqual((rows, books.deleted, books.leaked), (0, 1, 0))
        self.assertEqual([d["collection"] for d in deleted], ["users"])

    def test_query_addressing_with_the_id_only_in_the_location(self) -> None:
        with demo.running(addressing="query", location_query=True) as server, ApiClient(server.url) as api:
            users = api.collection("users", id="key", item="{path}?id=eq.{id}")
            result, books = run_test(lambda test: users.create(email="k@example.com", name="K"))
            rows = server.counts()["users"]
        self.assertEqual(problems(result), [])
        self.assertEqual((rows, books.deleted, books.leaked), (0, 1, 0))


class PerCallOptionsTests(unittest.TestCase):
    """Case 4: headers and query parameters per collection and per call, without a second client."""

    def test_per_call_headers_reach_the_create_its_check_and_its_delete(self) -> None:
        sent: list[tuple[str, str | None, str | None]] = []

        def record(response: requests.Response, **kwargs: Any) -> None:
            request = response.request
            sent.append((str(request.method), request.headers.get("X-Tenant-ID"), request.headers.get("X-Run")))

        with demo.running() as server, ApiClient(server.url, hooks={"response": record}) as api:
            tenant = api.post_json("/tenants", {"name": "Acme"})["id"]
            users = api.collection("users", headers={"X-Run": "r1"})

            def body(test: Any) -> None:
                item = users.create(email="t@example.com", name="T", headers={"X-Tenant-ID": str(tenant)})
                test.assertEqual(item["tenant_id"], tenant)
                test.assertEqual(users.get(item, headers={"X-Tenant-ID": str(tenant)})["tenant_id"], tenant)

            result, books = run_test(body)
            api.delete(f"/tenants/{tenant}")
            rows = server.counts()["users"]
        self.assertEqual(problems(result), [])
        self.assertEqual((rows, books.deleted, books.leaked), (0, 1, 0))
        calls = [call for call in sent if call[0] != "POST" or call[1] is not None]
        self.assertEqual(calls[:3], [("POST", str(tenant), "r1"), ("GET", str(tenant), "r1"),
                                     ("GET", str(tenant), "r1")])
        self.assertIn(("DELETE", str(tenant), "r1"), sent)

    def test_nested_paths_are_filled_from_the_item_the_body_or_path_params(self) -> None:
        with demo.running() as server, ApiClient(server.url) as api:
            tenant = api.post_json("/tenants", {"name": "Acme"})["id"]
            users = api.collection("users", path="/tenants/{tenant}/users", item="/tenants/{tenant_id}/users/{id}")

            def body(test: Any) -> None:
                item = users.create(email="n@example.com", name="N", path_params={"tenant": tenant})
                test.assertEqual(users.url(item), f"{server.url}/tenants/{tenant}/users/{item['id']}")
                with test.assertRaises(KeyError) as caught:
                    users.create(email="m@example.com", name="M")
                test.assertIn("path_params={'tenant': ...}", str(caught.exception))

            result, books = run_test(body)
            api.delete(f"/tenants/{tenant}")
            rows = server.counts()
        self.assertEqual(problems(result), [])
        self.assertEqual((rows["users"], rows["tenants"], books.deleted, books.leaked), (0, 0, 1, 0))

    def test_a_callable_item_address(self) -> None:
        with demo.running(addressing="query") as server, ApiClient(server.url) as api:
            users = api.collection("users", item=lambda row: f"/users?id=eq.{row['id']}")
            result, books = run_test(lambda test: users.create(email="c@example.com", name="C"))
            rows = server.counts()["users"]
        self.assertEqual(problems(result), [])
        self.assertEqual((rows, books.deleted, books.leaked), (0, 1, 0))


class LostAnswerTests(unittest.TestCase):
    """Case 7, the verification side: a DELETE whose answer was lost is checked, not reported at random."""

    def test_a_delete_that_worked_but_answered_503_counts_as_deleted(self) -> None:
        with demo.running(fail_rate=1.0, fail_methods="DELETE", fail_after=True) as server, \
                ApiClient(server.url, retry_seconds=0.2) as api:
            users = api.collection("users")
            result, books = run_test(lambda test: [users.create(email=f"f{n}@example.com", name="F")
                                                   for n in range(3)])
            rows = server.counts()["users"]
        self.assertEqual(problems(result), [])
        self.assertEqual((rows, books.deleted, books.leaked), (0, 3, 0))

    def test_a_delete_answered_past_the_timeout_counts_as_deleted(self) -> None:
        with demo.running(hang_rate=1.0, hang_seconds=1.0, fail_methods="DELETE") as server, \
                ApiClient(server.url, timeout=0.2, retry_seconds=0.3) as api:
            users = api.collection("users")
            result, books = run_test(lambda test: users.create(email="h@example.com", name="H"))
            rows = server.counts()["users"]
        self.assertEqual(problems(result), [])
        self.assertEqual((rows, books.deleted, books.leaked), (0, 1, 0))

    def test_a_create_whose_answer_times_out_is_counted_as_possibly_created(self) -> None:
        import requests

        with demo.running(hang_rate=1.0, hang_seconds=1.0, fail_methods="POST") as server, \
                ApiClient(server.url, timeout=0.3) as api:
            users = api.collection("users")

            def body(test: Any) -> None:
                with test.assertRaises(requests.exceptions.ReadTimeout):
                    users.create(email="p@example.com", name="P")

            result, books = run_test(body)
            time.sleep(1.0)  # the server finishes the create after the client gave up on it
            rows = server.counts()["users"]
        self.assertEqual(rows, 1)
        self.assertEqual(books.summary(), "created 1, deleted 0, leaked 1")
        self.assertIn("(its answer was lost): its id was never read, so it may still exist",
                      "\n".join(problems(result)))

    def test_a_create_answered_503_is_counted_as_possibly_created_never_abandoned(self) -> None:
        events: list[str] = []

        with demo.running(fail_rate=1.0, fail_methods="POST", fail_after=True) as server, \
                ApiClient(server.url) as api:
            users = api.collection("users")

            def body(test: Any) -> None:
                ledger.current().observers.append(Recorder(events))
                with test.assertRaises(ApiError) as caught:
                    users.create(email="p@example.com", name="P")
                test.assertEqual(caught.exception.status, 503)
                with test.assertRaises(ApiError):
                    users.create(email="not an email", name="P")  # a 503 again: POSTs all fail here

            result, books = run_test(body)
            rows = server.counts()["users"]
        self.assertEqual(rows, 1, "the 503 came after the row was made")
        self.assertEqual(events[:4], ["intent", "create", "intent", "create"],
                         "neither intent is abandoned: a 5xx proves nothing")
        # The account cannot tell which of the two made a row, so it says both may exist.
        self.assertEqual(books.summary(), "created 2, deleted 0, leaked 2")
        self.assertIn("(answered 503): its id was never read, so it may still exist", "\n".join(problems(result)))

    def test_a_delete_refused_while_the_server_starts_is_retried_until_it_answers(self) -> None:
        with demo.running(fail_first_seconds=1.0, fail_methods="DELETE") as server, \
                ApiClient(server.url, retry_seconds=5) as api:
            users = api.collection("users")
            result, books = run_test(lambda test: users.create(email="s@example.com", name="S"))
            rows = server.counts()["users"]
        self.assertEqual(problems(result), [])
        self.assertEqual((rows, books.deleted, books.leaked), (0, 1, 0))

    def test_a_delete_that_failed_and_left_the_row_is_still_a_leak(self) -> None:
        with demo.running(fail_rate=1.0, fail_methods="DELETE") as server, \
                ApiClient(server.url, retry_seconds=0.2) as api:
            users = api.collection("users")
            _, books = run_test(lambda test: users.create(email="x@example.com", name="X"))
            rows = server.counts()["users"]
        self.assertEqual((rows, books.deleted, books.leaked), (1, 0, 1))
        self.assertIn("status 503", books.leaks[0].reason)
        self.assertNotIn(DeleteUnprovenError.__name__, books.leaks[0].reason)


class UntrackedDeleteTests(unittest.TestCase):
    def test_delete_of_a_row_made_elsewhere_reads_it_first_and_an_unprovable_404_is_not_a_deletion(self) -> None:
        with demo.running() as server, ApiClient(server.url) as api:
            row = api.post_json("/users", {"email": "e@example.com", "name": "E"})
            users = api.collection("users")
            self.assertIsNone(users.delete(row))
            self.assertEqual(server.counts()["users"], 0)
            with self.assertRaises(DeleteUnprovenError) as caught:
                api.collection("users").delete(row["id"])  # a fresh collection cannot tell gone from misaddressed
            self.assertFalse(caught.exception.still_there)

    def test_exists_answers_only_what_it_can_prove(self) -> None:
        with demo.running(addressing="query") as server, ApiClient(server.url) as api:
            users = api.collection("users", item="{path}?id=eq.{id}")
            row = users.post(email="x@example.com", name="X")
            self.assertIs(users.exists(row), True)
            users.delete(row)
            self.assertIs(users.exists(row), False)
            self.assertIsNone(api.collection("users", item="{path}?id=eq.{id}").exists(row), "not proven yet")


class VerifySettingTests(unittest.TestCase):
    def test_auto_defers_to_the_environment_then_the_config_and_explicit_modes_stay(self) -> None:
        with demo.running() as server, ApiClient(server.url, config=Config({"http-verify": "always"})) as api:
            with mock.patch.dict(os.environ, {"TESTDATA_HTTP_VERIFY": ""}):
                self.assertEqual(api.collection("users").verify, "always")
                self.assertEqual(api.collection("users", verify="never").verify, "never")
            with mock.patch.dict(os.environ, {"TESTDATA_HTTP_VERIFY": "never"}):
                self.assertEqual(api.collection("users").verify, "never")
            with mock.patch.dict(os.environ, {"TESTDATA_HTTP_VERIFY": "often"}), \
                    self.assertRaises(ValueError) as caught:
                api.collection("users")
        self.assertIn("$TESTDATA_HTTP_VERIFY = 'often' must be one of 'auto', 'always', 'never'", str(caught.exception))

    def test_always_checks_every_deletion(self) -> None:
        methods: list[str] = []

        def record(response: requests.Response, **kwargs: Any) -> None:
            methods.append(str(response.request.method))

        with demo.running() as server, ApiClient(server.url, hooks={"response": record}) as api:
            users = api.collection("users", verify="always")
            _, books = run_test(lambda test: [users.create(email=f"v{n}@example.com", name="V") for n in range(3)])
        self.assertEqual((books.deleted, books.leaked), (3, 0))
        self.assertEqual(methods.count("DELETE"), 3)
        self.assertEqual(methods.count("GET"), 1 + 3, "one GET proves the address, then one per deletion")

    def test_auto_checks_the_first_empty_204_only(self) -> None:
        methods: list[str] = []

        def record(response: requests.Response, **kwargs: Any) -> None:
            methods.append(str(response.request.method))

        with demo.running() as server, ApiClient(server.url, hooks={"response": record}) as api:
            users = api.collection("users")
            _, books = run_test(lambda test: [users.create(email=f"w{n}@example.com", name="W") for n in range(3)])
        self.assertEqual((books.deleted, books.leaked), (3, 0))
        self.assertEqual(methods.count("GET"), 1 + 1)


if __name__ == "__main__":
    unittest.main()
