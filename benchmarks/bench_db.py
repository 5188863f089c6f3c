"""Benchmark: snapshot restores against re-seeding, per test.

Claim 1: restoring a 100k-row SQLite database from an in-memory snapshot takes milliseconds, far less than
re-running a seed script that inserts the same rows. Both are measured here, in this run.

Claim 2: on PostgreSQL, restoring from a template database beats truncate-and-reload once the data is big
enough; at small sizes the fixed cost of CREATE DATABASE dominates. Runs only when TESTDATA_POSTGRES_DSN is set.

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
    dsn = os.environ.get("TESTDATA_POSTGRES_DSN")
    if not dsn:
        print("PostgreSQL: skipped, TESTDATA_POSTGRES_DSN is not set (start one with .ci/start-postgres).")
        return
    for rows in (args.rows, args.rows * 10):
        bench_postgres(dsn, rows, args.repeat)


if __name__ == "__main__":
    main()
