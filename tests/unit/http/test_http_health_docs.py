"""/health, /health/detailed, and the documentation endpoints."""

from __future__ import annotations

import json
import re
from typing import Any

from openapi_spec_validator import validate

from tests.support.http_app import Client, FakeRunner
from vidsvc import __version__
from vidsvc.http.bodies import HealthDetailedSchema

#: Every route of SPEC.md §2 except /internal and /dev (they arrive with later issues).
JSON = "application/json"
ERROR_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}
SPEC_ROUTES = {
    ("post", "/api/v1/compositions"),
    ("get", "/api/v1/compositions"),
    ("get", "/api/v1/compositions/{id}"),
    ("get", "/api/v1/compositions/{id}/download"),
    ("get", "/api/v1/compositions/{id}/metadata"),
    ("delete", "/api/v1/compositions/{id}"),
    ("get", "/health"),
    ("get", "/health/detailed"),
    ("get", "/ws/compositions/{id}"),
    ("get", "/docs"),
    ("get", "/redoc"),
    ("get", "/api/docs/openapi.json"),
}


async def test_health_is_exactly_healthy(client: Client) -> None:
    resp = await client.get("/health")
    assert resp.status == 200 and await resp.json() == {"status": "healthy"}


async def test_health_detailed_when_all_is_well(client: Client) -> None:
    resp = await client.get("/health/detailed")
    body = await resp.json()
    assert resp.status == 200
    assert body["status"] == "healthy"
    assert body["components"] == {
        "database": "healthy",
        "redis": "disabled",
        "s3": "disabled",
        "ffmpeg": "healthy",
    }
    assert body["version"] == __version__
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", body["timestamp"])
    assert HealthDetailedSchema().validate(body) == {}


async def test_health_detailed_is_503_when_a_configured_component_is_down(
    client: Client, fake: FakeRunner
) -> None:
    fake.components["database"] = "unhealthy"
    resp = await client.get("/health/detailed")
    body = await resp.json()
    assert resp.status == 503
    assert body["status"] == "unhealthy" and body["components"]["database"] == "unhealthy"
    assert (await client.get("/health")).status == 200  # liveness is not readiness


async def test_health_detailed_is_503_while_draining(client: Client, fake: FakeRunner) -> None:
    fake.begin_drain()
    resp = await client.get("/health/detailed")
    assert resp.status == 503 and (await resp.json())["status"] == "draining"


async def openapi(client: Client) -> dict[str, Any]:
    resp = await client.get("/api/docs/openapi.json")
    assert resp.status == 200
    document: dict[str, Any] = await resp.json()
    return document


async def test_openapi_document_validates_and_covers_every_spec_route(client: Client) -> None:
    document = await openapi(client)
    validate(document)
    documented = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert SPEC_ROUTES <= documented, SPEC_ROUTES - documented


async def test_it_is_openapi_3(client: Client) -> None:
    document = await openapi(client)
    assert document["openapi"].startswith("3.")
    assert "definitions" not in document and "swagger" not in document
    assert "#/definitions/" not in json.dumps(document)


async def test_every_operation_documents_its_responses(client: Client) -> None:
    document = await openapi(client)
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            assert op["responses"], (method, path)
            assert op.get("summary"), (method, path)
            for code, response in op["responses"].items():
                if code.startswith("2") and code != "204" and path.startswith("/api/v1/"):
                    assert "schema" in response["content"][JSON], (method, path, code)
                if code.startswith(("4", "5")) and path != "/health/detailed":
                    assert response["content"][JSON]["schema"] == ERROR_REF, (method, path)


