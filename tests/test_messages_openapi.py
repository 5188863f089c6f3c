"""Messages of the OpenAPI integration: what a user reads when a document or a kind cannot be used."""

from __future__ import annotations

import io
import unittest
from contextlib import redirect_stderr, redirect_stdout

from testdata_kit.cli import main as cli_main
from testdata_kit.errors import TestDataError
from testdata_kit.openapi import DocumentError, KindNotDerivableError, UnresolvableRefError, load


class OpenApiMessageTests(unittest.TestCase):
    def test_not_an_openapi_document(self) -> None:
        with self.assertRaises(DocumentError) as caught:
            load({"openapi": "2.5", "paths": {}})
        self.assertEqual(
            str(caught.exception),
            "OpenAPI document (a mapping): declares openapi: '2.5'. testdata_kit reads 'openapi: 3.0.x', '3.1.x' "
            "and 'swagger: \"2.0\"' documents.",
        )
        self.assertIsInstance(caught.exception, TestDataError)

    def test_a_top_level_that_is_not_an_object(self) -> None:
        with self.assertRaises(DocumentError) as caught:
            load([1, 2])  # type: ignore[arg-type]
        self.assertIn("is a list, not a mapping. Pass an OpenAPI 3.x or Swagger 2.0 document", str(caught.exception))

    def test_a_refused_kind(self) -> None:
        error = KindNotDerivableError("note", ["no delete operation (/notes/{id} has no DELETE)"],
                                      "Pass delete={'note': callable} to from_openapi.")
        self.assertEqual(
            str(error),
            "Kind 'note' cannot be derived from the OpenAPI document: no delete operation (/notes/{id} has no "
            "DELETE). Pass delete={'note': callable} to from_openapi.",
        )
        self.assertIsInstance(error, LookupError)

    def test_a_dangling_ref(self) -> None:
        self.assertEqual(
            str(UnresolvableRefError("#/components/schemas/Pet", "api.yaml")),
            "$ref '#/components/schemas/Pet' in the OpenAPI document api.yaml points nowhere. Fix the reference in "
            "the document, or keep the file it names next to the document.",
        )

    def test_the_command_names_the_file_and_the_fix(self) -> None:
        err = io.StringIO()
        with redirect_stdout(io.StringIO()), redirect_stderr(err):
            code = cli_main(["openapi", "missing-api.json"])
        self.assertEqual(code, 2)
        self.assertRegex(err.getvalue(), r"^python -m testdata_kit openapi: OpenAPI document .*missing-api\.json: "
                                         r"does not exist\. Pass the path of a \.json, \.yaml or \.yml file\.\n$")
