"""Redaction of credentials in headers, URLs and bodies before testdata_kit prints or stores them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["MASK", "body_excerpt", "headers", "is_secret_name", "text", "url"]

MASK = "***"
#: Header, query and JSON field names whose values are credentials; matched as substrings, case-insensitively.
_SECRET_PARTS = ("auth", "token", "secret", "password", "passwd", "api-key", "api_key", "apikey", "cookie",
                 "session", "signature", "credential")
_SECRET_EXACT = frozenset({"key", "sig", "code_verifier", "x-api-key"})
# "Bearer abc", "token=abc" and "password: abc" inside free text such as an error body.
_TEXT_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(\"?(?:access_?token|refresh_?token|api_?key|secret|password|token)\"?\s*[:=]\s*\"?)"
               r"[^\s\",&]+"),
)
_EXCERPT = 300


def is_secret_name(name: str) -> bool:
    """Tell whether a header, query parameter or field called *name* holds a credential.

    :param name: compared case-insensitively; ``Authorization``, ``X-Auth-Token``, ``api_key`` are secret.
    """
    lowered = name.lower()
    return lowered in _SECRET_EXACT or any(part in lowered for part in _SECRET_PARTS)


def headers(values: Mapping[str, Any] | None) -> dict[str, str]:
    """Return a copy of *values* with every credential header replaced by ``***``."""
    return {name: MASK if is_secret_name(name) else str(value) for name, value in (values or {}).items()}


def url(address: str) -> str:
    """Return *address* with a password in the user part and credential query parameters replaced by ``***``."""
    parts = urlsplit(address)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        netloc = f"{user}:{MASK}@{host}" if ":" in userinfo else f"{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(is_secret_name(name) for name, _ in pairs):
            query = urlencode([(name, MASK if is_secret_name(name) else value) for name, value in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def data(value: Any) -> Any:
    """Return a copy of a JSON-like *value* with credential fields replaced by ``***``, at any depth."""
    if isinstance(value, Mapping):
        return {key: MASK if is_secret_name(str(key)) else data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [data(item) for item in value]
    return value


def text(value: str) -> str:
    """Return free text with ``Bearer ...`` tokens and ``token=...``-style pairs replaced by ``***``."""
    value = _TEXT_PATTERNS[0].sub(lambda m: f"{m.group(1)} {MASK}", value)
    return _TEXT_PATTERNS[1].sub(lambda m: m.group(1) + MASK, value)


def body_excerpt(raw: bytes | str | None, limit: int = _EXCERPT) -> str:
    """Return the start of a response body, redacted and shortened, for an error message.

    :param raw: the body as received; JSON is redacted field by field, anything else as text.
    :param limit: characters kept; longer bodies end with ``...``.
    """
    if not raw:
        return "<empty body>"
    body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        shown = json.dumps(data(json.loads(body)), ensure_ascii=False)
    except ValueError:
        shown = text(body)
    shown = " ".join(shown.split())
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."
