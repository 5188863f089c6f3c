"""Deriving kinds and bodies from real OpenAPI/Swagger documents (tests/openapi_documents) and from small ones."""

from __future__ import annotations

import copy
import io
import random
import re
import unittest
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any, ClassVar

from openapi_schema_validator import OAS30Validator, OAS31Validator, oas30_format_checker, oas31_format_checker

from testdata_kit import safe, unique
from testdata_kit.cli import main as cli_main
from testdata_kit.openapi import (
    DerivedKind,
    Document,
    DocumentError,
    UnresolvableRefError,
    body_for,
    derive,
    load,
    singular,
)

DOCUMENTS = Path(__file__).parent / "openapi_documents"
REAL = ("petstore-expanded-3.0.yaml", "petstore-expanded-2.0.yaml", "swagger-petstore-3.0.yaml",
        "tictactoe-3.1.yaml")


def validator(doc: Document, schema: Any) -> Any:
    """A validator of *schema*, a node of *doc* whose local refs resolve against the whole document."""
    # The document's own keys (info, paths, components, definitions) are no JSON Schema keywords, except the
    # ref targets, so the merged dict validates exactly as *schema* with the document as its root.
    root = {**copy.deepcopy(dict(doc.data)), **schema}
    if doc.version == "3.1":
        return OAS31Validator(root, format_checker=oas31_format_checker)
    return OAS30Validator(root, format_checker=oas30_format_checker)


def kinds_of(name: str) -> dict[str, DerivedKind]:
    return {kind.name: kind for kind in derive(load(DOCUMENTS / name))}


class RealDocumentTests(unittest.TestCase):
    def test_the_petstore_in_openapi_3_and_in_swagger_2_gives_the_same_kind(self) -> None:
        for name in ("petstore-expanded-3.0.yaml", "petstore-expanded-2.0.yaml"):
            with self.subTest(name):
                kinds = kinds_of(name)
                self.assertEqual(list(kinds), ["pet"])
                pet = kinds["pet"]
                self.assertEqual(pet.create, "POST /pets (addPet)")
                self.assertEqual(pet.item, "/pets/{id}")
                self.assertEqual(pet.delete, "DELETE /pets/{id} (deletePet)")
                self.assertEqual(pet.required, ("name",))
                self.assertEqual((pet.needs, pet.problems), ((), []))
                self.assertTrue(pet.gettable)

    def test_versions_and_servers_are_read(self) -> None:
        self.assertEqual(load(DOCUMENTS / "petstore-expanded-2.0.yaml").version, "2.0")
        self.assertEqual(load(DOCUMENTS / "petstore-expanded-2.0.yaml").base_url(), "http://petstore.swagger.io/api")
        self.assertEqual(load(DOCUMENTS / "swagger-petstore-3.0.yaml").base_url(),
                         "https://petstore3.swagger.io/api/v3")
        self.assertEqual(load(DOCUMENTS / "tictactoe-3.1.yaml").version, "3.1")

    def test_the_swagger_petstore_service(self) -> None:
        kinds = kinds_of("swagger-petstore-3.0.yaml")
        # /user/createWithList takes an array and /pet/{petId}/uploadImage an octet stream: no kinds.
        self.assertEqual(sorted(kinds), ["order", "pet", "user"])
        self.assertEqual(kinds["user"].item, "/user/{username}")
        self.assertEqual(kinds["user"].id_field, "username")
        self.assertEqual(kinds["user"].send_always, ("username",))
        self.assertEqual(kinds["pet"].required, ("name", "photoUrls"))
        self.assertEqual(kinds["order"].field_links, {"petId": "pet"})
        self.assertEqual(kinds["order"].needs, ())  # petId is optional there: linked only when given

    def test_a_document_without_collections_derives_nothing(self) -> None:
        self.assertEqual(kinds_of("tictactoe-3.1.yaml"), {})

    def test_bodies_validate_against_the_documents_schemas(self) -> None:
        for name in REAL:
            doc = load(DOCUMENTS / name)
            for kind in derive(doc):
                if kind.schema is None:
                    continue
                check = validator(doc, kind.schema)
                for seed in range(25):
                    for all_fields in (False, True):
                        body = body_for(doc, kind.schema, kind.resolver, random.Random(seed), kind=kind.name,
                                        all_fields=all_fields)
                        with self.subTest(name=name, kind=kind.name, seed=seed, all_fields=all_fields):
                            errors = [e.message for e in check.iter_errors(body)]
                            self.assertEqual(errors, [], f"body {body} (seed {seed})")

    def test_contact_values_are_safe_and_emails_unique(self) -> None:
        doc = load(DOCUMENTS / "swagger-petstore-3.0.yaml")
        user = kinds_of("swagger-petstore-3.0.yaml")["user"]
        bodies = [body_for(doc, user.schema, user.resolver, random.Random(7), all_fields=True) for _ in range(2)]
        for body in bodies:
            self.assertTrue(safe.is_safe_email(body["email"]), body["email"])
            self.assertTrue(safe.is_safe_phone(body["phone"]), body["phone"])
            self.assertIsNotNone(unique.parse(body["username"]))
        self.assertNotEqual(bodies[0]["email"], bodies[1]["email"])
        self.assertEqual(bodies[0]["userStatus"], bodies[1]["userStatus"])  # seeded: the same seed, same value

    def test_validation_uses_openapi_spec_validator(self) -> None:
        load(DOCUMENTS / "petstore-expanded-2.0.yaml", validate=True)
        broken = {"openapi": "3.0.0", "info": {"title": "x"}, "paths": {}}
        with self.assertRaises(DocumentError) as caught:
            load(broken, validate=True)
        self.assertIn("'version' is a required property", str(caught.exception))


