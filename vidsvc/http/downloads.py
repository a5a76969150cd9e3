"""Finished files: GET …/{id}/download (302) and the signed local URLs it may point to.

With S3 the redirect goes to a presigned URL; on local disk to `/files/{key}` signed by
signing.Signer, which this module serves with FileResponse (Range requests included).
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from yarl import URL

from vidsvc.errors import CompositionNotReady, RouteNotFound
from vidsvc.graph import formats
from vidsvc.http import urls
from vidsvc.http.bodies import DownloadQuerySchema, FileQuerySchema
from vidsvc.http.compositions import ERROR, load_query
from vidsvc.http.docs import documented
from vidsvc.http.keys import RUNNER_KEY, SETTINGS_KEY, SIGNER_KEY
from vidsvc.jobs import JobKind, JobState
from vidsvc.work.compositions.outcome import CompositionOutcome
from vidsvc.work.compositions.outputs import stored_keys

FILES = "/files"


@documented(
    summary="Redirect to the finished video (or ?file=thumbnail, its JPEG; ?rendition=N)",
    tag="compositions",
    description="302 to an S3 URL presigned for DOWNLOAD_URL_TTL seconds or, on local disk, "
    "to a signed, expiring URL served by this app.",
    query=DownloadQuerySchema,
    responses={
        302: (None, "Location: the file"),
        400: (ERROR, "VALIDATION_ERROR: unknown ?file= or a bad ?rendition="),
        404: (ERROR, "COMPOSITION_NOT_FOUND, or NOT_FOUND: no such rendition"),
        409: (ERROR, "COMPOSITION_NOT_READY: not completed"),
    },
)
async def download(request: web.Request) -> web.Response:
    runner = request.app[RUNNER_KEY]
    query = load_query(DownloadQuerySchema(), request.query)
    job = await runner.get(JobKind.COMPOSITION, request.match_info["id"])
    if job.state is not JobState.COMPLETED or job.output_key is None:
        raise CompositionNotReady(
            f"composition {job.id} is {job.state.value}; the file exists once it is completed",
            details={"status": job.state.value},
        )
    stored = stored_keys(job, CompositionOutcome.from_dict(job.metadata).outputs)
    number = query["rendition"]
    if number >= len(stored):
        raise RouteNotFound(
            f"composition {job.id} has no rendition {number} (it has {len(stored)})",
            details={"field": "rendition", "renditions": len(stored)},
        )
    pair = stored[number]
    return await redirect_to_blob(
        request, pair.thumbnail if query["file"] == "thumbnail" else pair.video
    )


async def redirect_to_blob(request: web.Request, key: str) -> web.Response:
    """302 to a stored blob: presigned on S3, else this app's signed, expiring /files URL."""
    location = await request.app[RUNNER_KEY].blob_url(key)
    if location is None:
        ttl = request.app[SETTINGS_KEY].download_url_ttl
        location = urls.redirect(
            request, f"{FILES}/{key}", request.app[SIGNER_KEY].query(key, ttl)
        )
    return web.Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})


def signed_files(app: web.Application) -> Callable[[str], str]:
    """A blob key → this app's signed, expiring /files path: the links of webhooks (the
    runner's outbox writes them under the origin the job was submitted to)."""
    signer, ttl = app[SIGNER_KEY], app[SETTINGS_KEY].download_url_ttl
    return lambda key: str(URL.build(path=f"{FILES}/{key}", query=signer.query(key, ttl)))


@documented(
    summary="A stored file, through a signed link from …/download",
    tag="files",
    query=FileQuerySchema,
    produces=("video/mp4", "video/webm", "image/gif", "image/webp", "image/jpeg"),
    responses={
        200: (None, "the file"),
        206: (None, "the requested range"),
        403: (ERROR, "FORBIDDEN: bad or expired signature"),
        404: (ERROR, "NOT_FOUND"),
    },
)
async def blob_file(request: web.Request) -> web.FileResponse:
    key = request.match_info["key"]
    # A link without its signature is as bad as one with a wrong signature: 403, not 400.
    expires, signature = request.query.get("expires", ""), request.query.get("signature", "")
    request.app[SIGNER_KEY].check(key, expires, signature)
    try:
        path = request.app[RUNNER_KEY].blob_path(key)
    except ValueError:
        path = None  # a key that could never have been signed by us; same answer as missing
    if path is None:
        raise RouteNotFound("the file no longer exists")
    headers = {"Cache-Control": "private, max-age=300"}
    # an output's type is its format's (the platform's mimetypes may not know .webp)
    if (fmt := formats.by_extension(path.suffix.lstrip("."))) is not None:
        headers["Content-Type"] = fmt.mime_type
    return web.FileResponse(path, headers=headers)
