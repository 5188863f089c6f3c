"""Under pytest (with pytest-asyncio loaded), AsyncDataTestCase and async run-scope data clean up as under unittest.

pytest runs ``IsolatedAsyncioTestCase`` classes itself, each test in its own event loop, and pytest-asyncio leaves
them alone. A plain ``async def`` test of pytest-asyncio has no TestCase to own its data, so it creates in the
run scope here; the ``testdata`` fixture of the pytest plugin is the test-scoped way.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

from testdata_kit import demo

ROOT = pathlib.Path(__file__).resolve().parent.parent

MODULE = '''
import os

import pytest

from testdata_kit import AsyncDataTestCase, atracked, creates, unique
from testdata_kit.http.aio import AsyncApiClient

URL = os.environ["TDK_DEMO_URL"]


@creates("py_user")
async def py_user(api, name="Factory"):
    body = await api.post_json("/users", {"email": unique.email(), "name": name})
    yield body
    await api.delete(f"/users/{body['id']}")


class SignupTests(AsyncDataTestCase):
    async def asyncSetUp(self):
        self.api = AsyncApiClient(URL)
        self.addAsyncCleanup(self.api.aclose)

    async def test_factory_and_collection(self):
        await self.create("py_user", api=self.api)
        users = self.api.collection("users")
        await users.create(email=unique.email(), name="Collection")
        s = self.scenario()
        for n in range(3):
            await s.branch().py_user(api=self.api, name=f"Branch {n}")

    async def test_failing_still_cleans_up(self):
        await self.create("py_user", api=self.api)
        assert False, "on purpose"


@pytest.mark.asyncio
async def test_a_pytest_asyncio_function_creates_for_the_run():
    async with AsyncApiClient(URL) as api:
        body = await api.post_json("/users", {"email": unique.email(), "name": "Run"})

    async def delete():
        # The test's loop is closed by the end of the run: the deletion opens a client of its own.
        async with AsyncApiClient(URL) as late:
            await late.delete(f"/users/{body['id']}")

    async def make():
        return body, delete

    await atracked("py_run_user", make, scope="run")
'''


FIXTURE_MODULE = '''
import os

import pytest
import pytest_asyncio

from testdata_kit import creates, unique
from testdata_kit.http.aio import AsyncApiClient
from testdata_kit.pytest_plugin import fixture_for

URL = os.environ["TDK_DEMO_URL"]


@creates("py_user")
async def py_user(label="Fixture"):
    # A client of its own for each call: the fixture's event loop and the test's are not the same one.
    async with AsyncApiClient(URL) as api:
        body = await api.post_json("/users", {"email": unique.email(), "name": label})
    yield body
    async with AsyncApiClient(URL) as api:
        await api.delete(f"/users/{body['id']}")


@creates("py_product")
async def py_product(api, name="Lamp"):
    # The test's client: this deletion works only in the test's own event loop, before the client closes.
    body = await api.post_json("/products", {"name": name, "price": 3})
    yield body
    await api.delete(f"/products/{body['id']}")


py_user_fixture = fixture_for("py_user", name="ann")
module_user = fixture_for("py_user", name="module_user", scope="module", label="Module")


@pytest_asyncio.fixture
async def api():
    async with AsyncApiClient(URL) as client:
        yield client  # closed after the test's data is deleted


@pytest.mark.asyncio
async def test_fixture_and_testdata(ann, module_user, testdata, api):
    assert ann["name"] == "Fixture" and module_user["id"] != ann["id"]
    await testdata.create("py_product", api=api)
    await api.collection("users").create(email=unique.email(), name="Collection")
    s = testdata.ascenario()
    for n in range(3):
        await s.branch().py_product(api=api, name=f"Branch {n}")
    assert ALIVE(), "created rows are there during the test"


@pytest.mark.asyncio
async def test_failing_keeps_with_keep_and_reports_the_seed(testdata, api):
    await testdata.create("py_product", api=api, name=testdata.fake.person.full_name())
    assert False, "on purpose"


def ALIVE():
    import json, urllib.request

    with urllib.request.urlopen(URL + "/_admin/counts") as answer:
        counts = json.load(answer)
    return counts["products"] >= 4 and counts["users"] >= 3
'''

@unittest.skipUnless(importlib.util.find_spec("pytest_asyncio"), "pytest-asyncio is not installed (dev extra)")
class PytestAsyncTests(unittest.TestCase):
    def test_async_tests_under_pytest_delete_everything_and_report_the_account(self) -> None:
        with demo.running() as server, tempfile.TemporaryDirectory() as tmp:
            pathlib.Path(tmp, "test_async_mod.py").write_text(MODULE)
            env = {**os.environ, "TDK_DEMO_URL": server.url, "PYTHONPATH": str(ROOT)}
            env.pop("TESTDATA_REPORT", None)
            process = subprocess.run(
                [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-o",
                 "asyncio_default_fixture_loop_scope=function", "test_async_mod.py"],
                cwd=tmp, env=env, capture_output=True, text=True, timeout=180,
            )
            rows = server.counts()["users"]
        output = process.stdout + process.stderr
        self.assertEqual(process.returncode, 1, output)  # the one failing test, on purpose
        self.assertIn("2 passed", output)
        self.assertIn("1 failed", output)
        self.assertIn("testdata_kit: created 7, deleted 7, leaked 0", output)
        self.assertEqual(rows, 0)

    def run_fixture_module(self, *options: str) -> tuple[str, dict[str, int], int]:
        with demo.running() as server, tempfile.TemporaryDirectory() as tmp:
            pathlib.Path(tmp, "test_async_fixtures.py").write_text(FIXTURE_MODULE)
            env = {**os.environ, "TDK_DEMO_URL": server.url, "PYTHONPATH": str(ROOT)}
            for name in ("TESTDATA_REPORT", "TESTDATA_KEEP", "TESTDATA_SEED"):
                env.pop(name, None)
            process = subprocess.run(
                [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-p", "no:randomly", "-o",
                 "asyncio_default_fixture_loop_scope=function", *options, "test_async_fixtures.py"],
                cwd=tmp, env=env, capture_output=True, text=True, timeout=180,
            )
            return process.stdout + process.stderr, server.counts(), process.returncode

    def test_async_fixtures_and_the_testdata_fixture_in_async_tests_delete_in_the_tests_loop(self) -> None:
        output, rows, code = self.run_fixture_module("--testdata-seed", "s33d")
        self.assertEqual(code, 1, output)  # the one failing test, on purpose
        self.assertIn("1 passed", output)
        self.assertIn("1 failed", output)
        # ann, module_user, the product, the collection's user, 3 branches, the failing test's product.
        self.assertIn("testdata_kit: created 8, deleted 8, leaked 0", output)
        self.assertEqual((rows["users"], rows["products"]), (0, 0))
        self.assertIn("fake values came from TESTDATA_SEED=s33d", output)
        self.assertIn("--testdata-seed s33d test_async_fixtures.py::test_failing_keeps_with_keep_and_reports_the_seed",
                      output)

    def test_keep_keeps_the_failing_async_tests_data_and_deletes_the_rest(self) -> None:
        output, rows, code = self.run_fixture_module("--testdata-keep")
        self.assertEqual(code, 1, output)
        self.assertIn("testdata_kit: created 8, deleted 7, leaked 0", output)
        self.assertIn("kept 1", output)
        self.assertEqual((rows["users"], rows["products"]), (0, 1))

    def test_fixture_for_an_async_kind_declared_after_it_names_the_fix(self) -> None:
        module = (
            "import pytest\n"
            "from testdata_kit import creates\n"
            "from testdata_kit.pytest_plugin import fixture_for\n"
            "late = fixture_for('late_kind')\n"
            "@creates('late_kind')\n"
            "async def late_kind():\n"
            "    yield 1\n"
            "def test_it(late_kind):\n"
            "    pass\n"
        )
        with tempfile.TemporaryDirectory() as tmp:
            pathlib.Path(tmp, "test_late.py").write_text(module)
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            process = subprocess.run(
                [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o",
                 "asyncio_default_fixture_loop_scope=function", "test_late.py"],
                cwd=tmp, env=env, capture_output=True, text=True, timeout=180,
            )
        output = process.stdout + process.stderr
        self.assertIn(
            "UsageError: fixture_for('late_kind') was called before the async kind 'late_kind' was declared, so it "
            "made a sync fixture. Declare @creates('late_kind') first (import its module in conftest.py above the "
            "fixture_for line), or pass the factory itself.", output)
        self.assertNotIn("never awaited", output)


@unittest.skipUnless(importlib.util.find_spec("pytest_asyncio"), "pytest-asyncio is not installed (dev extra)")
class AsyncDocsExampleTests(unittest.TestCase):
    """The async how-to's pytest example runs as printed, alone and under xdist."""

    def run_example(self, *args: str) -> str:
        environ = {**os.environ, "PYTHONPATH": str(ROOT),
                   "PYTEST_ADDOPTS": "-o asyncio_default_fixture_loop_scope=function"}
        for name in ("TESTDATA_SEED", "TESTDATA_REPORT", "TESTDATA_KEEP", "PYTEST_XDIST_WORKER",
                     "PYTEST_XDIST_TESTRUNUID"):
            environ.pop(name, None)
        process = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                                 cwd=ROOT / "docs" / "examples" / "pytest_async", env=environ, capture_output=True,
                                 text=True, timeout=180)
        output = process.stdout + process.stderr
        self.assertEqual(process.returncode, 0, output)
        self.assertIn("3 passed", output)
        return output

    def test_the_example_runs(self) -> None:
        self.assertIn("testdata_kit: created 5, deleted 5, leaked 0", self.run_example("-p", "no:randomly"))

    @unittest.skipUnless(importlib.util.find_spec("xdist"), "needs pytest-xdist")
    def test_the_example_runs_under_xdist(self) -> None:
        self.assertIn("testdata_kit: created 5, deleted 5, leaked 0", self.run_example("-n", "2"))


if __name__ == "__main__":
    unittest.main()
