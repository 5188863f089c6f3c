"""The error messages users see: each names the offending value and the fix."""

from __future__ import annotations

import unittest

from testdata_kit import (
    DataTestCase,
    DuplicateKindError,
    NoScopeError,
    Registry,
    TestDataError,
    UnknownKindError,
    creates,
    uses,
)
from testdata_kit.errors import FactoryProtocolError, MissingExtraError


class MessageTests(unittest.TestCase):
    def test_creates_on_a_non_callable(self):
        with self.assertRaises(FactoryProtocolError) as caught:
            creates("user", registry=Registry())(42)
        self.assertEqual(
            str(caught.exception), "@creates('user') must decorate a function or generator, got 42 (of type int)."
        )

    def test_creates_without_parentheses(self):
        def user():
            yield {}

        with self.assertRaises(FactoryProtocolError) as caught:
            creates(user)  # type: ignore[arg-type]
        self.assertIn("@creates needs a kind name such as @creates('user'), got <function", str(caught.exception))
        self.assertIn("Did you write @creates without parentheses?", str(caught.exception))

    def test_duplicate_kind(self):
        kinds = Registry()

        def first():
            yield 1

        def second():
            yield 2

        creates("user", registry=kinds)(first)
        with self.assertRaises(DuplicateKindError) as caught:
            creates("user", registry=kinds)(second)
        message = str(caught.exception)
        self.assertIn("Kind 'user' is already declared by tests.test_messages.", message)
        self.assertIn("first; tests.test_messages.", message)
        self.assertIn("pass replace=True to @creates to override on purpose", message)
        creates("user", registry=kinds, replace=True)(second)
        self.assertIs(kinds.get("user").func, second)

    def test_unknown_kind(self):
        kinds = Registry()
        creates("user", registry=kinds)(lambda: (yield 1))
        creates("order", registry=kinds)(lambda: (yield 1))
        with self.assertRaises(UnknownKindError) as caught:
            kinds.get("usr")
        self.assertEqual(
            str(caught.exception),
            "Unknown kind 'usr'. Known kinds: 'order', 'user'. Declare it with @creates('usr') "
            "and import that module before the test runs.",
        )

    def test_needs_an_unknown_kind(self):
        kinds = Registry()
        creates("order", needs=("prodcut",), registry=kinds)(lambda product: (yield 1))
        expected = r"^Unknown kind 'prodcut' \(in needs= of 'order'\)\. Known kinds: 'order'\."
        with self.assertRaisesRegex(UnknownKindError, expected):
            kinds.check()

    def test_create_outside_any_test(self):
        factory = creates("user", registry=Registry())(lambda: (yield 1))
        with self.assertRaises(NoScopeError) as caught:
            factory()
        self.assertEqual(
            str(caught.exception),
            "Cannot create 'user': no test is running, so nothing would delete it. Create it inside a DataTestCase "
            "test or setUpClass, or inside a pytest test or fixture (the testdata fixture: "
            "testdata.create('user')), or pass an explicit scope: testdata_kit.create('user', scope='module') "
            "(or 'run', or scope='class' with owner=YourTestCase).",
        )

    def test_decorating_a_non_testcase_class(self):
        not_a_test = type("NotATest", (), {})
        with self.assertRaises(TypeError) as caught:
            uses("user")(not_a_test)
        self.assertEqual(
            str(caught.exception),
            f"Can only decorate unittest.TestCase subclasses, not {not_a_test!r}. Make it a TestCase, or decorate "
            f"its test methods.",
        )

    def test_uses_on_something_that_is_neither_a_class_nor_callable(self):
        with self.assertRaisesRegex(TypeError, r"^uses\(\) decorates test methods and TestCase classes, not 42\.$"):
            uses("user")(42)

    def test_plain_factory_without_delete(self):
        def product():
            return {}

        with self.assertRaisesRegex(FactoryProtocolError, r"needs delete=, the callable that removes what it"):
            creates("product", registry=Registry())(product)

    def test_missing_extra(self):
        error = MissingExtraError("requests", "http", "testdata_kit.http")
        self.assertEqual(
            str(error),
            "testdata_kit.http needs the 'requests' package, which is not installed. "
            "Install it with: pip install 'testdata_kit[http]'",
        )
        self.assertEqual((error.module, error.extra), ("requests", "http"))


if __name__ == "__main__":
    unittest.main()


class ScenarioMessageTests(DataTestCase):
    def test_a_missing_result_is_named_without_quotes_around_the_message(self):
        scenario = self.scenario()
        with self.assertRaises(KeyError) as caught:
            scenario["order"]
        self.assertIsInstance(caught.exception, TestDataError)
        self.assertEqual(str(caught.exception), "Scenario has no result 'order'; it holds: nothing yet")
