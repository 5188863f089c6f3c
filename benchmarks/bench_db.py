"""Benchmark: snapshot restores against re-seeding, per test.

Claim 1: restoring a 100k-row SQLite database from an in-memory snapshot takes milliseconds, far less than
re-running a seed script that inserts the same rows. Both are measured here, in this run.

Claim 2: on PostgreSQL, restoring from a template database beats truncate-and-reload once the data is big
enough; at small sizes the fixed cost of CREATE DATABASE dominates. Runs only when TESTDATA_POSTGRES_DSN is set.

Claim 3 (docs/howto/strategies.rst): the per-test reference data check, one ``SELECT *`` and checksum of each
reference table, costs well under a millisecond for a few hundred rows in SQLite. Measured on countries (250 rows),
currencies (180) and roles (12) in a file database, against the 1 ms the sentence promises to stay under.

Run: python benchmarks/bench_db.py [--rows N] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable

from testdata_kit.db.reference import ReferenceData, table_checksum
from testdata_kit.db.sqlite import SQLiteBackend


def median_ms(action: Callable[[], object], repeat: int, between: Callable[[], object] = lambda: None) -> float:
    """Return the median wall time of *action* in milliseconds; *between* runs untimed before each call."""
    times = []
    for _ in range(repeat):
        between()
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def seed_sqlite(conn: sqlite3.Connection, rows: int) -> None:
    conn.execute("DROP TABLE IF EXISTS users")
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, credit INTEGER)")
    conn.executemany(
        "INSERT INTO users (email, name, credit) VALUES (?, ?, ?)",
        ((f"user{i}@example.com", f"User {i}", i % 1000) for i in range(rows)),
    )
    conn.commit()


def bench_sqlite(rows: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.db")
        conn = sqlite3.connect(path)
        seed_sqlite(conn, rows)
        backend = SQLiteBackend(path, persist=False)
        backend.take("baseline")

        def mutate() -> None:
            # What a test typically does: a few writes that the restore must undo.
            conn.execute("DELETE FROM users WHERE id % 100 = 0")
            conn.commit()

        restore = median_ms(lambda: backend.restore("baseline"), repeat, mutate)
        reseed = median_ms(lambda: seed_sqlite(conn, rows), repeat, mutate)
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (rows,)
        backend.close()
        conn.close()
    print(f"SQLite, {rows} rows, median of {repeat}:")
    print(f"  snapshot restore (backup API)   {restore:9.2f} ms")
    print(f"  re-run seed script (inserts)    {reseed:9.2f} ms")
    print(f"  ratio seed / restore            {reseed / restore:9.1f}x")


def load_reference(conn: sqlite3.Connection) -> None:
    conn.executemany("INSERT INTO countries VALUES (?, ?, ?, ?)",
                     ((f"C{i:03d}", f"Country number {i}", f"K{i:02d}", 100 + i) for i in range(250)))
    conn.executemany("INSERT INTO currencies VALUES (?, ?, ?)", ((f"X{i:02d}", f"Currency {i}", 2) for i in range(180)))
    conn.executemany("INSERT INTO roles VALUES (?, ?)", ((i, f"role-{i}") for i in range(12)))


def bench_reference_check(repeat: int) -> None:
    tables = {"countries": 250, "currencies": 180, "roles": 12}
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(os.path.join(tmp, "reference.db"))
        conn.execute("CREATE TABLE countries (code TEXT PRIMARY KEY, name TEXT, iso3 TEXT, numeric INTEGER)")
        conn.execute("CREATE TABLE currencies (code TEXT PRIMARY KEY, name TEXT, minor_units INTEGER)")
        conn.execute("CREATE TABLE roles (id INTEGER PRIMARY KEY, name TEXT)")
        reference = ReferenceData(conn, list(tables), load_reference).ensure_loaded()
        # What ReferenceData does at the end of every test with per_test=True: checksum every table, compare.
        runs = max(repeat, 201)
        check = median_ms(lambda: reference.record("test_x"), runs)
        assert not reference.changes
        each = {name: median_ms(lambda name=name: table_checksum(conn, name), runs) for name in tables}
        conn.close()
    print(f"Reference data check per test (SQLite file), median of {runs}:")
    for name, rows in tables.items():
        print(f"  one table: {name + f' ({rows} rows)':22} {each[name]:7.3f} ms")
    print(f"  all three (what a test pays)      {check:7.3f} ms")
    print(f"  claimed bound (docs)              {1.0:7.3f} ms")
    print(f"  ratio bound / measured            {1.0 / check:7.1f}x")


def bench_postgres(dsn: str, rows: int, repeat: int) -> None:
    import psycopg
    from psycopg import sql

    from testdata_kit.db.postgres import TemplateBackend, TruncateBackend

    name = "bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    target = psycopg.conninfo.make_conninfo(dsn, dbname=name)
    try:
        with psycopg.connect(target) as conn:
            conn.execute("CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, name text, credit int)")
            conn.execute(
                "INSERT INTO users (email, name, credit) SELECT 'user' || i || '@example.com', 'User ' || i, "
                "i %% 1000 FROM generate_series(1, %s) i",
                (rows,),
            )

        def mutate() -> None:
            with psycopg.connect(target) as conn:
                conn.execute("DELETE FROM users WHERE id % 100 = 0")

        template = TemplateBackend(target)
        # Taking and restoring a template snapshot disconnects every other session, this one included.
        template.take("baseline")
        truncate = TruncateBackend(target)
        try:
            truncate.take("baseline")
            by_truncate = median_ms(lambda: truncate.restore("baseline"), repeat, mutate)
            truncate.close()
            by_template = median_ms(lambda: template.restore("baseline"), repeat, mutate)
        finally:
            truncate.close()
            template.close()
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            for (db,) in admin.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (name + "%",)):
                admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(db)))
    print(f"PostgreSQL, {rows} rows, median of {repeat}:")
    print(f"  template restore (drop + clone) {by_template:9.2f} ms")
    print(f"  truncate-and-reload             {by_truncate:9.2f} ms")
    print(f"  ratio truncate / template       {by_truncate / by_template:9.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    bench_sqlite(args.rows, args.repeat)
    bench_reference_check(args.repeat)
    dsn = os.environ.get("TESTDATA_POSTGRES_DSN")
    if not dsn:
        print("PostgreSQL: skipped, TESTDATA_POSTGRES_DSN is not set (start one with .ci/start-postgres).")
        return
    for rows in (args.rows, args.rows * 10):
        bench_postgres(dsn, rows, args.repeat)


if __name__ == "__main__":
    main()
