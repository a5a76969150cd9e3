"""GET /metrics: Prometheus text exposition of the HTTP layer's and the runner's metrics.

Each app has its own registry (tests build many apps; the process-global one would collide).
HTTP requests are counted by route template, never by raw path (one series per composition id
would grow without bound); what matched no route is "unmatched". The middleware is the
outermost, so it sees the status the client got, the error envelope's included. A WebSocket
counts once (status 101) when it closes; its lifetime is no request latency. The runner's registry
(vidsvc/runner/metrics.py) is rendered after this one, its store gauges refreshed first.
`vidsvc_event_loop_lag_seconds` is a histogram of the loop's lag samples (runner/looplag.py),
fed by `loop_lag_context`, which runs (and warns over 100 ms) with or without metrics.
ENABLE_METRICS=false: no route (404) and no middleware.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from vidsvc.config import Settings
from vidsvc.errors import VidsvcError
from vidsvc.http.docs import documented
from vidsvc.http.keys import RUNNER_KEY, SOCKETS_KEY
from vidsvc.runner.looplag import LoopLag

log = logging.getLogger(__name__)
METRICS_PATH = "/metrics"
UNMATCHED = "unmatched"
#: Seconds: most API calls take milliseconds; a submit that probes a callback host, longer.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
#: Seconds: an idle loop is late by well under a millisecond; 0.1 s is the warning line.
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)
#: The status label of a request whose client went away before an answer (nginx's 499).
CLIENT_GONE = "499"
#: The status a response was prepared (sent) with: what a cancelled handler's client got.
_SENT = "vidsvc.metrics.sent_status"
#: What generate_latest writes. The library's CONTENT_TYPE_LATEST now names 1.0.0, which
#: Prometheus servers before 3.0 do not know; 0.0.4 is what every scraper reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class HttpMetrics:
    def __init__(self, app: web.Application) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "vidsvc_http_requests",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "vidsvc_http_request_duration_seconds",
            "Seconds from the request to its response, by route template and method",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.websockets = Gauge(
            "vidsvc_websocket_connections", "Open progress WebSockets", registry=r
        )
        self.websockets.set_function(lambda: len(app[SOCKETS_KEY]))
        self.loop_lag = Histogram(
            "vidsvc_event_loop_lag_seconds",
            "How late the event loop ran a timer, sampled every 0.1 s",
            buckets=LAG_BUCKETS,
            registry=r,
        )

    def record(self, request: web.Request, status: str, seconds: float) -> None:
        route = route_template(request)
        self.requests.labels(route=route, method=request.method, status=status).inc()
        if status != "101":
            self.latency.labels(route=route, method=request.method).observe(seconds)


METRICS_KEY = web.AppKey("http_metrics", HttpMetrics)
LOOP_LAG_KEY = web.AppKey("loop_lag", LoopLag)


async def loop_lag_context(app: web.Application) -> AsyncIterator[None]:
    """The loop-lag monitor for the app's lifetime, feeding the histogram if metrics are on."""
    metrics = app.get(METRICS_KEY)
    monitor = LoopLag(metrics.loop_lag.observe if metrics is not None else None)
    app[LOOP_LAG_KEY] = monitor
    monitor.start()
    yield
    await monitor.stop()


def route_template(request: web.Request) -> str:
    """The matched route's template (`/api/v1/compositions/{id}`), else "unmatched"."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started, status = time.perf_counter(), "500"
    try:
        response = await handler(request)
        status = str(response.status)
        return response
    except web.HTTPException as exc:
        status = str(exc.status)
        raise
    except asyncio.CancelledError:  # e.g. a WebSocket's handler once its client closed
        status = str(request.get(_SENT, CLIENT_GONE))
        raise
    finally:
        request.app[METRICS_KEY].record(request, status, time.perf_counter() - started)


@documented(
    summary="Prometheus metrics (text exposition format)",
    tag="health",
    description="Jobs by state and kind, queue depth, render duration and speed histograms, "
    "FFmpeg processes running, open WebSockets, HTTP requests by route template, method and "
    "status, and their latency, and the event loop's lag. 404 when ENABLE_METRICS=false.",
    responses={200: (None, "Prometheus text format 0.0.4")},
    produces=("text/plain",),
)
async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS_KEY].registry)
    runner = request.app.get(RUNNER_KEY)
    runner_metrics = getattr(runner, "metrics", None)
    if runner is not None and runner_metrics is not None:
        try:
            await runner_metrics.collect(runner.stores)
        except VidsvcError as err:  # the store is down: serve the rest, gauges as last seen
            log.warning("metrics: could not read job counts: %s", err.message)
        for registry in runner.registries():
            body += generate_latest(registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def _note_sent(request: web.Request, response: web.StreamResponse) -> None:
    request[_SENT] = response.status


def setup_metrics(app: web.Application, settings: Settings) -> None:
    """Register GET /metrics and the outermost middleware (before setup_docs)."""
    if not settings.enable_metrics:
        return
    app[METRICS_KEY] = HttpMetrics(app)
    app.middlewares.insert(0, metrics_middleware)
    app.on_response_prepare.append(_note_sent)
    app.router.add_get(METRICS_PATH, metrics)
