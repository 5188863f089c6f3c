"""Tests for testdata_kit.fake: per-test seeds that reproduce anywhere, safe contact values, locales, dates."""

import datetime
import json
import os
import subprocess
import sys
import unittest

from mimesis.enums import IPv4Purpose

from testdata_kit import DataTestCase, _run, _seeding, fake, safe, unique
from tests._support import run_cases

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def probe_class():
    """Return a TestCase class built here, so the loader does not collect it from this module."""

    class Probe(DataTestCase):
        seen = {}

        def draw(self):
            f = fake.current()
            Probe.seen[self.id()] = [f.person.full_name(), f.address.city(), f.person.email()]

        test_a = test_b = test_c = draw

    return Probe


class FixedSeedTestCase(unittest.TestCase):
    """Runs with ``TESTDATA_SEED=1234`` and restores the run identity afterwards."""

    def setUp(self):
        old = os.environ.get(_run.RUN_SEED_ENV)
        os.environ[_run.RUN_SEED_ENV] = "1234"
        _run._reset_for_tests()
        self.addCleanup(_run._reset_for_tests)
        if old is None:
            self.addCleanup(os.environ.pop, _run.RUN_SEED_ENV, None)
        else:
            self.addCleanup(os.environ.__setitem__, _run.RUN_SEED_ENV, old)


SUBPROCESS_DRAW = """
import json, unittest
from testdata_kit import fake
class Probe(unittest.TestCase):
    def test_a(self): pass
Probe.__module__, Probe.__qualname__ = "tests.probe", "Probe"
f = fake.for_test(Probe("test_a"))
print(json.dumps([f.person.full_name(), f.address.city(), f.person.email()]))
"""


def in_process_draw():
    class Probe(unittest.TestCase):
        def test_a(self):
            pass

    Probe.__module__, Probe.__qualname__ = "tests.probe", "Probe"
    f = fake.for_test(Probe("test_a"))
    return [f.person.full_name(), f.address.city(), f.person.email()]


class SeedTest(FixedSeedTestCase):
    def test_seed_is_sha256_of_run_seed_and_test_id(self):
        import hashlib

        expected = int.from_bytes(hashlib.sha256(b"1234:tests.x.T.test_y").digest()[:8], "big")
        self.assertEqual(_seeding.test_seed("tests.x.T.test_y"), expected)

    def test_values_do_not_depend_on_order_or_subset(self):
        probe = probe_class()
        run_cases(probe, names=["test_a", "test_b", "test_c"])
        forward = dict(probe.seen)
        probe.seen.clear()
        run_cases(probe, names=["test_c", "test_b", "test_a"])
        self.assertEqual(probe.seen, forward)
        probe.seen.clear()
        run_cases(probe, names=["test_b"])
        self.assertEqual(probe.seen, {k: v for k, v in forward.items() if k.endswith("test_b")})
        self.assertNotEqual(forward[probe("test_a").id()], forward[probe("test_b").id()])

    def test_values_match_across_processes_hash_seeds_and_workers(self):
        here = in_process_draw()
        outputs = []
        for hash_seed, worker in (("1", "gw0"), ("2", "gw7")):
            env = {**os.environ, "PYTHONHASHSEED": hash_seed, _run.WORKER_ENV: worker, _run.RUN_SEED_ENV: "1234"}
            done = subprocess.run(
                [sys.executable, "-c", SUBPROCESS_DRAW], env=env, cwd=ROOT, capture_output=True, text=True,
                check=True,
            )
            outputs.append(json.loads(done.stdout))
        self.assertEqual(outputs, [here, here])

    @unittest.skipUnless(hasattr(os, "fork"), "needs os.fork")
    def test_forked_child_draws_the_same_values(self):
        here = in_process_draw()
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through the pipe
            try:
                os.write(write_end, json.dumps(in_process_draw()).encode())
            finally:
                os._exit(0)
        os.close(write_end)
        with open(read_end, "rb") as pipe:
            child = json.loads(pipe.read())
        os.waitpid(pid, 0)
        self.assertEqual(child, here)

    def test_other_run_seed_gives_other_values(self):
        here = in_process_draw()
        os.environ[_run.RUN_SEED_ENV] = "999"
        _run._reset_for_tests()
        self.assertNotEqual(in_process_draw(), here)

    def test_providers_are_not_in_lockstep(self):
        f = fake.FakeProviders(42)
        self.assertNotEqual(f.person.random.getrandbits(64), f.address.random.getrandbits(64))

    def test_only_used_providers_are_reseeded(self):
        f = fake.FakeProviders(7)
        before = fake.generation
        f.person.full_name()
        f.person.full_name()
        self.assertEqual(fake.generation - before, 1)

    def test_interleaved_fakes_never_repeat_values(self):
        first, second = fake.FakeProviders(1), fake.FakeProviders(2)
        drawn = [first.person.full_name() + first.person.email()]
        second.person.full_name()
        drawn.append(first.person.full_name() + first.person.email())
        self.assertNotEqual(drawn[0], drawn[1])

    def test_module_helpers_use_the_running_test(self):
        seen = {}

        class Probe(DataTestCase):
            def test_a(self):
                seen["module"] = fake.person.full_name()
                seen["fake"] = fake.current() is fake.for_test(self)

        run_cases(Probe)
        mine = fake.FakeProviders(_seeding.test_seed(Probe("test_a").id())).person.full_name()
        self.assertEqual(seen, {"module": mine, "fake": True})

    def test_outside_tests_the_run_seed_is_used(self):
        self.assertEqual(fake.current().seed, _seeding.test_seed(""))

    def test_data_test_case_offers_self_fake(self):
        seen = {}

        class Probe(DataTestCase):
            def test_a(self):
                seen["same"] = self.fake is fake.for_test(self)

        result, _ = run_cases(Probe)
        self.assertEqual((result.errors, seen), ([], {"same": True}))


