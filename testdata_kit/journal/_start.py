"""Where a process journals: the store the settings name, reached (or replaced by the fallback folder) at start.

Runs and ``sweep`` choose the store by the same functions, so that the sweeper reads where the runs wrote.
Re-exported by :mod:`testdata_kit.journal`; import from there.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from testdata_kit import _env, _settings, ledger
from testdata_kit._env import JOURNAL_ENV
from testdata_kit.errors import SettingError, StoreUnreachable
from testdata_kit.journal._directory import DirectoryStore
from testdata_kit.journal._store import open_store

if TYPE_CHECKING:
    from testdata_kit.config import Config
    from testdata_kit.journal import Journal

__all__ = ["configured_directory", "configured_store", "start"]


def start(books: ledger.Ledger | None = None, directory: str | os.PathLike[str] | None = None) -> Journal:
    """Attach a journal to *books* (default: the current ledger), configured from the environment or setup.cfg.

    The store (:func:`configured_store`) is reached first: when it cannot be, this raises, or, with
    ``journal-store-fallback``, journals to that folder instead and says so on stderr.

    :param directory: where to write; default :func:`configured_store`, else ``.testdata-journal``.
    :raises StoreUnreachable: the store cannot be reached and no fallback is configured (masked URL, cause, fix).
    :raises SettingError: for a bad journal setting.
    """
    books = books or ledger.current()
    fsync = bool(_settings.value("journal-fsync"))
    url = str(directory) if directory is not None else configured_store() or ".testdata-journal"
    store = open_store(url)
    fallback = _settings.value("journal-store-fallback") or None
    if isinstance(store, DirectoryStore):
        store.fsync = fsync
        fallback = None
    else:
        try:
            store.check()
        except StoreUnreachable as error:
            if fallback is None:
                raise
            print(f"testdata_kit: the journal store {error.url} cannot be reached ({error.cause}). Journaling to the "
                  f"fallback folder {fallback} instead; sweep it with sweep --journal {fallback}.", file=sys.stderr)
            store, fallback = DirectoryStore(fallback, fsync=fsync), None
    from testdata_kit.journal import Journal  # the writer imports this module to re-export it

    journal = Journal(store=store, fsync=fsync, fallback=fallback)
    books.observers.append(journal)
    return journal


def configured_store(loaded: Config | None = None) -> str | None:
    """Return the journal store in force: ``journal-store`` (a folder or URL), else :func:`configured_directory`.

    :param loaded: the section to read the keys from, as for :func:`configured_directory`.
    :raises SettingError: when ``journal-store`` and the journal folder are both set and differ.
    """
    if os.environ.get(_env.JOURNAL_STORE_ENV, "").strip() or loaded is None:
        url = _settings.value("journal-store") or None
        source = _settings.where("journal-store")
    else:
        url = loaded.get_str("journal-store") or None
        source = "journal-store in setup.cfg"
    directory = configured_directory(loaded)
    if url and directory and _same_place(url) != _same_place(directory):
        from testdata_kit import _redact

        where = _env.JOURNAL_ENV if os.environ.get(_env.JOURNAL_ENV) else "journal-dir"
        raise SettingError(source, _redact.url(url), "", message=(
            f"{source} = {_redact.url(url)!r} and {where} = {directory!r} name two different journal stores: runs "
            f"would write to one and the sweep might read the other. Keep one of them (journal-store takes "
            f"folders too)."))
    return url or directory


def _same_place(text: str) -> str:
    if "://" in text and not text.startswith("file://"):
        return text.strip()
    from urllib.parse import unquote, urlsplit

    path = unquote(urlsplit(text).path) if text.startswith("file://") else text
    return os.path.realpath(path.strip())


def configured_directory(loaded: Config | None = None) -> str | None:
    """Return the journal directory in force: ``$TESTDATA_JOURNAL``, else ``journal-dir``, else ``None``.

    Runs write and ``sweep`` reads where this says; two rules would send the sweeper where no run wrote.

    :param loaded: the section to read ``journal-dir`` from; default: the current directory's, read only if needed.
    """
    from_env = os.environ.get(JOURNAL_ENV)
    if from_env or loaded is None:
        return _settings.value("journal-dir") or None
    return loaded.get_str("journal-dir") or None
