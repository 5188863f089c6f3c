"""Async tests: :class:`AsyncDataTestCase` (``await self.create("user")``) and :class:`AsyncScenario`.

Declare async factories with ``@creates`` on an ``async def`` generator (create, ``yield`` the resource,
delete) or on a coroutine function with ``delete=`` (sync or async)::

    @creates("user")
    async def user(api, name="Ann"):
        body = await users.create_untracked(...)
        yield body
        await ...

    class SignupTests(AsyncDataTestCase):
        async def test_signup(self):
            ann = await self.create("user", api=self.api)

Creation takes the one tracked path (:func:`testdata_kit.resources.atracked`, the async twin of
:func:`~testdata_kit.tracked`): the journal's intent, interrupts held until the resource is on record, the
ledger. Async deletions are registered with ``addAsyncCleanup``, in the one newest-first cleanup list with the
sync ones, and run in the test's event loop, also when an interrupt unwinds the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import unittest
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from testdata_kit import _interrupts, _scopes
from testdata_kit.case import TestDataMixin
from testdata_kit.kinds import Factory
from testdata_kit.scenario import Scenario

__all__ = ["AsyncDataTestCase", "AsyncScenario"]

__unittest = True  # failures raised here point at the user's test, not at these frames


class AsyncScenario(Scenario):
    """Same as :class:`~testdata_kit.scenario.Scenario`, except that creating is awaited, and so is teardown.

    ``s = await s.user()`` creates a user and returns the scenario; ``await s.create("order", as_="second")``
    returns the resource. Sync and async factories mix. The teardown is registered with ``addAsyncCleanup``
    and awaits independent branches together (at most *workers* deletions at once, default 16), every
    resource after all the resources made from it.
    """

    _awaited = True

    def _build(self, kind: str, /, *args: Any, as_: str | None = None,  # type: ignore[override]
               **overrides: Any) -> Awaitable[AsyncScenario]:
        async def build() -> AsyncScenario:
            await self.create(kind, *args, as_=as_, **overrides)
            return self

        return build()

    async def create(self, kind: str | Factory, /, *args: Any, as_: str | None = None,
                     **overrides: Any) -> Any:
        """Same as :meth:`Scenario.create <testdata_kit.scenario.Scenario.create>`, awaited."""
        factory = kind if isinstance(kind, Factory) else self._registry.get(kind)
        args, kwargs = self._plain(args, overrides)
        for need in self._unheld(factory, kwargs):
            kwargs[need] = await self.create(need)
        graph = self._graph
        if factory.is_async:
            resource = await factory.acreate_resource(graph.scope, graph.holder, args, kwargs, register=False)
        else:
            resource = factory.create_resource(graph.scope, graph.holder, args, kwargs, register=False)
        return self._hold(factory, resource, args, kwargs, as_)

    def branch(self) -> AsyncScenario:
        """Same as :meth:`Scenario.branch <testdata_kit.scenario.Scenario.branch>`: deleted side by side."""
        return super().branch()  # type: ignore[return-value]

    async def teardown(self) -> None:  # type: ignore[override]
        """Delete everything the scenario (and its branches) created now, instead of at the end of the test."""
        await self._graph.ateardown()


@contextlib.contextmanager
def _unwinding(test: unittest.TestCase) -> Iterator[None]:
    # unittest runs no cleanup on KeyboardInterrupt, and IsolatedAsyncioTestCase closes the test's event loop
    # on its way out. Unwind here, while the loop is still open, so the async deletions run in it.
    try:
        yield
    except KeyboardInterrupt:
        if _interrupts.received() is not None:
            _cancel_pending(test)
            _revive_runner(test)
            _scopes.unwind(test)
        raise


def _cancel_pending(test: Any) -> None:
    # Tasks the test started (create_task, gather) may still wait on a create the interrupt ended, or on the test
    # itself: run again, they would raise the interrupt anew in the middle of the cleanups, which run in this
    # loop, and every deletion after it would be skipped. Cancelled first, they end quietly.
    loop = getattr(test, "_asyncioTestLoop", None)  # Python 3.10
    runner = getattr(test, "_asyncioRunner", None)  # Python 3.11 and later
    if runner is not None:
        try:
            loop = runner.get_loop()
        except RuntimeError:  # the runner is closed already: no task of the test can run again
            return
    if loop is None or loop.is_closed() or loop.is_running():
        return
    own = getattr(test, "_asyncioCallsTask", None)  # 3.10's runner task, which _revive_runner handles
    pending = {task for task in asyncio.all_tasks(loop) if task is not own and not task.done()}
    for _ in range(3):  # a task that catches its cancellation gets a second and a third; then it is left
        if not pending:
            return
        for task in pending:
            task.cancel()
        with contextlib.suppress(KeyboardInterrupt):
            loop.run_until_complete(asyncio.wait(pending, timeout=_CANCEL_SECONDS))
        for task in pending:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: its error (or the interrupt itself) is the interrupt's doing
        pending = {task for task in pending if not task.done()}


# Seconds the tasks of an interrupted test get to end once cancelled, per round.
_CANCEL_SECONDS = 1.0


def _revive_runner(test: Any) -> None:
    # Python 3.10 runs a test's coroutines one after the other in one long task. The interrupt either ended that
    # task (without a new one, the async cleanups would wait forever) or left it awaiting the test's coroutine
    # (the cleanups would wait for that to finish); cancelling ends only the coroutine, the task goes on.
    # Python 3.11 and later run each coroutine in a task of its own.
    task = getattr(test, "_asyncioCallsTask", None)
    loop = getattr(test, "_asyncioTestLoop", None)
    if task is None or loop is None:
        return
    if not task.done():
        task.cancel()
        return
    started = loop.create_future()
    test._asyncioCallsTask = loop.create_task(test._asyncioLoopRunner(started))
    loop.run_until_complete(started)


class _AwaitedOnInstance:
    """``self.create`` awaited, while ``cls.create`` stays the mixin's class-scoped, sync one."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        functools.update_wrapper(self, func)  # type: ignore[arg-type]

    def __get__(self, instance: Any, owner: type) -> Callable[..., Any]:
        if instance is None:
            return TestDataMixin.__dict__["create"].__get__(None, owner)
        return functools.partial(self.func, instance)


