"""Binding derived kinds to a client: one collection and one registered ``@creates`` kind per derived kind.

Each kind creates through its collection's untracked ``post`` and deletes through its verified ``delete``, so
the kind's resources are tracked once, by the registry's factory, like any other ``@creates`` kind: tests use
``self.create("pet")`` and ``self.scenario().order()``, and the account counts them. The factory journals the
collection's own recovery record (its DELETE and URL), so ``sweep --journal`` deletes what a killed run left.
"""

from __future__ import annotations

import contextvars
import inspect
import os
import secrets
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from testdata_kit import _redact, resources, unique
from testdata_kit.kinds import Factory, Registry, default_registry
from testdata_kit.openapi.bodies import body_for, rng_for
from testdata_kit.openapi.derive import DerivedKind, client_chosen_id, derive
from testdata_kit.openapi.document import Document, load, parse_text
from testdata_kit.openapi.errors import DocumentError, KindNotDerivableError

if TYPE_CHECKING:
    from testdata_kit.http.client import ApiClient
    from testdata_kit.http.collection import Collection

__all__ = ["OpenApiKinds", "bind", "client_from_openapi"]

Source = str | os.PathLike[str] | Mapping[str, Any] | Document
# The scope of the creation running now, so that a parent a kind must create first lands in the same scope.
_creating: contextvars.ContextVar[tuple[str, Any] | None] = contextvars.ContextVar("_creating", default=None)


class _Kind(Factory):
    """A factory that lets the parents it creates share its scope (``create("order", scope="run")``)."""

    def create_resource(self, scope: str, holder: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                        register: bool = True) -> resources.Resource:
        token = _creating.set((scope, holder))
        try:
            return super().create_resource(scope, holder, args, kwargs, register)
        finally:
            _creating.reset(token)


