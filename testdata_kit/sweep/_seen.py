"""What an environment sweep remembers of the rows it has passed, kept on disk so that its memory stays flat.

Two memories grow with the row count. A row whose deletion counted must be recognised when a later listing
shows it again (the server answered the DELETE and kept the row), or the account would count it twice and
report it gone. And a row without a marker of its own takes the verdict of the marked row that owns it, so the
owners' verdicts are looked up while their children are listed. Held in a Python set and dict, both grew by
the id's text and a hash-table slot for every row, which tracemalloc showed as the sweep's only growth.

Both live in a private temporary SQLite database instead: opened with an empty file name, it is a file that
SQLite deletes when the connection closes, and whose page cache is capped (``cache_size``), so the sweep's own
memory no longer depends on the row count. Each lookup costs a few microseconds, against the milliseconds of
the HTTP request it decides (``benchmarks/bench_sweep.py`` prints the whole sweep against a raw client).
"""

from __future__ import annotations

import sqlite3
from types import TracebackType
from typing import Any

from testdata_kit.errors import TestDataError

__all__ = ["SeenRows", "SeenRowsError"]

# KiB of SQLite page cache (a negative cache_size is in KiB: https://sqlite.org/pragma.html#pragma_cache_size).
_CACHE_KIB = 1024


class SeenRowsError(TestDataError, RuntimeError):
    """The temporary file of a sweep could not be written (a full disk, no writable temporary folder)."""

    def __init__(self, error: sqlite3.Error) -> None:
        super().__init__(
            f"cannot keep the list of rows already swept in its temporary file (SQLite: {error}). Free some disk "
            f"space, or point SQLITE_TMPDIR (or TMPDIR) at a writable folder with room, then sweep again: rows "
            f"deleted so far are gone, and the next sweep finds the rest")


class SeenRows:
    """Rows a sweep has counted as deleted, and the verdicts of owner rows, per collection name and row id.

    Ids are compared as text (``str(id)``), as the listing and the owner fields may give ``7`` or ``"7"``.
    Use as a context manager: leaving it deletes the file.

    :raises SeenRowsError: from any method, when SQLite cannot write the file (a full disk, no writable
        temporary folder: on Unix, SQLite takes the first writable of ``$SQLITE_TMPDIR``, ``$TMPDIR``, /var/tmp,
        /usr/tmp, /tmp and the current folder; https://sqlite.org/tempfiles.html, "Temporary File Storage
        Locations").
    """

    def __init__(self) -> None:
        # "" is SQLite's private temporary on-disk database; isolation_level=None leaves transactions to us.
        try:
            self._db = sqlite3.connect("", isolation_level=None)
        except sqlite3.Error as error:
            raise SeenRowsError(error) from None
        self._do(f"PRAGMA cache_size = -{_CACHE_KIB}")
        # Nothing here must survive a crash: the file is deleted with the connection anyway.
        self._do("PRAGMA journal_mode = OFF")
        self._do("PRAGMA synchronous = OFF")
        # Ids as UTF-8 bytes with surrogates passed through: a JSON id may hold a lone "\ud800", which text
        # columns refuse, and any two different ids must stay different.
        self._do("CREATE TABLE counted (collection TEXT, id BLOB, PRIMARY KEY (collection, id)) WITHOUT ROWID")
        self._do("CREATE TABLE verdicts (collection TEXT, id BLOB, verdict TEXT, PRIMARY KEY (collection, id)) "
                 "WITHOUT ROWID")
        # One transaction for the whole sweep: a commit per row would write the file each time.
        self._do("BEGIN")

    def __enter__(self) -> SeenRows:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Delete the file; the object must not be used afterwards."""
        self._db.close()

    def counted(self, collection: str, ident: str) -> bool:
        """Whether the deletion of row *ident* of *collection* has counted (and was not taken back since)."""
        return self._do("SELECT 1 FROM counted WHERE collection = ? AND id = ?", (collection, _key(ident))) is not None

    def count(self, collection: str, ident: str) -> None:
        """Remember that the deletion of row *ident* of *collection* counted."""
        self._do("INSERT OR IGNORE INTO counted VALUES (?, ?)", (collection, _key(ident)))

    def uncount(self, collection: str, ident: str) -> None:
        """Forget a counted deletion: a later listing showed the row again."""
        self._do("DELETE FROM counted WHERE collection = ? AND id = ?", (collection, _key(ident)))

    def verdict(self, collection: str, ident: str) -> str | None:
        """The verdict given to owner row *ident* of *collection* (``stale``, ``live``, ``young``), or None."""
        found = self._do("SELECT verdict FROM verdicts WHERE collection = ? AND id = ?", (collection, _key(ident)))
        return None if found is None else str(found[0])

    def judge(self, collection: str, ident: str, verdict: str) -> None:
        """Remember the *verdict* of owner row *ident* of *collection*, for the rows it owns."""
        self._do("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?)", (collection, _key(ident), verdict))

    def _do(self, sql: str, parameters: tuple[str | bytes, ...] = ()) -> Any:
        """Run one statement; return its first row (or None)."""
        try:
            return self._db.execute(sql, parameters).fetchone()
        except sqlite3.Error as error:
            raise SeenRowsError(error) from None


def _key(ident: str) -> bytes:
    return ident.encode("utf-8", "surrogatepass")
