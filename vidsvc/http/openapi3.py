"""Swagger 2.0 (what aiohttp-apispec emits) → OpenAPI 3.0.3 (what docs/contract.md §2 prefers).

A pure function over the document that setup_docs builds: definitions become
components/schemas, the body parameter a requestBody, each response schema a content map,
`x-nullable` becomes `nullable` (beside an allOf where it qualifies a $ref), and a plain
parameter's type moves into its `schema`. Only the
constructs vidsvc's own document uses are handled; openapi-spec-validator checks the result in
the tests.
"""

from __future__ import annotations

from typing import Any

OPENAPI_VERSION = "3.0.3"
JSON = "application/json"
#: Keys of a Swagger 2.0 non-body parameter that stay on the parameter; the rest is its schema.
_PARAMETER_KEYS = frozenset({"name", "in", "required", "description", "allowEmptyValue"})


def _schemas(node: Any) -> Any:
    """Rewrite $refs and nullability everywhere below node."""
    if isinstance(node, list):
        return [_schemas(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = value.replace("#/definitions/", "#/components/schemas/")
        elif key == "x-nullable":
            out["nullable"] = value
        else:
            out[key] = _schemas(value)
    if "$ref" in out and len(out) > 1:
        # In 3.0 a $ref's siblings are ignored: `nullable` only counts beside an allOf.
        out = {"allOf": [{"$ref": out.pop("$ref")}], **out}
    return out


def _parameter(param: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in param.items() if k in _PARAMETER_KEYS}
    kept["schema"] = {k: v for k, v in param.items() if k not in _PARAMETER_KEYS}
    return kept


def _content_for(status: str, response: dict[str, Any], produces: list[str]) -> dict[str, Any]:
    if "schema" in response:
        return {JSON: {"schema": response["schema"]}}
    if not status.startswith("2") or status == "204":  # 204: No Content, by definition
        return {}
    content = {}
    for media in produces:
        if media == JSON:
            content[media] = {"schema": {"type": "object"}}
        elif media.startswith("text/"):
            content[media] = {"schema": {"type": "string"}}
        else:
            content[media] = {"schema": {"type": "string", "format": "binary"}}
    return content


def _response(status: str, response: dict[str, Any], produces: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"description": response.get("description", "")}
    content = _content_for(status, response, produces)
    if content:
        out["content"] = content
    if "headers" in response:
        out["headers"] = {
            name: {"description": h.get("description", ""), "schema": {"type": h["type"]}}
            for name, h in response["headers"].items()
        }
    return out


def _operation(op: dict[str, Any]) -> dict[str, Any]:
    produces = op.get("produces") or [JSON]
    out = {k: v for k, v in op.items() if k not in ("produces", "parameters", "responses")}
    parameters = op.get("parameters", [])
    body = next((p for p in parameters if p["in"] == "body"), None)
    others = [_parameter(p) for p in parameters if p["in"] != "body"]
    if others:
        out["parameters"] = others
    if body is not None:
        out["requestBody"] = {
            "required": bool(body.get("required")),
            "content": {JSON: {"schema": body["schema"]}},
        }
    out["responses"] = {
        status: _response(status, response, produces)
        for status, response in op.get("responses", {}).items()
    }
    return out


def to_openapi3(swagger: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI 3.0.3 form of a Swagger 2.0 document (the input is not modified)."""
    paths = {
        path: {method: _operation(op) for method, op in operations.items()}
        for path, operations in swagger.get("paths", {}).items()
    }
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": swagger["info"],
        "paths": paths,
        "components": {"schemas": swagger.get("definitions", {})},
    }
    if swagger.get("tags"):
        document["tags"] = swagger["tags"]
    converted: dict[str, Any] = _schemas(document)
    return converted
