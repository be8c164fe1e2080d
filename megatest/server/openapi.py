"""The OpenAPI 3.1 description of the server's endpoints, served at `GET /openapi.json`.

Built from the same tables the server checks bodies with (megatest.server.wire), so the
description and the checks name the same kinds, keys and fields.
"""

from __future__ import annotations

from typing import Any

from megatest.server import reads, service, wire

_TEXT_OR_NULL = {"type": ["string", "null"]}
_SCALAR = {"type": ["string", "number", "null"]}
_ERROR = {"description": "refused", "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/Error"}}}}


def _write_schema(kind: str) -> dict[str, Any]:
    from megatest.store.columns import UPDATABLE_TEST_FIELDS

    props: dict[str, Any] = {"kind": {"const": kind},
                             "test_id": {"type": "integer", "minimum": 1,
                                             "maximum": wire.INT_MAX}}
    for key in wire.write_keys(kind):
        props[key] = {"type": "string"}
    for key in wire.optional_text(kind):
        props[key] = _TEXT_OR_NULL
    if kind == "data":
        row = {"type": "object", "additionalProperties": False, "required": ["variable"],
               "properties": {name: _SCALAR for name in wire.DATA_FIELDS}}
        row["properties"]["variable"] = {"type": "string", "minLength": 1}
        props["rows"] = {"type": "array", "minItems": 1, "items": row}
    elif kind == "fields":
        props["fields"] = {"type": "object", "minProperties": 1, "additionalProperties": False,
                           "properties": {name: _SCALAR
                                          for name in sorted({*UPDATABLE_TEST_FIELDS, "pid"})}}
    elif kind == "heartbeat":
        props["cpuload"] = {"type": ["number", "null"]}
        props["diskfree"] = {"type": ["number", "null"]}
    return {"type": "object", "additionalProperties": False,
            "required": ["kind", "test_id", *wire.required(kind)], "properties": props}


def description() -> dict[str, Any]:
    """The whole description, as a JSON-ready dict."""
    kinds = wire.kinds()
    batch = {"type": "object", "additionalProperties": False, "required": ["batch", "writes"],
             "properties": {
                 "batch": {"type": "string", "minLength": 1, "maxLength": wire.MAX_BATCH_ID,
                           "description": "chosen by the client; a retry sends the same id"},
                 "writes": {"type": "array", "minItems": 1, "maxItems": wire.MAX_WRITES,
                            "items": {"oneOf": [{"$ref": f"#/components/schemas/{k}Write"}
                                                for k in kinds]}}}}
    run_id = {"name": "run_id", "in": "path", "required": True,
              "schema": {"type": "integer", "minimum": 0, "maximum": service.MAX_RUN_ID}}
    json_of = lambda ref: {"application/json": {"schema": {"$ref": ref}}}  # noqa: E731
    return {
        "openapi": "3.1.0",
        "info": {"title": "megatest area server", "version": "1"},
        "security": [{"secret": []}],
        "paths": {
            "/ping": {"get": {"summary": "the server's area, pid, type, uptime and batches written",
                              "responses": {"200": {"description": "alive",
                                                    "content": json_of("#/components/schemas/Ping")},
                                            "401": _ERROR}}},
            "/runs": {"get": {"summary": "the area's runs",
                              "responses": {"200": {"description": "runs", "content": {
                                  "application/json": {"schema": {"type": "array",
                                                                  "items": {"type": "object"}}}}},
                                  "401": _ERROR, "503": _ERROR}}},
            "/runs/{run_id}/tests": {"get": {
                "summary": "a run's tests and items (optionally matching testpatt, or changed "
                           "since an epoch time)",
                "parameters": [run_id,
                               {"name": "testpatt", "in": "query", "required": False,
                                "schema": {"type": "string"}},
                               {"name": "since", "in": "query", "required": False,
                                "schema": {"type": "integer", "minimum": 0,
                                           "maximum": reads.MAX_SINCE}}],
                "responses": {"200": {"description": "test rows", "content": {
                    "application/json": {"schema": {"type": "array",
                                                    "items": {"type": "object"}}}}},
                              "400": _ERROR, "401": _ERROR, "404": _ERROR, "503": _ERROR}}},
            "/runs/{run_id}/tests/{test_id}": {"get": {
                "summary": "one test's row with its steps and data",
                "parameters": [run_id, {"name": "test_id", "in": "path", "required": True,
                                        "schema": {"type": "integer", "minimum": 0,
                                                   "maximum": service.MAX_RUN_ID}}],
                "responses": {"200": {"description": "the test", "content": {
                    "application/json": {"schema": {"type": "object"}}}},
                              "401": _ERROR, "404": _ERROR, "503": _ERROR}}},
            "/openapi.json": {"get": {"summary": "this description",
                                      "responses": {"200": {"description": "OpenAPI 3.1"},
                                                    "401": _ERROR}}},
            "/runs/{run_id}/writes": {"post": {
                "summary": "write a batch of a run's test writes; answered once committed",
                "parameters": [run_id, {
                    "name": wire.AREA_HEADER, "in": "header", "required": False,
                    "description": "the writing client's area (real path); another area's: 409",
                    "schema": {"type": "string"}}],
                "requestBody": {"required": True, "content": json_of("#/components/schemas/Batch")},
                "responses": {"200": {"description": "committed (written 0: a repeated batch)",
                                      "content": json_of("#/components/schemas/Written")},
                              "400": _ERROR, "401": _ERROR, "409": _ERROR, "503": _ERROR}}},
        },
        "components": {
            "securitySchemes": {"secret": {"type": "http", "scheme": "bearer",
                                           "description": "the area's .meta/secret"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"],
                          "properties": {"error": {"type": "string"}}},
                "Ping": {"type": "object", "properties": {
                    "area": {"type": "string"}, "pid": {"type": "integer"},
                    "type": {"type": "string"}, "uptime": {"type": "number"},
                    "batches": {"type": "integer"}}},
                "Written": {"type": "object", "properties": {
                    "batch": {"type": "string"}, "written": {"type": "integer"}}},
                "Batch": batch,
                **{f"{k}Write": _write_schema(k) for k in kinds},
            },
        },
    }
