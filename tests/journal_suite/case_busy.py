"""A suite that creates and deletes continuously, for SIGKILL trials: users, products and orders at every scope."""

import time
import unittest

import shop_kinds

from testdata_kit import DataTestCase, create


def setUpModule():
    create("jr_user", scope="module", name="Module")


class BusyTests(DataTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.item = cls.create("jr_user", name="Class")


def _make(n):
    def test(self):
        buyer = shop_kinds.user()
        item = shop_kinds.product(price=n)
        shop_kinds.order(buyer["id"], item["id"])
        time.sleep(0.005)

    return test


for _n in range(40):
    setattr(BusyTests, f"test_{_n:02}", _make(_n))

if __name__ == "__main__":
    unittest.main()
