"""User tests that create the user they look at, with unique values, and never assume who is "first"."""

import unittest

import requests
from shop_factories import API, user

from testdata_kit import DataTestCase, unique


class UserProfileTests(DataTestCase):
    def test_profile(self):
        alice = user(name="Alice")
        response = requests.get(f"{API}/users/{alice['id']}", timeout=5)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["email"], alice["email"])

    def test_listing_finds_the_new_user(self):
        alice = user(name="Alice")
        listing = requests.get(f"{API}/users", params={"email": alice["email"]}, timeout=5).json()
        self.assertEqual([row["id"] for row in listing["items"]], [alice["id"]])


class SignupTests(DataTestCase):
    def test_signup(self):
        email = unique.email()
        response = requests.post(f"{API}/users", json={"email": email, "name": unique.name()}, timeout=5)
        self.assertEqual(response.status_code, 201, response.text)
        self.addCleanup(requests.delete, f"{API}/users/{response.json()['id']}", timeout=5)
        self.assertEqual(response.json()["email"], email)


if __name__ == "__main__":
    unittest.main()
