"""Reading URLs in test code: string templates, path segments, literal ids and what an endpoint is for."""

from __future__ import annotations

import ast
import http
import itertools
import re

__all__ = [
    "HOLE",
    "hardcoded_id",
    "is_auth_url",
    "is_collection_url",
    "is_create_url",
    "path_segments",
    "template",
    "url_texts",
]

HOLE = "\x00"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/]*")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RESOURCE = re.compile(r"^[A-Za-z][A-Za-z_-]*$")
# Words after which a number is a version, a page, a size, a count, a delay or a status, not a record id:
# "/api/v2", "/bytes/1024", "/redirect/5", "/status/418" (httpbin-style endpoints take parameters in the path).
_NOT_RESOURCES = frozenset(
    {"v", "api", "version", "versions", "page", "pages", "rev", "revision", "bytes", "stream", "stream-bytes",
     "range", "delay", "drip", "status", "code", "codes", "redirect", "redirects", "relative-redirect",
     "absolute-redirect", "redirect-to", "limit", "offset", "size", "count", "links", "cache", "seconds",
     "timeout", "sleep", "wait", "retry", "retries", "length", "chunk", "chunks", "width", "height", "n",
     "max", "min", "top", "first", "last", "year", "month", "day", "port", "step", "per_page", "page_size"}
)
_STATUS_CODES = frozenset(str(int(status)) for status in http.HTTPStatus)
_FS_ROOTS = frozenset({"tmp", "dev", "proc", "sys", "etc", "usr", "var", "home", "opt", "bin", "mnt", "srv"})
# A POST to one of these words signs in or out, renews a token or resets a password: nothing to delete after.
_AUTH_WORDS = frozenset(
    {"login", "logout", "signin", "sign-in", "signout", "sign-out", "token", "tokens", "access-token",
     "refresh", "password", "passwords", "password-reset", "reset-password", "password-recovery",
     "recover-password", "verify", "jwt", "oauth", "oauth2", "authorize", "authenticate", "session",
     "sessions", "auth-token", "api-token-auth", "obtain", "revoke"}
)
# A POST to one of these words makes an account even though the word is not a plural collection.
_CREATE_WORDS = frozenset({"signup", "sign-up", "register", "registration", "join"})
# Plural-looking words that name an action or an echo, not a collection a POST adds to.
_NOT_COLLECTIONS = frozenset(
    {"status", "settings", "stats", "headers", "cookies", "redirects", "news", "access", "process", "address",
     "series", "analysis", "success", "progress", "uploads", "bytes", "options", "details", "results"}
)


def template(node: ast.expr) -> str | None:
    """Return a string or f-string as text, each ``{...}`` replaced by a hole (int literals kept)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if not isinstance(node, ast.JoinedStr):
        return None
    pieces = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            pieces.append(str(value.value))
        elif isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Constant) and isinstance(
            value.value.value, int
        ):
            pieces.append(str(value.value.value))
        else:
            pieces.append(HOLE)
    return "".join(pieces)


def url_texts(node: ast.expr) -> list[tuple[ast.expr, str]]:
    """Return the string pieces of a URL expression: the string itself, or the parts of ``BASE + "/users/42"``.

    A call's arguments are not looked into, except ``reverse("name")``'s route name.
    """
    text = template(node)
    if text is not None:
        return [(node, text)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        left = url_texts(node.left)
        right = url_texts(node.right)
        # "BASE + '/users/42'": the right part starts the path after an unknown base.
        return left + [(n, HOLE + t if left or not t.startswith("/") else t) for n, t in right]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return url_texts(node.func.value)
    return []


def path_segments(text: str) -> list[str] | None:
    """Return the path segments of a URL-like *text*, or None when it is not a URL path."""
    if any(ch.isspace() for ch in text):
        return None
    scheme = _SCHEME.match(text)
    if scheme:
        rest = text[scheme.end():]
    elif text.startswith(HOLE):
        rest = text.lstrip(HOLE)
    else:
        rest = text
    if not rest.startswith("/"):
        return None
    segments = re.split(r"[?#]", rest, maxsplit=1)[0].split("/")[1:]
    if not scheme and segments and segments[0] in _FS_ROOTS:
        return None
    return segments


def hardcoded_id(text: str) -> str | None:
    """Return the first literal record id in the path of *text* (``"/users/42"`` gives ``"42"``), or None."""
    for previous, segment in itertools.pairwise(path_segments(text) or []):
        is_id = segment.isdigit() or _UUID.match(segment)
        if not is_id or not _RESOURCE.match(previous) or previous.lower() in _NOT_RESOURCES:
            continue
        # "/users/404" is an id, "/error/404" a status: a status-shaped number counts only after a plural noun.
        if segment in _STATUS_CODES and not previous.lower().endswith("s"):
            continue
        return segment
    return None


def _words(text: str) -> list[str]:
    return [s.lower() for s in re.split(r"[/?#.]", text.replace(HOLE, "/")) if s]


def is_collection_url(text: str) -> bool:
    """Return True when the last path segment of *text* is a resource name (``/users``, ``/users/``)."""
    segments = path_segments(text)
    if not segments:
        return False
    last = segments[-1] or (segments[-2] if len(segments) > 1 else "")
    return bool(_RESOURCE.match(last))


def is_auth_url(text: str) -> bool:
    """Return True when *text* (a URL or a route name) is a sign-in, token or password endpoint."""
    for word in _words(text):
        parts = set(re.split(r"[_:-]", word))
        if word in _AUTH_WORDS or parts & {"login", "logout", "token", "password", "refresh", "signin"}:
            return True
    return False


def is_create_url(text: str) -> bool:
    """Return True when a POST to *text* adds to a collection: ``/users/``, ``/users/signup``, ``user-list``."""
    words = _words(text)
    if not words:
        return False
    last = words[-1]
    if last in _CREATE_WORDS:
        return True
    if ":" in last or last.endswith("-list"):
        # A route name: DRF's router names the collection endpoint "<basename>-list".
        return last.endswith("-list")
    return (
        bool(_RESOURCE.match(last)) and last.endswith("s") and not last.endswith("ss")
        and last not in _NOT_COLLECTIONS
    )
