"""Loading an OpenAPI 3.0/3.1 or Swagger 2.0 document: JSON or YAML, ``$ref`` resolution, validation, servers.

YAML is read with jsonschema-path's loader (timestamps stay strings, as JSON would have them), ``$ref`` is
resolved with ``referencing``, and :meth:`Document.validate` is openapi-spec-validator's, so a document reads
the same here as in openapi-core and the other python-openapi tools.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from testdata_kit.errors import MissingExtraError
from testdata_kit.openapi.errors import DocumentError, UnresolvableRefError

try:
    import referencing
    import referencing.exceptions
    import yaml
    from jsonschema_path.loaders import JsonschemaSafeLoader
except ImportError as _error:  # pragma: no cover - depends on the installed extras
    raise MissingExtraError(getattr(_error, "name", None) or "openapi-spec-validator", "openapi",
                            "OpenAPI documents (testdata_kit.openapi)") from None

__all__ = ["Document", "load", "parse_text"]

_METHODS = ("get", "put", "post", "delete", "patch")
_MAX_REF_CHAIN = 64
_URL_TIMEOUT = 10.0


class Document:
    """One loaded document: its data, where it came from, its version, and ``$ref`` resolution.

    :param data: the whole document as JSON-compatible Python data.
    :param uri: where it was loaded from (``file://...``, ``http://...``), or ``""`` for a mapping.
    """

    def __init__(self, data: Mapping[str, Any], uri: str = "") -> None:
        self.data = data
        self.uri = uri
        self.source = uri or "(a mapping)"
        self.version = _version(data, self.source)
        # attrs classes; mypy does not see their generated __init__ arguments.
        registry: referencing.Registry[Any] = referencing.Registry(retrieve=self._retrieve)  # type: ignore[call-arg]
        resource = referencing.Resource.opaque(data)
        self._root = uri or "urn:testdata-kit:openapi"
        self.resolver = registry.with_resource(self._root, resource).resolver(base_uri=self._root)

    def __repr__(self) -> str:
        title = self.data.get("info", {}).get("title", "untitled") if isinstance(self.data.get("info"), dict) else ""
        return f"<Document {title!r} {'Swagger' if self.version == '2.0' else 'OpenAPI'} {self.version} {self.source}>"

    @property
    def is_swagger(self) -> bool:
        """True for Swagger 2.0, whose bodies are ``in: body`` parameters and schemas live in ``definitions``."""
        return self.version == "2.0"

    def deref(self, node: Any, resolver: Any = None) -> tuple[Any, Any]:
        """Follow ``$ref`` from *node* until a node without one; return it and the resolver for refs inside it.

        :param resolver: the resolver *node* came with (another file's, for an external reference).
        :raises UnresolvableRefError: for a reference that points nowhere or a cycle of references.
        """
        resolver = resolver if resolver is not None else self.resolver
        for _ in range(_MAX_REF_CHAIN):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node, resolver
            ref = node["$ref"]
            try:
                found = resolver.lookup(ref)
            except referencing.exceptions.Unresolvable:
                raise UnresolvableRefError(ref, self.source) from None
            node, resolver = found.contents, found.resolver
        raise UnresolvableRefError(node.get("$ref", "?"), self.source, "leads only to other references, in a cycle")

    def operations(self) -> dict[str, dict[str, Any]]:
        """Return ``{path: {method: operation}}`` for every path, with path-level parameters merged in."""
        paths, _ = self.deref(self.data.get("paths") or {})
        found: dict[str, dict[str, Any]] = {}
        if not isinstance(paths, dict):
            return found
        for path, item in paths.items():
            item, _ = self.deref(item)
            if not isinstance(item, dict):
                continue
            shared = _mappings(item.get("parameters"))
            methods = {}
            for method in _METHODS:
                operation = item.get(method)
                if isinstance(operation, dict):
                    methods[method] = {**operation, "parameters": [*shared, *_mappings(operation.get("parameters"))]}
            found[path] = methods
        return found

    def base_url(self) -> str | None:
        """Return the API's base URL from ``servers`` (3.x) or ``schemes``/``host``/``basePath`` (2.0).

        A relative server URL is taken relative to where the document was loaded from; ``None`` when the
        document names no absolute address and was not loaded from a URL.
        """
        web = self.uri if self.uri.startswith(("http://", "https://")) else ""
        if self.is_swagger:
            host = self.data.get("host")
            scheme = (self.data.get("schemes") or [urlsplit(web).scheme or "https"])[0]
            base_path = self.data.get("basePath") or ""
            if host:
                return f"{scheme}://{host}{base_path}".rstrip("/")
            return urljoin(web, base_path or "/").rstrip("/") if web else None
        servers = self.data.get("servers") or [{"url": "/"}]
        server: dict[str, Any] = servers[0] if isinstance(servers[0], dict) else {"url": "/"}
        url = str(server.get("url", "/"))
        for name, variable in (server.get("variables") or {}).items():
            url = url.replace("{" + name + "}", str(variable.get("default", "")))
        if urlsplit(url).scheme:
            return url.rstrip("/")
        return urljoin(web, url).rstrip("/") if web else None

    def validate(self) -> None:
        """Check the document against its specification with openapi-spec-validator.

        :raises DocumentError: naming the first problem found and where it is.
        """
        from openapi_spec_validator import validate
        from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

        try:
            validate(dict(self.data), base_uri=self.uri)
        except OpenAPIValidationError as error:
            where = "/".join(str(part) for part in getattr(error, "path", ()) or ())
            raise DocumentError(
                self.source, f"is not a valid OpenAPI {self.version} document: {error.message}"
                + (f" (at {where})" if where else ""),
                "Fix the document, or load it with validate=False to use what can be derived anyway.",
            ) from None

    def _retrieve(self, uri: str) -> referencing.Resource[Any]:
        # Another file named by an external $ref, relative to this document.
        try:
            return referencing.Resource.opaque(_read_uri(uri))
        except (OSError, DocumentError) as error:
            raise referencing.exceptions.NoSuchResource(ref=uri) from error  # type: ignore[call-arg]


def _mappings(value: Any) -> list[dict[str, Any]]:
    # A hand-edited document may hold null or a stray string where a list of objects belongs.
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def parse_text(text: str | bytes, source: str = "(text)") -> Any:
    """Parse a document's text: JSON when it is JSON, else YAML (of which JSON is a subset)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            bad = error.object[error.start:error.start + 1]
            raise DocumentError(source, f"is not UTF-8 text (byte {error.start}: {bad!r})",
                                "Save the document as UTF-8 JSON or YAML, as OpenAPI requires.") from None
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            return json.loads(stripped)
        except ValueError:
            pass  # YAML flow style also starts with a brace; let the YAML parser have it
    try:
        return yaml.load(text, Loader=JsonschemaSafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        raise DocumentError(source, f"is neither JSON nor YAML ({problem}{where})",
                            "Check that the file or URL serves the document itself, not an HTML page.") from None


def _read_uri(uri: str) -> Any:
    parts = urlsplit(uri)
    if parts.scheme == "file":
        from urllib.request import url2pathname

        return _read_path(Path(url2pathname(parts.path)))
    if parts.scheme in ("http", "https"):
        from urllib.error import URLError
        from urllib.request import urlopen

        try:
            with urlopen(uri, timeout=_URL_TIMEOUT) as answer:
                return parse_text(answer.read(), uri)
        except (URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise DocumentError(uri, f"cannot be fetched ({reason})",
                                "Check the URL, or save the document and pass its path.") from None
    raise DocumentError(uri, "is neither a file nor an http(s) URL", "Pass a path, an http(s) URL or a mapping.")


def _read_path(path: Path) -> Any:
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise DocumentError(str(path), "does not exist", "Pass the path of a .json, .yaml or .yml file.") from None
    except OSError as error:
        raise DocumentError(str(path), f"cannot be read ({error.strerror})", "Check the path.") from None
    return parse_text(text, str(path))


def _version(data: Any, source: str) -> str:
    if not isinstance(data, Mapping):
        raise DocumentError(source, f"is a {type(data).__name__}, not a mapping",
                            "Pass an OpenAPI 3.x or Swagger 2.0 document, whose top level is an object.")
    swagger, openapi = data.get("swagger"), data.get("openapi")
    if str(swagger) == "2.0":
        return "2.0"
    if isinstance(openapi, str) and openapi.startswith(("3.0", "3.1", "3.2")):
        return "3.0" if openapi.startswith("3.0") else "3.1"
    found = f"openapi: {openapi!r}" if openapi is not None else f"swagger: {swagger!r}" if swagger else "neither"
    raise DocumentError(source, f"declares {found}",
                        "testdata_kit reads 'openapi: 3.0.x', '3.1.x' and 'swagger: \"2.0\"' documents.")


def load(source: str | os.PathLike[str] | Mapping[str, Any], *, validate: bool = False) -> Document:
    """Load a document from a path, an ``http(s)://`` or ``file://`` URL, or an already loaded mapping.

    :param source: where the document is; JSON or YAML.
    :param validate: also check it with openapi-spec-validator (slow on large documents; many published
        documents break a rule or two and still describe their API well enough).
    :raises DocumentError: when it cannot be read, is not OpenAPI/Swagger, or (with *validate*) is invalid.
    """
    if not isinstance(source, str | os.PathLike):
        document = Document(source)  # a mapping, or anything else, which Document refuses by name
    elif isinstance(source, str) and urlsplit(source).scheme in ("http", "https", "file"):
        document = Document(_read_uri(source), source)
    else:
        path = Path(source).resolve()
        document = Document(_read_path(path), path.as_uri())
    if validate:
        document.validate()
    return document
