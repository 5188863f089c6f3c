"""Environment sweeping: list the configured collections over HTTP, pick stale marked rows, delete children first."""

from __future__ import annotations

import datetime as _dt
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from testdata_kit import unique
from testdata_kit.config import ConfigError
from testdata_kit.errors import TestDataError

__all__ = ["ApiError", "Collection", "Counts", "Session", "order_children_first", "sweep_environment"]

_MAX_PAGES = 100_000
_GONE = (404, 410)


class ApiError(TestDataError, RuntimeError):
    """A listing the API could not serve: no connection, no answer in time, an error status or no JSON."""

    def __init__(self, message: str, url: str) -> None:
        self.url = url
        super().__init__(message)


@dataclass
class Collection:
    """One configured collection: where to list it, which fields carry the marker, and what it references."""

    name: str
    path: str
    marker_fields: tuple[str, ...] = ()
    created_at_field: str = "created_at"
    id_field: str = "id"
    parents: tuple[str, ...] = ()
    #: field -> collection, for rows without a marker of their own (an order belongs to our user).
    owner_fields: tuple[tuple[str, str], ...] = ()
    prefix_param: str = ""
    list_query: str = ""


@dataclass
class Counts:
    """Per-collection tallies for the summary."""

    found: int = 0
    deleted: int = 0
    skipped_live: int = 0
    young: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)


def order_children_first(collections: list[Collection], where: Any = None) -> list[Collection]:
    """Return *collections* ordered so that every child comes before the collections it references.

    :param where: the config file, named in the error for an unknown parent or a cycle.
    """
    by_name = {c.name: c for c in collections}
    parents = {c.name: set(c.parents) | {target for _, target in c.owner_fields} for c in collections}
    for name, wanted in parents.items():
        for parent in sorted(wanted - set(by_name)):
            raise ConfigError(where, f"parents of collections.{name}", parent,
                              f"one of the configured collections: {', '.join(sorted(by_name))}",
                              section=f"testdata_kit:collections.{name}")
    result: list[str] = []
    children = {name: {c for c, ps in parents.items() if name in ps} for name in by_name}
    ready = sorted(name for name in by_name if not children[name])
    remaining = {name: set(kids) for name, kids in children.items()}
    while ready:
        name = ready.pop(0)
        result.append(name)
        for parent in sorted(parents[name]):
            remaining[parent].discard(name)
            if not remaining[parent] and parent not in result and parent not in ready:
                ready.append(parent)
    if len(result) != len(by_name):
        stuck = sorted(set(by_name) - set(result))
        raise ConfigError(where, "parents", ", ".join(stuck),
                          "parent relations without a cycle, so that children can be deleted first")
    return [by_name[name] for name in result]


class Session:
    """A ``requests`` session bound to one base URL, with the auth header kept out of every message."""

    def __init__(self, base_url: str, headers: dict[str, str], timeout: float = 15.0) -> None:
        try:
            import requests
        except ImportError:
            from testdata_kit.errors import MissingExtraError

            raise MissingExtraError("requests", "http", "python -m testdata_kit sweep") from None
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._requests = requests
        self._session = requests.Session()
        self._session.headers.update(headers)

    def close(self) -> None:
        self._session.close()

    def url(self, path: str) -> str:
        return urljoin(self.base_url + "/", path.lstrip("/"))

    def get_json(self, url: str, params: dict[str, str] | None = None) -> Any:
        """Return the JSON body of ``GET url``; raise :class:`ApiError` when there is none to be had."""
        try:
            response = self._session.get(url, params=params, timeout=self.timeout)
        except self._requests.RequestException as error:
            shown = _shown(url)
            timed_out = isinstance(error, self._requests.Timeout)
            reason = f"no answer within {self.timeout:g} s" if timed_out else _reason(error)
            raise ApiError(
                f"cannot reach the API: GET {shown} failed: {reason}. Check that the server is running and "
                f"reachable from here, and that --url (or sweep-url) is right.", shown) from None
        with response:
            if response.status_code != 200:
                raise ApiError(f"GET {_path(response.url)} answered {response.status_code}: {_error(response)}",
                               _shown(url))
            try:
                return response.json()
            except ValueError:
                raise ApiError(f"GET {_path(response.url)} answered 200 without a JSON body: "
                               f"{response.text[:120]!r}; is --url (or sweep-url) the API's base URL?",
                               _shown(url)) from None

    def delete(self, method: str, url: str) -> str | None:
        """Send *method* to *url*; return ``None`` when the row is gone, else the reason it failed."""
        try:
            response = self._session.request(method, url, timeout=self.timeout)
        except self._requests.RequestException as error:
            return f"{method} {_path(url)} failed: {type(error).__name__}"
        with response:
            if response.status_code < 300 or response.status_code in _GONE:
                return None
            return f"{method} {_path(url)} answered {response.status_code}: {_error(response)}"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _shown(url: str) -> str:
    # Without user:password and query: either may hold a credential, and the host is what the reader must check.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def _reason(error: BaseException) -> str:
    # requests wraps urllib3 wraps the socket error; the innermost OSError says what went wrong in plain words.
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return str(seen.strerror)
        inner = getattr(seen, "reason", None)
        seen = inner if isinstance(inner, BaseException) else (seen.__cause__ or seen.__context__)
    return type(error).__name__


