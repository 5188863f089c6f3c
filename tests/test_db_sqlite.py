"""Tests for SQLite snapshots: restore, persistence, the several uses of one Snapshot, other connections."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import unittest

from testdata_kit.db import DatabaseInUseError, Snapshot, UnknownSnapshotError
from testdata_kit.db.reset import main
from testdata_kit.db.sqlite import SQLiteBackend, snapshot
from tests._support import problems, run_cases


def make_db(path: str, rows: int = 3, journal: str = "delete") -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA journal_mode={journal}")
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
        conn.executemany("INSERT INTO users (email) VALUES (?)", [(f"u{i}@example.com",) for i in range(rows)])
    conn.close()


def count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM users").fetchone()[0])


def rows(path: str) -> list[tuple[int, str]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        found = conn.execute("SELECT id, email FROM users ORDER BY id").fetchall()
    conn.close()
    return found


# A suite run as its own process: the two classes write, the run-scope restore happens when the process exits.
RUN_SCOPE_SUITE = textwrap.dedent("""
    import sqlite3, sys, unittest
    from testdata_kit.db.sqlite import snapshot

    snap = snapshot(sys.argv[1], "baseline", scope="run")
    app = sqlite3.connect(sys.argv[1], isolation_level=None)

    def count():
        return app.execute("SELECT count(*) FROM users").fetchone()[0]

    @snap
    class First(unittest.TestCase):
        def test_insert(self):
            app.execute("INSERT INTO users (email) VALUES ('first@example.com')")

    @snap
    class Second(unittest.TestCase):
        def test_sees_first_and_edits(self):
            self.assertEqual(count(), 4)
            app.execute("UPDATE users SET email = 'changed@example.com' WHERE id = 1")
            app.execute("INSERT INTO users (email) VALUES ('second@example.com')")

    program = unittest.main(argv=["suite"], exit=False)
    print(f"ok={program.result.wasSuccessful()} rows-before-exit={count()}")
    app.close()
