"""The API's documentation: the OpenAPI document, Swagger UI at /docs and ReDoc at /redoc.

Handlers describe themselves with `@documented(...)` (aiohttp-apispec metadata underneath);
`setup_docs(app)` runs once every route is registered and keeps the finished document under
OPENAPI_KEY. aiohttp-apispec emits Swagger 2.0; openapi3.py turns it into the OpenAPI 3.0.3
that docs/contract.md §2 prefers.

Both pages run vendored bundles (static/swagger, static/redoc; each README names its version
and source) and show this service's document only: Swagger UI starts from a static script with
`queryConfigEnabled: false` (the 4.1.0 aiohttp-apispec ships rendered `?url=` documents on this
origin, CVE-2021-46708). Each page carries a Content-Security-Policy like the console's: this
origin only, no inline script, no plugins, no framing.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar, cast

import aiohttp_apispec
from aiohttp import web
from aiohttp.web_exceptions import NotAppKeyWarning
from marshmallow import Schema

from vidsvc import __version__
from vidsvc.http.keys import OPENAPI_KEY
from vidsvc.http.openapi3 import to_openapi3

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)
Responses = Mapping[int, tuple[type[Schema] | None, str]]

OPENAPI_PATH = "/api/docs/openapi.json"
# Vendored from npm (swagger-ui-dist 5.36.0, Apache-2.0; static/swagger/README.md).
SWAGGER_STATIC = "/static/swagger"
SWAGGER_FILES = Path(__file__).parent / "static" / "swagger"
# Vendored from npm (redoc 2.1.5, MIT; static/redoc/VERSION.md): /redoc works offline.
REDOC_STATIC = "/static/redoc"
REDOC_FILES = Path(__file__).parent / "static" / "redoc"
REDOC_JS = f"{REDOC_STATIC}/redoc.standalone.js"


def csp(*, redoc: bool = False) -> str:
    """A page's policy, like the console's: this origin only (the CSS's icons are data: URIs),
    no inline script, no plugins, no framing. ReDoc needs inline styles (styled-components
    writes <style> elements) and runs its search in a worker made from a blob: URL, which only
    a script already allowed here can make; Swagger UI needs neither."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'" if redoc else "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self' blob:" if redoc else "worker-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


SWAGGER_CSP = csp()
REDOC_CSP = csp(redoc=True)
PAGE_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
HEADERS = {
    "Location": {"type": "string", "description": "path of what was created"},
    "Retry-After": {"type": "integer", "description": "seconds to wait before retrying"},
}


#: Handlers whose body may also be one of other schemas (documented as a oneOf).
_BODY_ALTERNATIVES: dict[Handler, tuple[type[Schema], ...]] = {}


def documented(
    *,
    summary: str,
    tag: str,
    responses: Responses,
    description: str = "",
    body: type[Schema] | None = None,
    body_or: tuple[type[Schema], ...] = (),
    query: type[Schema] | None = None,
    produces: tuple[str, ...] = ("application/json",),
    headers: Mapping[int, tuple[str, ...]] | None = None,
) -> Callable[[H], H]:
    """Attach OpenAPI metadata to a handler; `headers` names response headers per status;
    `body_or`: other shapes the body may take instead of `body` (aiohttp-apispec, on Swagger
    2.0, knows one body schema: setup_docs writes the oneOf)."""
    documented_responses: dict[str, dict[str, Any]] = {}
    for status, (schema, text) in responses.items():
        entry: dict[str, Any] = {"description": text}
        if schema is not None:
            entry["schema"] = schema
        names = (headers or {}).get(status, ())
        if names:
            entry["headers"] = {name: HEADERS[name] for name in names}
        documented_responses[str(status)] = entry

    def wrap(handler: H) -> H:
        decorated: Any = aiohttp_apispec.docs(
            tags=[tag],
            summary=summary,
            description=description,
            produces=list(produces),
            responses=documented_responses,
        )(handler)
        if body is not None:
            decorated = aiohttp_apispec.request_schema(body, required=True)(decorated)
        if query is not None:
            decorated = aiohttp_apispec.request_schema(query, location="querystring")(decorated)
        if body_or:
            _BODY_ALTERNATIVES[decorated] = body_or
        return cast(H, decorated)

    return wrap


def setup_docs(app: web.Application) -> None:
    """Build the document from the routes registered so far (call it last in the factory)."""
    api = aiohttp_apispec.AiohttpApiSpec(
        url=None,  # the document is served by openapi_json below, from OPENAPI_KEY
        title="vidsvc",
        version=__version__,
        info={"description": "Video composition: a timeline in, one FFmpeg pass, an MP4 out."},
    )
    # aiohttp-apispec consumes and extends each handler's metadata in place, and handlers are
    # module-level: every app (tests build many) must start from an untouched copy.
    saved = {
        route.handler: route.handler.__apispec__
        for route in app.router.routes()
        if hasattr(route.handler, "__apispec__")
    }
    for handler, meta in saved.items():
        handler.__apispec__ = {
            **meta,
            "schemas": list(meta["schemas"]),
            "parameters": list(meta["parameters"]),
            "responses": dict(meta["responses"]),
        }
    try:
        # It keeps its state under str app keys; the warning says nothing we can act on.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotAppKeyWarning)
            api.register(app, in_place=True)
    finally:
        for handler, meta in saved.items():
            handler.__apispec__ = meta
    alternatives = _body_alternatives(app, api)  # before the document: it adds definitions
    document = api.swagger_dict()
    for (path, method), refs in alternatives.items():
        for param in document["paths"][path][method]["parameters"]:
            if param["in"] == "body":
                param["schema"] = {"oneOf": [param["schema"], *refs]}
    for operations in document["paths"].values():
        operations.pop("head", None)  # aiohttp's implicit HEAD twin of every GET
    app[OPENAPI_KEY] = to_openapi3(document)


def _body_alternatives(
    app: web.Application, api: aiohttp_apispec.AiohttpApiSpec
) -> dict[tuple[str, str], list[dict[str, str]]]:
    """{(path, method): refs} of each `body_or` handler's other bodies, their definitions
    added to the document as any nested schema's are."""
    found = {}
    for route in app.router.routes():
        alternatives = _BODY_ALTERNATIVES.get(route.handler)
        if alternatives and route.resource is not None:
            refs = [api.plugin.converter.resolve_nested_schema(alt) for alt in alternatives]
            found[(route.resource.canonical, route.method.lower())] = refs
    return found


@documented(
    summary="This OpenAPI document",
    tag="docs",
    responses={200: (None, "the OpenAPI 3.0.3 document")},
)
async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI_KEY])


