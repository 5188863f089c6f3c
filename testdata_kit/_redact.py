"""Redaction of credentials in headers, URLs and bodies before testdata_kit prints, logs or journals them.

One vocabulary of secret names and one behaviour (the value becomes ``***``) for every tool: the HTTP client's
messages and repr, the journal's recovery URLs, the sweeper's refusals. Standard library only, so the core
(the journal) can use it without ``requests``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["MASK", "body_excerpt", "data", "headers", "is_secret_name", "text", "unmasked", "url"]

MASK = "***"
#: Header, query and JSON field names whose values are credentials; matched as substrings, case-insensitively.
_SECRET_PARTS = ("auth", "token", "secret", "passw", "passphrase", "api-key", "api_key", "apikey", "accesskey",
                 "access_key", "access-key", "private_key", "privatekey", "cookie", "session", "signature",
                 "credential")
_SECRET_EXACT = frozenset({"key", "sig", "pass", "pwd", "code_verifier", "x-api-key"})
# "client_key", "X-Signing-Key": a name that ends in key after a separator; "monkey" or "keyword" are not secret.
_SECRET_SUFFIX = re.compile(r"[-_.]key$")
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
    return (lowered in _SECRET_EXACT or any(part in lowered for part in _SECRET_PARTS)
            or _SECRET_SUFFIX.search(lowered) is not None)


def headers(values: Mapping[str, Any] | None) -> dict[str, str]:
    """Return a copy of *values* with every credential header replaced by ``***``."""
    return {name: MASK if is_secret_name(name) else str(value) for name, value in (values or {}).items()}


def url(address: str) -> str:
    """Return *address* with a password in the user part and credential query parameters replaced by ``***``.

    Pairs in the fragment (``#access_token=...``, as OAuth's implicit flow returns them) are masked the same way.
    """
    parts = urlsplit(address)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        netloc = f"{user}:{MASK}@{host}" if ":" in userinfo else f"{MASK}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, _masked_pairs(parts.query), _masked_pairs(parts.fragment)))


def _masked_pairs(query: str) -> str:
    if "=" not in query and not is_secret_name(query):
        return query  # a plain fragment such as "#section-2" stays as written
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(is_secret_name(name) for name, _ in pairs):
        return query
    return urlencode([(name, MASK if is_secret_name(name) else value) for name, value in pairs], safe="*")


def unmasked(address: str) -> str:
    """Return *address*, as :func:`url` left it, without the masked user part and masked query parameters.

    For replaying a recorded URL: the placeholder ``***`` must not be sent as a password or a key, so the
    request goes out without them and authenticates the way the replaying tool does.

    :param address: a URL that went through :func:`url`.
    """
    parts = urlsplit(address)
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if at and MASK in userinfo:
        netloc = host
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = parts.query
    if any(value == MASK for _, value in pairs):
        query = urlencode([(name, value) for name, value in pairs if value != MASK])
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
