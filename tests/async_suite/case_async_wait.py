"""An async suite for interrupt tests: it creates through an async factory, a collection and a scenario, writes
``TDK_READY`` (once an awaited create has started, in the ``slow-create`` mode, or two gathered ones, in the
``gather`` mode) and then waits to be signalled."""

import asyncio
import os
import unittest

from testdata_kit import AsyncDataTestCase, creates, unique
from testdata_kit.http.aio import AsyncApiClient


@creates("aw_user")
async def aw_user(api, name="Factory"):
    body = await api.post_json("/users", {"email": unique.email(), "name": name})
    yield body
    await api.delete(f"/users/{body['id']}")


def ready(text):
    with open(os.environ["TDK_READY"], "w", encoding="utf-8") as handle:
        handle.write(text)


class AsyncWaitTests(AsyncDataTestCase):
    async def asyncSetUp(self):
        self.api = AsyncApiClient(os.environ["TDK_DEMO_URL"])
        self.addAsyncCleanup(self.api.aclose)
        self.users = self.api.collection("users", kind="aw_http_user")

    async def test_a_waits(self):
        await self.create("aw_user", api=self.api)
        await self.users.create(email=unique.email(), name="Collection")
        s = self.scenario()
        for n in range(2):
            await s.branch().aw_user(api=self.api, name=f"Branch {n}")
        self.addCleanup(print, "own cleanup ran", flush=True)
        if os.environ.get("TDK_MODE") == "slow-create":
            # The demo API answers after its latency: the signal arrives while this POST is awaited. Ready is
            # said once the create has started (a loop turn later), or a signal could beat the create itself.
            slow = asyncio.ensure_future(self.users.create(email=unique.email(), name="Slow"))
            await asyncio.sleep(0.05)
            ready("creating")
            await slow
        elif os.environ.get("TDK_MODE") == "gather":
            # Two creates in tasks of their own, both in flight when the signal comes.
            both = asyncio.gather(self.users.create(email=unique.email(), name="Slow 1"),
                                  self.create("aw_user", api=self.api, name="Slow 2"))
            await asyncio.sleep(0.05)
            ready("creating")
            await both
        else:
            ready("waiting")
        await asyncio.sleep(30)

    async def test_b_never_reached(self):
        await self.users.create(email=unique.email(), name="Never")


if __name__ == "__main__":
    unittest.main()
