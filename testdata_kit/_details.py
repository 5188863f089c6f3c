"""Per-test details for reports: what each test created and released, its seed, and its last HTTP exchange.

JUnit XML (``run --junit-xml``, pytest's ``--junitxml``), unittest's failure text and pytest's report sections
all read the same record, so a CI page shows which test leaked what, and the seed that replays it.
"""

from __future__ import annotations

from testdata_kit import _run, ledger

# Names for annotations only. Importing typing would add a few milliseconds to ``import testdata_kit``, which
# unittest itself does not pay; type checkers treat this constant as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["failure_text", "forget", "note_exchange", "properties", "watch"]

_EXCHANGE_ATTR = "_testdata_last_exchange"
#: Events kept per test: a test that creates thousands of rows still gets a readable failure text.
_MAX_EVENTS = 50


class _Record:
    __slots__ = ("counts", "events", "owned", "owner")

    def __init__(self, owner: Any) -> None:
        self.owner = owner  # held, so that its id() names no other object while the record lives
        self.counts = {"created": 0, "deleted": 0, "kept": 0, "leaked": 0}
        self.events: list[tuple[str, Any]] = []  # (what happened, resource): formatted only for a report
        self.owned: dict[int, Any] = {}  # id(resource) -> resource, while it is live


# By id() of the owning test (or class, or None for module and run scope): computing a test's id string for
# every creation would cost more than the rest of the record.
_records: dict[int, _Record] = {}


class _Watcher:
    """A ledger observer (like the journal) that files every creation and release under the owning test."""

    def on_intent(self, number: int, kind: str, scope: str, owner: Any) -> None:
        pass

    def on_abandon(self, number: int) -> None:
        pass

    def on_create(self, resource: Any) -> None:
        record = _record(resource.owner)
        record.counts["created"] += 1
        record.owned[id(resource)] = resource
        _event(record, "created", resource)

    def on_release(self, resource: Any, outcome: str) -> None:
        record = _record(resource.owner)
        record.counts[outcome] = record.counts.get(outcome, 0) + 1
        record.owned.pop(id(resource), None)
        _event(record, outcome, resource)

    def close(self) -> None:
        pass


_WATCHER = _Watcher()


def _record(owner: Any) -> _Record:
    record = _records.get(id(owner))
    if record is None:
        record = _records[id(owner)] = _Record(owner)
    return record


def _event(record: _Record, what: str, resource: Any) -> None:
    if len(record.events) <= _MAX_EVENTS:
        record.events.append((what, resource))


def watch() -> None:
    """Make sure the ledger in use files events per test; called as each test starts (cheap when it does)."""
    observers = ledger.current().observers
    if _WATCHER not in observers:
        observers.append(_WATCHER)


def forget(test: Any) -> None:
    """Drop the record of *test* once it is reported, so a long run does not hold every test's events."""
    _records.pop(id(test), None)


def note_exchange(response: Any) -> None:
    """Remember *response* as the last HTTP exchange of the running test, before its cleanups.

    Nothing is formatted here: only a failing test's report shows it, masked (``http.client.exchange_text``).
    """
    from testdata_kit import _scopes

    test = _scopes.current_test()
    # Once cleanups begin (they set _testdata_failed) the deletions' requests would hide the test's own last one.
    state = getattr(test, "__dict__", None)
    if state is not None and "_testdata_failed" not in state:
        state[_EXCHANGE_ATTR] = response


def counts(test: Any) -> dict[str, int]:
    """Return created, deleted, kept and leaked counts of the resources *test* owned."""
    record = _records.get(id(test))
    return dict(record.counts) if record else {"created": 0, "deleted": 0, "kept": 0, "leaked": 0}


def properties(test: Any) -> list[tuple[str, str]]:
    """Return the JUnit ``<properties>`` of one test (or pytest owner): its counts and the seeds of its values."""
    from testdata_kit import _seeding

    found = [(f"testdata_kit.{name}", str(value)) for name, value in counts(test).items()]
    seed = _run.run_seed()
    found.append(("testdata_kit.seed", seed))
    found.append(("testdata_kit.test_seed", f"{_seeding.test_seed(str(test.id()), seed):016x}"))
    return found


def failure_text(test: Any) -> str:
    """Return the details of a failed *test*: resources it owns, its recorded events, its last HTTP exchange.

    Returns ``""`` for a test that created nothing and sent no request through an ``ApiClient``.
    """
    test_id = str(test.id())
    record = _records.get(id(test))
    response = getattr(test, "__dict__", {}).get(_EXCHANGE_ATTR)
    if record is None and response is None:
        return ""
    lines = [f"testdata_kit: details of {test_id}"]
    if record is not None:
        live = list(record.owned.values())
        if live:
            lines.append("  owns (not deleted yet): " + ", ".join(repr(resource) for resource in live))
        c = record.counts
        lines.append(f"  created {c['created']}, deleted {c['deleted']}, leaked {c['leaked']}"
                     + (f", kept {c['kept']}" if c["kept"] else ""))
        lines += [f"  journal: {what} {resource!r}" for what, resource in record.events[:_MAX_EVENTS]]
        if len(record.events) > _MAX_EVENTS:
            lines.append("  journal: ... (later events left out)")
    if response is not None:
        from testdata_kit.http.client import exchange_text

        lines.append("  last HTTP exchange: " + exchange_text(response).replace("\n", "\n    "))
    return "\n".join(lines)
