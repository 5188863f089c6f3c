"""Tests for unique marker values and their parser."""

from __future__ import annotations

import datetime
import functools
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import unittest
import warnings
from unittest import mock

from testdata_kit import _run, unique

_COLLIDE = """
import sys
from testdata_kit import unique
values = [unique.email(), unique.name(), unique.id(), unique.idempotency_key(), unique.tenant(), unique.filename()]
values += [unique.token() for _ in range(100_000 - len(values))]
sys.stdout.write("\\n".join(values))
"""


class ValueTests(unittest.TestCase):
    def test_each_kind_of_value_carries_a_parsable_marker(self):
        for value in (unique.email(), unique.name(), unique.id(), unique.idempotency_key(), unique.tenant(),
                      unique.filename()):
            with self.subTest(value=value):
                marker = unique.parse(value)
                self.assertIsNotNone(marker)
                self.assertEqual(marker.run_id, _run.run_id())
                self.assertEqual(marker.worker, _run.worker_token())
                self.assertLess(abs(marker.age().total_seconds()), 5)

    def test_shapes(self):
        self.assertRegex(unique.email(), r"^test-[0-9a-z-]+@example\.com$")
        self.assertRegex(unique.name(), r"^User test-")
        self.assertRegex(unique.filename(), r"^report-test-.*\.csv$")
        self.assertRegex(unique.filename("invoice", ".pdf"), r"^invoice-test-.*\.pdf$")
        self.assertRegex(unique.tenant(), r"^tenant-test-")

    def test_emails_only_on_reserved_domains(self):
        self.assertTrue(unique.email("example.org").endswith("@example.org"))
        self.assertTrue(unique.email("shop.test").endswith("@shop.test"))
        for domain in ("gmail.com", "example.co", "test.com", "mycompany.com"):
            with self.subTest(domain=domain), self.assertRaises(ValueError):
                unique.email(domain)

    def test_values_fit_typical_columns(self):
        # The documented bounds: token <= 40 characters, email <= 52 with example.com, even for a long
        # worker name and a large pid.
        long_name = {"TESTDATA_WORKER": "gw1234567"}
        with mock.patch.dict(os.environ, long_name), mock.patch("os.getpid", return_value=4194304):
            _run._reset_for_tests()
            try:
                self.assertLessEqual(len(unique.token()), 40)
                self.assertLessEqual(len(unique.email()), 52)
            finally:
                _run._reset_for_tests()

    def test_seeding_pythons_random_does_not_repeat_values(self):
        random.seed(1234)
        first = unique.token()
        random.seed(1234)
        self.assertNotEqual(first.rsplit("-", 1)[1], unique.token().rsplit("-", 1)[1])

    def test_100k_values_in_each_of_8_processes_never_collide(self):
        processes = [
            subprocess.Popen([sys.executable, "-c", _COLLIDE], stdout=subprocess.PIPE, text=True) for _ in range(8)
        ]
        seen: set[str] = set()
        total = 0
        for process in processes:
            out, _ = process.communicate(timeout=120)
            self.assertEqual(process.returncode, 0)
            values = out.split("\n")
            total += len(values)
            seen.update(values)
        self.assertEqual(total, 800_000)
        self.assertEqual(len(seen), total, "collisions found")


