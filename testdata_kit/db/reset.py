"""The ``reset`` command: put a test database back to a named snapshot, guarded against production hosts."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from typing import TextIO

from testdata_kit import config, guard
from testdata_kit.db._snapshot import Backend, check_name
from testdata_kit.errors import TestDataError
from testdata_kit.guard import HostNotAllowedError

__all__ = ["HostNotAllowedError", "check_host", "main"]

_DESCRIPTION = """\
Restore a test database to a snapshot taken earlier with testdata_kit.db (for example a nightly reset).

Without --yes nothing is changed: the command only says what it would do. The database host must be
loopback or listed in TESTDATA_ALLOWED_HOSTS (comma-separated) or in the allowed-hosts key of the
[testdata_kit] section of setup.cfg/tox.ini, so a production DSN pasted by mistake is refused.
"""

_EPILOG = """\
examples:
  python -m testdata_kit reset --sqlite app.db --snapshot baseline
  python -m testdata_kit reset --dsn postgresql://app@127.0.0.1/shop --to-snapshot nightly --yes
  python -m testdata_kit reset --dsn postgresql://app@127.0.0.1/shop --list
"""


def check_host(
    hosts: Sequence[str], allowed: Iterable[str] | None = None, *, where: str | os.PathLike[str] | None = None
) -> None:
    """Raise :class:`~testdata_kit.guard.HostNotAllowedError` for the first host that is neither loopback nor allowed.

    An empty host or a path (a Unix socket) is local and always passes; every other host gets the decision of
    :func:`testdata_kit.guard.check_host`, the same as the HTTP client's and the sweeper's.

    :param hosts: the hosts of the target connection.
    :param allowed: the allowed hosts, e.g. from :func:`testdata_kit.guard.allowed_hosts`; ``None`` reads
        ``allowed-hosts`` from setup.cfg or tox.ini and ``$TESTDATA_ALLOWED_HOSTS``.
    :param where: the config file named in the error.
    """
    for host in hosts:
        if not host or host.startswith("/"):
            continue
        guard.check_host(host, allowed=allowed, action="reset a database on host", where=where)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m testdata_kit reset",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--dsn", help="PostgreSQL connection string of the database to reset")
    target.add_argument("--sqlite", metavar="PATH", help="SQLite database file to reset")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--snapshot", "--to-snapshot", dest="snapshot", metavar="NAME", help="snapshot to restore")
    action.add_argument("--list", action="store_true", help="list the snapshots of the database and exit")
    parser.add_argument(
        "--strategy",
        choices=("template", "truncate"),
        default="template",
        help="PostgreSQL snapshots as template databases (needs CREATEDB) or as a schema of copied tables "
        "(default: template)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long to wait for other connections to let go before giving up (default: 5)",
    )
    parser.add_argument("--yes", action="store_true", help="really restore; without it this is a dry run")
    parser.add_argument("--config", metavar="FILE", help="config file with a [testdata_kit] section")
    return parser


def _open(args: argparse.Namespace) -> Backend:
    if args.sqlite is not None:
        from testdata_kit.db.sqlite import SQLiteBackend

        return SQLiteBackend(args.sqlite, timeout=args.timeout)
    from testdata_kit.db import postgres

    loaded = config.load(args.config)
    check_host(postgres.dsn_hosts(args.dsn), guard.allowed_hosts(loaded), where=loaded.path)
    if args.strategy == "truncate":
        return postgres.TruncateBackend(args.dsn, timeout=args.timeout)
    return postgres.TemplateBackend(args.dsn, timeout=args.timeout)


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run ``python -m testdata_kit reset``; return 0 on success (or dry run), 1 on a refused or failed reset,
    2 for a value that cannot be used (a missing SQLite file, a DSN or snapshot name that does not parse, a bad
    config file).

    :param argv: the arguments after ``reset``; ``None`` reads ``sys.argv[1:]``.
    :param stdout: where the report goes (default ``sys.stdout``).
    :param stderr: where errors go (default ``sys.stderr``).
    """
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = _parser()
    args = parser.parse_args(argv)
    # A file on this machine has no host to check, but a missing file must not be created empty.
    if args.sqlite is not None and not os.path.isfile(args.sqlite):
        print(f"reset: error: SQLite database {args.sqlite!r} does not exist; check the path.", file=err)
        return 2
    try:
        if args.snapshot is not None:
            check_name(args.snapshot)
        backend = _open(args)
    except TestDataError as error:
        print(f"reset: error: {error}", file=err)
        return 2 if isinstance(error, ValueError) else 1
    try:
        if args.list:
            names = backend.names()
            print(f"Snapshots of {backend.describe()}: {', '.join(names) if names else 'none'}", file=out)
            return 0
        backend.require(args.snapshot)
        if not args.yes:
            print(
                f"Dry run: would restore {backend.describe()} to snapshot {args.snapshot!r}, replacing its "
                f"current content{_side_effects(args)}. Re-run with --yes to do it.",
                file=out,
            )
            return 0
        backend.restore(args.snapshot)
        print(f"Restored {backend.describe()} to snapshot {args.snapshot!r}.", file=out)
        return 0
    except TestDataError as error:
        print(f"reset: error: {error}", file=err)
        return 1
    finally:
        backend.close()


def _side_effects(args: argparse.Namespace) -> str:
    if args.dsn is not None and args.strategy == "template":
        return " and disconnecting every other session of that database"
    return ""
