"""The snapshot interface every database backend shares, and the object that restores at the end of scopes."""

from __future__ import annotations

import abc
import re
import unittest
from types import TracebackType
from typing import Any, TypeVar

from testdata_kit import _scopes
from testdata_kit.db._hooks import decorate_testcase, make_mixin
from testdata_kit.errors import InvalidValueError, TestDataError

__all__ = [
    "SCOPES",
    "Backend",
    "DatabaseInUseError",
    "DatabaseUnavailableError",
    "InvalidSnapshotNameError",
    "MissingPrivilegeError",
    "Snapshot",
    "UnknownSnapshotError",
    "check_name",
]

#: Where a restore can be registered: the end of each test, class, module, or of the whole run (the core's scopes).
SCOPES = _scopes.SCOPES

_NAME = re.compile(r"[a-z][a-z0-9_]{0,29}\Z")
_T = TypeVar("_T", bound=type)


class UnknownSnapshotError(TestDataError, LookupError):
    """A snapshot name that this database does not hold."""

    def __init__(self, name: str, known: list[str], where: str) -> None:
        self.name = name
        self.known = known
        self.where = where
        choices = ", ".join(repr(k) for k in known) if known else "none (take one first with .take())"
        super().__init__(f"No snapshot {name!r} of {where}. Known snapshots: {choices}.")


class InvalidSnapshotNameError(TestDataError, ValueError):
    """A snapshot name that cannot become a file or database name safely."""

    def __init__(self, name: object) -> None:
        self.name = name
        super().__init__(
            f"Invalid snapshot name {name!r}: use 1-30 characters, lower-case letters, digits and '_', "
            f"starting with a letter (for example 'baseline' or 'seed_v2')."
        )


class MissingPrivilegeError(TestDataError, PermissionError):
    """The database role lacks a privilege the chosen snapshot strategy needs."""

    def __init__(self, privilege: str, role: str, target: str, fix: str) -> None:
        self.privilege = privilege
        self.role = role
        self.target = target
        self.fix = fix
        super().__init__(f"Role {role!r} lacks the {privilege} privilege needed to {target}. {fix}")


class DatabaseInUseError(TestDataError, RuntimeError):
    """Another connection holds the database, so a restore could not start; nothing was changed."""

    def __init__(self, database: str, holders: str, fix: str) -> None:
        self.database = database
        self.holders = holders
        self.fix = fix
        super().__init__(f"Database {database!r} is in use by {holders}; it was left unchanged. {fix}")


class DatabaseUnavailableError(TestDataError, ConnectionError):
    """The database server could not be reached or refused the login."""

    def __init__(self, target: str, reason: str) -> None:
        self.target = target
        self.reason = reason
        super().__init__(
            f"Cannot connect to {target!r}: {reason}. Check that the server runs and the DSN (host, port, "
            f"user, database) is right."
        )


def check_name(name: str) -> str:
    """Return *name* if it is a valid snapshot name, else raise :class:`InvalidSnapshotNameError`.

    :param name: lower-case letters, digits and ``_``, at most 30 characters, starting with a letter.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidSnapshotNameError(name)
    return name


class Backend(abc.ABC):
    """The named snapshots of one database: take, restore, drop, list."""

    @abc.abstractmethod
    def take(self, name: str) -> None:
        """Record the current content of the database as snapshot *name*, replacing an older one.

        :param name: the snapshot name (see :func:`check_name`).
        """

    @abc.abstractmethod
    def restore(self, name: str) -> None:
        """Put the database back to snapshot *name*; on error the database is left as it was.

        :param name: a name given to :meth:`take` earlier.
        """

    @abc.abstractmethod
    def drop(self, name: str) -> None:
        """Delete snapshot *name*; the live database is untouched.

        :param name: a name given to :meth:`take` earlier.
        """

    @abc.abstractmethod
    def names(self) -> list[str]:
        """Return the sorted names of the snapshots this database holds."""

    @abc.abstractmethod
    def describe(self) -> str:
        """Return a short description of the target (no password) for messages and dry runs."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connections and copies the backend holds."""

    def require(self, name: str) -> None:
        """Raise :class:`UnknownSnapshotError` listing the known names unless snapshot *name* exists.

        :param name: the snapshot name asked for.
        """
        known = self.names()
        if name not in known:
            raise UnknownSnapshotError(name, known, self.describe())


class Snapshot:
    """A named snapshot that restores its database at the end of a scope.

    One object serves as a context manager (take on entry if not taken yet, restore on exit), a
    ``unittest.TestCase`` class decorator and a mixin base class (``class T(snap, unittest.TestCase)``);
    the last two take the snapshot in ``setUpClass`` and register the restore for *scope* through the core
    scope machinery. The snapshot is taken once per process, by its first use, so that every class restores
    to the same state.

    :param backend: the database's :class:`Backend`.
    :param name: the snapshot name.
    :param scope: when the decorator and mixin restore: ``"test"`` (after every test), ``"class"``,
        ``"module"`` or ``"run"``.
    """

    def __init__(self, backend: Backend, name: str = "baseline", *, scope: str = "test") -> None:
        if scope not in SCOPES:
            raise InvalidValueError(f"Unknown scope {scope!r}. Choose one of: {', '.join(map(repr, SCOPES))}.")
        self.backend = backend
        self.name = check_name(name)
        self.scope = scope
        self.taken = False
        self._mixin: type | None = None

    def __repr__(self) -> str:
        state = "taken" if self.taken else "not taken"
        return f"<Snapshot {self.name!r} of {self.backend.describe()} scope={self.scope} {state}>"

    def take(self) -> Snapshot:
        """Record the database's current content under this name now, replacing an older snapshot."""
        self.backend.take(self.name)
        self.taken = True
        return self

    def ensure_taken(self) -> Snapshot:
        """Take the snapshot unless this object already took it in this process."""
        return self if self.taken else self.take()

    def restore(self) -> None:
        """Put the database back to this snapshot."""
        self.backend.restore(self.name)

    def drop(self) -> None:
        """Delete the snapshot; the live database is untouched."""
        self.backend.drop(self.name)
        self.taken = False

    def restore_at_end(self, scope: str | None = None, owner: object = None) -> str:
        """Register a restore for the end of *scope* through the core scope machinery; return the scope used.

        :param scope: ``"test"``, ``"class"``, ``"module"``, ``"run"``, or None for the current test (else
            the current class inside ``setUpClass``).
        :param owner: the test or class that owns a test or class scope; found automatically when None.
        """
        return _scopes.register(self.restore, scope, owner, kind=f"snapshot {self.name!r}")

    def __enter__(self) -> Snapshot:
        return self.ensure_taken()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.restore()

    def __call__(self, cls: _T) -> _T:
        """Decorate a TestCase class: take the snapshot in setUpClass, restore it at the end of each scope."""
        return decorate_testcase(cls, self)

    @property
    def mixin(self) -> type:
        """The mixin class this object stands for when used as a base class."""
        if self._mixin is None:
            self._mixin = make_mixin(self, f"SnapshotMixin_{self.name}")
        return self._mixin

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[type]:
        return (self.mixin,)

    def _start_class(self, cls: type) -> None:
        self.ensure_taken()
        if self.scope != "test":
            self.restore_at_end(self.scope, cls)

    def _start_test(self, test: unittest.TestCase) -> None:
        if self.scope == "test":
            # Registered before the user's setUp runs, so its writes are undone even when setUp fails.
            self.restore_at_end("test", test)

