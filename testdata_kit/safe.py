"""Values that can never belong to a real person or system, and the checks that prove it (stdlib only).

Each kind has a *generator* that draws from a ``random.Random`` you pass in (so seeded streams stay
reproducible) and a *predicate* that tests and ``lint`` use to prove nothing escaped the safe sets.

- email: ``example.com``/``.net``/``.org`` and names under ``.test``, ``.example``, ``.invalid``,
  ``.localhost`` (RFC 2606, RFC 6761);
- phone: US/CA ``+1 NXX 555 0100-0199`` (NANPA), GB ``+44 7700 900000-900999`` (Ofcom), AU the 30 mobile
  numbers ``0491 57x xxx`` that ACMA reserves for fiction;
- card number: well-known processor test PANs;
- IBAN: published example IBANs, or a deliberately wrong ISO 13616 mod-97 check;
- IP: TEST-NET-1/2/3 ``192.0.2.0/24``, ``198.51.100.0/24``, ``203.0.113.0/24`` (RFC 5737) and
  ``2001:db8::/32`` (RFC 3849);
- host name: names under ``.example`` or ``.test``, or ``example.com``/``.net``/``.org``.
"""

from __future__ import annotations

import ipaddress
import random
import string

from testdata_kit import unique
from testdata_kit.errors import TestDataError

__all__ = [
    "EXAMPLE_IBANS",
    "FICTIONAL_PHONE_COUNTRIES",
    "RESERVED_DOMAINS",
    "RESERVED_TLDS",
    "TEST_NETWORKS",
    "TEST_PANS",
    "UnsafeValueError",
    "card_number",
    "email",
    "hostname",
    "iban",
    "iban_check_is_valid",
    "ipv4",
    "ipv6",
    "is_safe_email",
    "is_safe_hostname",
    "is_safe_iban",
    "is_safe_ip",
    "is_safe_phone",
    "is_test_pan",
    "phone",
]

# One list of reserved names for unique and fake emails alike (RFC 2606 / RFC 6761).
RESERVED_DOMAINS = unique.RESERVED_DOMAINS
RESERVED_TLDS = unique.RESERVED_TLDS

#: Test card numbers by brand, as the payment processors publish them; none can ever be charged.
TEST_PANS: dict[str, tuple[str, ...]] = {
    "visa": ("4242424242424242", "4111111111111111", "4000056655665556"),
    "mastercard": ("5555555555554444", "2223003122003222", "5200828282828210"),
    "amex": ("378282246310005", "371449635398431"),
    "discover": ("6011111111111117", "6011000990139424"),
}
_ALL_PANS = frozenset(pan for pans in TEST_PANS.values() for pan in pans)
_ALL_PANS_SORTED = tuple(sorted(_ALL_PANS))

#: Example IBANs printed in the SWIFT IBAN registry and bank documentation; each has a valid check.
EXAMPLE_IBANS = (
    "GB29NWBK60161331926819", "DE89370400440532013000", "FR1420041010050500013M02606",
    "NL91ABNA0417164300", "BE68539007547034", "AT611904300234573201", "CH9300762011623852957",
    "ES9121000418450200051332", "IT60X0542811101000000123456", "IE29AIBK93115212345678",
)
# Country code, then the BBAN layout: "a" an upper-case letter, "9" a digit.
_IBAN_LAYOUTS = {"DE": "9" * 18, "GB": "aaaa" + "9" * 14, "NL": "aaaa" + "9" * 10, "FR": "9" * 23}

TEST_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)
_V4_NETWORKS = TEST_NETWORKS[:3]

_AU_FICTION = (
    "570006", "570156", "570157", "570158", "570159", "570110", "570313", "570737", "571266", "571491",
    "571804", "572549", "572665", "572983", "573770", "573087", "574118", "574632", "575254", "575789",
    "576398", "576801", "577426", "577644", "578957", "578148", "578888", "579212", "579760", "579455",
)
#: Countries with a published fictional range; every other country falls back to the US range.
FICTIONAL_PHONE_COUNTRIES = ("AU", "CA", "GB", "US")
_SEPARATORS = str.maketrans("", "", " -().")


class UnsafeValueError(TestDataError, ValueError):
    """A value (or a request for one) that could reach a real person or system."""

    def __init__(self, kind: str, value: object, allowed: str) -> None:
        self.kind = kind
        self.value = value
        super().__init__(f"{kind} {value!r} is not safe for test data. Use {allowed}.")


def _check_domain(domain: str) -> str:
    lowered = domain.lower().lstrip("@")
    if not is_safe_hostname(lowered):
        raise UnsafeValueError(
            "Email domain", domain, f"one of {', '.join(RESERVED_DOMAINS)} or a name ending in "
            f"{', '.join(RESERVED_TLDS)}"
        )
    return lowered


def email(rng: random.Random, local: str, domains: tuple[str, ...] | list[str] = RESERVED_DOMAINS) -> str:
    """Return ``local@domain`` with a domain drawn from *domains*, each checked to be reserved.

    :param rng: the seeded stream that picks the domain.
    :param local: the part before ``@``.
    :param domains: reserved domains to choose from; an empty list is an error, never a silent fallback.
    """
    if not domains:
        raise UnsafeValueError(
            "Email domain list", list(domains), f"a non-empty list such as {list(RESERVED_DOMAINS)!r}"
        )
    domain = domains[int(rng.random() * len(domains))]
    return f"{local}@{domain if domains is RESERVED_DOMAINS else _check_domain(domain)}"


