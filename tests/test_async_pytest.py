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


if __name__ == "__main__":
    unittest.main()
