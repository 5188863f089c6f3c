"""Legacy user tests, written for a shared database in which user 42 is Alice (alice@test.com).

``test_signup`` creates bob@test.com and never deletes him: the next run gets 409 Conflict.
"""

import os
import unittest

import requests

API = os.environ.get("DEMO_API", "http://127.0.0.1:8000")


class SharedUserTests(unittest.TestCase):
    def test_alice_profile(self):
        response = requests.get(f"{API}/users/42", timeout=5)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["email"], "alice@test.com")

    def test_first_user_is_alice(self):
        users = requests.get(f"{API}/users", timeout=5).json()["items"]
        self.assertEqual(users[0]["name"], "Alice")


class SignupTests(unittest.TestCase):
    def test_signup(self):
        response = requests.post(f"{API}/users", json={"email": "bob@test.com", "name": "Bob"}, timeout=5)
        self.assertEqual(response.status_code, 201, response.text)
        self.assertEqual(response.json()["email"], "bob@test.com")


if __name__ == "__main__":
    unittest.main()
