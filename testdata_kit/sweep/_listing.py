"""Reading a configured collection page by page, and the HTTP client and collections the sweep deletes through.

Deletion is the HTTP integration's: each configured collection becomes a
:class:`testdata_kit.http.Collection`, so that a sweep addresses rows and proves their deletion exactly as
a test's cleanup does. Only the listing, which tests never need, is here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from testdata_kit import _redact
from testdata_kit.errors import MissingExtraError, TestDataError
from testdata_kit.sweep._settings import CollectionSettings, SweepConfig, auth_headers

if TYPE_CHECKING:
    from testdata_kit.http import ApiClient, Collection

__all__ = ["ListingError", "client", "collection", "pages"]

_MAX_PAGES = 1_000_000
#: Seconds a sweep waits for one answer, and retries a listing or deletion that met a 5xx or no connection.
TIMEOUT = 15.0
RETRY_SECONDS = 2.0


class ListingError(TestDataError, RuntimeError):
    """A listing the API could not serve: no connection, no answer in time, an error status or no JSON."""

    def __init__(self, message: str, url: str) -> None:
        self.url = url
        super().__init__(message)


def client(settings: SweepConfig, url: str) -> ApiClient:
    """Return the HTTP client of a sweep against *url*: the token's ``Authorization``, the sweep's allowed hosts.

    :raises MissingExtraError: when requests (the ``http`` extra) is not installed.
    """
    try:
        from testdata_kit.http import ApiClient
    except ImportError:
        raise MissingExtraError("requests", "http", "python -m testdata_kit sweep") from None
    return ApiClient(url, timeout=TIMEOUT, headers=auth_headers(settings), retry_seconds=RETRY_SECONDS,
                     allowed_hosts=settings.allowed_hosts, config=settings.loaded)


def collection(api: ApiClient, settings: CollectionSettings) -> Collection:
    """Return the HTTP collection that deletes the rows of the configured collection *settings*."""
    return api.collection(settings.name, path=settings.path, id=settings.id_field, item=settings.item,
                          verify=settings.verify, delete_at=settings.delete_at, delete_method=settings.delete_method)


def pages(api: ApiClient, settings: CollectionSettings, prefix: str,
          progress: Callable[[str], None]) -> Iterator[list[dict[str, Any]]]:
    """Yield the rows of one collection a page at a time, following ``next`` links; never holds two pages.

    A body that is a list is one page, followed by the ``Link: <...>; rel="next"`` header when there is one
    (RFC 8288, as GitHub and Datasette send it); an object gives its rows in ``items-field`` (default ``items``)
    and the next page's address in ``next-field`` (default ``next``). With ``prefix-param`` the server filters
    by the marker prefix.

    :raises ListingError: naming the URL, when a page cannot be had.
    """
    params: dict[str, str] = {}
    for pair in settings.list_query.split("&"):
        if pair.strip():
            key, _, value = pair.partition("=")
            params[key.strip()] = value.strip()
    if settings.prefix_param:
        params[settings.prefix_param] = prefix
    url: str | None = api.url_for(settings.path)
    previous: str | None = None
    listed = 0
    for number in range(_MAX_PAGES):
        if url is None or url == previous:
            return
        body, linked = _get_json(api, url, params if number == 0 else None)
        items: Any
        if isinstance(body, list):
            items, following = body, linked
        elif isinstance(body, dict):
            items, following = body.get(settings.items_field), body.get(settings.next_field) or linked
        else:
            items, following = None, None
        if not isinstance(items, list):
            # Taking such an answer for an empty page would report a clean environment that was never looked at.
            fields = f" (its fields: {', '.join(map(str, list(body)[:8]))})" if isinstance(body, dict) else ""
            raise ListingError(f"GET {_path(url)} answered {type(body).__name__}{fields} without a list of rows in "
                               f"{settings.items_field!r}; set items-field in [testdata_kit:collections."
                               f"{settings.name}] to the field that holds them", _shown(url))
        if not isinstance(following, str):
            following = None
        listed += len(items)
        previous, url = url, (api.url_for(following) if following else None)
        total = body.get("total") if isinstance(body, dict) else None
        if url is not None:
            progress(f"listing {settings.name}: {listed}" + (f"/{total}" if total else "") + " rows")
        yield [item for item in items if isinstance(item, dict)]


def _get_json(api: ApiClient, url: str, params: dict[str, str] | None) -> tuple[Any, str | None]:
    # The body, and the address in a Link rel="next" header (requests parses those).
    import requests

    try:
        response = api.get(url, params=params)
    except requests.RequestException as error:
        shown = _shown(url)
        reason = f"no answer within {api.timeout:g} s" if _timed_out(error) else _reason(error)
        raise ListingError(
            f"cannot reach the API: GET {shown} failed: {reason}. Check that the server is running and "
            f"reachable from here, and that --url (or sweep-url) is right.", shown) from None
    with response:
        if response.status_code != 200:
            raise ListingError(f"GET {_path(response.url)} answered {response.status_code}: {_error(response)}",
                               _shown(url))
        try:
            return response.json(), response.links.get("next", {}).get("url")
        except ValueError:
            raise ListingError(f"GET {_path(response.url)} answered 200 without a JSON body: "
                               f"{response.text[:120]!r}; is --url (or sweep-url) the API's base URL?",
                               _shown(url)) from None


def _path(url: str) -> str:
    parts = urlsplit(_redact.url(url))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _shown(url: str) -> str:
    # Without user:password and query: either may hold a credential, and the host is what the reader must check.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def _chain(error: BaseException) -> Iterator[BaseException]:
    # requests wraps urllib3, which wraps the socket error, through args, .reason and __cause__.
    seen: BaseException | None = error
    for _ in range(20):
        if seen is None:
            return
        yield seen
        inner = getattr(seen, "reason", None)
        if not isinstance(inner, BaseException) and seen.args and isinstance(seen.args[0], BaseException):
            inner = seen.args[0]
        seen = inner if isinstance(inner, BaseException) else (seen.__cause__ or seen.__context__)


def _timed_out(error: BaseException) -> bool:
    return any("Timeout" in type(seen).__name__ or isinstance(seen, TimeoutError) for seen in _chain(error))


def _reason(error: BaseException) -> str:
    # The innermost OSError says what went wrong in plain words.
    for seen in _chain(error):
        if isinstance(seen, OSError) and seen.strerror:
            return str(seen.strerror)
    return type(error).__name__


def _error(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return str(response.text[:120])
    return str(body.get("error", body))[:200] if isinstance(body, dict) else str(body)[:200]
