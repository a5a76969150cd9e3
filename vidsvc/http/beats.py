"""POST /internal/v1/beat-detection: the tempo and beats of one input (ENABLE_BEAT_DETECTION).

404 while the setting is off (the route is registered, and documented, either way); under the
internal bearer auth (auth.py) like process-clips; the URL follows the input rules. Thin:
parse → beats/detect.py (staging, FFmpeg decode, the tracker in a thread, the cache) → body.
"""

from __future__ import annotations

from aiohttp import web
from marshmallow import Schema, fields

from vidsvc.beats import detect as detector
from vidsvc.errors import RouteNotFound
from vidsvc.http.compositions import ERROR, read_json
from vidsvc.http.docs import documented
from vidsvc.http.keys import SETTINGS_KEY
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
    f"{detector.MAX_SECONDS} s are analysed; results are cached per input bytes.",
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
    },
)
async def detect(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS_KEY]
    if not settings.enable_beat_detection:
        raise RouteNotFound("beat detection is disabled (ENABLE_BEAT_DETECTION=false)")
    url = parse_beat_request(await read_json(request))
    found = await detector.detect(url, settings)
    body = {
        "bpm": found.bpm,
        "beats": list(found.beats),
        "duration": found.duration,
        "analyzed_seconds": found.analyzed_seconds,
        "sha256": found.sha256,
    }
    return web.json_response(body)
