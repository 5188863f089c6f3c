"""Journal mode: replay dead runs' journals, newest entry first, each deletion proven before it counts.

What cannot be replayed from the journal alone (an entry whose process died during the create call, a journal
whose end was lost) is looked for by marker, limited to that journal's run and worker, when collections and a
URL are configured. A journal is removed only when every entry in it is verified gone; one that is damaged,
of an unknown format version, or not a journal at all is kept, and the sweep says so.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from testdata_kit import _redact, guard
from testdata_kit import journal as _journal
from testdata_kit._env import JOURNAL_STORE_ENV
from testdata_kit.errors import AlreadyGone, StoreUnreachable, TestDataError
from testdata_kit.resources import JOURNAL_ENV, check_answer
from testdata_kit.sweep._environment import sweep_environment
from testdata_kit.sweep._listing import ListingError, client
from testdata_kit.sweep._report import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, Counts, print_summary
from testdata_kit.sweep._settings import SweepConfig, SweepRefused, check_safe

if TYPE_CHECKING:
    from testdata_kit.http import ApiClient, Collection

__all__ = ["run_journal"]

_BY_MARKER = "(by marker)"


def run_journal(settings: SweepConfig, url: str | None, delete: bool) -> int:
    """Sweep the streams of ``settings.journal_store``; return the exit status (see :mod:`testdata_kit.sweep`)."""
    where = settings.journal_store or settings.journal_dir
    if not where:
        print(f"sweep: no journal store: pass --journal DIR (or a store's URL), or set ${JOURNAL_STORE_ENV} or "
              f"journal-store (${JOURNAL_ENV} or journal-dir for a folder) in [testdata_kit]", file=sys.stderr)
        return EXIT_UNUSABLE
    store = _journal.open_store(where)
    if isinstance(store, _journal.DirectoryStore) and not store.directory.is_dir():
        print(f"sweep: the journal folder {where} does not exist, so there is nothing to replay there. Pass "
              f"the folder the runs journal to (--journal DIR, ${JOURNAL_ENV} or journal-dir in [testdata_kit]).",
              file=sys.stderr)
        return EXIT_UNUSABLE
    replayer = _Replayer(settings, url, delete)
    try:
        try:
            streams = store.streams()
        except StoreUnreachable as error:
            print(f"sweep: {error.args[0]} Nothing was replayed.", file=sys.stderr)
            return EXIT_UNUSABLE
        status = max([EXIT_OK, *(replayer.sweep(journal) for journal in streams)])
    finally:
        replayer.close()
        store.close()
    # The marker search's rows may be the very rows of entries counted above: shown apart, never added twice.
    marked = replayer.counts.pop(_BY_MARKER, None)
    print_summary(replayer.counts, delete, "kind", {_BY_MARKER: marked} if marked is not None else None)
    for line in replayer.notes:
        print(f"  {line}")
    return status


class _Replayer:
    def __init__(self, settings: SweepConfig, url: str | None, delete: bool) -> None:
        self.settings = settings
        self.url = url
        self.delete = delete
        self.counts: dict[str, Counts] = {}
        self.notes: list[str] = []
        self._api: ApiClient | None = None
        # One collection per kind and method, so that an item found at its address proves the rest's 404s.
        self._collections: dict[tuple[str, str, bool], Collection] = {}

    def close(self) -> None:
        if self._api is not None:
            self._api.close()

    def api(self, address: str) -> ApiClient:
        if self._api is None:
            parts = urlsplit(address)
            self._api = client(self.settings, self.url or f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}")
        return self._api

    def sweep(self, journal: _journal.JournalFile) -> int:
        """Sweep one journal file; return its exit status."""
        name = journal.name or journal.path.name
        for problem in journal.problems:
            print(f"sweep: {problem}", file=sys.stderr)
        if journal.header is not None and not journal.known_version:
            print(f"sweep: {name}: journal format version {journal.version!r}, but this version of testdata_kit "
                  f"reads version {_journal.FORMAT_VERSION}; nothing in it was replayed, and it is kept. Sweep it "
                  f"with the testdata_kit version that wrote it.", file=sys.stderr)
            return EXIT_UNUSABLE
        pending = journal.pending()
        # A journal's first record is its lease: content without one is not a journal being written.
        unowned = journal.header is None and bool(journal.entries or journal.damaged)
        alive = not unowned and _alive(journal)
        for entry in pending:
            tally = self.counts.setdefault(entry.kind, Counts())
            if alive:
                tally.skipped_live += 1
            else:
                tally.found += 1
        if alive:
            return EXIT_OK
        if unowned:
            return self._unowned(journal, pending)
        if not pending and not journal.damaged:
            if self.delete:
                _store(journal).remove(journal)
            return EXIT_OK
        if not self.delete:
            self.notes.extend(f"not replayable: {e.describe()} in {name}" for e in pending if not e.replayable)
            if journal.damaged:
                self.notes.append(f"damaged: {name}: records may be missing; a sweep with --yes also looks for "
                                  f"its rows by marker")
            return EXIT_OK
        return self._dead(journal, pending)

    def _dead(self, journal: _journal.JournalFile, pending: list[_journal.Entry]) -> int:
        name = journal.name or journal.path.name
        failed = self._replay_all(journal, [e for e in pending if e.replayable])
        blind = [e for e in pending if not e.replayable]
        clean = False
        header = journal.header or {}
        if (blind or failed or journal.damaged) and self.settings.collections and self.url:
            clean = self._by_marker(header.get("run"), header.get("worker"))
            failed = self._replay_all(journal, [journal.entries[n] for n in failed])
        for entry in pending:
            tally = self.counts[entry.kind]
            if entry.number in failed:
                tally.failed += 1
                tally.failures.append(f"{entry.describe()}: {failed[entry.number]}")
            elif entry.replayable:
                tally.deleted += 1
            elif clean:
                tally.deleted += 1
                _store(journal).append_release(journal, entry.number)
            else:
                why = ("the process died during the create call" if not entry.confirmed
                       else "its kind has no recover=" if not entry.recovery else "no id")
                self.notes.append(f"not replayable: {entry.describe()} in {name}: {why}; configure collections "
                                  f"to sweep it by marker")
        if journal.damaged and not clean:
            where = (f"run {header.get('run')}, worker {header.get('worker')}")
            print(f"sweep: {name}: records were lost (its end, or unreadable lines), so rows it does not name may "
                  f"remain; it is kept. Configure [testdata_kit:collections.NAME] sections and --url (or "
                  f"sweep-url), and sweep --journal again: it then deletes every row whose marker names {where}.",
                  file=sys.stderr)
        if failed or (blind and not clean) or (journal.damaged and not clean):
            return EXIT_FAILED
        _store(journal).remove(journal)
        return EXIT_OK

    def _unowned(self, journal: _journal.JournalFile, pending: list[_journal.Entry]) -> int:
        """A stream without a readable ``open`` record: whose it is cannot be known, so nothing in it is replayed.

        Its rows may be a live run's: a store puts a swept stream's header back only at the run's next write or
        heartbeat, and records that arrive before it are such a stream.
        """
        for entry in pending:
            tally = self.counts[entry.kind]
            tally.failed += 1
            tally.failures.append(f"{entry.describe()}: not replayed, its stream names no run")
        print(f"sweep: {journal.name or journal.path.name}: not a readable journal (no 'open' record naming its "
              f"run), so whose it is cannot be known and nothing in it is replayed (its rows may be a live run's); "
              f"it is kept. Remove it by hand once you have checked the data it may have left.", file=sys.stderr)
        return EXIT_FAILED if self.delete else EXIT_OK

    def _replay_all(self, journal: _journal.JournalFile, entries: list[_journal.Entry]) -> dict[int, str]:
        """Replay *entries* (twice for those that failed: a later item may prove the address); return failures."""
        failed: dict[int, str] = {}
        for attempt in range(2):
            for entry in entries if attempt == 0 else [journal.entries[n] for n in list(failed)]:
                problem = self.replay(entry)
                if problem is None:
                    failed.pop(entry.number, None)
                    _store(journal).append_release(journal, entry.number)
                else:
                    failed[entry.number] = problem
            if not failed:
                break
        return failed

    def replay(self, entry: _journal.Entry) -> str | None:
        """Delete one entry's resource as its recovery says; return None once proven gone, else why not."""
        recovery = entry.recovery or {}
        if not recovery.get("url"):
            return _call(recovery)
        url = str(recovery["url"])
        try:
            check_safe(self.settings, url)
        except (SweepRefused, guard.HostNotAllowedError) as refusal:
            return str(refusal)
        import requests

        method = str(recovery.get("method") or "DELETE").upper()
        # The journal masks credentials as ***; sending the placeholder would replace our own Authorization.
        removal = _redact.unmasked(url)
        check = _redact.unmasked(str(recovery.get("check") or url))
        kept = recovery.get("headers")
        headers = {str(k): str(v) for k, v in kept.items() if v != _redact.MASK} if isinstance(kept, dict) else {}
        try:
            target = self._collection(entry.kind, method, removal, proven=recovery.get("proven") is True)
            target.delete({"id": entry.ident if entry.ident is not None else removal, "check": check,
                           "removal": removal}, headers=headers)
        except (TestDataError, requests.RequestException) as error:
            return str(error)
        return None

    def _collection(self, kind: str, method: str, address: str, proven: bool) -> Collection:
        key = (kind, method, proven)
        if key not in self._collections:
            target = self._collections[key] = self.api(address).collection(
                kind, path="/", item=_check_address, delete_at=_removal_address, delete_method=method)
            if proven:
                # The run read its item back at this address: a 404 there now means gone, even when the run
                # died after deleting it and before journaling so.
                target.trust_address()
        return self._collections[key]

    def _by_marker(self, run: Any, worker: Any) -> bool:
        """Delete every row whose marker names *run* and *worker*; return True when none remains."""
        assert self.url is not None
        check_safe(self.settings, self.url)

        def select(marker: Any, age: Any) -> str:
            return "stale" if (marker.run_id, marker.worker) == (run, worker) else "young"

        try:
            result = sweep_environment(self.api(self.url), self.settings.collections, prefix=self.settings.prefix,
                                       select=select, delete=True, progress=lambda text: None)
        except ListingError as error:
            self.notes.append(f"by marker (run {run}, worker {worker}): {error}")
            return False
        tally = self.counts.setdefault(_BY_MARKER, Counts())
        for name, found in result.items():
            found.young = found.skipped_live = 0
            tally.add(found)
            tally.failures.extend(f"{name}: {line}" for line in found.failures)
        return all(found.failed == 0 for found in result.values())


