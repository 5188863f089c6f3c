"""The one redaction vocabulary: what counts as a secret, how URLs are masked, and how a replay drops the masks."""

from __future__ import annotations

import subprocess
import sys
import unittest

from testdata_kit import _redact


class SecretNameTests(unittest.TestCase):
    def test_names_the_client_and_the_journal_both_treated_as_secret(self) -> None:
        for name in ("Authorization", "X-Auth-Token", "api_key", "apikey", "key", "sig", "password", "pass", "pwd",
                     "passphrase", "client_key", "X-Signing-Key", "AWSAccessKeyId", "private_key", "session_id",
                     "X-Amz-Credential", "X-Amz-Signature", "Cookie", "client_secret"):
            with self.subTest(name=name):
                self.assertTrue(_redact.is_secret_name(name))

    def test_ordinary_names_stay_readable(self) -> None:
        for name in ("page", "monkey", "keyword", "sort", "email", "passenger_count", "x"):
            with self.subTest(name=name):
                self.assertFalse(_redact.is_secret_name(name))


class UrlTests(unittest.TestCase):
    def test_password_query_and_fragment_secrets_are_masked_and_the_rest_kept(self) -> None:
        shown = _redact.url("https://ann:pw1@api.test:8443/v1/users/7?api_key=k3y&page=2#access_token=t0k&state=s")
        self.assertEqual(shown, "https://ann:***@api.test:8443/v1/users/7?api_key=***&page=2#access_token=***&state=s")

    def test_a_token_used_as_the_user_name_is_masked_whole(self) -> None:
        self.assertEqual(_redact.url("https://ghp_abc@git.test/x"), "https://***@git.test/x")

    def test_a_url_without_secrets_is_unchanged(self) -> None:
        address = "http://127.0.0.1:8000/users?page=2&q=a%20b#section-2"
        self.assertEqual(_redact.url(address), address)

    def test_unmasked_removes_exactly_what_url_masked(self) -> None:
        masked = _redact.url("https://ann:pw1@api.test/users/7?api_key=k3y&page=2")
        self.assertEqual(_redact.unmasked(masked), "https://api.test/users/7?page=2")
        self.assertEqual(_redact.unmasked("https://api.test/users/7?page=2"), "https://api.test/users/7?page=2")


class BodyTests(unittest.TestCase):
    def test_json_fields_at_any_depth_and_bearer_tokens_in_text(self) -> None:
        self.assertEqual(_redact.data({"user": {"password": "pw", "name": "Ann"}, "items": [{"token": "t"}]}),
                         {"user": {"password": "***", "name": "Ann"}, "items": [{"token": "***"}]})
        self.assertEqual(_redact.body_excerpt(b"denied for Bearer abcdefgh12345"), "denied for Bearer ***")


class ImportTests(unittest.TestCase):
    def test_it_imports_without_requests(self) -> None:
        code = "import sys; sys.modules['requests'] = None; import testdata_kit._redact, testdata_kit.journal"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        self.assertEqual(done.returncode, 0, done.stderr)


if __name__ == "__main__":
    unittest.main()