def _doc(paths: dict[str, Any], schemas: dict[str, Any] | None = None, version: str = "3.0.3") -> dict[str, Any]:
    return {"openapi": version, "info": {"title": "t", "version": "1"}, "paths": paths,
            "components": {"schemas": schemas or {}, "parameters": {}}}


def _post(schema: str, answer: str | None = None) -> dict[str, Any]:
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    responses: dict[str, Any] = {"201": {"description": "created"}}
    if answer:
        responses["201"]["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{answer}"}}}
    return {"requestBody": {"content": content}, "responses": responses}


_OK = {"responses": {"204": {"description": "gone"}}}
_ID = {"type": "integer", "readOnly": True}


class DerivationTests(unittest.TestCase):
    def test_nested_collections_need_their_parents(self) -> None:
        doc = _doc({
            "/users": {"post": _post("User", "User")},
            "/users/{userId}": {"delete": _OK, "get": _OK},
            "/users/{userId}/orders": {"post": _post("NewOrder", "Order")},
            "/users/{userId}/orders/{orderId}": {"delete": _OK},
            "/products": {"post": _post("Product", "Product")},
            "/products/{id}": {"delete": _OK},
        }, {
            "User": {"type": "object", "properties": {"id": _ID, "email": {"type": "string"}}},
            "Product": {"type": "object", "properties": {"id": _ID, "name": {"type": "string"}}},
            "NewOrder": {"type": "object", "required": ["product_id"],
                         "properties": {"product_id": {"type": "integer"}, "coupon_id": {"type": "integer"}}},
            "Order": {"allOf": [{"$ref": "#/components/schemas/NewOrder"},
                                {"type": "object", "properties": {"id": _ID}}]},
        })
        kinds = {kind.name: kind for kind in derive(load(doc))}
        order = kinds["order"]
        self.assertEqual(order.path, "/users/{userId}/orders")
        self.assertEqual(order.item, "/users/{userId}/orders/{id}")
        self.assertEqual(order.path_links, {"userId": "user"})
        self.assertEqual(order.field_links, {"product_id": "product"})
        self.assertEqual(order.needs, ("user", "product"))
        self.assertEqual(order.required, ("product_id",))
        self.assertFalse(order.gettable)

    def test_a_query_filter_delete_addresses_items_by_their_id(self) -> None:
        doc = _doc({
            "/users": {"post": _post("User", "User"),
                       "delete": {"parameters": [{"$ref": "#/parameters/rowFilter.users.id"}], **_OK},
                       "get": _OK},
        }, {"User": {"type": "object", "properties": {"id": _ID}}})
        doc["parameters"] = {"rowFilter.users.id": {"name": "id", "in": "query", "type": "string"}}
        user = derive(load(doc))[0]
        self.assertEqual(user.item, "/users?id=eq.{id}")
        self.assertEqual(user.headers, {"Prefer": "return=representation"})
        plain = copy.deepcopy(doc)
        plain["paths"]["/users"]["delete"]["parameters"] = [{"name": "id", "in": "query",
                                                             "schema": {"type": "integer"}}]
        self.assertEqual(derive(load(plain))[0].item, "/users?id={id}")

    def test_without_a_delete_the_kind_carries_the_problem(self) -> None:
        doc = _doc({"/notes": {"post": _post("Note")}, "/notes/{id}": {"get": _OK}},
                   {"Note": {"type": "object", "properties": {"text": {"type": "string"}}}})
        note = derive(load(doc))[0]
        self.assertIsNone(note.delete)
        self.assertEqual(note.problems, ["no delete operation (/notes/{id} has no DELETE, and DELETE /notes takes "
                                         "no id parameter)"])

    def test_an_id_it_cannot_locate_is_flagged(self) -> None:
        doc = _doc({"/keys": {"post": _post("Key", "Key")}, "/keys/{fingerprint}": {"delete": _OK}},
                   {"Key": {"type": "object", "properties": {"material": {"type": "string"}}}})
        key = derive(load(doc))[0]
        self.assertIsNone(key.id_field)
        self.assertEqual(key.problems, ["cannot locate the id: {fingerprint} of /keys/{fingerprint} matches no "
                                        "field of the created item (fields: material)"])

    def test_a_create_without_an_answer_schema_assumes_id_and_says_so(self) -> None:
        doc = _doc({"/tags": {"post": _post("Tag")}, "/tags/{tagId}": {"delete": _OK}},
                   {"Tag": {"type": "object", "properties": {"label": {"type": "string"}}}})
        tag = derive(load(doc))[0]
        self.assertEqual((tag.item, tag.problems), ("/tags/{id}", []))
        self.assertIn("assumed its id is in the field 'id'", tag.notes[0])

    def test_two_collections_of_one_name_are_told_apart(self) -> None:
        schemas = {"O": {"type": "object", "properties": {"id": _ID}}}
        doc = _doc({"/orders": {"post": _post("O", "O")}, "/orders/{id}": {"delete": _OK},
                    "/shops/{shopId}/orders": {"post": _post("O", "O")},
                    "/shops/{shopId}/orders/{id}": {"delete": _OK}}, schemas)
        self.assertEqual([kind.name for kind in derive(load(doc))], ["order", "shop_order"])

    def test_a_post_without_body_or_item_path_is_an_action_not_a_kind(self) -> None:
        schemas = {"K": {"type": "object", "properties": {"id": _ID}}}
        doc = _doc({"/kernels": {"post": _post("K", "K")}, "/kernels/{kernel_id}": {"delete": _OK},
                    "/kernels/{kernel_id}/restart": {"post": {"responses": {"200": {"description": "ok"}}}}},
                   schemas)
        self.assertEqual([kind.name for kind in derive(load(doc))], ["kernel"])

    def test_an_item_parameter_named_after_the_kind_is_its_id(self) -> None:
        doc = _doc({"/sessions": {"post": _post("S", "S")}, "/sessions/{session}": {"delete": _OK}},
                   {"S": {"type": "object", "properties": {"id": {"type": "string"}}}})
        self.assertEqual(derive(load(doc))[0].item, "/sessions/{id}")

    def test_unquoted_yaml_status_codes(self) -> None:
        import tempfile

        text = (DOCUMENTS / "petstore-expanded-2.0.yaml").read_text().replace('"200":', "200:")
        self.assertIn("        200:\n", text)
        with tempfile.TemporaryDirectory() as folder:
            Path(folder, "api.yaml").write_text(text)
            pet = derive(load(Path(folder, "api.yaml")))[0]
        self.assertEqual((pet.item, pet.notes), ("/pets/{id}", []))

    def test_who_chooses_the_id(self) -> None:
        def kind(required: list[str], field: str = "id") -> DerivedKind:
            schema = {"type": "object", "required": required, "properties": {field: {"type": "string"}}}
            doc = _doc({"/things": {"post": _post("T", "T")}, "/things/{" + field + "}": {"delete": _OK}},
                       {"T": schema})
            return derive(load(doc))[0]

        self.assertEqual(kind([]).send_always, ())  # an optional id is the server's to assign
        self.assertEqual(kind(["id"]).send_always, ("id",))
        self.assertEqual(kind([], "slug").send_always, ("slug",))

    def test_singular_names(self) -> None:
        for word, expected in [("pets", "pet"), ("categories", "category"), ("addresses", "address"),
                               ("storeItems", "store_item"), ("status", "status"), ("user", "user")]:
            self.assertEqual(singular(word), expected)


