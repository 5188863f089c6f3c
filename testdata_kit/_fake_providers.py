"""The mimesis providers behind :mod:`testdata_kit.fake`, rewritten to be safe and hermetic (imports mimesis).

*Safe*: contact data lands in the reserved sets of :mod:`testdata_kit.safe`. *Hermetic*: a value depends on the
seed only, never on the clock, the time zone, the C locale, ``PYTHONHASHSEED`` or the operating system. Each
override below names the outside input it removes. Overriding the base methods (``hostname``, ``ip_v4_object``,
``datetime``, ...) also covers every mimesis method built on them (``url``, ``dsn``, ``ip_v4_with_port``, request
headers, ``credit_card_owner``, ``formatted_datetime``, ...). :mod:`testdata_kit.fake` imports this module on
first use.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import warnings
from base64 import urlsafe_b64encode
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any

from mimesis import (
    Choice,
    Cryptographic,
    Datetime,
    Development,
    Finance,
    Internet,
    Numeric,
    Path,
    Payment,
    Person,
)
from mimesis.datasets import USERNAMES
from mimesis.enums import CardType, Gender, IPv4Purpose, TimestampFormat
from mimesis.providers.base import BaseProvider

from testdata_kit import _zones, adversarial, safe, unique
from testdata_kit.fake import (
    BIRTH_YEARS,
    DATE_END,
    DATE_START,
    ClockDependentWarning,
    UnknownLocaleError,
    UnknownProviderError,
    locales,
    phone_country,
)

_TEST_NETS = (IPv4Purpose.TEST_NET_1, IPv4Purpose.TEST_NET_2, IPv4Purpose.TEST_NET_3)
_BRANDS = {CardType.VISA: "visa", CardType.MASTER_CARD: "mastercard", CardType.AMERICAN_EXPRESS: "amex"}
_FIRST_SECOND = calendar.timegm((DATE_START, 1, 1, 0, 0, 0))
_LAST_SECOND = calendar.timegm((DATE_END, 12, 31, 23, 59, 59))


def _clock(method: str, anchor: str, depth: int = 0) -> None:
    # The warning points at the caller's line: the public method's caller, *depth* helper frames further out.
    warnings.warn(ClockDependentWarning(method, anchor), stacklevel=3 + depth)


class HermeticDatetime(Datetime):
    """Dates from fixed years, aware datetimes through ``zoneinfo``, and no reading of the clock or C locale."""

    def week_date(self, start: int = DATE_START, end: int = DATE_END) -> str:
        return super().week_date(start, end)

    def year(self, minimum: int = DATE_START, maximum: int = DATE_END) -> int:
        return super().year(minimum, maximum)

    def date(self, start: int = DATE_START, end: int = DATE_END) -> dt.date:
        return super().date(start, end)

    def datetime(self, start: int = DATE_START, end: int = DATE_END, timezone: Any = None) -> dt.datetime:
        """Return a datetime in the years *start* to *end*; aware in *timezone* (an IANA name) if given.

        The wall time drawn is the same whatever the zone; a time that does not exist there (a daylight-saving
        gap) moves forward to one that does.
        """
        value = dt.datetime.combine(self.date(start, end), self.time())
        return value if timezone is None else _zones.localize(value, timezone)

    def formatted_date(self, fmt: str = "", **kwargs: Any) -> str:
        return _zones.strftime(self.date(**kwargs), fmt or self._extract(["formats", "date"]))

    def formatted_time(self, fmt: str = "") -> str:
        return _zones.strftime(self.time(), fmt or self._extract(["formats", "time"]))

    def formatted_datetime(self, fmt: str = "", **kwargs: Any) -> str:
        value = self.datetime(**kwargs)
        if not fmt:
            fmt = f"{self._extract(['formats', 'date'])} {self._extract(['formats', 'time'])}"
        return _zones.strftime(value, fmt)

    def timestamp(self, fmt: TimestampFormat = TimestampFormat.POSIX, **kwargs: Any) -> Any:
        """Return a timestamp; a naive datetime counts as UTC, never as the machine's local time."""
        fmt = TimestampFormat(self.validate_enum(fmt, TimestampFormat))
        stamp = self.datetime(**kwargs)
        if fmt == TimestampFormat.ISO_8601:
            return stamp.isoformat()
        utc = stamp.replace(tzinfo=dt.timezone.utc) if stamp.tzinfo is None else stamp.astimezone(dt.timezone.utc)
        if fmt == TimestampFormat.RFC_3339:
            return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
        return int(utc.timestamp())

    def future_date(self, days: int = 30, today: dt.date | None = None) -> dt.date:
        """Return a date 1 to *days* days after *today* (default: the real today, with a warning)."""
        if today is None:
            _clock("datetime.future_date", "today=datetime.date(2024, 1, 1)")
            today = dt.date.today()
        return today + dt.timedelta(days=1 + self.random.randint(0, days - 1))

    def past_date(self, days: int = 30, today: dt.date | None = None) -> dt.date:
        """Return a date 1 to *days* days before *today* (default: the real today, with a warning)."""
        if today is None:
            _clock("datetime.past_date", "today=datetime.date(2024, 1, 1)")
            today = dt.date.today()
        return today - dt.timedelta(days=days) + dt.timedelta(days=self.random.randint(0, days - 1))

    def _window(self, days: int, seconds: int | None) -> int:
        window = dt.timedelta(seconds=seconds) if seconds else dt.timedelta(days=days)
        return self.random.randint(0, int(window.total_seconds()) - 1)

    def _now(self, method: str, now: dt.datetime | None, timezone: Any) -> dt.datetime:
        if now is None:
            _clock(method, "now=datetime.datetime(2024, 1, 1, 12, 0)", depth=1)
            return dt.datetime.now(_zones.zone(timezone)) if timezone is not None else dt.datetime.now()
        return _zones.localize(now, timezone) if timezone is not None and now.tzinfo is None else now

    def future_datetime(self, days: int = 30, seconds: int | None = None, timezone: Any = None,
                        now: dt.datetime | None = None) -> dt.datetime:
        """Return a datetime 1 s to *days* days (or *seconds*) after *now* (default: the clock, with a warning)."""
        start = self._now("datetime.future_datetime", now, timezone)
        return start + dt.timedelta(seconds=1 + self._window(days, seconds))

    def past_datetime(self, days: int = 30, seconds: int | None = None, timezone: Any = None,
                      now: dt.datetime | None = None) -> dt.datetime:
        """Return a datetime 1 s to *days* days (or *seconds*) before *now* (default: the clock, with a warning)."""
        end = self._now("datetime.past_datetime", now, timezone)
        return end - dt.timedelta(seconds=1 + self._window(days, seconds))


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

    def birthdate(self, min_year: int = BIRTH_YEARS[0], max_year: int = BIRTH_YEARS[1]) -> dt.date:
        # mimesis refuses a max_year after the current year, so the same call would start failing on New Year.
        if not 1900 <= min_year <= max_year:
            raise ValueError(f"birthdate() needs 1900 <= min_year <= max_year, got {min_year!r} and {max_year!r}.")
        year = self.random.randint(min_year, max_year)
        month = self.random.randint(1, 12)
        return dt.date(year, month, self.random.randint(1, calendar.monthrange(year, month)[1]))


