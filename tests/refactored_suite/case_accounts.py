"""Account tests: each makes its own user with a unique email, so copies running at once never collide."""

import unittest

import requests
from shop_factories import API, user

from testdata_kit import DataTestCase


class AccountTests(DataTestCase):
    def test_account_activation(self):
        carol = user(name="Carol")
        fetched = requests.get(f"{API}/users/{carol['id']}", timeout=5).json()
        self.assertEqual(fetched["email"], carol["email"])


if __name__ == "__main__":
    unittest.main()
