"""The sweep's settings: the ``[testdata_kit]`` keys, the ``[testdata_kit:collections.NAME]`` sections, safety."""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from testdata_kit import _redact, guard, unique
from testdata_kit import config as _config
from testdata_kit import journal as _journal
from testdata_kit.errors import TestDataError

__all__ = ["COLLECTION_KEYS", "DEFAULT_TTL", "TOKEN_ENV", "CollectionSettings", "SweepConfig", "SweepRefused",
           "check_safe", "load_config", "order_children_first"]

DEFAULT_TTL = _dt.timedelta(hours=24)
TOKEN_ENV = "TESTDATA_SWEEP_TOKEN"
COLLECTION_KEYS = (
    "path", "marker-fields", "created-at-field", "id-field", "parents", "owner-fields", "prefix-param", "list-query",
    "item", "verify", "delete-at", "delete-method", "items-field", "next-field",
)
_VERIFY_MODES = ("auto", "always", "never")
_DELETE_METHODS = ("DELETE", "POST", "PUT", "PATCH")


class SweepRefused(TestDataError, ValueError):
    """A sweep that would be unsafe to run: a prefix :mod:`testdata_kit.unique` refuses.

    A host that is not allowed raises :class:`~testdata_kit.guard.HostNotAllowedError`, as everywhere else.
    """

    def __init__(self, message: str, value: object) -> None:
        self.value = value
        super().__init__(message)


@dataclass
class CollectionSettings:
    """One configured collection: where to list it, which fields carry the marker, what it references, and where
    one of its rows lives (*item*, the same templates as :meth:`testdata_kit.http.ApiClient.collection`)."""

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
    #: The address of one row, e.g. ``"{path}/{id}"`` (the default) or ``"{path}?id=eq.{id}"``.
    item: str = "{path}/{id}"
    #: ``auto``, ``always`` or ``never``: when a deletion is read back before it counts.
    verify: str = "auto"
    #: Where a row is deleted when not at :attr:`item`, e.g. Datasette's ``"/data/users/{id}/-/delete"``.
    delete_at: str | None = None
    #: The deletion's HTTP method: ``DELETE``, or ``POST`` for APIs that delete by POST (Datasette).
    delete_method: str = "DELETE"
    #: The field of a listing object that holds the page's rows (``rows`` for Datasette).
    items_field: str = "items"
    #: The field of a listing object that holds the next page's address (``next_url`` for Datasette).
    next_field: str = "next"


@dataclass
class SweepConfig:
    """Everything a sweep needs, read from ``[testdata_kit]`` and its ``[testdata_kit:collections.NAME]`` sections."""

    url: str | None = None
    prefix: str = unique.DEFAULT_PREFIX
    #: Where :attr:`prefix` came from, named when it is refused: ``--prefix``, ``TESTDATA_PREFIX`` or the key.
    prefix_source: str = "marker-prefix"
    ttl: _dt.timedelta = DEFAULT_TTL
    journal_dir: str | None = None
    #: The journal store runs write to (a folder or a URL; see :func:`testdata_kit.journal.open_store`).
    journal_store: str | None = None
    token_env: str = TOKEN_ENV
    allowed_hosts: frozenset[str] = frozenset()
    collections: list[CollectionSettings] = field(default_factory=list)
    source: Any = None
    #: The loaded section, handed to the HTTP client (allowed hosts, ``http-verify``).
    loaded: _config.Config | None = None


def load_config(path: str | None = None) -> SweepConfig:
    """Read the sweep's keys; a bad value raises :class:`~testdata_kit.config.ConfigError` naming the key.

    :param path: a setup.cfg-style file; default: setup.cfg or tox.ini in the current directory.
    """
    loaded = _config.load(path)
    # Not checked here but in check_safe, which sees --prefix too; unique.current_prefix() would raise for a bad
    # $TESTDATA_PREFIX before --prefix could replace it, and without naming the fix.
    # The order runs use (unique.current_prefix): the environment, then the key, then the default.
    from_env, from_key = os.environ.get(unique.PREFIX_ENV), loaded.get_str("marker-prefix")
    if from_env:
        prefix, source = from_env, unique.PREFIX_ENV
    elif from_key is not None:
        prefix, source = from_key, f"marker-prefix in {loaded.path}"
    else:
        prefix, source = unique.DEFAULT_PREFIX, "the default"
    result = SweepConfig(
        url=loaded.get_str("sweep-url") or None,
        prefix=prefix,
        prefix_source=source,
        ttl=loaded.get_duration("ttl", DEFAULT_TTL),
        journal_dir=_journal.configured_directory(loaded),
        journal_store=_journal.configured_store(loaded),
        token_env=loaded.get_str("sweep-token-env", TOKEN_ENV),
        allowed_hosts=guard.allowed_hosts(loaded),
        source=loaded.path,
        loaded=loaded,
    )
    for section in loaded.section_names("collections."):
        result.collections.append(_collection(loaded, section))
    result.collections = order_children_first(result.collections, loaded.path)
    return result


