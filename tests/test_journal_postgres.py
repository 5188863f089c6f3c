"""The PostgreSQL journal store against a real server (start one with .ci/start-postgres): the store contract, two
machines sharing it, and a store that cannot be reached."""

from __future__ import annotations

import os
import unittest
import uuid

from testdata_kit import journal
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