""")


class TempDbCase(unittest.TestCase):
    journal = "delete"

    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.path = os.path.join(tmp.name, "app.db")
        make_db(self.path, journal=self.journal)
        self.backend = SQLiteBackend(self.path, timeout=0.3)
        self.addCleanup(self.backend.close)
        # The connection the code under test would hold.
        self.app = sqlite3.connect(self.path, isolation_level=None)
        self.addCleanup(self.app.close)


class BackendTests(TempDbCase):
    def test_restore_undoes_inserts_deletes_and_schema_changes(self) -> None:
        self.backend.take("baseline")
        self.app.execute("DELETE FROM users WHERE id = 1")
        self.app.execute("INSERT INTO users (email) VALUES ('x@example.com'), ('y@example.com')")
        self.app.execute("CREATE TABLE extra (x)")
        self.backend.restore("baseline")
        self.assertEqual(count(self.app), 3)
        self.assertEqual(self.app.execute("SELECT email FROM users WHERE id = 1").fetchone(), ("u0@example.com",))
        tables = [r[0] for r in self.app.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        self.assertEqual(tables, ["users"])

    def test_restore_twice_from_the_same_snapshot(self) -> None:
        self.backend.take("baseline")
        for _ in range(2):
            self.app.execute("DELETE FROM users")
            self.backend.restore("baseline")
            self.assertEqual(count(self.app), 3)

    def test_snapshot_is_written_next_to_the_database_and_found_by_another_process(self) -> None:
        self.backend.take("nightly")
        self.assertTrue(os.path.isfile(self.path + ".snapshots/nightly.sqlite3"))
        self.app.execute("DELETE FROM users")
        other = SQLiteBackend(self.path)
        self.addCleanup(other.close)
        self.assertEqual(other.names(), ["nightly"])
        other.restore("nightly")
        self.assertEqual(count(self.app), 3)

    def test_drop_removes_memory_and_file_copies(self) -> None:
        self.backend.take("gone")
        self.backend.drop("gone")
        self.assertEqual(self.backend.names(), [])
        self.assertFalse(os.path.exists(self.path + ".snapshots/gone.sqlite3"))

    def test_unknown_name_lists_known_and_leaves_database_alone(self) -> None:
        self.backend.take("baseline")
        self.app.execute("DELETE FROM users WHERE id = 3")
        with self.assertRaises(UnknownSnapshotError) as ctx:
            self.backend.restore("basline")
        self.assertEqual(ctx.exception.known, ["baseline"])
        self.assertEqual(count(self.app), 2)

    def test_in_memory_connection_keeps_snapshots_in_memory_only(self) -> None:
        conn = sqlite3.connect(":memory:")
        self.addCleanup(conn.close)
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
        conn.commit()
        backend = SQLiteBackend(conn)
        backend.take("baseline")
        conn.execute("INSERT INTO users (email) VALUES ('a@example.com')")
        conn.commit()
        backend.restore("baseline")
        self.assertEqual(count(conn), 0)
        backend.close()
        # The backend does not close a connection it was given.
        self.assertEqual(count(conn), 0)


class OtherConnectionTests(TempDbCase):
    """What the code under test sees, in rollback-journal mode."""

    def test_idle_connection_sees_restored_content_on_next_read(self) -> None:
        self.backend.take("baseline")
        self.app.execute("DELETE FROM users")
        self.assertEqual(count(self.app), 0)
        self.backend.restore("baseline")
        self.assertEqual(count(self.app), 3)

    def test_open_read_transaction_blocks_restore_and_nothing_changes(self) -> None:
        self.backend.take("baseline")
        self.app.execute("DELETE FROM users WHERE id = 1")
        self.app.execute("BEGIN")
        count(self.app)
        with self.assertRaises(DatabaseInUseError) as ctx:
            self.backend.restore("baseline")
        self.assertEqual(ctx.exception.database, self.path)
        self.app.execute("ROLLBACK")
        self.assertEqual(count(self.app), 2)

    def test_open_transaction_on_the_given_connection_is_refused(self) -> None:
        backend = SQLiteBackend(self.app)
        backend.take("baseline")
        self.app.execute("BEGIN")
        self.app.execute("DELETE FROM users")
        with self.assertRaises(DatabaseInUseError):
            backend.restore("baseline")
        self.app.execute("ROLLBACK")
        backend.close()


class WalConnectionTests(TempDbCase):
    """What the code under test sees in WAL mode."""

    journal = "wal"

    def test_reader_keeps_old_view_until_its_transaction_ends(self) -> None:
        self.backend.take("baseline")
        self.app.execute("DELETE FROM users")
        self.app.execute("BEGIN")
        self.assertEqual(count(self.app), 0)
        self.backend.restore("baseline")
        self.assertEqual(count(self.app), 0)
        self.app.execute("COMMIT")
        self.assertEqual(count(self.app), 3)
        self.assertEqual(self.app.execute("PRAGMA journal_mode").fetchone(), ("wal",))

    def test_open_write_transaction_blocks_restore(self) -> None:
        self.backend.take("baseline")
        self.app.execute("BEGIN IMMEDIATE")
        self.app.execute("DELETE FROM users")
        with self.assertRaises(DatabaseInUseError):
            self.backend.restore("baseline")
        self.app.execute("COMMIT")
        self.assertEqual(count(self.app), 0)


class SeveralUsesTests(TempDbCase):
    def test_context_manager_takes_then_restores(self) -> None:
        snap = snapshot(self.backend, "ctx")
        with snap:
            self.app.execute("DELETE FROM users")
        self.assertEqual(count(self.app), 3)
        self.assertTrue(snap.taken)

    def test_class_decorator_restores_after_each_test(self) -> None:
        snap = snapshot(self.backend, "deco", scope="test")
        app = self.app
        seen: list[int] = []

        @snap
        class Inner(unittest.TestCase):
            def setUp(self) -> None:
                app.execute("INSERT INTO users (email) VALUES ('setup@example.com')")

            def test_a(self) -> None:
                seen.append(count(app))
                app.execute("DELETE FROM users")

            def test_b(self) -> None:
                seen.append(count(app))

        result = self._run(Inner)
        self.assertTrue(result.wasSuccessful(), result.errors)
        self.assertEqual(seen, [4, 4])
        self.assertEqual(count(self.app), 3)

    def test_mixin_with_class_scope_restores_once_after_the_class(self) -> None:
        snap = snapshot(self.backend, "mixin", scope="class")
        app = self.app
        seen: list[int] = []

        class Inner(snap, unittest.TestCase):  # type: ignore[misc]
            def test_a(self) -> None:
                app.execute("INSERT INTO users (email) VALUES ('a@example.com')")
                seen.append(count(app))

            def test_b(self) -> None:
                app.execute("INSERT INTO users (email) VALUES ('b@example.com')")
                seen.append(count(app))

        result = self._run(Inner)
        self.assertTrue(result.wasSuccessful(), result.errors)
        self.assertEqual(seen, [4, 5])
        self.assertEqual(count(self.app), 3)

    def test_module_scope_restores_after_the_last_class_of_the_module(self) -> None:
        snap = snapshot(self.backend, "module", scope="module")
        app = self.app
        seen: list[tuple[str, int]] = []

        @snap
        class First(unittest.TestCase):
            def test_insert(self) -> None:
                app.execute("INSERT INTO users (email) VALUES ('first@example.com')")

            @classmethod
            def tearDownClass(cls) -> None:
                seen.append(("end of First", count(app)))

        class Second(snap, unittest.TestCase):  # type: ignore[misc]
            def test_insert(self) -> None:
                seen.append(("Second sees", count(app)))
                app.execute("INSERT INTO users (email) VALUES ('second@example.com')")

            @classmethod
            def tearDownClass(cls) -> None:
                seen.append(("end of Second", count(app)))

        # run_cases ends like any unittest run: the module's teardown runs unittest's module cleanups.
        result, _ = run_cases(First, Second)
        self.assertTrue(result.wasSuccessful(), problems(result))
        # Nothing is restored between the classes, nor at the end of the last one ...
        self.assertEqual(seen, [("end of First", 4), ("Second sees", 4), ("end of Second", 5)])
        # ... but once the module is done.
        self.assertEqual(count(self.app), 3)

    def test_run_scope_restores_when_the_process_exits(self) -> None:
        script = os.path.join(os.path.dirname(self.path), "suite.py")
        with open(script, "w", encoding="utf-8") as handle:
            handle.write(RUN_SCOPE_SUITE)
        before = rows(self.path)
        done = subprocess.run([sys.executable, script, self.path], capture_output=True, text=True, timeout=60,
                              check=False)
        self.assertEqual(done.returncode, 0, done.stderr)
        # Both classes ran against the same, unrestored database; the restore waited for the end of the run.
        self.assertEqual(done.stdout.strip(), "ok=True rows-before-exit=5", done.stderr)
        self.assertNotIn("run-scope cleanup failed", done.stderr)
        self.assertEqual(rows(self.path), before)
        self.assertEqual(rows(self.path + ".snapshots/baseline.sqlite3"), before)

    def test_decorator_rejects_a_plain_class(self) -> None:
        snap = snapshot(self.backend, "plain")
        with self.assertRaisesRegex(TypeError, r"^Can only decorate unittest.TestCase subclasses, not .*Make it"):
            snap(object)

    def test_repr_names_snapshot_database_and_scope(self) -> None:
        snap: Snapshot = snapshot(self.backend, "named", scope="module")
        self.assertEqual(repr(snap), f"<Snapshot 'named' of SQLite database {self.path!r} scope=module not taken>")

    def _run(self, case: type[unittest.TestCase]) -> unittest.TestResult:
        suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
        return unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(suite)


class ResetCommandTests(TempDbCase):
    """``python -m testdata_kit reset --sqlite PATH``: dry run by default, restores with --yes."""

    def reset(self, *argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()

    def test_without_yes_nothing_changes(self) -> None:
        self.backend.take("nightly")
        self.app.execute("DELETE FROM users")
        code, out, _ = self.reset("--sqlite", self.path, "--snapshot", "nightly")
        self.assertEqual(code, 0)
        self.assertTrue(out.startswith("Dry run: would restore"), out)
        self.assertEqual(count(self.app), 0)

    def test_with_yes_restores_from_the_file_written_by_another_process(self) -> None:
        self.backend.take("nightly")
        self.app.execute("DELETE FROM users")
        code, out, _ = self.reset("--sqlite", self.path, "--to-snapshot", "nightly", "--yes")
        self.assertEqual((code, out), (0, f"Restored SQLite database {self.path!r} to snapshot 'nightly'.\n"))
        self.assertEqual(count(self.app), 3)

    def test_unknown_snapshot_fails_and_lists_known(self) -> None:
        self.backend.take("nightly")
        self.app.execute("DELETE FROM users")
        code, _, err = self.reset("--sqlite", self.path, "--snapshot", "nighty", "--yes")
        self.assertEqual(code, 1)
        self.assertIn("Known snapshots: 'nightly'.", err)
        self.assertEqual(count(self.app), 0)

    def test_list(self) -> None:
        self.backend.take("nightly")
        self.backend.take("baseline")
        code, out, _ = self.reset("--sqlite", self.path, "--list")
        self.assertEqual((code, out), (0, f"Snapshots of SQLite database {self.path!r}: baseline, nightly\n"))

    def test_database_in_use_fails_without_changes(self) -> None:
        self.backend.take("nightly")
        self.app.execute("BEGIN IMMEDIATE")
        self.app.execute("DELETE FROM users")
        code, _, err = self.reset("--sqlite", self.path, "--snapshot", "nightly", "--yes", "--timeout", "0.2")
        self.app.execute("COMMIT")
        self.assertEqual(code, 1)
        self.assertIn("is in use by another connection's open transaction (waited 0.2 s)", err)
        self.assertEqual(count(self.app), 0)


if __name__ == "__main__":
    unittest.main()
