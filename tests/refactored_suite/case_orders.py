"""Order tests that each place their own order and find it by id, in any order and in any worker."""

import unittest

import requests
from shop_factories import API, order, product, user

from testdata_kit import DataTestCase


class OrderTests(DataTestCase):
    def test_place_order(self):
        placed = order(user(), product(price=25))
        self.assertEqual(placed["total"], 25)

    def test_recent_orders(self):
        buyer = user()
        placed = order(buyer, product(price=25))
        listing = requests.get(f"{API}/orders", params={"user_id": buyer["id"]}, timeout=5).json()
        self.assertEqual([row["id"] for row in listing["items"]], [placed["id"]])


class ReceiptTests(DataTestCase):
    def test_receipt_total(self):
        placed = order(user(), product(price=25), quantity=2)
        receipt = requests.get(f"{API}/orders/{placed['id']}", timeout=5).json()
        self.assertEqual(receipt["total"], 50)


if __name__ == "__main__":
    unittest.main()
