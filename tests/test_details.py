"""Per-test details in reports: JUnit properties of ``run --junit-xml`` and the data a failing test carries."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile
import unittest
from typing import Any

from testdata_kit import demo

try:
    import junitparser
except ImportError:  # pragma: no cover - the dev extra installs it
    junitparser = None

ROOT = pathlib.Path(__file__).resolve().parent.parent

# A suite against the demo API: one test passes, one fails after a request that carries a token.
SUITE = '''
import os

from testdata_kit import DataTestCase, creates, unique
from testdata_kit.http import ApiClient

api = ApiClient(os.environ["DEMO_API"])


@creates("detail_user")
def detail_user(name="Jo"):
    body = api.post("/users", json={"email": unique.email(), "name": name}).json()
    yield body
    api.delete(f"/users/{body['id']}")


class Details(DataTestCase):
    def test_passes(self):
        detail_user()
        detail_user()
        self.fake.person.full_name()

    def test_fails(self):
        detail_user(name="Failing")
        api.get("/users", params={"token": "s3cret-token"})
        self.fail("the order total is wrong")
'''


def properties(case: Any) -> dict[str, str]:
    """Return a JUnit test case's ``<properties>`` as read by junitparser, the reader CI plugins build on."""
    found = case.child(junitparser.Properties)
    return {} if found is None else {prop.name: prop.value for prop in found.iterchildren(junitparser.Property)}


@unittest.skipIf(junitparser is None, "junitparser is not installed (pip install 'testdata_kit[dev]')")
class JunitTests(unittest.TestCase):
    def setUp(self) -> None:
        self.server = demo.running().start()
        self.addCleanup(self.server.stop)
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = pathlib.Path(tmp.name)
        (self.dir / "case_details.py").write_text(SUITE, encoding="utf-8")

    def environ(self) -> dict[str, str]:
        env = {**os.environ, "DEMO_API": self.server.url, "PYTHONPATH": os.pathsep.join([str(ROOT), str(self.dir)]),
               "TESTDATA_SEED": "4242"}
        for name in ("TESTDATA_REPORT", "TESTDATA_RUN_ID", "TESTDATA_WORKER", "TESTDATA_KEEP"):
            env.pop(name, None)
        return env

    def cases(self, path: pathlib.Path) -> dict[str, junitparser.TestCase]:
        found = {}
        for suite in junitparser.JUnitXml.fromfile(str(path)):
            for case in suite:
                found[case.name] = case
        return found

    def test_run_writes_counts_seed_and_the_failing_tests_data(self) -> None:
        junit = self.dir / "results.xml"
        process = subprocess.run(
            [sys.executable, "-m", "testdata_kit", "run", "-j", "2", "--junit-xml", str(junit),
             "-s", str(self.dir), "-p", "case_*.py"],
            cwd=self.dir, env=self.environ(), capture_output=True, text=True, timeout=120,
        )
        self.assertEqual(process.returncode, 1, process.stderr)
        cases = self.cases(junit)
        passed = properties(cases["test_passes"])
        self.assertEqual(
            {key: passed[f"testdata_kit.{key}"] for key in ("created", "deleted", "leaked", "seed")},
            {"created": "2", "deleted": "2", "leaked": "0", "seed": "4242"},
        )
        self.assertRegex(passed["testdata_kit.test_seed"], r"^[0-9a-f]{16}$")
        failed = cases["test_fails"]
        self.assertEqual(properties(failed)["testdata_kit.deleted"], "1")
        data = failed.system_out or ""
        self.assertIn("created <Resource detail_user id=", data)
        self.assertIn("deleted <Resource detail_user id=", data)
        self.assertIn("last HTTP exchange: GET ", data)
        self.assertIn("token=***", data)
        self.assertNotIn("s3cret-token", junit.read_text(encoding="utf-8"))
        # unittest's own failure text carries the same details, read before the cleanups ran. Python 3.10 prints
        # no exception notes, and the runner's workers format the traceback themselves: there, <system-out> has them.
        if sys.version_info >= (3, 11):
            self.assertIn("owns (not deleted yet): <Resource detail_user id=", failed.result[0].text)
            self.assertIn("testdata_kit: details of case_details.Details.test_fails", process.stderr)

    def test_plain_unittest_failure_text_names_the_data_and_masks_the_request(self) -> None:
        process = subprocess.run(
            [sys.executable, "-m", "unittest", "case_details"], cwd=self.dir, env=self.environ(),
            capture_output=True, text=True, timeout=120,
        )
        self.assertEqual(process.returncode, 1, process.stderr)
        self.assertIn("testdata_kit: details of case_details.Details.test_fails", process.stderr)
        # Python 3.10 reports failures after the cleanups ran, 3.11+ before: the journal lines hold on both.
        self.assertIn("journal: created <Resource detail_user id=", process.stderr)
        self.assertIn("last HTTP exchange: GET ", process.stderr)
        self.assertNotIn("s3cret-token", process.stderr)
        self.assertNotIn("details of case_details.Details.test_passes", process.stderr)


if __name__ == "__main__":
    unittest.main()
