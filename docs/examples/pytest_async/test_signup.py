"""Async tests under pytest-asyncio: fixtures and ``testdata`` create; everything is deleted after each test."""

from __future__ import annotations

from typing import Any

import pytest

from testdata_kit import unique
from testdata_kit.http.aio import AsyncApiClient
from testdata_kit.pytest_plugin import TestData


@pytest.mark.asyncio
async def test_a_buyer_from_a_fixture(buyer: dict[str, Any], api: AsyncApiClient) -> None:
    assert (await api.get_json(f"/users/{buyer['id']}"))["name"] == "Ann"


@pytest.mark.asyncio
async def test_create_in_the_test(testdata: TestData, api: AsyncApiClient) -> None:
    name = unique.name()
    bob = await testdata.create("user", name=name)  # an async kind: awaited
    lamp = await api.collection("products").create(name="Lamp", price=3)  # deleted in this test's loop
    assert bob["name"] == name and lamp["price"] == 3


@pytest.mark.asyncio
async def test_a_scenario(testdata: TestData) -> None:
    s = testdata.ascenario()
    for name in ("Cy", "Di"):
        branch = s.branch()
        await branch.user(name=name)  # the branches are deleted together after the test
        assert branch.user["name"] == name
