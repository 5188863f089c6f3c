"""Strings that break naive code, grouped by the mistake they catch, and drawn from a seeded stream (stdlib only).

Realistic values pass through code that was only ever tried with ASCII names; these do not. Each category
names a class of bug:

- ``bidi``: right-to-left text and the bidi controls that reorder what a screen shows (``U+202E``, isolates);
- ``zero_width``: zero-width spaces, joiners and the byte-order mark, invisible inside ``"admin"``;
- ``combining``: combining marks, stacked and leading, that break length limits and truncation;
- ``emoji``: ZWJ sequences, skin tones, flags and keycaps, several code points that show as one;
- ``normalization``: the same text in NFC and NFD (and look-alike code points) that compare unequal;
- ``turkish``: dotted and dotless i, where ``upper()``/``lower()`` round trips lose information;
- ``punctuation``: names with apostrophes, hyphens, particles and a surname spelled ``Null``;
- ``whitespace``: leading, trailing and only spaces, tabs, no-break and ideographic spaces, the empty string;
- ``control``: NUL, bell, CR LF, the Unicode line separator;
- ``long``: 256, 1,000 and 65,537 characters, and multi-byte text whose UTF-8 length is three or four times its
  character count;
- ``sql``, ``html``, ``shell``: metacharacters for injection bugs; the shell values only ever ``echo``.

Everything here is safe test data: the names are invented, emails use reserved domains only, and nothing points at
a real host. Values are plain ``str``; the generators take the ``random.Random`` you pass, so a seeded stream gives
the same values again (``self.fake.adversarial`` is the seeded provider built on this module).
"""

from __future__ import annotations

import random
import unicodedata

from testdata_kit.errors import TestDataError

__all__ = ["CATEGORIES", "EMAILS", "NAMES", "UnknownCategoryError", "email", "name", "pair", "string", "values"]


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


_LONG_MULTIBYTE = "\u00e9" * 300  # 300 characters, 600 UTF-8 bytes: a "VARCHAR(255)" byte check fails
_LONG_EMOJI = "\U0001f600" * 100  # 100 characters, 400 UTF-8 bytes, 200 UTF-16 code units

#: The values by category; every tuple keeps its order, so a seeded draw is the same in every process.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "bidi": (
        "\u202eevil\u202c",  # RIGHT-TO-LEFT OVERRIDE shows "live"
        "invoice\u202efdp.exe",  # shows "invoiceexe.pdf"
        "abc \u2067\u05e9\u05dc\u05d5\u05dd\u2069 def",  # Hebrew inside isolates
        "\u0644\u064a\u0644\u0649 \u062d\u062f\u0627\u062f",  # an Arabic name, right to left
        "\u05e9\u05dc\u05d5\u05dd 123 abc",  # Hebrew, then digits and Latin
        "\u200f\u200e",  # RLM then LRM, nothing visible
        "order \u202b#42\u202c",  # RIGHT-TO-LEFT EMBEDDING around a number
    ),
    "zero_width": (
        "admin\u200b",  # ZERO WIDTH SPACE: looks like "admin"
        "ad\u200dmin",  # ZERO WIDTH JOINER
        "ad\u200cmin",  # ZERO WIDTH NON-JOINER
        "\ufeffadmin",  # BYTE ORDER MARK at the start
        "ad\u2060min",  # WORD JOINER
        "\u200b",  # nothing but a zero-width space
    ),
    "combining": (
        "e\u0301\u0301\u0301",  # one letter, three acute accents
        "\u0301leading mark",  # a combining mark with nothing to combine with
        "Z\u0351\u0300\u0316a\u0358\u0318l\u0362g\u035co\u0360",  # stacked marks ("zalgo")
        "a\u0304\u0308",  # a with macron and diaeresis
        "\u0928\u093f\u0930\u094d\u092e\u0932",  # Devanagari: six code points, fewer glyphs
    ),
    "emoji": (
        "\U0001f469\U0001f3fd\u200d\U0001f4bb",  # woman technologist, medium skin tone (ZWJ)
        "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",  # family of four, seven code points
        "\U0001f3f3\ufe0f\u200d\U0001f308",  # rainbow flag: variation selector plus ZWJ
        "\U0001f1f3\U0001f1f1",  # a flag from two regional indicators
        "\U0001f44d\U0001f3ff",  # thumbs up, dark skin tone
        "\u2764\ufe0f",  # heart with VARIATION SELECTOR-16
        "1\ufe0f\u20e3",  # keycap one
        "\U0001f9d1\U0001f3fb\u200d\U0001f91d\u200d\U0001f9d1\U0001f3ff",  # people holding hands, two tones
    ),
    "normalization": (
        "Ren\u00e9e", _nfd("Ren\u00e9e"),  # NFC then NFD: equal on screen, unequal as str
        "\u00c5ngstr\u00f6m", "\u212bngstr\u00f6m",  # LATIN A WITH RING vs ANGSTROM SIGN
        "\u2126", "\u03a9",  # OHM SIGN vs GREEK CAPITAL OMEGA
        "\ufb01le", "file",  # LATIN SMALL LIGATURE FI (NFKC folds it)
        "Jos\u00e9", _nfd("Jos\u00e9"),
    ),
    "turkish": (
        "\u0130stanbul",  # capital dotted I: lower() gives "i\u0307stanbul"
        "\u0131s\u0131k",  # dotless i: upper() gives "ISIK", which lower()s to "isik"
        "D\u0130YARBAKIR",
        "I\u011fd\u0131r",
        "i\u0307",  # i plus COMBINING DOT ABOVE
        "\u0130nci I\u015f\u0131k",
    ),
    "punctuation": (
        "Siobh\u00e1n O'Connor-Ruiz",
        "Anne-Marie d'Arcy",
        "Jean-Luc N'Diaye",
        "Rowan Null",  # a surname that naive code turns into a NULL
        "Mary Jane van der Berg-O'Neil",
        "Kai Test",
        "X",  # a one-letter name
        "Ng\u0169y\u1ec5n Th\u1ecb Ng\u1ecdc",  # Vietnamese with stacked diacritics
    ),
    "whitespace": (
        " leading space",
        "trailing space ",
        "  both  ",
        "\ttab",
        "no\u00a0break",  # NO-BREAK SPACE
        "\u3000ideographic",  # IDEOGRAPHIC SPACE
        " ",
        "",
    ),
    "control": (
        "\x00",
        "before\x00after",  # C strings end at the NUL
        "bell\x07",
        "line\r\nbreak",
        "line\u2028separator",  # splitlines() splits here, most regexes do not
        "\x1b[31mred\x1b[0m",  # a terminal escape sequence
    ),
    "long": (
        "a" * 256,
        "x" * 1000,
        "y" * 65_537,  # one past a 16-bit length
        _LONG_MULTIBYTE,
        _LONG_EMOJI,
    ),
    "sql": (
        "'; DROP TABLE users; --",
        "\" OR \"1\"=\"1",
        "' OR 1=1 --",
        "Robert'); DROP TABLE students;--",
        "100%_match",  # LIKE wildcards
        "\\'; SELECT 1; --",
    ),
    "html": (
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "\"><svg onload=alert(1)>",
        "&lt;b&gt;already escaped&lt;/b&gt;",
        "Tom & Jerry <b>",
        "javascript:alert(1)",
    ),
    "shell": (
        "$(echo injected)",
        "`echo injected`",
        "; echo injected",
        "| echo injected",
        "&& echo injected",
        "--help",  # read as an option
        "*",
        "~/$HOME",
        "quote's \"both\"",
    ),
}

