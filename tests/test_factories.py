"""Tests for testdata_kit.factories: field kinds, composition, create with tracked cleanup, and lint."""

import json
import os
import subprocess
import sys
import unittest

from testdata_kit import DataTestCase, NoScopeError, Registry, _run, creates, unique
from testdata_kit.factories import (
    DataFactory,
    FactoryCycleError,
    Fake,
    Lazy,
    Sequence,
    SubFactory,
    Trait,
    Transient,
    Unique,
    UnknownFieldError,
    lint,
    registered,
)
from tests._support import problems, run_cases


class Company(DataFactory):
    name = Fake("finance.company")
    country = "NL"


class User(DataFactory):
    email = Unique(unique.email)
    first = Fake("person.first_name")
    last = Fake("person.last_name")
    full = Lazy(lambda u: f"{u.first} {u.last}")
    role = "member"
    tags = []
    handle = Sequence(lambda n: f"user-{n}")
    company = SubFactory(Company)
    admin = Trait(role="admin", tags=["staff"])
    shout = Transient(False)
    greeting = Lazy(lambda u: "HELLO" if u.shout else "hello")


class BuildTest(unittest.TestCase):
    def test_constants_and_derived_fields(self):
        user = User.build()
        self.assertEqual(user["role"], "member")
        self.assertEqual(user["full"], f"{user['first']} {user['last']}")
        self.assertEqual(user["company"]["country"], "NL")

    def test_values_are_fresh_on_every_build(self):
        first, second = User.build_batch(2)
        self.assertNotEqual(first["email"], second["email"])
        self.assertNotEqual(first["handle"], second["handle"])
        first["tags"].append("mutated")
        self.assertEqual(User.build()["tags"], [])

    def test_unique_fields_carry_a_marker(self):
        self.assertTrue(unique.is_test_value(User.build()["email"]))

    def test_sequences_are_namespaced_per_run_and_worker(self):
        handle = User.build()["handle"]
        self.assertIn(f"-{_run.run_id()}-{_run.worker_token()}-", handle)

    def test_sequence_number_still_does_arithmetic(self):
        class Numbered(DataFactory):
            class Meta:
                abstract = True

            padded = Sequence(lambda n: f"{n:03d}")
            double = Sequence(lambda n: n * 2)

        self.assertEqual([Numbered.build() for _ in range(2)], [{"padded": "000", "double": 0},
                                                                 {"padded": "001", "double": 2}])

    def test_numbers_are_per_process_and_only_the_text_is_namespaced_per_worker(self):
        # Two parallel workers of one run, as pytest-xdist starts them: same run id, their own worker names.
        code = ("import json; from testdata_kit.factories import DataFactory, Sequence\n"
                "class Item(DataFactory):\n"
                "    sku = Sequence(lambda n: f'sku-{n}')\n"
                "    rank = Sequence(lambda n: n * 2)\n"
                "print(json.dumps(Item.build_batch(3)))")
        builds = []
        for worker in ("gw0", "gw1"):
            env = {**os.environ, "TESTDATA_RUN_ID": "seqrun", "TESTDATA_WORKER": worker}
            done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                  timeout=60, check=False)
            self.assertEqual(done.returncode, 0, done.stderr)
            builds.append(json.loads(done.stdout))
        skus = [[item["sku"] for item in build] for build in builds]
        self.assertFalse(set(skus[0]) & set(skus[1]), skus)
        self.assertTrue(all(sku.startswith("sku-seqrun-gw") for sku in skus[0] + skus[1]), skus)
        # The numbers collide across workers, as Sequence's docstring warns.
        self.assertEqual([[item["rank"] for item in build] for build in builds], [[0, 2, 4], [0, 2, 4]])

    def test_docstring_warns_that_numbers_collide_across_workers(self):
        text = " ".join(Sequence.__doc__.split())
        self.assertIn("Only the text form of ``n`` is unique across parallel workers and runs.", text)
        self.assertIn("``Sequence(lambda n: n * 2)`` gives 0, 2, 4, ... in each worker", text)
        self.assertIn("a field that must be unique (a key, an email, a UNIQUE column) takes the text form", text)

    def test_overrides_traits_transients_and_nested_overrides(self):
        user = User.build(first="Ada", admin=True, shout=True, company__name="ACME")
        self.assertEqual(user["full"][:4], "Ada ")
        self.assertEqual((user["role"], user["tags"]), ("admin", ["staff"]))
        self.assertEqual(user["greeting"], "HELLO")
        self.assertEqual(user["company"]["name"], "ACME")
        self.assertNotIn("shout", user)
        self.assertNotIn("admin", user)

    def test_explicit_override_beats_trait(self):
        self.assertEqual(User.build(admin=True, role="owner")["role"], "owner")

    def test_unknown_override_lists_known_fields(self):
        with self.assertRaises(UnknownFieldError) as caught:
            User.build(nmae="x")
        self.assertEqual(caught.exception.name, "nmae")
        self.assertIn("full", caught.exception.known)

    def test_cycle_between_lazy_fields_is_reported(self):
        class Loop(DataFactory):
            class Meta:
                abstract = True

            a = Lazy(lambda o: o.b)
            b = Lazy(lambda o: o.a)

        with self.assertRaises(FactoryCycleError):
            Loop.build()

    def test_fake_fields_are_seeded_per_test(self):
        drawn = {}

        class Probe(DataTestCase):
            def test_a(self):
                drawn.setdefault("a", []).append(User.build()["full"])

        run_cases(Probe)
        run_cases(Probe)
        self.assertEqual(drawn["a"][0], drawn["a"][1])


