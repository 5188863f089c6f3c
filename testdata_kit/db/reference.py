"""Shared reference data made safe: loaded once per run, checksummed, and the test that mutated it named."""

from __future__ import annotations

import hashlib
import re
import unittest
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar

from testdata_kit.db._hooks import decorate_testcase, make_mixin
from testdata_kit.errors import InvalidValueError, TestDataError

__all__ = ["ReferenceData", "ReferenceDataMutatedError", "table_checksum"]

# Failures point at the user's test, not at this module's frames.
__unittest = True

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?\Z")
_T = TypeVar("_T", bound=type)


class ReferenceDataMutatedError(TestDataError, AssertionError):
    """A test changed reference data that every test shares."""

    def __init__(self, changes: list[tuple[str, list[str]]]) -> None:
        self.changes = changes
        lines = "\n".join(f"  - {who} changed {', '.join(tables)}" for who, tables in changes)
        super().__init__(
            f"Shared reference data was mutated:\n{lines}\nReference data must stay read-only: create what "
            f"the test changes with a factory instead, or restore it with a snapshot."
        )


def table_checksum(connection: Any, table: str) -> str:
    """Return a SHA-256 over every row of *table*, independent of row order.

    Works with any DB-API connection (``sqlite3``, psycopg). Costs one full read of the table, which is
    what makes it suitable for small reference tables only.

    :param connection: an open DB-API connection.
    :param table: a table name, optionally ``schema.table``.
    """
    cursor = connection.cursor()
    try:
        cursor.execute(f"SELECT * FROM {_quote(table)}")
        rows = sorted(repr(tuple(row)) for row in cursor.fetchall())
    finally:
        cursor.close()
    digest = hashlib.sha256()
    for row in rows:
        digest.update(row.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _quote(table: str) -> str:
    if not _IDENTIFIER.match(table):
        raise InvalidValueError(
            f"Invalid table name {table!r}: use letters, digits and '_', as 'name' or 'schema.name'."
        )
    return ".".join(f'"{part}"' for part in table.split("."))


class ReferenceData:
    """Stable reference tables (countries, currencies, roles) loaded once per run and guarded against mutation.

    One object serves as a context manager (load on entry, verify on exit), a ``unittest.TestCase`` class
    decorator and a mixin base class (``class T(reference, unittest.TestCase)``). The last two load in
    ``setUpClass`` and verify at the end of *check* (the class, or the whole run).

    With ``per_test=True`` (the default) every test ends by re-reading the reference tables, so the error names
    the test that changed them. That costs one ``SELECT *`` per reference table per test: well under a
    millisecond for a few hundred rows in SQLite, a few milliseconds over a network. With ``per_test=False``
    the tables are read only at the end of the scope, and the error can only name that scope.

    :param connection: a DB-API connection of its own (reads end with ``rollback()``, so don't share one that
        holds uncommitted work).
    :param tables: the reference table names.
    :param load: called with the connection to insert the data when every reference table is empty; committed
        afterwards. Skipped when the data is there already (another process, or a restored snapshot, loaded it).
    :param check: ``"class"`` or ``"run"``: when the decorator and mixin verify.
    :param per_test: checksum after every test, so the culprit can be named.
    """

    def __init__(
        self,
        connection: Any,
        tables: Sequence[str],
        load: Callable[[Any], object] | None = None,
        *,
        check: str = "class",
        per_test: bool = True,
    ) -> None:
        if check not in ("class", "run"):
            raise InvalidValueError(f"Unknown check scope {check!r}. Choose 'class' or 'run'.")
        if not tables:
            raise InvalidValueError("ReferenceData needs at least one table name, for example tables=['countries'].")
        for table in tables:
            _quote(table)
        self.connection = connection
        self.tables = list(tables)
        self._load = load
        self.check = check
        self.per_test = per_test
        self.loaded = False
        self.changes: list[tuple[str, list[str]]] = []
        self._baseline: dict[str, str] = {}
        self._last: dict[str, str] = {}
        self._mixin: type | None = None

    def __repr__(self) -> str:
        return f"<ReferenceData tables={self.tables!r} check={self.check} per_test={self.per_test}>"

    def checksums(self) -> dict[str, str]:
        """Return the current checksum of every reference table."""
        try:
            return {table: table_checksum(self.connection, table) for table in self.tables}
        finally:
            # A read must not leave a transaction open that would block a truncate or a restore.
            self.connection.rollback()

    def ensure_loaded(self) -> ReferenceData:
        """Load the data unless this object did already in this process, and record the checksums."""
        if self.loaded:
            return self
        if self._load is not None and self._is_empty():
            self._load(self.connection)
            self.connection.commit()
        self._baseline = self.checksums()
        self._last = dict(self._baseline)
        self.loaded = True
        return self

    def record(self, who: str) -> None:
        """Checksum the tables now and remember *who* if they changed since the previous record.

        :param who: the test id (or any label) blamed for a change.
        """
        now = self.checksums()
        changed = [table for table in self.tables if now[table] != self._last.get(table)]
        if changed:
            self.changes.append((who, changed))
            # Later tests are compared with this state, so that only the culprit is blamed.
            self._last = now

    def verify(self, scope: str = "the checked scope") -> None:
        """Raise :class:`ReferenceDataMutatedError` if the data changed since it was loaded.

        :param scope: named as the culprit when no test was recorded changing the data.
        """
        if not self.per_test:
            self.record(scope)
        elif self.checksums() != self._last:
            self.record(f"{scope} (outside any test)")
        if self.changes:
            changes, self.changes = self.changes, []
            self._last = self._baseline = self.checksums()
            raise ReferenceDataMutatedError(changes)

    def _is_empty(self) -> bool:
        for table in self.tables:
            cursor = self.connection.cursor()
            try:
                cursor.execute(f"SELECT 1 FROM {_quote(table)} LIMIT 1")
                if cursor.fetchone() is not None:
                    return False
            finally:
                cursor.close()
        return True

    def __enter__(self) -> ReferenceData:
        return self.ensure_loaded()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.verify("the with block")

    def __call__(self, cls: _T) -> _T:
        """Decorate a TestCase class: load in setUpClass, checksum after each test, verify at the end."""
        return decorate_testcase(cls, self)

    @property
    def mixin(self) -> type:
        """The mixin class this object stands for when used as a base class."""
        if self._mixin is None:
            self._mixin = make_mixin(self, "ReferenceDataMixin")
        return self._mixin

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[type]:
        return (self.mixin,)

    def _start_class(self, cls: type) -> None:
        from testdata_kit import _scopes

        self.ensure_loaded()
        label = f"class {cls.__qualname__}" if self.check == "class" else "the run"
        _scopes.register(lambda: self.verify(label), self.check, cls, kind="reference data check")

    def _start_test(self, test: unittest.TestCase) -> None:
        if self.per_test:
            from testdata_kit import _scopes

            _scopes.register(lambda: self.record(test.id()), "test", test, kind="reference data check")