class SafeThroughProvidersTest(unittest.TestCase):
    # The bar: 100k draws of each kind (email, phone, card, IBAN, IP, host name) through the public
    # providers, 0 outside the safe sets. The main draw of each kind (for phones: in every locale) gets the full
    # 100k. The variants that go through the same safe wrapper (a custom domain, telephone(), URL forms, CIDRs)
    # get 10k each: all of them at 100k take about 23 s on a 2-core machine, too slow for a unit test module.
    DRAWS = 100_000
    VARIANT_DRAWS = 10_000

    def setUp(self):
        self.fake = fake.FakeProviders(2024)

    def assert_safe(self, draw, check, draws=DRAWS):
        escaped = [value for value in (draw() for _ in range(draws)) if not check(value)]
        self.assertEqual(escaped[:5], [])

    def test_emails(self):
        self.assert_safe(self.fake.person.email, safe.is_safe_email)
        self.assert_safe(lambda: self.fake.person.email(domains=["shop.test"]), safe.is_safe_email,
                         self.VARIANT_DRAWS)

    def test_phones_in_every_locale(self):
        for locale in ("en", "en-gb", "en-au", "en-ca", "de", "ja", "ru"):
            with self.subTest(locale=locale):
                person = self.fake.in_locale(locale).person
                self.assert_safe(person.phone_number, safe.is_safe_phone)
                self.assert_safe(person.telephone, safe.is_safe_phone, self.VARIANT_DRAWS)

    def test_card_numbers(self):
        self.assert_safe(self.fake.payment.credit_card_number, safe.is_test_pan)
        self.assert_safe(lambda: self.fake.payment.credit_card_owner()["credit_card"], safe.is_test_pan,
                         self.VARIANT_DRAWS)

    def test_ibans(self):
        self.assert_safe(self.fake.finance.iban, safe.is_safe_iban)
        self.assert_safe(lambda: self.fake.finance.iban(valid_check=False), safe.is_safe_iban, self.VARIANT_DRAWS)

    def test_ip_addresses_and_networks(self):
        internet = self.fake.internet
        self.assert_safe(internet.ip_v4, safe.is_safe_ip)
        self.assert_safe(internet.ip_v6, safe.is_safe_ip)
        for draw in (internet.public_dns, internet.special_ip_v4, lambda: internet.ip_v4_with_port().rsplit(":", 1)[0]):
            self.assert_safe(draw, safe.is_safe_ip, self.VARIANT_DRAWS)
        for draw in (internet.ip_v4_cidr, internet.ip_v6_cidr):
            self.assert_safe(draw, lambda net: safe.is_safe_ip(net.split("/")[0]) and int(net.split("/")[1]) >= 24,
                             self.VARIANT_DRAWS)

    def test_hosts_in_urls_and_headers(self):
        from urllib.parse import urlsplit

        internet = self.fake.internet
        self.assert_safe(internet.hostname, safe.is_safe_hostname)
        self.assert_safe(lambda: urlsplit(internet.url()).hostname, safe.is_safe_hostname, self.VARIANT_DRAWS)
        self.assert_safe(lambda: urlsplit(internet.uri()).hostname, safe.is_safe_hostname, self.VARIANT_DRAWS)
        self.assert_safe(lambda: urlsplit(internet.dsn()).hostname, safe.is_safe_hostname, self.VARIANT_DRAWS)
        self.assert_safe(lambda: internet.http_request_headers()["Host"], safe.is_safe_hostname, self.VARIANT_DRAWS)

    def test_unsafe_requests_are_refused(self):
        with self.assertRaises(safe.UnsafeValueError):
            self.fake.person.email(domains=[])
        with self.assertRaises(safe.UnsafeValueError):
            self.fake.person.email(domains=["gmail.com"])
        with self.assertRaises(safe.UnsafeValueError):
            self.fake.person.phone_number(mask="+1-###-###-####")
        with self.assertRaises(safe.UnsafeValueError):
            self.fake.internet.special_ip_v4(IPv4Purpose.LOOBACK)

    def test_unique_email_is_an_identity_value_not_seeded(self):
        again = fake.FakeProviders(2024)
        one, two = self.fake.person.email(unique=True), again.person.email(unique=True)
        self.assertNotEqual(one, two)
        self.assertTrue(unique.is_test_value(one))
        self.assertTrue(safe.is_safe_email(one))


