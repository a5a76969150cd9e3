"""POST /internal/v1/beat-detection: the tempo and beats of one input (ENABLE_BEAT_DETECTION).

404 while the setting is off (the route is registered, and documented, either way); under the
internal bearer auth (auth.py) like process-clips; the URL follows the input rules. Thin:
parse → the app's BeatDetector (beats/service.py: admission, staging, the analyses shared by
bytes, each under a unit of the pool's concurrency budget; beats/detect.py: the FFmpeg decode,
the tracker on its own executor, the cache) → body. `beats_context` makes that detector at
start-up, once the runner is there, and stops its analyses at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from marshmallow import Schema, fields

from vidsvc.beats import detect as detector
from vidsvc.beats import service
from vidsvc.beats.service import BeatDetector
from vidsvc.errors import RouteNotFound, ServiceUnavailable
from vidsvc.http.compositions import ERROR, read_json
from vidsvc.http.docs import documented
from vidsvc.http.keys import BEATS_KEY, RUNNER_KEY, SETTINGS_KEY
from vidsvc.schema import BeatRequestSchema, parse_beat_request

BEAT_DETECTION = "/internal/v1/beat-detection"


class BeatsSchema(Schema):
    bpm = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "tempo, beats per minute; null (and no beats) if none is steady"},
    )
    beats = fields.List(
        fields.Float(),
        required=True,
        metadata={"description": "beat times in seconds from the start, ascending"},
    )
    duration = fields.Float(required=True, metadata={"description": "the input's length, s"})
    analyzed_seconds = fields.Float(
        required=True,
        metadata={"description": f"seconds analysed: the first {detector.MAX_SECONDS} s at most"},
    )
    sha256 = fields.String(
        required=True, metadata={"description": "of the input's bytes (the cache key)"}
    )


@documented(
    summary="Tempo and beat times of an audio or video input",
    tag="internal",
    description="Only with ENABLE_BEAT_DETECTION=true (404 otherwise). Needs `Authorization: "
    "Bearer <INTERNAL_API_TOKEN>` when that setting is non-empty. The first "
    f"{detector.MAX_SECONDS} s are analysed; results are cached per input bytes, and requests "
    "for the same bytes share one analysis. Analyses take a slot of MAX_CONCURRENT_JOBS, as "
    "renders do (renders waiting for one go first).",
    body=BeatRequestSchema,
    responses={
        200: (BeatsSchema, "the beats"),
        400: (
            ERROR,
            "VALIDATION_ERROR; INVALID_CLIP_FORMAT (no audio, silent, no beats); "
            "INPUT_UNAVAILABLE",
        ),
        401: (ERROR, "UNAUTHORIZED: INTERNAL_API_TOKEN is set and the bearer token is not it"),
        404: (ERROR, "NOT_FOUND: ENABLE_BEAT_DETECTION is off"),
        503: (
            ERROR,
            f"QUEUE_FULL: {service.MAX_PENDING} beat detections are under way here; "
            f"SERVICE_UNAVAILABLE: no slot of MAX_CONCURRENT_JOBS within "
            f"{service.WAIT_SECONDS:g} s, or the service is stopping (both with Retry-After)",
        ),
    },
)
async def detect(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS_KEY]
    if not settings.enable_beat_detection:
        raise RouteNotFound("beat detection is disabled (ENABLE_BEAT_DETECTION=false)")
    url = parse_beat_request(await read_json(request))
    if request.app[RUNNER_KEY].draining:
        retry = {"retry_after": service.RETRY_AFTER_S}
        raise ServiceUnavailable("the service is shutting down", details=retry)
    found = await request.app[BEATS_KEY].detect(url, settings)
    body = {
        "bpm": found.bpm,
        "beats": list(found.beats),
        "duration": found.duration,
        "analyzed_seconds": found.analyzed_seconds,
        "sha256": found.sha256,
    }
    return web.json_response(body)


async def beats_context(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context after the runner's: the detector takes units of the pool's budget."""
    app[BEATS_KEY] = beats = BeatDetector(app[RUNNER_KEY].pool.slot)
    yield
    await beats.close()
