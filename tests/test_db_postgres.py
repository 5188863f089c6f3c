"""Tests for PostgreSQL snapshots against a real server (start one with .ci/start-postgres)."""

from __future__ import annotations

import io
import os
import unittest
import uuid

import psycopg
from psycopg import sql

from testdata_kit.db import DatabaseInUseError, MissingPrivilegeError, UnknownSnapshotError
from testdata_kit.db.postgres import TemplateBackend, TruncateBackend, describe_dsn, snapshot
from testdata_kit.db.reference import ReferenceData
from testdata_kit.db.reset import main as reset_main

DSN = os.environ.get("TESTDATA_POSTGRES_DSN", "")
PLAIN_DSN = os.environ.get("TESTDATA_POSTGRES_NOCREATEDB_DSN", "")

if not DSN and os.environ.get("CI"):
    raise RuntimeError(
        "CI is set but TESTDATA_POSTGRES_DSN is not: the PostgreSQL tests must run in CI. "
        "Start a server with `.ci/start-postgres FILE` and source FILE before running the tests."
    )
NO_SERVER = (
    "TESTDATA_POSTGRES_DSN is not set; start a server with `.ci/start-postgres` and export its lines "
    "to run the PostgreSQL tests."
)

SCHEMA = """
CREATE TABLE countries (code text PRIMARY KEY, name text NOT NULL);
CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text,
                    country text REFERENCES countries, shout text GENERATED ALWAYS AS (upper(email)) STORED);
CREATE TABLE orders (id serial PRIMARY KEY, user_id bigint REFERENCES users, parent int REFERENCES orders);
INSERT INTO countries VALUES ('FR', 'France'), ('JP', 'Japan');
INSERT INTO users (email, country) VALUES ('a@example.com', 'FR'), ('b@example.com', 'JP');
INSERT INTO orders (user_id) VALUES (1), (2);
INSERT INTO orders (user_id, parent) VALUES (1, 1);
"""


def admin() -> psycopg.Connection:
    return psycopg.connect(DSN, autocommit=True)


@unittest.skipUnless(DSN, NO_SERVER)
class FreshDatabase(unittest.TestCase):
    """Each test gets its own database, created by the superuser and filled with SCHEMA."""

    owner_dsn = DSN

    def setUp(self) -> None:
        self.dbname = "t_" + uuid.uuid4().hex[:12]
        owner = psycopg.conninfo.conninfo_to_dict(self.owner_dsn)["user"]
        with admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(self.dbname), sql.Identifier(str(owner))))
        self.addCleanup(self._drop_all)
        self.dsn = psycopg.conninfo.make_conninfo(self.owner_dsn, dbname=self.dbname)
        with psycopg.connect(self.dsn) as conn:
            conn.execute(SCHEMA)

    def _drop_all(self) -> None:
        with admin() as conn:
            rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (self.dbname + "%",))
            for (name,) in rows.fetchall():
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))

    def connect(self) -> psycopg.Connection:
        conn = psycopg.connect(self.dsn, autocommit=True)
        self.addCleanup(conn.close)
        return conn

    def state(self) -> tuple[object, ...]:
        with psycopg.connect(self.dsn) as conn:
            return (
                conn.execute("SELECT count(*) FROM users").fetchone(),
                conn.execute("SELECT email, shout FROM users ORDER BY id").fetchall(),
                conn.execute("SELECT count(*) FROM orders").fetchone(),
            )

    def mutate(self) -> None:
        with psycopg.connect(self.dsn) as conn:
            conn.execute("DELETE FROM orders")
            conn.execute("UPDATE users SET email = 'changed@example.com'")
            conn.execute("INSERT INTO users (email) VALUES ('new@example.com')")

    def next_user_id(self) -> int:
        with psycopg.connect(self.dsn) as conn:
            row = conn.execute("INSERT INTO users (email) VALUES ('n@example.com') RETURNING id").fetchone()
            return int(row[0])  # type: ignore[index]