def _unique_email(domains: Any, rng: Any) -> str:
    if domains is None:
        return unique.email()
    if not domains:
        return safe.email(rng, "x", domains)  # raises: an empty list never falls back to real providers
    return unique.email(domains[int(rng.random() * len(domains))].lstrip("@"))


class SafeInternet(Internet):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # uri() dates its paths through this helper, whose default range ends in the current year.
        self._datetime = HermeticDatetime(seed=self.seed, random=self.random)

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
        if purpose is not None and purpose not in _TEST_NETS:
            raise safe.UnsafeValueError("IPv4 purpose", purpose, f"None or one of {_TEST_NETS}")
        return IPv4Address(self.random.randint(*(purpose or self.random.choice(_TEST_NETS)).value))

    def query_parameters(self, length: int | None = None) -> dict[str, str]:
        # mimesis collects the names in a set, whose order follows PYTHONHASHSEED; a dict keeps drawing order.
        if not length:
            length = self.random.randint(1, 10)
        if length > 32:
            raise ValueError("Maximum allowed length of query parameters is 32.")
        names: dict[str, None] = {}
        while len(names) < length:
            names[self._text.word()] = None
        return dict(zip(names, self._text.words(length), strict=False))


class SafePayment(Payment):
    def credit_card_number(self, card_type: Any = None) -> str:
        pan = safe.card_number(self.random, _BRANDS.get(card_type) if card_type is not None else None)
        groups = (pan[:4], pan[4:10], pan[10:]) if len(pan) == 15 else (pan[:4], pan[4:8], pan[8:12], pan[12:])
        return " ".join(groups)


class SafeFinance(Finance):
    def iban(self, valid_check: bool = True) -> str:
        """Return a published example IBAN, or one with a deliberately wrong check digit pair."""
        return safe.iban(self.random, valid_check=valid_check)


class HermeticDevelopment(Development):
    def calver(self) -> str:
        # mimesis draws the year up to the current one, so the same seed gave another version next year.
        year = self.random.randint(2016, DATE_END)
        return f"{year}.{self.random.randint(1, 12)}.{self.random.randint(1, 29)}"


