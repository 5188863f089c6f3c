"""Leak accounting: every created resource ends deleted, deliberately kept, or reported as leaked."""

from __future__ import annotations

import _thread
import itertools
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from testdata_kit import _env, _settings

# Names for annotations only. Importing typing would add a few milliseconds to ``import testdata_kit``, which
# unittest itself does not pay; type checkers treat this constant as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO


__all__ = ["REPORT_ENV", "Leak", "Ledger", "current", "isolated", "read_reports", "summary"]

#: When set, the end-of-run accounting is appended to this file as one JSON line per process.
REPORT_ENV = _env.REPORT_ENV


class Leak:
    """One resource that was neither deleted nor kept, with the reason."""

    __slots__ = ("kind", "reason", "test_id", "text")

    def __init__(self, kind: str, test_id: str, text: str, reason: str) -> None:
        self.kind = kind
        self.test_id = test_id
        self.text = text
        self.reason = reason

    def __repr__(self) -> str:
        return f"<Leak {self.text} ({self.reason})>"

    __str__ = __repr__

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "test": self.test_id, "resource": self.text, "reason": self.reason}


class Ledger:
    """Counts of created, deleted, kept and leaked resources for one process.

    Live resources are held until they are released, so that anything still alive at the end of the run
    is reported as leaked too. Scenarios delete from several threads: creations and deletions are recorded by
    appends and dict updates, each atomic, and the rarer events (and every event while observers listen) under a
    lock; observers are called under that lock, from whichever thread recorded the event.
    """

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.leaks: list[Leak] = []
        #: Resources created and not yet released, oldest first (keys; identity-hashed, as Resource defines no
        #: equality; no ``id()`` number is made per resource).
        self.live: dict[Any, None] = {}
        #: Resources whose deletion was refused, by ``id()``, and that the retry passes of their scope did not
        #: delete yet: still live, they get one last attempt at the end of the run
        #: (:func:`testdata_kit._scopes.run_cleanups`).
        self.refused: dict[int, Any] = {}
        #: Objects with ``on_intent(number, kind, scope, owner)``, ``on_abandon(number)``,
        #: ``on_create(resource)``, ``on_release(resource, outcome)`` and ``close()`` (the journal is one).
        self.observers: list[Any] = []
        self._lock = _thread.allocate_lock()
        # The kind of each creation, deletion and kept resource, in order: a list append is atomic, so the two
        # events of every resource need no lock, and the counts are these lists' lengths.
        self._made: list[str] = []
        self._deleted: list[str] = []
        self._kept_kinds: list[str] = []

    @property
    def created(self) -> int:
        """Resources created so far."""
        return len(self._made)

    @property
    def deleted(self) -> int:
        """Resources deleted so far, or found already gone."""
        return len(self._deleted)

    @property
    def by_kind(self) -> dict[str, list[int]]:
        """``{kind: [created, deleted, kept, leaked]}``, kinds in the order of their first creation."""
        table: dict[str, list[int]] = {}
        for column, kinds in enumerate((self._made, self._deleted, self._kept_kinds,
                                        [leak.kind for leak in self.leaks])):
            for kind, count in Counter(kinds).items():
                table.setdefault(kind, [0, 0, 0, 0])[column] = count
        return table

    def intend(self, number: int, kind: str, scope: str, owner: Any) -> int:
        """Tell the observers that creation *number* of *kind* is about to happen; return *number*."""
        for observer in self.observers:
            observer.on_intent(number, kind, scope, owner)
        return number

    def abandon(self, number: int) -> None:
        """Tell the observers that creation *number* failed, so nothing was created."""
        for observer in self.observers:
            observer.on_abandon(number)

    def add(self, resource: Any) -> None:
        """Record a freshly created resource."""
        if self.observers:
            with self._lock:
                self._made.append(resource.kind)
                self.live[resource] = None
                for observer in self.observers:
                    observer.on_create(resource)
            return
        self._made.append(resource.kind)
        self.live[resource] = None

    def _settle(self, resource: Any, outcome: str) -> None:
        self.live.pop(resource, None)
        for observer in self.observers:
            observer.on_release(resource, outcome)

    def mark_deleted(self, resource: Any) -> None:
        if self.observers:
            with self._lock:  # _settle(), inlined: this runs once per resource
                self._deleted.append(resource.kind)
                self.live.pop(resource, None)
                for observer in self.observers:
                    observer.on_release(resource, "deleted")
            return
        self._deleted.append(resource.kind)
        self.live.pop(resource, None)

    def mark_kept(self, resource: Any) -> None:
        text = repr(resource)
        with self._lock:
            self.kept.append(text)
            self._kept_kinds.append(resource.kind)
            self._settle(resource, "kept")

    def mark_leaked(self, resource: Any, reason: str) -> None:
        leak = Leak(resource.kind, resource.test_id, repr(resource), reason)
        with self._lock:
            self.leaks.append(leak)
            self._settle(resource, "leaked")

    def still_live(self) -> list[Any]:
        """Resources created and not yet released, oldest first."""
        return list(self.live)

    def close(self) -> None:
        """Report every still-live resource as leaked: the process is ending and nothing will delete them."""
        for resource in self.still_live():
            self.mark_leaked(resource, "still alive at the end of the run")
        for observer in self.observers:
            observer.close()

    @property
    def leaked(self) -> int:
        return len(self.leaks)

    def summary(self) -> str:
        """Return the one-line summary, e.g. ``created 12, deleted 12, leaked 0``."""
        return summary_line(self.created, self.deleted, self.leaked, len(self.kept))

    def report_lines(self) -> list[str]:
        """Return the summary line followed by one line per leak and per kept resource."""
        return totals_lines(self.as_dict())

    def as_dict(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "created": self.created,
            "deleted": self.deleted,
            "kept": list(self.kept),
            "leaked": [leak.as_dict() for leak in self.leaks],
            "by_kind": {
                kind: dict(zip(("created", "deleted", "kept", "leaked"), counts, strict=False))
                for kind, counts in self.by_kind.items()
            },
        }

    def write_report(self, stream: TextIO | None = None, *, echo: bool = True) -> None:
        """Print the report (when anything was tracked) and append it to ``$TESTDATA_REPORT`` if set.

        :param echo: print it; the pytest plugin passes ``False`` because it prints its own summary.
        """
        if not self.created and not self.leaks:
            return
        if echo:
            print("\n".join(self.report_lines()), file=stream or sys.stderr, flush=True)
        path = _settings.value("report")
        if path:
            self.write_json_line(path)

    def write_json_line(self, path: str) -> None:
        """Append this process's account to *path* as one JSON line, as :func:`read_reports` sums them."""
        import json

        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(self.as_dict()) + "\n")


