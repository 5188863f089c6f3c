"""The same test, creating its own user with unique values, and deleting it afterwards."""

import os
import unittest

import requests

from testdata_kit import DataTestCase, creates, unique

API = os.environ.get("DEMO_API", "http://127.0.0.1:8000")


@creates("user")
def user(name="Test User"):
    response = requests.post(f"{API}/users", json={"email": unique.email(), "name": name}, timeout=5)
    response.raise_for_status()
    body = response.json()
    yield body  # the test runs while the generator waits here
    # Raise when the server refuses: a deleter that returns counts as a deletion done.
    requests.delete(f"{API}/users/{body['id']}", timeout=5).raise_for_status()


class ProfileTests(DataTestCase):
    def test_rename_user(self):
        alice = user()
        new_name = unique.name("Alice")
        response = requests.patch(f"{API}/users/{alice['id']}", json={"name": new_name}, timeout=5)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["name"], new_name)
        self.assertEqual(response.json()["email"], alice["email"])


if __name__ == "__main__":
    unittest.main()
