"""Errors of the OpenAPI integration: a document that cannot be read, and a kind that cannot be derived."""

from __future__ import annotations

from testdata_kit.errors import TestDataError

__all__ = ["DocumentError", "KindNotDerivableError", "OpenApiError", "UnresolvableRefError"]


class OpenApiError(TestDataError):
    """Root of the errors raised while reading an OpenAPI or Swagger document."""


class DocumentError(OpenApiError, ValueError):
    """A document that cannot be read, is not OpenAPI 3.x or Swagger 2.0, or fails validation."""

    def __init__(self, source: str, problem: str, fix: str) -> None:
        self.source = source
        self.problem = problem
        self.fix = fix
        super().__init__(f"OpenAPI document {source}: {problem}. {fix}")


class UnresolvableRefError(OpenApiError, LookupError):
    """A ``$ref`` that points nowhere."""

    def __init__(self, ref: str, source: str, problem: str = "points nowhere") -> None:
        self.ref = ref
        self.source = source
        self.problem = problem
        super().__init__(
            f"$ref {ref!r} in the OpenAPI document {source} {problem}. Fix the reference in the document, "
            f"or keep the file it names next to the document."
        )


class KindNotDerivableError(OpenApiError, LookupError):
    """A kind the document describes only in part: no delete operation, or no id to address the item with."""

    def __init__(self, kind: str, problems: list[str], fix: str) -> None:
        self.kind = kind
        self.problems = problems
        self.fix = fix
        super().__init__(f"Kind {kind!r} cannot be derived from the OpenAPI document: {'; '.join(problems)}. {fix}")
