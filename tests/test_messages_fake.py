"""Pinned error and report texts of testdata_kit.fake, testdata_kit.safe and testdata_kit.factories."""

import os
import random
import subprocess
import sys
import unittest

from testdata_kit import _run, _seeding, fake, safe
from testdata_kit.factories import DataFactory, FactoryCycleError, Fake, Lazy, UnknownFieldError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class MessagesTest(unittest.TestCase):
    def test_unknown_field(self):
        self.assertEqual(
            str(UnknownFieldError("UserFactory", "nmae", ["email", "name"])),
            "UserFactory has no field 'nmae'. Known fields: email, name.",
        )

    def test_cycle(self):
        self.assertEqual(
            str(FactoryCycleError("Loop", ["a", "b", "a"])),
            "Loop fields depend on each other in a circle: a -> b -> a. "
            "Give one of them a value that does not read the others.",
        )

    def test_bad_fake_path(self):
        with self.assertRaisesRegex(ValueError, r"^Fake\(\) needs 'provider.method' such as 'person.full_name', "
                                    r"got 'full_name'\.$"):
            Fake("full_name")

    def test_unknown_provider(self):
        with self.assertRaises(fake.UnknownProviderError) as caught:
            fake.FakeProviders(1).persn  # noqa: B018
        self.assertRegex(str(caught.exception),
                         r"^Unknown fake provider 'persn'; did you mean 'person'\? Known providers: address, .*person")

    def test_unknown_locale(self):
        with self.assertRaises(fake.UnknownLocaleError) as caught:
            fake.FakeProviders(1, "xx").person  # noqa: B018
        self.assertRegex(
            str(caught.exception),
            r"^Unknown fake locale 'xx' \(from the locale argument or TESTDATA_LOCALE\)\. Supported locales: "
            r"ar-ae, .*\bja\b",
        )

    def test_unsafe_domain(self):
        with self.assertRaises(safe.UnsafeValueError) as caught:
            safe.email(random.Random(1), "ada", ["gmail.com"])
        self.assertEqual(
            str(caught.exception),
            "Email domain 'gmail.com' is not safe for test data. Use one of example.com, example.net, "
            "example.org or a name ending in .test, .example, .invalid, .localhost.",
        )

    def test_phone_mask_refused(self):
        with self.assertRaises(safe.UnsafeValueError) as caught:
            fake.FakeProviders(1).person.phone_number(mask="###-####")
        self.assertEqual(
            str(caught.exception),
            "Phone mask '###-####' is not safe for test data. Use phone_number(country=...) with one of "
            "('AU', 'CA', 'GB', 'US').",
        )

    def test_failure_note(self):
        class Probe(unittest.TestCase):
            def test_a(self):
                pass

        Probe.__module__, Probe.__qualname__ = "tests.test_x", "T"
        probe = Probe("test_a")
        old = os.environ.get(_run.RUN_SEED_ENV), os.environ.pop("PYTEST_CURRENT_TEST", None)
        os.environ[_run.RUN_SEED_ENV] = "1234"
        _run._reset_for_tests()
        try:
            note = _seeding.failure_note(probe, always=True)
        finally:
            os.environ.pop(_run.RUN_SEED_ENV)
            if old[0] is not None:
                os.environ[_run.RUN_SEED_ENV] = old[0]
            if old[1] is not None:
                os.environ["PYTEST_CURRENT_TEST"] = old[1]
            _run._reset_for_tests()
        self.assertEqual(
            note,
            f"testdata_kit: fake values of tests.test_x.T.test_a came from TESTDATA_SEED=1234 "
            f"(test seed {_seeding.test_seed('tests.test_x.T.test_a', '1234'):016x}). "
            f"Same values again: TESTDATA_SEED=1234 python -m unittest tests.test_x.T.test_a",
        )

    def test_missing_mimesis_names_the_extra(self):
        code = (
            "import sys; sys.modules['mimesis'] = None\n"
            "from testdata_kit import fake\n"
            "try:\n    fake.current().person\n"
            "except ImportError as error:\n    print(error)\n"
        )
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
        self.assertEqual(
            done.stdout.strip(),
            "Fake values (testdata_kit.fake) needs the 'mimesis' package, which is not installed. "
            "Install it with: pip install 'testdata_kit[fake]'",
        )

    def test_unknown_fake_method_in_a_declaration(self):
        with self.assertRaises(fake.UnknownFakeMethodError) as caught:
            class UserFactory(DataFactory):
                class Meta:
                    abstract = True

                name = Fake("person.nam")

        self.assertRegex(
            str(caught.exception),
            r"^UserFactory\.name: Fake provider 'person' has no method 'nam'; did you mean 'person\.name'\? "
            r"Its methods: academic_degree, birthdate, .*, weight\.$",
        )

    def test_unknown_method_without_a_close_name(self):
        self.assertRegex(str(fake.UnknownFakeMethodError("person", "zzzz", ["name"])),
                         r"^Fake provider 'person' has no method 'zzzz'\. Its methods: name\.$")

    def test_unknown_time_zone(self):
        with self.assertRaises(fake.UnknownTimeZoneError) as caught:
            fake.FakeProviders(1).datetime.datetime(timezone="Europe/Berln")
        self.assertEqual(
            str(caught.exception),
            "Unknown time zone 'Europe/Berln'; did you mean 'Europe/Berlin' or 'Europe/Belfast'? Use an IANA name "
            "such as 'Europe/Berlin' or 'UTC'.",
        )

    def test_clock_dependent_warning(self):
        with self.assertWarns(fake.ClockDependentWarning) as caught:
            fake.FakeProviders(1).datetime.past_datetime()
        self.assertEqual(
            str(caught.warning),
            "datetime.past_datetime() is relative to the clock: the same seed gives another value on another day. "
            "Pass a fixed anchor such as now=datetime.datetime(2024, 1, 1, 12, 0) for a reproducible value.",
        )

    def test_birthdate_range(self):
        with self.assertRaises(ValueError) as caught:
            fake.FakeProviders(1).person.birthdate(min_year=2000, max_year=1990)
        self.assertEqual(str(caught.exception), "birthdate() needs 1900 <= min_year <= max_year, got 2000 and 1990.")

    def test_unknown_adversarial_category(self):
        from testdata_kit import adversarial

        with self.assertRaises(adversarial.UnknownCategoryError) as caught:
            fake.FakeProviders(1).adversarial.string("emojis")
        self.assertEqual(
            str(caught.exception),
            "Unknown adversarial category 'emojis'. Categories: bidi, combining, control, emoji, html, long, "
            "normalization, punctuation, shell, sql, turkish, whitespace, zero_width.",
        )

    def test_old_name_of_the_providers_class(self):
        with self.assertWarns(DeprecationWarning) as caught:
            old = fake.Fake
        self.assertIs(old, fake.FakeProviders)
        self.assertEqual(
            str(caught.warning),
            "testdata_kit.fake.Fake is now testdata_kit.fake.FakeProviders; the name Fake belongs to the factory "
            "field testdata_kit.factories.Fake.",
        )

    def test_lazy_reading_unknown_field(self):
        class Typo(DataFactory):
            class Meta:
                abstract = True

            a = Lazy(lambda o: o.nope)

        with self.assertRaisesRegex(AttributeError, r"^Typo has no field 'nope'$"):
            Typo.build()


if __name__ == "__main__":
    unittest.main()