class BodyTests(unittest.TestCase):
    SCHEMAS: dict[str, Any] = {
        "Thing": {
            "type": "object",
            "required": ["name", "kind", "size", "code", "ratio", "created", "contact", "tags", "price", "ref"],
            "properties": {
                "id": {"type": "string", "format": "uuid", "readOnly": True},
                "name": {"type": "string", "maxLength": 40},
                "kind": {"type": "string", "enum": ["a", "b"]},
                "size": {"type": "integer", "minimum": 3, "maximum": 5},
                "code": {"type": "string", "pattern": "^[A-Z]{3}-\\d{4}$"},
                "ratio": {"type": "number", "minimum": 0, "maximum": 1, "exclusiveMaximum": True},
                "created": {"type": "string", "format": "date-time"},
                "contact": {"oneOf": [{"$ref": "#/components/schemas/Email"}, {"$ref": "#/components/schemas/Phone"}]},
                "tags": {"type": "array", "items": {"type": "string", "minLength": 2}, "minItems": 2,
                         "uniqueItems": True},
                "price": {"type": "number", "multipleOf": 0.5, "minimum": 1, "maximum": 10},
                "ref": {"type": "string", "format": "uri"},
                "note": {"type": "string", "nullable": True},
            },
        },
        "Email": {"type": "object", "required": ["email"], "properties": {"email": {"type": "string",
                                                                                   "format": "email"}},
                  "additionalProperties": False},
        "Phone": {"type": "object", "required": ["phone"], "properties": {"phone": {"type": "string"}},
                  "additionalProperties": False},
    }

    def test_constraints_are_met_and_read_only_fields_left_out(self) -> None:
        doc = load(_doc({}, self.SCHEMAS))
        schema = {"$ref": "#/components/schemas/Thing"}
        check = validator(doc, schema)
        for seed in range(40):
            body = body_for(doc, schema, None, random.Random(seed), kind="thing")
            with self.subTest(seed=seed, body=body):
                self.assertEqual([e.message for e in check.iter_errors(body)], [])
                self.assertNotIn("id", body)
                self.assertNotIn("note", body)  # optional
                self.assertTrue(body["name"].startswith("Thing test-") or unique.parse(body["name"]))
        full = body_for(doc, schema, None, random.Random(1), all_fields=True)
        self.assertIn("note", full)
        self.assertNotIn("id", full)

    def test_openapi_3_1_type_lists_and_numeric_exclusive_bounds(self) -> None:
        schemas = {"T": {"type": "object", "required": ["n", "s"], "properties": {
            "n": {"type": ["integer", "null"], "exclusiveMinimum": 10, "exclusiveMaximum": 13},
            "s": {"type": ["string", "null"], "minLength": 5, "maxLength": 5}}}}
        doc = load(_doc({}, schemas, "3.1.0"))
        schema = {"$ref": "#/components/schemas/T"}
        for seed in range(20):
            body = body_for(doc, schema, None, random.Random(seed))
            self.assertIn(body["n"], (11, 12))
            self.assertEqual(len(body["s"]), 5)
            self.assertEqual([e.message for e in validator(doc, schema).iter_errors(body)], [])

    def test_the_same_seed_gives_the_same_values(self) -> None:
        doc = load(DOCUMENTS / "swagger-petstore-3.0.yaml")
        pet = kinds_of("swagger-petstore-3.0.yaml")["pet"]
        seed = random.randrange(2**32)
        print(f"seed {seed}")

        def seeded(value: int) -> Any:
            body = body_for(doc, pet.schema, pet.resolver, random.Random(value), kind="pet", all_fields=True)
            return {k: v for k, v in body.items() if k != "name" and k != "category" and k != "tags"}

        self.assertEqual(seeded(seed), seeded(seed))
        self.assertNotEqual([seeded(seed + n) for n in range(5)], [seeded(seed)] * 5)


