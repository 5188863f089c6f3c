"""The HTTP client: a ``requests.Session`` with a base URL, a default timeout, retries, redaction and a host guard."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from testdata_kit import _details, _redact, guard
from testdata_kit import config as _config
from testdata_kit.errors import InvalidValueError
from testdata_kit.http import _exchange
from testdata_kit.http._retry import policy
from testdata_kit.http._verify import SETTLE_SECONDS
from testdata_kit.http.collection import Collection, answer_of
from testdata_kit.http.errors import HostNotAllowedError, ServerDownError
from testdata_kit.http.tenants import tenant_client

if TYPE_CHECKING:
    from testdata_kit.http._addressing import ItemTemplate

__all__ = ["ApiClient", "describe", "exchange_text", "expect_json", "log_to"]

_DEFAULT_HEADERS = frozenset(requests.utils.default_headers())
_OBJECT_PREFIX = re.compile(r"^(<[^>]*>|\w+\([^)]*\)):\s*")
Hook = Callable[..., Any]


class ApiClient(requests.Session):
    """A ``requests.Session`` bound to one API: relative URLs, a default timeout, retried cleanup calls.

    Same as ``requests.Session``, except that:

    - a relative URL (``"/users"``) is joined to *base_url*, and every request gets *timeout* unless it gives one;
    - GET, PUT, DELETE, HEAD and OPTIONS are retried after a 5xx or a connection error, with urllib3's ``Retry``
      and exponential backoff, for at most *retry_seconds* from the first failure; POST and PATCH never are;
    - a host that is neither loopback nor allowed (``TESTDATA_ALLOWED_HOSTS`` or ``allowed-hosts`` in the
      config) is refused with :class:`~testdata_kit.http.HostNotAllowedError` before anything is sent;
    - a server that cannot be reached raises :class:`~testdata_kit.http.ServerDownError`, naming the URL;
    - its repr, its errors and what it records for crash recovery never show credentials.

    It is a session: close it (``with ApiClient(...) as api``, or ``addCleanup(api.close)``), or its sockets leak.

    :param base_url: scheme, host, port and optional path prefix, e.g. ``"http://127.0.0.1:8000/api"``.
    :param timeout: seconds (or a ``(connect, read)`` pair) for requests that do not pass ``timeout=``.
    :param headers: extra headers on every request, e.g. ``{"Authorization": "Bearer ..."}``.
    :param hooks: requests-style hooks, ``{"response": [callable, ...]}``; each gets the response.
    :param retries: most retries of one idempotent request.
    :param retry_seconds: time budget for those retries, counted from the first failure.
    :param backoff: urllib3 backoff factor: sleeps grow as ``backoff * 2 ** n`` seconds, at most 1 s.
    :param allowed_hosts: more hosts to allow besides loopback, the environment and the config.
    :param config: the ``[testdata_kit]`` config to read ``allowed-hosts`` from; default: ``setup.cfg``/``tox.ini``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float | tuple[float, float] = 10.0,
        headers: Mapping[str, str] | None = None,
        hooks: Mapping[str, Hook | Iterable[Hook]] | None = None,
        retries: int = 10,
        retry_seconds: float = 5.0,
        backoff: float = 0.05,
        allowed_hosts: Iterable[str] = (),
        config: _config.Config | None = None,
    ) -> None:
        super().__init__()
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.close()
            raise InvalidValueError(
                f"base_url {base_url!r} must be an absolute http(s) URL with a host, e.g. 'http://127.0.0.1:8000'"
            )
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.retry_seconds = retry_seconds
        self.backoff = backoff
        #: Set on clients made by :meth:`tenant`: the tenant's id and its created item.
        self.tenant_id: Any = None
        self.tenant_item: dict[str, Any] | None = None
        #: Set by :meth:`from_openapi`: the kinds of its document, a :class:`~testdata_kit.openapi.OpenApiKinds`.
        self.openapi: Any = None
        self._config = config if config is not None else _config.load()
        self._extra_hosts = frozenset(allowed_hosts)
        self._allowed = guard.allowed_hosts(self._config) | self._extra_hosts
        self._hosts_passed: set[str] = set()  # decided once each: a sweep sends every request to the same host
        try:
            self.check_host(self.base_url)
        except HostNotAllowedError:
            self.close()
            raise
        retry = policy(retries, retry_seconds, backoff)
        # Concurrent teardown runs many deletions at once; a pool of 10 would drop and reopen connections.
        adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=32)
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self.headers.update(headers or {})
        for event, functions in (hooks or {}).items():
            self.hooks.setdefault(event, [])
            self.hooks[event].extend([functions] if callable(functions) else list(functions))

    def __repr__(self) -> str:
        extra = {k: v for k, v in _redact.headers(self.headers).items() if k not in _DEFAULT_HEADERS}
        shown = f" headers={extra}" if extra else ""
        return f"<ApiClient {_redact.url(self.base_url)!r}{shown}>"

    def url_for(self, path: str) -> str:
        """Return the absolute URL of *path*: relative paths join the base URL, absolute URLs stay as they are.

        :param path: ``"/users/3"`` or ``"users/3"`` (both under the base URL's path), or a full URL.
        """
        if urlsplit(path).scheme:
            return path
        return urljoin(self.base_url + "/", path.lstrip("/"))

    def check_host(self, address: str) -> None:
        """Raise :class:`HostNotAllowedError` unless *address*'s host is loopback or allowed.

        The decision is :func:`testdata_kit.guard.check_host`'s, the same for the sweeper and ``reset``.
        """
        guard.check_address(address, self._allowed, self._hosts_passed, action="send requests to",
                            where=self._config.path)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """Send a request like ``requests.Session.request``; *url* may be relative to the base URL."""
        name = method.decode() if isinstance(method, bytes) else method
        address = self.url_for(url.decode() if isinstance(url, bytes) else url)
        self.check_host(address)
        if "timeout" not in kwargs and len(args) < 7:  # timeout is the 7th parameter after the URL
            kwargs["timeout"] = self.timeout
        try:
            response = super().request(name, address, *args, **kwargs)
        except requests.ConnectionError as error:
            if isinstance(error, ServerDownError):
                raise
            raise ServerDownError(name.upper(), _redact.url(address), _reason(error)) from error
        # Kept, not formatted: only a failing test's report shows it, masked (see exchange_text).
        _details.note_exchange(response)
        return response

    def get_json(self, path: str, **kwargs: Any) -> Any:
        """GET *path* and return its JSON body; a non-2xx or non-JSON answer raises :class:`ApiError`."""
        return expect_json(self.get(path, **kwargs))

    def post_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        """POST *body* as JSON to *path* and return the JSON answer (see :meth:`get_json`)."""
        return expect_json(self.post(path, json=body, **kwargs))

    def patch_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        """PATCH *path* with *body* as JSON and return the JSON answer (see :meth:`get_json`)."""
        return expect_json(self.patch(path, json=body, **kwargs))

    def collection(self, name: str, *, path: str | None = None, id: str = "id", kind: str | None = None,
                   item: ItemTemplate | None = None, headers: Mapping[str, str] | None = None,
                   params: Mapping[str, Any] | None = None, verify: str = "auto",
                   delete_at: ItemTemplate | None = None, delete_method: str = "DELETE",
                   settle: float = SETTLE_SECONDS) -> Collection:
        """Declare a collection whose :meth:`~Collection.create` POSTs and tracks a verified DELETE for the new item.

        :param name: the collection's name, used in messages and as the default *path* (``/name``) and *kind*.
        :param path: where to POST, relative to the base URL; may hold placeholders, ``"/users/{user_id}/orders"``.
        :param id: the field of the created item that holds its id; ``"data.id"`` reads a nested field.
        :param kind: the kind recorded in the leak accounting (default: *name*).
        :param item: the item's address: a template such as ``"{path}/{id}"`` (the default),
            ``"{path}?id=eq.{id}"`` (a query filter) or ``"/users/{user_id}/orders/{id}"``, whose placeholders
            are filled from the created item, then the body sent, then ``create(..., path_params=...)``; or a
            callable ``item(created_item) -> str`` returning a relative or absolute URL.
        :param headers: sent with every request of this collection; ``create``/``get``/``delete`` add their own.
        :param params: query parameters of every request of this collection; the methods add their own.
        :param verify: ``"auto"`` (check the answers that are not proof), ``"always"`` (check every deletion) or
            ``"never"`` (trust status codes: unsafe). ``"auto"`` defers to ``$TESTDATA_HTTP_VERIFY`` or the
            ``http-verify`` config key when set. See :class:`Collection`.
        :param delete_at: where the deletion is sent, when not at the item's address: a template or callable
            like *item*, e.g. ``"/db/users/{id}/-/delete"`` for Datasette's write API.
        :param delete_method: the deletion's HTTP method (``"POST"`` for Datasette); default ``"DELETE"``.
        :param settle: seconds a deletion the server accepted (2xx) may take to finish: while a check still
            finds the item, it is read again with a doubling backoff from 50 ms, up to this long, before the item
            counts as leaked (default 2; 0 re-checks nothing). A refused deletion (4xx) is not re-checked.
        :raises ValueError: for a *verify* outside those three, or a negative *settle*.
        """
        return Collection(self, name, path=path, id_field=id, kind=kind, item=item, headers=headers,
                          params=params, verify=verify, delete_at=delete_at, delete_method=delete_method,
                          settle=settle)

    @classmethod
    def from_openapi(cls, document: Any, base_url: str | None = None, **options: Any) -> ApiClient:
        """Return a client for the API *document* describes, with a kind registered for each of its collections.

        Same as :func:`testdata_kit.openapi.bind` on a new client (see there for the kinds and the options
        ``registry``, ``delete``, ``ids``, ``replace``, ``verify``, ``settle``, ``all_fields`` and ``validate``);
        other *options* go to the client. The kinds are at ``api.openapi``. Needs the ``openapi`` extra.

        :param document: a path, an ``http(s)://`` URL (fetched through the host guard) or a loaded mapping;
            JSON or YAML, OpenAPI 3.0, 3.1 or Swagger 2.0.
        :param base_url: where the API runs; default: the document's server (relative to its URL).
        :raises testdata_kit.openapi.DocumentError: for a document that cannot be read, or names no server
            and no *base_url* was given.
        """
        from testdata_kit.openapi.binding import client_from_openapi

        return client_from_openapi(cls, document, base_url, **options)

    def tenant(self, **options: Any) -> ApiClient:
        """Create a tenant for the running test (or class) and return a client scoped to it.

        Same as :func:`testdata_kit.http.tenant_client` with this client; see there for *options*.
        """
        return tenant_client(self, **options)

    def derive(self, *, base_url: str | None = None, headers: Mapping[str, str] | None = None) -> ApiClient:
        """Return a new client with this one's settings, headers and hooks, plus the changes given.

        :param base_url: replaces the base URL (the host guard applies to it too).
        :param headers: added to (or replacing) this client's headers.
        """
        own = {k: str(v) for k, v in self.headers.items() if k not in _DEFAULT_HEADERS}
        child = ApiClient(
            base_url or self.base_url, timeout=self.timeout, headers={**own, **(headers or {})},
            retries=self.retries, retry_seconds=self.retry_seconds, backoff=self.backoff,
            allowed_hosts=self._allowed | self._extra_hosts, config=self._config,
        )
        child.auth = self.auth
        child.hooks = {event: list(functions) for event, functions in self.hooks.items()}
        return child


