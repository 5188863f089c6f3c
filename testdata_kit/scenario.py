"""Scenario chains: a builder that creates linked resources, fills their needs, and deletes children first.

``self.scenario().user().product(price=10).discount(percent=20).order()`` creates a user, a product, a
discount and an order whose ``needs=("user", "product")`` come from what the scenario already holds (or are
created on demand). Each result is an attribute (``s.order``). Every link is tracked in the ledger.

Teardown deletes every resource after all the resources made from it: the order before the discount, the
product and the user, whatever order the test created them in. Independent branches are deleted at the same
time, by up to 16 threads (``workers=``, or ``TESTDATA_TEARDOWN_WORKERS``; ``1`` deletes one at a time, newest
first). Concurrent teardown is **on** by default, so deleters must be safe to call from another thread; an
HTTP session is, a ``sqlite3`` connection is not (use ``workers=1`` for those). It starts on the test's
thread and moves to the threads once deletions prove slow (see :mod:`testdata_kit._teardown`).

A deletion the store refuses (a link the scenario does not know, such as a user updated to point at a newer
profile) is retried after the others, round after round, then after the rest of the test's cleanups.

A scenario is one entry in the test's cleanup stack, placed where ``self.scenario()`` was called: cleanups the
test adds after that call run before the scenario's data is deleted, cleanups added before it run after.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any

from testdata_kit import _env, _scopes, _settings, _teardown
from testdata_kit.errors import InvalidValueError, MissingKeyError, TestDataError
from testdata_kit.kinds import Factory, Registry, default_registry
from testdata_kit.resources import Resource

__all__ = ["DEFAULT_WORKERS", "WORKERS_ENV", "Held", "Scenario", "ScenarioTeardownError"]

#: Threads deleting independent branches at once; ``1`` tears down serially.
WORKERS_ENV = _env.TEARDOWN_WORKERS_ENV
DEFAULT_WORKERS = 16


class ScenarioTeardownError(TestDataError):
    """More than one deletion of a scenario failed; each is also reported as a leak."""

    def __init__(self, errors: list[BaseException]) -> None:
        self.errors = errors
        lines = "\n".join(f"  - {error}" for error in errors)
        super().__init__(f"{len(errors)} deletions of the scenario failed:\n{lines}")


class _Graph:
    """The resources of one scenario and its branches, and the teardown that deletes them children first."""

    def __init__(self, scope: str, holder: Any, workers: int, awaited: bool = False) -> None:
        self.scope = scope
        self.holder = holder
        self.workers = workers
        #: An async scenario's: its teardown is awaited in the test's event loop (:meth:`ateardown`).
        self.awaited = awaited
        self.nodes: list[_teardown.Node] = []
        self.by_value: dict[int, _teardown.Node] = {}
        self.registered = False
        self.register()

    def register(self) -> None:
        if self.awaited and self.scope == "test" and hasattr(self.holder, "addAsyncCleanup"):
            self.holder.addAsyncCleanup(self.ateardown)
        else:
            _scopes.register(self.teardown, self.scope, self.holder, "scenario")
        self.registered = True

    def add(self, resource: Resource, parents: list[_teardown.Node]) -> None:
        if not self.registered:  # used again after its teardown ran: the new resources need one too
            self.register()
        node = _teardown.Node(resource, parents, len(self.nodes))
        self.nodes.append(node)
        self.by_value[id(resource.value)] = node

    def teardown(self) -> None:
        """Delete every live resource after its children; raise what failed once all were attempted.

        Refused deletions are retried by rounds while a round deletes something; what is still refused then
        waits for the retry pass at the end of the scenario's scope (:func:`testdata_kit._scopes.defer`).
        """
        nodes, self.nodes, self.by_value, self.registered = self.nodes, [], {}, False
        self._settle(*_teardown.run(nodes, self.workers))

    async def ateardown(self) -> None:
        """Same as :meth:`teardown`, awaiting async deleters: independent branches together, children first.

        At most *workers* deletions are awaited at once; ``1`` deletes one at a time, newest first.
        """
        nodes, self.nodes, self.by_value, self.registered = self.nodes, [], {}, False
        self._settle(*await _teardown.arun(nodes, self.workers))

    def _settle(self, refused: list[_teardown.Node], errors: list[BaseException]) -> None:
        for node in refused:
            _scopes.defer(node.resource)
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise ScenarioTeardownError(errors)


@functools.lru_cache(maxsize=256)
def _parameters(func: Callable[..., Any]) -> tuple[str, ...]:
    try:
        return tuple(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return ()


def _workers(value: int | None) -> int:
    if value is not None:
        if value < 1:
            raise InvalidValueError(f"workers={value!r} must be 1 (serial teardown) or more")
        return value
    return int(_settings.value("teardown-workers") or DEFAULT_WORKERS)


class Scenario:
    """A builder with one method per registered kind; results become attributes, needs are filled in.

    ``s.user()`` creates a ``user`` and returns the scenario, so calls chain; afterwards ``s.user`` reads as the
    created user (a :class:`Held`: ``s.user["id"]``), and calling it again, ``s.user()``, creates another.
    For a second one of a kind held apart, use :meth:`create` with ``as_=``. A kind's ``needs=`` are taken
    from what the scenario holds (the latest of that kind), or created on demand; parameters of the factory
    named after other kinds (``discount=None``) are filled only when the scenario holds one.

    :param registry: where kinds are looked up; default: :data:`~testdata_kit.default_registry`.
    :param scope: ``'test'``, ``'class'``, ``'module'`` or ``'run'``; default: the innermost one running.
    :param owner: the test or TestCase class owning the resources.
    :param workers: threads for teardown; default ``$TESTDATA_TEARDOWN_WORKERS`` or 16; ``1`` is serial.
    """

    #: Set by :class:`testdata_kit.aio.AsyncScenario`, whose teardown is awaited.
    _awaited = False

    def __init__(self, *, registry: Registry | None = None, scope: str | None = None, owner: Any = None,
                 workers: int | None = None) -> None:
        scope, holder = _scopes.resolve(scope, owner, "scenario")
        self._registry = registry or default_registry
        self._graph = _Graph(scope, holder, _workers(workers), awaited=self._awaited)
        self._parent: Scenario | None = None
        self._held: dict[str, Any] = {}
        self._latest: dict[str, Any] = {}

    def __repr__(self) -> str:
        held = " ".join(f"{name}={_short(value)}" for name, value in self._held.items())
        mode = "serial" if self._graph.workers <= 1 else f"{self._graph.workers} workers"
        return f"<Scenario {held or '(empty)'} teardown={mode}>"

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._registry.kinds(), *self._all_held()})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        found = self._lookup(name)
        if found is not _NOTHING:
            # A held kind must still chain (``s.user()`` makes another user), and its value must still read
            # as the resource (``s.user["id"]``): one object that does both.
            return Held(found, functools.partial(self._build, name)) if name in self._registry else found
        if name in self._registry:
            return functools.partial(self._build, name)
        raise AttributeError(
            f"Scenario has no kind or result {name!r}. Kinds: {', '.join(self._registry.kinds()) or 'none'}; "
            f"results so far: {', '.join(self._all_held()) or 'none'}. Declare the kind with @creates({name!r})."
        )

    def __getitem__(self, name: str) -> Any:
        found = self._lookup(name)
        if found is _NOTHING:
            held = ", ".join(self._all_held()) or "nothing yet"
            raise MissingKeyError(f"Scenario has no result {name!r}; it holds: {held}")
        return found

    def _build(self, kind: str, /, *args: Any, as_: str | None = None, **overrides: Any) -> Scenario:
        self.create(kind, *args, as_=as_, **overrides)
        return self

    def branch(self) -> Scenario:
        """Return a sub-scenario for an independent chain: its needs come from itself first, then from this one.

        Branches share this scenario's teardown, so ten branches are deleted side by side.
        """
        child = type(self).__new__(type(self))
        child._registry, child._graph, child._parent = self._registry, self._graph, self
        child._held, child._latest = {}, {}
        return child

    def create(self, kind: str | Factory, /, *args: Any, as_: str | None = None, **overrides: Any) -> Any:
        """Create one resource of *kind*, hold it as ``as_`` (default: the kind's name) and return it.

        :param kind: a kind name or factory.
        :param as_: the attribute name to hold it under, for a second resource of one kind (``as_="seller"``).
        :param overrides: passed to the factory; a value the scenario holds links the new resource to it.
        """
        factory = kind if isinstance(kind, Factory) else self._registry.get(kind)
        args, kwargs = self._plain(args, overrides)
        for need in self._unheld(factory, kwargs):
            kwargs[need] = self.create(need)
        graph = self._graph
        # Through the factory, so that the journal and interrupt handling see scenario links like any other
        # creation; the scenario, not the scope, decides when each one is deleted.
        resource = factory.create_resource(graph.scope, graph.holder, args, kwargs, register=False)
        return self._hold(factory, resource, args, kwargs, as_)

    @staticmethod
    def _plain(args: tuple[Any, ...], overrides: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The factory's arguments, with each :class:`Held` given as the resource it holds."""
        return tuple(_unwrap(arg) for arg in args), {name: _unwrap(value) for name, value in overrides.items()}

    def _unheld(self, factory: Factory, kwargs: dict[str, Any]) -> Iterator[str]:
        """Fill *kwargs* with the needs the scenario holds; yield each other need, for the caller to create
        and put in *kwargs* before the next one is looked at. Then fill the optional links held."""
        for need in factory.needs:
            if need not in kwargs:
                held = self._find(need)
                if held is _NOTHING:
                    yield need
                else:
                    kwargs[need] = held
        for name in _parameters(factory.func):
            if name not in kwargs and name != factory.kind and name in self._registry:
                held = self._find(name)
                if held is not _NOTHING:
                    kwargs[name] = held

    def _hold(self, factory: Factory, resource: Resource, args: tuple[Any, ...], kwargs: dict[str, Any],
              as_: str | None) -> Any:
        """Add the new *resource* to the teardown after what it was made from, and hold its value."""
        graph = self._graph
        parents = [graph.by_value[id(v)] for v in (*args, *kwargs.values()) if id(v) in graph.by_value]
        value = resource.value
        graph.add(resource, list({id(p): p for p in parents}.values()))
        name = as_ or factory.kind
        self._held[name] = value
        self._latest[factory.kind] = value
        return value

    def _find(self, kind: str) -> Any:
        scenario: Scenario | None = self
        while scenario is not None:
            if kind in scenario._latest:
                return scenario._latest[kind]
            scenario = scenario._parent
        return _NOTHING

    def _lookup(self, name: str) -> Any:
        scenario: Scenario | None = self
        while scenario is not None:
            if name in scenario._held:
                return scenario._held[name]
            scenario = scenario._parent
        return _NOTHING

    def _all_held(self) -> list[str]:
        names: dict[str, None] = {}
        scenario: Scenario | None = self
        while scenario is not None:
            names.update(dict.fromkeys(scenario._held))
            scenario = scenario._parent
        return list(names)

    def teardown(self) -> None:
        """Delete everything the scenario (and its branches) created now, instead of at the end of the scope."""
        self._graph.teardown()


_NOTHING: Any = object()


class Held:
    """What ``s.user`` gives when the scenario holds a ``user``: the resource, and the call that makes another.

    Indexing (reading, assigning, deleting), attributes, ``==``, ``len``, iteration and ``in`` go to the
    resource (``s.user["id"]``, ``s.user["profile_id"] = 7``);
    calling it creates another resource of the kind and returns the scenario (``s.user().order()``), as it
    does before the scenario holds one. Passed to the scenario's own calls it stands for the resource. Code
    that checks types or serializes (``json=``) needs the object itself: ``s.user.value`` or ``s["user"]``.
    """

    __slots__ = ("_build", "value")

    def __init__(self, value: Any, build: Callable[..., Scenario]) -> None:
        #: The held resource itself, as the factory returned it.
        self.value = value
        self._build = build

    def __call__(self, *args: Any, **overrides: Any) -> Scenario:
        return self._build(*args, **overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.value, name)

    def __getitem__(self, key: Any) -> Any:
        return self.value[key]

    def __setitem__(self, key: Any, item: Any) -> None:
        # A late link (``s.user["profile_id"] = s.profile["id"]``) changes the held resource itself.
        self.value[key] = _unwrap(item)

    def __delitem__(self, key: Any) -> None:
        del self.value[key]

    def __eq__(self, other: object) -> bool:
        return bool(self.value == _unwrap(other))

    __hash__ = None  # type: ignore[assignment]  # equal to its value, so it cannot hash like an identity

    def __iter__(self) -> Any:
        return iter(self.value)

    def __len__(self) -> int:
        return len(self.value)

    def __contains__(self, item: object) -> bool:
        return item in self.value

    def __repr__(self) -> str:
        return repr(self.value)


def _unwrap(value: Any) -> Any:
    return value.value if isinstance(value, Held) else value


def _short(value: Any) -> str:
    ident = value.get("id") if isinstance(value, dict) else getattr(value, "id", None)
    if ident is not None:
        return f"#{ident}"
    text = repr(value)
    return text if len(text) <= 20 else text[:17] + "..."
