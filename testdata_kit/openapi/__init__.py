"""Kinds from an API's own description: OpenAPI 3.0/3.1 and Swagger 2.0 documents become tracked kinds.

Needs the ``openapi`` extra (openapi-spec-validator, which brings jsonschema-path, referencing and PyYAML) and
the ``http`` extra::

    from testdata_kit.http import ApiClient

    api = ApiClient.from_openapi("http://127.0.0.1:8000/openapi.json")

    class OrderTests(DataTestCase):
        def test_order(self):
            s = self.scenario().order()    # POSTs a user and a product first; deletes all three after

``python -m testdata_kit openapi DOCUMENT`` prints what a document gives, and what it could not.
"""

from __future__ import annotations

from testdata_kit.openapi.binding import OpenApiKinds, bind
from testdata_kit.openapi.bodies import body_for, rng_for
from testdata_kit.openapi.derive import DerivedKind, derive, singular
from testdata_kit.openapi.document import Document, load
from testdata_kit.openapi.errors import DocumentError, KindNotDerivableError, OpenApiError, UnresolvableRefError

__all__ = [
    "DerivedKind",
    "Document",
    "DocumentError",
    "KindNotDerivableError",
    "OpenApiError",
    "OpenApiKinds",
    "UnresolvableRefError",
    "bind",
    "body_for",
    "derive",
    "load",
    "rng_for",
    "singular",
]
