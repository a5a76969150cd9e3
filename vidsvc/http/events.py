"""WS /ws/compositions/{id}: the status snapshot first, then progress, then one terminal message.

Per connection (docs/reliability.md A3): `Runner.watch` subscribes before it reads the snapshot, so
nothing falls between the two; a pump task turns events into messages in a bounded Outbox
without ever waiting on the client; a sender task is the only writer, so a client that never
reads blocks only its own sender; the handler itself runs the receive loop, which is what keeps
aiohttp's heartbeat working and notices a client's close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from weakref import WeakSet

from aiohttp import WSCloseCode, web

from vidsvc.errors import CompositionNotFound, ServiceUnavailable, VidsvcError
from vidsvc.http import views
from vidsvc.http.bodies import ErrorEnvelopeSchema, WsMessageSchema
from vidsvc.http.docs import documented
from vidsvc.http.keys import RUNNER_KEY, SETTINGS_KEY, SOCKETS_KEY
from vidsvc.http.outbox import Outbox
from vidsvc.http.ratelimit import client_address
from vidsvc.jobs import Job, JobEvent, JobKind

log = logging.getLogger(__name__)

#: App close code for an unknown composition (4000-4999 are the application's: RFC 6455 7.4.2).
CLOSE_NOT_FOUND = 4404
#: Clients have nothing to say beyond pings, so a large frame is refused early.
MAX_CLIENT_MESSAGE = 4096
GOING_AWAY_TIMEOUT = 1.0
#: Seconds a client refused by a connection cap is told to wait (Retry-After).
CAP_RETRY_AFTER = 5


class Connections:
    """Open WebSockets per client address and in all (docs/reliability.md L7).

    Counted before the upgrade, so a refusal is a plain 503 envelope with Retry-After (not a
    101 then close 1013: a client library sees the status and the reason at once).
    """

    def __init__(self, per_ip: int, total: int) -> None:
        self.per_ip, self.total = per_ip, total
        self.by_ip: Counter[str] = Counter()

    @contextlib.contextmanager
    def hold(self, ip: str) -> Iterator[None]:
        if self.by_ip.total() >= self.total:
            raise self._refuse(f"{self.total} WebSockets are open (WS_MAX_CONNECTIONS)")
        if self.by_ip[ip] >= self.per_ip:
            raise self._refuse(
                f"{self.per_ip} WebSockets are open from this client (WS_MAX_CONN_PER_IP)"
            )
        self.by_ip[ip] += 1
        try:
            yield
        finally:
            self.by_ip[ip] -= 1
            if self.by_ip[ip] <= 0:
                del self.by_ip[ip]  # bounded: only addresses with an open socket stay

    @staticmethod
    def _refuse(message: str) -> ServiceUnavailable:
        return ServiceUnavailable(message, details={"retry_after": CAP_RETRY_AFTER})


CONNECTIONS_KEY = web.AppKey("ws_connections", Connections)


def setup_events(app: web.Application) -> None:
    settings = app[SETTINGS_KEY]
    app[CONNECTIONS_KEY] = Connections(settings.ws_max_conn_per_ip, settings.ws_max_connections)


def _reason(err: VidsvcError) -> bytes:
    # A close reason may hold at most 123 bytes (RFC 6455 5.5).
    return f"{err.code}: {err.message}".encode()[:123]


async def _pump(
    request: web.Request,
    ws: web.WebSocketResponse,
    events: AsyncIterator[JobEvent],
    outbox: Outbox,
) -> None:
    """Events → messages, never waiting on the client; ends after the terminal one."""
    try:
        async for event in events:
            if not event.state.terminal:
                outbox.put(views.ws_progress(event), droppable=True)
                continue
            # The row is committed before the event is published: it has the final details.
            job = await request.app[RUNNER_KEY].get(JobKind.COMPOSITION, event.job_id)
            outbox.put(views.ws_terminal(request, job), final=True)
            return
    except VidsvcError as err:
        # No terminal message: the job did not end, the feed did. The client reconnects and
        # its status snapshot says where things stand.
        log.warning("progress feed lost: %s", err.message)
        await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=_reason(err))


async def _send(ws: web.WebSocketResponse, outbox: Outbox) -> None:
    """The connection's only writer; closes with 1000 after the terminal message."""
    while True:
        item = await outbox.get()
        try:
            await ws.send_json(item.payload)
        except ConnectionError:
            return  # the client is gone; the receive loop notices too
        if item.final:
            await ws.close(code=WSCloseCode.OK)
            return


