"""The environment sweep: stream each collection's pages, delete the stale marked rows, children first, verified.

Memory stays flat whatever the row count: rows are judged and deleted page by page, and what must be remembered
of rows already passed (the deletions that counted, the verdicts of rows that others name in ``owner-fields``)
is kept on disk (:class:`~testdata_kit.sweep._seen.SeenRows`); in memory are only the rows whose deletion failed
and the counts. Deleting while reading pages is safe with keyset (cursor) paging; with offset paging some rows
slip past a pass, so passes repeat until one deletes nothing, and that last pass is also the listing again after
deleting: whatever it still finds is reported as remaining.
"""

from __future__ import annotations

import datetime as _dt
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from testdata_kit import unique
from testdata_kit.errors import TestDataError
from testdata_kit.sweep._listing import collection as _http_collection
from testdata_kit.sweep._listing import pages
from testdata_kit.sweep._report import Counts
from testdata_kit.sweep._seen import SeenRows
from testdata_kit.sweep._settings import CollectionSettings

if TYPE_CHECKING:
    from testdata_kit.http import ApiClient, Collection

__all__ = ["Counts", "Select", "sweep_environment"]

#: Gives a marked row's verdict from its marker and age: ``"stale"`` (delete), ``"live"`` or ``"young"``.
Select = Callable[[unique.Marker, _dt.timedelta], str]
# A pass that deleted something is followed by another, since rows may have slipped past it (offset paging) and
# the listing again is the proof of what remains; at most this many.
_MAX_PASSES = 10


def sweep_environment(
    api: ApiClient, collections: list[CollectionSettings], *, prefix: str, select: Select, delete: bool,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Counts]:
    """Find our rows in every collection and, with *delete*, delete the stale ones, children first.

    Each deletion goes through :class:`testdata_kit.http.Collection` and counts only once proven (its ``verify``
    setting). After deleting, each collection is listed again, and every stale row still there counts as failed.

    :param collections: ordered children first (as :func:`load_config` returns them).
    :param select: the verdict of each marked row; rows without a marker inherit their owner's.
    :param delete: False for a dry run, which only counts.
    :raises ListingError: when a collection cannot be listed.
    """
    report = progress or (lambda text: print(f"sweep: {text}", file=sys.stderr, flush=True))
    now = _dt.datetime.now(_dt.timezone.utc)
    counts: dict[str, Counts] = {}
    with SeenRows() as seen:
        _owner_verdicts(api, collections, prefix, select, now, report, seen)
        for settings in collections:
            counts[settings.name] = _sweep_one(api, settings, prefix, select, now, seen, delete, report)
    return counts


def _sweep_one(api: ApiClient, settings: CollectionSettings, prefix: str, select: Select, now: _dt.datetime,
               seen: SeenRows, delete: bool, report: Callable[[str], None]) -> Counts:
    tally = Counts()
    target = _http_collection(api, settings) if delete else None
    failed: dict[str, str] = {}
    done = 0
    for number in range(_MAX_PASSES if delete else 1):
        attempted = 0
        still: dict[str, str] = {}
        for page in pages(api, settings, prefix, report):
            for row in page:
                ident = row.get(settings.id_field)
                verdict = None if ident is None else _verdict(row, settings, prefix, select, now, seen)
                if number == 0:
                    tally.skipped_live += verdict == "live"
                    tally.young += verdict == "young"
                if verdict != "stale":
                    continue
                key = str(ident)
                if key in failed:
                    still[key] = failed[key]
                    continue
                # A row listed again after its deletion counted was not deleted, whatever its answer said.
                if seen.counted(settings.name, key):
                    seen.uncount(settings.name, key)
                    tally.deleted -= 1
                    failed[key] = still[key] = (
                        "listed again after its deletion was counted: the server did not delete it (check the "
                        "collection's item address, and do not use verify = never)")
                    continue
                tally.found += 1
                if target is None:
                    continue
                problem = _delete(target, row, settings)
                attempted += 1
                if problem is None:
                    tally.deleted += 1
                    seen.count(settings.name, key)
                else:
                    failed[key] = problem
                done += 1
                if done % 1000 == 0:
                    report(f"deleting {settings.name}: {done} rows done")
        # The pass that attempts nothing is the listing again after deleting: what it found is what remains.
        if not delete or attempted == 0:
            break
    if delete:
        if attempted:  # out of passes: no listing came after the last failures, so none is known to be gone
            still = {**failed, **still}
        # A failure whose row the listing again no longer shows is gone after all (its answer was lost).
        tally.deleted += len(failed) - len(still)
        tally.failed = len(still)
        tally.failures = [f"id {key}: {reason}" for key, reason in still.items()]
    return tally


def _delete(target: Collection, row: dict[str, Any], settings: CollectionSettings) -> str | None:
    """Delete one row through the HTTP collection; return None once proven gone, else why not."""
    import requests

    from testdata_kit.http import DeleteUnprovenError

    try:
        target.delete(row)
    except DeleteUnprovenError as error:
        return (f"{error} For the sweep, set item (and verify) in [testdata_kit:collections.{settings.name}], "
                f"e.g. item = {{path}}?id=eq.{{id}}.")
    except (TestDataError, requests.RequestException) as error:
        return str(error)
    return None


def _marker(row: dict[str, Any], settings: CollectionSettings, prefix: str) -> unique.Marker | None:
    for name in settings.marker_fields:
        value = row.get(name)
        if isinstance(value, str):
            found = unique.parse(value, prefix)
            if found is not None:
                return found
    return None


def _created_at(row: dict[str, Any], settings: CollectionSettings) -> _dt.datetime | None:
    value = row.get(settings.created_at_field) if settings.created_at_field else None
    if not isinstance(value, str):
        return None
    try:
        moment = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=_dt.timezone.utc)


def _verdict(row: dict[str, Any], settings: CollectionSettings, prefix: str, select: Select, now: _dt.datetime,
             seen: SeenRows) -> str | None:
    """Return ``stale``, ``live``, ``young``, or None for a row that is not ours to touch."""
    marker = _marker(row, settings, prefix)
    if marker is not None:
        return select(marker, now - (_created_at(row, settings) or marker.created_at))
    inherited = [found for name, target in settings.owner_fields
                 if (found := seen.verdict(target, str(row.get(name)))) is not None]
    if not inherited:
        return None  # no marker of its own and no marked owner: never ours to touch
    # An owned row is as stale as its owner, which already passed the TTL and the live-run check.
    return "live" if "live" in inherited else ("stale" if "stale" in inherited else "young")


def _owner_verdicts(api: ApiClient, collections: list[CollectionSettings], prefix: str, select: Select,
                    now: _dt.datetime, report: Callable[[str], None], seen: SeenRows) -> None:
    """Note in *seen* the verdicts of the rows of collections named in others' ``owner-fields``, parents first."""
    named = {target for c in collections for _, target in c.owner_fields}
    for settings in reversed(collections):
        if settings.name not in named:
            continue
        for page in pages(api, settings, prefix, report):
            for row in page:
                ident = row.get(settings.id_field)
                verdict = None if ident is None else _verdict(row, settings, prefix, select, now, seen)
                if verdict is not None:
                    seen.judge(settings.name, str(ident), verdict)
