"""/dev: test-generation and reset-user, registered only when ENABLE_DEV_API is true.

Without the flag the routes do not exist at all (404 NOT_FOUND like any unknown path), so a
production instance cannot be made to synthesize media or delete a user's work by accident.
Thin: parse → dev media → runner → view.
"""

from __future__ import annotations

import shutil

from aiohttp import web
from marshmallow import Schema, fields, validate

from vidsvc.errors import ValidationError, VidsvcError
from vidsvc.http import views
from vidsvc.http.bodies import ErrorEnvelopeSchema
from vidsvc.http.compositions import read_json
from vidsvc.http.docs import documented
from vidsvc.http.keys import RUNNER_KEY
from vidsvc.jobs import JobKind
from vidsvc.work import devmedia

TEST_GENERATION = "/dev/test-generation"
RESET_USER = "/dev/reset-user"
ERROR = ErrorEnvelopeSchema


class TestGenerationSchema(Schema):
    clips = fields.Integer(validate=validate.Range(1, 5), metadata={"default": 3})
    duration = fields.Float(validate=validate.Range(0.5, 10), metadata={"default": 3})
    resolution = fields.String(validate=validate.OneOf(["180p", "360p", "720p"]))
    with_music = fields.Boolean()
    with_voiceover = fields.Boolean()
    user_id = fields.String(allow_none=True)


class TestGenerationAcceptedSchema(Schema):
    composition_id = fields.String(required=True)
    websocket_url = fields.String(required=True)
    status_url = fields.String(required=True)
    media = fields.List(fields.String(), required=True)


class ResetUserSchema(Schema):
    user_id = fields.String(required=True)


class ResetUserResultSchema(Schema):
    user_id = fields.String(required=True)
    deleted = fields.Integer(required=True)
    skipped_running = fields.Integer(required=True)


@documented(
    summary="Synthesize test clips (lavfi) and submit a composition of them (dev only)",
    tag="dev",
    body=TestGenerationSchema,
    responses={
        202: (TestGenerationAcceptedSchema, "queued; progress on websocket_url"),
        400: (ERROR, "VALIDATION_ERROR"),
        500: (ERROR, "PROCESSING_FAILED (FFmpeg could not generate the media)"),
        503: (ERROR, "QUEUE_FULL, SERVICE_UNAVAILABLE"),
    },
)
async def test_generation(request: web.Request) -> web.Response:
    runner = request.app[RUNNER_KEY]
    req = devmedia.parse_request(await read_json(request))
    media = await devmedia.generate(runner.settings, req)
    try:
        job, _ = await runner.submit(JobKind.COMPOSITION, devmedia.composition(media, req))
    except VidsvcError:  # refused (QUEUE_FULL, draining, a store outage): no job reads them
        shutil.rmtree(media.folder, ignore_errors=True)
        raise
    body = views.accepted(request, job, await runner.estimate_seconds(job))
    body["media"] = [path.as_uri() for path in media.files()]
    return web.json_response(body, status=202)


@documented(
    summary="Delete a user's queued and finished jobs and their files (dev only)",
    tag="dev",
    body=ResetUserSchema,
    responses={200: (ResetUserResultSchema, "deleted"), 400: (ERROR, "VALIDATION_ERROR")},
)
async def reset_user(request: web.Request) -> web.Response:
    body = await read_json(request)
    user_id = body.get("user_id")
    if not isinstance(user_id, str) or not 1 <= len(user_id) <= 128:
        raise ValidationError.at("user_id", "must be a string of 1 to 128 characters")
    # a user's queued and finished jobs with their blobs; running ones are left alone
    deleted, running = await devmedia.reset_user(request.app[RUNNER_KEY].stores, user_id)
    result = {"user_id": user_id, "deleted": deleted, "skipped_running": running}
    return web.json_response(result)


def setup_dev(app: web.Application) -> None:
    """Register the dev routes; create_app calls this only when ENABLE_DEV_API is true."""
    app.router.add_post(TEST_GENERATION, test_generation)
    app.router.add_post(RESET_USER, reset_user)
