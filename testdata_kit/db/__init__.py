"""Database snapshots and resets: the common interface (backends: ``db.sqlite``, ``db.postgres``)."""

from testdata_kit.db._snapshot import (
    SCOPES,
    Backend,
    DatabaseInUseError,
    DatabaseUnavailableError,
    InvalidSnapshotNameError,
    MissingPrivilegeError,
    Snapshot,
    UnknownSnapshotError,
    check_name,
)

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