#: Names that break naive code: apostrophes, hyphens, particles, scripts, marks, padding and very long ones.
NAMES: tuple[str, ...] = (
    *CATEGORIES["punctuation"],
    "\u0130nci I\u015f\u0131k",
    "\u0131l\u0131k \u00c7elik",
    _nfd("Ren\u00e9e Lef\u00e8vre"),
    "\u0644\u064a\u0644\u0649 \u062d\u062f\u0627\u062f",
    "\u05e0\u05d5\u05e2\u05d4 \u05db\u05d4\u05df",
    "\u5c71\u7530 \u82b1\u5b50",
    "\u0410\u043d\u043d\u0430-\u041c\u0430\u0440\u0438\u044f \u0418\u0432\u0430\u043d\u043e\u0432\u0430",
    " Padded Name ",
    "Zo\u00eb\u200b Adams",
    "Ana " + "Mar\u00eda-" * 40 + "L\u00f3pez",
)

#: Email addresses that are valid or merely unusual, all on reserved domains (RFC 2606 / RFC 6761).
EMAILS: tuple[str, ...] = (
    "o'connor@example.com",
    "anne-marie.d'arcy@example.org",
    "first+tag@example.net",
    "\"quoted local\"@example.com",
    "Mixed.Case@Example.COM",
    "x@sub.domain.example",
    "\u00fcn\u00efc\u00f6d\u00e9@example.test",  # internationalized local part (RFC 6531)
    "\u7528\u6237@\u4f8b\u5b50.test",  # internationalized domain under a reserved TLD
    "a" * 64 + "@example.com",  # the longest local part RFC 5321 allows
    "dots..twice@example.com",  # invalid, but real systems store such addresses
    "percent%sign@example.org",
    "null@example.com",
)


class UnknownCategoryError(TestDataError, LookupError):
    """A category name that :data:`CATEGORIES` does not have."""

    def __init__(self, category: str) -> None:
        self.category = category
        self.known = sorted(CATEGORIES)
        super().__init__(f"Unknown adversarial category {category!r}. Categories: {', '.join(self.known)}.")


def values(category: str | None = None) -> list[str]:
    """Return every value of *category* (default: of all categories), for a loop of ``subTest`` cases.

    :raises UnknownCategoryError: for a category that does not exist.
    """
    if category is None:
        return [value for group in CATEGORIES.values() for value in group]
    try:
        return list(CATEGORIES[category])
    except KeyError:
        raise UnknownCategoryError(category) from None


def _pick(rng: random.Random, items: tuple[str, ...] | list[str]) -> str:
    return items[int(rng.random() * len(items))]


def string(rng: random.Random, category: str | None = None) -> str:
    """Return one value of *category*, or of a category drawn from *rng*.

    :raises UnknownCategoryError: for a category that does not exist.
    """
    if category is None:
        category = _pick(rng, list(CATEGORIES))
    return _pick(rng, values(category))


def name(rng: random.Random) -> str:
    """Return a person's name from :data:`NAMES`: invented, never a real person's."""
    return _pick(rng, NAMES)


def email(rng: random.Random) -> str:
    """Return an unusual but safe email address from :data:`EMAILS`."""
    return _pick(rng, EMAILS)


def pair(rng: random.Random) -> tuple[str, str]:
    """Return two strings that look the same on screen but differ as code points (NFC/NFD, look-alikes)."""
    group = CATEGORIES["normalization"]
    index = int(rng.random() * (len(group) // 2)) * 2
    return group[index], group[index + 1]
