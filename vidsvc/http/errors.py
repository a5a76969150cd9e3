"""Domain errors to HTTP, in one place; request ids; one access-log line per request.

Every error, from every route, leaves as the docs/contract.md §2 envelope: VidsvcError with its own
status; aiohttp's HTTPException (unknown route, 405, 413 from client_max_size) with the code of
_HTTP_CODES; anything else as a 500 INTERNAL_ERROR whose stack trace is logged, never sent.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from vidsvc.errors import (
    CompositionNotFound,
    Forbidden,
    MethodNotAllowed,
    PayloadTooLarge,
    QueueFull,
    RateLimited,
    RouteNotFound,
    ServiceUnavailable,
    StorageError,
    TemplateNotFound,
    Unauthorized,
    ValidationError,
    VidsvcError,
)
from vidsvc.http.keys import SETTINGS_KEY
from vidsvc.http.logs import access_log, composition_id_var, request_id_var

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REQUEST_ID_HEADER = "X-Request-ID"
#: A client's id is echoed only when it cannot smuggle anything into headers or log lines.
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
DEFAULT_RETRY_AFTER = 5
COMPOSITIONS_PREFIX = "/api/v1/compositions/"
TEMPLATES_PREFIX = "/api/v1/templates/"
_HTTP_CODES: dict[int, type[VidsvcError]] = {
    400: ValidationError,
    401: Unauthorized,
    403: Forbidden,
    404: RouteNotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
}


def _request_id(request: web.Request) -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    return incoming if SANE_REQUEST_ID.match(incoming) else f"req_{secrets.token_hex(8)}"


def error_response(err: VidsvcError, *, status: int | None = None) -> web.Response:
    """The envelope of `err`, with Retry-After on the 429 and 503s a client should retry
    (STORAGE_ERROR included: a database or Redis outage is worth retrying;
    docs/reliability.md D5)."""
    response = web.json_response(
        err.envelope(request_id=request_id_var.get()), status=status or err.http_status
    )
    if isinstance(err, QueueFull | ServiceUnavailable | RateLimited | StorageError):
        retry_after = err.details.get("retry_after", DEFAULT_RETRY_AFTER)
        response.headers["Retry-After"] = str(int(retry_after))
    return response


def _from_http(exc: web.HTTPException, request: web.Request) -> VidsvcError:
    kind = _HTTP_CODES.get(exc.status, VidsvcError)
    if exc.status == 404 and request.path.startswith(COMPOSITIONS_PREFIX):
        # An id with a slash in it (`../../etc/passwd` sent verbatim) misses every route, but to
        # the client it is an unknown composition (docs/reliability.md B10).
        return CompositionNotFound("no such composition")
    if exc.status == 404 and request.path.startswith(TEMPLATES_PREFIX):
        return TemplateNotFound("no such template")  # as above: an id with a slash in it
    if exc.status == 404:
        return kind(f"no route for {request.method} {request.path[:200]}")
    if exc.status == 405:
        return kind(f"{request.method} is not allowed on {request.path[:200]}")
    if exc.status == 413:
        limit = request.app[SETTINGS_KEY].max_body_bytes
        return kind(f"the request body is over the {limit}-byte limit (MAX_BODY_BYTES)")
    return kind(exc.reason)


async def _respond(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except VidsvcError as err:
        return error_response(err)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # a redirect, not an error
        response = error_response(_from_http(exc, request), status=exc.status)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return error_response(VidsvcError("internal error; see the logs for this request id"))


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    # Each request runs in its own task, so these stay set until its response is sent.
    request_id_var.set(_request_id(request))
    composition_id_var.set(request.match_info.get("id"))
    started = time.perf_counter()
    status = 499  # the client went away (cancelled) unless a response says otherwise
    try:
        response = await _respond(request, handler)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,
            status,
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "remote": request.remote,
            },
        )


async def _stamp_request_id(request: web.Request, response: web.StreamResponse) -> None:
    # Here rather than in the middleware: WebSocket and file responses are sent before it returns.
    rid = request_id_var.get()
    if rid is not None:
        response.headers[REQUEST_ID_HEADER] = rid


def setup_errors(app: web.Application) -> None:
    app.middlewares.append(error_middleware)
    app.on_response_prepare.append(_stamp_request_id)
