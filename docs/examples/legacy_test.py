"""A test that depends on shared data: user 42, with a fixed email, created by hand long ago."""

import os
import unittest

import requests

API = os.environ.get("DEMO_API", "http://127.0.0.1:8000")


class ProfileTests(unittest.TestCase):
    def test_rename_user(self):
        # Works once, on one machine, as long as nobody deleted or renamed user 42.
        response = requests.patch(f"{API}/users/42", json={"name": "Alice Renamed"}, timeout=5)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["email"], "alice@test.com")


if __name__ == "__main__":
    unittest.main()
