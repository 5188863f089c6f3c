"""In-memory stores that refuse deletions the way real ones do, for the retry-pass tests."""

from __future__ import annotations

import itertools
import random
import threading
from typing import Any

from testdata_kit import Registry, creates


class StillReferenced(Exception):
    """The store's own error: a row cannot go while another row points at it (a foreign key)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.status = 409  # as an HTTP client's error carries the answer's status


class LinkStore:
    """Users and profiles; deleting a profile that a user points at is refused, like a foreign key would."""

    def __init__(self) -> None:
        self.users: dict[int, dict[str, Any]] = {}
        self.profiles: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def rows(self) -> int:
        return len(self.users) + len(self.profiles)

    def kinds(self, **profile_options: Any) -> Registry:
        kinds = Registry()

        @creates("user", registry=kinds, delete=self.delete_user)
        def user() -> dict[str, Any]:
            row = {"id": next(self._ids), "profile_id": None}
            self.users[row["id"]] = row
            return row

        @creates("profile", registry=kinds, delete=self.delete_profile, **profile_options)
        def profile() -> dict[str, Any]:
            row = {"id": next(self._ids)}
            self.profiles[row["id"]] = row
            return row

        return kinds

    def delete_user(self, row: dict[str, Any]) -> None:
        with self._lock:
            del self.users[row["id"]]

    def delete_profile(self, row: dict[str, Any]) -> None:
        with self._lock:
            if any(user["profile_id"] == row["id"] for user in self.users.values()):
                raise StillReferenced(f"profile {row['id']} is still referenced by a user")
            del self.profiles[row["id"]]


class ServerDown(Exception):
    """What an HTTP client raises once its retry budget is spent: a 503, or no answer at all (``None``)."""

    def __init__(self, status: int | None) -> None:
        super().__init__(f"DELETE failed after its retries: {'no answer' if status is None else status}")
        self.status = status


class FlakyChainStore:
    """Rows in chains (each row needs the one before); some DELETEs fail as an overloaded server's do.

    While ``flaky`` is true, each DELETE answers 503 with probability *p503* and gets no answer with
    probability *p_hang*; a row whose child is still there is refused with 409. ``flaky = False`` is the
    server answering again.
    """

    def __init__(self, seed: int, p503: float = 0.3, p_hang: float = 0.1) -> None:
        self.random = random.Random(seed)
        self.p503 = p503
        self.p_hang = p_hang
        self.flaky = True
        self.rows: dict[int, int | None] = {}  # id -> parent id
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def kinds(self, links: int) -> Registry:
        kinds = Registry()
        for level in range(links):
            needs = (f"link{level - 1}",) if level else ()

            def make(_level: int = level, **parents: Any) -> dict[str, Any]:
                parent = next(iter(parents.values()), None)
                with self._lock:
                    row = {"id": next(self._ids), "parent": parent["id"] if parent else None}
                    self.rows[row["id"]] = row["parent"]
                return row

            creates(f"link{level}", needs=needs, registry=kinds, delete=self.delete)(make)
        return kinds

    def delete(self, row: dict[str, Any]) -> None:
        with self._lock:
            if self.flaky:
                draw = self.random.random()
                if draw < self.p503:
                    raise ServerDown(503)
                if draw < self.p503 + self.p_hang:
                    raise ServerDown(None)
            if row["id"] in self.rows.values():
                raise StillReferenced(f"row {row['id']} still has a child")
            del self.rows[row["id"]]
