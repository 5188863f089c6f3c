"""The PostgreSQL journal store against a real server (start one with .ci/start-postgres): the store contract, two
machines sharing it, and a store that cannot be reached."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import unittest
import uuid
from typing import Any

from testdata_kit import DataTestCase, Registry, creates, journal, ledger
from testdata_kit.journal._store import Store
from tests._launch import free_port
from tests._store_contract import StoreContract
from tests._two_machines import TwoMachines

DSN = os.environ.get("TESTDATA_POSTGRES_DSN", "")
if not DSN and os.environ.get("CI"):
    raise RuntimeError(
        "CI is set but TESTDATA_POSTGRES_DSN is not: the PostgreSQL tests must run in CI. "
        "Start a server with `.ci/start-postgres FILE` and source FILE before running the tests."
    )
NO_SERVER = "TESTDATA_POSTGRES_DSN is not set; start a server with `.ci/start-postgres` and export its lines"


def schema_url(test: unittest.TestCase) -> str:
    """The URL of an empty schema of *test*'s own on the test server, dropped after the test."""
    import psycopg

    schema = f"tdk_journal_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(DSN, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with psycopg.connect(DSN, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")

    test.addCleanup(drop)
    return f"{DSN}{'&' if '?' in DSN else '?'}options=-csearch_path%3D{schema}"


@unittest.skipUnless(DSN, NO_SERVER)
class PostgresStoreContract(StoreContract, unittest.TestCase):
    def make_store(self) -> Store:
        return journal.open_store(schema_url(self))

    def make_unreachable_store(self) -> Store:
        return journal.open_store(f"postgresql://testdata:s3cr3t@127.0.0.1:{free_port()}/nowhere")

    def test_the_store_is_postgres_with_its_two_tables(self) -> None:
        import psycopg

        store = self.store()
        self.assertEqual(type(store).__name__, "PostgresStore")
        store.check()
        url = store.url
        self.assertNotIn("testdata:testdata@", url, "the password is masked")
        with psycopg.connect(store._dsn) as connection:  # type: ignore[attr-defined]
            tables = {row[0] for row in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}
        self.assertEqual(tables, {"testdata_journal_streams", "testdata_journal_records"})

    def test_the_lease_runs_on_the_servers_clock(self) -> None:
        store = self.store()
        writer = store.open_stream({"op": "open", "v": 1, "run": "r", "pid": 1, "host": "h", "worker": None,
                                    "started": 1.0, "heartbeat": 10.0, "lease": 30.0, "boot": None})
        self.addCleanup(writer.close, False)
        (found,) = store.streams()
        # started says 1970: the expiry comes from the server's now(), not from the header.
        self.assertGreater(found.lease.expires, store.now() + 20)


@unittest.skipUnless(DSN, NO_SERVER)
class PostgresTwoMachines(TwoMachines, unittest.TestCase):
    def store_url(self) -> str:
        return schema_url(self)


def _nothing(ident: object) -> None:
    """A module-level recovery target."""


@unittest.skipUnless(DSN, NO_SERVER)
class StoreLostMidRunTests(unittest.TestCase):
    """The store's tables vanish between two creations: the second raises before its create, or moves to the
    fallback folder with everything journaled so far."""

    def run_two_creations(self, fallback: str | None) -> tuple[unittest.TestResult, list[int], str, list[str]]:
        import psycopg

        url = schema_url(self)
        kinds = Registry()
        calls: list[int] = []
        seen: list[str] = []

        @creates("thing", registry=kinds, recover=_nothing)
        def thing() -> Any:
            calls.append(1)
            yield {"id": len(calls)}

        def lose_the_store() -> None:
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute("DROP TABLE testdata_journal_records, testdata_journal_streams")

        class Inner(DataTestCase):
            registry = kinds

            def test_it(self) -> None:
                self.create("thing")
                lose_the_store()
                self.create("thing")
                if fallback is not None:
                    (stream,) = journal.scan(fallback)
                    seen.extend(e.describe() for e in stream.pending())

        result = unittest.TestResult()
        err = io.StringIO()
        with ledger.isolated() as books, contextlib.redirect_stderr(err):
            log = journal.Journal(store=journal.open_store(url), heartbeat=0, fallback=fallback)
            books.observers.append(log)
            unittest.TestLoader().loadTestsFromTestCase(Inner).run(result)
            books.close()
        return result, calls, err.getvalue(), seen

    def test_without_a_fallback_the_next_create_does_not_happen(self) -> None:
        result, calls, err, _ = self.run_two_creations(None)
        self.assertEqual(calls, [1], "the second create never ran: its intent could not be journaled")
        (error,) = [text for _, text in result.errors]
        self.assertIn("StoreUnreachable: the journal store postgresql://testdata:***@", error)
        self.assertIn('relation "testdata_journal_records" does not exist', error)
        self.assertNotIn("testdata:testdata@", error + err)

    def test_with_a_fallback_the_journal_moves_there_with_what_it_held(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            result, calls, err, seen = self.run_two_creations(folder)
            self.assertTrue(result.wasSuccessful(), result.errors)
            self.assertEqual(calls, [1, 1])
            self.assertEqual([line.partition(" (")[0] for line in seen], ["thing id=2", "thing id=1"],
                             "both creations are on record in the fallback folder")
            self.assertIn(f"journaling to the fallback folder {folder} from now on", err)
            self.assertNotIn("testdata:testdata@", err)
            self.assertEqual(journal.scan(folder), [], "the run released everything, so its journal is gone")
