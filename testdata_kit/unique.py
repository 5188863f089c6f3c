"""Unique values for identity fields, each carrying a marker that says test data, which run, and when.

Every value embeds one *marker token*::

    test-lz3k8p-r7k2q9-gw1p1a2b-x9c0001a
    ^^^^^ ^^^^^^ ^^^^^^ ^^^^^^^^ ^^^^^^^^
    prefix  UTC    run   worker   nonce
          seconds  id    token    (random + counter)
          base 36

From the value alone a sweeper can tell that a row is test data (the prefix), which run owns it (the run id,
shared by every worker of a run), and how old it is (the creation second). The nonce mixes four characters
from the OS's random source (as :mod:`secrets` does) with a per-process counter, so values never repeat
inside a process and never come from a seeded generator; the worker token separates processes.

With the default prefix a token is 32 characters in a plain process and at most 40 under a named worker
(``gw12p1t1x``), so an email on ``example.com`` is at most 52 characters, which fits the usual ``VARCHAR(64)``
columns.
"""

from __future__ import annotations

import itertools
import os
import re
import time

from testdata_kit import _env, _run
from testdata_kit.errors import InvalidValueError

# Names for annotations only. Importing typing would add a few milliseconds to ``import testdata_kit``, which
# unittest itself does not pay; type checkers treat this constant as True.
TYPE_CHECKING = False

if TYPE_CHECKING:
    import datetime as _dt

__all__ = [
    "DEFAULT_PREFIX",
    "RESERVED_DOMAINS",
    "Marker",
    "check_prefix",
    "configure",
    "current_prefix",
    "email",
    "filename",
    "id",
    "idempotency_key",
    "is_reserved_domain",
    "is_test_value",
    "name",
    "parse",
    "tenant",
    "token",
]

DEFAULT_PREFIX = "test-"
PREFIX_ENV = _env.PREFIX_ENV
MIN_PREFIX_LENGTH = 3

#: Domains reserved for documentation and testing by RFC 2606 and RFC 6761; mail sent there reaches nobody.
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TLDS = (".test", ".example", ".invalid", ".localhost")

_PREFIX_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_prefix: str | None = None
# The marker-prefix key, read from setup.cfg or tox.ini at the first value made: (value or None,).
_config_prefix: tuple[str | None] | None = None
_counter = itertools.count()


def _reset_counter_after_fork() -> None:
    global _counter
    _counter = itertools.count()


os.register_at_fork(after_in_child=_reset_counter_after_fork)


def configure(*, prefix: str | None = None) -> None:
    """Set the marker prefix for this process (the ``TESTDATA_PREFIX`` environment variable does the same).

    :param prefix: at least three characters, starting with a letter; ``None`` restores the default.
    """
    global _prefix
    _prefix = None if prefix is None else check_prefix(prefix, "configure(prefix=...)")


def _configured_prefix() -> str | None:
    global _config_prefix
    if _config_prefix is None:
        _config_prefix = (_read_configured_prefix(),)
    return _config_prefix[0]


def _read_configured_prefix() -> str | None:
    if not _env.mentions("marker-prefix"):
        return None
    from testdata_kit import config

    loaded = config.load()
    value = loaded.get_str("marker-prefix", "")
    return check_prefix(value, f"marker-prefix in {loaded.path}") if value else None


def current_prefix() -> str:
    """Return the marker prefix in force: :func:`configure`, ``$TESTDATA_PREFIX``, the ``marker-prefix`` key of
    the ``[testdata_kit]`` section (read once), then ``test-``; the sweeper looks for the same one."""
    if _prefix is not None:
        return _prefix
    from_env = os.environ.get(PREFIX_ENV)
    if from_env:
        return check_prefix(from_env, PREFIX_ENV)
    return _configured_prefix() or DEFAULT_PREFIX


def check_prefix(value: str, source: str) -> str:
    """Return *value* if it is a safe marker prefix, else raise ``ValueError`` naming it and *source*.

    Every tool that accepts a prefix (``configure``, ``$TESTDATA_PREFIX``, the sweeper's options and config)
    checks it here, so the rule cannot drift between them.
    """
    if len(value) < MIN_PREFIX_LENGTH or not _PREFIX_RE.match(value):
        raise InvalidValueError(
            f"Marker prefix {value!r} from {source} is unsafe: it needs at least {MIN_PREFIX_LENGTH} characters, "
            f"a leading letter, and only letters, digits, '_', '.' or '-', so that a sweeper can never match "
            f"real data by accident. The default is {DEFAULT_PREFIX!r}."
        )
    return value


def token() -> str:
    """Return a fresh marker token, the unique core of every value in this module."""
    nonce = _run.random_token(4) + _run.base36(next(_counter)).rjust(4, "0")
    return f"{current_prefix()}{_run.base36(int(time.time()))}-{_run.run_id()}-{_run.worker_token()}-{nonce}"


def id() -> str:
    """Return a unique string identifier (a bare marker token)."""
    return token()