class TemplateBackendTests(FreshDatabase):
    def backend(self) -> TemplateBackend:
        backend = TemplateBackend(self.dsn, timeout=2)
        self.addCleanup(backend.close)
        return backend

    def test_restore_brings_back_rows_and_sequences(self) -> None:
        backend = self.backend()
        before = self.state()
        backend.take("baseline")
        self.assertEqual(backend.names(), ["baseline"])
        self.mutate()
        backend.restore("baseline")
        self.assertEqual(self.state(), before)
        self.assertEqual(self.next_user_id(), 3)

    def test_restore_terminates_other_sessions_and_reopens_the_database(self) -> None:
        backend = self.backend()
        backend.take("baseline")
        held = self.connect()
        held.execute("DELETE FROM orders")
        backend.restore("baseline")
        with self.assertRaises(psycopg.OperationalError):
            held.execute("SELECT 1")
        self.assertEqual(self.connect().execute("SELECT count(*) FROM orders").fetchone(), (3,))

    def test_unknown_snapshot_lists_known_and_keeps_data(self) -> None:
        backend = self.backend()
        backend.take("baseline")
        self.mutate()
        after = self.state()
        with self.assertRaises(UnknownSnapshotError) as ctx:
            backend.restore("nightly")
        self.assertEqual(ctx.exception.known, ["baseline"])
        self.assertEqual(self.state(), after)

    def test_drop_removes_the_template_database(self) -> None:
        backend = self.backend()
        backend.take("gone")
        backend.drop("gone")
        self.assertEqual(backend.names(), [])

    def test_interrupted_restore_is_finished_by_the_next_one(self) -> None:
        backend = self.backend()
        backend.take("baseline")
        # What a crash between DROP and RENAME leaves: the full copy under the __restoring name.
        with admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(self.dbname + "__restoring"), sql.Identifier(self.dbname + "__snap_baseline")))
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(self.dbname)))
        backend.restore("baseline")
        self.assertEqual(self.state()[2], (3,))

    def test_snapshot_object_as_class_decorator(self) -> None:
        snap = snapshot(self.dsn, "deco", scope="test")
        self.addCleanup(snap.backend.close)
        dsn = self.dsn
        seen: list[object] = []

        @snap
        class Inner(unittest.TestCase):
            def test_a(self) -> None:
                with psycopg.connect(dsn) as conn:
                    seen.append(conn.execute("SELECT count(*) FROM orders").fetchone())
                    conn.execute("DELETE FROM orders")

            test_b = test_a

        result = unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(
            unittest.defaultTestLoader.loadTestsFromTestCase(Inner)
        )
        self.assertTrue(result.wasSuccessful(), result.errors)
        self.assertEqual(seen, [(3,), (3,)])


class TemplateInUseTests(FreshDatabase):
    """A CREATEDB role that is not superuser cannot end a superuser's session: the restore is refused."""

    def setUp(self) -> None:
        self.role = "r_" + uuid.uuid4().hex[:12]
        with admin() as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEDB").format(sql.Identifier(self.role)))
        self.addCleanup(self._drop_role)
        self.owner_dsn = psycopg.conninfo.make_conninfo(DSN, user=self.role, password="")
        super().setUp()

    def _drop_role(self) -> None:
        with admin() as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(self.role)))

    def test_session_it_may_not_terminate_makes_restore_fail_and_keeps_data(self) -> None:
        backend = TemplateBackend(self.dsn, timeout=0.5)
        self.addCleanup(backend.close)
        backend.take("baseline")
        self.mutate()
        after = self.state()
        superuser = psycopg.connect(psycopg.conninfo.make_conninfo(DSN, dbname=self.dbname), autocommit=True)
        self.addCleanup(superuser.close)
        with self.assertRaises(DatabaseInUseError) as ctx:
            backend.restore("baseline")
        self.assertIn(f"pid {superuser.info.backend_pid}", ctx.exception.holders)
        self.assertEqual(superuser.execute("SELECT 1").fetchone(), (1,))
        self.assertEqual(self.state(), after)
        self.assertEqual(backend.names(), ["baseline"])
        superuser.close()
        backend.restore("baseline")
        self.assertEqual(self.state()[2], (3,))


