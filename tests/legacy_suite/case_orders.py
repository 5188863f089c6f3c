"""Legacy order tests that hand data to each other through a module global, and check "the latest order".

``test_recent_orders`` needs ``test_place_order`` to run first (order dependence), and ``ReceiptTests``
needs ``OrderTests`` to have run in the same process (it breaks when the classes go to different workers).
"""

import os
import unittest

import requests

API = os.environ.get("DEMO_API", "http://127.0.0.1:8000")

placed = {}  # filled by test_place_order, read by the tests after it


class OrderTests(unittest.TestCase):
    def test_place_order(self):
        product = requests.post(f"{API}/products", json={"name": "Desk Lamp", "price": 25}, timeout=5).json()
        response = requests.post(f"{API}/orders", json={"user_id": 42, "product_id": product["id"]}, timeout=5)
        self.assertEqual(response.status_code, 201, response.text)
        placed["order"] = response.json()

    def test_recent_orders(self):
        orders = requests.get(f"{API}/orders?user_id=42&limit=500", timeout=5).json()["items"]
        self.assertEqual(orders[-1]["id"], placed["order"]["id"])


class ReceiptTests(unittest.TestCase):
    def test_receipt_total(self):
        receipt = requests.get(f"{API}/orders/{placed['order']['id']}", timeout=5).json()
        self.assertEqual(receipt["total"], 25)


if __name__ == "__main__":
    unittest.main()
