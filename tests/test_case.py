"""Tests for DataTestCase scopes and the uses() injection decorator."""

from __future__ import annotations

import unittest

from testdata_kit import DataTestCase, LeakError, Registry, create, creates, uses
from testdata_kit.errors import NoScopeError
from tests._support import problems, run_cases
from tests.test_resources import make_kinds


class ClassScopeTests(unittest.TestCase):
    def test_cls_create_in_setupclass_lives_for_the_class_and_is_deleted_after_it(self):
        log: list[str] = []
        kinds, f = make_kinds(log)

        class Inner(DataTestCase):
            registry = kinds

            @classmethod
            def setUpClass(cls):
                super().setUpClass()
                cls.tenant = cls.create("user", name="reference")
                cls.catalog = f["product"]()  # a factory call inside setUpClass belongs to the class

            def test_one(self):
                log.append(f"test_one sees {self.tenant['id']}")

            def test_two(self):
                f["user"]()

        result, books = run_cases(Inner)
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual(
            log,
            ["create user 1", "create product 2", "test_one sees 1", "create user 3", "delete user 3",
             "delete product 2", "delete user 1"],
        )
        self.assertEqual(books.deleted, 3)

    def test_class_cleanups_interleave_with_the_users_own_addclasscleanup(self):
        log: list[str] = []
        _kinds, f = make_kinds(log)

        class Inner(DataTestCase):
            @classmethod
            def setUpClass(cls):
                cls.addClassCleanup(log.append, "own class cleanup 1")
                f["user"]()
                cls.addClassCleanup(log.append, "own class cleanup 2")

            def test_it(self):
                pass

        run_cases(Inner)
        self.assertEqual(log[1:], ["own class cleanup 2", "delete user 1", "own class cleanup 1"])

    def test_class_cleanup_runs_when_setupclass_fails_after_creating(self):
        log: list[str] = []
        _kinds, f = make_kinds(log)

        class Inner(DataTestCase):
            @classmethod
            def setUpClass(cls):
                f["user"]()
                raise RuntimeError("setUpClass broke")

            def test_it(self):
                log.append("never runs")

        result, _ = run_cases(Inner)
        self.assertEqual(len(result.errors), 1)
        self.assertEqual(log, ["create user 1", "delete user 1"])


class ModuleScopeTests(unittest.TestCase):
    def test_module_scope_is_torn_down_after_the_last_class_of_the_module(self):
        log: list[str] = []
        _kinds, f = make_kinds(log)

        class First(DataTestCase):
            def test_it(self):
                create(f["user"], scope="module", name="shared")
                log.append("first done")

        class Second(DataTestCase):
            def test_it(self):
                log.append("second done")

        result, books = run_cases(First, Second)
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual(log, ["create user 1", "first done", "second done", "delete user 1"])
        self.assertEqual(books.leaked, 0)

    def test_in_scope_creates_with_an_explicit_scope(self):
        log: list[str] = []
        _kinds, f = make_kinds(log)

        class Inner(DataTestCase):
            def test_it(self):
                f["product"].in_scope("module")(price=99)
                log.append("test done")

        run_cases(Inner)
        self.assertEqual(log, ["create product 1", "test done", "delete product 1"])

    def test_unknown_scope_names_the_choices(self):
        with self.assertRaisesRegex(ValueError, r"Unknown scope 'session'.*'test', 'class', 'module', 'run'"):
            create(creates("x", registry=Registry())(lambda: (yield 1)), scope="session")