class MalformedDocumentTests(unittest.TestCase):
    """Hand-edited documents hold nulls and cycles; they give fewer kinds or an OpenApiError, never a crash."""

    CASES: ClassVar[list[dict[str, Any]]] = [
        {"paths": None},
        {"paths": {"/a": None}},
        {"paths": {"/a": {"post": {"requestBody": None}}, "/a/{id}": {"delete": {}}}},
        {"paths": {"/a": {"post": {"requestBody": {"content": None}}}}},
        {"paths": {"/a": {"post": {"parameters": None, "responses": {"201": None}}}, "/a/{id}": {"delete": {}}}},
        {"paths": {"/a": {"post": {"parameters": ["x", None]}, "delete": {"parameters": [None]}}}},
        {"paths": {"/a": {"post": _post("A")}, "/a/{id}": {"delete": {}}},
         "components": {"schemas": {"A": {"$ref": "#/components/schemas/A"}}}},
        {"paths": {"/a": {"post": _post("A")}, "/a/{id}": {"delete": {}}},
         "components": {"schemas": {"A": {"type": "object", "required": ["b"],
                                          "properties": {"b": {"$ref": "#/components/schemas/A"}}}}}},
        {"paths": {"/a": {"post": _post("A")}, "/a/{id}": {"delete": {}}},
         "components": {"schemas": {"A": {"allOf": [{"$ref": "#/components/schemas/A"}]}}}},
    ]

    def test_no_crash(self) -> None:
        from testdata_kit.openapi import OpenApiError

        for number, case in enumerate(self.CASES):
            with self.subTest(number):
                doc = load({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, **case})
                try:
                    for kind in derive(doc):
                        if kind.schema is not None:
                            body_for(doc, kind.schema, kind.resolver, random.Random(1), all_fields=True)
                except OpenApiError as error:
                    self.assertIn("OpenAPI document", str(error))


