"""Pinned wording of the database errors and of the reset command: these messages are the user interface."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

from testdata_kit.db import (
    DatabaseInUseError,
    InvalidSnapshotNameError,
    MissingPrivilegeError,
    UnknownSnapshotError,
)
from testdata_kit.db.reference import ReferenceDataMutatedError
from testdata_kit.db.reset import HostNotAllowedError, check_host, main
from testdata_kit.db.sqlite import SQLiteBackend


class SQLiteMessages(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.path = os.path.join(tmp.name, "app.db")
        conn = sqlite3.connect(self.path)
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
        conn.commit()
        conn.close()
        self.backend = SQLiteBackend(self.path, timeout=0.2)
        self.addCleanup(self.backend.close)

    def test_unknown_snapshot_lists_the_known_ones(self) -> None:
        self.backend.take("baseline")
        self.backend.take("seeded")
        with self.assertRaises(UnknownSnapshotError) as ctx:
            self.backend.restore("nightly")
        self.assertEqual(
            str(ctx.exception),
            f"No snapshot 'nightly' of SQLite database {self.path!r}. Known snapshots: 'baseline', 'seeded'.",
        )

    def test_unknown_snapshot_when_there_are_none(self) -> None:
        with self.assertRaises(UnknownSnapshotError) as ctx:
            self.backend.restore("nightly")
        self.assertEqual(
            str(ctx.exception),
            f"No snapshot 'nightly' of SQLite database {self.path!r}. Known snapshots: none (take one first "
            f"with .take()).",
        )

    def test_database_in_use(self) -> None:
        self.backend.take("baseline")
        other = sqlite3.connect(self.path, isolation_level=None)
        self.addCleanup(other.close)
        other.execute("BEGIN IMMEDIATE")
        with self.assertRaises(DatabaseInUseError) as ctx:
            self.backend.restore("baseline")
        other.execute("ROLLBACK")
        self.assertEqual(
            str(ctx.exception),
            f"Database {self.path!r} is in use by another connection's open transaction (waited 0.2 s); it was "
            f"left unchanged. End the transaction (commit/rollback) or close that connection, then restore "
            f"again; in WAL mode only write transactions block a restore.",
        )

    def test_invalid_name(self) -> None:
        with self.assertRaises(InvalidSnapshotNameError) as ctx:
            self.backend.take("Nightly Reset")
        self.assertEqual(
            str(ctx.exception),
            "Invalid snapshot name 'Nightly Reset': use 1-30 characters, lower-case letters, digits and '_', "
            "starting with a letter (for example 'baseline' or 'seed_v2').",
        )


class OtherMessages(unittest.TestCase):
    def test_missing_privilege_parts(self) -> None:
        error = MissingPrivilegeError("CREATEDB", "app", "take snapshot 'baseline' of database 'shop'", "Fix it.")
        self.assertEqual(
            str(error), "Role 'app' lacks the CREATEDB privilege needed to take snapshot 'baseline' of database "
            "'shop'. Fix it.",
        )
        self.assertEqual((error.privilege, error.role), ("CREATEDB", "app"))

    def test_reference_data_mutated(self) -> None:
        error = ReferenceDataMutatedError([("tests.test_x.T.test_rename", ["countries", "currencies"])])
        self.assertEqual(
            str(error),
            "Shared reference data was mutated:\n"
            "  - tests.test_x.T.test_rename changed countries, currencies\n"
            "Reference data must stay read-only: create what the test changes with a factory instead, or "
            "restore it with a snapshot.",
        )

    def test_host_not_allowed(self) -> None:
        with self.assertRaises(HostNotAllowedError) as caught:
            check_host(["/var/run/postgresql", "", "db.prod.example.com"], frozenset({"qa-db"}))
        self.assertEqual(
            str(caught.exception),
            "Refusing to reset a database on host 'db.prod.example.com': it is neither loopback nor an allowed "
            "host (allowed: qa-db), and test data tools create and delete data wherever they point. If "
            "'db.prod.example.com' holds only test data, add it to the TESTDATA_ALLOWED_HOSTS environment variable "
            "(comma-separated) or to allowed-hosts in the [testdata_kit] section of setup.cfg.",
        )


class MissingExtraMessage(unittest.TestCase):
    def test_postgres_without_psycopg_names_the_extra(self) -> None:
        code = "import sys; sys.modules['psycopg'] = None; import testdata_kit.db.postgres"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn(
            "MissingExtraError: testdata_kit.db.postgres needs the 'psycopg' package, which is not installed. "
            "Install it with: pip install 'testdata_kit[postgres]'",
            done.stderr,
        )

    def test_core_db_import_does_not_import_psycopg(self) -> None:
        code = (
            "import sys, testdata_kit.db, testdata_kit.db.sqlite, testdata_kit.db.reset, testdata_kit.db.reference; "
            "print('psycopg' in sys.modules)"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        self.assertEqual(done.stdout, "False\n")


class ResetCommandMessages(unittest.TestCase):
    def run_reset(self, *argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), stdout=out, stderr=err)
        return code, out.getvalue(), err.getvalue()

    def test_production_host_is_refused_before_connecting(self) -> None:
        # Nothing listens there: the refusal must come before any connection attempt.
        with tempfile.TemporaryDirectory() as tmp, mock.patch.dict(os.environ):
            cfg = os.path.join(tmp, "setup.cfg")
            with open(cfg, "w", encoding="utf-8") as handle:
                handle.write("[testdata_kit]\nallowed-hosts = qa-db\n")
            os.environ["TESTDATA_ALLOWED_HOSTS"] = "ci-db.internal"
            code, out, err = self.run_reset(
                "--dsn", "postgresql://app@db.prod.example.com:1/shop", "--snapshot", "baseline", "--yes",
                "--config", cfg,
            )
        self.assertEqual((code, out), (1, ""))
        self.assertEqual(
            err,
            "reset: error: Refusing to reset a database on host 'db.prod.example.com': it is neither loopback nor "
            "an allowed host (allowed: ci-db.internal, qa-db), and test data tools create and delete data "
            "wherever they point. If 'db.prod.example.com' holds only test data, add it to the "
            "TESTDATA_ALLOWED_HOSTS environment variable (comma-separated) or to allowed-hosts in the "
            f"[testdata_kit] section of {cfg}.\n",
        )

    def test_missing_sqlite_file(self) -> None:
        code, _, err = self.run_reset("--sqlite", "/nonexistent/app.db", "--snapshot", "baseline")
        self.assertEqual(code, 2)
        self.assertEqual(
            err, "reset: error: SQLite database '/nonexistent/app.db' does not exist; check the path.\n"
        )

    def test_dry_run_wording(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "app.db")
            sqlite3.connect(path).close()
            backend = SQLiteBackend(path)
            backend.take("baseline")
            backend.close()
            code, out, _ = self.run_reset("--sqlite", path, "--to-snapshot", "baseline")
        self.assertEqual(code, 0)
        self.assertEqual(
            out,
            f"Dry run: would restore SQLite database {path!r} to snapshot 'baseline', replacing its current "
            f"content. Re-run with --yes to do it.\n",
        )


if __name__ == "__main__":
    unittest.main()
