"""GET /api/v1/compositions/{id}/request: the composition as it was accepted (the JSON body).

The console shows it beside the render, and a client can resubmit or edit it. It is the stored
payload, byte for byte what validation accepted, so nothing here interprets it. Imports runner
and the leaves.
"""

from __future__ import annotations

from aiohttp import web

from vidsvc.http.bodies import ErrorEnvelopeSchema
from vidsvc.http.docs import documented
from vidsvc.http.keys import RUNNER_KEY
from vidsvc.jobs import JobKind
from vidsvc.schema import CompositionSchema

PATH = "/api/v1/compositions/{id}/request"


@documented(
    summary="The request body the composition was accepted with",
    tag="compositions",
    responses={
        200: (CompositionSchema, "the composition JSON as accepted"),
        404: (ErrorEnvelopeSchema, "COMPOSITION_NOT_FOUND"),
    },
)
async def composition_request(request: web.Request) -> web.Response:
    job = await request.app[RUNNER_KEY].get(JobKind.COMPOSITION, request.match_info["id"])
    return web.json_response(dict(job.payload))
