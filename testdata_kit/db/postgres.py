"""PostgreSQL snapshots: template databases (fast, needs CREATEDB) and truncate-and-reload (needs no CREATEDB).

:class:`TemplateBackend` keeps snapshot NAME of database *live* as the database ``live__snap_NAME`` and
restores by cloning it to ``live__restoring``, then dropping *live* and renaming the clone, so the database is
never half-restored (see docs/howto/postgres.rst for each step). Taking and restoring disconnect every other
session of *live*. :class:`TruncateBackend` copies the tables into a schema ``testdata_snap_NAME`` and restores
in one transaction.
"""

from __future__ import annotations

import graphlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from testdata_kit.db._snapshot import (
    Backend,
    DatabaseInUseError,
    DatabaseUnavailableError,
    MissingPrivilegeError,
    Snapshot,
    check_name,
)
from testdata_kit.errors import InvalidValueError, MissingExtraError

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg import sql
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("psycopg", "postgres", "testdata_kit.db.postgres") from exc

__all__ = [
    "DatabaseUnavailableError",
    "TemplateBackend",
    "TruncateBackend",
    "describe_dsn",
    "dsn_hosts",
    "snapshot",
]

_SNAP = "__snap_"
_RESTORING = "__restoring"
_SCHEMA_PREFIX = "testdata_snap_"


def describe_dsn(dsn: str) -> str:
    """Return ``user@host:port/dbname`` for *dsn*, never its password.

    :param dsn: a libpq connection string or ``postgresql://`` URL.
    """
    info = _parse_dsn(dsn)
    return f"{info.get('user', '')}@{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


def dsn_hosts(dsn: str) -> list[str]:
    """Return every host named by *dsn* (libpq allows a comma-separated list); empty means a local socket.

    :param dsn: a libpq connection string or ``postgresql://`` URL.
    """
    info = _parse_dsn(dsn)
    return [h.strip() for h in str(info.get("host") or info.get("hostaddr") or "").split(",")]


def _parse_dsn(dsn: str) -> dict[str, Any]:
    try:
        return psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise InvalidValueError(
            f"PostgreSQL connection string {dsn!r} cannot be read ({_first_line(exc)}); write it as "
            f"postgresql://USER@HOST:PORT/DBNAME or as 'host=HOST port=PORT dbname=NAME user=USER'."
        ) from None


def _connect(dsn: str, **options: Any) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(dsn, **options)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailableError(describe_dsn(dsn), _first_line(exc)) from exc


