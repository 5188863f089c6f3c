"""Errors of the HTTP integration: failed calls, unreadable answers and failed deletions (and the host guard's)."""

from __future__ import annotations

import requests

from testdata_kit.errors import TestDataError
from testdata_kit.guard import HostNotAllowedError

__all__ = ["ApiError", "DeleteFailedError", "HostNotAllowedError", "HttpError", "MissingIdError", "ServerDownError"]


class HttpError(TestDataError):
    """Root of the errors of HTTP calls; a refused host raises the shared :class:`HostNotAllowedError` instead."""


class ServerDownError(HttpError, requests.ConnectionError):
    """The API could not be reached at all (connection refused, reset, or connecting timed out)."""

    def __init__(self, method: str, address: str, reason: str) -> None:
        self.method = method
        self.url = address
        self.reason = reason
        super().__init__(
            f"{method} {address} failed: cannot reach the server ({reason}). Is the API running at that "
            f"address? Check the base URL, or start the demo API with: python -m testdata_kit serve-demo"
        )


class ApiError(HttpError):
    """An answer that cannot be used: a non-2xx status, or a body that is not the JSON expected."""

    def __init__(self, method: str, address: str, status: int, excerpt: str, problem: str) -> None:
        self.method = method
        self.url = address
        self.status = status
        self.excerpt = excerpt
        self.problem = problem
        super().__init__(f"{method} {address} {problem}: status {status}, body: {excerpt}")


class MissingIdError(HttpError, LookupError):
    """A create answered 2xx, but neither its body nor its ``Location`` header holds the new id."""

    def __init__(self, collection: str, field: str, present: list[str], address: str, status: int) -> None:
        self.collection = collection
        self.field = field
        self.present = present
        self.url = address
        self.status = status
        keys = ", ".join(repr(key) for key in present) if present else "none (the body is empty or not an object)"
        super().__init__(
            f"POST {address} answered {status} but the new id is missing: collection {collection!r} reads it "
            f"from the field {field!r}, and there is no Location header either. Keys present: {keys}. Pass the "
            f"right field: collection({collection!r}, id='...'); nested fields are written 'data.id'."
        )


class DeleteFailedError(HttpError):
    """A DELETE that still failed after its retries; the resource is reported as leaked."""

    def __init__(self, method: str, address: str, status: int | None, detail: str, attempts: str) -> None:
        self.method = method
        self.url = address
        self.status = status
        self.detail = detail
        self.attempts = attempts
        answer = f"status {status}, body: {detail}" if status is not None else detail
        super().__init__(f"{method} {address} failed ({attempts}): {answer}")