def _collection(loaded: _config.Config, section: str) -> CollectionSettings:
    name = section.partition(".")[2]
    keys = loaded.section(section)
    keys.check_keys(COLLECTION_KEYS)
    where = f"testdata_kit:{section}"
    owners = []
    for item in keys.get_list("owner-fields"):
        column, arrow, target = item.replace("->", ":").partition(":")
        if not arrow or not column.strip() or not target.strip():
            raise _config.ConfigError(loaded.path, "owner-fields", item, "items like 'user_id -> users'", section=where)
        owners.append((column.strip(), target.strip()))
    verify = keys.get_str("verify", "auto").lower()
    if verify not in _VERIFY_MODES:
        raise _config.ConfigError(loaded.path, "verify", verify, "auto, always or never", section=where)
    template = keys.get_str("item", "{path}/{id}")
    if "{id}" not in template:
        raise _config.ConfigError(loaded.path, "item", template, "an address holding {id}, such as {path}/{id} or "
                                  "{path}?id=eq.{id}", section=where)
    delete_at = keys.get_str("delete-at", "") or None
    if delete_at is not None and "{" not in delete_at:
        raise _config.ConfigError(loaded.path, "delete-at", delete_at, "an address holding the row's fields, such as "
                                  "{path}/{id}/-/delete", section=where)
    method = keys.get_str("delete-method", "DELETE").upper()
    if method not in _DELETE_METHODS:
        raise _config.ConfigError(loaded.path, "delete-method", method, ", ".join(_DELETE_METHODS), section=where)
    collection = CollectionSettings(
        name=name, path=keys.get_str("path", f"/{name}"),
        marker_fields=tuple(keys.get_list("marker-fields")),
        created_at_field=keys.get_str("created-at-field", "created_at"), id_field=keys.get_str("id-field", "id"),
        parents=tuple(keys.get_list("parents")), owner_fields=tuple(owners),
        prefix_param=keys.get_str("prefix-param", ""), list_query=keys.get_str("list-query", ""),
        item=template, verify=verify, delete_at=delete_at, delete_method=method,
        items_field=keys.get_str("items-field", "items"), next_field=keys.get_str("next-field", "next"),
    )
    if not collection.marker_fields and not collection.owner_fields:
        raise _config.ConfigError(loaded.path, "marker-fields", "", "the fields that carry the marker (or "
                                  "owner-fields, for rows that belong to a marked row)", section=where)
    return collection


def order_children_first(collections: list[CollectionSettings], where: Any = None) -> list[CollectionSettings]:
    """Return *collections* ordered so that every child comes before the collections it references.

    :param where: the config file, named in the error for an unknown parent or a cycle.
    :raises ConfigError: for a parent that is not configured, or parents that form a cycle.
    """
    by_name = {c.name: c for c in collections}
    parents = {c.name: set(c.parents) | {target for _, target in c.owner_fields} for c in collections}
    for name, wanted in parents.items():
        for parent in sorted(wanted - set(by_name)):
            raise _config.ConfigError(where, f"parents of collections.{name}", parent,
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
        raise _config.ConfigError(where, "parents", ", ".join(stuck),
                                  "parent relations without a cycle, so that children can be deleted first")
    return [by_name[name] for name in result]


def check_safe(settings: SweepConfig, url: str | None) -> None:
    """Raise :class:`SweepRefused` for an unsafe prefix, or :class:`~testdata_kit.guard.HostNotAllowedError`.

    The host decision is :func:`testdata_kit.guard.check_host`'s, the same as the HTTP client's and ``reset``'s.

    :param settings: the loaded sweep settings (prefix, its source, allowed hosts).
    :param url: the API or recovery URL about to be called; ``None`` checks the prefix alone.
    """
    source = settings.prefix_source
    try:
        # The very check that unique applies to the prefix runs are made with, so the two cannot drift apart.
        unique.check_prefix(settings.prefix, source)
    except ValueError as error:
        if source == "--prefix":
            fix = "Pass another --prefix."
        elif source == unique.PREFIX_ENV:
            fix = f"Correct or unset ${source}, or pass --prefix."
        else:
            fix = f"Correct {source}, or pass --prefix."
        raise SweepRefused(f"Refusing to sweep. {error} {fix}", settings.prefix) from None
    if url is None:
        return
    guard.check_host(urlsplit(url).hostname or "", allowed=settings.allowed_hosts, action="sweep",
                     url=_redact.url(url), where=settings.source)


def auth_headers(settings: SweepConfig) -> dict[str, str]:
    """The ``Authorization`` header from the token variable, when it is set."""
    token = os.environ.get(settings.token_env)
    return {"Authorization": f"Bearer {token}"} if token else {}
