"""Tests for testdata_kit.guard: which hosts the HTTP client, reset and sweep may write to."""

from __future__ import annotations

import os
import unittest
from pathlib import Path

from testdata_kit import guard
from testdata_kit.config import Config
from testdata_kit.errors import TestDataError
from testdata_kit.guard import HostNotAllowedError, allowed_hosts, check_host, is_loopback


class HostTests(unittest.TestCase):
    def setUp(self) -> None:
        saved = os.environ.pop(guard.ALLOWED_HOSTS_ENV, None)
        if saved is not None:
            self.addCleanup(os.environ.__setitem__, guard.ALLOWED_HOSTS_ENV, saved)
        self.addCleanup(os.environ.pop, guard.ALLOWED_HOSTS_ENV, None)

    def test_allowed_hosts_merges_config_and_environment(self) -> None:
        os.environ[guard.ALLOWED_HOSTS_ENV] = "CI.Staging.test, ,[::2]"
        cfg = Config({"allowed-hosts": "staging.test\nqa.test"})
        self.assertEqual(allowed_hosts(cfg), frozenset({"staging.test", "qa.test", "ci.staging.test", "::2"}))
        self.assertEqual(allowed_hosts(None), frozenset({"ci.staging.test", "::2"}))

    def test_allowed_hosts_empty_by_default(self) -> None:
        self.assertEqual(allowed_hosts(Config()), frozenset())

    def test_is_loopback(self) -> None:
        loopback = ("127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST.", "::ffff:127.0.0.1")
        for host in loopback:
            with self.subTest(host=host):
                self.assertTrue(is_loopback(host))
        for host in ("10.0.0.1", "staging.test", "localhost.example.com", "128.0.0.1", "::2", ""):
            with self.subTest(host=host):
                self.assertFalse(is_loopback(host))


# (host as written in a URL, allowed-hosts setting, allowed?) -- one table for every tool that guards a host.
HOST_TABLE = (
    ("shop.test", "shop.test", True),
    ("shop.test.", "shop.test", True),  # a fully qualified name is the same host
    ("SHOP.Test", "shop.test", True),
    ("shop.test", "Shop.TEST.", True),  # the setting is normalised the same way
    ("[2001:db8::1]", "2001:db8::1", True),
    ("[2001:DB8::1]", "[2001:db8::1]", True),
    ("[::1]", "", True),
    ("LOCALHOST.", "", True),
    ("127.0.0.2", "", True),
    ("shop.test.evil.example", "shop.test", False),
    ("evil-shop.test", "shop.test", False),
    ("[2001:db8::2]", "2001:db8::1", False),
    ("shop.test", "", False),
)


class HostGuardAgreementTests(unittest.TestCase):
    """The HTTP client, ``reset`` and the sweeper make the very same decision for every host."""

    def setUp(self) -> None:
        saved = os.environ.pop(guard.ALLOWED_HOSTS_ENV, None)
        if saved is not None:
            self.addCleanup(os.environ.__setitem__, guard.ALLOWED_HOSTS_ENV, saved)

    def http_guard(self, host: str, cfg: Config) -> None:
        from testdata_kit.http import ApiClient

        ApiClient(f"http://{host}:9/api", config=cfg).close()

    def reset_guard(self, host: str, cfg: Config) -> None:
        from testdata_kit.db import reset

        reset.check_host([host], allowed_hosts(cfg))

    def sweep_guard(self, host: str, cfg: Config) -> None:
        from testdata_kit import sweep

        sweep.check_safe(sweep.SweepConfig(allowed_hosts=allowed_hosts(cfg)), f"http://{host}:9/api")

    def test_every_tool_agrees_on_case_trailing_dots_and_brackets(self) -> None:
        guards = {"http": self.http_guard, "reset": self.reset_guard, "sweep": self.sweep_guard,
                  "guard": lambda host, cfg: check_host(host, config=cfg)}
        for host, setting, allowed in HOST_TABLE:
            cfg = Config({"allowed-hosts": setting})
            for tool, decide in guards.items():
                with self.subTest(tool=tool, host=host, setting=setting):
                    if allowed:
                        decide(host, cfg)
                    else:
                        with self.assertRaises(HostNotAllowedError) as caught:
                            decide(host, cfg)
                        self.assertIn(host.strip("[]").lower(), str(caught.exception).lower())

    def test_one_error_class_importable_where_it_always_was(self) -> None:
        from testdata_kit.db import reset
        from testdata_kit.http import HostNotAllowedError as HttpHostNotAllowedError
        from testdata_kit.http import errors as http_errors

        self.assertIs(HttpHostNotAllowedError, HostNotAllowedError)
        self.assertIs(http_errors.HostNotAllowedError, HostNotAllowedError)
        self.assertIs(reset.HostNotAllowedError, HostNotAllowedError)
        self.assertTrue(issubclass(HostNotAllowedError, TestDataError))
        self.assertTrue(issubclass(HostNotAllowedError, PermissionError))

    def test_the_message_names_the_host_both_settings_and_the_config_file(self) -> None:
        cfg = Config({"allowed-hosts": "qa.test"}, path=Path("ci/setup.cfg"))
        with self.assertRaises(HostNotAllowedError) as caught:
            check_host("Prod.Shop.", config=cfg, action="sweep", url="https://Prod.Shop./api")
        self.assertEqual(
            str(caught.exception),
            "Refusing to sweep 'Prod.Shop.' (https://Prod.Shop./api): it is neither loopback nor an allowed host "
            "(allowed: qa.test), and test data tools create and delete data wherever they point. If 'Prod.Shop.' "
            "holds only test data, add it to the TESTDATA_ALLOWED_HOSTS environment variable (comma-separated) or "
            "to allowed-hosts in the [testdata_kit] section of ci/setup.cfg.",
        )
        self.assertEqual((caught.exception.host, caught.exception.allowed), ("Prod.Shop.", frozenset({"qa.test"})))

    def test_the_environment_adds_to_the_config_and_an_empty_host_is_refused(self) -> None:
        os.environ[guard.ALLOWED_HOSTS_ENV] = "ci.test."
        self.addCleanup(os.environ.pop, guard.ALLOWED_HOSTS_ENV, None)
        self.assertEqual(check_host("CI.test", config=Config()), "ci.test")
        with self.assertRaises(HostNotAllowedError):
            check_host("", config=Config())


if __name__ == "__main__":
    unittest.main()