def idempotency_key() -> str:
    """Return a unique key for an ``Idempotency-Key`` header or a caller-supplied order id."""
    return token()


def tenant() -> str:
    """Return a unique tenant id, so each test can work in a tenant of its own."""
    return f"tenant-{token()}"


def is_reserved_domain(name: str) -> bool:
    """Return whether the domain *name* is reserved for documentation and testing, so it reaches nobody.

    The one rule for unique and safe values alike: ``example.com``, ``example.net``, ``example.org`` and every
    name under them (RFC 6761 section 6.5 reserves "any names falling within those domains"), and every name
    under ``.test``, ``.example``, ``.invalid`` or ``.localhost`` (RFC 2606). Case and a trailing dot are
    ignored.
    """
    host = name.lower().rstrip(".")
    return host.endswith(RESERVED_TLDS) or any(host == d or host.endswith("." + d) for d in RESERVED_DOMAINS)


def email(domain: str = "example.com") -> str:
    """Return a unique email address on a reserved domain, which can never reach a real inbox.

    :param domain: ``example.com``/``.net``/``.org`` or a name under them (``mail.example.com``), or any name
        under ``.test``, ``.example``, ``.invalid`` or ``.localhost``; see :func:`is_reserved_domain`.
    :raises InvalidValueError: (a ``ValueError``) for any other domain.
    """
    lowered = domain.lower()
    if not is_reserved_domain(lowered):
        raise InvalidValueError(
            f"Email domain {domain!r} is not reserved for testing, so mail could reach a real person. "
            f"Use one of {', '.join(RESERVED_DOMAINS)} or a name ending in {', '.join(RESERVED_TLDS)}."
        )
    return f"{token()}@{lowered}"


def name(label: str = "User") -> str:
    """Return a unique display name such as ``'User test-lz3k8p-…'``."""
    return f"{label} {token()}"


def filename(stem: str = "report", suffix: str = ".csv") -> str:
    """Return a unique file name such as ``'report-test-lz3k8p-….csv'``."""
    return f"{stem}-{token()}{suffix}"


class Marker:
    """The parts of a marker token found inside a value: prefix, creation time, run id, worker and nonce."""

    __slots__ = ("created_at", "nonce", "prefix", "run_id", "worker")

    def __init__(self, prefix: str, created_at: _dt.datetime, run_id: str, worker: str, nonce: str) -> None:
        self.prefix = prefix
        self.created_at = created_at
        self.run_id = run_id
        self.worker = worker
        self.nonce = nonce

    def __repr__(self) -> str:
        return (
            f"Marker(prefix={self.prefix!r}, created_at={self.created_at.isoformat()!r}, "
            f"run_id={self.run_id!r}, worker={self.worker!r}, nonce={self.nonce!r})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Marker) and self.token == other.token

    def __hash__(self) -> int:
        return hash(self.token)

    def age(self, now: _dt.datetime | None = None) -> _dt.timedelta:
        """Return how long ago the value was made (``now`` defaults to the current UTC time)."""
        import datetime

        return (now or datetime.datetime.now(datetime.timezone.utc)) - self.created_at

    @property
    def token(self) -> str:
        """The marker token as it appears in the value."""
        stamp = _run.base36(int(self.created_at.timestamp()))
        return f"{self.prefix}{stamp}-{self.run_id}-{self.worker}-{self.nonce}"


_patterns: dict[str, re.Pattern[str]] = {}
# Markers made before 2020 or after 2200 are not ours: it is a coincidence of letters.
_EARLIEST, _LATEST = 1577836800, 7258118400


def _pattern(for_prefix: str) -> re.Pattern[str]:
    pattern = _patterns.get(for_prefix)
    if pattern is None:
        pattern = _patterns[for_prefix] = re.compile(
            r"(?<![A-Za-z0-9])" + re.escape(for_prefix)
            + r"(?P<stamp>[0-9a-z]{6,7})-(?P<run>[0-9a-z]{6})-(?P<worker>[0-9a-z]{2,12})-(?P<nonce>[0-9a-z]{8,12})"
            r"(?![0-9a-z])"
        )
    return pattern


def parse(value: str, prefix: str | None = None) -> Marker | None:
    """Return the :class:`Marker` inside *value*, or ``None`` when it carries none.

    :param prefix: the marker prefix to look for; defaults to :func:`current_prefix`.
    """
    wanted = prefix if prefix is not None else current_prefix()
    if not isinstance(value, str):
        return None
    for match in _pattern(wanted).finditer(value):
        seconds = int(match["stamp"], 36)
        if _EARLIEST <= seconds <= _LATEST:
            import datetime  # parsing is for sweepers; creating values must stay import-light

            created = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
            return Marker(wanted, created, match["run"], match["worker"], match["nonce"])
    return None


def is_test_value(value: str, prefix: str | None = None) -> bool:
    """Return whether *value* carries a marker token (see :func:`parse`)."""
    return parse(value, prefix) is not None
