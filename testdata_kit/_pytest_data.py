"""pytest-native test data: who owns what a plain test or a fixture creates, the ``testdata`` fixture, options.

:mod:`testdata_kit.pytest_plugin` imports these hooks, so that pytest finds them through the ``pytest11`` entry
point. unittest gives each test ``addCleanup``; a plain pytest test has none, so each test and each fixture
gets an :class:`Owner` whose cleanups pytest runs as finalizers: a test's data goes newest first right after
the test, before its fixtures are torn down, and a failed deletion is an error of that test; a fixture's data
goes when the fixture is finished (after the last test of its scope), before the code after its ``yield``.

Under pytest-asyncio the same owners take async deletions (``addAsyncCleanup``): they are awaited in the event
loop that was running when they were registered (the test's, or the async fixture's), which pytest-asyncio
closes only after these cleanups ran.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shlex
import unittest
from collections.abc import Callable, Generator
from typing import Any

import pytest

from testdata_kit import _details, _run, _scopes
from testdata_kit._env import KEEP_ENV
from testdata_kit.errors import UsageError
from testdata_kit.kinds import Factory, Registry, default_registry

__all__ = ["Owner", "TestData", "fixture_for"]

_OWNER = pytest.StashKey["Owner"]()
# pytest's unittest support runs TestCase classes itself; DataTestCase tracks those, and their class
# fixtures belong to setUpClass, not to an owner of ours.
_UNITTEST_FIXTURE_PREFIX = "_unittest_"


class Owner:
    """Owns the data created in one pytest test or one fixture; unittest's ``addCleanup``, pytest's way.

    :param name: the id shown in reports and used to seed fake values (the test's node id).
    :param finalize: registers a zero-argument cleanup with pytest (``item.addfinalizer``); ``None`` collects
        them until :meth:`hand_over`.
    """

    def __init__(self, name: str, finalize: Callable[[Callable[[], object]], None] | None = None) -> None:
        self._name = name
        self._finalize = finalize
        self._pending: list[Callable[[], object]] = []
        self._all: list[Callable[[], object]] = []

    def id(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<pytest owner {self._name}>"

    def addCleanup(self, function: Callable[..., object], /, *args: Any, **kwargs: Any) -> None:
        cleanup = _Once(functools.partial(function, *args, **kwargs))
        self._all.append(cleanup)
        if self._finalize is None:
            self._pending.append(cleanup)
        else:
            self._finalize(cleanup)

    def addAsyncCleanup(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Same as :meth:`addCleanup` for a coroutine function: awaited in the event loop running now.

        pytest runs cleanups outside any running loop; the one the test (or async fixture) ran in is still
        open then, and it is the loop its httpx clients belong to.
        """
        self.addCleanup(_await_in, _running_loop(), functools.partial(function, *args, **kwargs))

    def doCleanups(self) -> None:
        """Run the cleanups pytest has not run yet, newest first (an interrupt unwinds through here)."""
        while self._all:
            # The ledger records a failed deletion; the rest still get their turn.
            with contextlib.suppress(Exception):
                self._all.pop()()

    def hand_over(self, finalize: Callable[[Callable[[], object]], None]) -> None:
        """Register the collected cleanups, oldest first, so that pytest runs them newest first."""
        self._finalize = finalize
        pending, self._pending = self._pending, []
        for cleanup in pending:
            finalize(cleanup)


def _running_loop() -> Any:
    import asyncio  # only for async deletions, so that sync suites never import asyncio

    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _await_in(loop: Any, call: Callable[[], Any]) -> Any:
    """Run ``await call()`` to its end in *loop*, or in a new loop once *loop* is closed (or there was none)."""
    import asyncio

    if loop is not None and not loop.is_closed() and not loop.is_running():
        return loop.run_until_complete(call())
    return asyncio.run(call())


class _Once:
    """A cleanup that runs at most once, whether pytest's finalizer or an interrupt gets to it first."""

    __slots__ = ("_call",)

    def __init__(self, call: Callable[[], object]) -> None:
        self._call: Callable[[], object] | None = call

    def __call__(self) -> None:
        __tracebackhide__ = True  # pytest: the traceback ends in the deleter, not here
        call, self._call = self._call, None
        if call is not None:
            call()


class TestData:
    """The ``testdata`` fixture: create, fake values and scenarios owned by the test (or fixture) running now.

    Data created in the test body is deleted after the test, newest first; data created inside another
    fixture belongs to that fixture and lives as long as it.
    """

    __test__ = False  # not a test class, whatever pytest's python_classes say

    def __init__(self, registry: Registry = default_registry) -> None:
        self.registry = registry

    def create(self, kind: str | Factory, /, *args: Any, **overrides: Any) -> Any:
        """Create a resource of *kind* (a ``@creates`` name or factory) owned by the running test; return it.

        For an async kind it returns an awaitable: ``user = await testdata.create("user")`` in an async test
        (pytest-asyncio); the async deletion is awaited in the test's event loop after the test.
        """
        factory = kind if isinstance(kind, Factory) else self.registry.get(kind)
        return factory.create_in(None, None, args, overrides)

    @property
    def fake(self) -> Any:
        """Fake values seeded for the running test (needs ``testdata_kit[fake]``), as ``self.fake`` in a TestCase."""
        from testdata_kit import fake

        return fake.current()

    def scenario(self, **options: Any) -> Any:
        """Return a scenario owned by the running test: ``testdata.scenario().user().order()``."""
        from testdata_kit.scenario import Scenario

        return Scenario(registry=self.registry, **options)

    def ascenario(self, **options: Any) -> Any:
        """Return an :class:`~testdata_kit.aio.AsyncScenario` owned by the running async test.

        ``s = await testdata.ascenario().user()``; its teardown is awaited in the test's event loop after the
        test, independent branches together, children first.
        """
        from testdata_kit.aio import AsyncScenario

        return AsyncScenario(registry=self.registry, **options)

    def __repr__(self) -> str:
        return "<testdata: creates in the running test or fixture>"


@pytest.fixture
def testdata() -> TestData:
    """Create test data owned by this test: ``testdata.create("user", name="Ann")``, ``testdata.fake``,
    ``testdata.scenario()``; everything is deleted after the test, newest first."""
    return TestData()


def fixture_for(
    kind: str | Factory, *, scope: str = "function", name: str | None = None, registry: Registry | None = None,
    **overrides: Any,
) -> Any:
    """Return a pytest fixture that creates one resource of *kind* and deletes it when the fixture ends.

    ``user = fixture_for("user")`` in a ``conftest.py`` gives tests a ``user`` argument;
    ``tenant = fixture_for("tenant", scope="session")`` creates one tenant for the whole session (per xdist
    worker) and deletes it at the end.

    For an async kind (an ``async def`` factory) the fixture is a pytest-asyncio one, whose event loop has
    the fixture's scope: the creation and the deletion are awaited in it. Declare the kind before calling
    ``fixture_for`` (or pass the factory), so that it is known to be async.

    :param scope: pytest's fixture scope: ``"function"``, ``"class"``, ``"module"``, ``"package"`` or
        ``"session"``.
    :param name: the fixture's name; default: the kind's name.
    :param registry: where a kind name is looked up; default: :data:`~testdata_kit.default_registry`.
    :param overrides: keyword arguments for the factory.
    :raises UsageError: for an async kind without pytest-asyncio installed, or, when the fixture runs, for an
        async kind declared only after ``fixture_for`` was called.
    """
    kind_name = kind.kind if isinstance(kind, Factory) else kind
    lookup = registry or default_registry
    known = kind if isinstance(kind, Factory) else (lookup.get(kind) if kind in lookup else None)

    def factory() -> Factory:
        found = kind if isinstance(kind, Factory) else lookup.get(kind)
        if found.is_async and (known is None or not known.is_async):
            raise UsageError(
                f"fixture_for({kind_name!r}) was called before the async kind {kind_name!r} was declared, so it "
                f"made a sync fixture. Declare @creates({kind_name!r}) first (import its module in conftest.py "
                f"above the fixture_for line), or pass the factory itself."
            )
        return found

    def make() -> Any:
        # The owner pushed for this fixture (see pytest_fixture_setup) owns it for the fixture's lifetime.
        return factory().create_in(None, None, (), dict(overrides))

    async def amake() -> Any:
        return await factory().create_in(None, None, (), dict(overrides))

    fixture: Callable[..., Any] = amake if known is not None and known.is_async else make
    fixture.__name__ = fixture.__qualname__ = name or kind_name
    fixture.__doc__ = f"One {kind_name!r} created for this {scope} scope and deleted when it ends."
    if fixture is amake:
        try:
            import pytest_asyncio
        except ImportError:
            raise UsageError(
                f"fixture_for({kind_name!r}) makes an async fixture, for the async kind {kind_name!r}, and async "
                f"fixtures need pytest-asyncio. Install it with: pip install pytest-asyncio"
            ) from None
        return pytest_asyncio.fixture(scope=scope, loop_scope=scope, name=name or kind_name)(amake)  # type: ignore[call-overload]
    return pytest.fixture(scope=scope, name=name or kind_name)(make)  # type: ignore[call-overload]


def _is_unittest(item: Any) -> bool:
    cls = getattr(item, "cls", None)
    return isinstance(cls, type) and issubclass(cls, unittest.TestCase)


def _owner(item: Any) -> Owner | None:
    if _is_unittest(item):
        return None
    owner = item.stash.get(_OWNER, None)
    if owner is None:
        owner = item.stash[_OWNER] = Owner(item.nodeid, item.addfinalizer)
    return owner


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: Any) -> Generator[None, None, None]:
    _details.watch()
    owner = _owner(item)
    if owner is None:
        return (yield)
    _scopes.note_usage()
    _scopes.push_test(owner)  # type: ignore[arg-type]
    try:
        return (yield)
    finally:
        _scopes.pop_test(owner)  # type: ignore[arg-type]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: Any) -> Generator[None, None, None]:
    owner = _owner(item)
    if owner is None:
        return (yield)
    _scopes.push_test(owner)  # type: ignore[arg-type]
    try:
        return (yield)
    finally:
        _scopes.pop_test(owner)  # type: ignore[arg-type]


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Generator[None, None, Any]:
    if fixturedef.argname.startswith(_UNITTEST_FIXTURE_PREFIX) or _is_unittest(getattr(request, "node", None)):
        return (yield)
    node = getattr(request, "node", None)
    where = getattr(node, "nodeid", "") or "session"
    owner = Owner(f"{where}::{fixturedef.argname}")
    _scopes.push_test(owner)  # type: ignore[arg-type]
    try:
        return (yield)
    finally:
        _scopes.pop_test(owner)  # type: ignore[arg-type]
        # Registered after the fixture's own teardown, so they run before the code after its yield.
        owner.hand_over(fixturedef.addfinalizer)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Generator[None, Any, Any]:
    owner = _owner(item)
    if call.when == "teardown" and owner is not None:
        # Properties are read from the teardown report, after the test's data was deleted.
        item.user_properties.extend(_details.properties(owner))
    report = yield
    if owner is None:
        # A DataTestCase ran under pytest's unittest support: it kept its properties (see DataTestCase.run).
        found = getattr(getattr(item, "instance", None), "_testdata_properties", None)
        if call.when == "call" and found:
            item.user_properties.extend(found)
        return report
    state = owner.__dict__
    # Read by TESTDATA_KEEP=failed at deletion time; once set, later HTTP exchanges are the cleanups' own.
    if (call.when == "setup" and report.failed) or call.when == "call":
        state["_testdata_failed"] = bool(state.get("_testdata_failed")) or report.failed
    if report.failed:
        text = _failure_text(owner)
        if text:
            report.sections.append(("testdata_kit", text))
            if call.when != "setup":
                item.user_properties.append(("testdata_kit.details", text))
    if call.when == "teardown":
        _details.forget(owner)
    return report