class HermeticCryptographic(Cryptographic):
    def hash(self, algorithm: Any = None) -> str:
        # usedforsecurity=False: a FIPS build refuses md5 otherwise, so the same seed could raise on one machine.
        from mimesis.enums import Algorithm

        key = self.validate_enum(algorithm, Algorithm)
        value = hashlib.new(key, self.uuid().encode(), usedforsecurity=False)
        return value.hexdigest(32) if key.startswith("shake") else value.hexdigest()  # type: ignore[call-arg]

    def jwt(self, payload: dict[str, Any] | None = None, algorithm: str = "HS256") -> str:
        # mimesis stamps "iat" with the clock; a seeded second of the fixed years replaces it.
        if payload is None:
            issued = self.random.randint(_FIRST_SECOND, _LAST_SECOND)
            payload = {"sub": self.uuid(), "name": "Test User", "iat": issued, "exp": issued + 3600}

        def part(data: bytes) -> str:
            return urlsafe_b64encode(data).decode().rstrip("=")

        header = part(json.dumps({"alg": algorithm, "typ": "JWT"}).encode())
        return f"{header}.{part(json.dumps(payload).encode())}.{part(self.token_bytes(32))}"


class HermeticPath(Path):
    """POSIX paths (``/home/...``) on every operating system; mimesis follows ``sys.platform``."""

    def __init__(self, platform: str = "linux", *args: Any, **kwargs: Any) -> None:
        super().__init__(platform, *args, **kwargs)


class HermeticChoice(Choice):
    def __call__(self, items: Any, length: int = 0, unique: bool = False) -> Any:
        # mimesis removes duplicates through set(), whose order follows PYTHONHASHSEED for strings.
        if unique and length > 0 and isinstance(items, (list, tuple, str)) and items:
            distinct = list(dict.fromkeys(items))
            if len(distinct) < length:
                raise ValueError("There are not enough unique elements in **items** to provide the specified "
                                 "**length**.")
            data = self.random.sample(distinct, k=length)
            return data if isinstance(items, list) else tuple(data) if isinstance(items, tuple) else "".join(data)
        return super().__call__(items, length, unique)


class HermeticNumeric(Numeric):
    """``increment()`` counts per test: mimesis keeps one counter per process, so values followed test order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.counters: dict[str | None, int] = {}

    def increment(self, accumulator: str | None = None) -> int:
        counters = self.counters
        counters[accumulator] = value = counters.get(accumulator, 0) + 1
        return value


class AdversarialProvider(BaseProvider):
    """Values that break naive code (see :mod:`testdata_kit.adversarial`), drawn from the test's seeded stream.

    ``self.fake.adversarial.name()``, ``.email()``, ``.text()``, ``.string("bidi")``, ``.pair()``.
    """

    class Meta:
        name = "adversarial"
        auto_register = False

    def string(self, category: str | None = None) -> str:
        """Return one value of *category* (one of :data:`testdata_kit.adversarial.CATEGORIES`), or of any."""
        return adversarial.string(self.random, category)

    def text(self) -> str:
        """Return one value of a category drawn at random."""
        return adversarial.string(self.random)

    def name(self) -> str:
        """Return an invented person's name that breaks naive code."""
        return adversarial.name(self.random)

    def email(self) -> str:
        """Return an unusual email address on a reserved domain."""
        return adversarial.email(self.random)

    def pair(self) -> tuple[str, str]:
        """Return two strings that look alike but differ as code points."""
        return adversarial.pair(self.random)

    def values(self, category: str | None = None) -> list[str]:
        """Return every value of *category* (default: all), in a fixed order."""
        return adversarial.values(category)


#: Provider name -> the class that replaces mimesis' own.
REPLACEMENTS: dict[str, type] = {
    "person": SafePerson,
    "internet": SafeInternet,
    "payment": SafePayment,
    "finance": SafeFinance,
    "datetime": HermeticDatetime,
    "development": HermeticDevelopment,
    "cryptographic": HermeticCryptographic,
    "path": HermeticPath,
    "choice": HermeticChoice,
    "numeric": HermeticNumeric,
    "adversarial": AdversarialProvider,
}


def make(classes: dict[str, Any], name: str, locale: str) -> Any:
    """Return a new provider *name* of *classes* in *locale*."""
    from mimesis.exceptions import LocaleError
    from mimesis.providers.base import BaseDataProvider

    try:
        cls = classes[name]
    except KeyError:
        raise UnknownProviderError(name, sorted(classes)) from None
    if not issubclass(cls, BaseDataProvider):
        provider = cls()
        provider.locale = locale
        return provider
    try:
        return cls(locale=locale)
    except LocaleError:
        raise UnknownLocaleError(locale, locales()) from None
