"""The loyalty test with every row it creates made by a factory, so they are deleted children first."""

import unittest

from shop_factories import order, product, user

from testdata_kit import DataTestCase


class LoyaltyTests(DataTestCase):
    def test_first_purchase(self):
        buyer = user()
        gift_card = product(price=10)
        placed = order(buyer, gift_card)
        self.assertEqual(placed["total"], 10)
        self.assertEqual(placed["user_id"], buyer["id"])


if __name__ == "__main__":
    unittest.main()
