"""Reading and opening a PostgreSQL connection string: its parts, its hosts, and the connection itself.

The snapshot backends of :mod:`testdata_kit.db.postgres` and the ``reset`` command read a connection string
here, so that a bad one and an unreachable server are reported the same way wherever they are given.
"""

from __future__ import annotations

from typing import Any

from testdata_kit.db._snapshot import DatabaseUnavailableError
from testdata_kit.errors import InvalidValueError, MissingExtraError

try:
    import psycopg
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("psycopg", "postgres", "testdata_kit.db.postgres") from exc

__all__ = ["connect", "describe_dsn", "dsn_hosts", "first_line", "parse_dsn"]


def describe_dsn(dsn: str) -> str:
    """Return ``user@host:port/dbname`` for *dsn*, never its password.

    :param dsn: a libpq connection string or ``postgresql://`` URL.
    """
    info = parse_dsn(dsn)
    return f"{info.get('user', '')}@{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


def dsn_hosts(dsn: str) -> list[str]:
    """Return every host named by *dsn* (libpq allows a comma-separated list); empty means a local socket.

    :param dsn: a libpq connection string or ``postgresql://`` URL.
    """
    info = parse_dsn(dsn)
    return [h.strip() for h in str(info.get("host") or info.get("hostaddr") or "").split(",")]


def parse_dsn(dsn: str) -> dict[str, Any]:
    """Return the parts of *dsn* by libpq keyword; raises :class:`InvalidValueError` naming both forms if unreadable."""
    try:
        return psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise InvalidValueError(
            f"PostgreSQL connection string {dsn!r} cannot be read ({first_line(exc)}); write it as "
            f"postgresql://USER@HOST:PORT/DBNAME or as 'host=HOST port=PORT dbname=NAME user=USER'."
        ) from None


def connect(dsn: str, **options: Any) -> psycopg.Connection[Any]:
    """Open a connection to *dsn* (*options* go to psycopg.connect); raises :class:`DatabaseUnavailableError`."""
    try:
        return psycopg.connect(dsn, **options)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailableError(describe_dsn(dsn), first_line(exc)) from exc


def first_line(exc: BaseException) -> str:
    """The first line of *exc*'s message (psycopg's run to several lines), or its class name if it has none."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__

