"""Tests for testdata_kit.config: reading the [testdata_kit] section and its typed getters."""

from __future__ import annotations

import os
import tempfile
import textwrap
import unittest
from datetime import timedelta
from pathlib import Path

from testdata_kit import config
from testdata_kit.config import Config, ConfigError, load
from testdata_kit.errors import TestDataError


class _TempDir(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = Path(tmp.name)
        old_cwd = os.getcwd()
        os.chdir(self.dir)
        self.addCleanup(os.chdir, old_cwd)

    def write(self, name: str, text: str) -> Path:
        path = self.dir / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path


class LoadTests(_TempDir):
    def test_reads_setup_cfg_in_current_directory(self) -> None:
        self.write("setup.cfg", "[metadata]\nname = x\n[testdata_kit]\nmarker-prefix = qa-\n")
        cfg = load()
        self.assertEqual(cfg.get_str("marker-prefix"), "qa-")
        self.assertEqual(cfg.path, Path("setup.cfg"))

    def test_falls_back_to_tox_ini_when_setup_cfg_lacks_the_section(self) -> None:
        self.write("setup.cfg", "[metadata]\nname = x\n")
        self.write("tox.ini", "[tox]\nenvlist = py311\n[testdata_kit]\nttl = 2h\n")
        self.assertEqual(load().get_duration("ttl"), timedelta(hours=2))

    def test_missing_file_or_section_gives_empty_config_and_defaults(self) -> None:
        cfg = load()
        self.assertEqual(cfg.keys(), [])
        self.assertEqual(cfg.get_int("retries", 3), 3)
        self.write("setup.cfg", "[metadata]\nname = x\n")
        self.assertEqual(load().get_list("allowed-hosts", ["a"]), ["a"])

    def test_explicit_path_is_read_and_must_exist(self) -> None:
        path = self.write("custom.ini", "[testdata_kit]\nttl = 30s\n")
        self.assertEqual(load(path).get_duration("ttl"), timedelta(seconds=30))
        with self.assertRaises(ConfigError) as caught:
            load(self.dir / "nope.cfg")
        self.assertIn("nope.cfg", str(caught.exception))
        self.assertIn("does not exist", str(caught.exception))

    def test_default_section_of_other_tools_does_not_leak_in(self) -> None:
        self.write("setup.cfg", "[DEFAULT]\ncolor = red\n[testdata_kit]\nttl = 1h\n")
        self.assertEqual(load().keys(), ["ttl"])

    def test_unparseable_file_is_a_config_error_naming_the_file(self) -> None:
        path = self.write("setup.cfg", "[testdata_kit]\nttl = 1h\nttl = 2h\n")
        with self.assertRaises(ConfigError) as caught:
            load(path)
        self.assertIn("setup.cfg", str(caught.exception))
        self.assertIn("ttl", str(caught.exception))

    def test_percent_signs_are_kept_literally(self) -> None:
        self.write("setup.cfg", "[testdata_kit]\nmarker-prefix = t%x-\n")
        self.assertEqual(load().get_str("marker-prefix"), "t%x-")

    def test_sub_sections_are_reachable_by_name(self) -> None:
        self.write(
            "setup.cfg",
            """
            [testdata_kit]
            ttl = 1d
            [testdata_kit:collections.users]
            path = /users
            marker-field = email
            [testdata_kit:collections.orders]
            path = /orders
            """,
        )
        cfg = load()
        self.assertEqual(cfg.section_names("collections."), ["collections.orders", "collections.users"])
        users = cfg.section("collections.users")
        self.assertEqual(users.get_str("marker-field"), "email")
        self.assertEqual(cfg.section("collections.missing").keys(), [])

    def test_unknown_keys_checked_only_when_known_keys_are_given(self) -> None:
        self.write("setup.cfg", "[testdata_kit]\nttl = 1d\nlint-selct = TDK001\n")
        self.assertEqual(load().keys(), ["lint-selct", "ttl"])
        with self.assertRaises(ConfigError) as caught:
            load(known={"ttl", "lint-select"})
        message = str(caught.exception)
        self.assertIn("'lint-selct'", message)
        self.assertIn("Did you mean 'lint-select'?", message)
        self.assertIn("Known keys: lint-select, ttl", message)

    def test_check_keys_with_prefix_leaves_other_tools_keys_alone(self) -> None:
        cfg = Config({"ttl": "1d", "lint-select": "TDK001"})
        cfg.check_keys({"lint-select", "lint-ignore"}, prefix="lint-")
        with self.assertRaises(ConfigError):
            Config({"lint-bogus": "x"}).check_keys({"lint-select"}, prefix="lint-")


class GetterTests(unittest.TestCase):
    def cfg(self, **values: str) -> Config:
        return Config({k.replace("_", "-"): v for k, v in values.items()}, path=Path("setup.cfg"))

    def test_list_accepts_newlines_and_commas(self) -> None:
        cfg = self.cfg(hosts="\na.test, b.test\n\nc.test,")
        self.assertEqual(cfg.get_list("hosts"), ["a.test", "b.test", "c.test"])

    def test_int_float_bool(self) -> None:
        cfg = self.cfg(n="12", f="0.25", b="yes")
        self.assertEqual(cfg.get_int("n"), 12)
        self.assertEqual(cfg.get_float("f"), 0.25)
        self.assertIs(cfg.get_bool("b"), True)
        self.assertIsNone(cfg.get_int("absent"))

    def test_duration_forms(self) -> None:
        cases = {"24h": 86400, "90m": 5400, "30s": 30, "2d": 172800, "45": 45, "1h30m": 5400, "1.5h": 5400}
        for text, seconds in cases.items():
            with self.subTest(text=text):
                self.assertEqual(self.cfg(ttl=text).get_duration("ttl"), timedelta(seconds=seconds))

    def test_bad_duration_names_file_key_value_and_forms(self) -> None:
        for text in ("24 hours", "-5", "h", "1x"):
            with self.subTest(text=text), self.assertRaises(ConfigError) as caught:
                self.cfg(ttl=text).get_duration("ttl")
            error = caught.exception
            self.assertEqual((error.key, error.value), ("ttl", text))
            self.assertIn("setup.cfg", str(error))
            self.assertIn("24h", str(error))

    def test_infinite_and_huge_durations_are_config_errors(self) -> None:
        for text in ("inf", "nan", "1e20", "99999999999d"):
            with self.subTest(text=text), self.assertRaises(ConfigError) as caught:
                self.cfg(ttl=text).get_duration("ttl")
            self.assertEqual(caught.exception.value, text)

    def test_parse_duration_serves_options_without_a_key(self) -> None:
        self.assertEqual(config.parse_duration(" 1h30m "), timedelta(minutes=90))
        self.assertEqual(config.parse_duration("3600"), timedelta(hours=1))
        with self.assertRaises(ValueError) as caught:
            config.parse_duration("3x")
        self.assertEqual(
            str(caught.exception), "'3x' is not valid; expected a duration such as 24h, 90m, 30s, 2d, 1h30m or plain "
            "seconds")

    def test_bad_int_is_a_value_error_and_a_testdata_error(self) -> None:
        with self.assertRaises(ValueError) as caught:
            self.cfg(retries="three").get_int("retries")
        self.assertIsInstance(caught.exception, TestDataError)
        self.assertIn("'three'", str(caught.exception))

    def test_sub_section_errors_name_the_sub_section(self) -> None:
        cfg = Config({}, path=Path("setup.cfg"), sections={"collections.users": {"page-size": "big"}})
        with self.assertRaises(ConfigError) as caught:
            cfg.section("collections.users").get_int("page-size")
        self.assertIn("[testdata_kit:collections.users] page-size", str(caught.exception))

    def test_mapping_accepts_arrows_and_equals_and_merges(self) -> None:
        cfg = self.cfg(parents="\norders -> users, products\ndiscounts = products\norders -> discounts\n")
        self.assertEqual(
            cfg.get_mapping("parents"),
            {"orders": ("users", "products", "discounts"), "discounts": ("products",)},
        )
        self.assertEqual(self.cfg().get_mapping("parents"), {})

    def test_mapping_rejects_malformed_lines_and_cycles(self) -> None:
        for text in ("orders users", "orders ->", "orders -> orders", "a b -> c"):
            with self.subTest(text=text), self.assertRaises(ConfigError):
                self.cfg(parents=text).get_mapping("parents")
        with self.assertRaises(ConfigError) as caught:
            self.cfg(parents="a -> b\nb -> c\nc -> a").get_mapping("parents")
        self.assertIn("a -> b -> c -> a", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