def summary_line(created: int, deleted: int, leaked: int, kept: int = 0) -> str:
    """Return ``created N, deleted N, leaked N`` (and ``, kept N`` when some were kept): the account's one line."""
    line = f"created {created}, deleted {deleted}, leaked {leaked}"
    return line + f", kept {kept}" if kept else line


def totals_lines(totals: dict[str, Any]) -> list[str]:
    """Return the printed account of *totals*: the summary line, then one line per leak and per kept resource.

    The one formatter of the account, for one process (:meth:`Ledger.report_lines`), the parallel runner's sum
    over its workers and the pytest plugin's sum over xdist workers alike.

    :param totals: the shape of :meth:`Ledger.as_dict` (or a sum of them): ``created`` and ``deleted`` counts,
        ``kept`` a list of texts, ``leaked`` a list of :meth:`Leak.as_dict` mappings.
    """
    leaks, kept = totals["leaked"], totals["kept"]
    lines = ["testdata_kit: " + summary_line(totals["created"], totals["deleted"], len(leaks), len(kept))]
    lines += [f"  leaked: {leak['resource']} in {leak['test']}: {leak['reason']}" for leak in leaks]
    lines += [f"  kept ({_env.KEEP_ENV}=failed): {text}" for text in kept]
    return lines


# Numbers every creation in this process, so that a journal can tie "about to create" to "created" and
# "released". One counter for all ledgers: a journal file outlives ledger.isolated() blocks.
_numbers = itertools.count(1)


def new_number() -> int:
    """Return the next creation number of this process (1, 2, ...), as journal records name creations."""
    return next(_numbers)


_current = Ledger()


def _fresh_after_fork() -> None:
    # A forked child owns none of its parent's resources: inheriting the books would make it report, and its
    # scopes delete, what the parent created. (Its lock may also have been held by another thread.)
    global _current
    _current = Ledger()


os.register_at_fork(after_in_child=_fresh_after_fork)


def current() -> Ledger:
    """Return the ledger in use by this process."""
    return _current


def summary() -> str:
    """Return the one-line summary of this process so far."""
    return _current.summary()


@contextmanager
def isolated() -> Iterator[Ledger]:
    """Swap in a fresh ledger for the duration of the block (for testing testdata_kit-based tools)."""
    global _current
    saved, _current = _current, Ledger()
    try:
        yield _current
    finally:
        _current = saved


def read_reports(path: str | os.PathLike[str], on_error: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Sum the JSON lines that processes appended to a ``TESTDATA_REPORT`` file."""
    import json

    total: dict[str, Any] = {"created": 0, "deleted": 0, "kept": [], "leaked": [], "by_kind": {}, "processes": 0}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                part = json.loads(line)
            except ValueError:
                if on_error:
                    on_error(line)
                continue
            total["processes"] += 1
            total["created"] += part["created"]
            total["deleted"] += part["deleted"]
            total["kept"] += part["kept"]
            total["leaked"] += part["leaked"]
            for kind, counts in part["by_kind"].items():
                into = total["by_kind"].setdefault(kind, dict.fromkeys(counts, 0))
                for key, value in counts.items():
                    into[key] += value
    return total
