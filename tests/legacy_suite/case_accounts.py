"""Legacy account tests: a fixed email, held while the test waits, then deleted.

They pass alone, twice in a row and shuffled, because the user is deleted at the end. Two copies of the suite
at the same time both want carol@test.com, and the later one gets 409 Conflict.
"""

import os
import time
import unittest

import requests

API = os.environ.get("DEMO_API", "http://127.0.0.1:8000")


class AccountTests(unittest.TestCase):
    def test_account_activation(self):
        response = requests.post(f"{API}/users", json={"email": "carol@test.com", "name": "Carol"}, timeout=5)
        self.assertEqual(response.status_code, 201, response.text)
        carol = response.json()
        try:
            time.sleep(1.5)  # wait for the activation job
            fetched = requests.get(f"{API}/users/{carol['id']}", timeout=5).json()
            self.assertEqual(fetched["email"], "carol@test.com")
        finally:
            requests.delete(f"{API}/users/{carol['id']}", timeout=5)


if __name__ == "__main__":
    unittest.main()