class TemplateBackend(Backend):
    """Snapshots of one PostgreSQL database kept as template databases on the same server.

    :param dsn: connection string of the live database; its role needs CREATEDB (or superuser) and must own
        the live database to drop it.
    :param maintenance_db: a database the backend connects to while it copies or drops the live one.
    :param timeout: seconds to wait for other sessions to go after they were terminated.
    """

    def __init__(self, dsn: str, *, maintenance_db: str = "postgres", timeout: float = 5.0) -> None:
        info = _parse_dsn(dsn)
        self.dsn = dsn
        self.database = str(info.get("dbname") or info.get("user") or "")
        if len(self.database) + len(_SNAP) + 30 > 63:
            raise InvalidValueError(
                f"Database name {self.database!r} is too long for template snapshots (PostgreSQL names stop "
                f"at 63 bytes); use TruncateBackend, or a database name of at most 26 characters."
            )
        self.timeout = timeout
        self._admin = _connect(psycopg.conninfo.make_conninfo(dsn, dbname=maintenance_db), autocommit=True)
        self.role = str(self._admin.execute("SELECT current_user").fetchone()[0])  # type: ignore[index]

    def describe(self) -> str:
        return f"PostgreSQL database {describe_dsn(self.dsn)!r}"

    def names(self) -> list[str]:
        prefix = self.database + _SNAP
        rows = self._admin.execute("SELECT datname FROM pg_database").fetchall()
        return sorted(r[0][len(prefix):] for r in rows if r[0].startswith(prefix))

    def take(self, name: str) -> None:
        snap = self.database + _SNAP + check_name(name)
        self._require_createdb(f"take snapshot {name!r} of database {self.database!r}")
        partial = self.database + "__taking"
        self._drop_if_exists(partial)
        with self._closed_to_others(self.database):
            self._create_from(partial, self.database)
        # Nobody can connect to a snapshot, so cloning it never fails with "being accessed by other users".
        self._execute("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false", partial)
        self._drop_if_exists(snap)
        self._execute("ALTER DATABASE {} RENAME TO {}", partial, snap)

    def restore(self, name: str) -> None:
        self._recover()
        self.require(name)
        self._require_createdb(f"restore snapshot {name!r} of database {self.database!r}")
        restoring = self.database + _RESTORING
        owner = self._admin.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (self.database,)
        ).fetchone()
        self._create_from(restoring, self.database + _SNAP + name)
        try:
            with self._closed_to_others(self.database):
                self._execute("DROP DATABASE {}", self.database)
        except BaseException:
            self._drop_if_exists(restoring)
            raise
        self._recover()
        if owner and owner[0] != self.role:
            # The copy belongs to whoever created it; give the database back to its owner.
            self._execute("ALTER DATABASE {} OWNER TO {}", self.database, owner[0])

    def drop(self, name: str) -> None:
        self.require(name)
        self._drop_if_exists(self.database + _SNAP + name)

    def close(self) -> None:
        self._admin.close()

    def _recover(self) -> None:
        """Finish a restore that died between dropping the live database and renaming its replacement."""
        restoring = self.database + _RESTORING
        existing = {r[0] for r in self._admin.execute("SELECT datname FROM pg_database").fetchall()}
        if restoring not in existing:
            return
        if self.database in existing:
            self._drop_if_exists(restoring)
            return
        self._execute("ALTER DATABASE {} RENAME TO {}", restoring, self.database)
        self._execute("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true", self.database)

    def _require_createdb(self, action: str) -> None:
        row = self._admin.execute(
            "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        if not (row and row[0]):
            raise MissingPrivilegeError(
                "CREATEDB", self.role, action,
                f"Grant it with: ALTER ROLE {self.role} CREATEDB; or use TruncateBackend "
                f"(strategy='truncate'), which needs only CREATE on the database and TRUNCATE/INSERT on the "
                f"tables.",
            )

    def _create_from(self, new: str, template: str) -> None:
        try:
            self._execute("CREATE DATABASE {} TEMPLATE {}", new, template)
        except pg_errors.ObjectInUse as exc:
            raise DatabaseInUseError(template, _first_line(exc), "Close those sessions and retry.") from exc

    @contextmanager
    def _closed_to_others(self, database: str) -> Iterator[None]:
        """Block new connections to *database* and terminate the others, then reopen it on exit."""
        try:
            self._execute("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false", database)
        except pg_errors.InsufficientPrivilege as exc:
            raise MissingPrivilegeError(
                "OWNER", self.role, f"close database {database!r} to new connections",
                f"Make the role own it: ALTER DATABASE {database} OWNER TO {self.role};",
            ) from exc
        try:
            self._terminate_others(database)
            yield
        finally:
            exists = self._admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
            if exists:
                self._execute("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true", database)

    def _terminate_others(self, database: str) -> None:
        query = "SELECT pid, usename, application_name FROM pg_stat_activity WHERE datname = %s AND pid <> %s"
        own = self._admin.info.backend_pid
        for pid, _, _ in self._admin.execute(query, (database, own)).fetchall():
            # A refusal is reported below, with every session that stayed: more useful than the first one.
            with suppress(pg_errors.InsufficientPrivilege):
                self._admin.execute("SELECT pg_terminate_backend(%s, %s)", (pid, int(self.timeout * 1000)))
        deadline = time.monotonic() + self.timeout  # a just-closed client's backend is listed until it exits
        while (left := self._admin.execute(query, (database, own)).fetchall()) and time.monotonic() < deadline:
            time.sleep(0.05)
        if left:
            holders = ", ".join(f"pid {pid} (user {user!r}, application {app!r})" for pid, user, app in left)
            raise DatabaseInUseError(
                database, holders,
                f"Role {self.role!r} may not terminate them: grant it pg_signal_backend, run as the role that "
                f"owns those sessions, or close them first.",
            )

    def _drop_if_exists(self, database: str) -> None:
        self._execute("DROP DATABASE IF EXISTS {}", database)

    def _execute(self, template: str, *names: str) -> None:
        self._admin.execute(sql.SQL(template).format(*(sql.Identifier(n) for n in names)))


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
        self._conn = _connect(dsn)
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
            self._conn = _connect(self.dsn)

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


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def snapshot(dsn: str, name: str = "baseline", *, scope: str = "test", strategy: str = "template") -> Snapshot:
    """Return a :class:`~testdata_kit.db.Snapshot` of a PostgreSQL database.

    :param dsn: connection string of the live database.
    :param name: the snapshot name.
    :param scope: when the class decorator and mixin restore: ``"test"``, ``"class"``, ``"module"`` or ``"run"``.
    :param strategy: ``"template"`` (:class:`TemplateBackend`) or ``"truncate"`` (:class:`TruncateBackend`).
    """
    if strategy not in ("template", "truncate"):
        raise InvalidValueError(f"Unknown strategy {strategy!r}. Choose 'template' (needs CREATEDB) or 'truncate'.")
    return Snapshot(TemplateBackend(dsn) if strategy == "template" else TruncateBackend(dsn), name, scope=scope)

