"""Same seed, same bytes: every fake provider method, whatever the time zone, locale, hash seed, date or Python."""

import calendar
import datetime
import hashlib
import json
import os
import subprocess
import sys
import unittest
import warnings
import zoneinfo

import mimesis

from testdata_kit import fake
from testdata_kit.factories import DataFactory, Fake

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Three zones and more, both hash seeds with both frozen dates, two C locales with setlocale() called: four
# processes cover every pair. The frozen dates are 2021-03-14 12:00 UTC and 2031-11-04 01:43:20 UTC.
CONFIGS = (
    {"TZ": "UTC", "PYTHONHASHSEED": "1", "PROBE_FROZEN_AT": "1615723200", "LC_ALL": "C.UTF-8"},
    {"TZ": "Asia/Tokyo", "PYTHONHASHSEED": "2", "PROBE_FROZEN_AT": "1951523000", "LC_ALL": "C"},
    {"TZ": "America/Los_Angeles", "PYTHONHASHSEED": "2", "PROBE_FROZEN_AT": "1615723200", "LC_ALL": "POSIX"},
    {"TZ": "Europe/Berlin", "PYTHONHASHSEED": "1", "PROBE_FROZEN_AT": "1951523000", "LC_ALL": "C.UTF-8"},
)

#: sha256 of the probe's values, recorded with mimesis 22.2.0 and checked identical under CPython 3.10, 3.11,
#: 3.12 and 3.13. A deliberate change of what a seed gives (a new provider method, another default) changes it:
#: record the new digest (printed by the failing test) and say so in the changelog.
GOLDEN = ("22.2.0", "046d9303c3918a69d43954eb20356c3a4cca744a434d74f08cf68d67228b8da5")


