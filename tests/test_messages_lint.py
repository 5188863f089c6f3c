"""Pinned wording of the lint findings and the config errors users read."""

from __future__ import annotations

import os
import tempfile
import unittest
from pathlib import Path

from testdata_kit.config import Config, ConfigError
from testdata_kit.lint import lint_paths, lint_source


def message(source: str) -> str:
    return lint_source(source)[0].message


class LintMessageTests(unittest.TestCase):
    def test_hard_coded_id(self) -> None:
        self.assertEqual(
            message('api.get(f"{base}/users/42")\n'),
            "TDK001 hard-coded id '42' in URL path '{...}/users/42'; create the record in the test and use its id",
        )

    def test_literal_email(self) -> None:
        self.assertEqual(
            message('api.post("/u", json={"email": "alice@test.com"})  # noqa: TDK004\n'),
            "TDK002 literal email 'alice@test.com' used as data to create; use unique.email() so tests and runs "
            "don't collide",
        )

    def test_no_cleanup_names_the_test(self) -> None:
        self.assertEqual(
            message('def test_signup(self):\n    api.post("/users", json=body)\n'),
            "TDK004 POST in test_signup() creates data that nothing deletes; register its deletion with "
            "self.addCleanup() or create it through testdata_kit",
        )

    def test_real_card(self) -> None:
        self.assertEqual(
            message('card = "4532015112830366"\n'),
            "TDK003 card number '4532015112830366' passes the Luhn check and is not a test number; "
            "use 4242424242424242",
        )


    def test_hard_coded_primary_key(self) -> None:
        self.assertEqual(
            message("Order.objects.get(pk=1)\n"),
            "TDK001 hard-coded primary key 1 for 'pk' in Order.objects.get(); create the record in the test and "
            "use its pk",
        )

    def test_syntax_error(self) -> None:
        self.assertEqual(
            message("def broken(:\n"),
            "TDK000 cannot parse the file: invalid syntax, so nothing in it was checked",
        )

    def test_too_deep(self) -> None:
        self.assertEqual(
            message("x = " + " + ".join(["1"] * 900) + "\n"),
            "TDK000 an expression is nested too deeply to check (RecursionError); split it up, so nothing in it "
            "was checked",
        )


class UnreadableFileMessageTests(unittest.TestCase):
    def test_not_utf8_and_broken_link(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "a.py").write_bytes(b'x = "\xe9"\n')
            os.symlink(Path(tmp, "gone.py"), Path(tmp, "b.py"))
            found = [f.message for _, f in lint_paths([tmp])]
        self.assertEqual(
            found,
            ["TDK000 cannot decode the file: it is not UTF-8 and has no valid coding cookie, so nothing in it was "
             "checked",
             "TDK000 cannot read the file: it is a broken symbolic link, so nothing in it was checked"],
        )


class ConfigMessageTests(unittest.TestCase):
    def test_bad_duration(self) -> None:
        with self.assertRaises(ConfigError) as caught:
            Config({"ttl": "a day"}, path=Path("setup.cfg")).get_duration("ttl")
        self.assertEqual(
            str(caught.exception),
            "setup.cfg: [testdata_kit] ttl = 'a day' is not valid; expected a duration such as 24h, 90m, 30s, 2d, "
            "1h30m or plain seconds.",
        )

    def test_unknown_key(self) -> None:
        with self.assertRaises(ConfigError) as caught:
            Config({"lint-selct": "TDK"}, path=Path("setup.cfg")).check_keys({"lint-select"}, prefix="lint-")
        self.assertEqual(
            str(caught.exception),
            "setup.cfg: unknown key 'lint-selct' in [testdata_kit]. Did you mean 'lint-select'? "
            "Known keys: lint-select.",
        )


if __name__ == "__main__":
    unittest.main()