class SeedTests(unittest.TestCase):
    def test_values_come_from_the_tests_own_seed(self) -> None:
        from testdata_kit import DataTestCase
        from testdata_kit.openapi import rng_for
        from tests._support import run_cases

        drawn: dict[str, list[float]] = {}

        class Inner(DataTestCase):
            def test_a(inner) -> None:
                drawn.setdefault("a", []).append(rng_for("pet").random())

            def test_b(inner) -> None:
                drawn.setdefault("b", []).append(rng_for("pet").random())

        for _ in range(2):
            run_cases(Inner)
        self.assertEqual(drawn["a"][0], drawn["a"][1])  # the same test, the same values, run after run
        self.assertNotEqual(drawn["a"][0], drawn["b"][0])


class DocumentTests(unittest.TestCase):
    def test_json_yaml_and_mappings_load_alike(self) -> None:
        text = (DOCUMENTS / "petstore-expanded-3.0.yaml").read_text()
        as_yaml = load(DOCUMENTS / "petstore-expanded-3.0.yaml")
        as_mapping = load(as_yaml.data)
        self.assertEqual(as_mapping.data, as_yaml.data)
        self.assertIn("openapi", text)

    def test_a_ref_that_points_nowhere_is_named(self) -> None:
        doc = load(_doc({"/x": {"post": _post("Missing")}, "/x/{id}": {"delete": _OK}}))
        with self.assertRaises(UnresolvableRefError) as caught:
            derive(doc)
        self.assertEqual(caught.exception.ref, "#/components/schemas/Missing")

    def test_an_external_ref_is_resolved_relative_to_the_document(self) -> None:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            Path(folder, "pet.yaml").write_text("type: object\nrequired: [name]\nproperties:\n  name: {type: string}\n")
            doc = _doc({"/pets": {"post": {"requestBody": {"content": {"application/json": {"schema": {
                "$ref": "pet.yaml"}}}}, "responses": {"201": {"description": "ok"}}}},
                "/pets/{id}": {"delete": _OK}})
            import json

            Path(folder, "api.json").write_text(json.dumps(doc))
            loaded = load(Path(folder, "api.json"))
            pet = derive(loaded)[0]
            self.assertEqual(pet.required, ("name",))
            self.assertIn("name", body_for(loaded, pet.schema, pet.resolver, random.Random(1)))


