"""conftest.py of the async how-to: the demo API for the session, an async kind, and that kind as a fixture."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from testdata_kit import Registry, creates, demo, unique
from testdata_kit.http.aio import AsyncApiClient
from testdata_kit.pytest_plugin import TestData, fixture_for

kinds = Registry()  # the example keeps its kinds apart; a project declares them once, in its default registry


@pytest.fixture(scope="session", autouse=True)
def shop_url() -> Iterator[str]:
    """The demo shop on a free loopback port (each xdist worker starts its own)."""
    with demo.running() as server:
        os.environ["SHOP_URL"] = server.url
        yield server.url


@creates("user", registry=kinds)
async def user(name: str = "Ann") -> Any:
    # A client of its own: a fixture's event loop and a test's are not always the same one.
    async with AsyncApiClient(os.environ["SHOP_URL"]) as api:
        body = await api.post_json("/users", {"email": unique.email(), "name": name})
    yield body
    async with AsyncApiClient(os.environ["SHOP_URL"]) as api:
        (await api.delete(f"/users/{body['id']}")).raise_for_status()  # a refusal must raise


@pytest_asyncio.fixture
async def api(shop_url: str) -> AsyncIterator[AsyncApiClient]:
    """The test's client, in the test's event loop; closed after the test's data is deleted."""
    async with AsyncApiClient(shop_url) as client:
        yield client


@pytest.fixture
def testdata() -> TestData:
    """The plugin's ``testdata`` fixture, looking kind names up in this example's registry."""
    return TestData(kinds)


# The kind is async, so this is a pytest-asyncio fixture: a fresh user per test, deleted after it.
buyer = fixture_for("user", name="buyer", registry=kinds)