def _store(journal: _journal.JournalFile) -> _journal.Store:
    # A journal read by journal.read() alone comes from a folder.
    store = journal.store
    return store if store is not None else _journal.DirectoryStore(journal.path.parent)


def _alive(journal: _journal.JournalFile) -> bool:
    return _store(journal).is_alive(journal)


def _check_address(row: dict[str, Any]) -> str:
    return str(row["check"])


def _removal_address(row: dict[str, Any]) -> str:
    return str(row["removal"])


def _call(recovery: dict[str, Any]) -> str | None:
    """Call a ``recover=`` function with the id; its return (or :class:`AlreadyGone`) is its proof.

    An ``async def`` function (anything returning an awaitable) is run to its end on an event loop of its own:
    a coroutine that is only created deletes nothing, and must not count as a deletion.
    """
    target = str(recovery.get("call"))
    module_name, _, qualname = target.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as error:
        return (f"{target}: cannot import {module_name!r} ({type(error).__name__}: {error}). The sweep imports "
                f"recover= functions by name: run it from the folder the tests import from (the project's root), "
                f"or add that folder to PYTHONPATH")
    try:
        for part in qualname.split("."):
            found = getattr(found, part)
        answer = found(recovery.get("id"))
        if inspect.isawaitable(answer):
            answer = asyncio.run(_awaited(answer))
        check_answer(answer, found)
    except AlreadyGone:
        return None
    except Exception as error:
        return f"{target}({recovery.get('id')!r}) raised {type(error).__name__}: {error}"
    return None


async def _awaited(answer: Any) -> Any:
    return await answer
