"""Project configuration: the ``[testdata_kit]`` section of ``setup.cfg`` (or ``tox.ini``) with typed getters.

Every tool reads the same section and owns its own keys (``lint-select`` for the linter, ``ttl`` for the
sweeper, ``allowed-hosts`` for everything that talks to a server, read by :mod:`testdata_kit.guard`). Keys are
spelled with hyphens. A value that does not parse raises :class:`ConfigError`, which names the file, the key,
the value and the form that was expected. The loader uses only :mod:`configparser`, so it is safe to import
from the core.
"""

from __future__ import annotations

import configparser
import difflib
import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, overload

from testdata_kit import _env, _settings
from testdata_kit.errors import InvalidValueError, TestDataError

__all__ = [
    "DEFAULT_FILES",
    "DURATION_FORMS",
    "SECTION",
    "Config",
    "ConfigError",
    "load",
    "parse_duration",
]

SECTION = "testdata_kit"
#: Files searched, in order, in the current directory when :func:`load` gets no path.
DEFAULT_FILES = _env.CONFIG_FILES
#: The forms a duration may take, as error messages name them.
DURATION_FORMS = "a duration such as 24h, 90m, 30s, 2d, 1h30m or plain seconds"

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])", re.IGNORECASE)
_DURATION_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")
_BOOLEANS = _settings.BOOLEANS


class ConfigError(TestDataError, ValueError):
    """A configuration value (or key, or file) that cannot be used as written."""

    def __init__(
        self, path: Path | None, key: str | None, value: object, expected: str, section: str = SECTION
    ) -> None:
        self.path = path
        self.key = key
        self.value = value
        self.expected = expected
        self.section = section
        where = str(path) if path is not None else "<no file>"
        if key is None:
            message = f"{where}: {expected}"
        else:
            message = f"{where}: [{section}] {key} = {value!r} is not valid; expected {expected}."
        super().__init__(message)


