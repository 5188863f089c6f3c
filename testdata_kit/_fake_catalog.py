"""Which fake providers, methods and locales exist, checked by name, and the errors for a wrong name.

The provider classes are mimesis' own, with the safe ones of :mod:`testdata_kit._fake_providers` replacing some;
mimesis is imported on first use, not with this module. :mod:`testdata_kit.fake` re-exports every public name.
"""

from __future__ import annotations

from typing import Any

from testdata_kit.errors import MissingExtraError, TestDataError

__all__ = [
    "LOCALE_ENV",
    "UnknownFakeMethodError",
    "UnknownLocaleError",
    "UnknownProviderError",
    "check",
    "locales",
    "methods",
    "provider_classes",
    "providers",
    "returns_text",
]

LOCALE_ENV = "TESTDATA_LOCALE"


def _did_you_mean(word: str, choices: list[str], prefix: str = "") -> str:
    import difflib

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {prefix + close[0]!r}?" if close else "."


class UnknownProviderError(TestDataError, AttributeError):
    """A provider name that :mod:`testdata_kit.fake` does not have."""

    def __init__(self, name: str, known: list[str], where: str = "") -> None:
        self.name = name
        self.known = known
        super().__init__(
            f"{where}Unknown fake provider {name!r}{_did_you_mean(name, known)} Known providers: {', '.join(known)}."
        )


class UnknownFakeMethodError(TestDataError, AttributeError):
    """A method name that a fake provider does not have."""

    def __init__(self, provider: str, method: str, known: list[str], where: str = "") -> None:
        self.provider = provider
        self.method = method
        self.known = known
        super().__init__(
            f"{where}Fake provider {provider!r} has no method {method!r}"
            f"{_did_you_mean(method, known, provider + '.')} Its methods: {', '.join(known)}."
        )


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


def provider_classes() -> dict[str, Any]:
    """Import mimesis on first use and return the provider classes by name, safe ones replacing the rest."""
    global _classes
    if _classes is None:
        try:
            from mimesis.providers.base import ProviderRegistry
        except ImportError as error:
            raise MissingExtraError("mimesis", "fake", "Fake values (testdata_kit.fake)") from error
        from testdata_kit import _fake_providers

        found = {name: cls for name, cls in ProviderRegistry.get_all().items() if name != "generic"}
        _classes = {**found, **_fake_providers.REPLACEMENTS}
    return _classes


def providers() -> list[str]:
    """Return the provider names a :class:`FakeProviders` offers (``person``, ``address``, ``adversarial``, ...)."""
    return sorted(provider_classes())


# Public attributes of mimesis providers that are machinery, not values.
_NOT_VALUES = frozenset({"Meta", "reseed", "validate_enum", "update_dataset", "override_locale",
                         "get_current_locale", "counters"})


def methods(provider: str) -> list[str]:
    """Return the value methods of *provider* (``methods("person")`` gives ``academic_degree``, ... ``weight``).

    :raises UnknownProviderError: for a provider that does not exist, with the closest name.
    """
    classes = provider_classes()
    try:
        cls = classes[provider]
    except KeyError:
        raise UnknownProviderError(provider, sorted(classes)) from None
    return sorted(name for name in dir(cls) if not name.startswith("_") and name not in _NOT_VALUES
                  and callable(getattr(cls, name)))


def returns_text(path: str) -> bool:
    """Return whether ``"provider.method"`` is declared to return ``str``; the ``Adversarial`` trait asks."""
    provider, _, method = path.partition(".")
    function = getattr(provider_classes().get(provider), method, None)
    return getattr(function, "__annotations__", {}).get("return") in (str, "str")


def check(path: str, where: str = "", **kwargs: Any) -> None:
    """Check that ``"provider.method"`` exists and accepts *kwargs*, without drawing a value.

    :class:`~testdata_kit.factories.Fake` fields call this when their factory class is defined, so a typo fails
    at import time instead of in every test that builds the factory.

    :param where: a prefix for the message, such as ``"UserFactory.name: "``.
    :raises UnknownProviderError: for an unknown provider; :class:`UnknownFakeMethodError` for an unknown
        method (both say "did you mean ..."); :class:`UnknownTimeZoneError` for an unknown ``timezone=``;
        ``TypeError`` for arguments the method does not take.
    """
    import inspect

    provider, _, method = path.partition(".")
    classes = provider_classes()
    if provider not in classes:
        raise UnknownProviderError(provider, sorted(classes), where)
    known = methods(provider)
    if method not in known:
        raise UnknownFakeMethodError(provider, method, known, where)
    try:
        inspect.signature(getattr(classes[provider], method)).bind(None, **kwargs)
    except TypeError as error:
        raise TypeError(f"{where}Fake({path!r}) does not accept {sorted(kwargs)}: {error}.") from None
    if kwargs.get("timezone") is not None:
        from testdata_kit import _zones

        _zones.zone(kwargs["timezone"])


def locales() -> list[str]:
    """Return the locale codes mimesis supports (``en``, ``de``, ``ja``, ``ru``, ``zh``, ...)."""
    provider_classes()
    from mimesis.locales import Locale

    return [member.value for member in Locale]
