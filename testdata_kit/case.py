"""DataTestCase and its mixin: per-test tracking of created data, and the ``uses`` injection decorator."""

from __future__ import annotations

import functools
import inspect
import unittest
from collections.abc import Callable

from testdata_kit import _scopes, ledger
from testdata_kit.errors import LeakError, UsageError
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
        _scopes.push_class(cls)
        try:
            return func(cls, *args, **kwargs)
        finally:
            _scopes.pop_class(cls)

    wrapper.__testdata_class_context__ = True  # type: ignore[attr-defined]
    return wrapper


class TestDataMixin:
    """Mixin for ``unittest.TestCase`` that tracks everything a test creates and deletes it after the test.

    Same as a plain TestCase, except that factories called inside a test (or ``self.create``) register their
    deletion with ``addCleanup``; inside ``setUpClass``, ``cls.create`` and factory calls register with
    ``addClassCleanup``. Put it before ``unittest.TestCase`` in the bases.
    """

    #: Where ``self.create("name")`` looks kinds up; set it on a class to use a registry of its own.
    registry: Registry = default_registry

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # TestCase relies on __init_subclass__ to give each class its own class-cleanup list.
        super().__init_subclass__(**kwargs)
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
        _details.watch()
        _scopes.push_test(self)  # type: ignore[arg-type]
        try:
            return super().run(_seeding.reporting_result(result, self))  # type: ignore[misc, arg-type]
        finally:
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
        return super().doCleanups()  # type: ignore[misc]

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
