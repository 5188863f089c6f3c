"""Recognisers for personal data in string literals: emails, names, phones, card numbers and IBANs."""

from __future__ import annotations

import ipaddress
import re

from testdata_kit import safe

__all__ = ["EMAIL_RE", "looks_like_email", "looks_like_person_name", "real_personal_data"]

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})")
_WHOLE_EMAIL = re.compile(rf"^{EMAIL_RE.pattern}$")

#: Mail providers where an address most likely reaches a real person; matched on the domain's first label,
#: so yahoo.co.uk and gmx.de count too.
REAL_PROVIDERS = frozenset(
    {
        "gmail", "googlemail", "yahoo", "ymail", "outlook", "hotmail", "live", "msn", "icloud", "me", "mac",
        "aol", "protonmail", "proton", "gmx", "mail", "yandex", "qq", "163", "126", "web", "zoho", "fastmail",
        "tutanota", "comcast", "verizon", "att", "orange", "free", "laposte", "libero", "t-online",
    }
)
# First labels like "mail" or "web" are real providers only at these exact domains.
_AMBIGUOUS_PROVIDERS = {"me": "me.com", "mac": "mac.com", "mail": "mail.ru", "web": "web.de", "free": "free.fr",
                        "live": "live.com", "att": "att.net", "orange": "orange.fr", "proton": "proton.me"}

# Single words read as a person's name only when they are common first names ("Widget" is a product).
_FIRST_NAMES = frozenset(
    {
        "alice", "bob", "carol", "charlie", "dave", "david", "eve", "frank", "grace", "heidi", "ivan",
        "judy", "mallory", "oscar", "peggy", "trent", "walter", "john", "jane", "joe", "mary", "james",
        "robert", "michael", "william", "richard", "thomas", "linda", "susan", "sarah", "emma", "olivia",
        "liam", "noah", "anna", "peter", "paul", "mark", "laura", "maria", "jose", "juan", "ali",
        "mohammed", "wei",
    }
)
_PERSON_NAME = re.compile(r"^[A-Z][a-z]+(?:[ '-][A-Z][a-z]+){0,3}$")
_CARD = re.compile(r"^\d{4}(?:[ -]?\d{2,6}){2,4}$")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")
_MAC = re.compile(r"^[0-9A-Fa-f]{2}(?:([:-])[0-9A-Fa-f]{2})(?:\1[0-9A-Fa-f]{2}){4}$")
_PHONE = re.compile(r"^\+?\(?\d[\d ().-]{6,}\d$")


def looks_like_email(text: str) -> bool:
    """Return True when *text* is a single email address."""
    return bool(_WHOLE_EMAIL.match(text.strip()))


def looks_like_person_name(text: str, *, strict: bool) -> bool:
    """Return True when *text* reads like a person's name ("Alice", "Alice Smith").

    :param strict: require a common first name, for keys such as ``name`` that also hold product names.
    """
    text = text.strip()
    if not _PERSON_NAME.match(text):
        return False
    return not strict or text.split()[0].lower() in _FIRST_NAMES


def real_personal_data(text: str) -> str | None:
    """Return why *text* looks like a real person's data, or None when it is safe or not personal data."""
    for match in EMAIL_RE.finditer(text):
        domain = match.group(1).lower()
        label = domain.split(".")[0]
        exact = _AMBIGUOUS_PROVIDERS.get(label)
        if label in REAL_PROVIDERS and (exact is None or domain == exact):
            return (
                f"email {match.group(0)!r} is at the real mail provider {domain!r}; "
                f"use unique.email() (example.com) or a .test domain"
            )
    stripped = text.strip()
    return _card(stripped) or _iban(stripped) or _phone(stripped)


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card(text: str) -> str | None:
    if not _CARD.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    # Only issuer prefixes of real networks: random 16-digit ids pass Luhn one time in ten.
    networks = ("4", "51", "52", "53", "54", "55", "34", "37", "6011", "65", "35", "36", "38", "22", "23",
                "24", "25", "26", "27")
    if not 13 <= len(digits) <= 19 or not digits.startswith(networks) or not _luhn_valid(digits):
        return None
    if safe.is_test_pan(digits):
        return None
    return f"card number {text!r} passes the Luhn check and is not a test number; use 4242424242424242"


def _iban(text: str) -> str | None:
    compact = text.replace(" ", "").upper()
    # The safe set (published examples, or a deliberately wrong check) is shared with the generators.
    if not _IBAN.match(compact) or text != text.upper() or safe.is_safe_iban(compact):
        return None
    return f"IBAN {text!r} has a valid check and is not a published example; use GB29NWBK60161331926819"


def _phone(text: str) -> str | None:
    if not _PHONE.match(text) or text.count("(") != text.count(")"):
        return None
    try:
        ipaddress.ip_address(text)
        return None
    except ValueError:
        pass
    digits = re.sub(r"\D", "", text)
    separated = text.startswith("+") or any(sep in text for sep in " -().")
    if not 10 <= len(digits) <= 15 or not separated or re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return None
    if not _phone_shaped(text, digits):
        return None
    if safe.is_safe_phone(text) or _fictional(digits):
        return None
    return (
        f"phone number {text!r} is outside the fictional ranges; use +1-NXX-555-01XX (US) "
        f"or +44 7700 900XXX (UK)"
    )


def _phone_shaped(text: str, digits: str) -> bool:
    """Return False for digit strings that cannot be dialled: MAC addresses, durations, versions, fillers."""
    if _MAC.match(text) or len(set(digits)) < 3:
        return False
    groups = [g for g in re.split(r"[ .()-]+", text.lstrip("+")) if g]
    if "." in text and not text.startswith("+") and [len(g) for g in groups] != [3, 3, 4]:
        # Dotted numbers are versions or dates, except the North American "415.867.5309".
        return False
    if text.startswith("+"):
        return all(len(g) <= 8 for g in groups) or len(groups) == 1
    # A national number opens with a 2-5 digit area code; a long group ("030 12345678") comes right after it
    # and last; no group is a single trailing digit and nothing opens with 000. "999999999 00" (days and
    # hours), "01 02 03 000004" (a timestamp) and "000-01-2345-6" (a decimal) fail one of these.
    lengths = [len(g) for g in groups]
    long_ok = all(n <= 4 for n in lengths[2:-1]) and (lengths[-1] <= 4 or len(lengths) <= 2) and max(lengths) <= 8
    return (
        2 <= lengths[0] <= 5 and long_ok and sum(n > 4 for n in lengths) <= 1 and lengths[-1] > 1
        and not digits.startswith("000")
    )


def _fictional(digits: str) -> bool:
    # Also national spellings ("(415) 555-0134") and the UK drama landline ranges, which safe.py does
    # not generate but which are just as fictional (NANP 555-0100..555-0199; Ofcom drama numbers).
    national = digits[1:] if len(digits) == 11 and digits.startswith("1") else digits
    if len(national) == 10 and national[3:6] == "555" and national[6:8] == "01":
        return True
    uk = "0" + digits[2:] if digits.startswith("44") else digits
    return uk.startswith(("07700900", "01632960", "02079460", "01134960", "01314960", "02890180"))
