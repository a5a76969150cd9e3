"""/api/v1/templates and POST /api/v1/compositions by template_id, over the FakeRunner (the
templates are the real MemoryTemplateStore; the fake's submit checks the composition's shape).
The URL rules at a merge and a real render are test_http_templates_real.py's and
tests/acceptance/service/test_templates.py's."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from openapi_spec_validator import validate

from tests.support.http_app import Client, FakeRunner, assert_envelope
from vidsvc.http.templatebody import TemplatePageSchema, TemplateSchema, TemplateSummarySchema

TEMPLATES = "/api/v1/templates"
COMPOSITIONS = "/api/v1/compositions"
COMPOSITION: dict[str, Any] = {
    "clips": [
        {"url": "{{CLIP_URL}}", "trim_end": "{{LENGTH}}"},
        {"url": "s3://bucket/{{SCENE}}.mp4", "transition_in": "fade"},
    ],
    "overlays": [{"type": "text", "content": "Hi {{NAME}}, {{COUNT}} left"}],
    "audio": "{{AUDIO}}",
    "fonts": "{{FONTS}}",
    "output": {"resolution": "720p", "fps": "{{FPS}}"},
}
NAMES = ["CLIP_URL", "LENGTH", "SCENE", "NAME", "COUNT", "AUDIO", "FONTS", "FPS"]
MERGE: dict[str, Any] = {
    "CLIP_URL": "s3://bucket/a.mp4",
    "LENGTH": 2.5,
    "SCENE": "beach",
    "NAME": "Ada",
    "COUNT": 3,
    "AUDIO": {"music_url": "s3://bucket/m.mp3", "music_volume": 0.5},
    "FONTS": [{"family": "Brand Sans", "url": "s3://bucket/f.ttf"}],
    "FPS": 25,
}


@pytest.fixture
async def api(app_client: Callable[..., Awaitable[Client]]) -> Client:
    return await app_client(ALLOWED_S3_BUCKETS="bucket")


async def save(api: Client, composition: dict[str, Any] = COMPOSITION, name: str = "promo") -> Any:
    resp = await api.post(TEMPLATES, json={"name": name, "composition": composition})
    body = await resp.json()
    assert resp.status == 201, body
    return body


async def refused(resp: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    body = await resp.json()
    assert resp.status == status, body
    assert_envelope(body, code)
    if field is not None:
        assert body["error"]["details"]["field"] == field, body
    error: dict[str, Any] = body["error"]
    return error


async def test_create_then_read_it_back(api: Client) -> None:
    resp = await api.post(TEMPLATES, json={"name": "promo", "composition": COMPOSITION})
    created = await resp.json()
    assert resp.status == 201
    assert set(created) == {"template_id", "name", "placeholders", "created_at"}
    assert created["template_id"].startswith("tmpl_") and created["name"] == "promo"
    assert created["placeholders"] == NAMES
    assert TemplateSummarySchema().validate(created) == {}
    assert resp.headers["Location"] == f"{TEMPLATES}/{created['template_id']}"

    resp = await api.get(resp.headers["Location"])
    got = await resp.json()
    assert resp.status == 200 and TemplateSchema().validate(got) == {}
    assert got == {**created, "composition": COMPOSITION}


async def test_the_list_pages_newest_first_without_compositions(api: Client) -> None:
    made = [(await save(api, name=f"t{n}"))["template_id"] for n in range(5)]
    seen, cursor = [], None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        resp = await api.get(TEMPLATES, params=query)
        page = await resp.json()
        assert resp.status == 200 and TemplatePageSchema().validate(page) == {}
        assert all("composition" not in item for item in page["items"])
        seen += [item["template_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert cursor == seen[-1]
    assert seen == made[::-1]
    whole = await (await api.get(TEMPLATES)).json()
    assert [i["template_id"] for i in whole["items"]] == made[::-1]
    assert whole["next_cursor"] is None
    junk = await (await api.get(TEMPLATES, params={"cursor": "../../x"})).json()
    assert junk == {"items": [], "next_cursor": None}
    zero = await api.get(TEMPLATES, params={"limit": "0"})
    await refused(zero, 400, "VALIDATION_ERROR", "limit")


async def test_delete_then_every_use_is_404_naming_it(api: Client, fake: FakeRunner) -> None:
    template_id = (await save(api))["template_id"]
    job = await api.post(COMPOSITIONS, json={"template_id": template_id, "merge": MERGE})
    assert job.status == 202
    resp = await api.delete(f"{TEMPLATES}/{template_id}")
    assert resp.status == 204 and await resp.read() == b""
    by_id = {"template_id": template_id, "merge": MERGE}
    for resp in (
        await api.get(f"{TEMPLATES}/{template_id}"),
        await api.delete(f"{TEMPLATES}/{template_id}"),
        await api.post(COMPOSITIONS, json=by_id),
        await api.post(COMPOSITIONS, params={"dry_run": "true"}, json=by_id),
    ):
        error = await refused(resp, 404, "TEMPLATE_NOT_FOUND")
        assert error["details"] == {"template_id": template_id}
        assert template_id in error["message"]
    assert len(fake.jobs) == 1  # the composition made before is untouched
    for path in (f"{TEMPLATES}/tmpl_nope", f"{TEMPLATES}/a/b", f"{TEMPLATES}/{'x' * 300}"):
        await refused(await api.get(path), 404, "TEMPLATE_NOT_FOUND")
    for junk in ("", "../x", "x" * 300):  # any id that names no template
        resp = await api.post(COMPOSITIONS, json={"template_id": junk})
        error = await refused(resp, 404, "TEMPLATE_NOT_FOUND")
        assert error["details"] == {"template_id": junk[:80]}


@pytest.mark.parametrize("bad", ["{{name}}", "x {{A-B}} y", "{{ }}", "{{}}", "{{ NAME }}"])
async def test_odd_placeholder_names_are_refused_naming_the_field(api: Client, bad: str) -> None:
    composition = {"clips": [{"url": "s3://bucket/a.mp4"}, {"url": bad}]}
    resp = await api.post(TEMPLATES, json={"name": "x", "composition": composition})
    error = await refused(resp, 400, "VALIDATION_ERROR", "composition.clips[1].url")
    assert error["message"].startswith("composition.clips[1].url: {{")
    assert (await (await api.get(TEMPLATES)).json())["items"] == []


async def test_a_template_is_checked_as_a_composition(api: Client) -> None:
    cases = [
        ({"clips": [{"url": "s3://bucket/a.mp4", "start_time": 0, "end_time": 5,
                     "trim_start": 0, "trim_end": 2}]},
         "INVALID_TIMELINE", "composition.clips[0].end_time"),
        ({"clips": [{"url": "{{A}}"}], "colour": "warm"},
         "VALIDATION_ERROR", "composition.colour"),
        ({"clips": [{"url": "{{A}}"}], "audio": {"music_url": "s3://other/m.mp3"}},
         "INVALID_CLIP_FORMAT", "composition.audio.music_url"),
        ({"clips": [{"url": "{{A}}", "transition_in": "spin"}]},
         "VALIDATION_ERROR", "composition.clips[0].transition_in"),
    ]  # fmt: skip
    for composition, code, field in cases:
        resp = await api.post(TEMPLATES, json={"name": "x", "composition": composition})
        error = await refused(resp, 400, code, field)
        assert error["message"].startswith(field + ": ")
        named = list(error["details"].get("fields", {})) + [
            issue["field"] for issue in error["details"].get("issues", [])
        ]
        assert all(name.startswith("composition.") for name in named), error


@pytest.mark.parametrize(
    ("body", "field"),
    [(b"{not json", "body"), (b"[]", "body"), (b'{"name": "x"}', "composition"),
     (b'{"composition": {"clips": []}}', "name"),
     (b'{"name": "x", "composition": "{{ALL}}"}', "composition"),
     (b'{"name": "", "composition": {"clips": []}}', "name")],
)  # fmt: skip
async def test_malformed_bodies_are_400(api: Client, body: bytes, field: str) -> None:
    resp = await api.post(TEMPLATES, data=body, headers={"Content-Type": "application/json"})
    await refused(resp, 400, "VALIDATION_ERROR", field)


async def test_a_body_over_the_limit_is_413(app_client: Callable[..., Awaitable[Client]]) -> None:
    api = await app_client(ALLOWED_S3_BUCKETS="bucket", MAX_BODY_BYTES="4096")
    composition = {"clips": [{"url": "s3://bucket/a.mp4"}],
                   "overlays": [{"type": "text", "content": "{{X}}" + "y" * 5000}]}  # fmt: skip
    resp = await api.post(TEMPLATES, json={"name": "big", "composition": composition})
    await refused(resp, 413, "PAYLOAD_TOO_LARGE")


async def test_a_merge_fills_each_placeholder_by_type(api: Client, fake: FakeRunner) -> None:
    template_id = (await save(api))["template_id"]
    resp = await api.post(COMPOSITIONS, json={"template_id": template_id, "merge": MERGE})
    accepted = await resp.json()
    assert resp.status == 202, accepted
    made = fake.jobs[accepted["composition_id"]].payload
    assert made["clips"] == [
        {"url": "s3://bucket/a.mp4", "trim_end": 2.5},
        {"url": "s3://bucket/beach.mp4", "transition_in": "fade"},
    ]
    assert made["overlays"][0]["content"] == "Hi Ada, 3 left"
    assert made["audio"] == MERGE["AUDIO"] and made["fonts"] == MERGE["FONTS"]
    assert made["output"] == {"resolution": "720p", "fps": 25}
    request = await (await api.get(f"{COMPOSITIONS}/{accepted['composition_id']}")).json()
    assert request["status"] == "queued"


async def test_output_and_run_fields_given_beside_template_id_win(
    api: Client, fake: FakeRunner
) -> None:
    template_id = (await save(api))["template_id"]
    merge = {k: v for k, v in MERGE.items() if k != "FPS"}
    body = {"template_id": template_id, "merge": merge, "output": {"resolution": "360p"},
            "user_id": "user-7", "cache": False}  # fmt: skip
    accepted = await (await api.post(COMPOSITIONS, json=body)).json()
    made = fake.jobs[accepted["composition_id"]].payload
    assert made["output"] == {"resolution": "360p"}
    assert made["user_id"] == "user-7" and made["cache"] is False


async def test_merge_refusals(api: Client, fake: FakeRunner) -> None:
    template_id = (await save(api))["template_id"]
    without_scene = {k: v for k, v in MERGE.items() if k != "SCENE"}
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"merge": without_scene}, "VALIDATION_ERROR", "clips[1].url"),
        ({"merge": {**MERGE, "TYPO": 1}}, "VALIDATION_ERROR", "merge.TYPO"),
        ({"merge": {**MERGE, "NAME": {"a": 1}}}, "VALIDATION_ERROR", "merge.NAME"),
        ({"merge": {**MERGE, "FPS": "fast"}}, "VALIDATION_ERROR", "output.fps"),
        ({"merge": {**MERGE, "AUDIO": [1]}}, "VALIDATION_ERROR", "audio._schema"),
        ({"merge": MERGE, "clips": []}, "VALIDATION_ERROR", "clips"),
        ({"merge": MERGE, "overlays": []}, "VALIDATION_ERROR", "overlays"),
        ({"merge": "FPS=25"}, "VALIDATION_ERROR", "merge"),
    ]
    for extra, code, field in cases:
        resp = await api.post(COMPOSITIONS, json={"template_id": template_id, **extra})
        error = await refused(resp, 400, code, field)
        if field == "clips[1].url" and "merge" in extra:
            assert error["details"]["placeholder"] == "SCENE"
            assert "{{SCENE}}" in error["message"]
    assert fake.jobs == {}


async def test_a_merge_cannot_build_past_the_body_limit(
    app_client: Callable[..., Awaitable[Client]], fake: FakeRunner
) -> None:
    api = await app_client(ALLOWED_S3_BUCKETS="bucket", MAX_BODY_BYTES="65536")
    composition = {"clips": [{"url": "s3://bucket/a.mp4"}],
                   "overlays": [{"type": "text", "content": "{{X}}" * 100}]}  # fmt: skip
    template_id = (await save(api, composition))["template_id"]
    body = {"template_id": template_id, "merge": {"X": "y" * 1000}}  # 100 kB once merged
    resp = await api.post(COMPOSITIONS, data=json.dumps(body))
    await refused(resp, 413, "PAYLOAD_TOO_LARGE", "merge")
    deep: Any = "leaf"
    for _ in range(62):  # within MAX_JSON_DEPTH in the body, past it once merged
        deep = [deep]
    template_id = (await save(api, {"clips": [{"url": "{{D}}"}]}))["template_id"]
    resp = await api.post(COMPOSITIONS, json={"template_id": template_id, "merge": {"D": deep}})
    error = await refused(resp, 400, "VALIDATION_ERROR")
    assert "MAX_JSON_DEPTH" in error["message"]
    assert fake.jobs == {}


async def test_the_routes_are_documented(api: Client) -> None:
    document = await (await api.get("/api/docs/openapi.json")).json()
    validate(document)
    paths = document["paths"]
    assert set(paths[TEMPLATES]) == {"get", "post"}
    assert set(paths[TEMPLATES + "/{template_id}"]) == {"get", "delete"}
    create = paths[TEMPLATES]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TemplateRequest"
    }
    assert set(create["responses"]) >= {"201", "400", "413"}
    assert "content" not in paths[TEMPLATES + "/{template_id}"]["delete"]["responses"]["204"]
    by_template = document["components"]["schemas"]["CompositionFromTemplate"]
    assert by_template["required"] == ["template_id"]
    assert {"template_id", "merge", "output", "user_id", "cache"} <= set(by_template["properties"])
    assert "404" in paths[COMPOSITIONS]["post"]["responses"]  # TEMPLATE_NOT_FOUND
