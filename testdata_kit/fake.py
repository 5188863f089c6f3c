"""Realistic fake values from mimesis, seeded per test and safe by construction (needs the ``fake`` extra).

``self.fake.person.full_name()`` inside a test, or ``testdata_kit.fake.person.full_name()`` anywhere, draws
from providers seeded with ``sha256(f"{run_seed}:{test.id()}")``: the same values whatever the order, subset,
worker or ``PYTHONHASHSEED``. Contact data is rewritten to the safe sets of :mod:`testdata_kit.safe`.

One provider per name and locale lives in each process; a test reseeds a provider the first time it uses it
(about 4 µs), from the test seed plus the provider name, so providers never run in lockstep. This module is
**not** thread-safe: threads of one process share the providers.
"""

from __future__ import annotations

import os
import unittest
from typing import Any

from testdata_kit import _run, _scopes, _seeding, safe, unique
from testdata_kit.errors import MissingExtraError, TestDataError

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALE_ENV",
    "PHONE_COUNTRY",
    "Fake",
    "UnknownLocaleError",
    "UnknownProviderError",
    "current",
    "for_test",
    "locales",
    "phone_country",
    "providers",
]

LOCALE_ENV = "TESTDATA_LOCALE"
DEFAULT_LOCALE = "en"
#: Locales whose own country publishes a fictional phone range; every other locale gets the US range.
PHONE_COUNTRY = {"en": "US", "en-ca": "CA", "en-gb": "GB", "en-au": "AU"}
#: Fixed year ranges replace mimesis' "until this year" defaults, so values never drift with the calendar.
DATE_START, DATE_END = 2000, 2024
BIRTH_YEARS = (1950, 2005)


