"""Every setting of the core, parsed and validated by one piece of code, wherever it is set.

A setting may come from an environment variable (``TESTDATA_*``, named in :mod:`testdata_kit._env`), from a key
of the ``[testdata_kit]`` section of setup.cfg, or both; the variable wins. Either way its text goes through the
same parser, so a bad value gets the same words: the setting, the value and what to write instead
(``TESTDATA_JOURNAL_FSYNC = 'maybe'`` and ``journal-fsync = maybe`` both say "expected true or false").

Cheap at import (only :mod:`os`): setup.cfg is opened only when an environment variable is unset and the file
mentions the key, and a parsed value is kept for as long as its text does not change.
:func:`check_start` checks the settings that point at places (the journal folder or store, the report file) once
per process, before the first test, so that an unusable one fails the run once instead of every test.
"""

from __future__ import annotations

import os

from testdata_kit import _env
from testdata_kit.errors import InvalidValueError, SettingError, TestDataError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["BOOLEANS", "BOOLEAN_FORMS", "SETTINGS", "Setting", "SettingError", "check_start", "value", "where"]

#: The words a boolean setting accepts (configparser's own), lower-case.
BOOLEANS = {"1": True, "yes": True, "true": True, "on": True, "0": False, "no": False, "false": False, "off": False}
#: How errors name them.
BOOLEAN_FORMS = "true or false (also yes/no, on/off, 1/0)"


class Setting:
    """One setting: its environment variable, its setup.cfg key, how its text parses, and its default.

    :param parse: text (stripped) -> value; raises ``ValueError`` or ``KeyError`` for a bad one.
    :param expected: the valid forms, as errors name them.
    """

    def __init__(
        self, env: str | None, key: str | None, parse: Callable[[str], Any], expected: str, default: Any = None,
    ) -> None:
        self.env = env
        self.key = key
        self.parse = parse
        self.expected = expected
        self.default = default

    def from_text(self, text: str, setting: str) -> Any:
        """Parse *text*; raise :class:`SettingError` naming *setting* when it does not parse."""
        try:
            return self.parse(text.strip())
        except (ValueError, KeyError):
            raise SettingError(setting, text, self.expected) from None


def _boolean(text: str) -> bool:
    return BOOLEANS[text.lower()]


def _keep(text: str) -> str:
    if text.lower() not in ("", "failed", "never"):
        raise ValueError(text)
    return text.lower() or "never"