class MarkerTests(unittest.TestCase):
    def test_parse_round_trips_the_token(self):
        token = unique.token()
        marker = unique.parse(f"Name {token} and more")
        self.assertEqual(marker.token, token)

    def test_values_without_a_marker_are_not_test_data(self):
        for value in ("alice@test.com", "User 42", "latest-lz3k8p-r7k2q9-p1a2b-x9c0001a", "", "test-"):
            with self.subTest(value=value):
                self.assertIsNone(unique.parse(value))
                self.assertFalse(unique.is_test_value(value))
        self.assertIsNone(unique.parse(None))  # type: ignore[arg-type]

    def test_parse_reads_time_run_and_worker(self):
        marker = unique.parse("x-test-tp47f1-non0gq-gw3p1t1-nlit0000@example.com")
        self.assertEqual(marker.run_id, "non0gq")
        self.assertEqual(marker.worker, "gw3p1t1")
        self.assertEqual(marker.created_at, datetime.datetime.fromtimestamp(int("tp47f1", 36), datetime.timezone.utc))

    def test_configured_prefix(self):
        try:
            unique.configure(prefix="qa-")
            value = unique.email()
            self.assertTrue(value.startswith("qa-"))
            self.assertIsNotNone(unique.parse(value))
            self.assertIsNone(unique.parse(value, prefix="test-"))
        finally:
            unique.configure(prefix=None)

    def test_prefix_from_the_environment(self):
        with mock.patch.dict(os.environ, {"TESTDATA_PREFIX": "e2e-"}):
            self.assertTrue(unique.token().startswith("e2e-"))

    def test_the_marker_prefix_key_is_read_after_the_environment(self):
        code = "from testdata_kit import unique; print(unique.token())"
        with tempfile.TemporaryDirectory() as tmp:
            pathlib.Path(tmp, "setup.cfg").write_text("[metadata]\nname = x\n[testdata_kit]\nmarker-prefix = qa-\n")
            env = {key: value for key, value in os.environ.items() if key != "TESTDATA_PREFIX"}
            env["PYTHONPATH"] = str(pathlib.Path(__file__).resolve().parent.parent)
            run = functools.partial(subprocess.run, [sys.executable, "-c", code], cwd=tmp, capture_output=True,
                                    text=True, check=True)
            self.assertTrue(run(env=env).stdout.startswith("qa-"))
            self.assertTrue(run(env={**env, "TESTDATA_PREFIX": "e2e-"}).stdout.startswith("e2e-"))

    def test_unsafe_prefixes_are_refused(self):
        for bad in ("", "t", "-x-", "a b"):
            with self.subTest(prefix=bad), self.assertRaises(ValueError):
                unique.configure(prefix=bad)


class RunIdentityTests(unittest.TestCase):
    def tearDown(self):
        _run._reset_for_tests()

    def test_worker_token_reads_xdist_then_falls_back_to_pid(self):
        with mock.patch.dict(os.environ, {"PYTEST_XDIST_WORKER": "gw2"}):
            os.environ.pop("TESTDATA_WORKER", None)
            _run._reset_for_tests()
            self.assertEqual(_run.worker_token(), "gw2p" + _run.base36(os.getpid()))
        with mock.patch.dict(os.environ, clear=False):
            os.environ.pop("PYTEST_XDIST_WORKER", None)
            os.environ.pop("TESTDATA_WORKER", None)
            _run._reset_for_tests()
            self.assertEqual(_run.worker_token(), "p" + _run.base36(os.getpid()))

    def test_xdist_workers_of_one_run_share_a_run_id_that_changes_between_runs(self):
        ids = []
        for uid in ("aaaa", "aaaa", "bbbb"):
            with mock.patch.dict(os.environ, {"PYTEST_XDIST_TESTRUNUID": uid}):
                os.environ.pop("TESTDATA_RUN_ID", None)
                _run._reset_for_tests()
                ids.append(_run.run_id())
        self.assertEqual(ids[0], ids[1])
        self.assertNotEqual(ids[0], ids[2])

    @unittest.skipUnless(hasattr(os, "fork"), "needs fork")
    def test_forked_child_gets_its_own_worker_token(self):
        read, write = os.pipe()
        with warnings.catch_warnings():
            # 3.12+ warns when other tests left threads running (servers); this child only writes a pipe.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            os.write(write, unique.token().encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            child_token = pipe.read()
        os.waitpid(pid, 0)
        self.assertTrue(unique.parse(child_token).worker.endswith("p" + _run.base36(pid)))
        self.assertNotEqual(unique.parse(child_token).worker, _run.worker_token())


if __name__ == "__main__":
    unittest.main()
