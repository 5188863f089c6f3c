"""Time zones from the standard library and date formatting that ignores the C locale, for hermetic fake values.

Zones come from the ``tzdata`` package when it is installed (the ``fake`` extra installs it), not from the
operating system's database: two machines with different OS zone data still give the same offsets. Without
``tzdata``, :mod:`zoneinfo` looks in the OS database as usual.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

from testdata_kit.errors import TestDataError

__all__ = ["UnknownTimeZoneError", "localize", "strftime", "zone"]

_KEY = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*")
_zones: dict[str, dt.tzinfo] = {}


class UnknownTimeZoneError(TestDataError, LookupError):
    """A time zone name that is not in the IANA database."""

    def __init__(self, name: object, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else "."
        super().__init__(f"Unknown time zone {name!r}{hint} Use an IANA name such as 'Europe/Berlin' or 'UTC'.")


def _load(key: str) -> dt.tzinfo:
    if _KEY.fullmatch(key) and ".." not in key:
        try:
            from importlib.resources import files

            with files("tzdata.zoneinfo").joinpath(*key.split("/")).open("rb") as data:
                return zoneinfo.ZoneInfo.from_file(data, key=key)
        except (ImportError, OSError):
            pass
        try:
            return zoneinfo.ZoneInfo(key)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            pass
    import difflib

    raise UnknownTimeZoneError(key, difflib.get_close_matches(key, sorted(zoneinfo.available_timezones()), n=2))


def zone(name: Any) -> dt.tzinfo:
    """Return the ``tzinfo`` for an IANA *name* (a ``tzinfo`` passes through unchanged).

    :raises UnknownTimeZoneError: for a name the database does not have, with the closest names.
    """
    if isinstance(name, dt.tzinfo):
        return name
    found = _zones.get(name) if isinstance(name, str) else None
    if found is None:
        if not isinstance(name, str):
            raise UnknownTimeZoneError(name, [])
        found = _zones[name] = _load(name)
    return found


def localize(value: dt.datetime, name: Any) -> dt.datetime:
    """Return the naive wall time *value* in zone *name*; a time in a daylight-saving gap moves forward."""
    aware = value.replace(tzinfo=zone(name))
    # A round trip through UTC turns a wall time that does not exist (02:30 on a spring-forward day) into one
    # that does, as a clock on the wall would show it.
    return aware.astimezone(dt.timezone.utc).astimezone(aware.tzinfo)


_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def _name(value: Any, code: str) -> str:
    # time objects format as 1900-01-01, a Monday in January; dates format as midnight.
    if code in "aA":
        day = _DAYS[value.weekday() if hasattr(value, "weekday") else 0]
        return day[:3] if code == "a" else day
    if code in "bBh":
        month = _MONTHS[getattr(value, "month", 1) - 1]
        return month if code == "B" else month[:3]
    return "AM" if getattr(value, "hour", 0) < 12 else "PM"


# The C locale's forms of the locale-dependent composites.
_COMPOSITES = {"c": "%a %b %e %H:%M:%S %Y", "x": "%m/%d/%y", "X": "%H:%M:%S"}


def strftime(value: Any, fmt: str) -> str:
    """Format *value* as ``value.strftime(fmt)`` in the C locale, whatever ``setlocale`` said.

    Day and month names, AM/PM and ``%c``/``%x``/``%X`` follow ``LC_TIME`` in :meth:`~datetime.date.strftime`,
    so a program that calls ``locale.setlocale(locale.LC_ALL, "")`` would otherwise format the same date
    differently on a German machine.
    """
    out: list[str] = []
    i, size = 0, len(fmt)
    while i < size:
        char = fmt[i]
        if char != "%" or i + 1 == size:
            out.append(char.replace("%", "%%"))
            i += 1
            continue
        code = fmt[i + 1]
        i += 2
        if code in "EO" and i < size:
            # POSIX's alternative forms (%Ec, %Od, ...) are the locale's; in the C locale they are the plain ones.
            code = fmt[i]
            i += 1
        if code in "aAbBhp":
            out.append(_name(value, code))
        elif code == "e":
            out.append(f"{getattr(value, 'day', 1):2d}")
        elif code in "cxX":
            out.append(strftime(value, _COMPOSITES[code]).replace("%", "%%"))
        else:
            out.append("%" + code)
    return value.strftime("".join(out))