async def _watch(
    request: web.Request,
    ws: web.WebSocketResponse,
    snapshot: Job,
    events: AsyncIterator[JobEvent],
) -> None:
    outbox = Outbox(request.app[SETTINGS_KEY].ws_send_queue_max)
    outbox.put(views.ws_status(request, snapshot))
    tasks = [asyncio.create_task(_send(ws, outbox), name=f"ws-send-{snapshot.id}")]
    if snapshot.state.terminal:
        outbox.put(views.ws_terminal(request, snapshot), final=True)
    else:
        pump = _pump(request, ws, events, outbox)
        tasks.append(asyncio.create_task(pump, name=f"ws-pump-{snapshot.id}"))
    try:
        async for _ in ws:  # until the client or our sender closes; drives the heartbeat
            pass
    finally:
        for task in tasks:
            task.cancel()
        log.debug(
            "websocket closed",
            extra={"close_code": ws.close_code, "dropped": outbox.dropped, "unsent": len(outbox)},
        )
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for task, result in zip(tasks, results, strict=True):
            if isinstance(result, Exception) and not isinstance(result, ConnectionError):
                log.error("websocket task %s failed", task.get_name(), exc_info=result)


@documented(
    summary="WebSocket: live progress of one composition",
    tag="compositions",
    description="Upgrade to a WebSocket; JSON text frames follow. First "
    '`{"type":"status","data":{status, progress, output_url, seq}}`, then '
    '`{"type":"progress","data":{stage, percentage, message, timestamp, status, seq}}` as it '
    'advances, and finally `{"type":"completed","data":{output_url, thumbnail_url, duration, '
    "outputs}}` "
    'or `{"type":"error","data":{code, message}}` (code CANCELLED when cancelled), after which '
    "the server closes with 1000. Unknown id: close code 4404 (reason COMPOSITION_NOT_FOUND); "
    "server shutdown: 1001. Events carry a per-job seq that only grows.",
    responses={
        101: (WsMessageSchema, "switching protocols; then messages of this shape"),
        503: (
            ErrorEnvelopeSchema,
            "SERVICE_UNAVAILABLE: the instance is draining, or too many WebSockets are open "
            "(WS_MAX_CONN_PER_IP from one client, WS_MAX_CONNECTIONS in all)",
        ),
    },
    headers={503: ("Retry-After",)},
)
async def composition_events(request: web.Request) -> web.WebSocketResponse:
    runner = request.app[RUNNER_KEY]
    if runner.draining:
        raise ServiceUnavailable("the service is shutting down", details={"retry_after": 5})
    settings = request.app[SETTINGS_KEY]
    with request.app[CONNECTIONS_KEY].hold(client_address(request, settings)):
        return await _serve_socket(request)


async def _serve_socket(request: web.Request) -> web.WebSocketResponse:
    runner, settings = request.app[RUNNER_KEY], request.app[SETTINGS_KEY]
    ws = web.WebSocketResponse(heartbeat=settings.ws_heartbeat, max_msg_size=MAX_CLIENT_MESSAGE)
    await ws.prepare(request)
    sockets = request.app[SOCKETS_KEY]
    sockets.add(ws)
    try:
        job_id = request.match_info["id"]
        async with runner.watch(JobKind.COMPOSITION, job_id) as (snapshot, events):
            await _watch(request, ws, snapshot, events)
    except CompositionNotFound as err:
        await ws.close(code=CLOSE_NOT_FOUND, message=_reason(err))
    except VidsvcError as err:
        log.warning("websocket closed: %s", err.message)
        await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=_reason(err))
    except Exception:
        # The upgrade is done, so the error middleware can no longer answer: close here.
        log.exception("websocket failed")
        await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"INTERNAL_ERROR")
    finally:
        sockets.discard(ws)
    return ws


async def close_sockets(app: web.Application) -> None:
    """on_shutdown: 1001 GOING_AWAY to every client; a stuck one gets its transport closed."""

    async def going_away(ws: web.WebSocketResponse) -> None:
        with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
            await asyncio.wait_for(
                ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown"),
                GOING_AWAY_TIMEOUT,
            )

    sockets: WeakSet[web.WebSocketResponse] = app[SOCKETS_KEY]
    await asyncio.gather(*(going_away(ws) for ws in list(sockets)))
