"""PostgreSQL snapshots kept as table copies in a schema of the same database (needs no CREATEDB).

:class:`TruncateBackend` copies the tables into a schema ``testdata_snap_NAME`` and restores them by
truncate-and-reload in one transaction, in foreign-key order.
"""

from __future__ import annotations

import graphlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from testdata_kit.db._pg_connection import connect, describe_dsn
from testdata_kit.db._snapshot import Backend, DatabaseInUseError, MissingPrivilegeError, check_name
from testdata_kit.errors import MissingExtraError

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg import sql
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("psycopg", "postgres", "testdata_kit.db.postgres") from exc

__all__ = ["TruncateBackend"]

_SCHEMA_PREFIX = "testdata_snap_"


class TruncateBackend(Backend):
    """Snapshots kept as table copies in a schema of the same database, restored by truncate-and-reload.

    For roles without CREATEDB. Other sessions keep their connections; one holding a lock on a table makes the
    restore fail with :class:`~testdata_kit.db.DatabaseInUseError` after *timeout* seconds, changing nothing.

    :param dsn: connection string of the live database.
    :param schemas: the schemas whose tables and sequences the snapshot covers.
    :param timeout: seconds to wait for table locks.
    """

    def __init__(self, dsn: str, *, schemas: Sequence[str] = ("public",), timeout: float = 5.0) -> None:
        self.dsn = dsn
        self.schemas = list(schemas)
        self.timeout = timeout
        self._conn = connect(dsn)
        row = self._conn.execute("SELECT current_user, current_database()").fetchone()
        self._conn.commit()
        self.role, self.database = str(row[0]), str(row[1])  # type: ignore[index]

    def describe(self) -> str:
        return f"PostgreSQL database {describe_dsn(self.dsn)!r} (truncate strategy)"

    def names(self) -> list[str]:
        self._reconnect_if_lost()
        rows = self._conn.execute("SELECT nspname FROM pg_namespace").fetchall()
        self._conn.commit()
        return sorted(r[0][len(_SCHEMA_PREFIX):] for r in rows if r[0].startswith(_SCHEMA_PREFIX))

    def take(self, name: str) -> None:
        schema = _SCHEMA_PREFIX + check_name(name)
        with self._transaction():
            allowed = self._scalar("SELECT has_database_privilege(current_database(), 'CREATE')")
            if not allowed:
                raise MissingPrivilegeError(
                    "CREATE", self.role, f"create the snapshot schema {schema!r} in database {self.database!r}",
                    f"Grant it with: GRANT CREATE ON DATABASE {self.database} TO {self.role};",
                )
            self._run("DROP SCHEMA IF EXISTS {} CASCADE", schema)
            self._run("CREATE SCHEMA {}", schema)
            self._run("CREATE TABLE {}._tables (idx int, nsp text, rel text)", schema)
            self._run("CREATE TABLE {}._sequences (nsp text, rel text, last_value bigint, is_called bool)", schema)
            for idx, (nsp, rel) in enumerate(self._relations("r")):
                copy = sql.Identifier(schema, f"t{idx}")
                self._conn.execute(sql.SQL("CREATE TABLE {} AS TABLE {}").format(copy, sql.Identifier(nsp, rel)))
                self._insert(schema, "_tables", (idx, nsp, rel))
            for nsp, rel in self._relations("S"):
                last, called = self._conn.execute(
                    sql.SQL("SELECT last_value, is_called FROM {}").format(sql.Identifier(nsp, rel))
                ).fetchone() or (1, False)
                self._insert(schema, "_sequences", (nsp, rel, last, called))

    def restore(self, name: str) -> None:
        self.require(name)
        schema = _SCHEMA_PREFIX + name
        with self._transaction():
            tables = self._conn.execute(
                sql.SQL("SELECT idx, nsp, rel FROM {} ORDER BY idx").format(sql.Identifier(schema, "_tables"))
            ).fetchall()
            for _, nsp, rel in tables:
                for privilege in ("TRUNCATE", "INSERT"):
                    if not self._scalar("SELECT has_table_privilege(%s, %s)", (f'"{nsp}"."{rel}"', privilege)):
                        raise MissingPrivilegeError(
                            privilege, self.role, f"restore table {nsp}.{rel}",
                            f"Grant it with: GRANT TRUNCATE, INSERT ON {nsp}.{rel} TO {self.role};",
                        )
            self._conn.execute("SELECT set_config('lock_timeout', %s, true)", (f"{int(self.timeout * 1000)}ms",))
            targets = sql.SQL(", ").join(sql.Identifier(nsp, rel) for _, nsp, rel in tables)
            try:
                self._conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(targets))
            except pg_errors.LockNotAvailable as exc:
                fix = "End the transactions holding locks on these tables (commit/rollback), then restore again."
                raise DatabaseInUseError(self.database, self._lock_holders(), fix) from exc
            for idx, nsp, rel in self._fk_order(tables):
                columns = sql.SQL(", ").join(sql.Identifier(c) for c in self._columns(nsp, rel))
                self._conn.execute(
                    sql.SQL("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {}").format(
                        sql.Identifier(nsp, rel), columns, columns, sql.Identifier(schema, f"t{idx}")
                    )
                )
            self._conn.execute(
                sql.SQL("SELECT setval(format('%I.%I', nsp, rel), last_value, is_called) FROM {}").format(
                    sql.Identifier(schema, "_sequences")
                )
            )

    def drop(self, name: str) -> None:
        self.require(name)
        with self._transaction():
            self._run("DROP SCHEMA {} CASCADE", _SCHEMA_PREFIX + name)

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._reconnect_if_lost()
        try:
            yield
        except BaseException:
            self._conn.rollback()
            raise
        self._conn.commit()

    def _reconnect_if_lost(self) -> None:
        # A template restore (or an admin) may have terminated this session since the last call; one cheap
        # probe is better than failing the user's next restore.
        try:
            self._conn.execute("SELECT 1")
            self._conn.rollback()
        except psycopg.OperationalError:
            self._conn.close()
            self._conn = connect(self.dsn)

    def _scalar(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        row = self._conn.execute(query, params).fetchone()
        return row[0] if row else None

    def _run(self, template: str, schema: str) -> None:
        self._conn.execute(sql.SQL(template).format(sql.Identifier(schema)))

    def _insert(self, schema: str, table: str, values: tuple[Any, ...]) -> None:
        marks = sql.SQL(", ").join(sql.Placeholder() for _ in values)
        self._conn.execute(sql.SQL("INSERT INTO {} VALUES ({})").format(sql.Identifier(schema, table), marks), values)

    def _relations(self, relkind: str) -> list[tuple[str, str]]:
        return self._conn.execute(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = %s AND n.nspname = ANY(%s) ORDER BY 1, 2",
            (relkind, self.schemas),
        ).fetchall()

    def _columns(self, nsp: str, rel: str) -> list[str]:
        # Generated columns cannot be inserted into; PostgreSQL recomputes them.
        rows = self._conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = format('%%I.%%I', %s::text, %s::text)::regclass "
            "AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
            (nsp, rel),
        ).fetchall()
        return [r[0] for r in rows]

    def _fk_order(self, tables: list[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
        """Return *tables* with every referenced table before the tables that reference it."""
        by_key = {(nsp, rel): (idx, nsp, rel) for idx, nsp, rel in tables}
        graph: dict[tuple[str, str], set[tuple[str, str]]] = {key: set() for key in by_key}
        for cn, c, fn, f in self._conn.execute(
            "SELECT cn.nspname, c.relname, fn.nspname, f.relname FROM pg_constraint k "
            "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace "
            "JOIN pg_class f ON f.oid = k.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace "
            "WHERE k.contype = 'f' AND k.conrelid <> k.confrelid"
        ).fetchall():
            if (cn, c) in graph and (fn, f) in graph:
                graph[(cn, c)].add((fn, f))
        try:
            return [by_key[key] for key in graphlib.TopologicalSorter(graph).static_order()]
        except graphlib.CycleError:
            # No order satisfies a cycle; the INSERT then fails inside the transaction and nothing changes.
            return tables

    def _lock_holders(self) -> str:
        with psycopg.connect(self.dsn, autocommit=True) as probe:
            rows = probe.execute(
                "SELECT pid, usename, state FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND pid <> %s AND state <> 'idle'",
                (self._conn.info.backend_pid,),
            ).fetchall()
        return ", ".join(f"pid {pid} (user {user!r}, {state})" for pid, user, state in rows) or "another session"