class OpenApiKinds:
    """The kinds one document gave one client, at ``api.openapi``.

    :ivar document: the loaded :class:`~testdata_kit.openapi.Document`.
    :ivar derived: kind name -> :class:`~testdata_kit.openapi.DerivedKind`, refused ones included.
    :ivar collections: kind name -> the :class:`~testdata_kit.http.Collection` it creates and deletes through.
    :ivar factories: kind name -> the registered :class:`~testdata_kit.kinds.Factory`.
    :ivar refused: kind name -> the :class:`KindNotDerivableError` its factory raises when used.
    """

    def __init__(self, api: ApiClient, document: Document, registry: Registry) -> None:
        self.api = api
        self.document = document
        self.registry = registry
        self.derived: dict[str, DerivedKind] = {}
        self.collections: dict[str, Collection] = {}
        self.factories: dict[str, Factory] = {}
        self.refused: dict[str, KindNotDerivableError] = {}
        self._path_params: dict[int, dict[str, Any]] = {}
        self._links: dict[str, list[str]] = {}

    def __repr__(self) -> str:
        refused = f" refused={sorted(self.refused)}" if self.refused else ""
        return f"<OpenApiKinds {sorted(self.factories)}{refused} from {self.document.source}>"

    def kinds(self) -> list[str]:
        """Return the names of the usable kinds, sorted."""
        return sorted(name for name in self.factories if name not in self.refused)

    def body(self, kind: str, *, all_fields: bool = False, **overrides: Any) -> dict[str, Any]:
        """Return a body for *kind* as its create would send it, links left out; nothing is sent.

        :param all_fields: every writable property, not only the required ones.
        :raises LookupError: for a kind the document does not describe.
        """
        spec = self._spec(kind)
        if spec.schema is None:
            return dict(overrides)
        value = body_for(self.document, spec.schema, spec.resolver, rng_for(kind), kind=kind, all_fields=all_fields)
        return {**value, **overrides}

    def _spec(self, kind: str) -> DerivedKind:
        try:
            return self.derived[kind]
        except KeyError:
            raise LookupError(f"The OpenAPI document {self.document.source} describes no kind {kind!r}; it "
                              f"describes: {', '.join(sorted(self.derived)) or 'none'}.") from None

    def _id_of(self, target: str, given: dict[str, Any]) -> Any:
        """Return the id of the *target* in *given* (kind -> item or id), creating it there when missing."""
        if given.get(target) is None:
            # Registered before the kind that needs it, so the scope's LIFO cleanup deletes it after that kind.
            # It gets the parents already chosen (the order's tenant for its user), so a chain stays in one tenant.
            scope, holder = _creating.get() or (None, None)
            passed = {kind: value for kind, value in given.items() if kind in self._links.get(target, ())}
            given[target] = self.factories[target].create_in(scope, holder, (), passed)
        given = given[target]
        if isinstance(given, Mapping):
            return self.collections[target].ident(given)
        return given

    def _add(self, spec: DerivedKind, *, delete: Callable[[Any], object] | None, verify: str,
             all_fields: bool, replace: bool, settle: float | None = None) -> None:
        self.derived[spec.name] = spec
        if spec.problems and delete is None:
            fix = (f"Pass delete={{{spec.name!r}: callable}} to from_openapi for a kind the API cannot delete, "
                   f"ids={{{spec.name!r}: 'field'}} for an id it cannot find, or declare it with @creates.")
            error = self.refused[spec.name] = KindNotDerivableError(spec.name, spec.problems, fix)
            self._register(spec.name, _refusing(error), lambda item: None, (), replace)
            return
        item = spec.item or "{path}/{id}"
        settling: dict[str, Any] = {} if settle is None else {"settle": settle}  # else the collection's default
        collection = self.api.collection(spec.name, path=spec.path, id=spec.id_field or "id", kind=spec.name,
                                         item=item, headers=spec.headers or None,
                                         verify="never" if delete is not None and not spec.delete else verify,
                                         **settling)
        self.collections[spec.name] = collection
        links = self._links[spec.name] = list(dict.fromkeys([*spec.path_links.values(), *spec.field_links.values()]))

        def create(*args: Any, all_fields: bool = all_fields, path_params: Mapping[str, Any] | None = None,
                   **overrides: Any) -> dict[str, Any]:
            if args:
                raise TypeError(f"kind {spec.name!r} takes keyword arguments only (fields and linked kinds), "
                                f"got {len(args)} positional")
            given = {target: overrides.pop(target) for target in links if target in overrides}
            body = self.body(spec.name, all_fields=all_fields) if spec.schema is not None else {}
            for name in spec.send_always:
                if name not in overrides:
                    body[name] = _identity(self.body(spec.name, all_fields=True).get(name))
            params = dict(path_params or {})
            for param, target in spec.path_links.items():
                if param not in params:
                    params[param] = self._id_of(target, given)
            for name, target in spec.field_links.items():
                if name not in overrides and (target in given or name in spec.required):
                    body[name] = self._id_of(target, given)
                else:
                    body.pop(name, None)  # a drawn number would point at nothing, or at someone else's row
            body.update(overrides)
            item = collection.post(body, path_params=params)
            if params:
                self._path_params[id(item)] = params
            return item

        def delete_item(item: Any) -> Any:
            params = self._path_params.pop(id(item), None)
            return collection.delete(item, path_params=params)

        def recovery(item: Any) -> dict[str, Any] | None:
            # A kind deleted by a delete= callable has no URL another process could replay.
            if delete is not None or not isinstance(item, Mapping):
                return None
            return collection.recovery(item, path_params=self._path_params.get(id(item)))

        parameters = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None) for name in links]
        parameters += [
            inspect.Parameter("all_fields", inspect.Parameter.KEYWORD_ONLY, default=all_fields),
            inspect.Parameter("path_params", inspect.Parameter.KEYWORD_ONLY, default=None),
            inspect.Parameter("overrides", inspect.Parameter.VAR_KEYWORD),
        ]
        # Scenarios read a factory's signature to pass the kinds it holds (an optional tenant, a discount).
        create.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        create.__name__ = create.__qualname__ = spec.name
        create.__doc__ = f"{spec.create}; deleted by {spec.delete or 'the delete= given'}."
        self._register(spec.name, create, delete or delete_item, spec.needs, replace, recovery)

    def _register(self, name: str, func: Callable[..., Any], delete: Callable[[Any], object],
                  needs: tuple[str, ...], replace: bool,
                  recovery: Callable[[Any], dict[str, Any] | None] | None = None) -> None:
        factory = _Kind(name, func, needs=needs, delete=delete, gone=(), registry=self.registry, recovery=recovery)
        self.registry.add(factory, replace=replace)
        self.factories[name] = factory


def _identity(drawn: Any) -> Any:
    # An id the client chooses must differ on every run and in every worker: never seeded (identity rule).
    if isinstance(drawn, bool) or not isinstance(drawn, int | str):
        return drawn
    if isinstance(drawn, int):
        return secrets.randbelow(2**31 - 2) + 1
    return drawn if unique.parse(drawn) else unique.token()


def _refusing(error: KindNotDerivableError) -> Callable[..., Any]:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise error

    return refused


