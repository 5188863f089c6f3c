"""Tenant isolation: a fresh tenant per test (or per class) and a client scoped to it by header or path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from testdata_kit import _interrupts, _scopes, unique
from testdata_kit.errors import InvalidValueError, UsageError

if TYPE_CHECKING:
    from testdata_kit.http.aio import AsyncApiClient
    from testdata_kit.http.client import ApiClient

__all__ = ["VIAS", "atenant_client", "tenant_client"]

#: How a scoped client tells the API which tenant it acts for.
VIAS = ("header", "path")


def tenant_client(
    api: ApiClient,
    *,
    scope: str | None = None,
    owner: Any = None,
    via: str = "header",
    header: str = "X-Tenant-ID",
    path: str = "/tenants/{id}",
    collection: str = "tenants",
    kind: str = "tenant",
    fields: Mapping[str, Any] | None = None,
) -> ApiClient:
    """Create a tenant at the end of whose *scope* it is deleted, and return a new client scoped to it.

    The tenant is POSTed to *collection* like any tracked item, so it is deleted after everything created
    inside it in the same scope; the returned client is closed just before that. With ``scope="class"`` (or
    inside ``setUpClass``) one tenant serves every test of the class, which suits expensive reference data.

    :param api: the client the tenant is created with; the scoped client copies its settings and headers.
    :param scope: ``'test'``, ``'class'``, ``'module'`` or ``'run'``; default: the innermost one running.
    :param owner: the test or TestCase class owning the tenant, when not the one running now.
    :param via: ``"header"`` sends *header* with the tenant id; ``"path"`` puts *path* before every URL.
    :param header: the header naming the tenant, for ``via="header"``.
    :param path: the URL prefix of a tenant, with ``{id}``, for ``via="path"``.
    :param collection: where tenants are created.
    :param kind: the kind the tenants are counted as in the leak accounting, next to ``user``, ``order``...
    :param fields: the tenant's JSON body; default ``{"name": unique.tenant()}``.
    :returns: an :class:`~testdata_kit.http.ApiClient` whose ``tenant_id`` and ``tenant_item`` describe the tenant.
    """
    _check(via, path)
    scope, holder = _scopes.resolve(scope, owner, kind)
    tenants = api.collection(collection, kind=kind)
    # An interrupt waits until the scoped client's close is registered too, so that unwinding finds both.
    with _interrupts.held():
        item = tenants.create(
            dict(fields) if fields is not None else {"name": unique.tenant()}, scope=scope, owner=holder
        )
        ident = tenants.ident(item)
        if via == "header":
            client = api.derive(headers={header: str(ident)})
        else:
            client = api.derive(base_url=api.url_for(path.format(id=ident)))
        client.tenant_id = ident
        client.tenant_item = item
        _scopes.register(client.close, scope, holder, kind)
    return client


async def atenant_client(
    api: AsyncApiClient,
    *,
    scope: str | None = None,
    owner: Any = None,
    via: str = "header",
    header: str = "X-Tenant-ID",
    path: str = "/tenants/{id}",
    collection: str = "tenants",
    kind: str = "tenant",
    fields: Mapping[str, Any] | None = None,
) -> AsyncApiClient:
    """Same as :func:`tenant_client` for an :class:`~testdata_kit.http.aio.AsyncApiClient`, awaited; test scope only.

    The scoped client is closed (``aclose``) in the test's event loop just before the tenant is deleted.

    :raises UsageError: for a scope other than ``'test'``, or an owner that takes no async cleanups: an httpx
        client and its deletions belong to one test's event loop.
    """
    _check(via, path)
    scope, holder = _scopes.resolve(scope, owner, kind)
    if scope != "test":
        raise UsageError(
            f"An async tenant lives in one test's event loop, so scope={scope!r} cannot hold it: create it in the "
            f"async test (scope='test'), or use the requests client's ApiClient.tenant() for a {scope} tenant."
        )
    if not hasattr(holder, "addAsyncCleanup"):
        raise UsageError(
            f"An async tenant needs a test that awaits its cleanups, and {holder!r} does not: make the test an "
            f"AsyncDataTestCase (or a pytest-asyncio test), or use the requests client's ApiClient.tenant()."
        )
    tenants = api.collection(collection, kind=kind)
    with _interrupts.held():
        item = await tenants.create(
            dict(fields) if fields is not None else {"name": unique.tenant()}, scope=scope, owner=holder
        )
        ident = tenants.ident(item)
        if via == "header":
            client = api.derive(headers={header: str(ident)})
        else:
            client = api.derive(base_url=api.url_for(path.format(id=ident)))
        client.tenant_id = ident
        client.tenant_item = item
        holder.addAsyncCleanup(client.aclose)
    return client


def _check(via: str, path: str) -> None:
    if via not in VIAS:
        choices = ", ".join(map(repr, VIAS))
        raise InvalidValueError(f"via={via!r} is not a way to scope a client; choose one of: {choices}")
    if via == "path" and "{id}" not in path:
        raise InvalidValueError(f"path={path!r} must contain '{{id}}' where the tenant id goes, e.g. '/tenants/{{id}}'")