def expect_json(response: requests.Response) -> Any:
    """Return the JSON body of a 2xx *response*, or raise :class:`ApiError` with its status and an excerpt."""
    return _exchange.expect_json(answer_of(response))


def describe(response: requests.Response) -> str:
    """Return one redacted line for *response*: ``POST http://127.0.0.1:8000/users -> 201 Created (3 ms)``."""
    elapsed = response.elapsed.total_seconds() * 1000
    method = response.request.method or "?"
    return f"{method} {_redact.url(response.url)} -> {response.status_code} {response.reason} ({elapsed:.0f} ms)"


def exchange_text(response: requests.Response) -> str:
    """Return *response* and its request for a failure report, secrets masked: the line of :func:`describe`,
    then the request's and the response's bodies (shortened; credential fields and tokens replaced by ``***``).
    """
    request = response.request
    sent = request.body if isinstance(request.body, (bytes, str)) else None
    lines = [describe(response)]
    if sent:
        lines.append(f"request body: {_redact.body_excerpt(sent)}")
    lines.append(f"response body: {_redact.body_excerpt(response.content)}")
    return "\n".join(lines)


def log_to(stream: TextIO | None = None) -> Hook:
    """Return a response hook that prints :func:`describe` lines, e.g. ``ApiClient(url, hooks={"response":
    log_to()})``.

    :param stream: where to write; default: standard error at the time of each call.
    """

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        print(describe(response), file=stream or sys.stderr, flush=True)

    return hook


def _reason(error: BaseException) -> str:
    # requests wraps urllib3's MaxRetryError, which wraps the socket error; the innermost is the readable one.
    inner: Any = error.args[0] if error.args else error
    inner = getattr(inner, "reason", inner)
    return _OBJECT_PREFIX.sub("", str(inner)) or type(inner).__name__
