"""SQLite snapshots through the online backup API: an in-memory copy for fast restores, a file for the CLI.

What other connections see after a restore (each case is pinned by ``tests/test_db_sqlite.py``):

- a connection with no open transaction sees the restored content on its next statement;
- in rollback-journal mode, a connection with an open transaction (even a read) blocks the restore: after
  *timeout* seconds it fails with :class:`DatabaseInUseError` and the database is unchanged;
- in WAL mode, an open *read* transaction does not block: that reader keeps its old view until it ends its
  transaction, then sees the restored content; an open *write* transaction blocks as above.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from testdata_kit.db._snapshot import Backend, DatabaseInUseError, Snapshot, UnknownSnapshotError, check_name
from testdata_kit.errors import TestDataError

__all__ = ["SQLiteBackend", "snapshot"]

_SUFFIX = ".sqlite3"
# sqlite3.SQLITE_BUSY / SQLITE_LOCKED exist only from Python 3.11.
_BUSY_CODES = (5, 6)


class SQLiteBackend(Backend):
    """The named snapshots of one SQLite database, kept in memory and, for a file database, on disk.

    Snapshots of a file database are also written next to it, in ``<database>.snapshots/<name>.sqlite3``,
    so that ``python -m testdata_kit reset --sqlite PATH`` finds them from another process. Restores read the
    in-memory copy when this process took or loaded it, which is what makes a per-test restore of 100k rows
    take milliseconds.

    :param target: the database file, or an open connection (an in-memory database can only be restored
        within its process).
    :param persist: write snapshots of a file database to disk as well; pass False to keep them in memory.
    :param timeout: seconds to wait for other connections' transactions before raising
        :class:`DatabaseInUseError`.
    """

    def __init__(
        self,
        target: str | os.PathLike[str] | sqlite3.Connection,
        *,
        persist: bool = True,
        timeout: float = 5.0,
    ) -> None:
        self._owns = not isinstance(target, sqlite3.Connection)
        if isinstance(target, sqlite3.Connection):
            self.connection = target
        else:
            # isolation_level=None: a restore must never sit inside a transaction this module opened.
            self.connection = sqlite3.connect(os.fspath(target), isolation_level=None, timeout=timeout)
        self.timeout = timeout
        filename = self.connection.execute("PRAGMA database_list").fetchone()[2]
        self.path = Path(filename) if filename else None
        self.directory = Path(f"{self.path}.snapshots") if (persist and self.path) else None
        self._memory: dict[str, sqlite3.Connection] = {}

    def describe(self) -> str:
        return f"SQLite database {str(self.path) if self.path else ':memory:'!r}"

    def names(self) -> list[str]:
        found = set(self._memory)
        if self.directory is not None and self.directory.is_dir():
            found.update(p.name[: -len(_SUFFIX)] for p in self.directory.glob(f"*{_SUFFIX}"))
        return sorted(found)

    def take(self, name: str) -> None:
        check_name(name)
        copy = sqlite3.connect(":memory:")
        self._backup(self.connection, copy, str(self.path))
        old = self._memory.pop(name, None)
        if old is not None:
            old.close()
        self._memory[name] = copy
        if self.directory is not None:
            self.directory.mkdir(exist_ok=True)
            partial = self.directory / f".{name}.partial"
            with closing(sqlite3.connect(partial)) as out:
                copy.backup(out)
            # The rename is atomic, so the CLI never restores from a half-written snapshot.
            os.replace(partial, self.directory / f"{name}{_SUFFIX}")

    def restore(self, name: str) -> None:
        copy = self._memory.get(name)
        if copy is None:
            copy = self._load(name)
        if self.connection.in_transaction:
            raise DatabaseInUseError(
                self._label(), "an open transaction on the connection given to SQLiteBackend",
                "Commit or roll back before restoring.",
            )
        self._backup(copy, self.connection, self._label())

    def drop(self, name: str) -> None:
        self.require(name)
        copy = self._memory.pop(name, None)
        if copy is not None:
            copy.close()
        if self.directory is not None:
            (self.directory / f"{name}{_SUFFIX}").unlink(missing_ok=True)

    def close(self) -> None:
        for copy in self._memory.values():
            copy.close()
        self._memory.clear()
        if self._owns:
            self.connection.close()

    def _label(self) -> str:
        return str(self.path) if self.path else ":memory:"

    def _load(self, name: str) -> sqlite3.Connection:
        check_name(name)
        file = self.directory / f"{name}{_SUFFIX}" if self.directory is not None else None
        if file is None or not file.is_file():
            raise UnknownSnapshotError(name, self.names(), self.describe())
        copy = sqlite3.connect(":memory:")
        with closing(sqlite3.connect(f"{file.as_uri()}?mode=ro", uri=True)) as stored:
            stored.backup(copy)
        self._memory[name] = copy
        return copy

    def _backup(self, source: sqlite3.Connection, dest: sqlite3.Connection, label: str) -> None:
        deadline = time.monotonic() + self.timeout

        def progress(status: int, remaining: int, total: int) -> None:
            # CPython's backup loop retries BUSY/LOCKED forever; raising here is the only way out. One step
            # copies every page, so nothing was written when we give up.
            if status in _BUSY_CODES and time.monotonic() > deadline:
                raise _Busy

        try:
            source.backup(dest, progress=progress, sleep=0.01)
        except _Busy:
            raise DatabaseInUseError(
                label, f"another connection's open transaction (waited {self.timeout:g} s)",
                "End the transaction (commit/rollback) or close that connection, then restore again; in WAL "
                "mode only write transactions block a restore.",
            ) from None


def snapshot(
    target: str | os.PathLike[str] | sqlite3.Connection | SQLiteBackend,
    name: str = "baseline",
    *,
    scope: str = "test",
) -> Snapshot:
    """Return a :class:`~testdata_kit.db.Snapshot` of a SQLite database.

    :param target: a database file, an open connection, or an :class:`SQLiteBackend`.
    :param name: the snapshot name.
    :param scope: when the class decorator and mixin restore: ``"test"``, ``"class"``, ``"module"`` or
        ``"run"``.
    """
    backend = target if isinstance(target, SQLiteBackend) else SQLiteBackend(target)
    return Snapshot(backend, name, scope=scope)


class _Busy(TestDataError):
    pass

