"""Orders: whole chains built with a scenario, deleted children first after each test."""

from __future__ import annotations

import unittest

from testdata_kit.demo.examples import shop


def setUpModule() -> None:
    shop.connect()
    unittest.addModuleCleanup(shop.disconnect)


class OrderTests(shop.ShopTestCase):
    def test_the_total_applies_the_discount(self) -> None:
        s = self.scenario().user().product(price=10).discount(percent=20).order()
        self.assertEqual(s.order["total"], 8)

    def test_the_total_multiplies_by_the_quantity(self) -> None:
        s = self.scenario().order(quantity=3)  # the user and the product are created on demand
        self.assertEqual(s.order["total"], s.product["price"] * 3)

    def test_a_user_with_orders_cannot_be_deleted(self) -> None:
        s = self.scenario().order()
        response = shop.api.delete(f"/users/{s.user['id']}")
        self.assertEqual(response.status_code, 409)

    def test_two_buyers_of_one_product(self) -> None:
        s = self.scenario().product(price=5)
        s.create("user", as_="seller")
        s.create("order", user=s.seller, as_="first")
        s.user().order(quantity=2)
        self.assertEqual((s.first["total"], s.order["total"]), (5, 10))
        self.assertNotEqual(s.first["user_id"], s.order["user_id"])