class UnknownProviderError(TestDataError, AttributeError):
    """A provider name that mimesis does not have."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"Unknown fake provider {name!r}. Known providers: {', '.join(known)}.")


class UnknownLocaleError(TestDataError, ValueError):
    """A locale that mimesis does not support."""

    def __init__(self, locale: str, known: list[str]) -> None:
        self.locale = locale
        self.known = known
        super().__init__(
            f"Unknown fake locale {locale!r} (from the locale argument or {LOCALE_ENV}). "
            f"Supported locales: {', '.join(known)}."
        )


_classes: dict[str, Any] | None = None


def _provider_classes() -> dict[str, Any]:
    """Import mimesis on first use and return the provider classes by name, safe ones replacing the rest."""
    global _classes
    if _classes is None:
        try:
            from mimesis.providers.base import ProviderRegistry
        except ImportError as error:
            raise MissingExtraError("mimesis", "fake", "Fake values (testdata_kit.fake)") from error
        found = {name: cls for name, cls in ProviderRegistry.get_all().items() if name != "generic"}
        _classes = {**found, **_safe_classes()}
    return _classes


def _safe_classes() -> dict[str, Any]:
    """Return mimesis providers whose unsafe methods are replaced; defined here so mimesis loads lazily.

    Overriding the base methods (``hostname``, ``ip_v4_object``, ...) also covers every mimesis method built
    on them (``url``, ``dsn``, ``ip_v4_with_port``, request headers, ``credit_card_owner``, ...).
    """
    from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

    from mimesis import Datetime, Finance, Internet, Payment, Person
    from mimesis.datasets import USERNAMES
    from mimesis.enums import CardType, Gender, IPv4Purpose

    test_nets = (IPv4Purpose.TEST_NET_1, IPv4Purpose.TEST_NET_2, IPv4Purpose.TEST_NET_3)
    brands = {CardType.VISA: "visa", CardType.MASTER_CARD: "mastercard", CardType.AMERICAN_EXPRESS: "amex"}

    class FixedDatetime(Datetime):
        def week_date(self, start: int = DATE_START, end: int = DATE_END) -> str:
            return super().week_date(start, end)

        def year(self, minimum: int = DATE_START, maximum: int = DATE_END) -> int:
            return super().year(minimum, maximum)

        def date(self, start: int = DATE_START, end: int = DATE_END) -> Any:
            return super().date(start, end)

        def datetime(self, start: int = DATE_START, end: int = DATE_END, timezone: str | None = None) -> Any:
            return super().datetime(start, end, timezone)

    class SafePerson(Person):
        def full_name(self, gender: Any = None, reverse: bool = False) -> str:
            # mimesis draws the gender twice, giving e.g. a male first name with a female Russian surname.
            gender = gender or self.random.choice_enum_item(Gender)
            name, surname = self.name(gender), self.surname(gender)
            return f"{surname} {name}" if reverse else f"{name} {surname}"

        def email(self, domains: Any = None, unique: bool = False) -> str:
            if unique:
                return _unique_email(domains, self.random)
            chosen = safe.RESERVED_DOMAINS if domains is None else domains
            return safe.email(self.random, self.username(mask="ld"), chosen)

        def phone_number(self, mask: str = "", placeholder: str = "#", e164: bool = False,
                         country: str | None = None) -> str:
            if mask:
                raise safe.UnsafeValueError(
                    "Phone mask", mask, f"phone_number(country=...) with one of {safe.FICTIONAL_PHONE_COUNTRIES}"
                )
            return safe.phone(self.random, country or phone_country(self.locale), e164=e164)

        def birthdate(self, min_year: int = BIRTH_YEARS[0], max_year: int = BIRTH_YEARS[1]) -> Any:
            return super().birthdate(min_year, max_year)

    class SafeInternet(Internet):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # uri() dates its paths through this helper, whose default range ends in the current year.
            self._datetime = FixedDatetime(seed=self.seed, random=self.random)

        def hostname(self, tld_type: Any = None, subdomains: list[str] | None = None) -> str:
            label = self.random.choice(USERNAMES)
            if subdomains:
                label = f"{self.random.choice(subdomains)}.{label}"
            return safe.hostname(self.random, label)

        def ip_v4_object(self) -> IPv4Address:
            return IPv4Address(safe.ipv4(self.random))

        def ip_v6_object(self) -> IPv6Address:
            return IPv6Address(safe.ipv6(self.random))

        def ip_v4_cidr(self) -> str:
            return str(IPv4Network(f"{self.ip_v4()}/{self.random.randint(24, 32)}", strict=False))

        def ip_v6_cidr(self) -> str:
            return str(IPv6Network(f"{self.ip_v6()}/{self.random.randint(32, 128)}", strict=False))

        def public_dns(self) -> str:
            return self.ip_v4()

        def special_ip_v4_object(self, purpose: Any = None) -> IPv4Address:
            if purpose is not None and purpose not in test_nets:
                raise safe.UnsafeValueError("IPv4 purpose", purpose, f"None or one of {test_nets}")
            return IPv4Address(self.random.randint(*(purpose or self.random.choice(test_nets)).value))

    class SafePayment(Payment):
        def credit_card_number(self, card_type: Any = None) -> str:
            pan = safe.card_number(self.random, brands.get(card_type) if card_type is not None else None)
            groups = (pan[:4], pan[4:10], pan[10:]) if len(pan) == 15 else (pan[:4], pan[4:8], pan[8:12], pan[12:])
            return " ".join(groups)

    class SafeFinance(Finance):
        def iban(self, valid_check: bool = True) -> str:
            """Return a published example IBAN, or one with a deliberately wrong check digit pair."""
            return safe.iban(self.random, valid_check=valid_check)

    return {"person": SafePerson, "internet": SafeInternet, "payment": SafePayment, "finance": SafeFinance,
            "datetime": FixedDatetime}


def _unique_email(domains: Any, rng: Any) -> str:
    if domains is None:
        return unique.email()
    if not domains:
        return safe.email(rng, "x", domains)  # raises: an empty list never falls back to real providers
    return unique.email(domains[int(rng.random() * len(domains))].lstrip("@"))


def phone_country(locale: str) -> str:
    """Return the country whose fictional phone range a *locale* uses (``US`` when it has none)."""
    return PHONE_COUNTRY.get(locale.lower(), "US")


def providers() -> list[str]:
    """Return the provider names a :class:`Fake` offers (``person``, ``address``, ``internet``, ...)."""
    return sorted(_provider_classes())


def locales() -> list[str]:
    """Return the locale codes mimesis supports (``en``, ``de``, ``ja``, ``ru``, ``zh``, ...)."""
    _provider_classes()
    from mimesis.locales import Locale

    return [member.value for member in Locale]


class _Slot:
    """The one shared provider for a (locale, name) pair and the :class:`Fake` that seeded it last."""

    __slots__ = ("owner", "provider")

    def __init__(self, provider: Any) -> None:
        self.provider = provider
        self.owner: Fake | None = None


_slots: dict[tuple[str, str], _Slot] = {}
#: Grows whenever a provider is reseeded; a cached bound method is valid while it stays the same.
generation = 0


def _make(name: str, locale: str) -> Any:
    classes = _provider_classes()
    try:
        cls = classes[name]
    except KeyError:
        raise UnknownProviderError(name, sorted(classes)) from None
    from mimesis.exceptions import LocaleError
    from mimesis.providers.base import BaseDataProvider

    if not issubclass(cls, BaseDataProvider):
        provider = cls()
        provider.locale = locale
        return provider
    try:
        return cls(locale=locale)
    except LocaleError:
        raise UnknownLocaleError(locale, locales()) from None


class Fake:
    """Providers seeded for one test (or for the run, outside tests): ``fake.person.full_name()``.

    Get one from :func:`for_test` or :func:`current`; attributes are mimesis provider names.

    :param seed: the test seed, see :func:`testdata_kit._seeding.test_seed`.
    :param locale: a mimesis locale code.
    :param label: the test id, for the repr.
    """

    def __init__(self, seed: int, locale: str = DEFAULT_LOCALE, label: str = "") -> None:
        self.seed = seed
        self.locale = locale
        self.label = label
        self.test: unittest.TestCase | None = None
        # How often each provider was seeded for this Fake; a later round continues on a fresh derived seed.
        self._rounds: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        slot = _slots.get((self.locale, name))
        if slot is None:
            slot = _slots[(self.locale, name)] = _Slot(_make(name, self.locale))
        if slot.owner is not self:
            global generation
            generation += 1
            rounds = self._rounds[name] = self._rounds.get(name, -1) + 1
            slot.provider.reseed(_seeding.provider_seed(self.seed, name if not rounds else f"{name}#{rounds}"))
            slot.owner = self
            if self.test is not None:
                _seeding.mark_used(self.test)
        return slot.provider

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *providers()})

    def in_locale(self, locale: str) -> Fake:
        """Return the providers of the same test (or run) in another *locale*, e.g. ``'ja'``."""
        return _fake_for(self.test, locale) if self.test is not None else _outside_fake(locale)

    def __repr__(self) -> str:
        return f"<Fake {self.label or '(no test)'} locale={self.locale!r} seed={self.seed:016x}>"


def _default_locale() -> str:
    return os.environ.get(LOCALE_ENV) or DEFAULT_LOCALE


def _fake_for(test: unittest.TestCase, locale: str) -> Fake:
    fakes: dict[str, Fake] = test.__dict__.setdefault("_testdata_fakes", {})
    fake = fakes.get(locale)
    if fake is None:
        test_name = _seeding.test_id(test)
        fake = fakes[locale] = Fake(_seeding.test_seed(test_name), locale, test_name)
        fake.test = test
    return fake


_outside: dict[tuple[str, str], Fake] = {}


def _outside_fake(locale: str) -> Fake:
    key = (locale, _run.run_seed())
    fake = _outside.get(key)
    if fake is None:
        fake = _outside[key] = Fake(_seeding.test_seed(""), locale)
    return fake


def _forget_outside_after_fork() -> None:
    # A forked child would otherwise continue its parent's stream; start it from the run seed instead.
    _outside.clear()
    for slot in _slots.values():
        slot.owner = None


os.register_at_fork(after_in_child=_forget_outside_after_fork)


def for_test(test: unittest.TestCase, locale: str | None = None) -> Fake:
    """Return the providers seeded for *test*: ``DataTestCase.fake`` is ``for_test(self)``.

    :param locale: a mimesis locale; defaults to ``TESTDATA_LOCALE`` or ``'en'``.
    """
    return _fake_for(test, locale or _default_locale())


def current(locale: str | None = None) -> Fake:
    """Return the providers of the test running now, or the run's own providers outside any test.

    :param locale: a mimesis locale; defaults to ``TESTDATA_LOCALE`` or ``'en'``.
    """
    test = _scopes.current_test()
    locale = locale or _default_locale()
    return _fake_for(test, locale) if test is not None else _outside_fake(locale)


class _CurrentProvider:
    """``testdata_kit.fake.person``: a provider of whichever test is running when a method is called."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(getattr(current(), self._name), attr)

    def __repr__(self) -> str:
        return f"<current fake provider {self._name!r}>"


def __getattr__(name: str) -> Any:
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _provider_classes():
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}; providers are {providers()}")
    return _CurrentProvider(name)

