"""Tests for adversarial values: the catalogue, the seeded provider, the factory trait, and that they stay safe."""

import random
import unicodedata
import unittest

from testdata_kit import DataTestCase, adversarial, fake, safe
from testdata_kit.factories import Adversarial, DataFactory, Fake, Unique
from tests._support import problems, run_cases


class CatalogueTest(unittest.TestCase):
    def test_every_category_the_issue_names_is_there(self):
        text = "".join(adversarial.values())
        for char, what in (("\u202e", "bidi override"), ("\u2067", "bidi isolate"), ("\u200b", "zero width"),
                           ("\u0301", "combining"), ("\u200d", "ZWJ"), ("\U0001f3fd", "skin tone"),
                           ("\u0130", "dotted I"), ("\u0131", "dotless i"), ("\x00", "NUL"), ("'", "apostrophe"),
                           ("<script>", "HTML"), ("DROP TABLE", "SQL"), ("$(", "shell")):
            with self.subTest(what):
                self.assertIn(char, text)
        self.assertTrue(any(len(v) > 65_536 for v in adversarial.values("long")))
        self.assertTrue(any(v != v.strip() for v in adversarial.values("whitespace")))
        self.assertTrue(any("-" in v for v in adversarial.NAMES))

    def test_normalization_pairs_look_alike_but_differ(self):
        rng = random.Random(3)
        for _ in range(50):
            composed, other = adversarial.pair(rng)
            self.assertNotEqual(composed, other)
            self.assertEqual(unicodedata.normalize("NFKC", composed), unicodedata.normalize("NFKC", other))

    def test_emails_are_on_reserved_domains(self):
        unsafe = [email for email in adversarial.EMAILS if not safe.is_safe_email(email)]
        self.assertEqual(unsafe, [])

    def test_shell_values_only_echo(self):
        for value in adversarial.values("shell"):
            for danger in ("rm ", "curl", "wget", "sudo", "> /", "mkfs"):
                self.assertNotIn(danger, value)

    def test_unknown_category(self):
        with self.assertRaises(adversarial.UnknownCategoryError) as caught:
            adversarial.values("emojis")
        self.assertIn("emoji", caught.exception.known)


class ProviderTest(unittest.TestCase):
    def test_seeded_like_every_fake_value(self):
        first, again = fake.FakeProviders(5), fake.FakeProviders(5)
        drawn = [first.adversarial.name(), first.adversarial.text(), first.adversarial.email()]
        self.assertEqual(drawn, [again.adversarial.name(), again.adversarial.text(), again.adversarial.email()])

    def test_a_category_and_the_whole_list(self):
        f = fake.FakeProviders(6)
        self.assertIn(f.adversarial.string("turkish"), adversarial.CATEGORIES["turkish"])
        self.assertEqual(f.adversarial.values("sql"), list(adversarial.CATEGORIES["sql"]))

    def test_self_fake_adversarial_in_a_test(self):
        seen = {}

        class Probe(DataTestCase):
            def test_a(self):
                for value in self.fake.adversarial.values("bidi"):
                    with self.subTest(value=value):
                        seen.setdefault("values", []).append(value)

        result, _ = run_cases(Probe)
        self.assertEqual(problems(result), [])
        self.assertEqual(len(seen["values"]), len(adversarial.CATEGORIES["bidi"]))


class User(DataFactory):
    class Meta:
        abstract = True

    name = Fake("person.full_name")
    email = Fake("person.email")
    login = Unique()
    bio = Fake("text.sentence")
    born = Fake("person.birthdate")
    role = "member"
    hostile = Adversarial()
    rtl = Adversarial(bio="bidi", role="x\u202e")


class TraitTest(unittest.TestCase):
    def test_text_fields_become_adversarial(self):
        user = User.build(hostile=True)
        self.assertIn(user["name"], adversarial.NAMES)
        self.assertIn(user["email"], adversarial.EMAILS)
        self.assertIn(user["bio"], adversarial.values())

    def test_other_fields_keep_realistic_values(self):
        import datetime

        user = User.build(hostile=True)
        self.assertIsInstance(user["born"], datetime.date)
        self.assertEqual(user["role"], "member")
        self.assertNotIn(user["login"], adversarial.values())

    def test_explicit_categories_and_constants(self):
        user = User.build(rtl=True)
        self.assertIn(user["bio"], adversarial.CATEGORIES["bidi"])
        self.assertEqual(user["role"], "x\u202e")
        self.assertIn(user["name"], adversarial.NAMES)

    def test_without_the_flag_values_are_realistic(self):
        self.assertNotIn(User.build()["name"], adversarial.NAMES)

    def test_a_subclass_gets_its_own_fields_swapped(self):
        class Admin(User):
            class Meta:
                abstract = True

            nickname = Fake("person.first_name")

        self.assertIn(Admin.build(hostile=True)["nickname"], adversarial.NAMES)

    def test_unique_emails_stay_unique(self):
        class Account(DataFactory):
            class Meta:
                abstract = True

            email = Fake("person.email", unique=True)
            hostile = Adversarial()

        emails = [Account.build(hostile=True)["email"] for _ in range(3)]
        self.assertEqual(len(set(emails)), 3)


if __name__ == "__main__":
    unittest.main()
