"""The production guard: which hosts testdata_kit may send requests to, reset or sweep.

Loopback is always allowed; any other host must be listed in ``allowed-hosts`` (the ``[testdata_kit]`` section
of ``setup.cfg``) or in ``$TESTDATA_ALLOWED_HOSTS``. The HTTP client, ``reset`` and ``sweep`` all decide with
:func:`check_host`, so they agree on every host, and all refuse with :class:`HostNotAllowedError`.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from urllib.parse import urlsplit

from testdata_kit import _env
from testdata_kit.config import SECTION, Config, load
from testdata_kit.errors import TestDataError

__all__ = ["ALLOWED_HOSTS_ENV", "HostNotAllowedError", "allowed_hosts", "check_host", "is_loopback"]

#: Comma-separated hosts added to the ``allowed-hosts`` key, for CI jobs that cannot edit setup.cfg.
ALLOWED_HOSTS_ENV = _env.ALLOWED_HOSTS_ENV


class HostNotAllowedError(TestDataError, PermissionError):
    """A host that is neither loopback nor allowed, refused by :func:`check_host` before anything reaches it.

    :param host: the host as it was given.
    :param allowed: the hosts that were allowed besides loopback, listed in the message.
    :param action: what was refused, completing "Refusing to ...", e.g. ``"send requests to"``.
    :param url: the (redacted) address that named the host, shown after it.
    :param where: the config file in which to add the host; ``None`` says ``setup.cfg``.
    """

    def __init__(
        self, host: str, allowed: Iterable[str] = (), *, action: str = "write test data to", url: str | None = None,
        where: str | os.PathLike[str] | None = None,
    ) -> None:
        self.host = host
        self.allowed = frozenset(allowed)
        self.action = action
        self.url = url
        self.where = where
        #: The two settings that allow a host, named in the message.
        self.setting = ALLOWED_HOSTS_ENV
        self.config_key = "allowed-hosts"
        listed = f"allowed: {', '.join(sorted(self.allowed))}" if self.allowed else "no other host is allowed"
        shown = f" ({url})" if url else ""
        super().__init__(
            f"Refusing to {action} {host!r}{shown}: it is neither loopback nor an allowed host ({listed}), and "
            f"test data tools create and delete data wherever they point. If {host!r} holds only test data, add "
            f"it to the {self.setting} environment variable (comma-separated) or to {self.config_key} in the "
            f"[{SECTION}] section of {where if where is not None else 'setup.cfg'}."
        )


def allowed_hosts(config: Config | None = None) -> frozenset[str]:
    """Return the hosts tools may write to: ``allowed-hosts`` plus ``$TESTDATA_ALLOWED_HOSTS``, lower-cased.

    Loopback hosts are not added here; callers allow them separately with :func:`is_loopback`.

    :param config: the loaded config; ``None`` reads the environment variable alone.
    """
    hosts = list(config.get_list("allowed-hosts")) if config is not None else []
    hosts.extend(os.environ.get(ALLOWED_HOSTS_ENV, "").split(","))
    return frozenset(_normalise_host(h) for h in hosts if h.strip())


def check_host(
    host: str, *, config: Config | None = None, allowed: Iterable[str] | None = None,
    action: str = "write test data to", url: str | None = None, where: str | os.PathLike[str] | None = None,
) -> str:
    """Return *host* normalised when it is loopback or allowed; raise :class:`HostNotAllowedError` otherwise.

    The one decision every tool that writes or deletes data makes before it connects. Case, surrounding
    spaces, a trailing dot and IPv6 brackets do not matter, on either side: ``Shop.Test.`` matches an
    allowed ``shop.test``. An empty host is refused.

    :param host: a host name or IP address, e.g. ``urlsplit(url).hostname``.
    :param config: where ``allowed-hosts`` is read from (plus ``$TESTDATA_ALLOWED_HOSTS``); ``None`` loads
        setup.cfg or tox.ini from the current directory. Its file is named in the error.
    :param allowed: the allowed hosts, when the caller has already read them; replaces reading *config*.
    :param action: what is refused, for the message: ``"send requests to"``, ``"sweep"``...
    :param url: the redacted address that named the host, for the message.
    :param where: the config file named in the message, when *config* is not given.
    """
    if allowed is None:
        config = config if config is not None else load()
        allowed = allowed_hosts(config)
    normalised = _normalise_host(host)
    permitted = frozenset(_normalise_host(h) for h in allowed if h.strip())
    if normalised and (is_loopback(normalised) or normalised in permitted):
        return normalised
    if where is None and config is not None:
        where = config.path
    raise HostNotAllowedError(host, permitted, action=action, url=url, where=where)


def check_address(address: str, allowed: Iterable[str], passed: set[str], *, action: str,
                  where: str | os.PathLike[str] | None = None) -> None:
    """:func:`check_host` for the host of the URL *address*, decided once per host.

    For a client that sends many requests: a host already allowed is in *passed* (the caller's set, updated
    here), and needs no second look; a refused one is refused each time.

    :raises HostNotAllowedError: as :func:`check_host`, naming *address* with its credentials masked.
    """
    host = urlsplit(address).hostname or ""
    if host in passed:
        return
    from testdata_kit import _redact  # only for the message of a host seen for the first time

    check_host(host, allowed=allowed, action=action, url=_redact.url(address), where=where)
    passed.add(host)


def _normalise_host(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host.rstrip(".")


def is_loopback(host: str) -> bool:
    """Return True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1, and IPv4-mapped forms).

    A name is never resolved: only ``localhost`` itself counts, so a DNS entry cannot turn a shared
    server into "local".

    :param host: a host name or IP address, brackets around IPv6 allowed.
    """
    host = _normalise_host(host)
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback
