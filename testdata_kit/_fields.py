"""The field kinds of declarative factories, and the build in progress that they compute their values in.

:mod:`testdata_kit.factories` re-exports every public name here; import them from there. This module imports
nothing of :mod:`testdata_kit.factories` (only its type, for annotations): a declaration sees a build through
:class:`Build`'s public attributes.
"""

from __future__ import annotations

import copy
import itertools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from testdata_kit import _run, unique
from testdata_kit.errors import TestDataError

if TYPE_CHECKING:
    from testdata_kit.factories import DataFactory

__all__ = ["BUILD_ONLY", "Adversarial", "Build", "Declaration", "FactoryCycleError", "Fake", "Lazy", "Placeholder",
           "Sequence", "SequenceNumber", "SubFactory", "Trait", "Transient", "Unique"]

#: The scope of a build that creates nothing: sub-factories build instead of creating.
BUILD_ONLY = object()
_IMMUTABLE = (str, int, float, bool, bytes, type(None), tuple, frozenset)
_PENDING = object()


class FactoryCycleError(TestDataError, RuntimeError):
    """Lazy fields that depend on each other in a circle."""

    def __init__(self, factory: str, chain: list[str]) -> None:
        self.factory = factory
        self.chain = chain
        super().__init__(f"{factory} fields depend on each other in a circle: {' -> '.join(chain)}. "
                         f"Give one of them a value that does not read the others.")


class Build:
    """One build in progress: the field specs, the values computed so far, and where objects are created.

    :param factory: the factory class being built (for messages and ``Meta.locale``).
    :param fields: field name -> constant or :class:`Declaration`, overrides and traits applied.
    :param scope: :data:`BUILD_ONLY`, or the scope that ``create`` creates sub-factory objects in.
    :param nested: sub-factory field name -> its ``sub__field=`` overrides.
    :param fake: the seeded providers to use, or ``None`` to look them up on first use.
    """

    __slots__ = ("factory", "fake", "fields", "nested", "scope", "values", "view")

    def __init__(self, factory: type[DataFactory], fields: dict[str, Any], scope: Any,
                 nested: dict[str, dict[str, Any]], fake: Any = None) -> None:
        self.factory, self.fields, self.scope, self.nested, self.fake = factory, fields, scope, nested, fake
        self.values: dict[str, Any] = {}
        self.view = _View(self)

    def get_fake(self) -> Any:
        """Return the seeded providers of the running test (or run) in the factory's ``Meta.locale``."""
        if self.fake is None:
            self.fake = (_fake_module or _load_fake()).current(self.factory._meta_locale)
        return self.fake

    def value(self, name: str) -> Any:
        """Return field *name*'s value in this build, computing it (and the fields it reads) once."""
        values = self.values
        if name in values:
            value = values[name]
            if value is _PENDING:
                raise FactoryCycleError(self.factory.__name__, [*values, name])
            return value
        try:
            spec = self.fields[name]
        except KeyError:
            raise AttributeError(f"{self.factory.__name__} has no field {name!r}") from None
        if isinstance(spec, Declaration):
            if spec.reads_fields:
                values[name] = _PENDING
            value = spec.evaluate(self, name)
        else:
            value = spec if isinstance(spec, _IMMUTABLE) else copy.deepcopy(spec)
        values[name] = value
        return value


class _View:
    """What a :class:`Lazy` function receives: reading ``o.name`` computes that field of the build first."""

    __slots__ = ("_build",)

    def __init__(self, build: Build) -> None:
        self._build = build

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._build.value(name)


class Declaration:
    """A field whose value is computed on each build."""

    #: Whether evaluating may read other fields (then a cycle between such fields is detected).
    reads_fields = False

    def evaluate(self, build: Build, name: str) -> Any:
        raise NotImplementedError

    def check(self, where: str) -> None:
        """Raise if the declaration cannot work; called when the factory class is defined."""


class Unique(Declaration):
    """A unique identity value on each build, from :mod:`testdata_kit.unique` (default :func:`unique.token`).

    :param func: a zero-argument callable such as ``unique.email`` or ``lambda: unique.name("Shop")``.
    """

    def __init__(self, func: Callable[[], Any] = unique.token) -> None:
        self.func = func

    def evaluate(self, build: Build, name: str) -> Any:
        return self.func()

    def __repr__(self) -> str:
        return f"Unique({getattr(self.func, '__qualname__', self.func)})"


_fake_module: Any = None


def _load_fake() -> Any:
    """Import :mod:`testdata_kit.fake` on first use; it loads mimesis, which plain factories never need."""
    global _fake_module
    from testdata_kit import fake

    _fake_module = fake
    return fake


