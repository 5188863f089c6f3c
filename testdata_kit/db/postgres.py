"""PostgreSQL snapshots: template databases (fast, needs CREATEDB) and truncate-and-reload (needs no CREATEDB).

:class:`TemplateBackend` keeps snapshot NAME of database *live* as the database ``live__snap_NAME`` and
restores by cloning it to ``live__restoring``, then dropping *live* and renaming the clone, so the database is
never half-restored (see docs/howto/postgres.rst for each step). Taking and restoring disconnect every other
session of *live*. :class:`TruncateBackend` copies the tables into a schema ``testdata_snap_NAME`` and restores
in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from testdata_kit.db._pg_connection import connect, describe_dsn, dsn_hosts, first_line, parse_dsn
from testdata_kit.db._pg_truncate import TruncateBackend
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


class TemplateBackend(Backend):
    """Snapshots of one PostgreSQL database kept as template databases on the same server.

    :param dsn: connection string of the live database; its role needs CREATEDB (or superuser) and must own
        the live database to drop it.
    :param maintenance_db: a database the backend connects to while it copies or drops the live one.
    :param timeout: seconds to wait for other sessions to go after they were terminated.
    """

    def __init__(self, dsn: str, *, maintenance_db: str = "postgres", timeout: float = 5.0) -> None:
        info = parse_dsn(dsn)
        self.dsn = dsn
        self.database = str(info.get("dbname") or info.get("user") or "")
        if len(self.database) + len(_SNAP) + 30 > 63:
            raise InvalidValueError(
                f"Database name {self.database!r} is too long for template snapshots (PostgreSQL names stop "
                f"at 63 bytes); use TruncateBackend, or a database name of at most 26 characters."
            )
        self.timeout = timeout
        self._admin = connect(psycopg.conninfo.make_conninfo(dsn, dbname=maintenance_db), autocommit=True)
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
            raise DatabaseInUseError(template, first_line(exc), "Close those sessions and retry.") from exc

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