async def test_the_request_body_is_the_composition_schema(client: Client) -> None:
    document = await openapi(client)
    post = document["paths"]["/api/v1/compositions"]["post"]
    assert post["requestBody"]["required"] is True
    assert post["requestBody"]["content"][JSON]["schema"] == {
        "oneOf": [
            {"$ref": "#/components/schemas/Composition"},
            {"$ref": "#/components/schemas/CompositionFromTemplate"},  # by template_id
        ]
    }
    schemas = document["components"]["schemas"]
    assert {"url", "trim_start", "trim_end", "transition_in"} <= set(schemas["Clip"]["properties"])
    # issue 12: the new fields are documented
    assert {"duration", "fit", "motion", "motion_amount"} <= set(schemas["Clip"]["properties"])
    assert {"aspect_ratio", "width", "height", "fit"} <= set(schemas["Output"]["properties"])
    assert {"url", "opacity", "trim_start", "volume"} <= set(schemas["AnyOverlay"]["properties"])
    query = document["paths"]["/api/v1/compositions"]["get"]["parameters"]
    assert {p["name"] for p in query} == {"status", "limit", "cursor"}
    limit = next(p for p in query if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "default": 20, "minimum": 1, "maximum": 100}
    retry = post["responses"]["503"]["headers"]["Retry-After"]
    assert retry["schema"] == {"type": "integer"}
    error = schemas["CompositionStatus"]["properties"]["error"]
    assert error == {"allOf": [{"$ref": "#/components/schemas/JobError"}], "nullable": True}


async def test_openapi_is_the_same_for_every_app(client: Client, app_client: Any) -> None:
    """aiohttp-apispec mutates handler metadata: a second app must not see a spoiled copy."""
    first = await openapi(client)
    second = await openapi(await app_client())
    assert first == second


async def test_swagger_ui_and_redoc_pages(client: Client) -> None:
    resp = await client.get("/docs")
    page = await resp.text()
    assert resp.status == 200 and resp.content_type == "text/html"
    assert "swagger-init.js" in page and 'data-spec-url="/api/docs/openapi.json"' in page
    script = re.search(r'src="([^"]+swagger-ui-bundle\.js)"', page)
    assert script is not None
    assert (await client.get(script.group(1))).status == 200  # the vendored bundle
    resp = await client.get("/redoc")
    page = await resp.text()
    assert resp.status == 200 and '<redoc spec-url="/api/docs/openapi.json">' in page


async def test_redoc_uses_only_same_origin_scripts_and_the_bundle_is_served(
    client: Client,
) -> None:
    """/redoc works offline: every script and stylesheet is a path on this server."""
    page = await (await client.get("/redoc")).text()
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sources, page
    assert all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
    assert any(s.endswith("redoc.standalone.js") for s in scripts), scripts
    for src in scripts:
        resp = await client.get(src)
        body = await resp.read()
        assert resp.status == 200, src
        assert len(body) > 500_000 and b"Redoc" in body[:2000]  # the real bundle, not a stub


async def test_head_works_but_is_not_documented_twice(client: Client) -> None:
    assert (await client.head("/health")).status == 200
    document = await openapi(client)
    assert not [p for p, ops in document["paths"].items() if "head" in ops]


async def test_the_text_fields_are_documented(client: Client) -> None:
    """Issue 11: captions, fonts, animation, max_width/align appear with descriptions."""
    schemas = (await openapi(client))["components"]["schemas"]
    props = schemas["Composition"]["properties"]
    assert {"captions", "fonts"} <= set(props), sorted(props)
    overlay = schemas["AnyOverlay"]["properties"]  # every kind's fields; `type` picks one
    assert overlay["animation"]["enum"] == ["none", "fade", "pop", "slide_up", "typewriter"]
    assert overlay["animation"]["example"] == "pop"
    assert {"max_width", "align"} <= set(schemas["TextStyle"]["properties"])
    captions = schemas["Captions"]["properties"]
    assert {"url", "cues", "words", "mode", "position", "offset", "style"} <= set(captions)
    assert captions["url"]["example"] == "s3://b/voice.srt"
    assert "highlight_color" in schemas["CaptionStyle"]["properties"]
    assert schemas["FontSource"]["properties"]["family"]["example"] == "Brand Sans"
