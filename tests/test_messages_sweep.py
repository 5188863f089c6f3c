"""The wording of the sweeper's refusals and config errors, and of the journal's damage reports."""

from __future__ import annotations

import contextlib
import io
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

from testdata_kit import FactoryProtocolError, Registry, creates, journal, sweep
from testdata_kit.config import ConfigError
from testdata_kit.guard import HostNotAllowedError
from testdata_kit.http import ApiClient
from testdata_kit.journal._store import boot_id
from testdata_kit.sweep._listing import pages

RULES = ("it needs at least 3 characters, a leading letter, and only letters, digits, '_', '.' or '-', so that a "
         "sweeper can never match real data by accident. The default is 'test-'.")


class SweepMessageTests(unittest.TestCase):
    def config(self, text: str) -> str:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        path = pathlib.Path(tmp.name, "sweep.cfg")
        path.write_text(text)
        return str(path)

    def test_host_outside_the_allowed_list(self):
        settings = sweep.SweepConfig(allowed_hosts=frozenset({"staging.example.com"}))
        with self.assertRaises(HostNotAllowedError) as caught:
            sweep.check_safe(settings, "https://prod.example.com/api?api_key=s3cr3t")
        self.assertEqual(
            str(caught.exception),
            "Refusing to sweep 'prod.example.com' (https://prod.example.com/api?api_key=***): it is neither loopback "
            "nor an allowed host (allowed: staging.example.com), and test data tools create and delete data wherever "
            "they point. If 'prod.example.com' holds only test data, add it to the TESTDATA_ALLOWED_HOSTS "
            "environment variable (comma-separated) or to allowed-hosts in the [testdata_kit] section of setup.cfg.",
        )
        self.assertEqual(caught.exception.host, "prod.example.com")

    def test_empty_prefix(self):
        with self.assertRaises(sweep.SweepRefused) as caught:
            sweep.check_safe(sweep.SweepConfig(prefix=""), None)
        self.assertEqual(
            str(caught.exception),
            f"Refusing to sweep. Marker prefix '' from marker-prefix is unsafe: {RULES} Correct marker-prefix, or "
            f"pass --prefix.",
        )
        self.assertEqual(caught.exception.value, "")

    def test_prefix_from_each_source(self):
        path = self.config("[testdata_kit]\nmarker-prefix = qa*\n")
        with self.assertRaises(sweep.SweepRefused) as caught:
            sweep.check_safe(sweep.load_config(path), None)
        self.assertEqual(
            str(caught.exception),
            f"Refusing to sweep. Marker prefix 'qa*' from marker-prefix in {path} is unsafe: {RULES} Correct "
            f"marker-prefix in {path}, or pass --prefix.",
        )
        with mock.patch.dict(os.environ, {"TESTDATA_PREFIX": "ab"}), self.assertRaises(sweep.SweepRefused) as caught:
            sweep.check_safe(sweep.load_config(self.config("[testdata_kit]\n")), None)
        self.assertEqual(
            str(caught.exception),
            f"Refusing to sweep. Marker prefix 'ab' from TESTDATA_PREFIX is unsafe: {RULES} Correct or unset "
            f"$TESTDATA_PREFIX, or pass --prefix.",
        )
        with self.assertRaises(sweep.SweepRefused) as caught:
            sweep.check_safe(sweep.SweepConfig(prefix="t", prefix_source="--prefix"), None)
        self.assertEqual(
            str(caught.exception),
            f"Refusing to sweep. Marker prefix 't' from --prefix is unsafe: {RULES} Pass another --prefix.",
        )

    def test_bad_ttl_option(self):
        err = io.StringIO()
        with self.assertRaises(SystemExit), contextlib.redirect_stderr(err):
            sweep.main(["--ttl", "3x", "--config", self.config("[testdata_kit]\n")])
        self.assertEqual(
            err.getvalue().splitlines()[-1],
            "python -m testdata_kit sweep: error: argument --ttl: '3x' is not valid; expected a duration such as "
            "24h, 90m, 30s, 2d, 1h30m or plain seconds",
        )

    def test_unreachable_api(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        api = ApiClient(f"http://127.0.0.1:{port}", retry_seconds=0)
        self.addCleanup(api.close)
        where = sweep.CollectionSettings("users", f"http://user:secret@127.0.0.1:{port}/users?api_key=secret")
        with self.assertRaises(sweep.ListingError) as caught:
            next(pages(api, where, "test-", print))
        self.assertEqual(
            str(caught.exception),
            f"cannot reach the API: GET http://127.0.0.1:{port}/users failed: Connection refused. Check that the "
            f"server is running and reachable from here, and that --url (or sweep-url) is right.",
        )
        self.assertEqual(caught.exception.url, f"http://127.0.0.1:{port}/users")

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

    def test_a_bad_store_url_given_to_journal_is_named_as_that_option(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            status = sweep.main(["--journal", "mysql://ci:hunter2@db/x"])
        self.assertEqual(status, 2)
        self.assertEqual(err.getvalue(), "sweep: --journal = 'mysql://ci:***@db/x' is not valid; expected a folder, or "
                         "a URL whose scheme is one of file://, postgresql://, postgres://, redis://, rediss://, "
                         "s3://.\n")

    def test_deletion_address_and_method(self):
        path = self.config("[testdata_kit:collections.users]\nmarker-fields = email\ndelete-at = /users/-/delete\n")
        with self.assertRaises(ConfigError) as caught:
            sweep.load_config(path)
        self.assertEqual(
            str(caught.exception),
            f"{path}: [testdata_kit:collections.users] delete-at = '/users/-/delete' is not valid; expected an "
            f"address holding the row's fields, such as {{path}}/{{id}}/-/delete.",
        )
        path = self.config("[testdata_kit:collections.users]\nmarker-fields = email\ndelete-method = get\n")
        with self.assertRaises(ConfigError) as caught:
            sweep.load_config(path)
        self.assertEqual(
            str(caught.exception),
            f"{path}: [testdata_kit:collections.users] delete-method = 'GET' is not valid; expected DELETE, POST, "
            f"PUT, PATCH.",
        )

    def test_a_listing_without_rows_where_they_are_expected(self):
        from testdata_kit.demo import DemoServer

        server = DemoServer().start()
        self.addCleanup(server.stop)
        api = ApiClient(server.url, retry_seconds=0)
        self.addCleanup(api.close)
        where = sweep.CollectionSettings("users", "/users", marker_fields=("email",), items_field="rows")
        with self.assertRaises(sweep.ListingError) as caught:
            next(pages(api, where, "test-", print))
        self.assertEqual(
            str(caught.exception),
            "GET /users answered dict (its fields: items, total, limit, offset, next) without a list of rows in "
            "'rows'; set items-field in [testdata_kit:collections.users] to the field that holds them",
        )

    def test_recover_must_be_importable(self):
        with self.assertRaises(FactoryProtocolError) as caught:
            creates("user", registry=Registry(), recover=lambda ident: None)
        self.assertIn("recover= of @creates('user') must be a module-level function or its 'module:qualname', "
                      "got <function", str(caught.exception))


class DamagedJournalMessageTests(unittest.TestCase):
    """What ``sweep --journal --yes`` says about each damaged journal, and its exit status."""

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.folder = pathlib.Path(tmp.name, "journal")
        self.folder.mkdir()
        self.config = pathlib.Path(tmp.name, "sweep.cfg")
        self.config.write_text("[testdata_kit]\n")
        process = subprocess.Popen([sys.executable, "-c", "pass"])
        process.wait()
        self.header = {"op": "open", "v": 1, "run": "deadrn", "pid": process.pid, "host": socket.gethostname(),
                       "boot": boot_id(), "worker": "p1", "started": 1.0, "heartbeat": 10}

    def sweep(self, folder: pathlib.Path | None = None) -> tuple[int, list[str]]:
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            status = sweep.main(["--journal", str(folder or self.folder), "--yes", "--config", str(self.config)])
        return status, [line for line in err.getvalue().splitlines() if not line.startswith(f"sweep: {self.folder}")]

    def write(self, data: bytes) -> pathlib.Path:
        path = self.folder / "deadrn-host-1-abc.jsonl"
        path.write_bytes(data)
        return path

    def test_unknown_version(self):
        self.write(json.dumps({**self.header, "v": 7}).encode() + b"\n")
        self.assertEqual(self.sweep(), (2, [
            "sweep: deadrn-host-1-abc.jsonl: journal format version 7, but this version of testdata_kit reads "
            "version 1; nothing in it was replayed, and it is kept. Sweep it with the testdata_kit version that "
            "wrote it."]))

    def test_lost_tail_without_collections(self):
        self.write(json.dumps(self.header).encode() + b'\n{"op":"intent","n":1,"ki')
        self.assertEqual(self.sweep(), (1, [
            "sweep: deadrn-host-1-abc.jsonl: records were lost (its end, or unreadable lines), so rows it does not "
            "name may remain; it is kept. Configure [testdata_kit:collections.NAME] sections and --url (or "
            "sweep-url), and sweep --journal again: it then deletes every row whose marker names run deadrn, "
            "worker p1."]))

    def test_garbage(self):
        self.write(b"\x00\x01garbage\n\xff\n")
        self.assertEqual(self.sweep(), (1, [
            "sweep: deadrn-host-1-abc.jsonl: not a readable journal (no 'open' record naming its run), so whose it "
            "is cannot be known and nothing in it is replayed (its rows may be a live run's); it is kept. Remove "
            "it by hand once you have checked the data it may have left."]))

    def test_missing_folder(self):
        missing = self.folder / "no-such-dir"
        self.assertEqual(self.sweep(missing), (2, [
            f"sweep: the journal folder {missing} does not exist, so there is nothing to replay there. Pass the "
            f"folder the runs journal to (--journal DIR, $TESTDATA_JOURNAL or journal-dir in [testdata_kit])."]))


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
