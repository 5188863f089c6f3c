"""``python -m testdata_kit sweep``: delete what crashed runs left behind, from their journals or by marker.

Two modes, both a dry run unless ``--yes`` is given:

- ``--journal``: replay the unreleased entries of dead runs' journals (newest first, so children go before
  parents); live runs are left alone. Entries that cannot be replayed are listed.
- environment mode (the default): list the configured collections through the API and delete the rows whose
  marker carries our prefix and that are older than the TTL, except rows of runs that are still alive.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from testdata_kit import _redact, guard, unique
from testdata_kit import config as _config
from testdata_kit import journal as _journal
from testdata_kit._sweeping import Collection, Counts, Session, order_children_first, sweep_environment
from testdata_kit.errors import AlreadyGone, TestDataError
from testdata_kit.resources import JOURNAL_ENV

__all__ = ["COLLECTION_KEYS", "SweepConfig", "SweepRefused", "load_config", "main"]

DEFAULT_TTL = _dt.timedelta(hours=24)
TOKEN_ENV = "TESTDATA_SWEEP_TOKEN"
COLLECTION_KEYS = (
    "path", "marker-fields", "created-at-field", "id-field", "parents", "owner-fields", "prefix-param", "list-query",
)


class SweepRefused(TestDataError, ValueError):
    """A sweep that would be unsafe to run: a prefix :mod:`testdata_kit.unique` refuses.

    A host that is not allowed raises :class:`~testdata_kit.guard.HostNotAllowedError`, as everywhere else.
    """

    def __init__(self, message: str, value: object) -> None:
        self.value = value
        super().__init__(message)


@dataclass
class SweepConfig:
    """Everything a sweep needs, read from ``[testdata_kit]`` and its ``[testdata_kit:collections.NAME]`` sections."""

    url: str | None = None
    prefix: str = unique.DEFAULT_PREFIX
    #: Where :attr:`prefix` came from, named when it is refused: ``--prefix``, ``TESTDATA_PREFIX`` or the key.
    prefix_source: str = "marker-prefix"
    ttl: _dt.timedelta = DEFAULT_TTL
    journal_dir: str | None = None
    token_env: str = TOKEN_ENV
    allowed_hosts: frozenset[str] = frozenset()
    collections: list[Collection] = field(default_factory=list)
    source: Any = None


def load_config(path: str | None = None) -> SweepConfig:
    """Read the sweep's keys; a bad value raises :class:`~testdata_kit.config.ConfigError` naming the key.

    :param path: a setup.cfg-style file; default: setup.cfg or tox.ini in the current directory.
    """
    loaded = _config.load(path)
    # Not checked here but in check_safe, which sees --prefix too; unique.current_prefix() would raise for a bad
    # $TESTDATA_PREFIX before --prefix could replace it, and without naming the fix.
    # The order runs use (unique.current_prefix): the environment, then the key, then the default.
    from_env, from_key = os.environ.get(unique.PREFIX_ENV), loaded.get_str("marker-prefix")
    if from_env:
        prefix, source = from_env, unique.PREFIX_ENV
    elif from_key is not None:
        prefix, source = from_key, f"marker-prefix in {loaded.path}"
    else:
        prefix, source = unique.DEFAULT_PREFIX, "the default"
    result = SweepConfig(
        url=loaded.get_str("sweep-url") or None,
        prefix=prefix,
        prefix_source=source,
        ttl=loaded.get_duration("ttl", DEFAULT_TTL),
        journal_dir=_journal.configured_directory(loaded),
        token_env=loaded.get_str("sweep-token-env", TOKEN_ENV),
        allowed_hosts=guard.allowed_hosts(loaded),
        source=loaded.path,
    )
    for section in loaded.section_names("collections."):
        name = section.partition(".")[2]
        keys = loaded.section(section)
        keys.check_keys(COLLECTION_KEYS)
        owners = []
        for item in keys.get_list("owner-fields"):
            column, arrow, target = item.replace("->", ":").partition(":")
            if not arrow or not column.strip() or not target.strip():
                raise _config.ConfigError(loaded.path, "owner-fields", item, "items like 'user_id -> users'",
                                          section=f"testdata_kit:{section}")
            owners.append((column.strip(), target.strip()))
        collection = Collection(
            name=name, path=keys.get_str("path", f"/{name}"),
            marker_fields=tuple(keys.get_list("marker-fields")),
            created_at_field=keys.get_str("created-at-field", "created_at"), id_field=keys.get_str("id-field", "id"),
            parents=tuple(keys.get_list("parents")), owner_fields=tuple(owners),
            prefix_param=keys.get_str("prefix-param", ""), list_query=keys.get_str("list-query", ""),
        )
        if not collection.marker_fields and not collection.owner_fields:
            raise _config.ConfigError(loaded.path, "marker-fields", "", "the fields that carry the marker (or "
                                      "owner-fields, for rows that belong to a marked row)",
                                      section=f"testdata_kit:{section}")
        result.collections.append(collection)
    order_children_first(result.collections, loaded.path)
    return result


def check_safe(settings: SweepConfig, url: str | None) -> None:
    """Raise :class:`SweepRefused` for an unsafe prefix, or :class:`~testdata_kit.guard.HostNotAllowedError`.

    The host decision is :func:`testdata_kit.guard.check_host`'s, the same as the HTTP client's and ``reset``'s.

    :param settings: the loaded sweep settings (prefix, its source, allowed hosts).
    :param url: the API or recovery URL about to be called; ``None`` checks the prefix alone.
    """
    source = settings.prefix_source
    try:
        # The very check that unique applies to the prefix runs are made with, so the two cannot drift apart.
        unique.check_prefix(settings.prefix, source)
    except ValueError as error:
        if source == "--prefix":
            fix = "Pass another --prefix."
        elif source == unique.PREFIX_ENV:
            fix = f"Correct or unset ${source}, or pass --prefix."
        else:
            fix = f"Correct {source}, or pass --prefix."
        raise SweepRefused(f"Refusing to sweep. {error} {fix}", settings.prefix) from None
    if url is None:
        return
    guard.check_host(urlsplit(url).hostname or "", allowed=settings.allowed_hosts, action="sweep",
                       url=_redact.url(url), where=settings.source)


def _headers(settings: SweepConfig) -> dict[str, str]:
    token = os.environ.get(settings.token_env)
    return {"Authorization": f"Bearer {token}"} if token else {}


def _print_summary(counts: dict[str, Counts], delete: bool, label: str) -> None:
    header = ("deleted" if delete else "would-delete")
    width = max([len(label), *(len(name) for name in counts)])
    print(f"{label.ljust(width)}  found  {header}  skipped-live  young  failed")
    total = Counts()
    for name, c in counts.items():
        shown = c.deleted if delete else c.found
        print(f"{name.ljust(width)}  {c.found:5}  {shown:{len(header)}}  {c.skipped_live:12}  {c.young:5}  "
              f"{c.failed:6}")
        for attr in ("found", "deleted", "skipped_live", "young", "failed"):
            setattr(total, attr, getattr(total, attr) + getattr(c, attr))
    shown = total.deleted if delete else total.found
    print(f"{'total'.ljust(width)}  {total.found:5}  {shown:{len(header)}}  {total.skipped_live:12}  "
          f"{total.young:5}  {total.failed:6}")
    for name, c in counts.items():
        for failure in c.failures:
            print(f"  failed: {name}: {failure}")


def _run_environment(settings: SweepConfig, url: str, delete: bool) -> int:
    live = _journal.live_runs(_journal.scan(settings.journal_dir)) if settings.journal_dir else set()
    if not settings.journal_dir:
        print(f"sweep: no journal directory (${JOURNAL_ENV} or journal-dir), so live runs cannot be "
              f"recognised; relying on the TTL alone", file=sys.stderr)
    ttl = settings.ttl

    def select(marker: unique.Marker, age: _dt.timedelta) -> str:
        if marker.run_id in live:
            return "live"
        return "stale" if age > ttl else "young"

    session = Session(url, _headers(settings))
    try:
        counts = sweep_environment(session, settings.collections, prefix=settings.prefix, select=select,
                                   delete=delete)
    finally:
        session.close()
    _print_summary(counts, delete, "collection")
    return 1 if any(c.failed for c in counts.values()) else 0


def _replay(entry: _journal.Entry, settings: SweepConfig, session: Session | None) -> str | None:
    recovery = entry.recovery or {}
    if recovery.get("url"):
        url = str(recovery["url"])
        try:
            check_safe(settings, url)
        except (SweepRefused, guard.HostNotAllowedError) as refusal:
            return str(refusal)
        if session is None:
            return "no HTTP session"
        # The journal masks credentials as ***; sending the placeholder would replace our own Authorization.
        return session.delete(str(recovery.get("method") or "DELETE").upper(), _redact.unmasked(url))
    target = str(recovery.get("call"))
    module_name, _, qualname = target.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
        found(recovery.get("id"))
    except AlreadyGone:
        return None
    except Exception as error:
        return f"{target}({recovery.get('id')!r}) raised {type(error).__name__}: {error}"
    return None


def _run_journal(settings: SweepConfig, url: str | None, delete: bool) -> int:
    if not settings.journal_dir:
        print(f"sweep: no journal directory: pass --journal DIR, or set ${JOURNAL_ENV} or journal-dir in "
              f"[testdata_kit]", file=sys.stderr)
        return 2
    files = _journal.scan(settings.journal_dir)
    counts: dict[str, Counts] = {}
    unplayable: list[str] = []
    session = Session(url or "http://127.0.0.1", _headers(settings))
    try:
        for journal in files:
            for problem in journal.problems:
                print(f"sweep: {problem}", file=sys.stderr)
            pending = journal.pending()
            alive = _journal.is_alive(journal)
            for entry in pending:
                counts.setdefault(entry.kind, Counts())
                if alive:
                    counts[entry.kind].skipped_live += 1
                else:
                    counts[entry.kind].found += 1
            if alive or not pending:
                if not alive and delete and not pending:
                    os.remove(journal.path)
                continue
            _sweep_dead(journal, pending, settings, url, session, delete, counts, unplayable)
    finally:
        session.close()
    _print_summary(counts, delete, "kind")
    for line in unplayable:
        print(f"  not replayable: {line}")
    return 1 if delete and (unplayable or any(c.failed for c in counts.values())) else 0


def _sweep_dead(
    journal: _journal.JournalFile, pending: list[_journal.Entry], settings: SweepConfig, url: str | None,
    session: Session, delete: bool, counts: dict[str, Counts], unplayable: list[str],
) -> None:
    failed: dict[int, str] = {}
    for entry in pending:
        if entry.replayable and delete:
            problem = _replay(entry, settings, session)
            if problem is not None:
                failed[entry.number] = problem
    blind = [e for e in pending if not e.replayable]
    marker_swept = False
    if delete and (blind or failed) and settings.collections and url and journal.header:
        # The process died during a create call, or a replay hit rows nobody journaled (a child created at the
        # moment of the kill): remove every row that carries this very process's marker, whatever its age.
        run, worker = journal.header.get("run"), journal.header.get("worker")
        check_safe(settings, url)
        result = sweep_environment(
            session, settings.collections, prefix=settings.prefix, delete=True, progress=lambda text: None,
            select=lambda m, age: "stale" if (m.run_id, m.worker) == (run, worker) else "young",
        )
        marker_swept = not any(c.failed for c in result.values())
        for number in list(failed):
            if _replay(journal.entries[number], settings, session) is None:
                del failed[number]
    for entry in pending:
        tally = counts[entry.kind]
        if not delete:
            if not entry.replayable:
                unplayable.append(f"{entry.describe()} in {journal.path.name}")
            continue
        if entry.number in failed:
            tally.failed += 1
            tally.failures.append(f"{entry.describe()}: {failed[entry.number]}")
        elif entry.replayable or marker_swept:
            tally.deleted += 1
            _journal.append_release(journal.path, entry.number)
        else:
            if not entry.confirmed:
                why = "the process died during the create call"
            elif not entry.recovery:
                why = "its kind has no recover="
            else:
                why = "no id"
            unplayable.append(f"{entry.describe()} in {journal.path.name}: {why}; configure collections to "
                              f"sweep it by marker")
    if delete and not failed and (marker_swept or not blind):
        os.remove(journal.path)


def _ttl(text: str) -> _dt.timedelta:
    try:
        return _config.parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m testdata_kit sweep``; return 0, 1 when a deletion failed, or 2 when it could not start."""
    parser = argparse.ArgumentParser(
        prog="python -m testdata_kit sweep",
        description="Delete leftover test data. A dry run unless --yes: it lists what it would delete.",
    )
    parser.add_argument("--yes", action="store_true", help="really delete (default: dry run)")
    parser.add_argument("--journal", nargs="?", const="", metavar="DIR",
                        help="replay the journals of dead runs in DIR (default: $TESTDATA_JOURNAL, else journal-dir)")
    parser.add_argument("--url", help="base URL of the API (default: sweep-url from the config)")
    parser.add_argument("--config", metavar="FILE", help="setup.cfg-style file (default: ./setup.cfg or ./tox.ini)")
    parser.add_argument("--ttl", type=_ttl,
                        help="minimum age of a row to delete: 24h, 90m, 2d, 1h30m or seconds (default: ttl, or 24h)")
    parser.add_argument("--prefix", help="marker prefix (default: marker-prefix, $TESTDATA_PREFIX or 'test-')")
    args = parser.parse_args(argv)
    try:
        settings = load_config(args.config)
        if args.prefix is not None:
            settings.prefix, settings.prefix_source = args.prefix, "--prefix"
        if args.ttl is not None:
            settings.ttl = args.ttl
        if args.journal:
            settings.journal_dir = args.journal
        url = args.url or settings.url
        check_safe(settings, url)
        if args.journal is not None:
            return _run_journal(settings, url, args.yes)
        if not url or not settings.collections:
            print("sweep: environment mode needs --url (or sweep-url) and [testdata_kit:collections.NAME] sections; "
                  "for journals use --journal", file=sys.stderr)
            return 2
        if not args.yes:
            print("sweep: dry run, nothing is deleted; add --yes to delete", file=sys.stderr)
        return _run_environment(settings, url, args.yes)
    except (TestDataError, RuntimeError) as error:
        print(f"sweep: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
