"""The dry run in the OpenAPI document: `dry_run` on POST /api/v1/compositions, its 200 plan
with SPEC §3.2's field names, and a document openapi-spec-validator accepts."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from tests.support.http_app import DOC, Client, assert_envelope

JSON = "application/json"
#: SPEC §3.2: the plan's fields, and each clip's (the contract clients read).
PLAN_FIELDS = {"duration", "width", "height", "fps", "clips", "renditions", "warnings",
               "estimated_duration"}  # fmt: skip
CLIP_FIELDS = {"index", "start_time", "end_time", "trim_start", "trim_end", "transition_in",
               "extended_by", "voiceover"}  # fmt: skip


async def document(client: Client) -> dict[str, Any]:
    resp = await client.get("/api/docs/openapi.json")
    assert resp.status == 200
    found: dict[str, Any] = await resp.json()
    return found


async def test_the_dry_run_is_documented(client: Client) -> None:
    doc = await document(client)
    validate(doc)
    post = doc["paths"]["/api/v1/compositions"]["post"]
    (param,) = [p for p in post["parameters"] if p["name"] == "dry_run"]
    assert param["in"] == "query" and param["required"] is False
    assert param["schema"] == {"type": "boolean", "default": False}
    assert post["responses"]["200"]["content"][JSON]["schema"] == {
        "$ref": "#/components/schemas/CompositionPlan"
    }
    assert "202" in post["responses"] and "Retry-After" in post["responses"]["503"]["headers"]
    schemas = doc["components"]["schemas"]
    assert set(schemas["Plan"]["required"]) == PLAN_FIELDS
    assert CLIP_FIELDS <= set(schemas["PlanClip"]["required"])
    assert set(schemas["PlanVoiceover"]["properties"]) >= {"start_time", "end_time"}
    assert schemas["PlanClip"]["properties"]["voiceover"]["nullable"] is True


async def test_dry_run_is_true_or_false(client: Client) -> None:
    for value in ("maybe", "TRUE", "0"):
        resp = await client.post(f"/api/v1/compositions?dry_run={value}", json=DOC)
        body = await resp.json()
        assert resp.status == 400
        assert_envelope(body, "VALIDATION_ERROR")
        assert body["error"]["details"]["field"] == "dry_run"
    resp = await client.post("/api/v1/compositions?dry_run=false&other=1", json=DOC)
    assert resp.status == 202  # false is a POST; other parameters are ignored, as before