class Config:
    """The keys of one ``[testdata_kit]`` (or ``[testdata_kit:NAME]``) section, read through typed getters.

    :param values: raw key/value strings, keys lower-case with hyphens.
    :param path: the file they came from, named in every error; ``None`` for an empty config.
    :param section: the section name, used in error messages.
    :param sections: sub-sections ``[testdata_kit:NAME]`` by NAME.
    """

    def __init__(
        self,
        values: Mapping[str, str] | None = None,
        *,
        path: Path | None = None,
        section: str = SECTION,
        sections: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.path = path
        self.section_name = section
        self._values = dict(values or {})
        self._sections = {name: dict(vals) for name, vals in (sections or {}).items()}

    def __repr__(self) -> str:
        return f"<Config [{self.section_name}] from {str(self.path)!r} keys={sorted(self._values)}>"

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def keys(self) -> list[str]:
        """Return the keys present in this section, sorted."""
        return sorted(self._values)

    def section(self, name: str) -> Config:
        """Return the sub-section ``[testdata_kit:NAME]`` as a Config (empty when absent).

        :param name: the part after the colon, e.g. ``collections.users``.
        """
        return Config(self._sections.get(name), path=self.path, section=f"{SECTION}:{name}")

    def section_names(self, prefix: str = "") -> list[str]:
        """Return the names of the sub-sections that start with *prefix*, sorted.

        :param prefix: e.g. ``"collections."`` to list every configured collection section.
        """
        return sorted(name for name in self._sections if name.startswith(prefix))

    def check_keys(self, known: Collection[str], prefix: str = "") -> None:
        """Raise :class:`ConfigError` for a key starting with *prefix* that is not in *known*.

        Tools share the section, so each one checks only the keys it owns: the linter passes its keys and
        ``prefix="lint-"``, and a key such as ``ttl`` owned by the sweeper is left alone.

        :param known: every valid key of that tool.
        :param prefix: only keys starting with this are checked; ``""`` checks every key.
        """
        for key in self.keys():
            if key.startswith(prefix) and key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ConfigError(
                    self.path,
                    None,
                    key,
                    f"unknown key {key!r} in [{self.section_name}].{hint} "
                    f"Known keys: {', '.join(sorted(known))}.",
                    self.section_name,
                )

    def _raw(self, key: str) -> str | None:
        value = self._values.get(key)
        return None if value is None else value.strip()

    def _error(self, key: str, value: object, expected: str) -> ConfigError:
        return ConfigError(self.path, key, value, expected, self.section_name)

    @overload
    def get_str(self, key: str) -> str | None: ...
    @overload
    def get_str(self, key: str, default: str) -> str: ...
    def get_str(self, key: str, default: str | None = None) -> str | None:
        """Return the value of *key* stripped of surrounding whitespace, or *default* when absent.

        :param key: hyphenated key name, e.g. ``marker-prefix``.
        :param default: returned when the key is missing.
        """
        raw = self._raw(key)
        return default if raw is None else raw

    def get_list(self, key: str, default: Iterable[str] = ()) -> list[str]:
        """Return the items of *key*, split on newlines and commas, blanks dropped.

        :param key: hyphenated key name, e.g. ``allowed-hosts``.
        :param default: returned (as a list) when the key is missing.
        """
        raw = self._raw(key)
        if raw is None:
            return list(default)
        return [item.strip() for item in re.split(r"[\n,]", raw) if item.strip()]

    def _typed(self, key: str, default: Any, parse: Callable[[str], Any], expected: str) -> Any:
        # One shape for every typed getter: absent gives the default, a value that does not parse is an error
        # naming the file, the key, the value and the expected form.
        raw = self._raw(key)
        if raw is None:
            return default
        try:
            return parse(raw)
        except (ValueError, KeyError):
            raise self._error(key, raw, expected) from None

    @overload
    def get_int(self, key: str) -> int | None: ...
    @overload
    def get_int(self, key: str, default: int) -> int: ...
    def get_int(self, key: str, default: int | None = None) -> int | None:
        """Return *key* as a whole number, or *default* when absent.

        :param key: hyphenated key name.
        :param default: returned when the key is missing.
        """
        return self._typed(key, default, lambda raw: int(raw.replace("_", "")), "a whole number such as 3")

    @overload
    def get_float(self, key: str) -> float | None: ...
    @overload
    def get_float(self, key: str, default: float) -> float: ...
    def get_float(self, key: str, default: float | None = None) -> float | None:
        """Return *key* as a number (decimals allowed), or *default* when absent.

        :param key: hyphenated key name.
        :param default: returned when the key is missing.
        """
        return self._typed(key, default, float, "a number such as 0.5")

    @overload
    def get_bool(self, key: str) -> bool | None: ...
    @overload
    def get_bool(self, key: str, default: bool) -> bool: ...
    def get_bool(self, key: str, default: bool | None = None) -> bool | None:
        """Return *key* as a boolean (``true/false``, ``yes/no``, ``on/off``, ``1/0``), or *default*.

        :param key: hyphenated key name.
        :param default: returned when the key is missing.
        """
        return self._typed(key, default, lambda raw: _BOOLEANS[raw.lower()], _settings.BOOLEAN_FORMS)

    @overload
    def get_duration(self, key: str) -> timedelta | None: ...
    @overload
    def get_duration(self, key: str, default: timedelta) -> timedelta: ...
    def get_duration(self, key: str, default: timedelta | None = None) -> timedelta | None:
        """Return *key* as a duration: ``2d``, ``24h``, ``90m``, ``30s``, ``1h30m`` or plain seconds.

        :param key: hyphenated key name, e.g. ``ttl``.
        :param default: returned when the key is missing.
        """
        return self._typed(key, default, parse_duration, DURATION_FORMS)

    def get_mapping(self, key: str) -> dict[str, tuple[str, ...]]:
        """Return a child -> parents relation, one ``child = parent`` or ``child -> p1, p2`` per line.

        Lines naming the same child are merged. The relation must be acyclic, because it says what to
        delete first (every child before its parents); a cycle has no such order and is an error.

        :param key: hyphenated key name, e.g. ``parents``.
        """
        raw = self._raw(key)
        result: dict[str, list[str]] = {}
        for line in (raw or "").splitlines():
            line = line.strip()
            if not line:
                continue
            child, arrow, parents = _split_relation(line)
            names = [p.strip() for p in parents.split(",") if p.strip()]
            if not arrow or not _NAME.match(child) or not names or not all(_NAME.match(p) for p in names):
                raise self._error(
                    key, line, "lines like 'orders -> users, products' or 'discounts = products'"
                )
            if child in names:
                raise self._error(key, line, f"a parent other than {child!r} itself")
            bucket = result.setdefault(child, [])
            bucket.extend(p for p in names if p not in bucket)
        cycle = _find_cycle(result)
        if cycle:
            raise self._error(
                key, raw, f"relations without a cycle; {' -> '.join(cycle)} has no children-first order"
            )
        return {child: tuple(parents) for child, parents in result.items()}


def _split_relation(line: str) -> tuple[str, str, str]:
    for arrow in ("->", "=", ":"):
        child, found, rest = line.partition(arrow)
        if found:
            return child.strip(), found, rest
    return line, "", ""


def _find_cycle(relation: Mapping[str, list[str]]) -> list[str]:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for parent in relation.get(node, ()):
            if state.get(parent) == 1:
                return [*path[path.index(parent):], parent]
            if parent not in state and (found := visit(parent)):
                return found
        path.pop()
        state[node] = 2
        return []

    for node in relation:
        if node not in state and (found := visit(node)):
            return found
    return []


def parse_duration(text: str) -> timedelta:
    """Return *text* as a duration (``2d``, ``24h``, ``90m``, ``30s``, ``1h30m`` or plain seconds).

    Command-line options use it directly, so that their errors can name the option rather than a key.

    :param text: the value as written; surrounding whitespace is ignored.
    :raises ValueError: for anything else, including negative and NaN durations.
    """
    stripped = text.strip()
    try:
        seconds = float(stripped)
    except ValueError:
        compact = stripped.replace(" ", "")
        parts = _DURATION_PART.findall(compact)
        if not parts or "".join(n + u for n, u in parts).lower() != compact.lower():
            raise InvalidValueError(f"{text!r} is not valid; expected {DURATION_FORMS}") from None
        seconds = sum(float(n) * _DURATION_UNITS[u.lower()] for n, u in parts)
    try:
        if seconds >= 0:  # False for NaN too
            return timedelta(seconds=seconds)
    except OverflowError:  # inf, or beyond timedelta's 999999999 days
        pass
    raise InvalidValueError(f"{text!r} is not valid; expected {DURATION_FORMS}")


def load(path: str | os.PathLike[str] | None = None, *, known: Collection[str] | None = None) -> Config:
    """Read the ``[testdata_kit]`` section (and its ``[testdata_kit:NAME]`` sub-sections) into a Config.

    Without *path*, the first of ``setup.cfg`` and ``tox.ini`` in the current directory that has the
    section is used; when none has it the result is an empty Config and every default applies. A *path*
    given explicitly must exist, because a mistyped ``--config`` silently falling back to defaults would
    hide the mistake.

    :param path: a setup.cfg or tox.ini style file.
    :param known: when given, every key of the main section must be one of these.
    """
    if path is None:
        config = Config()
        for name in DEFAULT_FILES:
            candidate = Path(name)
            if candidate.is_file():
                config = _read(candidate)
                if config.keys() or config.section_names():
                    break
    else:
        candidate = Path(path)
        if not candidate.is_file():
            defaults = " or ".join(DEFAULT_FILES)
            raise ConfigError(
                candidate,
                None,
                str(candidate),
                f"config file {str(candidate)!r} does not exist; check the path, or leave it out to read "
                f"{defaults} from the current directory.",
            )
        config = _read(candidate)
    if known is not None:
        config.check_keys(known)
    return config


def _syntax_fix(error: Exception) -> str:
    # What to change, by what configparser tripped on; its own message already names the line.
    if isinstance(error, UnicodeDecodeError):
        return "Fix: save the file as UTF-8."
    if isinstance(error, configparser.MissingSectionHeaderError):
        return "Fix: put a section header such as [testdata_kit] above the first key."
    if isinstance(error, configparser.DuplicateOptionError):
        return "Fix: keep one of the two lines that set this key in that section."
    if isinstance(error, configparser.DuplicateSectionError):
        return "Fix: merge the two sections of that name into one."
    return ("Fix: write each line as 'key = value' or a [section] header; indent a line to continue the value "
            "above it, and start comments with # or ;.")


def _read(path: Path) -> Config:
    # A [DEFAULT] section would leak its keys into ours; no other tool's defaults belong to us.
    parser = configparser.ConfigParser(interpolation=None, strict=True, default_section="\x00")
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except (configparser.Error, UnicodeDecodeError) as error:
        raise ConfigError(path, None, None, f"cannot be parsed as an ini file: {error}. {_syntax_fix(error)}") from None
    values = dict(parser.items(SECTION, raw=True)) if parser.has_section(SECTION) else {}
    sections = {
        name.partition(":")[2]: dict(parser.items(name, raw=True))
        for name in parser.sections()
        if name.startswith(SECTION + ":")
    }
    return Config(values, path=path, sections=sections)
