"""The requests integration: :class:`ApiClient`, declared collections, tenant isolation and the host guard.

This package is the only part of testdata_kit that imports ``requests`` (install the ``http`` extra)::

    from testdata_kit.http import ApiClient

    api = ApiClient("http://127.0.0.1:8000")
    users = api.collection("users", path="/users", id="id")

    class SignupTests(DataTestCase):
        def test_signup(self):
            user = users.create(email=unique.email(), name="Ann")  # DELETE /users/{id} after the test
"""

from __future__ import annotations

try:
    import requests  # noqa: F401
except ImportError:
    from testdata_kit.errors import MissingExtraError

    raise MissingExtraError("requests", "http", "testdata_kit.http") from None

from testdata_kit.http.client import ApiClient, describe, expect_json, log_to
from testdata_kit.http.collection import GONE_STATUSES, VERIFY_MODES, Collection
from testdata_kit.http.errors import (
    AddressError,
    ApiError,
    DeleteFailedError,
    DeleteUnprovenError,
    HostNotAllowedError,
    HttpError,
    MissingIdError,
    ServerDownError,
    UnknownIdError,
    UnreadableCreateError,
)
from testdata_kit.http.tenants import tenant_client

__all__ = [
    "GONE_STATUSES",
    "VERIFY_MODES",
    "AddressError",
    "ApiClient",
    "ApiError",
    "Collection",
    "DeleteFailedError",
    "DeleteUnprovenError",
    "HostNotAllowedError",
    "HttpError",
    "MissingIdError",
    "ServerDownError",
    "UnknownIdError",
    "UnreadableCreateError",
    "describe",
    "expect_json",
    "log_to",
    "tenant_client",
]