class AsyncDataTestCase(TestDataMixin, unittest.IsolatedAsyncioTestCase):
    """An ``IsolatedAsyncioTestCase`` with :class:`~testdata_kit.TestDataMixin`: ``await self.create("user")``.

    Same as :class:`~testdata_kit.DataTestCase`, except that :meth:`create` is awaited (for sync and async
    factories alike) and :meth:`scenario` returns an :class:`AsyncScenario`. Async deleters run in the test's
    event loop, after ``asyncTearDown``, newest first together with the sync cleanups; so does the cleanup
    after a SIGINT or SIGTERM. Create the test's async clients in ``asyncSetUp`` and close them with
    ``addAsyncCleanup(client.aclose)``: an httpx client belongs to one event loop, and each test has its own.
    """

    @_AwaitedOnInstance
    async def create(self, kind: str | Factory, /, *args: Any, **overrides: Any) -> Any:
        """Create a resource of *kind* owned by this test and return it; awaited for every kind.

        ``cls.create`` in ``setUpClass`` is :meth:`TestDataMixin.create <testdata_kit.TestDataMixin.create>`,
        not awaited: sync kinds only, since no event loop runs there.

        :param kind: a kind name declared with ``@creates``, or the factory itself.
        :param overrides: keyword arguments passed to the factory.
        """
        factory = kind if isinstance(kind, Factory) else self.registry.get(kind)
        value = factory.create_in("test", self, args, overrides)
        return (await value) if factory.is_async else value

    def scenario(self, **options: Any) -> AsyncScenario:
        """Return an :class:`AsyncScenario` whose resources this test owns: ``s = await self.scenario().user()``."""
        return AsyncScenario(registry=self.registry, owner=self, **options)

    def _callSetUp(self) -> None:
        with _unwinding(self):
            super()._callSetUp()  # type: ignore[misc]

    def _callTestMethod(self, method: Callable[..., Any]) -> None:
        with _unwinding(self):
            super()._callTestMethod(method)  # type: ignore[misc]

    def _callTearDown(self) -> None:
        with _unwinding(self):
            super()._callTearDown()  # type: ignore[misc]

    def _callCleanup(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        with _unwinding(self):
            super()._callCleanup(function, *args, **kwargs)
