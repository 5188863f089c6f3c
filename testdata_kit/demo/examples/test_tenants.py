"""Tenants: a reference tenant shared by the class, and a throwaway tenant per test that needs isolation."""

from __future__ import annotations

import unittest
from typing import Any

from testdata_kit import unique
from testdata_kit.demo.examples import shop
from testdata_kit.http import ApiClient, Collection


def setUpModule() -> None:
    shop.connect()
    unittest.addModuleCleanup(shop.disconnect)


class CatalogTests(shop.ShopTestCase):
    acme: ApiClient
    catalog: Collection
    lamp: dict[str, Any]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        # Reference data: created once for the class, read by every test, deleted after the last one.
        cls.acme = shop.api.tenant()
        cls.catalog = cls.acme.collection("products", kind="product")
        cls.lamp = cls.catalog.create(name="Lamp", price=19.99)

    def test_the_reference_product_is_in_its_tenant(self) -> None:
        self.assertEqual(self.catalog.get(self.lamp)["tenant_id"], self.acme.tenant_id)

    def test_another_tenant_cannot_see_it(self) -> None:
        other = shop.api.tenant(via="path")  # this test's own tenant, addressed as /tenants/{id}/...
        self.assertEqual(other.get(f"/products/{self.lamp['id']}").status_code, 404)

    def test_an_order_in_the_tenant_uses_its_catalog(self) -> None:
        buyer = self.acme.collection("users", kind="user").create(email=unique.email(), name="Buyer")
        orders = self.acme.collection("orders", kind="order")
        order = orders.create(user_id=buyer["id"], product_id=self.lamp["id"], quantity=2)
        self.assertEqual((order["tenant_id"], order["total"]), (self.acme.tenant_id, 39.98))
