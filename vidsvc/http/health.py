"""/health (liveness) and /health/detailed (each backend, 503 when a configured one is down;
and the encoder renders use)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from vidsvc import __version__
from vidsvc.http.bodies import HealthDetailedSchema, HealthSchema
from vidsvc.http.docs import documented
from vidsvc.http.keys import RUNNER_KEY


@documented(
    summary="Liveness: 200 while the process serves",
    tag="health",
    responses={200: (HealthSchema, "serving")},
)
async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "healthy"})


@documented(
    summary="Readiness: database, redis, s3 and ffmpeg",
    tag="health",
    description="Each component is healthy, unhealthy or disabled (not configured). 503 when a "
    "configured one is unhealthy, and while the instance drains for shutdown. `encoder` names "
    "the video encoder renders use (libx264, or h264_nvenc with ENABLE_GPU_ENCODING) and, for "
    "NVENC, the start-up check's result and the session gate (NVENC_MAX_SESSIONS).",
    responses={
        200: (HealthDetailedSchema, "every configured component is healthy"),
        503: (HealthDetailedSchema, "a component is unhealthy, or the instance is draining"),
    },
)
async def health_detailed(request: web.Request) -> web.Response:
    runner = request.app[RUNNER_KEY]
    components = await runner.health()
    if runner.draining:
        status = "draining"  # a load balancer should stop sending new work here
    elif "unhealthy" in components.values():
        status = "unhealthy"
    else:
        status = "healthy"
    body = {
        "status": status,
        "components": components,
        "version": __version__,
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "instance": runner.instance_id,
        "encoder": runner.encoder(),
    }
    return web.json_response(body, status=200 if status == "healthy" else 503)
