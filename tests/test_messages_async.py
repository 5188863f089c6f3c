"""The wording of the async errors: each names the value, what was expected, and the fix."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import unittest
from typing import Any

from testdata_kit import FactoryProtocolError, Registry, UsageError, atracked, creates, ledger

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class AsyncMessageTests(unittest.TestCase):
    def test_a_sync_create_of_an_async_factory(self) -> None:
        registry = Registry()

        @creates("user", registry=registry)
        async def user() -> Any:
            yield 1

        with self.assertRaises(FactoryProtocolError) as caught:
            registry.get("user").create_resource("run", None, (), {})
        self.assertEqual(
            str(caught.exception),
            "<Factory user (async generator)> is async: await it (await self.create('user'), or await s.create() "
            "in an AsyncScenario) from an async test such as testdata_kit.AsyncDataTestCase.",
        )

    def test_a_coroutine_factory_without_delete(self) -> None:
        with self.assertRaises(FactoryProtocolError) as caught:
            @creates("user", registry=Registry())
            async def user() -> int:
                return 1
        self.assertRegex(
            str(caught.exception),
            r"^@creates\('user'\) on the plain function .*user at .*test_messages_async.py:\d+ needs delete=, the "
            r"callable that removes what it returns. Or make it a generator: create, yield the resource, then "
            r"delete.$",
        )

    def test_release_of_an_async_deleter_inside_a_running_loop(self) -> None:
        async def delete() -> None:
            pass

        async def make() -> tuple[str, Any]:
            return "x", delete

        async def scenario() -> str:
            resource = await atracked("thing", make, scope="run", register=False)
            try:
                resource.release()
            except UsageError as error:
                return str(error)
            finally:
                await resource.arelease()
            return ""

        with ledger.isolated():
            text = asyncio.run(scenario())
        self.assertEqual(
            text,
            "<Resource thing 'x' test=<run>> has an async deleter, and release() was called inside a running event "
            "loop, which it cannot block. Use 'await resource.arelease()' there (an AsyncScenario's teardown is "
            "awaited too).",
        )

    def test_the_async_client_without_httpx_names_the_extra(self) -> None:
        code = "import sys; sys.modules['httpx'] = None; import testdata_kit.http.aio"
        process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
        self.assertIn(
            "testdata_kit.errors.MissingExtraError: testdata_kit.http.aio needs the 'httpx' package, which is not "
            "installed. Install it with: pip install 'testdata_kit[async]'",
            process.stderr,
        )


    def test_an_async_tenant_outside_a_test_scope(self) -> None:
        from testdata_kit.http.aio import AsyncApiClient

        async def scenario() -> str:
            async with AsyncApiClient("http://127.0.0.1:9") as api:
                try:
                    await api.tenant(scope="run")
                except UsageError as error:
                    return str(error)
            return ""

        self.assertEqual(
            asyncio.run(scenario()),
            "An async tenant lives in one test's event loop, so scope='run' cannot hold it: create it in the async "
            "test (scope='test'), or use the requests client's ApiClient.tenant() for a run tenant.",
        )

if __name__ == "__main__":
    unittest.main()
