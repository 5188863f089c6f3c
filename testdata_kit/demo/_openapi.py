"""The demo API's own OpenAPI 3.1 document, built from its collections so that it never drifts from them."""

from __future__ import annotations

from typing import Any

from testdata_kit.demo._schema import _MAX_TEXT, COLLECTIONS, Field, Table

__all__ = ["document"]


def _field_schema(spec: Field) -> dict[str, Any]:
    if spec.kind in ("text", "email"):
        schema: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": _MAX_TEXT}
        if spec.kind == "email":
            schema["format"] = "email"
    elif spec.kind == "ref":
        schema = {"type": "integer", "minimum": 1, "description": f"id of one of {spec.ref}"}
    else:
        schema = {"type": spec.kind}
        if spec.minimum is not None:
            schema["minimum"] = spec.minimum
        if spec.maximum is not None:
            schema["maximum"] = spec.maximum
    if spec.nullable:
        schema["type"] = [schema["type"], "null"]
    if spec.default is not None:
        schema["default"] = spec.default
    return schema


def _schemas(coll: Table) -> dict[str, Any]:
    name = coll.singular.capitalize()
    fields = {spec.name: _field_schema(spec) for spec in coll.fields}
    new = {"type": "object", "properties": fields, "additionalProperties": False,
           "required": [spec.name for spec in coll.fields if spec.required]}
    stored = {**fields, "id": {"type": "integer", "readOnly": True},
              **{extra: {"type": "number", "readOnly": True} for extra in coll.computed},
              "created_at": {"type": "string", "format": "date-time", "readOnly": True}}
    return {f"New{name}": new, name: {"type": "object", "properties": stored, "required": ["id"]}}


def _json(ref: str, description: str, many: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"$ref": f"#/components/schemas/{ref}"}
    if many:
        schema = {"type": "array", "items": schema}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document(addressing: str = "path") -> dict[str, Any]:
    """Return the document for a server whose rows are addressed by path (``/users/7``) or by query filter.

    :param addressing: ``"path"`` or ``"query"`` (``/users?id=eq.7``, described as PostgREST describes its
        row filters, under ``#/components/parameters/rowFilter.<collection>.id``).
    """
    schemas: dict[str, Any] = {"Error": {"type": "object", "properties": {"error": {"type": "string"}}}}
    parameters: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    error = {"$ref": "#/components/responses/Error"}
    for coll in COLLECTIONS.values():
        schemas.update(_schemas(coll))
        name = coll.singular.capitalize()
        create = {"operationId": f"create{name}", "tags": [coll.name],
                  "requestBody": {"required": True, **_json(f"New{name}", "the new row")},
                  "responses": {"201": _json(name, "created"), "422": error}}
        listing = {"operationId": f"list{name}s", "responses": {"200": {"description": "a page of rows"}}}
        if addressing == "query":
            key = f"rowFilter.{coll.name}.id"
            parameters[key] = {"name": "id", "in": "query", "required": False, "schema": {"type": "string"},
                               "description": "filter on the id, PostgREST style: eq.7"}
            ref = [{"$ref": f"#/components/parameters/{key}"}]
            paths[f"/{coll.name}"] = {
                "get": {**listing, "parameters": ref, "responses": {"200": _json(name, "matching rows", True)}},
                "post": create,
                "delete": {"operationId": f"delete{name}", "parameters": ref,
                           "responses": {"204": {"description": "deleted"}, "404": error}},
            }
            continue
        # Tenanted rows are also reachable under their tenant: /tenants/{tenant_id}/users/{id}.
        for prefix, operation in [("", ""), ("/tenants/{tenant_id}", "Tenant")][: 2 if coll.tenanted else 1]:
            item = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}]
            if prefix:
                item.append({"name": "tenant_id", "in": "path", "required": True,
                             "schema": {"type": "integer", "minimum": 1}})
            paths[f"{prefix}/{coll.name}"] = {
                "parameters": item[1:],
                "get": {**listing, "operationId": f"list{operation}{name}s"},
                "post": {**create, "operationId": f"create{operation}{name}"},
            }
            paths[f"{prefix}/{coll.name}/{{id}}"] = {
                "parameters": item,
                "get": {"operationId": f"get{operation}{name}", "responses": {"200": _json(name, "the row"),
                                                                             "404": error}},
                "delete": {"operationId": f"delete{operation}{name}",
                           "responses": {"204": {"description": "deleted"}, "404": error, "409": error}},
            }
    return {
        "openapi": "3.1.0",
        "info": {"title": "testdata_kit demo shop API", "version": "1",
                 "license": {"name": "MIT", "identifier": "MIT"}},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": schemas, "parameters": parameters,
                       "responses": {"Error": _json("Error", "the request was refused")}},
    }
