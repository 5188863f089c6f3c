"""Journal records as text: one compact JSON line per record, and the replayable part of a recovery."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["OUTCOMES", "clean_recovery", "encode", "encode_record", "id_text", "test_name"]

_RECOVERY_KEYS = ("method", "url", "check", "headers", "proven", "call", "id")
encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
# The outcomes of release records, encoded once.
OUTCOMES = {word: encode(word) for word in ("deleted", "kept", "leaked", "abandoned", "swept")}


def id_text(ident: Any) -> str:
    # The id as JSON when it is a str or int (what a sweeper can use), else null.
    if type(ident) is int:
        return str(ident)
    return encode(ident) if isinstance(ident, (str, int)) else "null"


def test_name(owner: Any, scope: str) -> str:
    if owner is None:
        return f"<{scope}>"
    if isinstance(owner, type):
        return f"{owner.__module__}.{owner.__qualname__}"
    return str(owner.id()) if hasattr(owner, "id") else type(owner).__name__


def clean_recovery(recovery: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return the replayable part of *recovery*: method, url and check (credentials masked as ``***``), the
    headers the integration chose to keep (a tenant's, already redacted), call, id.

    The URLs go through :func:`testdata_kit._redact.url`, the same vocabulary of secret names as the HTTP
    client's messages; the fragment is dropped, since no server ever sees it. Bodies are never kept, nor any
    header the integration did not name.


    :param recovery: what the integration passed to ``track(..., recovery=...)``.
    """
    if not recovery:
        return None
    kept = {key: recovery[key] for key in _RECOVERY_KEYS if key in recovery}
    for key in ("url", "check"):
        url = kept.get(key)
        if isinstance(url, str):
            from testdata_kit import _redact  # urllib.parse only when something is journaled

            kept[key] = _redact.url(url.partition("#")[0])
    headers = kept.get("headers")
    if headers is not None:
        from testdata_kit import _redact

        # A masked credential would only be dropped by the sweeper: keep what can be replayed, or nothing.
        shown = _redact.headers(headers) if isinstance(headers, dict) else {}
        kept["headers"] = {name: value for name, value in shown.items() if value != _redact.MASK}
        if not kept["headers"]:
            del kept["headers"]
    return kept


def encode_record(record: dict[str, Any]) -> str:
    """Return *record* as one journal line: compact JSON and its ``"\\n"``."""
    return encode(record) + "\n"
