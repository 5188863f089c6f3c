"""Realistic fake values from mimesis, seeded per test and safe by construction (needs the ``fake`` extra).

``self.fake.person.full_name()`` inside a test, or ``testdata_kit.fake.person.full_name()`` anywhere, draws
from providers seeded with ``sha256(f"{run_seed}:{test.id()}")``: the same values whatever the order, subset,
worker, time zone, C locale, date or ``PYTHONHASHSEED``. Contact data is rewritten to the safe sets of
:mod:`testdata_kit.safe`; dates come from fixed years; aware datetimes use :mod:`zoneinfo`
(``self.fake.datetime.datetime(timezone="Europe/Berlin")``). Four methods are relative to today by definition
(``future_date``, ``past_date``, ``future_datetime``, ``past_datetime``): they take an explicit anchor, and warn
with :class:`ClockDependentWarning` without one. ``self.fake.adversarial`` draws values that break naive code.

One provider per name and locale lives in each process; a test reseeds a provider the first time it uses it
(``benchmarks/bench_fake.py`` prints the cost), from the test seed and the provider name, so providers never
run in lockstep. This module is **not** thread-safe: threads of one process share the providers.
"""

from __future__ import annotations

import _random
import functools
import os
import unittest
import weakref
from collections.abc import Callable
from typing import Any

from testdata_kit import _run, _scopes, _seeding
from testdata_kit._fake_catalog import (
    LOCALE_ENV,
    UnknownFakeMethodError,
    UnknownLocaleError,
    UnknownProviderError,
    check,
    locales,
    methods,
    providers,
    returns_text,
)
from testdata_kit._fake_catalog import provider_classes as _provider_classes
from testdata_kit._zones import UnknownTimeZoneError
from testdata_kit.errors import TestDataError

__all__ = [
    "BIRTH_YEARS",
    "CLOCK_DEPENDENT",
    "DATE_END",
    "DATE_START",
    "DEFAULT_LOCALE",
    "LOCALE_ENV",
    "PHONE_COUNTRY",
    "ClockDependentWarning",
    "FakeProviders",
    "UnknownFakeMethodError",
    "UnknownLocaleError",
    "UnknownProviderError",
    "UnknownTimeZoneError",
    "check",
    "current",
    "for_test",
    "locales",
    "methods",
    "phone_country",
    "providers",
    "returns_text",
]

DEFAULT_LOCALE = "en"
#: Locales whose own country publishes a fictional phone range; every other locale gets the US range.
PHONE_COUNTRY = {"en": "US", "en-ca": "CA", "en-gb": "GB", "en-au": "AU"}
#: Fixed year ranges replace mimesis' "until this year" defaults, so values never drift with the calendar.
DATE_START, DATE_END = 2000, 2024
BIRTH_YEARS = (1950, 2005)
#: The methods that are relative to today by definition: each takes an anchor (``today=`` or ``now=``) and
#: warns with :class:`ClockDependentWarning` when called without one.
CLOCK_DEPENDENT = ("datetime.future_date", "datetime.future_datetime", "datetime.past_date",
                   "datetime.past_datetime")


class ClockDependentWarning(TestDataError, UserWarning):
    """A fake value that depends on today's date, so the same seed gives another value tomorrow."""

    def __init__(self, method: str, anchor: str) -> None:
        self.method = method
        super().__init__(
            f"{method}() is relative to the clock: the same seed gives another value on another day. "
            f"Pass a fixed anchor such as {anchor} for a reproducible value."
        )


def phone_country(locale: str) -> str:
    """Return the country whose fictional phone range a *locale* uses (``US`` when it has none)."""
    return PHONE_COUNTRY.get(locale.lower(), "US")


class _Slot:
    """The one shared provider for a (locale, name) pair and the :class:`FakeProviders` that seeded it last."""

    __slots__ = ("owner", "provider", "rng", "salt", "stateful")

    def __init__(self, provider: Any, name: str) -> None:
        self.provider = provider
        self.owner: FakeProviders | None = None
        self.rng = provider.random
        self.salt = _seeding.provider_salt(name)
        # A provider with per-test state (numeric's counters) gets the state of the test that uses it.
        self.stateful = hasattr(provider, "counters")


def _no_test() -> None:
    return None


# Seeding the generator in C skips mimesis' reseed() and random.Random.seed(), two Python calls that, for an int
# seed, only forward (and clear gauss_next, which the caller does too): 1 µs of a 6 µs reseed.
_c_seed = _random.Random.seed


#: Locale -> provider name -> slot.
_slots: dict[str, dict[str, _Slot]] = {}
#: Grows whenever a provider is reseeded; a cached bound method is valid while it stays the same.
generation = 0