@unittest.skipUnless(PLAIN_DSN, "TESTDATA_POSTGRES_NOCREATEDB_DSN (a role without CREATEDB) is not set")
class PlainRoleTests(FreshDatabase):
    """A role without CREATEDB: the template strategy refuses, the truncate strategy works."""

    owner_dsn = PLAIN_DSN

    def test_template_strategy_names_the_missing_createdb_privilege(self) -> None:
        backend = TemplateBackend(self.dsn)
        self.addCleanup(backend.close)
        with self.assertRaises(MissingPrivilegeError) as ctx:
            backend.take("baseline")
        role = backend.role
        self.assertEqual(
            str(ctx.exception),
            f"Role {role!r} lacks the CREATEDB privilege needed to take snapshot 'baseline' of database "
            f"{self.dbname!r}. Grant it with: ALTER ROLE {role} CREATEDB; or use TruncateBackend "
            f"(strategy='truncate'), which needs only CREATE on the database and TRUNCATE/INSERT on the tables.",
        )

    def test_truncate_strategy_restores_rows_sequences_and_generated_columns(self) -> None:
        backend = TruncateBackend(self.dsn)
        self.addCleanup(backend.close)
        before = self.state()
        backend.take("baseline")
        self.mutate()
        backend.restore("baseline")
        self.assertEqual(self.state(), before)
        self.assertEqual(self.next_user_id(), 3)

    def test_truncate_without_create_on_database_names_that_privilege(self) -> None:
        with admin() as conn:
            conn.execute(sql.SQL("REVOKE CREATE ON DATABASE {} FROM PUBLIC, {}").format(
                sql.Identifier(self.dbname), sql.Identifier(str(psycopg.conninfo.conninfo_to_dict(PLAIN_DSN)["user"]))))
            conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(self.dbname), sql.Identifier(str(psycopg.conninfo.conninfo_to_dict(DSN)["user"]))))
        backend = TruncateBackend(self.dsn)
        self.addCleanup(backend.close)
        with self.assertRaises(MissingPrivilegeError) as ctx:
            backend.take("baseline")
        self.assertEqual(
            str(ctx.exception),
            f"Role {backend.role!r} lacks the CREATE privilege needed to create the snapshot schema "
            f"'testdata_snap_baseline' in database {self.dbname!r}. Grant it with: GRANT CREATE ON DATABASE "
            f"{self.dbname} TO {backend.role};",
        )
        self.assertEqual(backend.names(), [])

    def test_truncate_without_truncate_on_a_table_names_it_and_changes_nothing(self) -> None:
        backend = TruncateBackend(self.dsn)
        self.addCleanup(backend.close)
        backend.take("baseline")
        self.mutate()
        after = self.state()
        with psycopg.connect(psycopg.conninfo.make_conninfo(DSN, dbname=self.dbname), autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER TABLE users OWNER TO {}").format(
                sql.Identifier(str(psycopg.conninfo.conninfo_to_dict(DSN)["user"]))))
            conn.execute(sql.SQL("GRANT SELECT ON users TO {}").format(sql.Identifier(backend.role)))
        with self.assertRaises(MissingPrivilegeError) as ctx:
            backend.restore("baseline")
        self.assertEqual(ctx.exception.privilege, "TRUNCATE")
        self.assertIn("GRANT TRUNCATE, INSERT ON public.users", str(ctx.exception))
        self.assertEqual(self.state(), after)


