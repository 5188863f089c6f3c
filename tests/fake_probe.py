"""Call every public method of every fake provider and print the values as JSON (run in a subprocess).

``tests.test_fake_hermetic`` runs this under several time zones, ``PYTHONHASHSEED`` values, C locales and
frozen dates, and compares the output byte for byte. ``PROBE_FROZEN_AT`` (seconds since the epoch) freezes the
clock with time-machine before mimesis is imported, so that even values computed at import time see the frozen
date. (A number, not an aware datetime: time-machine would then also switch the process to that datetime's zone.)
``PROBE_SETLOCALE=1`` calls ``locale.setlocale(locale.LC_ALL, "")`` first, as many applications do.
"""

import datetime
import hashlib
import json
import os
import sys

if os.environ.get("PROBE_FROZEN_AT"):
    import time_machine

    time_machine.travel(float(os.environ["PROBE_FROZEN_AT"]), tick=False).start()
if os.environ.get("PROBE_SETLOCALE"):
    import locale

    locale.setlocale(locale.LC_ALL, "")

from mimesis.enums import Algorithm, TimestampFormat

from testdata_kit import _seeding, fake

LOCALES = ("en", "en-au", "de", "ja")
ANCHOR_DAY = datetime.date(2024, 2, 28)
ANCHOR_NOW = datetime.datetime(2024, 3, 31, 1, 30)  # the night Europe/Berlin moves its clocks forward

#: Calls beyond each method's defaults: the common arguments, and the required ones.
EXTRA = {
    "choice.choice": [{"items": ["a", "b", "c"]}, {"items": ["x", "y", "z", "x"], "length": 3, "unique": True},
                      {"items": "abcdef", "length": 4}],
    "datetime.bulk_create_datetimes": [{"date_start": datetime.datetime(2020, 1, 1),
                                        "date_end": datetime.datetime(2020, 1, 2), "hours": 6}],
    "datetime.datetime": [{"timezone": "Europe/Berlin"}, {"timezone": "Asia/Tokyo", "start": 2010, "end": 2012},
                          {"timezone": "America/Los_Angeles"}, {"start": 2001, "end": 2001}],
    "datetime.timestamp": [{"fmt": TimestampFormat.RFC_3339}, {"fmt": TimestampFormat.ISO_8601},
                           {"timezone": "America/Los_Angeles"}, {"fmt": TimestampFormat.RFC_3339,
                                                                 "timezone": "Asia/Tokyo"}],
    "datetime.formatted_datetime": [{"fmt": "%c|%a %A %b %B %p|%x %X|%Z %z", "timezone": "Europe/Berlin"},
                                    {"fmt": "%Y-%m-%d %H:%M"}],
    "datetime.formatted_date": [{"fmt": "%A %d %B %Y"}, {"start": 2010, "end": 2011}],
    "datetime.formatted_time": [{"fmt": "%I:%M %p"}],
    "datetime.future_date": [{"today": ANCHOR_DAY}, {"today": ANCHOR_DAY, "days": 400}],
    "datetime.past_date": [{"today": ANCHOR_DAY}],
    "datetime.future_datetime": [{"now": ANCHOR_NOW}, {"now": ANCHOR_NOW, "timezone": "Europe/Berlin"},
                                 {"now": ANCHOR_NOW, "seconds": 90}],
    "datetime.past_datetime": [{"now": ANCHOR_NOW}, {"now": ANCHOR_NOW, "timezone": "Asia/Tokyo"}],
    "datetime.year": [{"minimum": 1990, "maximum": 1995}],
    "datetime.date": [{"start": 1990, "end": 2000}],
    "person.email": [{"domains": ["shop.test"]}],
    "person.birthdate": [{"min_year": 1990, "max_year": 2000}],
    "person.full_name": [{"reverse": True}],
    "person.phone_number": [{"country": "GB"}, {"e164": True}],
    "person.password": [{"hashed": True}],
    "internet.query_string": [{"length": 5}],
    "internet.query_parameters": [{"length": 8}],
    "internet.uri": [{"query_params_count": 3}],
    "internet.slug": [{"parts_count": 4}],
    "cryptographic.hash": [{"algorithm": algorithm} for algorithm in Algorithm],
    "cryptographic.jwt": [{"payload": {"user": 1}}],
    "numeric.increment": [{}, {}, {"accumulator": "b"}],
    "numeric.matrix": [{"m": 2, "n": 2}],
    "text.words": [{"quantity": 3}],
    "address.coordinates": [{"dms": True}],
    "adversarial.string": [{"category": category} for category in ("bidi", "emoji", "long", "shell")],
    "adversarial.values": [{"category": "turkish"}],
}


#: Methods called only with arguments: the clock-dependent ones warn without an anchor, two require arguments.
NO_DEFAULT_CALL = (*fake.CLOCK_DEPENDENT, "choice.choice", "datetime.bulk_create_datetimes")


def shown(value):
    text = repr(value)
    return text if len(text) <= 300 else f"sha256:{hashlib.sha256(text.encode()).hexdigest()} len={len(text)}"


def draw():
    values = {}
    for locale in LOCALES:
        for provider in fake.providers():
            for method in fake.methods(provider):
                path = f"{provider}.{method}"
                calls = ([] if path in NO_DEFAULT_CALL else [{}]) + EXTRA.get(path, [])
                for number, kwargs in enumerate(calls):
                    key = f"{locale} {path}#{number}"
                    # A fresh seed per call: one difference shows as one key, not as every value after it.
                    providers = fake.FakeProviders(_seeding.test_seed(key, "probe"), locale, key)
                    try:
                        values[key] = shown(getattr(getattr(providers, provider), method)(**kwargs))
                    except Exception as error:  # refusals must be as reproducible as values
                        values[key] = f"raises {type(error).__name__}: {error}"
    return values


def clock():
    """What the machine's clock, zone and hash seed say here: the test checks that they really differed."""
    from mimesis import Datetime, Development, Internet

    now = datetime.datetime.now()
    return {
        "today": datetime.date.today().isoformat(),
        "local_offset": str(now.astimezone().utcoffset()),
        "string_hash": hash("testdata_kit"),
        "raw_mimesis_calver": Development(seed=7).calver(),
        "raw_mimesis_timestamp": Datetime(seed=7).timestamp(),
        "raw_mimesis_query": Internet(seed=7).query_string(length=10),
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps({"values": draw(), "clock": clock()}, ensure_ascii=True, sort_keys=True))
