"""Errors of the HTTP integration: failed calls, unreadable answers and failed deletions (and the host guard's)."""

from __future__ import annotations

import requests

from testdata_kit.errors import TestDataError
from testdata_kit.guard import HostNotAllowedError

__all__ = [
    "AddressError",
    "ApiError",
    "DeleteFailedError",
    "DeleteUnprovenError",
    "HostNotAllowedError",
    "HttpError",
    "MissingIdError",
    "ServerDownError",
    "UnknownIdError",
    "UnreadableCreateError",
]


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


def _fix(collection: str, template: str) -> str:
    return (
        f"If your API addresses items another way, tell the collection: api.collection({collection!r}, "
        f"item='{{path}}?id=eq.{{id}}') for a query filter, item='/users/{{user_id}}/orders/{{id}}' for a nested "
        f"resource, or item=lambda row: ... for anything else"
    )


class DeleteUnprovenError(DeleteFailedError):
    """A DELETE answered as if it worked (or 404), but the item is still there, or its absence cannot be proved."""

    #: Not retried by the retry passes: a wrong address template stays wrong.
    retry_later = False

    def __init__(self, address: str, status: int, collection: str, template: str, check: str,
                 still_there: bool, waited: float = 0.0) -> None:
        DeleteFailedError.__init__(self, "DELETE", address, status, check, "1 attempt, then checked")
        self.collection = collection
        self.template = template
        self.check = check
        self.still_there = still_there
        #: Seconds the item was re-checked for after an accepted DELETE (the collection's ``settle``).
        self.waited = waited
        if still_there and waited:
            verdict = (f"but {check}, still {waited:g} s later: the item is still there, so it is counted as "
                       f"leaked, not deleted")
            cause = (f"Either the server finishes deletions later than that: give collection {collection!r} a "
                     f"longer settle= (seconds); or the item address is wrong: the collection builds it from "
                     f"{template!r}. {_fix(collection, template)}.")
        elif still_there:
            verdict = f"but {check}: the item is still there, so it is counted as leaked, not deleted"
            cause = (f"The likely cause is the item address: collection {collection!r} builds it from "
                     f"{template!r}. {_fix(collection, template)}.")
        else:
            verdict = f"and {check}, so nothing proves the item is gone; it is counted as leaked"
            cause = (f"Check the item address {template!r} of collection {collection!r}. {_fix(collection, template)}; "
                     f"or, only if its status codes can be trusted, verify='never' (unsafe: a wrong address then "
                     f"counts as deleted).")
        HttpError.__init__(self, f"DELETE {address} answered {status}, {verdict}. {cause}")


class AddressError(HttpError, LookupError):
    """A created item is not found at the address its collection builds for it, so it could not be deleted."""

    def __init__(self, collection: str, template: str, address: str, check: str, tracked: bool = True) -> None:
        self.collection = collection
        self.template = template
        self.url = address
        self.check = check
        self.tracked = tracked
        fate = ("the item could not be deleted after the test (it is tracked, and reported if it stays)" if tracked
                else "nothing could delete the item there (post() does not track it: delete it yourself)")
        super().__init__(
            f"Collection {collection!r} created an item, but {check}: its items are not at {template!r}, so "
            f"{fate}. "
            f"{_fix(collection, template)}. Items that cannot be read back at all need verify='never' (unsafe)."
        )


class UnreadableCreateError(ApiError):
    """A create answered 2xx, so the item probably exists, but its answer gave no usable id; it is tracked as a leak."""

    def __init__(self, collection: str, address: str, status: int, excerpt: str, problem: str) -> None:
        super().__init__("POST", address, status, excerpt, problem)
        self.collection = collection
        HttpError.__init__(
            self,
            f"POST {address} answered {status}, so the server probably created the {collection!r} item, but "
            f"{problem}. Body: {excerpt}. Nothing here can delete it: it is counted as leaked with an unknown id, "
            f"and a journal keeps it for a sweep. Tell the collection where the id is: "
            f"api.collection({collection!r}, id='data.id') for a nested field, or make the server answer with "
            f"the item (PostgREST: headers={{'Prefer': 'return=representation'}}) or a Location header.",
        )


class UnknownIdError(DeleteFailedError):
    """The cleanup of a create whose answer gave no id: the item may exist, and nothing can find it to delete it."""

    #: Not retried by the retry passes: the id will not appear later.
    retry_later = False

    def __init__(self, collection: str, address: str, status: int | None) -> None:
        DeleteFailedError.__init__(self, "DELETE", address, None, "the id was never read", "0 attempts")
        self.collection = collection
        answered = "its answer was lost" if status is None else f"answered {status}"
        HttpError.__init__(
            self,
            f"Cannot delete the {collection!r} item created by POST {address} ({answered}): its id was "
            f"never read, so it may still exist. Find it by its marker (python -m testdata_kit sweep), and "
            f"configure the collection so the id can be read (see the error raised by the create).",
        )
