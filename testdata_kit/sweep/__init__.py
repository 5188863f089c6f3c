"""``python -m testdata_kit sweep``: delete what crashed runs left behind, from their journals or by marker.

Two modes, both a dry run unless ``--yes`` is given:

- ``--journal``: replay the unreleased entries of dead runs' journals (newest first, so children go before
  parents), read from the journal store (a folder, or a shared store's URL); live runs are left alone. What a
  journal cannot name (a create cut short, a lost end) is looked for by marker, limited to that journal's run
  and worker, when collections are configured.
- environment mode (the default): list the configured collections through the API, page by page, and delete
  the rows whose marker carries our prefix and that are older than the TTL, except rows of runs whose lease
  in the journal store is still alive (a store that cannot be read stops the sweep: it cannot tell).

Every deletion goes through :class:`testdata_kit.http.Collection`, with the same addressing and the same proof
as a test's cleanup, and counts only once proven. The exit status says what is left:

- ``0``: everything found is verified gone (or, in a dry run, listed); fully swept journals are removed.
- ``1``: something remains, each listed: a deletion not proven, an entry that cannot be replayed, a damaged
  journal (kept) or a file that is not a journal (kept).
- ``2``: nothing was done: bad settings, an unsafe prefix or host, an API that cannot be listed, a journal
  folder that does not exist, or a journal of an unknown format version (kept).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

from testdata_kit import config as _config
from testdata_kit import journal as _journal
from testdata_kit._env import JOURNAL_STORE_ENV
from testdata_kit.errors import InvalidValueError, SettingError, StoreUnreachable, TestDataError
from testdata_kit.resources import JOURNAL_ENV
from testdata_kit.sweep._environment import sweep_environment
from testdata_kit.sweep._listing import ListingError, client
from testdata_kit.sweep._replay import run_journal
from testdata_kit.sweep._report import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, Counts, print_summary
from testdata_kit.sweep._settings import (
    COLLECTION_KEYS,
    CollectionSettings,
    SweepConfig,
    SweepRefused,
    check_safe,
    load_config,
)

__all__ = [
    "COLLECTION_KEYS",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_UNUSABLE",
    "CollectionSettings",
    "Counts",
    "ListingError",
    "SweepConfig",
    "SweepRefused",
    "check_safe",
    "load_config",
    "main",
    "sweep_environment",
]


def _run_environment(settings: SweepConfig, url: str, delete: bool) -> int:
    live: set[str] = set()
    if settings.journal_store:
        store = _journal.open_store(settings.journal_store)
        try:
            # A store that cannot be read cannot say which runs are alive: then nothing is deleted.
            live = store.live_runs(store.streams())
        except StoreUnreachable as error:
            print(f"sweep: {error.args[0]} Without it, runs still alive cannot be told apart, so nothing was "
                  f"deleted.", file=sys.stderr)
            return EXIT_UNUSABLE
        finally:
            store.close()
    else:
        print(f"sweep: no journal store (${JOURNAL_STORE_ENV}, journal-store, ${JOURNAL_ENV} or journal-dir), so "
              f"live runs cannot be recognised; relying on the TTL alone", file=sys.stderr)
    ttl = settings.ttl

    def select(marker: object, age: _dt.timedelta) -> str:
        if getattr(marker, "run_id", None) in live:
            return "live"
        return "stale" if age > ttl else "young"

    api = client(settings, url)
    try:
        counts = sweep_environment(api, settings.collections, prefix=settings.prefix, select=select, delete=delete)
    finally:
        api.close()
    print_summary(counts, delete, "collection")
    return EXIT_FAILED if any(c.failed for c in counts.values()) else EXIT_OK


def _ttl(text: str) -> _dt.timedelta:
    try:
        return _config.parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _check_url(url: str, source: str, where: str) -> None:
    # Without a scheme, urlsplit finds no host, and the host guard would refuse '' and point at the allowed hosts.
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidValueError(
            f"{source} {url!r}{where} is not a URL the sweeper can call: write it with its scheme and host, such as "
            f"http://127.0.0.1:8000 or https://staging.example.com/api")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m testdata_kit sweep``; return 0 (all gone), 1 (something remains) or 2 (could not start)."""
    parser = argparse.ArgumentParser(
        prog="python -m testdata_kit sweep",
        description="Delete leftover test data. A dry run unless --yes: it lists what it would delete. Exit status: "
                    "0 all verified gone, 1 something remains (listed), 2 nothing done (bad settings, missing "
                    "journal folder, a journal store that cannot be read, unknown journal version).",
    )
    parser.add_argument("--yes", action="store_true", help="really delete (default: dry run)")
    parser.add_argument("--journal", nargs="?", const="", metavar="DIR|URL",
                        help="replay the journals of dead runs in the folder DIR, or in the shared store at URL "
                             "(postgresql://..., redis://..., s3://bucket/prefix); default: $TESTDATA_JOURNAL_STORE, "
                             "journal-store, $TESTDATA_JOURNAL or journal-dir")
    parser.add_argument("--url", help="base URL of the API (default: sweep-url from the config)")
    parser.add_argument("--config", metavar="FILE", help="setup.cfg-style file (default: ./setup.cfg or ./tox.ini)")
    parser.add_argument("--ttl", type=_ttl,
                        help="minimum age of a row to delete: 24h, 90m, 2d, 1h30m or seconds (default: ttl, or 24h)")
    parser.add_argument("--prefix", help="marker prefix (default: $TESTDATA_PREFIX, else marker-prefix, else 'test-')")
    args = parser.parse_args(argv)
    try:
        settings = load_config(args.config)
        if args.prefix is not None:
            settings.prefix, settings.prefix_source = args.prefix, "--prefix"
        if args.ttl is not None:
            settings.ttl = args.ttl
        if args.journal:
            settings.journal_store = settings.journal_dir = args.journal
            try:  # checked here, so that a bad URL is named as the option it came from
                _journal.open_store(args.journal).close()
            except SettingError as error:
                raise SettingError("--journal", error.value, error.expected) from None
        url = args.url or settings.url
        if args.url:
            _check_url(args.url, "--url", "")
        elif url:
            _check_url(url, "sweep-url", f" in {settings.source or 'setup.cfg'}")
        check_safe(settings, url)
        if args.journal is not None:
            if not args.yes:
                print("sweep: dry run, nothing is deleted; add --yes to delete", file=sys.stderr)
            return run_journal(settings, url, args.yes)
        if not url:
            print("sweep: environment mode needs --url (or sweep-url) and [testdata_kit:collections.NAME] sections; "
                  "for journals use --journal", file=sys.stderr)
            return EXIT_UNUSABLE
        if not settings.collections:
            print(f"sweep: no collections are configured, so there is nothing to look for at {url}. Add a "
                  f"[testdata_kit:collections.NAME] section per collection (path, marker-fields) to "
                  f"{settings.source or 'setup.cfg'}; for journals use --journal", file=sys.stderr)
            return EXIT_UNUSABLE
        if not args.yes:
            print("sweep: dry run, nothing is deleted; add --yes to delete", file=sys.stderr)
        return _run_environment(settings, url, args.yes)
    except (TestDataError, RuntimeError, ValueError) as error:
        print(f"sweep: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
