"""A scenario whose last link's POST is slow: the signal arrives after the order is created, before it is linked."""

import os
import time
import unittest

from testdata_kit import DataTestCase, creates, unique
from testdata_kit.http import ApiClient

api = ApiClient(os.environ["TDK_DEMO_URL"])
users = api.collection("users", kind="sl_user")
products = api.collection("products", kind="sl_product")
orders = api.collection("orders", kind="sl_order")


@creates("sl_user", delete=users.delete)
def sl_user():
    return users.post(email=unique.email(), name="Linked")


@creates("sl_product", delete=products.delete)
def sl_product():
    return products.post(name=unique.name("product"), price=5)


@creates("sl_order", needs=("sl_user", "sl_product"), delete=orders.delete)
def sl_order(sl_user, sl_product):
    with open(os.environ["TDK_READY"], "w", encoding="utf-8") as handle:
        handle.write("posting the order")
    return orders.post(user_id=sl_user["id"], product_id=sl_product["id"])


class LinkTests(DataTestCase):
    def test_chain(self):
        self.scenario().sl_user().sl_product().sl_order()
        time.sleep(30)


if __name__ == "__main__":
    unittest.main()
