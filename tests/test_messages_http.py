"""The wording of the HTTP integration's errors: each names the value, what was expected, and the fix."""

from __future__ import annotations

import os
import subprocess
import sys
import unittest
from http import HTTPStatus
from unittest import mock

from testdata_kit import demo
from testdata_kit.http import (
    AddressError,
    ApiClient,
    ApiError,
    DeleteFailedError,
    DeleteUnprovenError,
    HostNotAllowedError,
    MissingIdError,
    ServerDownError,
    UnknownIdError,
    UnreadableCreateError,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class MessageTests(unittest.TestCase):
    def test_host_not_allowed(self) -> None:
        with mock.patch.dict(os.environ, {"TESTDATA_ALLOWED_HOSTS": ""}), \
                self.assertRaises(HostNotAllowedError) as caught:
            ApiClient("https://api.shop.example:8443/v1")
        self.assertEqual(
            str(caught.exception),
            "Refusing to send requests to 'api.shop.example' (https://api.shop.example:8443/v1): it is neither "
            "loopback nor an allowed host (no other host is allowed), and test data tools create and delete data "
            "wherever they point. If 'api.shop.example' holds only test data, add it to the TESTDATA_ALLOWED_HOSTS "
            "environment variable (comma-separated) or to allowed-hosts in the [testdata_kit] section of setup.cfg.",
        )

    def test_missing_id(self) -> None:
        error = MissingIdError("users", "id", ["email", "uuid"], "http://127.0.0.1:8000/users", 201)
        self.assertEqual(
            str(error),
            "POST http://127.0.0.1:8000/users answered 201 but the new id is missing: collection 'users' reads it "
            "from the field 'id', and there is no Location header either. Keys present: 'email', 'uuid'. Pass "
            "the right field: collection('users', id='...'); nested fields are written 'data.id'.",
        )

    def test_refused_create_shows_status_and_excerpt(self) -> None:
        with demo.running() as server, ApiClient(server.url) as api, self.assertRaises(ApiError) as caught:
            url = server.url
            api.collection("users").post(email="ann@example.com")
        self.assertEqual(
            str(caught.exception),
            # The reason phrase is the server's (Python 3.13 renamed 422 "Unprocessable Content").
            f"POST {url}/users answered 422 {HTTPStatus(422).phrase} to a create in 'users': status 422, "
            'body: {"error": "invalid body", "errors": {"name": "required field is missing"}}',
        )

    def test_server_down(self) -> None:
        error = ServerDownError("POST", "http://127.0.0.1:9/users", "Connection refused")
        self.assertEqual(
            str(error),
            "POST http://127.0.0.1:9/users failed: cannot reach the server (Connection refused). Is the API "
            "running at that address? Check the base URL, or start the demo API with: "
            "python -m testdata_kit serve-demo",
        )

    def test_delete_failed(self) -> None:
        error = DeleteFailedError("DELETE", "http://127.0.0.1:9/users/3", 503, '{"error": "busy"}', "9 attempts")
        self.assertEqual(
            str(error), 'DELETE http://127.0.0.1:9/users/3 failed (9 attempts): status 503, body: {"error": "busy"}'
        )

    def test_missing_requests_names_the_extra(self) -> None:
        code = (
            "import sys; sys.modules['requests'] = None\n"
            "try:\n    import testdata_kit.http\n"
            "except ImportError as error:\n    print(type(error).__name__, error)\n"
        )
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
        self.assertEqual(
            done.stdout.strip(),
            "MissingExtraError testdata_kit.http needs the 'requests' package, which is not installed. "
            "Install it with: pip install 'testdata_kit[http]'",
        )

    def test_secrets_never_reach_a_message(self) -> None:
        with demo.running() as server, ApiClient(server.url, headers={"X-Api-Key": "k-123456789"}) as api:
            with self.assertRaises(ApiError) as caught:
                api.get_json("/users?token=t-123456789")
            self.assertNotIn("123456789", str(caught.exception) + repr(api))
            self.assertIn("/users?token=***", str(caught.exception))


    _FIX = (
        "If your API addresses items another way, tell the collection: api.collection('users', "
        "item='{path}?id=eq.{id}') for a query filter, item='/users/{user_id}/orders/{id}' for a nested resource, "
        "or item=lambda row: ... for anything else"
    )

    def test_address_error_names_the_template_and_the_fix(self) -> None:
        with demo.running(addressing="query") as server, ApiClient(server.url) as api, \
                self.assertRaises(AddressError) as caught:
            url = server.url
            api.collection("users").post(email="a@example.com", name="A")
        self.assertEqual(
            str(caught.exception),
            f"Collection 'users' created an item, but GET {url}/users/1 answered 404: its items are not at "
            f"'{{path}}/{{id}}', so nothing could delete the item there (post() does not track it: delete it "
            f"yourself). {self._FIX}. Items that cannot be read back at all need verify='never' (unsafe).",
        )

    def test_delete_unproven_when_the_item_is_still_there_after_settling(self) -> None:
        error = DeleteUnprovenError("http://127.0.0.1:8000/terminals/7", 204, "terminals", "{path}/{id}",
                                    "GET http://127.0.0.1:8000/terminals/7 answered 200 with the item", True, 2.0)
        self.assertEqual(
            str(error),
            "DELETE http://127.0.0.1:8000/terminals/7 answered 204, but GET http://127.0.0.1:8000/terminals/7 "
            "answered 200 with the item, still 2 s later: the item is still there, so it is counted as leaked, not "
            "deleted. Either the server finishes deletions later than that: give collection 'terminals' a longer "
            "settle= (seconds); or the item address is wrong: the collection builds it from '{path}/{id}'. "
            f"{self._FIX.replace('users', 'terminals', 1)}.",
        )
        self.assertEqual(error.waited, 2.0)

    def test_delete_unproven_when_the_item_is_still_there(self) -> None:
        error = DeleteUnprovenError("http://127.0.0.1:8000/users?id=eq.7", 204, "users", "{path}?id=eq.{id}",
                                    "GET http://127.0.0.1:8000/users?id=eq.7 answered 200 with the item", True)
        self.assertEqual(
            str(error),
            "DELETE http://127.0.0.1:8000/users?id=eq.7 answered 204, but GET http://127.0.0.1:8000/users?id=eq.7 "
            "answered 200 with the item: the item is still there, so it is counted as leaked, not deleted. The "
            "likely cause is the item address: collection 'users' builds it from '{path}?id=eq.{id}'. "
            f"{self._FIX}.",
        )

    def test_delete_unproven_when_nothing_proves_it_gone(self) -> None:
        error = DeleteUnprovenError("http://127.0.0.1:8000/users/7", 404, "users", "{path}/{id}",
                                    "GET http://127.0.0.1:8000/users/7 answered 404", False)
        self.assertEqual(
            str(error),
            "DELETE http://127.0.0.1:8000/users/7 answered 404, and GET http://127.0.0.1:8000/users/7 answered 404, "
            "so nothing proves the item is gone; it is counted as leaked. Check the item address '{path}/{id}' of "
            f"collection 'users'. {self._FIX}; or, only if its status codes can be trusted, verify='never' (unsafe: "
            "a wrong address then counts as deleted).",
        )

    def test_unreadable_create_says_the_row_may_exist_and_how_to_configure(self) -> None:
        error = UnreadableCreateError("users", "http://127.0.0.1:8000/users", 201, "[]",
                                      "it answered with JSON that is not one object (a list of 0)")
        self.assertEqual(
            str(error),
            "POST http://127.0.0.1:8000/users answered 201, so the server probably created the 'users' item, but it "
            "answered with JSON that is not one object (a list of 0). Body: []. Nothing here can delete it: it is "
            "counted as leaked with an unknown id, and a journal keeps it for a sweep. Tell the collection where "
            "the id is: api.collection('users', id='data.id') for a nested field, or make the server answer with "
            "the item (PostgREST: headers={'Prefer': 'return=representation'}) or a Location header.",
        )

    def test_unknown_id_leak(self) -> None:
        self.assertEqual(
            str(UnknownIdError("users", "http://127.0.0.1:8000/users", 201)),
            "Cannot delete the 'users' item created by POST http://127.0.0.1:8000/users (answered 201): its id was "
            "never read, so it may still exist. Find it by its marker (python -m testdata_kit sweep), and "
            "configure the collection so the id can be read (see the error raised by the create).",
        )

    def test_unknown_verify_mode(self) -> None:
        with demo.running() as server, ApiClient(server.url) as api, self.assertRaises(ValueError) as caught:
            api.collection("users", verify="sometimes")
        self.assertEqual(str(caught.exception), "verify 'sometimes' must be one of 'auto', 'always', 'never'")

    def test_unfillable_placeholder_names_it_and_the_fix(self) -> None:
        with demo.running() as server, ApiClient(server.url) as api, self.assertRaises(KeyError) as caught:
            api.collection("orders", path="/users/{user_id}/orders").post(quantity=1)
        self.assertEqual(
            caught.exception.args[0],
            "the path of collection 'orders' '/users/{user_id}/orders' needs {user_id}, and none of the body sent "
            "or path_params has a field 'user_id'; pass it with create(..., path_params={'user_id': ...})",
        )


if __name__ == "__main__":
    unittest.main()
