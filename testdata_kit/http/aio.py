"""The async HTTP client: an ``httpx.AsyncClient`` with the requests client's base URL, retries, guard and redaction.

Install the ``async`` extra (httpx). Its collections (:class:`~testdata_kit.http.async_collection.AsyncCollection`)
make the same decisions as the sync ones, from the same code::

    from testdata_kit.aio import AsyncDataTestCase
    from testdata_kit.http.aio import AsyncApiClient

    class SignupTests(AsyncDataTestCase):
        async def asyncSetUp(self):
            self.api = AsyncApiClient("http://127.0.0.1:8000")
            self.addAsyncCleanup(self.api.aclose)  # first in, so closed last
            self.users = self.api.collection("users")

        async def test_signup(self):
            ann = await self.users.create(email=unique.email(), name="Ann")  # deleted after the test, verified
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

try:
    import httpx
except ImportError:
    from testdata_kit.errors import MissingExtraError

    raise MissingExtraError("httpx", "async", "testdata_kit.http.aio") from None
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, ProtocolError

from testdata_kit import _redact, guard
from testdata_kit import config as _config
from testdata_kit.errors import InvalidValueError
from testdata_kit.http._addressing import ItemTemplate, with_query
from testdata_kit.http._exchange import expect_json as _expect_json
from testdata_kit.http._retry import BoundedRetry, policy
from testdata_kit.http.async_collection import AsyncCollection, answer_of
from testdata_kit.http.errors import ServerDownError
from testdata_kit.http.tenants import atenant_client

__all__ = ["AsyncApiClient", "AsyncCollection", "answer_of"]

_DEFAULT_HEADERS = frozenset(httpx.Headers({"accept": "", "accept-encoding": "", "connection": "", "user-agent": ""}))
# httpx's errors, as urllib3's Retry classifies them: a connection that never opened (safe to retry for any
# method the policy allows), and one lost after the request was sent (retried for idempotent methods only).
_CONNECT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout)
_READ_ERRORS = (httpx.ReadError, httpx.ReadTimeout, httpx.WriteError, httpx.WriteTimeout, httpx.RemoteProtocolError)


class AsyncApiClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` bound to one API, which behaves as :class:`~testdata_kit.http.ApiClient` does.

    Same as ``httpx.AsyncClient``, except that:

    - a relative URL (``"/users"``) is joined to *base_url*, and every request gets *timeout* unless it gives one;
    - GET, PUT, DELETE, HEAD and OPTIONS are retried after a 5xx or a connection error, for at most
      *retry_seconds* from the first failure; POST and PATCH never are. The decisions (which failure, how long
      to wait, ``Retry-After``, the budget) are the sync client's: the same urllib3 ``Retry`` policy, asked
      at each failure, with ``asyncio.sleep`` between tries (httpx's own transport retries cover only connects);
    - a host that is neither loopback nor allowed is refused with
      :class:`~testdata_kit.http.HostNotAllowedError` before anything is sent;
    - a server that cannot be reached raises :class:`~testdata_kit.http.ServerDownError`, naming the URL;
    - its repr, its errors and what it records for crash recovery never show credentials.

    An httpx client belongs to the event loop it first ran in: make one per test, in ``asyncSetUp``, and close
    it (``self.addAsyncCleanup(self.api.aclose)``), or its sockets leak.

    :param base_url: scheme, host, port and optional path prefix, e.g. ``"http://127.0.0.1:8000/api"``.
    :param timeout: seconds (or a ``(connect, read)`` pair) for requests that do not pass ``timeout=``.
    :param headers: extra headers on every request, e.g. ``{"Authorization": "Bearer ..."}``.
    :param retries: most retries of one idempotent request.
    :param retry_seconds: time budget for those retries, counted from the first failure.
    :param backoff: urllib3 backoff factor: sleeps grow as ``backoff * 2 ** n`` seconds, at most 1 s.
    :param allowed_hosts: more hosts to allow besides loopback, the environment and the config.
    :param config: the ``[testdata_kit]`` config to read ``allowed-hosts`` from; default: ``setup.cfg``/``tox.ini``.
    :param options: passed to ``httpx.AsyncClient`` (``auth=``, ``event_hooks=``, ``limits=``...).
    :raises InvalidValueError: for a *base_url* that is not an absolute http(s) URL.
    :raises HostNotAllowedError: for a host that is neither loopback nor allowed.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float | tuple[float, float] = 10.0,
        headers: Mapping[str, str] | None = None,
        retries: int = 10,
        retry_seconds: float = 5.0,
        backoff: float = 0.05,
        allowed_hosts: Iterable[str] = (),
        config: _config.Config | None = None,
        **options: Any,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidValueError(
                f"base_url {base_url!r} must be an absolute http(s) URL with a host, e.g. 'http://127.0.0.1:8000'"
            )
        self._config = config if config is not None else _config.load()
        self._allowed = guard.allowed_hosts(self._config) | frozenset(allowed_hosts)
        self._hosts_passed: set[str] = set()  # decided once each, as the requests client does
        # Refused before httpx opens anything, so a refused client leaves nothing to close.
        self._check(base_url)
        if "verify" not in options and "cert" not in options:
            options["verify"] = _default_tls()
        limits = options.pop("limits", httpx.Limits(max_connections=100, max_keepalive_connections=32))
        # For derive(): what a new client needs to behave as this one (auth and event hooks are read back later).
        self._options = {key: value for key, value in options.items() if key not in ("auth", "event_hooks")}
        self._options["limits"] = limits
        spans = httpx.Timeout(timeout[1], connect=timeout[0]) if isinstance(timeout, tuple) else httpx.Timeout(timeout)
        super().__init__(timeout=spans, headers=headers, limits=limits, **options)
        self.base_url_text = base_url.rstrip("/")
        self.timeout_seconds = timeout
        self.retries = retries
        self.retry_seconds = retry_seconds
        self.backoff = backoff
        self._policy = policy(retries, retry_seconds, backoff)
        #: Set on a client made by :meth:`tenant`: the tenant's id and its created item.
        self.tenant_id: Any = None
        self.tenant_item: dict[str, Any] | None = None

    def __repr__(self) -> str:
        extra = {k: v for k, v in _redact.headers(dict(self.headers)).items() if k.lower() not in _DEFAULT_HEADERS}
        shown = f" headers={extra}" if extra else ""
        return f"<AsyncApiClient {_redact.url(self.base_url_text)!r}{shown}>"

    def url_for(self, path: str) -> str:
        """Return the absolute URL of *path*, as :meth:`ApiClient.url_for <testdata_kit.http.ApiClient.url_for>`."""
        if urlsplit(path).scheme:
            return path
        return urljoin(self.base_url_text + "/", path.lstrip("/"))

    def check_host(self, address: str) -> None:
        """Raise :class:`~testdata_kit.http.HostNotAllowedError` unless *address*'s host is loopback or allowed."""
        self._check(address)

    def _check(self, address: str) -> None:
        guard.check_address(address, self._allowed, self._hosts_passed, action="send requests to",
                            where=self._config.path)

    async def request(self, method: str, url: httpx.URL | str, **kwargs: Any) -> httpx.Response:
        """Send a request like ``httpx.AsyncClient.request``, retried as the class says; *url* may be relative.

        :raises ServerDownError: when the server could not be reached, after the retries the method allows.
        :raises HostNotAllowedError: before anything is sent to a host that is not allowed.
        """
        name = method.upper()
        address = self.url_for(str(url))
        params = kwargs.pop("params", None)
        if params:
            # Added to the address's own query, as requests does: httpx would replace a query such as
            # ``/users?id=eq.7`` with the params, even with empty ones.
            address = with_query(address, params)
        self._check(address)
        retry: BoundedRetry = self._policy
        while True:
            try:
                response = await super().request(name, address, **kwargs)
            except (*_CONNECT_ERRORS, *_READ_ERRORS) as error:
                # Ask urllib3's policy, as the sync client's adapter does; it raises when the tries are over.
                seen: Exception = (ConnectTimeoutError(str(error)) if isinstance(error, _CONNECT_ERRORS)
                                   else ProtocolError(str(error)))
                try:
                    retry = retry.increment(name, address, error=seen)
                except MaxRetryError:
                    raise ServerDownError(name, _redact.url(address), _reason(error)) from error
                except ProtocolError:  # a method that may not be sent twice: the answer was lost
                    raise error from None
                await asyncio.sleep(retry.get_backoff_time())
                continue
            if not retry.is_retry(name, response.status_code, "Retry-After" in response.headers):
                break
            try:
                retry = retry.increment(name, address, response=_Status(response))
            except MaxRetryError:
                break
            await response.aclose()
            after = retry.get_retry_after(_Status(response))
            await asyncio.sleep(after if after else retry.get_backoff_time())
        response.extensions["testdata_attempts"] = len(retry.history) + 1
        return response

    async def get_json(self, path: str, **kwargs: Any) -> Any:
        """GET *path* and return its JSON body; a non-2xx or non-JSON answer raises :class:`ApiError`."""
        return _expect_json(answer_of(await self.get(path, **kwargs)))

    async def post_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        """POST *body* as JSON to *path* and return the JSON answer (see :meth:`get_json`)."""
        return _expect_json(answer_of(await self.post(path, json=body, **kwargs)))

    async def patch_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        """PATCH *path* with *body* as JSON and return the JSON answer (see :meth:`get_json`)."""
        return _expect_json(answer_of(await self.patch(path, json=body, **kwargs)))

    async def tenant(self, **options: Any) -> AsyncApiClient:
        """Create a tenant for the running async test and return a client scoped to it; awaited.

        Same as :meth:`ApiClient.tenant <testdata_kit.http.ApiClient.tenant>` (see
        :func:`testdata_kit.http.tenant_client` for *options*), except that the tenant's creation and deletion
        are awaited, and the scoped client is an :class:`AsyncApiClient`, closed with ``aclose`` just before
        the tenant is deleted. Test scope only: the tenant and its client live in the test's event loop.

        :raises UsageError: for a scope other than a test's, or outside an async test.
        """
        return await atenant_client(self, **options)

    def derive(self, *, base_url: str | None = None, headers: Mapping[str, str] | None = None) -> AsyncApiClient:
        """Return a new client with this one's settings, headers, auth and event hooks, plus the changes given.

        Same as :meth:`ApiClient.derive <testdata_kit.http.ApiClient.derive>`. The new client has a connection
        pool of its own: close it too (``self.addAsyncCleanup(child.aclose)``).

        :param base_url: replaces the base URL (the host guard applies to it too).
        :param headers: added to (or replacing) this client's headers.
        :raises HostNotAllowedError: for a *base_url* whose host is neither loopback nor allowed.
        """
        own = {k: v for k, v in self.headers.items() if k.lower() not in _DEFAULT_HEADERS}
        return AsyncApiClient(
            base_url or self.base_url_text, timeout=self.timeout_seconds, headers={**own, **(headers or {})},
            retries=self.retries, retry_seconds=self.retry_seconds, backoff=self.backoff,
            allowed_hosts=self._allowed, config=self._config, auth=self.auth,
            event_hooks={event: list(hooks) for event, hooks in self.event_hooks.items()}, **self._options,
        )

    def collection(self, name: str, *, path: str | None = None, id: str = "id", kind: str | None = None,
                   item: ItemTemplate | None = None, headers: Mapping[str, str] | None = None,
                   params: Mapping[str, Any] | None = None, verify: str = "auto",
                   delete_at: ItemTemplate | None = None, delete_method: str = "DELETE") -> AsyncCollection:
        """Declare a collection whose awaited ``create`` POSTs and tracks a verified DELETE for the new item.

        The parameters are :meth:`ApiClient.collection <testdata_kit.http.ApiClient.collection>`'s.
        """
        client: Any = self  # Collection's type hint names the sync client; AsyncCollection reads the same fields
        return AsyncCollection(client, name, path=path, id_field=id, kind=kind, item=item, headers=headers,
                               params=params, verify=verify, delete_at=delete_at, delete_method=delete_method)


@functools.lru_cache(maxsize=1)
def _default_tls() -> ssl.SSLContext:
    # Loading the CA bundle takes about 0.1 s, which every test's new client would pay (and asyncio's debug
    # mode, on in IsolatedAsyncioTestCase, reports as a slow callback); one context serves every client.
    return httpx.create_ssl_context()


class _Status:
    """The face of an httpx response that urllib3's ``Retry`` reads: status, headers, no redirect."""

    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        self.headers = response.headers

    def get_redirect_location(self) -> bool:
        return False


def _reason(error: BaseException) -> str:
    return str(error) or type(error).__name__
