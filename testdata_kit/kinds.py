"""Kinds of resource: ``@creates`` declarations, the registry that names them, and creation in a scope."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator

from testdata_kit import _scopes, resources
from testdata_kit.errors import DuplicateKindError, FactoryProtocolError, UnknownKindError

# Names for annotations only. Importing typing would add a few milliseconds to ``import testdata_kit``, which
# unittest itself does not pay; type checkers treat this constant as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Factory", "Registry", "create", "creates", "default_registry"]


class Registry:
    """A name-to-kind map. A second declaration of one kind is an error unless ``replace=True``.

    Last-wins would let two modules that both declare ``user`` silently fight over which one a test gets,
    depending on import order; an error names both places instead.
    """

    def __init__(self) -> None:
        self._kinds: dict[str, Factory] = {}

    def add(self, factory: Factory, replace: bool = False) -> None:
        existing = self._kinds.get(factory.kind)
        if existing is not None and not replace:
            raise DuplicateKindError(factory.kind, existing.func, factory.func)
        self._kinds[factory.kind] = factory

    def get(self, kind: str) -> Factory:
        try:
            return self._kinds[kind]
        except KeyError:
            raise UnknownKindError(kind, sorted(self._kinds)) from None

    def __contains__(self, kind: object) -> bool:
        return kind in self._kinds

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._kinds))

    def kinds(self) -> list[str]:
        return sorted(self._kinds)

    def check(self) -> None:
        """Raise :class:`UnknownKindError` for the first ``needs=`` entry that names no declared kind."""
        for factory in self._kinds.values():
            factory.check_needs()

    def remove(self, kind: str) -> None:
        self._kinds.pop(kind, None)


default_registry = Registry()


class Factory:
    """A declared kind: calling it creates the resource and registers its deletion in the current scope.

    :param recover: ``"module:function"`` deleting one resource given its id, journalled for ``sweep --journal``.
    :param recovery: a callable returning the journal's recovery record of a created value, for kinds whose
        deletion another process can replay by itself: ``{"method": "DELETE", "url": ...}`` (see
        :func:`~testdata_kit.resources.tracked`); it takes precedence over *recover*.
    """

    def __init__(
        self, kind: str, func: Callable[..., Any], *, needs: tuple[str, ...], delete: Callable[[Any], object] | None,
        gone: tuple[type[BaseException], ...], registry: Registry, recover: str | None = None,
        refused: tuple[int | type[BaseException], ...] | None = None,
        recovery: Callable[[Any], dict[str, Any] | None] | None = None,
    ) -> None:
        self.kind = kind
        #: Statuses and exception types of the deleter that mean "refused for now"; ``None``: the defaults.
        self.refused = refused
        #: Returns the journal's recovery record of a created value (``{"method": "DELETE", "url": ...}``),
        #: for a kind that knows where its items live (OpenAPI-derived kinds); it takes precedence over *recover*.
        self.recovery = recovery
        #: ``"module:function"`` that deletes this kind given the resource's id, for replay after a crash.
        self.recover = recover
        self.func = func
        self.needs = needs
        self.delete = delete
        self.gone = gone
        self.registry = registry
        self.is_generator = inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func)
        #: Whether creating is awaited: an async generator or a coroutine function (see :meth:`acreate_resource`).
        self.is_async = inspect.isasyncgenfunction(func) or inspect.iscoroutinefunction(func)
        # What tracked() needs of this kind besides the make call, built once.
        self._options: dict[str, Any] = {
            "gone": gone, "recovery": None if recover is None and recovery is None else self._recovery,
            "refused": refused}
        # The same, as resources._tracked takes them (tuples), for the sync creation path.
        self._gone_tuple = tuple(gone)
        self._refused_tuple = None if refused is None else tuple(refused)
        # A sync kind whose class does not extend create_resource: a call may go straight to tracked_in.
        self._plain = not self.is_async and type(self).create_resource is Factory.create_resource
        # The deleter of the plain-function form, which the resource calls with the value: no partial per creation.
        self._deleter = delete if self._plain and not self.is_generator and type(self).make is Factory.make else None
        self._recovery_of = self._options["recovery"]
        self._needs_checked = not needs
        functools.update_wrapper(self, func)

    def __repr__(self) -> str:
        form = "generator" if self.is_generator else "delete=" + getattr(self.delete, "__name__", repr(self.delete))
        form = f"async {form}" if self.is_async else form
        needs = f" needs={list(self.needs)}" if self.needs else ""
        return f"<Factory {self.kind} ({form}){needs}>"

    def check_needs(self) -> None:
        for need in self.needs:
            if need not in self.registry:
                raise UnknownKindError(need, self.registry.kinds(), needed_by=self.kind) from None
        self._needs_checked = True

    def make(self, *args: Any, **kwargs: Any) -> tuple[Any, Callable[[], object]]:
        """Create the resource without tracking it; return it and the zero-argument call that deletes it."""
        if not self._needs_checked:
            self.check_needs()
        if not self.is_generator:
            value = self.func(*args, **kwargs)
            assert self.delete is not None  # @creates refuses a plain function without delete=
            return value, functools.partial(self.delete, value)
        generator = self.func(*args, **kwargs)
        try:
            value = next(generator)
        except StopIteration:
            raise FactoryProtocolError(
                f"Generator factory {self.kind!r} ({_where(self.func)}) returned without yielding. "
                f"Yield the created resource exactly once, and delete it after the yield."
            ) from None
        return value, functools.partial(_finish_generator, self.kind, self.func, generator)

    async def amake(self, *args: Any, **kwargs: Any) -> tuple[Any, Callable[[], object]]:
        """Same as :meth:`make` for an async factory: await the creation; the deleter returned is async too."""
        from testdata_kit import _async_kinds

        if not self._needs_checked:
            self.check_needs()
        return await _async_kinds.make(self.kind, self.func, self.delete, _where(self.func), args, kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Create the resource in the running test (or the class, inside ``setUpClass``) and return it.

        For an async factory this returns an awaitable: ``user = await user_factory()``.
        """
        # create_in(None, None, args, kwargs), without its call layers: this is every test's way of creating.
        test = _scopes.current_test()  # resolve()'s first answer, without its other checks
        scope, holder = ("test", test) if test is not None else _scopes.resolve(None, None, self.kind)
        if self._plain:  # create_resource's own steps, for a sync kind of a class that keeps them
            if self._deleter is not None and self._needs_checked:
                # make()'s plain form without its call and its partial: the resource calls delete(value).
                return resources.tracked_in(self.kind, self.func, args, kwargs, scope, holder, self._gone_tuple,
                                            self._recovery_of, True, self._refused_tuple, self._deleter).value
            return resources.tracked_in(self.kind, self.make, args, kwargs, scope, holder, self._gone_tuple,
                                        self._recovery_of, True, refused=self._refused_tuple).value
        if self.is_async:
            return self._acreate_value(scope, holder, args, kwargs)
        return self.create_resource(scope, holder, args, kwargs).value

    def in_scope(self, scope: str, owner: Any = None) -> Callable[..., Any]:
        """Return a callable that creates in *scope*: ``user.in_scope("module")(name="Ref")``."""
        return lambda *args, **kwargs: self.create_in(scope, owner, args, kwargs)

    def create_in(self, scope: str | None, owner: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        # Resolve the scope first: a resource nobody could delete must not be created at all.
        scope, holder = _scopes.resolve(scope, owner, self.kind)
        if self.is_async:
            return self._acreate_value(scope, holder, args, kwargs)
        return self.create_resource(scope, holder, args, kwargs).value

    async def _acreate_value(self, scope: str, holder: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return (await self.acreate_resource(scope, holder, args, kwargs)).value

    async def acreate_resource(
        self, scope: str, holder: Any, args: tuple[Any, ...], kwargs: dict[str, Any], register: bool = True
    ) -> resources.Resource:
        """Same as :meth:`create_resource` for an async factory, through :func:`testdata_kit.resources.atracked`."""
        return await resources.atracked(self.kind, functools.partial(self.amake, *args, **kwargs), scope=scope,
                                        owner=holder, register=register, **self._options)

    def create_resource(
        self, scope: str, holder: Any, args: tuple[Any, ...], kwargs: dict[str, Any], register: bool = True
    ) -> resources.Resource:
        """Create, journal and record one resource in a scope that :func:`~testdata_kit._scopes.resolve` gave.

        Goes through :func:`testdata_kit.resources.tracked`, the one path of a tracked creation. An async
        factory goes through :meth:`acreate_resource` instead.

        :param register: register its deletion at the end of the scope; a scenario, which orders the
            deletions of its links itself, passes ``False`` and releases the resource when its turn comes.
        """
        if self.is_async:
            raise FactoryProtocolError(
                f"{self!r} is async: await it (await self.create({self.kind!r}), or await s.create() in an "
                f"AsyncScenario) from an async test such as testdata_kit.AsyncDataTestCase."
            )
        # tracked() without its resolve (done by the caller) and without a partial per creation. A failed
        # factory most likely created nothing, so its intent is abandoned (tracked()'s default).
        return resources.tracked_in(self.kind, self.make, args, kwargs, scope, holder, self._gone_tuple,
                                    self._recovery_of, register, refused=self._refused_tuple)

    def _recovery(self, value: Any) -> dict[str, Any] | None:
        if self.recovery is not None:
            return self.recovery(value)
        return None if self.recover is None else {"call": self.recover, "id": resources.plain_id(value)}


def _finish_generator(kind: str, func: Callable[..., Any], generator: Any) -> None:
    try:
        next(generator)
    except StopIteration:
        return
    generator.close()
    raise FactoryProtocolError(
        f"Generator factory {kind!r} ({_where(func)}) yielded more than once. Yield the created resource "
        f"exactly once; put the deletion after that single yield."
    )


def _where(func: Callable[..., Any]) -> str:
    code = getattr(func, "__code__", None)
    name = getattr(func, "__qualname__", repr(func))
    return f"{name} at {code.co_filename}:{code.co_firstlineno}" if code else name


def creates(
    kind: str, *, needs: Iterable[str] = (), delete: Callable[[Any], object] | None = None,
    gone: Iterable[type[BaseException]] = (), registry: Registry | None = None, replace: bool = False,
    recover: str | Callable[[Any], object] | None = None,
    refused: Iterable[int | type[BaseException]] | None = None,
) -> Callable[[Callable[..., Any]], Factory]:
    """Declare how a kind of resource is created and deleted.

    Decorate either a generator that creates, yields the resource once, then deletes it; or a plain function
    that returns the resource, together with ``delete=``, a callable that receives that resource. Both forms
    may be async (an ``async def`` generator, or a coroutine function whose ``delete=`` may be async too): the
    factory is then awaited, ``await self.create("user")``, from an async test (see :mod:`testdata_kit.aio`).

    :param kind: the name tests use, as in ``self.create("user")``.
    :param needs: kinds this one depends on; scenarios fill them in (checked on first use).
    :param delete: deleter for the plain-function form.
    :param gone: exception types the deleter raises when the resource no longer exists; they count as deleted.
    :param registry: where to declare the kind (default: :data:`default_registry`).
    :param replace: allow redeclaring an existing kind; otherwise a duplicate is a :class:`DuplicateKindError`.
    :param recover: a module-level function (or its ``"module:qualname"``) that deletes one resource of this
        kind given its id; the journal records it so that ``python -m testdata_kit sweep --journal`` can
        delete what a crashed run left behind.
    :param refused: what the deleter raises when the store refuses the deletion *for now* (a row still
        referenced by another): exception types, and statuses matched against the exception's ``status``
        attribute (these replace the configured ``refused-statuses``). Such a deletion is retried after the rest
        of the scope, pass after pass, and once more at the end of the run, before it counts as a leak.
        :class:`~testdata_kit.RetryLater`, a 5xx ``status`` and a ``status`` of ``None`` always mean "retry".
    """
    if not isinstance(kind, str) or not kind:
        raise FactoryProtocolError(
            f"@creates needs a kind name such as @creates('user'), got {kind!r}. Did you write @creates "
            f"without parentheses?"
        )
    needs = tuple(needs)
    gone = tuple(gone)
    refusals = None if refused is None else _refusals(kind, refused)
    recover_path = None if recover is None else _importable(kind, recover)

    def decorate(func: Callable[..., Any]) -> Factory:
        if not callable(func):
            raise FactoryProtocolError(
                f"@creates({kind!r}) must decorate a function or generator, got {func!r} "
                f"(of type {type(func).__name__})."
            )
        is_generator = inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func)
        if is_generator and delete is not None:
            raise FactoryProtocolError(
                f"@creates({kind!r}) got both a generator and delete=. A generator deletes after its yield; "
                f"drop delete=, or make {_where(func)} a plain function that returns the resource."
            )
        if not is_generator and delete is None:
            raise FactoryProtocolError(
                f"@creates({kind!r}) on the plain function {_where(func)} needs delete=, the callable that "
                f"removes what it returns. Or make it a generator: create, yield the resource, then delete."
            )
        if delete is not None and not callable(delete):
            raise FactoryProtocolError(f"delete= of @creates({kind!r}) must be callable, got {delete!r}.")
        factory = Factory(
            kind, func, needs=needs, delete=delete, gone=gone, registry=registry or default_registry,
            recover=recover_path, refused=refusals,
        )
        factory.registry.add(factory, replace=replace)
        return factory

    return decorate


def _refusals(kind: str, refused: Iterable[Any]) -> tuple[int | type[BaseException], ...]:
    items = tuple(refused)
    for item in items:
        is_status = isinstance(item, int) and not isinstance(item, bool) and 100 <= item <= 599
        if not is_status and not (isinstance(item, type) and issubclass(item, BaseException)):
            raise FactoryProtocolError(
                f"refused= of @creates({kind!r}) takes HTTP statuses and exception classes, got {item!r}; "
                f"e.g. refused=(409, StillReferenced)."
            )
    return items


def _importable(kind: str, recover: str | Callable[[Any], object]) -> str:
    if isinstance(recover, str):
        path = recover
    else:
        path = f"{getattr(recover, '__module__', '')}:{getattr(recover, '__qualname__', '')}"
    module, _, name = path.partition(":")
    if not module or not name or "<" in path or module == "__main__":
        raise FactoryProtocolError(
            f"recover= of @creates({kind!r}) must be a module-level function or its 'module:qualname', got "
            f"{recover!r}. Another process imports it to delete leftovers, so it cannot be a lambda, a nested "
            f"function or a function of __main__."
        )
    return path


def create(
    kind: str | Factory, /, *args: Any, scope: str | None = None, owner: Any = None,
    registry: Registry | None = None, **overrides: Any,
) -> Any:
    """Create a resource of *kind* (a name or a :class:`Factory`) in *scope* and return it.

    Same as calling the factory, except that the kind may be named and the scope given explicitly, which is
    what module- and run-scoped data need (``create("tenant", scope="run")``). Overrides named ``scope``,
    ``owner`` or ``registry`` cannot pass through here; use ``factory.in_scope(scope)(...)`` for those.
    """
    factory = kind if isinstance(kind, Factory) else (registry or default_registry).get(kind)
    return factory.create_in(scope, owner, args, overrides)
