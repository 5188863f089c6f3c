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
    ApiClient,
    ApiError,
    DeleteFailedError,
    HostNotAllowedError,
    MissingIdError,
    ServerDownError,
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


if __name__ == "__main__":
    unittest.main()