class CreateTest(unittest.TestCase):
    def test_create_tracks_children_and_deletes_them_first(self):
        log = []
        registry = Registry()

        @creates("company", registry=registry, delete=lambda c: log.append(("delete", "company")))
        def company(**payload):
            log.append(("create", "company"))
            return {"id": 7, **payload}

        @creates("member", registry=registry, delete=lambda m: log.append(("delete", "member")))
        def member(**payload):
            log.append(("create", "member"))
            return {"id": 9, **payload}

        class CompanyF(DataFactory):
            class Meta:
                creates = company

            name = "ACME"

        class MemberF(DataFactory):
            class Meta:
                creates = member

            company_id = SubFactory(CompanyF, pick="id")

        seen = {}

        class Probe(DataTestCase):
            def test_a(self):
                seen["member"] = MemberF.create()

        result, _ = run_cases(Probe)
        self.assertEqual(problems(result), [])
        self.assertEqual(seen["member"], {"id": 9, "company_id": 7})
        self.assertEqual(log, [("create", "company"), ("create", "member"),
                               ("delete", "member"), ("delete", "company")])

    def test_calling_the_factory_creates_like_factory_boy_and_build_only_builds(self):
        log = []
        registry = Registry()

        @creates("pet", registry=registry, delete=lambda p: log.append(("delete", p["name"])))
        def pet(**payload):
            log.append(("create", payload["name"]))
            return {"id": len(log), **payload}

        class PetF(DataFactory):
            class Meta:
                creates = pet
                abstract = True

            name = "Rex"

        seen = {}

        class Probe(DataTestCase):
            def test_a(self):
                seen["built"] = PetF.build(name="Built")
                seen["called"] = PetF(name="Called")
                seen["log"] = list(log)

        result, books = run_cases(Probe)
        self.assertEqual(problems(result), [])
        self.assertEqual(seen["built"], {"name": "Built"})
        self.assertEqual(seen["called"], {"id": 1, "name": "Called"})
        self.assertEqual(seen["log"], [("create", "Called")], "build() creates nothing")
        self.assertEqual(log[-1], ("delete", "Called"))
        self.assertEqual((books.created, books.deleted), (1, 1))

    def test_calling_the_factory_outside_a_test_explains_and_creates_nothing(self):
        log = []
        registry = Registry()

        @creates("toy", registry=registry, delete=lambda t: None)
        def toy(**payload):
            log.append(payload)
            return payload

        class ToyF(DataFactory):
            class Meta:
                creates = toy
                abstract = True

            name = "Ball"

        with self.assertRaises(NoScopeError) as caught:
            ToyF()
        self.assertEqual(log, [])
        self.assertEqual(
            str(caught.exception),
            "ToyF() creates, as factory_boy's default strategy does, but no test is running, so nothing would "
            "delete it. Call ToyF() inside a test, setUpClass or pytest fixture; call ToyF.build() for a payload "
            "only; or pass a scope: ToyF(scope='module') (or 'run').",
        )

    def test_create_through_a_collection(self):
        class Collection:
            def __init__(self):
                self.created = []

            def create(self, **payload):
                self.created.append(payload)
                return {"id": len(self.created), **payload}

        users = Collection()

        class Named(DataFactory):
            class Meta:
                collection = users
                abstract = True

            name = "Ada"

        self.assertEqual(Named.create(), {"id": 1, "name": "Ada"})
        self.assertEqual(users.created, [{"name": "Ada"}])

    def test_create_without_target_explains(self):
        with self.assertRaisesRegex(TypeError, "Meta.creates"):
            User.create()


