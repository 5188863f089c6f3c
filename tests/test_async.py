"""Async factories, AsyncDataTestCase and AsyncScenario: tracked, ordered and accounted as sync creation is."""

from __future__ import annotations

import asyncio
import os
import unittest
from typing import Any
from unittest import mock

from testdata_kit import (
    AsyncDataTestCase,
    CleanupError,
    FactoryProtocolError,
    NoScopeError,
    Registry,
    UsageError,
    _run,
    atracked,
    creates,
    demo,
    ledger,
)
from testdata_kit.aio import AsyncScenario
from testdata_kit.http import ApiClient
from tests._support import problems, run_cases


class Recorder:
    """A ledger observer that records what the journal would: intents, abandons, creates and releases."""

    def __init__(self, events: list[tuple[str, Any]]) -> None:
        self.events = events

    def on_intent(self, number: int, kind: str, scope: str, owner: Any) -> None:
        self.events.append(("intent", kind))

    def on_abandon(self, number: int) -> None:
        self.events.append(("abandon", number))

    def on_create(self, resource: Any) -> None:
        self.events.append(("create", resource.kind))

    def on_release(self, resource: Any, outcome: str) -> None:
        self.events.append((outcome, resource.kind))


def shop(log: list[str], api: ApiClient | None = None) -> Registry:
    """A registry with an async generator, a coroutine with an async delete=, and a sync factory."""
    registry = Registry()

    @creates("user", registry=registry)
    async def user(name: str = "Ann") -> Any:
        await asyncio.sleep(0)
        log.append(f"create user {name}")
        yield {"id": name}
        await asyncio.sleep(0)
        log.append(f"delete user {name}")

    async def delete_order(order: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        log.append(f"delete order of {order['user']['id']}")

    @creates("order", registry=registry, needs=("user",), delete=delete_order)
    async def order(user: dict[str, Any]) -> dict[str, Any]:
        log.append(f"create order of {user['id']}")
        return {"id": f"o-{user['id']}", "user": user}

    @creates("note", registry=registry, delete=lambda note: log.append(f"delete note {note['id']}"))
    def note(text: str = "n") -> dict[str, Any]:
        log.append(f"create note {text}")
        return {"id": text}

    return registry


class AsyncFactoryTests(unittest.TestCase):
    def test_async_and_sync_deletions_run_newest_first_in_one_list_with_the_tests_own_cleanups(self) -> None:
        log: list[str] = []

        class Inner(AsyncDataTestCase):
            registry = shop(log)

            async def test_it(self) -> None:
                await self.create("user", name="A")
                await self.create("note", text="B")
                self.addCleanup(log.append, "own cleanup")
                await self.create("user", name="C")
                await self.create("order", user={"id": "C"})

        result, books = run_cases(Inner)
        self.assertEqual(problems(result), [])
        self.assertEqual(log[4:], ["delete order of C", "delete user C", "own cleanup", "delete note B",
                                   "delete user A"])
        self.assertEqual(books.summary(), "created 4, deleted 4, leaked 0")

    def test_calling_an_async_factory_in_a_test_is_awaited_and_tracked(self) -> None:
        log: list[str] = []
        registry = shop(log)
        user = registry.get("user")

        class Inner(AsyncDataTestCase):
            async def test_it(self) -> None:
                self.assertEqual(await user(name="Z"), {"id": "Z"})
                self.assertTrue(user.is_async)
                self.assertIn("async generator", repr(user))

        result, books = run_cases(Inner)
        self.assertEqual(problems(result), [])
        self.assertEqual(log, ["create user Z", "delete user Z"])
        self.assertEqual((books.created, books.deleted), (1, 1))

    def test_cls_create_in_set_up_class_makes_class_data_and_self_create_is_awaited(self) -> None:
        log: list[str] = []

        class Inner(AsyncDataTestCase):
            registry = shop(log)

            @classmethod
            def setUpClass(cls) -> None:
                cls.note = cls.create("note", text="class")

            async def test_it(self) -> None:
                self.assertEqual(self.note, {"id": "class"})
                self.assertEqual(await self.create("note", text="test"), {"id": "test"})

        result, _books = run_cases(Inner)
        self.assertEqual(problems(result), [])
        self.assertEqual(log, ["create note class", "create note test", "delete note test", "delete note class"])

    def test_outside_a_test_nothing_is_created_and_no_scope_is_the_error(self) -> None:
        log: list[str] = []
        user = shop(log).get("user")
        with self.assertRaises(NoScopeError):
            asyncio.run(user())
        self.assertEqual(log, [])

    def test_a_failed_async_create_abandons_its_journal_intent_and_a_created_one_is_journaled(self) -> None:
        events: list[tuple[str, Any]] = []
        registry = Registry()

        @creates("broken", registry=registry)
        async def broken() -> Any:
            raise ValueError("the API said no")
            yield  # pragma: no cover

        class Inner(AsyncDataTestCase):
            async def test_it(self) -> None:
                ledger.current().observers.append(Recorder(events))
                await self.create(shop([]).get("user"))
                with self.assertRaises(ValueError):
                    await self.create(registry.get("broken"))

        result, _ = run_cases(Inner)
        self.assertEqual(problems(result), [])
        self.assertEqual([e[0] for e in events], ["intent", "create", "intent", "abandon", "deleted"])

    def test_an_async_generator_that_yields_twice_is_a_leak_naming_the_factory(self) -> None:
        registry = Registry()

        @creates("twice", registry=registry)
        async def twice() -> Any:
            yield 1
            yield 2

        class Inner(AsyncDataTestCase):
            async def test_it(self) -> None:
                await self.create(registry.get("twice"))

        result, books = run_cases(Inner)
        self.assertEqual(books.leaked, 1)
        self.assertIn("yielded more than once", problems(result)[0])

    def test_testdata_keep_failed_keeps_the_async_data_of_a_failing_test(self) -> None:
        log: list[str] = []

        class Inner(AsyncDataTestCase):
            registry = shop(log)

            async def test_fails(self) -> None:
                await self.create("user", name="K")
                self.fail("on purpose")

        with mock.patch.dict(os.environ, {"TESTDATA_KEEP": "failed"}):
            result, books = run_cases(Inner)
        self.assertEqual(len(result.failures), 1)
        self.assertEqual((books.created, books.deleted, len(books.kept)), (1, 0, 1))
        self.assertNotIn("delete user K", log)

    def test_a_failing_async_test_that_drew_fake_values_reports_its_seed(self) -> None:
        drawn: list[str] = []

        class Inner(AsyncDataTestCase):
            async def asyncSetUp(self) -> None:
                # Building the seeded providers takes longer than asyncio's debug mode calls slow.
                asyncio.get_running_loop().slow_callback_duration = 5

            async def test_fails(self) -> None:
                drawn.append(self.fake.person.full_name())
                self.fail("on purpose")

        with mock.patch.dict(os.environ, {"TESTDATA_SEED": "1234"}):
            _run._reset_for_tests()  # the run seed is read once per process; this test sets its own
            self.addCleanup(_run._reset_for_tests)
            result, _ = run_cases(Inner)
            _again, _ = run_cases(Inner)
        self.assertEqual(drawn[0], drawn[1], "the same seed and test id give the same values")
        self.assertIn("TESTDATA_SEED=1234", problems(result)[0])

    def test_a_sync_create_of_an_async_factory_names_the_fix(self) -> None:
        user = shop([]).get("user")

        class Inner(AsyncDataTestCase):
            async def test_it(self) -> None:
                with self.assertRaisesRegex(FactoryProtocolError, r"is async: await it"):
                    user.create_resource("test", self, (), {})

        result, _ = run_cases(Inner)
        self.assertEqual(problems(result), [])

    def test_a_coroutine_factory_needs_delete(self) -> None:
        with self.assertRaisesRegex(FactoryProtocolError, r"needs delete="):
            @creates("nodelete", registry=Registry())
            async def nodelete() -> int:
                return 1


class AtrackedTests(unittest.TestCase):
    def test_an_async_deleter_released_from_sync_code_runs_to_its_end(self) -> None:
        done: list[str] = []

        async def delete() -> None:
            await asyncio.sleep(0)
            done.append("deleted")

        async def make() -> tuple[str, Any]:
            return "x", delete

        with ledger.isolated() as books:
            resource = asyncio.run(atracked("thing", make, scope="run", register=False))
            resource.release()
        self.assertEqual((done, books.summary()), (["deleted"], "created 1, deleted 1, leaked 0"))

    def test_release_inside_a_running_loop_refuses_and_leaves_the_resource_live(self) -> None:
        async def delete() -> None:
            pass

        async def scenario() -> None:
            resource = await atracked("thing", _made(delete), scope="run", register=False)
            with self.assertRaisesRegex(UsageError, r"await resource.arelease\(\)"):
                resource.release()
            self.assertTrue(resource.alive)
            await resource.arelease()
            self.assertFalse(resource.alive)

        with ledger.isolated() as books:
            asyncio.run(scenario())
        self.assertEqual(books.summary(), "created 1, deleted 1, leaked 0")

    def test_a_failing_async_delete_is_a_leak_raised_as_cleanup_error(self) -> None:
        async def delete() -> None:
            raise RuntimeError("503")

        async def scenario() -> None:
            resource = await atracked("thing", _made(delete), scope="run", register=False)
            with self.assertRaises(CleanupError):
                await resource.arelease()

        with ledger.isolated() as books:
            asyncio.run(scenario())
        self.assertEqual(books.leaked, 1)


def _made(delete: Any) -> Any:
    async def make() -> tuple[str, Any]:
        return "x", delete

    return make


class AsyncScenarioTests(unittest.TestCase):
    def test_teardown_deletes_children_first_and_independent_branches_together(self) -> None:
        log: list[str] = []
        registry = Registry()
        running = {"now": 0, "most": 0}

        async def slow_delete(row: dict[str, Any]) -> None:
            running["now"] += 1
            running["most"] = max(running["most"], running["now"])
            await asyncio.sleep(0.01)
            running["now"] -= 1
            log.append(f"delete {row['id']}")

        @creates("account", registry=registry, delete=slow_delete)
        async def account(name: str = "a") -> dict[str, Any]:
            return {"id": name}

        @creates("invoice", registry=registry, needs=("account",), delete=slow_delete)
        async def invoice(account: dict[str, Any]) -> dict[str, Any]:
            return {"id": f"invoice of {account['id']}"}

        @creates("memo", registry=registry, delete=lambda row: log.append(f"delete {row['id']}"))
        def memo(invoice: dict[str, Any] | None = None) -> dict[str, Any]:
            return {"id": "memo"}

        class Inner(AsyncDataTestCase):
            async def test_it(self) -> None:
                s = AsyncScenario(registry=registry, owner=self)
                self.assertIsInstance(self.scenario(), AsyncScenario)
                for n in range(3):
                    branch = s.branch()
                    await branch.account(name=f"a{n}")
                    await branch.create("invoice")
                self.assertEqual(branch.invoice["id"], "invoice of a2")
                same = await branch.memo()
                self.assertIs(same, branch)

        result, books = run_cases(Inner)
        self.assertEqual(problems(result), [])
        self.assertEqual(books.summary(), "created 7, deleted 7, leaked 0")
        self.assertEqual(log[0], "delete memo", "the memo was made from the newest invoice")
        for n in range(3):
            self.assertLess(log.index(f"delete invoice of a{n}"), log.index(f"delete a{n}"))
        self.assertGreater(running["most"], 1, "independent branches are deleted at the same time")

    def test_workers_1_deletes_one_at_a_time_newest_first(self) -> None:
        log: list[str] = []

        class Inner(AsyncDataTestCase):
            registry = shop(log)

            async def test_it(self) -> None:
                s = self.scenario(workers=1)
                await s.create("user", name="A")
                await s.order()
                await s.create("user", name="B")

        result, _books = run_cases(Inner)
        self.assertEqual(problems(result), [])
        self.assertEqual(log[3:], ["delete user B", "delete order of A", "delete user A"])

    def test_an_explicit_teardown_is_awaited(self) -> None:
        log: list[str] = []

        class Inner(AsyncDataTestCase):
            registry = shop(log)

            async def test_it(self) -> None:
                s = self.scenario()
                await s.order()
                await s.teardown()
                log.append("after teardown")

        result, books = run_cases(Inner)
        self.assertEqual(problems(result), [])
        self.assertEqual(log[2:], ["delete order of Ann", "delete user Ann", "after teardown"])
        self.assertEqual(books.summary(), "created 2, deleted 2, leaked 0")


class DemoApiTests(unittest.TestCase):
    """Async factories that call the demo API, deleting what they created."""

    def test_an_async_factory_over_the_demo_api_leaves_no_row(self) -> None:
        with demo.running() as server, ApiClient(server.url) as api:
            registry = Registry()

            @creates("user", registry=registry)
            async def user(name: str = "Ann") -> Any:
                body = await asyncio.to_thread(api.post_json, "/users", {"email": f"{name}@example.com",
                                                                         "name": name})
                yield body
                await asyncio.to_thread(api.delete, f"/users/{body['id']}")

            class Inner(AsyncDataTestCase):
                async def test_it(self) -> None:
                    await self.create(registry.get("user"), name="a1")
                    await self.create(registry.get("user"), name="a2")
                    self.assertEqual(server.counts()["users"], 2)

            result, books = run_cases(Inner)
            rows = server.counts()["users"]
        self.assertEqual(problems(result), [])
        self.assertEqual((rows, books.summary()), (0, "created 2, deleted 2, leaked 0"))


if __name__ == "__main__":
    unittest.main()