class ResetCommandTests(FreshDatabase):
    """``python -m testdata_kit reset --dsn``: the guard, the dry run and both strategies."""

    def reset(self, *argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        return reset_main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()

    def test_dry_run_then_yes(self) -> None:
        backend = TemplateBackend(self.dsn)
        self.addCleanup(backend.close)
        backend.take("nightly")
        self.mutate()
        after = self.state()
        code, out, _ = self.reset("--dsn", self.dsn, "--snapshot", "nightly")
        self.assertEqual(code, 0)
        self.assertIn("disconnecting every other session", out)
        self.assertEqual(self.state(), after)
        code, out, _ = self.reset("--dsn", self.dsn, "--snapshot", "nightly", "--yes")
        self.assertEqual(code, 0, out)
        self.assertEqual(self.state()[2], (3,))

    def test_truncate_strategy_and_unknown_name(self) -> None:
        backend = TruncateBackend(self.dsn)
        self.addCleanup(backend.close)
        backend.take("nightly")
        self.mutate()
        code, _, err = self.reset("--dsn", self.dsn, "--strategy", "truncate", "--snapshot", "nigthly", "--yes")
        self.assertEqual(code, 1)
        self.assertIn("No snapshot 'nigthly'", err)
        self.assertIn("Known snapshots: 'nightly'.", err)
        code, _, _ = self.reset("--dsn", self.dsn, "--strategy", "truncate", "--snapshot", "nightly", "--yes")
        self.assertEqual(code, 0)
        self.assertEqual(self.state()[2], (3,))

    def test_unreachable_server_is_a_clear_error(self) -> None:
        dsn = psycopg.conninfo.make_conninfo(self.dsn, port=1, connect_timeout=2)
        code, _, err = self.reset("--dsn", dsn, "--snapshot", "nightly")
        self.assertEqual(code, 1)
        self.assertIn("Cannot connect to", err)
        self.assertIn(":1/", err)


class ReferenceDataOnPostgres(FreshDatabase):
    def test_names_the_test_that_changed_a_reference_table(self) -> None:
        conn = psycopg.connect(self.dsn)
        self.addCleanup(conn.close)
        ref = ReferenceData(conn, ["public.countries"])
        dsn = self.dsn

        @ref
        class Inner(unittest.TestCase):
            def test_reads(self) -> None:
                with psycopg.connect(dsn) as other:
                    other.execute("SELECT * FROM countries").fetchall()

            def test_writes(self) -> None:
                with psycopg.connect(dsn) as other:
                    other.execute("UPDATE countries SET name = 'Nippon' WHERE code = 'JP'")

        result = unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(
            unittest.defaultTestLoader.loadTestsFromTestCase(Inner)
        )
        self.assertEqual(len(result.errors), 1, result.errors)
        self.assertIn("Inner.test_writes changed public.countries", result.errors[0][1])
        # The checks leave no transaction open that would block a restore.
        self.assertEqual(conn.info.transaction_status, psycopg.pq.TransactionStatus.IDLE)


class TruncateBackendTests(FreshDatabase):
    def backend(self) -> TruncateBackend:
        backend = TruncateBackend(self.dsn, timeout=0.3)
        self.addCleanup(backend.close)
        return backend

    def test_locked_table_fails_restore_and_changes_nothing(self) -> None:
        backend = self.backend()
        backend.take("baseline")
        self.mutate()
        after = self.state()
        holder = psycopg.connect(self.dsn)
        self.addCleanup(holder.close)
        holder.execute("SELECT * FROM countries")  # an open transaction holding a lock
        with self.assertRaises(DatabaseInUseError) as ctx:
            backend.restore("baseline")
        self.assertIn(str(holder.info.backend_pid), ctx.exception.holders)
        holder.rollback()
        self.assertEqual(self.state(), after)

    def test_other_sessions_survive_a_truncate_restore(self) -> None:
        backend = self.backend()
        backend.take("baseline")
        held = self.connect()
        held.execute("DELETE FROM orders")
        backend.restore("baseline")
        self.assertEqual(held.execute("SELECT count(*) FROM orders").fetchone(), (3,))

    def test_reconnects_after_its_session_was_terminated(self) -> None:
        backend = self.backend()
        backend.take("baseline")
        with admin() as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (backend._conn.info.backend_pid,))
        self.mutate()
        backend.restore("baseline")
        self.assertEqual(self.state()[2], (3,))

    def test_describe_hides_the_password(self) -> None:
        described = describe_dsn("postgresql://alice:s3cret@127.0.0.1:6543/shop")
        self.assertEqual(described, "alice@127.0.0.1:6543/shop")


if __name__ == "__main__":
    unittest.main()