class DeclarationCheckTest(unittest.TestCase):
    """A Fake field is checked when its factory class is defined, not when a test first builds it."""

    def test_unknown_method_fails_at_class_definition(self):
        from testdata_kit import fake

        with self.assertRaises(fake.UnknownFakeMethodError) as caught:
            class Typo(DataFactory):
                class Meta:
                    abstract = True

                name = Fake("person.nam")

        self.assertIn("did you mean 'person.name'", str(caught.exception))
        self.assertTrue(str(caught.exception).startswith("Typo.name: "))
        self.assertIsInstance(caught.exception, AttributeError)

    def test_unknown_provider_fails_at_class_definition(self):
        from testdata_kit import fake

        with self.assertRaises(fake.UnknownProviderError) as caught:
            class Typo(DataFactory):
                class Meta:
                    abstract = True

                name = Fake("persn.name")

        self.assertIn("did you mean 'person'", str(caught.exception))

    def test_fields_inside_traits_and_arguments_are_checked_too(self):
        from testdata_kit import fake

        with self.assertRaises(fake.UnknownFakeMethodError) as caught:
            class InTrait(DataFactory):
                class Meta:
                    abstract = True

                name = "x"
                fancy = Trait(name=Fake("person.full_nam"))

        self.assertTrue(str(caught.exception).startswith("InTrait.name in fancy=True: "), caught.exception)
        with self.assertRaisesRegex(TypeError, "Fake\\('person.full_name'\\) does not accept \\['gendre'\\]"):
            class BadArgument(DataFactory):
                class Meta:
                    abstract = True

                name = Fake("person.full_name", gendre="x")

    def test_no_fake_module_import_for_factories_without_fake_fields(self):
        import subprocess
        import sys

        code = ("import sys\nfrom testdata_kit.factories import DataFactory, Unique\n"
                "class Plain(DataFactory):\n    key = Unique()\n"
                "Plain.build()\nprint('mimesis' in sys.modules, 'testdata_kit.fake' in sys.modules)")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
        self.assertEqual(done.stdout.split(), ["False", "False"])


class LintTest(unittest.TestCase):
    def test_lint_reports_failing_factory_and_trait(self):
        class Fragile(DataFactory):
            class Meta:
                abstract = True

            value = 1
            broken = Trait(value=Lazy(lambda o: 1 / 0))

        failures = lint([User, Fragile])
        self.assertEqual([(f.factory, f.trait) for f in failures], [(Fragile, "broken")])
        self.assertIn("Fragile with broken=True: ZeroDivisionError", str(failures[0]))

    def test_registered_skips_abstract_factories(self):
        self.assertIn(User, registered())
        self.assertFalse(any(f.__name__ == "Numbered" for f in registered()))


if __name__ == "__main__":
    unittest.main()