def _error(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:120]
    return str(body.get("error", body))[:200] if isinstance(body, dict) else str(body)[:200]


def list_rows(session: Session, collection: Collection, prefix: str, progress: Callable[[str], None]) -> list[dict]:
    """Return every row of *collection* (following ``next`` links), filtered by *prefix* server-side if configured."""
    params: dict[str, str] = {}
    for pair in collection.list_query.split("&"):
        if pair.strip():
            key, _, value = pair.partition("=")
            params[key.strip()] = value.strip()
    if collection.prefix_param:
        params[collection.prefix_param] = prefix
    url: str | None = session.url(collection.path)
    rows: list[dict] = []
    seen: set[str] = set()
    for _ in range(_MAX_PAGES):
        if url is None or url in seen:
            break
        seen.add(url)
        body = session.get_json(url, params if len(seen) == 1 else None)
        if isinstance(body, list):
            items, following = body, None
        else:
            items, following = body.get("items", []), body.get("next")
        rows.extend(item for item in items if isinstance(item, dict))
        url = session.url(following) if following else None
        total = body.get("total") if isinstance(body, dict) else None
        if url is not None:
            progress(f"listing {collection.name}: {len(rows)}" + (f"/{total}" if total else "") + " rows")
    return rows


def _created_at(row: dict, collection: Collection) -> _dt.datetime | None:
    value = row.get(collection.created_at_field) if collection.created_at_field else None
    if not isinstance(value, str):
        return None
    try:
        moment = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=_dt.timezone.utc)


def _marker(row: dict, collection: Collection, prefix: str) -> unique.Marker | None:
    for name in collection.marker_fields:
        found = unique.parse(row.get(name), prefix)  # type: ignore[arg-type]
        if found is not None:
            return found
    return None


Verdict = str  # "stale", "live", "young"


def sweep_environment(
    session: Session, collections: list[Collection], *, prefix: str, select: Callable[[unique.Marker, Any], str],
    delete: bool, progress: Callable[[str], None] | None = None,
) -> dict[str, Counts]:
    """Find our rows in every collection, then (with *delete*) delete the stale ones, children first.

    :param select: gives each marked row's verdict from its marker and age: ``stale``, ``live`` or ``young``.
    :param delete: False for a dry run.
    """
    report = progress or (lambda text: print(f"sweep: {text}", file=sys.stderr, flush=True))
    ordered = order_children_first(collections)
    now = _dt.datetime.now(_dt.timezone.utc)
    verdicts: dict[tuple[str, Any], tuple[Verdict, unique.Marker]] = {}
    targets: dict[str, list[Any]] = {c.name: [] for c in ordered}
    counts = {c.name: Counts() for c in ordered}
    for collection in reversed(ordered):  # parents first, so that children can inherit their verdict
        for row in list_rows(session, collection, prefix, report):
            ident = row.get(collection.id_field)
            if ident is None:
                continue
            marker = _marker(row, collection, prefix)
            verdict: Verdict | None = None
            if marker is not None:
                age = now - (_created_at(row, collection) or marker.created_at)
                verdict = select(marker, age)
            else:
                inherited = [verdicts[(target, row.get(name))] for name, target in collection.owner_fields
                             if (target, row.get(name)) in verdicts]
                if not inherited:
                    continue  # no marker of its own and no marked owner: never ours to touch
                marker = inherited[0][1]
                age = now - (_created_at(row, collection) or marker.created_at)
                verdict = "live" if any(v == "live" for v, _ in inherited) else select(marker, age)
            verdicts[(collection.name, ident)] = (verdict, marker)
            tally = counts[collection.name]
            if verdict == "live":
                tally.skipped_live += 1
            elif verdict == "young":
                tally.young += 1
            elif verdict == "stale":
                tally.found += 1
                targets[collection.name].append(ident)
    if not delete:
        return counts
    total = sum(len(idents) for idents in targets.values())
    done = 0
    for collection in ordered:
        tally = counts[collection.name]
        for ident in targets[collection.name]:
            url = session.url(f"{collection.path.rstrip('/')}/{ident}")
            problem = session.delete("DELETE", url)
            if problem is None:
                tally.deleted += 1
            else:
                tally.failed += 1
                tally.failures.append(problem)
            done += 1
            if done % 100 == 0 and done < total:
                report(f"deleted {done}/{total} rows")
    return counts
