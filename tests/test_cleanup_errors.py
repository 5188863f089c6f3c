"""Every failed deletion is an error of its test, after the test's own failure: under unittest and under pytest."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import tempfile
import textwrap
import unittest
import xml.etree.ElementTree as ET

from testdata_kit import DataTestCase, Registry, creates, ledger
from testdata_kit.errors import CleanupError, CleanupErrorGroup

ROOT = pathlib.Path(__file__).resolve().parent.parent

SUITE = textwrap.dedent(
    """
    from testdata_kit import DataTestCase, creates


    @creates("stuck")
    def stuck(n):
        yield {"id": n}
        raise ConnectionError(f"the API refused deleting stuck {n}")


    class T(DataTestCase):
        def test_fails_and_two_deletions_fail(self):
            stuck(1)
            stuck(2)
            self.fail("the test's own failure")

        def test_passes_and_two_deletions_fail(self):
            stuck(3)
            stuck(4)

        def test_one_deletion_fails(self):
            stuck(5)
    """
)

registry = Registry()


@creates("cg_stuck", registry=registry)
def cg_stuck(n, parent=None):
    yield {"id": n}
    raise ConnectionError(f"refused deleting {n}")


class UnittestTests(unittest.TestCase):
    def run_case(self, body):
        class Case(DataTestCase):
            pass

        Case.registry = registry
        Case.test_it = body
        result = unittest.TestResult()
        with ledger.isolated():
            Case("test_it").run(result)
        return result

    def test_two_failed_deletions_are_one_error_holding_both_after_the_failure(self):
        def body(test):
            cg_stuck(1)
            cg_stuck(2)
            test.fail("own failure")

        result = self.run_case(body)
        self.assertEqual(len(result.failures), 1)
        self.assertIn("own failure", result.failures[0][1])
        self.assertEqual(len(result.errors), 1, result.errors)
        text = result.errors[0][1]
        self.assertIn("CleanupErrorGroup: 2 deletions failed", text)
        self.assertIn("refused deleting 1", text)
        self.assertIn("refused deleting 2", text)

    def test_one_failed_deletion_stays_a_plain_cleanup_error(self):
        def body(test):
            cg_stuck(1)

        result = self.run_case(body)
        self.assertEqual(len(result.errors), 1)
        self.assertIn("CleanupError: Could not delete", result.errors[0][1])
        self.assertNotIn("CleanupErrorGroup", result.errors[0][1])

    def test_the_failed_deletions_of_a_scenario_join_the_test_s_other_ones(self):
        def body(test):
            cg_stuck(1)
            test.scenario(workers=1).cg_stuck(2).create("cg_stuck", 3, as_="other")

        result = self.run_case(body)
        self.assertEqual(len(result.errors), 1, result.errors)
        for n in (1, 2, 3):
            self.assertIn(f"refused deleting {n}", result.errors[0][1])
        self.assertIn("3 deletions failed", result.errors[0][1])

    def test_the_group_is_a_cleanup_error_and_on_311_an_exception_group(self):
        errors = [CleanupError("a", ValueError(1)), CleanupError("b", ValueError(2))]
        group = CleanupErrorGroup(errors)
        self.assertIsInstance(group, CleanupError)
        self.assertEqual(group.errors, errors)
        if sys.version_info >= (3, 11):
            self.assertIsInstance(group, ExceptionGroup)  # noqa: F821
            self.assertEqual(list(group.exceptions), errors)


class PytestTests(unittest.TestCase):
    def test_pytest_reports_the_failure_then_one_error_with_every_failed_deletion(self):
        with tempfile.TemporaryDirectory() as tmp:
            pathlib.Path(tmp, "test_two.py").write_text(SUITE, encoding="utf-8")
            report = pathlib.Path(tmp, "report.xml")
            output = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", "test_two.py"],
                cwd=tmp, capture_output=True, text=True, timeout=120,
            )
            # A test with a teardown error appears twice: its call (the failure), then its teardown (the error).
            cases: dict[str, str] = {}
            for case in ET.parse(report).getroot().iter("testcase"):
                cases[case.get("name", "")] = cases.get(case.get("name", ""), "") + ET.tostring(case, "unicode")
        self.assertEqual(output.returncode, 1, output.stdout + output.stderr)
        failing = cases["test_fails_and_two_deletions_fail"]
        self.assertRegex(failing, r"(?s)<failure [^>]*the test's own failure.*<error [^>]*failed on teardown "
                                  r"with .*CleanupErrorGroup: 2 deletions failed")
        self.assertIn("stuck 1", failing)
        self.assertIn("stuck 2", failing)
        passing = cases["test_passes_and_two_deletions_fail"]
        self.assertIn("CleanupErrorGroup: 2 deletions failed", passing)
        self.assertIn("stuck 3", passing)
        self.assertIn("stuck 4", passing)
        self.assertIn("stuck 5", cases["test_one_deletion_fails"])
        self.assertIn("created 5, deleted 0, leaked 5", output.stdout)


if __name__ == "__main__":
    unittest.main()