class _ProviderAttribute:
    """A provider name of :class:`FakeProviders` that was used once: later accesses find it on the class."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: FakeProviders | None, owner: type) -> Any:
        if instance is None:
            return self
        slot = instance._by_name.get(self.name)
        if slot is not None and slot.owner is instance:  # seeded for this test already
            return slot.provider
        return instance._provider(self.name)


class FakeProviders:
    """Providers seeded for one test (or for the run, outside tests): ``fake.person.full_name()``.

    Get one from :func:`for_test` or :func:`current` (``DataTestCase.fake`` is one); attributes are the names
    of :func:`providers`. Not to be confused with :class:`testdata_kit.factories.Fake`, a factory field.

    :param seed: the test seed, see :func:`testdata_kit._seeding.test_seed`.
    :param locale: a mimesis locale code.
    :param label: the test id, for the repr.
    """

    # Slots: a test creates one of these for its first fake value, and slots make that cheaper.
    __slots__ = ("_by_name", "_rounds", "_state", "_test", "label", "locale", "seed")

    def __init__(self, seed: int, locale: str = DEFAULT_LOCALE, label: str = "") -> None:
        self.seed = seed
        self.locale = locale
        self.label = label
        # A weak reference: the test holds its providers, and a strong one back would make a reference cycle
        # that only the garbage collector frees, a cost paid on every test.
        self._test: Callable[[], unittest.TestCase | None] = _no_test
        # How often each provider was seeded for this object; a later round continues on a fresh derived seed.
        self._rounds: dict[str, int] = {}
        self._state: dict[str, Any] | None = None
        self._by_name = _slots.get(locale) or _slots.setdefault(locale, {})

    def __getattr__(self, name: str) -> Any:
        # The first access to a provider name in this process. It is then made a class attribute, so that later
        # ones skip the failed lookup and the AttributeError that lead here (about 0.3 µs on each access).
        if name.startswith("_"):
            raise AttributeError(name)
        provider = self._provider(name)
        if name not in FakeProviders.__dict__:
            setattr(FakeProviders, name, _ProviderAttribute(name))
        return provider

    def _provider(self, name: str) -> Any:
        # Runs on a test's every provider access, and its first one per provider costs a reseed: keep it lean.
        slot = self._by_name.get(name)
        if slot is None:
            if name.startswith("_"):
                raise AttributeError(name)
            classes = _provider_classes()
            from testdata_kit import _fake_providers

            slot = self._by_name[name] = _Slot(_fake_providers.make(classes, name, self.locale), name)
        if slot.owner is not self:
            global generation
            generation += 1
            rounds = self._rounds.get(name)
            rng = slot.rng
            if rounds is None:
                self._rounds[name] = 0
                _c_seed(rng, self.seed ^ slot.salt)  # _seeding.provider_seed(self.seed, name), inlined
            else:
                self._rounds[name] = rounds = rounds + 1
                _c_seed(rng, _seeding.provider_seed(self.seed, f"{name}#{rounds}"))
            rng.gauss_next = None
            slot.owner = self
            if slot.stateful:
                state = self._state = self._state or {}
                slot.provider.counters = state.setdefault(name, {})
            test = self._test()
            if test is not None:
                setattr(test, _seeding.USED_ATTR, True)
        return slot.provider

    @property
    def test(self) -> unittest.TestCase | None:
        """The test whose seed these providers use, or ``None`` outside tests."""
        return self._test()

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *providers()})

    def in_locale(self, locale: str) -> FakeProviders:
        """Return the providers of the same test (or run) in another *locale*, e.g. ``'ja'``."""
        test = self._test()
        return _fake_for(test, locale) if test is not None else _outside_fake(locale)

    def __repr__(self) -> str:
        return f"<FakeProviders {self.label or '(no test)'} locale={self.locale!r} seed={self.seed:016x}>"


@functools.cache
def _default_locale() -> str:
    # Read once, like TESTDATA_SEED: it is a setting of the run, and os.environ costs 1 µs per test.
    return os.environ.get(LOCALE_ENV) or DEFAULT_LOCALE


def _fake_for(test: unittest.TestCase, locale: str) -> FakeProviders:
    # getattr/setattr, not test.__dict__: reading __dict__ makes Python 3.11+ build a dict it otherwise avoids.
    fakes: dict[str, FakeProviders] | None = getattr(test, "_testdata_fakes", None)
    if fakes is None:
        fakes = {}
        test._testdata_fakes = fakes  # type: ignore[attr-defined]
    fake = fakes.get(locale)
    if fake is None:
        test_name = _test_id(test)
        fake = fakes[locale] = FakeProviders(_seeding.test_seed(test_name), locale, test_name)
        fake._test = weakref.ref(test)
    return fake


# TestCase class -> the start of its tests' ids ("module.Class."), or "" for a class with an id() of its own.
_id_prefixes: dict[type, str] = {}


def _test_id(test: unittest.TestCase) -> str:
    # test.id() without its two calls for the usual TestCase: each test with fake values pays it.
    cls = type(test)
    prefix = _id_prefixes.get(cls)
    if prefix is None:
        own = getattr(cls, "id", None) is not unittest.TestCase.id or not hasattr(test, "_testMethodName")
        prefix = _id_prefixes[cls] = "" if own else f"{cls.__module__}.{cls.__qualname__}."
    return prefix + test._testMethodName if prefix else str(test.id())


_outside: dict[tuple[str, str], FakeProviders] = {}


def _outside_fake(locale: str) -> FakeProviders:
    key = (locale, _run.run_seed())
    fake = _outside.get(key)
    if fake is None:
        fake = _outside[key] = FakeProviders(_seeding.test_seed(""), locale)
    return fake


def _forget_outside_after_fork() -> None:
    # A forked child would otherwise continue its parent's stream; start it from the run seed instead.
    _outside.clear()
    for by_name in _slots.values():
        for slot in by_name.values():
            slot.owner = None


os.register_at_fork(after_in_child=_forget_outside_after_fork)


def for_test(test: unittest.TestCase, locale: str | None = None) -> FakeProviders:
    """Return the providers seeded for *test*: ``DataTestCase.fake`` is ``for_test(self)``.

    :param locale: a mimesis locale; defaults to ``TESTDATA_LOCALE`` or ``'en'``.
    """
    return _fake_for(test, locale or _default_locale())


def current(locale: str | None = None) -> FakeProviders:
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
    if name == "Fake":
        import warnings

        warnings.warn("testdata_kit.fake.Fake is now testdata_kit.fake.FakeProviders; the name Fake belongs to "
                      "the factory field testdata_kit.factories.Fake.", DeprecationWarning, stacklevel=2)
        return FakeProviders
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _provider_classes():
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}; providers are {providers()}")
    return _CurrentProvider(name)