def _workers(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(text)
    return int(text)


def _text(text: str) -> str:
    return text


def _seconds(text: str) -> float:
    # Plain seconds, as the other TESTDATA_* numbers are written; "inf" and "nan" are not durations.
    seconds = float(text)
    if not 0 <= seconds < 10**7:
        raise ValueError(text)
    return seconds


def _positive_seconds(text: str) -> float:
    seconds = _seconds(text)
    if seconds < 1:
        raise ValueError(text)
    return seconds


def _store_url(text: str) -> str:
    if not text:
        raise ValueError(text)
    return text


def _host(text: str) -> str:
    if not text or any(c.isspace() or not c.isprintable() for c in text) or len(text) > 253:
        raise ValueError(text)
    return text


#: Every setting the core reads, by name.
SETTINGS: dict[str, Setting] = {
    "keep": Setting(_env.KEEP_ENV, None, _keep, "'failed' (keep the data of failing tests) or 'never' (the default)",
                    "never"),
    "interrupts": Setting(_env.INTERRUPTS_ENV, None, _boolean,
                          BOOLEAN_FORMS + "; 0 leaves SIGINT and SIGTERM to Python", True),
    "journal-fsync": Setting(_env.JOURNAL_FSYNC_ENV, "journal-fsync", _boolean, BOOLEAN_FORMS, False),
    "journal-dir": Setting(_env.JOURNAL_ENV, "journal-dir", _text, "a folder this process may write to"),
    "journal-store": Setting(_env.JOURNAL_STORE_ENV, "journal-store", _store_url,
                             "a folder, or a URL: postgresql://..., redis://..., s3://bucket/prefix"),
    "journal-store-fallback": Setting(_env.JOURNAL_STORE_FALLBACK_ENV, "journal-store-fallback", _text,
                                      "a folder this process may write to, used when the journal store is down"),
    "journal-lease": Setting(_env.JOURNAL_LEASE_ENV, "journal-lease", _positive_seconds,
                             "seconds a run's lease lasts without a heartbeat, at least 1 (default 30)"),
    "journal-clock-skew": Setting(_env.JOURNAL_CLOCK_SKEW_ENV, "journal-clock-skew", _seconds,
                                  "seconds of clock difference between machines, 0 or more (default 30)", 30.0),
    "hostname": Setting(_env.HOSTNAME_ENV, None, _host,
                        "a host name without spaces, unique among the machines that share a journal store"),
    "report": Setting(_env.REPORT_ENV, None, _text, "a file in a folder that exists"),
    "teardown-workers": Setting(_env.TEARDOWN_WORKERS_ENV, None, _workers,
                                "a whole number: 1 for serial teardown, or more threads"),
}

# (name, text) -> parsed value: each text is parsed once, and a changed variable is seen at once.
_parsed: dict[tuple[str, str], Any] = {}


def value(name: str) -> Any:
    """Return the value of the setting *name* (a key of :data:`SETTINGS`): its variable, its key, its default.

    :raises SettingError: for a variable that does not parse.
    :raises testdata_kit.config.ConfigError: for a setup.cfg key that does not parse (same words).
    """
    setting = SETTINGS[name]
    text = os.environ.get(setting.env) if setting.env else None
    if text is not None and text.strip():
        cached = _parsed.get((name, text), _parsed)
        if cached is _parsed:
            cached = _parsed[(name, text)] = setting.from_text(text, setting.env or name)
        return cached
    if setting.key is not None and _env.mentions(setting.key):
        from testdata_kit import config

        loaded = config.load()
        raw = loaded.get_str(setting.key)
        if raw:
            try:
                return setting.parse(raw)
            except (ValueError, KeyError):
                raise config.ConfigError(loaded.path, setting.key, raw, setting.expected) from None
    return setting.default


def where(name: str) -> str:
    """Return how an error names the setting *name*: its variable when set, else its key in setup.cfg."""
    setting = SETTINGS[name]
    if setting.env and os.environ.get(setting.env, "").strip():
        return setting.env
    return f"{setting.key} in setup.cfg" if setting.key else str(setting.env)


_checked: TestDataError | bool | None = False


def check_start() -> None:
    """Check every core setting once per process, and the places they point at; raise the first error again.

    :raises SettingError: naming the setting, its value and the fix, for a value that does not parse, a
        journal folder that cannot be created or written, or a report file whose folder is missing.
    :raises testdata_kit.errors.StoreUnreachable: for a journal store that cannot be reached, without a fallback.
    :raises testdata_kit.config.ConfigError: the same, for a key of setup.cfg.
    """
    global _checked
    if _checked is False:
        try:
            _check()
        except TestDataError as error:  # a SettingError, or a ConfigError for a setup.cfg key
            _checked = error
        else:
            _checked = None
    if isinstance(_checked, TestDataError):
        raise _checked


def _reset_after_fork() -> None:
    global _checked
    _checked = False


os.register_at_fork(after_in_child=_reset_after_fork)


def _check() -> None:
    for name in ("keep", "interrupts", "teardown-workers", "journal-fsync", "journal-lease", "journal-clock-skew",
                 "hostname"):
        value(name)
    from testdata_kit import unique

    try:
        unique.current_prefix()
    except SettingError:
        raise
    except InvalidValueError as error:  # check_prefix's message already names the source and the rule
        source = _env.PREFIX_ENV if os.environ.get(_env.PREFIX_ENV) else "marker-prefix in setup.cfg"
        raise SettingError(source, os.environ.get(_env.PREFIX_ENV, ""), "", message=str(error)) from None
    journal = _env.journal_requested() and value("journal-dir")
    if journal:
        _check_folder(journal, where("journal-dir"))
    if _env.journal_requested() and value("journal-store"):
        _check_store()
    report = value("report")
    if report:
        _check_report(report)


def _check_store() -> None:
    # The run fails here, before its first test, when its journal store cannot be reached (unless a fallback
    # folder is set: the journal then moves there at the first creation, and says so).
    from testdata_kit import journal

    url = journal.configured_store()  # both journal-store and a different journal folder: a SettingError
    fallback = value("journal-store-fallback")
    if fallback and os.path.exists(fallback) and not os.path.isdir(fallback):
        raise SettingError(where("journal-store-fallback"), fallback, "a folder, but it is a file: point it at a "
                           "folder, or remove the file")
    store = journal.open_store(url or "")
    try:
        if isinstance(store, journal.DirectoryStore):
            _check_folder(str(store.directory), where("journal-store"), url)
        elif not fallback:
            store.check()
    finally:
        store.close()


def _check_folder(path: str, setting: str, shown: str | None = None) -> None:
    # *shown*: the value as the user wrote it (a file:// URL), when *path* was read from it.
    written = path if shown is None else shown
    if os.path.exists(path) and not os.path.isdir(path):
        raise SettingError(setting, written, "a folder, but it is a file: point it at a folder, or remove the file")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise SettingError(
            setting, written, f"a folder this process can create ({error.strerror}): point it at a writable folder, "
            f"such as .testdata-journal") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise SettingError(setting, written,
                           "a folder this process may write to: fix its permissions, or choose another")


def _check_report(path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise SettingError(_env.REPORT_ENV, path, "a file, but it is a folder: name a file inside it, such as "
                           f"{os.path.join(path, 'testdata-report.jsonl')}")
    if not os.path.isdir(folder):
        raise SettingError(_env.REPORT_ENV, path, f"a file in a folder that exists, but {folder} does not: create "
                           "the folder first, or choose another path")
    target = path if os.path.exists(path) else folder
    if not os.access(target, os.W_OK):
        raise SettingError(_env.REPORT_ENV, path, f"a file this process may write, but {target} is not writable: "
                           "fix its permissions, or choose another path")