class LocaleAndDateTest(unittest.TestCase):
    def test_non_ascii_locales(self):
        for locale in ("ja", "ru", "zh", "el"):
            with self.subTest(locale=locale):
                name = fake.FakeProviders(5, locale).person.full_name()
                self.assertFalse(name.isascii(), name)

    def test_full_names_are_gender_consistent(self):
        person = fake.FakeProviders(3, "ru").person
        names = {g: set(person._extract(["names", g])) for g in ("male", "female")}
        surnames = {g: set(person._extract(["surnames", g])) for g in ("male", "female")}
        for _ in range(2000):
            first, last = person.full_name().split(" ", 1)
            genders = {g for g in names if first in names[g] and last in surnames[g]}
            self.assertTrue(genders, f"{first} {last} mixes genders")

    def test_default_locale_comes_from_the_environment(self):
        os.environ[fake.LOCALE_ENV] = "de"
        self.addCleanup(os.environ.pop, fake.LOCALE_ENV)
        # The variable is read once per process, like TESTDATA_SEED; forget the value read so far.
        fake._default_locale.cache_clear()
        self.addCleanup(fake._default_locale.cache_clear)
        self.assertEqual(fake.current().locale, "de")

    def test_dates_come_from_fixed_ranges(self):
        f = fake.FakeProviders(11)
        for _ in range(2000):
            self.assertLessEqual(f.datetime.date().year, fake.DATE_END)
            self.assertLessEqual(f.datetime.datetime().year, fake.DATE_END)
            self.assertLessEqual(f.datetime.year(), fake.DATE_END)
            born = f.person.birthdate()
            self.assertTrue(fake.BIRTH_YEARS[0] <= born.year <= fake.BIRTH_YEARS[1], born)
            self.assertLessEqual(int(f.internet.uri().split("/")[3]), fake.DATE_END)
        self.assertIsInstance(f.datetime.date(), datetime.date)


class FailureNoteTest(FixedSeedTestCase):
    def test_note_names_seed_and_unittest_command(self):
        class Probe(DataTestCase):
            def test_a(self):
                fake.current().person.full_name()
                self.fail("boom")

        Probe.__qualname__ = "Probe"
        probe = Probe("test_a")
        result = unittest.TestResult()
        probe.run(_seeding.reporting_result(result, probe))
        text = result.failures[0][1]
        self.assertIn(f"TESTDATA_SEED=1234 python -m unittest {probe.id()}", text)
        self.assertEqual(text.count("testdata_kit: fake values of"), 1)

    def test_no_note_for_tests_without_fake_values(self):
        class Probe(DataTestCase):
            def test_a(self):
                self.fail("boom")

        probe = Probe("test_a")
        result = unittest.TestResult()
        probe.run(_seeding.reporting_result(result, probe))
        self.assertNotIn("TESTDATA_SEED", result.failures[0][1])
        self.assertIsNone(_seeding.failure_note(probe))


PROBE_MODULE = """
from testdata_kit import DataTestCase

class T(DataTestCase):
    def test_x(self):
        self.fake.person.full_name()
        self.assertEqual(1, 2)
"""


class FailureReportEndToEndTest(unittest.TestCase):
    """Needs DataTestCase to wrap its result with ``_seeding.reporting_result`` and offer ``self.fake``."""

    def run_probe(self, *command):
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, "test_seedprobe.py"), "w") as handle:
                handle.write(PROBE_MODULE)
            env = {**os.environ, _run.RUN_SEED_ENV: "1234", "PYTHONPATH": ROOT}
            done = subprocess.run(
                [sys.executable, *command], cwd=folder, env=env, capture_output=True, text=True, timeout=60
            )
        return done.stdout + done.stderr

    def test_unittest_report_shows_the_reproducing_command(self):
        output = self.run_probe("-m", "unittest", "test_seedprobe")
        self.assertIn("TESTDATA_SEED=1234 python -m unittest test_seedprobe.T.test_x", output)

    def test_pytest_report_shows_the_reproducing_command(self):
        output = self.run_probe("-m", "pytest", "-q", "-p", "no:cacheprovider", "test_seedprobe.py")
        self.assertIn("TESTDATA_SEED=1234 python -m pytest test_seedprobe.py::T::test_x", output)


if __name__ == "__main__":
    unittest.main()
