"""conftest.py of the pytest how-to: the demo shop API for the session, and kinds of data as fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from testdata_kit import demo
from testdata_kit.demo.examples import shop
from testdata_kit.pytest_plugin import TestData, fixture_for


@pytest.fixture(scope="session", autouse=True)
def shop_api() -> Iterator[str]:
    """The demo shop on a free loopback port (each xdist worker starts its own)."""
    with demo.running() as server:
        os.environ[shop.URL_ENV] = server.url
        shop.connect()
        yield server.url
        shop.disconnect()


@pytest.fixture
def testdata() -> TestData:
    """The plugin's ``testdata`` fixture, looking kind names up in the shop's own registry."""
    return TestData(shop.kinds)


# A fresh user for each test that asks for ``buyer``, deleted after it.
buyer = fixture_for("user", name="buyer", registry=shop.kinds)
# One product per test module, deleted after the module's last test.
catalog_product = fixture_for("product", scope="module", name="catalog_product", registry=shop.kinds, price=25)