@documented(
    summary="Swagger UI",
    tag="docs",
    responses={200: (None, "an HTML page")},
    produces=("text/html",),
)
async def swagger_ui(request: web.Request) -> web.Response:
    return _page("swagger")


@documented(
    summary="ReDoc", tag="docs", responses={200: (None, "an HTML page")}, produces=("text/html",)
)
async def redoc(request: web.Request) -> web.Response:
    return _page("redoc")


def _page(kind: str) -> web.Response:
    spec = OPENAPI_PATH
    if kind == "redoc":
        body = f'<redoc spec-url="{spec}"></redoc><script src="{REDOC_JS}"></script>'
        head, policy = "", REDOC_CSP
    else:
        policy = SWAGGER_CSP
        head = f'<link rel="stylesheet" href="{SWAGGER_STATIC}/swagger-ui.css">'
        body = (
            f'<div id="swagger-ui" data-spec-url="{spec}"></div>'
            f'<script src="{SWAGGER_STATIC}/swagger-ui-bundle.js"></script>'
            f'<script src="{SWAGGER_STATIC}/swagger-init.js"></script>'
        )
    text = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>vidsvc API</title>{head}</head><body>{body}</body></html>"
    )
    headers = {**PAGE_HEADERS, "Content-Security-Policy": policy}
    return web.Response(text=text, content_type="text/html", headers=headers)
