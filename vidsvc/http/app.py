"""The app factory and `serve`: what runs, in which order, and how it stops (ARCHITECTURE §5).

Cleanup contexts, entered in order and left in reverse: the loop-lag monitor (metrics.py), the
URL signer, then the Runner
(stores → migrations → pool; drained and closed on the way out), then the beat detector (it
takes units of the pool's budget; its analyses stop before the pool drains). On shutdown,
before aiohttp waits for handlers: the runner stops accepting work (503) and every WebSocket
gets 1001.
Tests inject `create_app(settings, runner=fake_or_real)` and skip Runner.open.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from typing import Any
from weakref import WeakSet

from aiohttp import web

from vidsvc.config import Settings
from vidsvc.http.auth import setup_auth
from vidsvc.http.beats import beats_context
from vidsvc.http.console import setup_console
from vidsvc.http.dev import setup_dev
from vidsvc.http.docs import setup_docs
from vidsvc.http.downloads import signed_files
from vidsvc.http.errors import setup_errors
from vidsvc.http.events import close_sockets, setup_events
from vidsvc.http.keys import RUNNER_KEY, SETTINGS_KEY, SIGNER_KEY, SOCKETS_KEY
from vidsvc.http.metrics import loop_lag_context, setup_metrics
from vidsvc.http.ratelimit import document_rate_limit, setup_rate_limit
from vidsvc.http.routes import setup_routes
from vidsvc.http.signing import Signer, load_key
from vidsvc.runner.service import Runner
from vidsvc.work import devmedia
from vidsvc.work.kinds import handlers

log = logging.getLogger(__name__)
#: Beyond SHUTDOWN_GRACE + KILL_GRACE: aiohttp must not cut the pool's drain short.
SHUTDOWN_MARGIN = 10.0


async def signer_context(app: web.Application) -> AsyncIterator[None]:
    # At start-up, not in the factory: it may create DATA_DIR/signing.key.
    app[SIGNER_KEY] = Signer(await asyncio.to_thread(load_key, app[SETTINGS_KEY]))
    yield


async def runner_context(app: web.Application) -> AsyncIterator[None]:
    settings = devmedia.allowing_media(app[SETTINGS_KEY])
    async with Runner.open(settings, handlers(), local_files=signed_files(app)) as runner:
        app[RUNNER_KEY] = runner
        log.info("serving", extra={"instance": runner.instance_id})
        yield


async def on_shutdown(app: web.Application) -> None:
    runner = app.get(RUNNER_KEY)
    if runner is not None:
        runner.begin_drain()  # first, so that no new submit or socket slips in
    log.info("shutting down: new work refused, websockets closing")
    await close_sockets(app)


def create_app(settings: Settings, *, runner: Runner | None = None) -> web.Application:
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS_KEY] = settings
    app[SOCKETS_KEY] = WeakSet()
    app.cleanup_ctx.append(loop_lag_context)
    app.cleanup_ctx.append(signer_context)
    if runner is None:
        app.cleanup_ctx.append(runner_context)
    else:
        app[RUNNER_KEY] = runner
    app.cleanup_ctx.append(beats_context)  # after the runner's: it needs the pool
    app.on_shutdown.append(on_shutdown)
    setup_errors(app)
    setup_rate_limit(app, settings)  # before auth: a flood of bad tokens is limited too
    setup_auth(app)  # after: the error middleware wraps it, so a 401 is an envelope
    setup_events(app)
    setup_routes(app)
    if settings.enable_dev_api:
        setup_dev(app)
    if settings.enable_console:
        setup_console(app)
    setup_metrics(app, settings)  # its middleware goes first: it sees every final status
    setup_docs(app)  # last: it documents the routes registered so far
    document_rate_limit(app)  # adds the 429 that the middleware, not a route, answers
    return app


def _announce(*args: Any, **_: Any) -> None:
    # run_app prints a banner; on stdout as it is, it would break the JSON lines.
    text = " ".join(str(a) for a in args).strip("= \n")
    log.info(text.splitlines()[0].strip("= ") if text else "started")


async def second_signal_hurries(app: web.Application) -> None:
    """on_shutdown, first: from now on SIGTERM/SIGINT cut the drain short (docs/reliability.md C9).

    aiohttp's own handlers would raise GracefulExit again in the middle of the drain, which
    cancels every task at once; ours instead tells the pool to hand its jobs back now, so
    FFmpeg still gets SIGTERM, KILL_GRACE, SIGKILL and the jobs are requeued, not lost.
    """
    loop = asyncio.get_running_loop()

    def hurry() -> None:
        log.warning("second stop signal: handing running jobs back now")
        runner = app.get(RUNNER_KEY)
        if runner is not None:
            runner.hurry()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, hurry)  # replaces run_app's; it removes them at the end


def serve(settings: Settings, *, loop: asyncio.AbstractEventLoop | None = None) -> None:
    """Serve until SIGTERM/SIGINT, then shut down gracefully (aiohttp's run_app sequence);
    a second signal during the drain hands running jobs back without waiting."""
    app = create_app(settings)
    app.on_shutdown.insert(0, second_signal_hurries)
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        shutdown_timeout=settings.shutdown_grace + settings.kill_grace + SHUTDOWN_MARGIN,
        access_log=None,  # errors.py writes one JSON access line per request
        print=_announce,
        handle_signals=True,
        loop=loop,
    )