def phone(rng: random.Random, country: str = "US", *, e164: bool = False) -> str:
    """Return a phone number from *country*'s range reserved for fiction (the US range if it has none).

    :param rng: the seeded stream.
    :param country: ISO 3166 alpha-2 code; see :data:`FICTIONAL_PHONE_COUNTRIES`.
    :param e164: return ``+447700900123`` instead of the readable ``+44 7700 900123``.
    """
    country = country.upper()
    if country == "GB":
        number = f"+44 7700 900{rng.randrange(1000):03d}"
    elif country == "AU":
        tail = _AU_FICTION[int(rng.random() * len(_AU_FICTION))]
        number = f"+61 491 {tail[:3]} {tail[3:]}"
    else:
        # NANP area codes start with 2-9; 555-0100..0199 is fictional in every one of them.
        number = f"+1 {rng.randrange(201, 1000)} 555 01{rng.randrange(100):02d}"
    return "+" + number[1:].translate(_SEPARATORS) if e164 else number


def card_number(rng: random.Random, brand: str | None = None) -> str:
    """Return a well-known test card number (digits only).

    :param brand: one of :data:`TEST_PANS` (``visa``, ``mastercard``, ``amex``, ``discover``), or any.
    """
    if brand is None:
        pans = _ALL_PANS_SORTED
    else:
        try:
            pans = TEST_PANS[brand.lower()]
        except KeyError:
            raise UnsafeValueError("Card brand", brand, f"one of {sorted(TEST_PANS)}") from None
    return pans[int(rng.random() * len(pans))]


def iban_check_is_valid(value: str) -> bool:
    """Return whether *value* passes the ISO 13616 mod-97 check (spaces ignored)."""
    compact = value.replace(" ", "").upper()
    if len(compact) < 5 or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def iban(rng: random.Random, *, valid_check: bool = True) -> str:
    """Return a published example IBAN, or with ``valid_check=False`` a realistic one whose check is wrong.

    :param valid_check: examples pass an API's IBAN validation; wrong-check values exercise rejection paths
        and can never name a real account, because no real IBAN fails mod-97.
    """
    if valid_check:
        return EXAMPLE_IBANS[int(rng.random() * len(EXAMPLE_IBANS))]
    country = sorted(_IBAN_LAYOUTS)[int(rng.random() * len(_IBAN_LAYOUTS))]
    bban = "".join(
        rng.choice(string.ascii_uppercase) if c == "a" else str(rng.randrange(10))
        for c in _IBAN_LAYOUTS[country]
    )
    numeric = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    good = 98 - numeric % 97
    # Any other two digits break mod-97; shifting by 1..96 keeps the result in 02..98 and never good.
    wrong = (good - 2 + rng.randrange(1, 96)) % 97 + 2
    return f"{country}{wrong:02d}{bban}"


def ipv4(rng: random.Random) -> str:
    """Return an address from TEST-NET-1, -2 or -3 (RFC 5737)."""
    network = _V4_NETWORKS[int(rng.random() * 3)]
    return str(network.network_address + rng.randrange(256))


def ipv6(rng: random.Random) -> str:
    """Return an address inside the documentation prefix ``2001:db8::/32`` (RFC 3849)."""
    return str(TEST_NETWORKS[3].network_address + rng.getrandbits(96))


def hostname(rng: random.Random, label: str, tlds: tuple[str, ...] = (".example", ".test")) -> str:
    """Return ``label`` under a reserved top-level domain, e.g. ``'shop.example'``.

    :param label: the left part; it is lower-cased and stripped of characters DNS does not allow.
    """
    clean = "".join(c for c in label.lower() if c.isascii() and (c.isalnum() or c in "-.")).strip("-.")
    host = f"{clean or 'host'}{tlds[int(rng.random() * len(tlds))]}"
    if not is_safe_hostname(host):
        raise UnsafeValueError("Host name", host, f"top-level domains among {list(RESERVED_TLDS)!r}")
    return host


def is_safe_hostname(host: str) -> bool:
    """Return whether *host* is a reserved name (``example.com`` and friends, or under a reserved TLD)."""
    return unique.is_reserved_domain(host)


def is_safe_email(value: str) -> bool:
    """Return whether *value* is an email address on a reserved domain."""
    local, at, domain = value.rpartition("@")
    return bool(at and local) and is_safe_hostname(domain)


def is_safe_phone(value: str) -> bool:
    """Return whether *value* is in a fictional range (separators and the leading ``+`` are ignored)."""
    digits = value.translate(_SEPARATORS)
    if digits.startswith("+1") and len(digits) == 12:
        return digits[5:10] == "55501" and digits[2] in "23456789"
    if digits.startswith("+44") and len(digits) == 13:
        return digits[3:10] == "7700900"
    if digits.startswith("+61") and len(digits) == 12:
        return digits[3:6] == "491" and digits[6:] in _AU_FICTION
    return False


def is_test_pan(value: str) -> bool:
    """Return whether *value* is one of the well-known test card numbers (spaces and dashes ignored)."""
    return value.replace(" ", "").replace("-", "") in _ALL_PANS


def is_safe_iban(value: str) -> bool:
    """Return whether *value* is a published example IBAN or fails the mod-97 check (so names no account)."""
    compact = value.replace(" ", "").upper()
    return compact in EXAMPLE_IBANS or not iban_check_is_valid(compact)


def is_safe_ip(value: str) -> bool:
    """Return whether *value* lies in TEST-NET-1/2/3 or ``2001:db8::/32``."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return any(address in network for network in TEST_NETWORKS if network.version == address.version)