def run_probes():
    # One process after the other: four at once would load a shared 2-core machine for nothing.
    outputs = []
    for config in CONFIGS:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("LC_", "LANG"))}
        env.update(config, PROBE_SETLOCALE="1", PYTHONPATH=ROOT)
        done = subprocess.run([sys.executable, "-W", "error", os.path.join(ROOT, "tests", "fake_probe.py")],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode:
            raise AssertionError(f"probe failed under {config}:\n{done.stderr}")
        outputs.append(json.loads(done.stdout))
    return outputs


class EveryMethodEverywhereTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.outputs = run_probes()

    def test_the_configurations_really_differ(self):
        # Without this the comparison below could pass because nothing changed: raw mimesis reads the clock,
        # the local zone and string hashes, and must give different values here.
        clocks = [output["clock"] for output in self.outputs]
        self.assertEqual(len({c["local_offset"] for c in clocks}), len(CONFIGS), clocks)
        self.assertEqual({c["today"] for c in clocks}, {"2021-03-14", "2031-11-04"})
        self.assertEqual(len({c["string_hash"] for c in clocks}), 2)
        self.assertEqual(len({c["raw_mimesis_calver"] for c in clocks}), 2, "time-machine must freeze mimesis")
        self.assertEqual(len({c["raw_mimesis_timestamp"] for c in clocks}), len(CONFIGS))
        self.assertEqual(len({c["raw_mimesis_query"] for c in clocks}), 2)

    def test_every_provider_method_gives_the_same_bytes(self):
        first = self.outputs[0]["values"]
        for config, output in zip(CONFIGS[1:], self.outputs[1:], strict=True):
            differing = {key: (first[key], output["values"].get(key)) for key in first
                         if output["values"].get(key) != first[key]}
            self.assertEqual(differing, {}, f"values differ under {config}")

    def test_every_method_was_called(self):
        called = {key.split(" ", 1)[1].split("#")[0] for key in self.outputs[0]["values"]}
        expected = {f"{p}.{m}" for p in fake.providers() for m in fake.methods(p)}
        self.assertEqual(expected - called, set())
        self.assertGreater(len(expected), 200)

    def test_no_method_raises_with_its_default_arguments(self):
        raised = {key: value for key, value in self.outputs[0]["values"].items() if value.startswith("raises")}
        self.assertEqual(raised, {})

    @unittest.skipUnless(mimesis.__version__ == GOLDEN[0], f"the digest was recorded with mimesis {GOLDEN[0]}")
    def test_values_match_those_recorded_on_other_python_versions(self):
        values = self.outputs[0]["values"]
        digest = hashlib.sha256(json.dumps(values, sort_keys=True, ensure_ascii=True).encode()).hexdigest()
        self.assertEqual(digest, GOLDEN[1], f"{len(values)} values; python {sys.version.split()[0]}")


def providers(seed=1234):
    return fake.FakeProviders(seed)


@unittest.skipUnless(hasattr(__import__("time"), "tzset"), "needs time.tzset")
class ReportedInputsTest(unittest.TestCase):
    """The two values the issue measured, in this process (the subprocess test covers them too)."""

    def in_zone(self, name, draw):
        import time

        old = os.environ.get("TZ")
        os.environ["TZ"] = name
        time.tzset()
        try:
            return draw()
        finally:
            if old is None:
                os.environ.pop("TZ")
            else:
                os.environ["TZ"] = old
            time.tzset()

    def test_timestamp_does_not_depend_on_the_machine_time_zone(self):
        stamps = [self.in_zone(zone, lambda: providers().datetime.timestamp())
                  for zone in ("UTC", "Asia/Tokyo", "America/Los_Angeles")]
        self.assertEqual(len(set(stamps)), 1, stamps)
        drawn = providers().datetime.datetime()
        self.assertEqual(stamps[0], calendar.timegm(drawn.timetuple()), "a naive datetime counts as UTC")

    def test_calver_does_not_depend_on_the_year(self):
        import time_machine

        versions = []
        for year in (2024, 2031):
            with time_machine.travel(datetime.datetime(year, 6, 1, tzinfo=datetime.timezone.utc), tick=False):
                versions.append([providers(seed).development.calver() for seed in range(200)])
        self.assertEqual(versions[0], versions[1])
        self.assertLessEqual(max(int(v.split(".")[0]) for v in versions[0]), fake.DATE_END)

    def test_birthdate_keeps_working_whatever_the_year(self):
        import time_machine

        # mimesis refuses a max_year after the current year: its own default would raise in 2010.
        with time_machine.travel(datetime.datetime(2010, 1, 1, tzinfo=datetime.timezone.utc), tick=False):
            self.assertEqual(providers().person.birthdate(), providers().person.birthdate())


class TimeZoneTest(unittest.TestCase):
    def test_aware_datetimes_through_zoneinfo(self):
        drawn = providers().datetime.datetime(timezone="Europe/Berlin")
        self.assertEqual(str(drawn.tzinfo), "Europe/Berlin")
        self.assertEqual(drawn.utcoffset(), drawn.replace(tzinfo=zoneinfo.ZoneInfo("Europe/Berlin")).utcoffset())
        self.assertTrue(fake.DATE_START <= drawn.year <= fake.DATE_END)
        self.assertNotIn("pytz", sys.modules)

    def test_the_zone_keeps_the_wall_time(self):
        naive = providers().datetime.datetime()
        tokyo = providers().datetime.datetime(timezone="Asia/Tokyo")
        self.assertEqual(tokyo.replace(tzinfo=None), naive)

    def test_a_time_in_a_daylight_saving_gap_moves_forward(self):
        berlin = zoneinfo.ZoneInfo("Europe/Berlin")
        moved = providers().datetime.past_datetime(now=datetime.datetime(2024, 3, 31, 2, 30), seconds=1,
                                                   timezone="Europe/Berlin")
        # 02:30 does not exist that night; the value is a real instant, shown as the wall clock shows it.
        self.assertEqual(moved.astimezone(datetime.timezone.utc).astimezone(berlin), moved)

    def test_timestamp_and_future_datetime_take_a_zone(self):
        f = providers()
        stamp = f.datetime.timestamp(timezone="America/Los_Angeles")
        aware = providers().datetime.datetime(timezone="America/Los_Angeles")
        self.assertEqual(stamp, int(aware.timestamp()))
        later = f.datetime.future_datetime(now=datetime.datetime(2024, 1, 1), timezone="Asia/Tokyo")
        self.assertEqual(str(later.tzinfo), "Asia/Tokyo")

    def test_every_zone_mimesis_offers_loads(self):
        from mimesis.datasets import TIMEZONES

        for name in TIMEZONES:
            with self.subTest(zone=name):
                self.assertIsNotNone(providers().datetime.datetime(timezone=name).utcoffset())

    def test_a_factory_field_with_a_zone(self):
        class Event(DataFactory):
            class Meta:
                abstract = True

            starts = Fake("datetime.datetime", timezone="America/New_York")

        self.assertEqual(str(Event.build()["starts"].tzinfo), "America/New_York")

    def test_a_factory_field_with_an_unknown_zone_fails_at_definition(self):
        with self.assertRaises(fake.UnknownTimeZoneError):
            class Event(DataFactory):
                class Meta:
                    abstract = True

                starts = Fake("datetime.datetime", timezone="Europe/Berln")


class ClockDependentTest(unittest.TestCase):
    def test_methods_relative_to_today_warn_without_an_anchor(self):
        f = providers()
        for path in fake.CLOCK_DEPENDENT:
            provider, method = path.split(".")
            with self.subTest(path), self.assertWarns(fake.ClockDependentWarning) as caught:
                getattr(getattr(f, provider), method)()
            self.assertIn(f"{path}()", str(caught.warning))
            self.assertEqual(caught.filename, __file__)

    def test_with_an_anchor_they_are_reproducible_and_silent(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            day = datetime.date(2024, 2, 28)
            first = providers().datetime.future_date(today=day)
            self.assertEqual(first, providers().datetime.future_date(today=day))
            self.assertTrue(day < first <= day + datetime.timedelta(days=30))
            before = providers().datetime.past_date(today=day, days=3)
            self.assertTrue(day - datetime.timedelta(days=3) <= before < day)


class CLocaleFormatTest(unittest.TestCase):
    def test_matches_strftime_in_the_c_locale(self):
        import locale

        from testdata_kit import _zones

        self.assertIn(locale.setlocale(locale.LC_TIME), ("C", "C.UTF-8", "POSIX"))
        values = [datetime.datetime(2024, 3, 5, 7, 8, 9), datetime.datetime(2001, 12, 31, 23, 0),
                  datetime.date(2010, 6, 15), datetime.time(13, 45, 1)]
        for value in values:
            for fmt in ("%c", "%x %X", "%a %A %b %B %h %p", "%d.%m.%Y %I:%M %p", "100%% %e %j", "%", "plain"):
                with self.subTest(value=value, fmt=fmt):
                    self.assertEqual(_zones.strftime(value, fmt), value.strftime(fmt))
        self.assertEqual(_zones.strftime(values[0], "%Ec %Od"), values[0].strftime("%c %d"))


class ProcessHistoryTest(unittest.TestCase):
    def test_increment_counts_per_test_not_per_process(self):
        first, second = providers(1), providers(2)
        self.assertEqual([first.numeric.increment(), first.numeric.increment()], [1, 2])
        self.assertEqual(second.numeric.increment(), 1)
        self.assertEqual(first.numeric.increment(), 3)

    def test_paths_are_posix_on_every_platform(self):
        self.assertTrue(providers().path.home().startswith("/"))


if __name__ == "__main__":
    unittest.main()