class Fake(Declaration):
    """A realistic value from the current test's seeded providers: ``Fake("person.full_name")``.

    The path and the arguments are checked when the factory class is defined: ``Fake("person.nam")`` raises
    :class:`~testdata_kit.fake.UnknownFakeMethodError` ("did you mean 'person.name'?") at import time.

    :param path: ``"provider.method"`` as in ``self.fake.person.full_name``.
    :param kwargs: passed to the method, e.g. ``Fake("datetime.date", start=1990, end=2000)`` or
        ``Fake("datetime.datetime", timezone="Europe/Berlin")``.
    :raises ValueError: for a path without a dot.
    """

    def __init__(self, path: str, **kwargs: Any) -> None:
        provider, dot, method = path.partition(".")
        if not dot or not provider or not method:
            raise ValueError(f"Fake() needs 'provider.method' such as 'person.full_name', got {path!r}.")
        self.path, self.provider, self.method, self.kwargs = path, provider, method, kwargs
        self._cache: tuple[Any, int, Callable[..., Any]] | None = None

    def check(self, where: str) -> None:
        (_fake_module or _load_fake()).check(self.path, where, **self.kwargs)

    def evaluate(self, build: Build, name: str) -> Any:
        fake = build.fake or build.get_fake()
        cache = self._cache
        generation = _fake_module.generation
        # Reuse the bound method while no provider changed hands, saving two lookups per value.
        if cache is None or cache[0] is not fake or cache[1] != generation:
            bound = getattr(getattr(fake, self.provider), self.method)
            cache = self._cache = (fake, _fake_module.generation, bound)
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

    def evaluate(self, build: Build, name: str) -> Any:
        return self.func(SequenceNumber(next(self._counter)))


class Lazy(Declaration):
    """A value derived from other fields: ``Lazy(lambda o: f"{o.first} {o.last}")``.

    :param func: receives the object being built; reading ``o.name`` evaluates that field first.
    """

    reads_fields = True

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func

    def evaluate(self, build: Build, name: str) -> Any:
        return self.func(build.view)


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

    def evaluate(self, build: Build, name: str) -> Any:
        params = {**self.defaults, **build.nested.get(name, {})}
        if build.scope is BUILD_ONLY:
            value = self.factory.build(**params)
        else:
            value = self.factory.create(scope=build.scope, **params)
        if self.pick is None:
            return value
        if build.scope is BUILD_ONLY:
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

    def bind(self, fields: dict[str, Any]) -> Trait:
        """Return the trait as it applies to a factory with these *fields* (a plain trait: itself)."""
        return self


class Adversarial(Trait):
    """A trait that swaps realistic text for values that break naive code: ``hostile = Adversarial()``.

    ``build(hostile=True)`` replaces every :class:`Fake` field that returns text: names
    (``person.full_name``, ``first_name``, ...) by ``adversarial.name``, emails by ``adversarial.email``, other
    text by ``adversarial.text``. Fields that are not text (dates, numbers) keep their realistic values. The
    values are seeded like every fake value and stay safe (invented names, reserved email domains).

    :param fields: explicit replacements, applied after the automatic ones, e.g. ``bio="bidi"`` (a category of
        :data:`testdata_kit.adversarial.CATEGORIES`), ``nickname=Fake("adversarial.name")``, or a constant.
    """

    def __init__(self, **fields: Any) -> None:
        super().__init__(**fields)

    def bind(self, fields: dict[str, Any]) -> Trait:
        from testdata_kit import adversarial, fake

        swapped: dict[str, Any] = {}
        for name, spec in fields.items():
            # An identity value (unique=True) stays unique; the adversarial set repeats its values.
            if isinstance(spec, Fake) and spec.provider != "adversarial" and not spec.kwargs.get("unique"):
                kind = _text_kind(fake, spec)
                if kind is not None:
                    swapped[name] = Fake(f"adversarial.{kind}")
        for name, value in self.fields.items():
            if isinstance(value, str) and value in adversarial.CATEGORIES:
                value = Fake("adversarial.string", category=value)
            swapped[name] = value
        return Trait(**swapped)


def _text_kind(fake: Any, spec: Fake) -> str | None:
    """Return which adversarial method replaces *spec*, or ``None`` when its method does not return text."""
    if not fake.returns_text(spec.path):
        return None
    if "email" in spec.method:
        return "email"
    if spec.provider == "person" and ("name" in spec.method and spec.method != "username"):
        return "name"
    return "text"


class Transient:
    """A parameter that :class:`Lazy` fields may read but that stays out of the payload."""

    def __init__(self, default: Any = None) -> None:
        self.default = default