class CommandTests(unittest.TestCase):
    def run_cli(self, *args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = cli_main(["openapi", *args])
        return code, out.getvalue(), err.getvalue()

    def test_it_prints_each_kind(self) -> None:
        code, out, err = self.run_cli(str(DOCUMENTS / "swagger-petstore-3.0.yaml"), "--base-url",
                                      "http://127.0.0.1:9")
        self.assertEqual((code, err), (0, ""))
        self.assertIn("base URL: http://127.0.0.1:9", out)
        self.assertRegex(out, r"(?m)^user\n  create: +POST /user \(createUser\)\n  item: +/user/\{username\}\n"
                              r"  delete: +DELETE /user/\{username\} \(deleteUser\)\n  id field: +username\n")
        self.assertRegex(out, r"(?m)^  links: +petId -> pet$")

    def test_refused_kinds_are_flagged(self) -> None:
        import json
        import tempfile

        doc = _doc({"/notes": {"post": _post("Note")}}, {"Note": {"type": "object"}})
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(doc, handle)
        try:
            code, out, _ = self.run_cli(handle.name)
        finally:
            Path(handle.name).unlink()
        self.assertEqual(code, 0)
        self.assertIn("note  REFUSED", out)
        self.assertIn("problem:   no delete operation (no item path under /notes", out)
        self.assertIn("Refused: note.", out)

    def test_errors_exit_2_without_a_traceback(self) -> None:
        code, _, err = self.run_cli("no-such-file.yaml")
        self.assertEqual(code, 2)
        self.assertNotIn("Traceback", err)
        self.assertRegex(err, r"no-such-file\.yaml: does not exist\. Pass the path of a \.json, \.yaml or \.yml file")
        with redirect_stderr(io.StringIO()):
            self.assertEqual(cli_main(["openapi"]), 2)

    def test_a_document_that_is_not_openapi(self) -> None:
        code, _, err = self.run_cli(str(Path(__file__).parent.parent / "setup.cfg"))
        self.assertEqual(code, 2)
        self.assertTrue(re.search(r"is neither JSON nor YAML \(.* at line \d+, column \d+\)", err), err)
