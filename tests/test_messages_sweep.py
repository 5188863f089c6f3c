"""The wording of the sweeper's refusals and config errors, and of the journal's damage reports."""

from __future__ import annotations

import pathlib
import tempfile
import unittest

from testdata_kit import FactoryProtocolError, Registry, creates, journal, sweep
from testdata_kit.config import ConfigError


class SweepMessageTests(unittest.TestCase):
    def config(self, text: str) -> str:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        path = pathlib.Path(tmp.name, "sweep.cfg")
        path.write_text(text)
        return str(path)

    def test_host_outside_the_allowed_list(self):
        settings = sweep.SweepConfig(allowed_hosts=frozenset({"staging.example.com"}))
        with self.assertRaises(sweep.SweepRefused) as caught:
            sweep.check_safe(settings, "https://prod.example.com/api")
        self.assertEqual(
            str(caught.exception),
            "Refusing to sweep 'https://prod.example.com/api': host 'prod.example.com' is not loopback and not in "
            "allowed-hosts (staging.example.com). If that environment holds only test data, add it to "
            "allowed-hosts in [testdata_kit] or to $TESTDATA_ALLOWED_HOSTS.",
        )
        self.assertEqual(caught.exception.value, "prod.example.com")

    def test_empty_prefix(self):
        with self.assertRaises(sweep.SweepRefused) as caught:
            sweep.check_safe(sweep.SweepConfig(prefix=""), None)
        self.assertEqual(
            str(caught.exception),
            "Refusing to sweep with marker prefix '': it needs at least 3 characters and a leading letter, or it "
            "could match real data. Set marker-prefix in [testdata_kit] or pass --prefix (the default is 'test-').",
        )

    def test_bad_ttl_names_the_key(self):
        path = self.config("[testdata_kit]\nttl = soon\n")
        with self.assertRaises(ConfigError) as caught:
            sweep.load_config(path)
        self.assertEqual(
            str(caught.exception),
            f"{path}: [testdata_kit] ttl = 'soon' is not valid; expected a duration such as 24h, 90m, 30s, 2d, "
            f"1h30m or plain seconds.",
        )

    def test_unknown_collection_key_and_missing_marker_fields(self):
        path = self.config("[testdata_kit:collections.users]\nmarker-field = email\n")
        with self.assertRaises(ConfigError) as caught:
            sweep.load_config(path)
        self.assertIn("unknown key 'marker-field' in [testdata_kit:collections.users]. Did you mean 'marker-fields'?",
                      str(caught.exception))
        path = self.config("[testdata_kit:collections.users]\npath = /users\n")
        with self.assertRaises(ConfigError) as caught:
            sweep.load_config(path)
        self.assertEqual(
            str(caught.exception),
            f"{path}: [testdata_kit:collections.users] marker-fields = '' is not valid; expected the fields that "
            f"carry the marker (or owner-fields, for rows that belong to a marked row).",
        )

    def test_unknown_parent_and_cycle(self):
        path = self.config("[testdata_kit:collections.orders]\nmarker-fields = ref\nparents = carts\n")
        with self.assertRaises(ConfigError) as caught:
            sweep.load_config(path)
        self.assertIn("parents of collections.orders = 'carts' is not valid; expected one of the configured "
                      "collections: orders.", str(caught.exception))
        path = self.config("[testdata_kit:collections.a]\nmarker-fields = x\nparents = b\n"
                           "[testdata_kit:collections.b]\nmarker-fields = x\nparents = a\n")
        with self.assertRaises(ConfigError) as caught:
            sweep.load_config(path)
        self.assertIn("[testdata_kit] parents = 'a, b' is not valid; expected parent relations without a cycle",
                      str(caught.exception))

    def test_recover_must_be_importable(self):
        with self.assertRaises(FactoryProtocolError) as caught:
            creates("user", registry=Registry(), recover=lambda ident: None)
        self.assertIn("recover= of @creates('user') must be a module-level function or its 'module:qualname', "
                      "got <function", str(caught.exception))


class JournalMessageTests(unittest.TestCase):
    def test_damage_reports(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp, "x.jsonl")
            path.write_bytes(b'{"op":"open"}\nnope\n{"op":"intent","n":1,"kind":"u","te')
            found = journal.read(path)
        self.assertEqual(found.problems, [
            f"{path}:2: not a JSON record; line skipped: b'nope'",
            f"{path}:3: warning: truncated last line skipped (the process died while writing it)",
        ])


if __name__ == "__main__":
    unittest.main()