def _failure_text(owner: Owner) -> str:
    from testdata_kit import _seeding

    text = _details.failure_text(owner)
    if "_testdata_fakes" in owner.__dict__:
        seed = _run.run_seed()
        text += (f"\ntestdata_kit: fake values came from {_run.RUN_SEED_ENV}={seed} (test seed "
                 f"{_seeding.test_seed(owner.id(), seed):016x}). Same values again: python -m pytest "
                 f"--testdata-seed {shlex.quote(seed)} {shlex.quote(owner.id())}")
    return text.strip("\n")


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("testdata_kit", "testdata_kit: test data")
    group.addoption(
        "--testdata-seed", metavar="SEED", default=None,
        help=f"seed of fake values, the same as {_run.RUN_SEED_ENV}=SEED; default: one random seed per run, "
             f"printed in the header",
    )
    group.addoption(
        "--testdata-keep", action="store_const", const="failed", default=None,
        help=f"keep the data of failed tests for debugging, the same as {KEEP_ENV}=failed",
    )


def pytest_configure(config: Any) -> None:
    seed = config.getoption("testdata_seed", None) or getattr(config, "workerinput", {}).get("testdata_seed")
    if seed:
        _run.use_run_seed(str(seed))
    if config.getoption("testdata_keep", None):
        os.environ[KEEP_ENV] = "failed"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    # pytest-xdist: the controller's seed (the one its header printed) reaches every worker.
    node.workerinput["testdata_seed"] = _run.run_seed()


def pytest_report_header(config: Any) -> str:
    seed = _run.run_seed()
    line = f"testdata_kit: fake values seeded with {_run.RUN_SEED_ENV}={seed} (replay: --testdata-seed {seed})"
    if config.pluginmanager.hasplugin("randomly"):
        # It reseeds random and mimesis' global seed before each test; our providers use neither.
        line += "; --randomly-seed only changes the order, not these values"
    return line