class UsesTests(unittest.TestCase):
    def test_injects_created_resources_as_keyword_arguments(self):
        log: list[str] = []
        kinds, f = make_kinds(log)
        seen = {}

        class Inner(DataTestCase):
            registry = kinds

            @uses("user", item=lambda: f["product"](price=25))
            def test_it(self, user, item):
                seen.update(user=user, item=item)

        result, _ = run_cases(Inner)
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual(seen["item"]["price"], 25)
        self.assertEqual(log, ["create user 1", "create product 2", "delete product 2", "delete user 1"])

    def test_works_on_a_plain_testcase_too(self):
        log: list[str] = []
        _, f = make_kinds(log)

        class Inner(unittest.TestCase):
            @uses(buyer=f["user"])
            def test_it(self, buyer):
                log.append(f"got {buyer['id']}")

        result, _ = run_cases(Inner)
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual(log, ["create user 1", "got 1", "delete user 1"])

    def test_skipped_test_creates_nothing_in_either_decorator_order(self):
        log: list[str] = []
        _, f = make_kinds(log)

        class Inner(DataTestCase):
            @unittest.skip("not today")
            @uses(user=f["user"])
            def test_skip_outer(self, user):
                pass

            @uses(user=f["user"])
            @unittest.skip("not today")
            def test_skip_inner(self, user):
                pass

        result, _ = run_cases(Inner)
        self.assertEqual(len(result.skipped), 2)
        self.assertEqual(log, [])

    def test_expected_failure_still_works(self):
        log: list[str] = []
        _, f = make_kinds(log)

        class Inner(DataTestCase):
            @uses(user=f["user"])
            @unittest.expectedFailure
            def test_it(self, user):
                self.assertEqual(user["id"], -1)

        result, _ = run_cases(Inner)
        self.assertEqual(len(result.expectedFailures), 1)
        self.assertTrue(result.wasSuccessful())
        self.assertEqual(log, ["create user 1", "delete user 1"])

    def test_class_decorator_wraps_every_test_method_with_fresh_resources(self):
        log: list[str] = []
        _, f = make_kinds(log)
        ids = []

        @uses(user=f["user"])
        class Inner(DataTestCase):
            def test_a(self, user):
                ids.append(user["id"])

            def test_b(self, user):
                ids.append(user["id"])

            def helper(self):
                return "not wrapped"

        result, _ = run_cases(Inner)
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual(sorted(ids), [1, 2])
        self.assertEqual(Inner("test_a").helper(), "not wrapped")
        self.assertEqual(log.count("delete user 1") + log.count("delete user 2"), 2)

    def test_wraps_preserves_name_and_docstring(self):
        @uses("user")
        def test_documented(self, user):
            """Docstring kept."""

        self.assertEqual(test_documented.__name__, "test_documented")
        self.assertEqual(test_documented.__doc__, "Docstring kept.")

    def test_async_test_methods_get_their_resources(self):
        log: list[str] = []
        _, f = make_kinds(log)

        class Inner(unittest.IsolatedAsyncioTestCase):
            @uses(user=f["user"])
            async def test_it(self, user):
                log.append(f"async got {user['id']}")

        result, _ = run_cases(Inner)
        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual(log, ["create user 1", "async got 1", "delete user 1"])


class AssertNoLeaksTests(unittest.TestCase):
    def test_lists_the_leaked_resources(self):
        kinds = Registry()

        @creates("fragile", registry=kinds, delete=lambda body: 1 / 0)
        def fragile():
            return {"id": 3}

        caught: list[BaseException] = []

        class Inner(DataTestCase):
            def test_leaks(self):
                fragile()

            def test_zcheck(self):
                try:
                    self.assertNoLeaks()
                except LeakError as error:
                    caught.append(error)
                    raise

        result, _ = run_cases(Inner)
        self.assertEqual(len(result.failures), 1)
        self.assertIn("1 resource(s) leaked", str(caught[0]))
        self.assertIn("<Resource fragile id=3 test=test_leaks>", str(caught[0]))
        self.assertIn("ZeroDivisionError", str(caught[0]))

    def test_passes_when_nothing_leaked(self):
        class Inner(DataTestCase):
            def test_it(self):
                self.assertNoLeaks()

        result, _ = run_cases(Inner)
        self.assertTrue(result.wasSuccessful(), problems(result))


class ContextTests(unittest.TestCase):
    def test_no_current_test_after_the_inner_suite_finished(self):
        log: list[str] = []
        _, f = make_kinds(log)

        class Inner(DataTestCase):
            def test_it(self):
                f["user"]()

        run_cases(Inner)
        with self.assertRaises(NoScopeError):
            f["user"]()


if __name__ == "__main__":
    unittest.main()
