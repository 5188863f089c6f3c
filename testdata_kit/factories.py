"""Declarative factories: classes whose attributes describe a payload, built fresh on every call.

::

    class UserFactory(DataFactory):
        class Meta:
            creates = "user"                      # a @creates kind, or collection = api.users
        email = Unique(unique.email)              # identity: never from the seeded stream
        name = Fake("person.full_name")           # realism: seeded per test, safe by construction
        role = "member"
        handle = Sequence(lambda n: f"user-{n}")  # str(n) carries the run and worker; n * 2 does not
        company = SubFactory(CompanyFactory, pick="id")
        label = Lazy(lambda u: f"{u.name} <{u.email}>")
        admin = Trait(role="admin")
        notify = Transient(False)

``UserFactory.build(name="Ada")`` returns a dict; ``UserFactory.create()`` creates through the kind (or the
collection), so the object and every sub-factory object are tracked and deleted after the test, children first.
Only :class:`Fake` fields need the ``fake`` extra; everything else is standard library.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from types import FunctionType
from typing import Any, ClassVar

from testdata_kit import _scopes, kinds
from testdata_kit._fields import (
    BUILD_ONLY,
    Adversarial,
    Build,
    Declaration,
    FactoryCycleError,
    Fake,
    Lazy,
    Placeholder,
    Sequence,
    SequenceNumber,
    SubFactory,
    Trait,
    Transient,
    Unique,
)
from testdata_kit.errors import NoScopeError, TestDataError

__all__ = [
    "Adversarial",
    "DataFactory",
    "FactoryCycleError",
    "Fake",
    "Lazy",
    "LintFailure",
    "Placeholder",
    "Sequence",
    "SequenceNumber",
    "SubFactory",
    "Trait",
    "Transient",
    "Unique",
    "UnknownFieldError",
    "lint",
    "registered",
]


class UnknownFieldError(TestDataError, TypeError):
    """An override that names no field, trait or transient parameter of the factory."""

    def __init__(self, factory: str, name: str, known: list[str]) -> None:
        self.factory = factory
        self.name = name
        self.known = known
        super().__init__(f"{factory} has no field {name!r}. Known fields: {', '.join(known)}.")


_IMMUTABLE = (str, int, float, bool, bytes, type(None), tuple, frozenset)
_registry: list[type[DataFactory]] = []


def _plan(fields: dict[str, Any]) -> tuple[tuple[str, Any, int], ...] | None:
    """Return (name, spec, how) per field for a build that reads no other field, else ``None``.

    *how* is 0 for an immutable constant, 1 for a declaration, 2 for a mutable constant that is copied.
    """
    plan = []
    for name, spec in fields.items():
        if isinstance(spec, Declaration):
            if spec.reads_fields:
                return None
            plan.append((name, spec, 1))
        else:
            plan.append((name, spec, 0 if isinstance(spec, _IMMUTABLE) else 2))
    return tuple(plan)


class DataFactory:
    """Base of declarative factories; see the module docstring for the field kinds.

    An inner ``class Meta`` may set ``creates`` (a ``@creates`` kind name or factory), ``collection`` (any
    object with ``create(**payload)``, such as an HTTP collection), ``locale`` for :class:`Fake` fields, and
    ``abstract = True`` for a base that :func:`lint` skips.

    Declarations are checked when the class is defined: a :class:`Fake` field with an unknown provider or
    method raises :class:`~testdata_kit.fake.UnknownProviderError` or
    :class:`~testdata_kit.fake.UnknownFakeMethodError` ("did you mean ...") right there, not in the test
    that first builds the factory.
    """

    _fields: ClassVar[dict[str, Any]] = {}
    _traits: ClassVar[dict[str, Trait]] = {}
    _transients: ClassVar[dict[str, Transient]] = {}
    _meta_locale: ClassVar[str | None] = None
    # The traits as they apply to this class's fields (an Adversarial trait depends on them).
    _trait_fields: ClassVar[dict[str, dict[str, Any]]] = {}
    _fast: ClassVar[tuple[tuple[str, Any, int], ...] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields, traits, transients = dict(cls._fields), dict(cls._traits), dict(cls._transients)
        for name, value in vars(cls).items():
            if name.startswith("_") or isinstance(value, (type, FunctionType, classmethod, staticmethod, property)):
                continue
            for table in (fields, traits, transients):
                table.pop(name, None)
            table = traits if isinstance(value, Trait) else transients if isinstance(value, Transient) else fields
            table[name] = value
        cls._fields, cls._traits, cls._transients = fields, traits, transients
        cls._trait_fields = {name: trait.bind(fields).fields for name, trait in traits.items()}
        for where, specs in [("", fields), *((f"{name}=True: ", tf) for name, tf in cls._trait_fields.items())]:
            for name, spec in specs.items():
                if isinstance(spec, Declaration):
                    spec.check(f"{cls.__name__}.{name}{' in ' + where[:-2] if where else ''}: ")
        cls._fast = None if transients else _plan(fields)
        meta = cls.__dict__.get("Meta")
        cls._meta_locale = getattr(meta, "locale", cls._meta_locale)
        if not getattr(meta, "abstract", False):
            _registry.append(cls)

    def __new__(cls, *, scope: str | None = None, **overrides: Any) -> Any:
        """``UserFactory(...)`` is ``UserFactory.create(...)``, factory_boy's default strategy; ``build`` only builds.

        :raises NoScopeError: outside a test (or ``setUpClass``, or a pytest fixture) without ``scope=``,
            before anything is built or created.
        """
        if scope is None and _scopes.current_test() is None and _scopes.current_class() is None:
            name = cls.__name__
            raise NoScopeError(
                name,
                f"{name}() creates, as factory_boy's default strategy does, but no test is running, so nothing "
                f"would delete it. Call {name}() inside a test, setUpClass or pytest fixture; call "
                f"{name}.build() for a payload only; or pass a scope: {name}(scope='module') (or 'run').",
            )
        return cls.create(scope=scope, **overrides)

    @classmethod
    def known_fields(cls) -> list[str]:
        """Return every name ``build`` accepts: fields, traits and transient parameters."""
        return sorted({*cls._fields, *cls._traits, *cls._transients})

    @classmethod
    def _run(cls, scope: Any, overrides: dict[str, Any], fake: Any = None) -> dict[str, Any]:
        if not overrides and cls._fast is not None:
            # No field reads another: no cycle to watch for and no values to keep, so evaluate in order.
            build = Build(cls, cls._fields, scope, {}, fake)
            return {name: spec.evaluate(build, name) if how == 1 else spec if how == 0 else copy.deepcopy(spec)
                    for name, spec, how in cls._fast}
        fields = cls._fields
        nested: dict[str, dict[str, Any]] = {}
        if overrides:
            fields = dict(fields)
            for name, value in overrides.items():
                outer, sep, inner = name.partition("__")
                if name in cls._traits:
                    if value:
                        fields.update(cls._trait_fields[name])
                elif sep and isinstance(cls._fields.get(outer), SubFactory):
                    nested.setdefault(outer, {})[inner] = value
                elif name not in fields and name not in cls._transients:
                    raise UnknownFieldError(cls.__name__, name, cls.known_fields())
            for name, transient in cls._transients.items():
                fields[name] = overrides.get(name, transient.default)
            fields.update((k, v) for k, v in overrides.items() if k in cls._fields)
        elif cls._transients:
            fields = {**fields, **{name: t.default for name, t in cls._transients.items()}}
        get = Build(cls, fields, scope, nested, fake).value
        return {name: get(name) for name in cls._fields}

    @classmethod
    def _batch_fake(cls) -> Any:
        # One lookup of the running test's providers for a whole batch: the test does not change within it.
        if not any(isinstance(spec, Fake) for spec in cls._fields.values()):
            return None
        return Build(cls, {}, BUILD_ONLY, {}).get_fake()

    @classmethod
    def build(cls, **overrides: Any) -> dict[str, Any]:
        """Return a fresh payload dict; nothing is created.

        :param overrides: field values, trait flags (``admin=True``), transient parameters, or
            ``sub__field=`` values for a :class:`SubFactory` field.
        :raises UnknownFieldError: for an override that names no field, trait or transient parameter.
        """
        return cls._run(BUILD_ONLY, overrides)

    @classmethod
    def build_batch(cls, size: int, **overrides: Any) -> list[dict[str, Any]]:
        """Return *size* payloads, each built fresh with the same *overrides*."""
        fake = cls._batch_fake()
        run = cls._run
        return [run(BUILD_ONLY, overrides, fake) for _ in range(size)]

    @classmethod
    def create(cls, *, scope: str | None = None, **overrides: Any) -> Any:
        """Build a payload, then create it through ``Meta.creates`` or ``Meta.collection`` and return the result.

        Sub-factory objects are created first in the same scope, so cleanup (LIFO) deletes this object
        before the objects it points to.

        :param scope: ``None`` (the running test, else the class in ``setUpClass``), ``'class'``,
            ``'module'`` or ``'run'``.
        """
        meta = getattr(cls, "Meta", None)
        kind, collection = getattr(meta, "creates", None), getattr(meta, "collection", None)
        if kind is None and collection is None:
            raise TypeError(
                f"{cls.__name__}.create() needs somewhere to create: set Meta.creates to a @creates kind "
                f"or Meta.collection to an object with create(**payload). Use {cls.__name__}.build() for a "
                f"payload only."
            )
        payload = cls._run(scope, overrides)
        if collection is not None:
            return collection.create(**payload)
        factory = kind if isinstance(kind, kinds.Factory) else kinds.default_registry.get(str(kind))
        return factory.create_in(scope, None, (), payload)

    @classmethod
    def create_batch(cls, size: int, *, scope: str | None = None, **overrides: Any) -> list[Any]:
        """Create *size* objects with the same *overrides* (see :meth:`create`)."""
        return [cls.create(scope=scope, **overrides) for _ in range(size)]


def registered() -> list[type[DataFactory]]:
    """Return the non-abstract factories defined so far, in definition order."""
    return list(_registry)


@dataclass(frozen=True)
class LintFailure:
    """A factory (with a trait, or ``None`` for the plain build) that failed to build, and why."""

    factory: type[DataFactory]
    trait: str | None
    error: BaseException

    def __str__(self) -> str:
        where = self.factory.__name__ + (f" with {self.trait}=True" if self.trait else "")
        return f"{where}: {type(self.error).__name__}: {self.error}"


def lint(factories: list[type[DataFactory]] | None = None) -> list[LintFailure]:
    """Build every factory (default: all :func:`registered`) and each of its traits; return the failures.

    Like ``FactoryBot.lint``: run it in a test or in CI so that a broken factory fails once, clearly,
    instead of in every test that uses it. Only ``build`` runs, so nothing is created.
    """
    failures = []
    for factory in registered() if factories is None else factories:
        for trait in [None, *factory._traits]:
            try:
                factory.build(**({trait: True} if trait else {}))
            except Exception as error:
                failures.append(LintFailure(factory, trait, error))
    return failures
