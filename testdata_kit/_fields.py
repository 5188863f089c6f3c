"""The field kinds of declarative factories: what a factory attribute computes on each build, and how.

:mod:`testdata_kit.factories` re-exports every public name here; import them from there.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from testdata_kit import _run, unique

if TYPE_CHECKING:
    from testdata_kit.factories import DataFactory, _Build

__all__ = ["BUILD_ONLY", "Declaration", "Fake", "Lazy", "Placeholder", "Sequence", "SequenceNumber", "SubFactory",
           "Trait", "Transient", "Unique"]

#: The scope of a build that creates nothing: sub-factories build instead of creating.
BUILD_ONLY = object()


class Declaration:
    """A field whose value is computed on each build."""

    #: Whether evaluating may read other fields (then a cycle between such fields is detected).
    reads_fields = False

    def evaluate(self, build: _Build, name: str) -> Any:
        raise NotImplementedError


class Unique(Declaration):
    """A unique identity value on each build, from :mod:`testdata_kit.unique` (default :func:`unique.token`).

    :param func: a zero-argument callable such as ``unique.email`` or ``lambda: unique.name("Shop")``.
    """

    def __init__(self, func: Callable[[], Any] = unique.token) -> None:
        self.func = func

    def evaluate(self, build: _Build, name: str) -> Any:
        return self.func()

    def __repr__(self) -> str:
        return f"Unique({getattr(self.func, '__qualname__', self.func)})"


class Fake(Declaration):
    """A realistic value from the current test's seeded providers: ``Fake("person.full_name")``.

    :param path: ``"provider.method"`` as in ``self.fake.person.full_name``.
    :param kwargs: passed to the method, e.g. ``Fake("datetime.date", start=1990, end=2000)``.
    """

    def __init__(self, path: str, **kwargs: Any) -> None:
        provider, dot, method = path.partition(".")
        if not dot or not provider or not method:
            raise ValueError(f"Fake() needs 'provider.method' such as 'person.full_name', got {path!r}.")
        self.path, self.provider, self.method, self.kwargs = path, provider, method, kwargs
        self._cache: tuple[Any, int, Callable[..., Any]] | None = None

    def evaluate(self, build: _Build, name: str) -> Any:
        fake = build._fake or build._get_fake()
        cache = self._cache
        generation = build._fake_module.generation
        # Reuse the bound method while no provider changed hands, saving two lookups per value.
        if cache is None or cache[0] is not fake or cache[1] != generation:
            bound = getattr(getattr(fake, self.provider), self.method)
            cache = self._cache = (fake, build._fake_module.generation, bound)
        return cache[2](**self.kwargs) if self.kwargs else cache[2]()

    def __repr__(self) -> str:
        return f"Fake({self.path!r})"


class SequenceNumber(int):
    """The ``n`` a :class:`Sequence` receives: an int whose *text* carries the run and worker tokens.

    ``f"user-{n}"`` and ``str(n)`` give ``'user-k3x9qa-p1t1-7'``, which no parallel worker or other run repeats.
    Its *number* is a plain per-process counter: ``n * 2``, ``int(n)`` and ``f"{n:04d}"`` give 0, 2, ... and
    0000, 0001, ... in every worker and every run, so they collide under parallel runs.
    """

    def __str__(self) -> str:
        return f"{_run.run_id()}-{_run.worker_token()}-{int(self)}"

    def __format__(self, spec: str) -> str:
        return str(self) if not spec else format(int(self), spec)


class Sequence(Declaration):
    """A value from a per-factory counter: ``Sequence(lambda n: f"order-{n}")``.

    Only the text form of ``n`` is unique across parallel workers and runs. Arithmetic and format specs use the
    plain counter, which restarts at 0 in every process: ``Sequence(lambda n: n * 2)`` gives 0, 2, 4, ... in
    each worker, so two workers build the same numbers. That is deliberate: an offset per worker could not be
    unique across runs and still fit an INT32 column. So use numbers for ordering and readable labels only;
    a field that must be unique (a key, an email, a UNIQUE column) takes the text form (``f"sku-{n}"``) or a
    :class:`Unique` value from :mod:`testdata_kit.unique`, and numeric ids come from the database.

    :param func: receives a :class:`SequenceNumber`; its text is namespaced per run and worker, its number is
        a per-process counter starting at 0.
    """

    def __init__(self, func: Callable[[SequenceNumber], Any]) -> None:
        self.func = func
        self._counter = itertools.count()
        os.register_at_fork(after_in_child=self._restart)

    def _restart(self) -> None:
        self._counter = itertools.count()

    def evaluate(self, build: _Build, name: str) -> Any:
        return self.func(SequenceNumber(next(self._counter)))


class Lazy(Declaration):
    """A value derived from other fields: ``Lazy(lambda o: f"{o.first} {o.last}")``.

    :param func: receives the object being built; reading ``o.name`` evaluates that field first.
    """

    reads_fields = True

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func

    def evaluate(self, build: _Build, name: str) -> Any:
        return self.func(build)


class SubFactory(Declaration):
    """A nested object from another factory; with ``create`` it is created (and tracked) first.

    :param factory: the :class:`DataFactory` subclass.
    :param pick: put this key or attribute of the result in the payload (e.g. ``"id"``) instead of all of it;
        ``build()`` puts a :class:`Placeholder` there when the built object has no such field.
    :param defaults: overrides for the sub-factory; ``company__name="X"`` on the outer call overrides too.
    """

    def __init__(self, factory: type[DataFactory], *, pick: str | None = None, **defaults: Any) -> None:
        self.factory, self.pick, self.defaults = factory, pick, defaults

    reads_fields = True

    def evaluate(self, build: _Build, name: str) -> Any:
        params = {**self.defaults, **build._nested.get(name, {})}
        if build._scope is BUILD_ONLY:
            value = self.factory.build(**params)
        else:
            value = self.factory.create(scope=build._scope, **params)
        if self.pick is None:
            return value
        if build._scope is BUILD_ONLY:
            # A built object has no server-assigned id yet: stand in for it rather than fail the build.
            found = value.get(self.pick, _MISSING) if isinstance(value, dict) else getattr(value, self.pick, _MISSING)
            return Placeholder(self.factory.__name__, self.pick) if found is _MISSING else found
        return value[self.pick] if isinstance(value, dict) else getattr(value, self.pick)


_MISSING = object()


class Placeholder:
    """What ``build()`` puts where ``SubFactory(pick=...)`` needs a field only creation gives (a server's id).

    ``OrderFactory.build()`` with ``user_id = SubFactory(UserFactory, pick="id")`` builds the user without
    creating it, so there is no id yet; the payload holds ``Placeholder("UserFactory", "id")`` instead. It is
    not JSON-serializable on purpose: a built payload with a placeholder cannot be sent by mistake.
    """

    __slots__ = ("factory", "field")

    def __init__(self, factory: str, field: str) -> None:
        self.factory = factory
        self.field = field

    def __repr__(self) -> str:
        return f"<{self.field} of a built {self.factory}: only create() gives one>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Placeholder) and (other.factory, other.field) == (self.factory, self.field)

    def __hash__(self) -> int:
        return hash((self.factory, self.field))


class Trait:
    """Field values switched on together by a flag: ``admin = Trait(role="admin")``, then ``build(admin=True)``."""

    def __init__(self, **fields: Any) -> None:
        self.fields = fields


class Transient:
    """A parameter that :class:`Lazy` fields may read but that stays out of the payload."""

    def __init__(self, default: Any = None) -> None:
        self.default = default
