"""Proof of deletion: reading an item back at its address, and the ``verify`` setting that decides when to."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from testdata_kit import _redact
from testdata_kit.http._addressing import read_field
from testdata_kit.http._exchange import Call, Steps
from testdata_kit.http.errors import ServerDownError

if TYPE_CHECKING:
    from testdata_kit.config import Config

__all__ = [
    "GONE_STATUSES",
    "IS_GONE",
    "IS_THERE",
    "IS_UNKNOWN",
    "IS_WRONG",
    "SETTLE_SECONDS",
    "VERIFY_ENV", "VERIFY_KEY", "VERIFY_MODES", "cannot_read", "probe", "rechecks", "settle_seconds", "verify_mode"]

#: Answers to a DELETE that mean the item no longer exists, if the address is right (it is then checked).
GONE_STATUSES = (404, 410)
#: The values of ``verify``: check the answers that are not proof, check every deletion, or trust status codes.
VERIFY_MODES = ("auto", "always", "never")
#: The environment variable and ``[testdata_kit]`` config key that replace ``verify="auto"``.
VERIFY_ENV = "TESTDATA_HTTP_VERIFY"
VERIFY_KEY = "http-verify"
#: How long, by default, a deletion the server accepted (2xx) may take to finish before the item counts as leaked.
SETTLE_SECONDS = 2.0
# The first wait before a re-check, doubled after each one: a server that finishes within milliseconds costs
# one short wait, and a slow one a handful of GETs.
_FIRST_WAIT = 0.05
# What a GET of an item's address showed.
IS_GONE, IS_THERE, IS_UNKNOWN, IS_WRONG = "gone", "there", "unknown", "wrong"


def probe(address: str, ident: Any, id_field: str, headers: Mapping[str, str], params: Mapping[str, Any],
          trusted: bool) -> Steps[tuple[str, str]]:
    """GET the item's address; return (gone | there | wrong | unknown, what the GET showed, for messages).

    An empty answer (404, 410, or ``[]`` from a query-filter address) is "gone" only at a *trusted* address,
    one shown to serve an item that existed: at a wrong address it is what every item looks like.
    "wrong" is an answer about something else: a list of several rows (a filter the server ignored), or a
    row with another id. Steps for :func:`~testdata_kit.http._exchange.drive` (or ``adrive``).
    """
    shown = _redact.url(address)
    try:
        response = yield Call("GET", address, headers, params)
    except ServerDownError as error:
        return IS_UNKNOWN, f"GET {shown} could not reach the server ({error.reason})"
    status = response.status
    if status in GONE_STATUSES:
        return (IS_GONE if trusted else IS_UNKNOWN), f"GET {shown} answered {status}"
    if not response.ok:
        return IS_UNKNOWN, f"GET {shown} answered {status}"
    try:
        body = response.json()
    except ValueError:
        return IS_THERE, f"GET {shown} answered {status} with a body"
    if isinstance(body, list):
        if not body:
            return (IS_GONE if trusted else IS_UNKNOWN), f"GET {shown} answered {status} with []"
        if len(body) == 1 and _same(body[0], ident, id_field):
            return IS_THERE, f"GET {shown} answered {status} with the item"
        return IS_WRONG, f"GET {shown} answered a list of {len(body)} rows, so it does not address one item"
    if isinstance(body, dict) and not _same(body, ident, id_field):
        return IS_WRONG, f"GET {shown} answered {status} with another item"
    return IS_THERE, f"GET {shown} answered {status} with the item"


def rechecks(seconds: float) -> list[float]:
    """Return the waits, in seconds, before each re-check of a deletion the server accepted but has not finished.

    They double from 50 ms, and add up to *seconds* exactly (the last one is cut short), so a leak is called
    no later than *seconds* after the first check: ``rechecks(1)`` is ``[0.05, 0.1, 0.2, 0.4, 0.25]``.
    """
    waits: list[float] = []
    wait, left = _FIRST_WAIT, float(seconds)
    while left > 1e-9:
        waits.append(round(min(wait, left), 6))
        left -= waits[-1]
        wait *= 2
    return waits


def settle_seconds(settle: float) -> float:
    """Return *settle* as seconds, or raise :class:`ValueError` naming it and the valid range."""
    if isinstance(settle, bool) or not isinstance(settle, int | float) or not 0 <= settle <= 3600:
        raise ValueError(f"settle {settle!r} must be a number of seconds from 0 (no re-check) to 3600, e.g. "
                         f"settle={SETTLE_SECONDS:g}")
    return float(settle)


def cannot_read(check: str) -> bool:
    """Whether a probe's outcome says items cannot be read at all (405 or 501), rather than failing this time."""
    return check.endswith((" answered 405", " answered 501"))


def verify_mode(verify: str, config: Config) -> str:
    """Return the effective mode: *verify*, or for ``"auto"`` the environment's or the config's when set.

    :raises ValueError: naming the value and where it came from, for anything but the three modes.
    """
    if verify not in VERIFY_MODES:
        raise ValueError(f"verify {verify!r} must be one of {', '.join(map(repr, VERIFY_MODES))}")
    if verify != "auto":
        return verify
    configured = os.environ.get(VERIFY_ENV, "").strip().lower()
    source = f"${VERIFY_ENV}"
    if not configured:
        configured = (config.get_str(VERIFY_KEY) or "auto").lower()
        source = f"{VERIFY_KEY} in {config.path}"
    if configured not in VERIFY_MODES:
        raise ValueError(f"{source} = {configured!r} must be one of {', '.join(map(repr, VERIFY_MODES))}")
    return configured


def _same(row: Any, ident: Any, id_field: str) -> bool:
    """Whether *row* is the item *ident*; a row without the id field cannot contradict it."""
    if not isinstance(row, Mapping):
        return False
    try:
        return str(read_field(row, id_field)) == str(ident)
    except KeyError:
        return True
