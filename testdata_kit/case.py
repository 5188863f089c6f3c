"""DataTestCase and its mixin: per-test tracking of created data, and the ``uses`` injection decorator."""

from __future__ import annotations

import functools
import inspect
import os
import unittest
from collections.abc import Callable

from testdata_kit import _interrupts, _scopes, ledger
from testdata_kit.errors import CleanupError, CleanupErrorGroup, LeakError, TestDataError, UsageError
from testdata_kit.kinds import Factory, Registry, default_registry

# Names for annotations only. Importing typing would add a few milliseconds to ``import testdata_kit``, which
# unittest itself does not pay; type checkers treat this constant as True.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

    from testdata_kit.scenario import Scenario

__all__ = ["DataTestCase", "TestDataMixin", "uses"]

__unittest = True  # failures raised here point at the user's test, not at these frames


class _TestOrClassMethod:
    """A method that binds to the instance when there is one, else to the class (``self.create``/``cls.create``)."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        functools.update_wrapper(self, func)  # type: ignore[arg-type]

    def __get__(self, instance: Any, owner: type) -> Callable[..., Any]:
        return functools.partial(self.func, owner if instance is None else instance)


def _with_class_context(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(cls: type, *args: Any, **kwargs: Any) -> Any:
        if func.__name__ == "setUpClass" and _interrupts.received() is not None and not _under_pytest():
            # The run was interrupted before this class: set nothing up, and let unittest skip its tests.
            raise _interrupts.ClassInterrupted(func.__name__, _interrupts.received() or 0)
        _scopes.push_class(cls)
        popped = False
        try:
            return func(cls, *args, **kwargs)
        except _interrupts.Interrupted as interrupt:
            popped = True
            _scopes.pop_class(cls)  # unwinds: every pending cleanup runs
            if _under_pytest():
                raise  # pytest reports a KeyboardInterrupt as an interrupted session, with its summary
            # An ordinary error, which unittest reports as this class's and then carries on to its summary.
            raise _interrupts.ClassInterrupted(func.__name__, interrupt.signum) from None
        finally:
            if not popped:
                _scopes.pop_class(cls)

    wrapper.__testdata_class_context__ = True  # type: ignore[attr-defined]
    return wrapper


def _under_pytest() -> bool:
    return "PYTEST_CURRENT_TEST" in os.environ


class TestDataMixin:
    """Mixin for ``unittest.TestCase`` that tracks everything a test creates and deletes it after the test.

    Same as a plain TestCase, except that factories called inside a test (or ``self.create``) register their
    deletion with ``addCleanup``; inside ``setUpClass``, ``cls.create`` and factory calls register with
    ``addClassCleanup``. Put it before ``unittest.TestCase`` in the bases.
    """

    #: Where ``self.create("name")`` looks kinds up; set it on a class to use a registry of its own.
    registry: Registry = default_registry
    _testdata_base_call = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # TestCase relies on __init_subclass__ to give each class its own class-cleanup list.
        super().__init_subclass__(**kwargs)
        # Whether the _callCleanup that ours wraps is unittest's plain call (not an asyncio test case's).
        cls._testdata_base_call = getattr(super(), "_callCleanup", None) \
            is unittest.TestCase._callCleanup  # type: ignore[attr-defined]
        for name in ("setUpClass", "tearDownClass"):
            method = cls.__dict__.get(name)
            if isinstance(method, classmethod) and not hasattr(method.__func__, "__testdata_class_context__"):
                setattr(cls, name, classmethod(_with_class_context(method.__func__)))

    def run(self, result: Any = None) -> Any:
        # The seed note and the per-test details join this test's failure report. Imported here, at the first
        # test, to keep ``import testdata_kit`` light.
        from testdata_kit import _details, _seeding

        _scopes.note_usage()
        if not _scopes.hook_result(result):
            return result  # a setting is unusable: the run stops with that one error
        if _interrupts.received() is not None and _stop_runner(result):
            return result  # the run was interrupted before this test: create nothing more
        _details.watch()
        _scopes.push_test(self)  # type: ignore[arg-type]
        popped = False
        try:
            return super().run(_seeding.reporting_result(result, self))  # type: ignore[misc, arg-type]
        except _interrupts.Interrupted as interrupt:
            # Unwind first (every pending cleanup runs), then report the test as interrupted and let the runner
            # stop and print its summary, as unittest does after Ctrl-C under -c; a result that cannot stop
            # the run gets the interrupt itself.
            popped = True
            _scopes.pop_test(self)  # type: ignore[arg-type]
            if not _report_interrupted(self, result, interrupt):
                raise
            return result
        finally:
            if not popped:
                _scopes.pop_test(self)  # type: ignore[arg-type]
            # Reported by now (failure text, the runner's JUnit properties): a long run keeps no test's events.
            # pytest reads the properties after this returns, so they stay on the test.
            self.__dict__["_testdata_properties"] = _details.properties(self)
            _details.forget(self)

    @property
    def fake(self) -> Any:
        """Realistic fake values seeded for this test (needs ``testdata_kit[fake]``); see :mod:`testdata_kit.fake`."""
        from testdata_kit.fake import for_test

        return for_test(self)  # type: ignore[arg-type]

    def doCleanups(self) -> Any:
        # Record whether the test failed *before* the first cleanup runs: a failing deletion must not turn
        # "keep the data of failed tests" on for the rest of this test's resources.
        outcome = getattr(self, "_outcome", None)
        self._testdata_failed = outcome is not None and not outcome.success
        self._testdata_cleanup_errors: list[BaseException] | None = []
        try:
            success = super().doCleanups()  # type: ignore[misc]
        finally:
            failed, self._testdata_cleanup_errors = self._testdata_cleanup_errors or [], None
        if failed:
            # One error for all the failed deletions, after the test's own failure: pytest reports a single
            # error per phase of a test, so separate ones would hide all but the first.
            error = failed[0] if len(failed) == 1 else CleanupErrorGroup(failed)
            if outcome is None:
                raise error
            with outcome.testPartExecutor(self):
                raise error
            success = False
        return success

    def _callCleanup(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        try:
            if self._testdata_base_call:
                function(*args, **kwargs)  # unittest's own _callCleanup, without its call
            else:
                # Through the base class's call, which an asyncio test case uses to await coroutine cleanups.
                super()._callCleanup(function, *args, **kwargs)  # type: ignore[misc]
        except CleanupError as error:
            collected = self.__dict__.get("_testdata_cleanup_errors")
            if collected is None:  # not from doCleanups (TestCase.debug): every error is raised as it comes
                raise
            collected.append(error)
        except TestDataError as error:
            collected = self.__dict__.get("_testdata_cleanup_errors")
            grouped = getattr(error, "errors", None)  # a scenario's teardown: several failed deletions
            if collected is None or not (isinstance(grouped, list) and grouped
                                         and all(isinstance(e, CleanupError) for e in grouped)):
                raise
            collected.extend(grouped)

    @_TestOrClassMethod
    def create(self_or_cls: Any, kind: str | Factory, /, *args: Any, **overrides: Any) -> Any:
        """Create a resource of *kind* owned by this test (``self.create``) or class (``cls.create``).

        :param kind: a kind name declared with ``@creates`` or the factory itself.
        :param overrides: keyword arguments passed to the factory.
        """
        factory = kind if isinstance(kind, Factory) else self_or_cls.registry.get(kind)
        scope = "class" if isinstance(self_or_cls, type) else "test"
        return factory.create_in(scope, self_or_cls, args, overrides)

    def scenario(self, **options: Any) -> Scenario:
        """Return a scenario builder whose resources this test owns: ``self.scenario().user().order()``.

        :param options: passed to :class:`~testdata_kit.scenario.Scenario`, e.g. ``workers=1`` for serial teardown.
        """
        from testdata_kit.scenario import Scenario

        return Scenario(registry=self.registry, owner=self, **options)

    def assertNoLeaks(self) -> None:
        """Fail if any deletion in this process failed so far, listing each leaked resource."""
        leaks = ledger.current().leaks
        if leaks:
            raise LeakError(list(leaks))


def _stop_runner(result: Any) -> bool:
    """Ask the runner behind *result* to run no further test; ``False`` when it has no way to be asked."""
    session = getattr(result, "session", None)  # pytest's unittest integration passes its test item
    if session is not None and hasattr(session, "shouldstop"):
        signum = _interrupts.received()
        session.shouldstop = _interrupts.Interrupted(signum).args[0] if signum else "interrupted"
        return True
    if result is not None and hasattr(result, "shouldStop"):
        result.shouldStop = True
        return True
    return False


def _interrupted_error(interrupt: _interrupts.Interrupted) -> BaseException:
    # Raised and caught here so that the report carries a traceback of this module only, which unittest (and
    # pytest's unittest support) leave out: the test is named as interrupted, without a traceback.
    __tracebackhide__ = True  # pytest's equivalent of ``__unittest``
    try:
        raise _interrupts.Interrupted(interrupt.signum) from None
    except _interrupts.Interrupted as error:
        return error


def _report_interrupted(test: Any, result: Any, interrupt: _interrupts.Interrupted) -> bool:
    """Report *test* as an error "interrupted by SIGNAL" and stop the run; ``False`` when *result* cannot."""
    if result is None or not hasattr(result, "addError") or not _stop_runner(result):
        return False
    error = _interrupted_error(interrupt)
    result.addError(test, (type(error), error, error.__traceback__))
    return True


class DataTestCase(TestDataMixin, unittest.TestCase):
    """A ``unittest.TestCase`` with :class:`TestDataMixin` applied."""


def _spec_maker(spec: Any) -> Callable[[Any], Any]:
    if isinstance(spec, str):
        return lambda test: getattr(test, "registry", default_registry).get(spec).create_in("test", test, (), {})
    if isinstance(spec, Factory):
        return lambda test: spec.create_in("test", test, (), {})
    if callable(spec):
        return lambda test: spec()
    raise UsageError(
        f"uses() takes kind names, @creates factories or zero-argument callables, got {spec!r}. "
        f"For overrides write uses(item=lambda: product(price=25))."
    )


def uses(*kinds: str | Factory, **named: Any) -> Callable[[Any], Any]:
    """Inject freshly created resources into a test method as keyword arguments, like ``mock.patch``.

    ``@uses("user")`` passes ``user=``; ``@uses(buyer="user", item=lambda: product(price=25))`` passes
    ``buyer=`` and ``item=``. Resources are created when the test runs, in the order given, and deleted after
    it, so ``@unittest.skip`` still prevents any creation. On a TestCase class it wraps every ``test*`` method.
    """
    specs: list[tuple[str, Callable[[Any], Any]]] = []
    for kind in kinds:
        name = kind.kind if isinstance(kind, Factory) else kind
        if not isinstance(name, str):
            raise UsageError(f"uses() positional arguments must be kind names or factories, got {kind!r}.")
        specs.append((name, _spec_maker(kind)))
    specs += [(name, _spec_maker(spec)) for name, spec in named.items()]

    def decorate(target: Any) -> Any:
        if isinstance(target, type):
            if not issubclass(target, unittest.TestCase):
                raise UsageError(
                    f"Can only decorate unittest.TestCase subclasses, not {target!r}. Make it a TestCase, or "
                    f"decorate its test methods."
                )
            prefix = unittest.TestLoader.testMethodPrefix
            for attr in dir(target):
                method = getattr(target, attr)
                if attr.startswith(prefix) and callable(method):
                    setattr(target, attr, decorate(method))
            return target
        if not callable(target):
            raise UsageError(f"uses() decorates test methods and TestCase classes, not {target!r}.")
        return _wrap_method(target, specs)

    return decorate


def _wrap_method(method: Callable[..., Any], specs: list[tuple[str, Callable[[Any], Any]]]) -> Callable[..., Any]:
    def inject(test: Any, kwargs: dict[str, Any]) -> None:
        # Make the test current even on a plain TestCase, so that callables such as
        # ``lambda: product(price=25)`` find their owner.
        _scopes.push_test(test)
        try:
            for name, make in specs:
                if name in kwargs:
                    raise UsageError(f"{method.__qualname__}() got {name!r} from two uses() decorators; rename one.")
                kwargs[name] = make(test)
        finally:
            _scopes.pop_test(test)

    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def async_wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            inject(self, kwargs)
            return await method(self, *args, **kwargs)

        return async_wrapper

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        inject(self, kwargs)
        return method(self, *args, **kwargs)

    return wrapper
