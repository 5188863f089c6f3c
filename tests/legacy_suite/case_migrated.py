"""A half-migrated legacy test: its customer comes from a factory, but the order it places is never deleted.

The factory's deletion is then refused (409, the order still references the customer), so every run leaks
the customer, and testdata_kit's accounting says so.
"""

import os
import unittest

import requests

from testdata_kit import DataTestCase, creates, unique

API = os.environ.get("DEMO_API", "http://127.0.0.1:8000")


@creates("legacy_customer")
def customer():
    response = requests.post(f"{API}/users", json={"email": unique.email(), "name": unique.name()}, timeout=5)
    response.raise_for_status()
    body = response.json()
    yield body
    requests.delete(f"{API}/users/{body['id']}", timeout=5).raise_for_status()


class LoyaltyTests(DataTestCase):
    def test_first_purchase(self):
        buyer = customer()
        product = requests.post(f"{API}/products", json={"name": "Gift Card", "price": 10}, timeout=5).json()
        order = requests.post(f"{API}/orders", json={"user_id": buyer["id"], "product_id": product["id"]}, timeout=5)
        self.assertEqual(order.status_code, 201, order.text)


if __name__ == "__main__":
    unittest.main()