def bind(api: ApiClient, document: Source, *, registry: Registry | None = None,
         delete: Mapping[str, Callable[[Any], object]] | None = None, ids: Mapping[str, str] | None = None,
         replace: bool = False, verify: str = "auto", all_fields: bool = False,
         validate: bool = False, settle: float | None = None) -> OpenApiKinds:
    """Derive the kinds of *document* and register them, creating and deleting through *api*.

    :param registry: where to register them (default: :data:`~testdata_kit.default_registry`).
    :param delete: kind -> callable deleting one created item, for kinds the document gives no delete.
    :param ids: kind -> the field of the created item that holds its id, where it cannot be derived.
    :param replace: replace kinds of the same names already in the registry.
    :param verify: the collections' deletion check: ``"auto"``, ``"always"`` or ``"never"``.
    :param all_fields: send every writable property by default, not only the required ones.
    :param validate: check the document with openapi-spec-validator first.
    :param settle: seconds a deletion the API accepted may take to finish before it counts as a leak (see
        :meth:`ApiClient.collection <testdata_kit.http.ApiClient.collection>`; default: its default).
    :raises DocumentError: for a document that cannot be read.
    :raises DuplicateKindError: for a kind already registered, without *replace*.
    """
    doc = document if isinstance(document, Document) else load(document, validate=validate)
    kinds = OpenApiKinds(api, doc, registry or default_registry)
    delete, ids = dict(delete or {}), dict(ids or {})
    derived = derive(doc)
    unknown = sorted((set(delete) | set(ids)) - {spec.name for spec in derived})
    if unknown:
        raise LookupError(f"delete=/ids= name kinds the OpenAPI document {doc.source} does not describe: "
                          f"{', '.join(map(repr, unknown))}. It describes: "
                          f"{', '.join(spec.name for spec in derived) or 'none'}.")
    for spec in derived:
        if spec.name in ids:
            _use_id(spec, ids[spec.name])
            client_chosen_id(doc, spec)
        if spec.name in delete:
            spec.problems = [p for p in spec.problems if not p.startswith("no delete operation")]
    for spec in derived:
        kinds._add(spec, delete=delete.get(spec.name), verify=verify, all_fields=all_fields, replace=replace,
                   settle=settle)
    api.openapi = kinds
    return kinds


def _use_id(spec: DerivedKind, field: str) -> None:
    spec.id_field = field
    spec.problems = [p for p in spec.problems if not p.startswith("cannot locate the id")]
    if spec.item_path:
        spec.item = f"{spec.item_path[: spec.item_path.rindex('{')]}{{{field}}}"
        if spec.delete:
            spec.delete = f"DELETE {spec.item}"


def client_from_openapi(cls: type[ApiClient], document: Source, base_url: str | None = None,
                        **options: Any) -> ApiClient:
    """Implement :meth:`ApiClient.from_openapi <testdata_kit.http.ApiClient.from_openapi>`."""
    bind_keys = ("registry", "delete", "ids", "replace", "verify", "all_fields", "validate", "settle")
    bind_options = {key: options.pop(key) for key in bind_keys if key in options}
    validate = bind_options.pop("validate", False)
    if isinstance(document, str) and urlsplit(document).scheme in ("http", "https"):
        parts = urlsplit(document)
        # Fetched through a client, so the host guard applies before the first request, as for the API itself.
        fetcher = cls(f"{parts.scheme}://{parts.netloc}", **options)
        try:
            from testdata_kit.http.client import expect_json

            response = fetcher.get(document)
            fix = "Check the URL, and pass headers= if the API needs credentials to read its document."
            if not response.ok:
                raise DocumentError(document, f"cannot be fetched: the server answered {response.status_code} "
                                    f"{response.reason}", fix)
            if response.headers.get("Content-Type", "").startswith("text/html"):
                # A login page behind a redirect, most often.
                raise DocumentError(document, f"answered an HTML page (from {_redact.url(response.url)})", fix)
            data = expect_json(response) if "json" in response.headers.get("Content-Type", "") else None
            doc = Document(data if data is not None else parse_text(response.content, document), document)
        finally:
            fetcher.close()
    else:
        doc = document if isinstance(document, Document) else load(document)
    if validate:
        doc.validate()
    url = base_url or doc.base_url()
    if not url:
        raise DocumentError(doc.source, "names no absolute server URL (servers, or host and basePath)",
                            "Pass base_url='http://127.0.0.1:8000' (where the API runs).")
    api = cls(url, **options)
    try:
        bind(api, doc, **bind_options)
    except BaseException:
        api.close()
        raise
    return api
