"""Tests for testdata_kit.safe: every generator stays inside its safe set, and the checks reject real values."""

import random
import unittest

from testdata_kit import safe

DRAWS = 100_000


class SafeGeneratorsTest(unittest.TestCase):
    def setUp(self):
        self.rng = random.Random(20240611)

    def assert_all_safe(self, draw, check):
        escaped = [value for value in (draw() for _ in range(DRAWS)) if not check(value)]
        self.assertEqual(escaped[:5], [])

    def test_emails_are_on_reserved_domains(self):
        self.assert_all_safe(lambda: safe.email(self.rng, "ada"), safe.is_safe_email)

    def test_phones_of_every_country_are_fictional(self):
        for country in (*safe.FICTIONAL_PHONE_COUNTRIES, "DE", "JP"):
            with self.subTest(country=country):
                self.assert_all_safe(lambda c=country: safe.phone(self.rng, c), safe.is_safe_phone)

    def test_card_numbers_are_test_pans(self):
        self.assert_all_safe(lambda: safe.card_number(self.rng), safe.is_test_pan)

    def test_ibans_are_examples_or_fail_mod97(self):
        self.assert_all_safe(lambda: safe.iban(self.rng), lambda v: v in safe.EXAMPLE_IBANS)
        self.assert_all_safe(
            lambda: safe.iban(self.rng, valid_check=False), lambda v: not safe.iban_check_is_valid(v)
        )

    def test_ips_are_in_documentation_networks(self):
        self.assert_all_safe(lambda: safe.ipv4(self.rng), safe.is_safe_ip)
        self.assert_all_safe(lambda: safe.ipv6(self.rng), safe.is_safe_ip)

    def test_hostnames_are_under_reserved_tlds(self):
        self.assert_all_safe(lambda: safe.hostname(self.rng, "Shop"), safe.is_safe_hostname)

    def test_e164_phone_has_no_separators(self):
        self.assertRegex(safe.phone(self.rng, "GB", e164=True), r"^\+447700900\d{3}$")

    def test_examples_and_test_pans_are_valid_so_apis_accept_them(self):
        for value in safe.EXAMPLE_IBANS:
            self.assertTrue(safe.iban_check_is_valid(value), value)
        for pan in (p for pans in safe.TEST_PANS.values() for p in pans):
            digits = [int(c) for c in reversed(pan)]
            total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
            self.assertEqual(total % 10, 0, f"{pan} fails Luhn")


class SafeChecksTest(unittest.TestCase):
    def test_real_looking_values_are_rejected(self):
        self.assertFalse(safe.is_safe_email("someone@gmail.com"))
        self.assertFalse(safe.is_safe_email("@example.com"))
        self.assertFalse(safe.is_safe_email("a@notexample.com"))
        self.assertTrue(safe.is_safe_email("a@shop.example"))
        self.assertFalse(safe.is_safe_phone("+1 212 555 1234"))
        self.assertFalse(safe.is_safe_phone("+44 7700 901000"))
        self.assertFalse(safe.is_safe_phone("+61 491 570 000"))
        self.assertFalse(safe.is_test_pan("4455 5299 1152 2450"))
        self.assertTrue(safe.is_test_pan("4242-4242-4242-4242"))
        self.assertFalse(safe.is_safe_ip("8.8.8.8"))
        self.assertFalse(safe.is_safe_ip("2001:db9::1"))
        self.assertFalse(safe.is_safe_ip("not an ip"))
        self.assertFalse(safe.is_safe_iban("GB82WEST12345698765432"))  # valid check, not a published example
        self.assertFalse(safe.is_safe_hostname("example.com.evil.org"))

    def test_unreserved_domain_is_refused_not_replaced(self):
        with self.assertRaises(safe.UnsafeValueError):
            safe.email(random.Random(1), "ada", ["gmail.com"])
        with self.assertRaises(safe.UnsafeValueError):
            safe.email(random.Random(1), "ada", [])

    def test_unknown_card_brand_lists_brands(self):
        with self.assertRaisesRegex(safe.UnsafeValueError, "amex"):
            safe.card_number(random.Random(1), "diners")


if __name__ == "__main__":
    unittest.main()


class ReservedDomainRuleTest(unittest.TestCase):
    """unique.email and safe.is_safe_email apply one rule: RFC 2606 names and everything under them (RFC 6761)."""

    CASES = {
        "example.com": True, "mail.example.com": True, "a.b.Example.ORG": True, "example.net.": True,
        "shop.test": True, "x.invalid": True, "host.localhost": True, "docs.example": True,
        "gmail.com": False, "example.co": False, "notexample.com": False, "example.com.evil.org": False,
        "test.com": False, "mytest": False,
    }

    def test_unique_and_safe_agree_on_every_domain(self):
        from testdata_kit import unique

        for domain, reserved in self.CASES.items():
            with self.subTest(domain=domain):
                self.assertEqual(unique.is_reserved_domain(domain), reserved)
                self.assertEqual(safe.is_safe_email(f"a@{domain}"), reserved)
                if reserved:
                    self.assertTrue(safe.is_safe_email(unique.email(domain)))
                else:
                    with self.assertRaises(ValueError):
                        unique.email(domain)
