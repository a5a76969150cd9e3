"""The whole route table, on one screen. Registered only from the app factory."""

from __future__ import annotations

from aiohttp import web

from vidsvc.http import (
    beats,
    clips,
    compositions,
    docs,
    downloads,
    events,
    health,
    request_doc,
    templates,
)

COMPOSITION = "/api/v1/compositions/{id}"


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/v1/compositions", compositions.create)
    r.add_get("/api/v1/compositions", compositions.list_compositions)
    r.add_get(COMPOSITION, compositions.get_composition)
    r.add_delete(COMPOSITION, compositions.cancel)
    r.add_get(COMPOSITION + "/download", downloads.download)
    r.add_get(COMPOSITION + "/metadata", compositions.metadata)
    r.add_get(request_doc.PATH, request_doc.composition_request)
    r.add_get(downloads.FILES + "/{key:.+}", downloads.blob_file)
    r.add_post(templates.PATH, templates.create)
    r.add_get(templates.PATH, templates.list_templates)
    r.add_get(templates.ITEM, templates.get_template)
    r.add_delete(templates.ITEM, templates.delete_template)
    r.add_post(clips.PROCESS_CLIPS, clips.create)
    r.add_get(clips.PROCESSING, clips.get_processing)
    r.add_get(clips.PROCESSING + "/files/{index:\\d+}/{name}", clips.download)
    r.add_post(beats.BEAT_DETECTION, beats.detect)  # 404 unless ENABLE_BEAT_DETECTION
    r.add_get("/ws/compositions/{id}", events.composition_events)
    r.add_get("/health", health.health)
    r.add_get("/health/detailed", health.health_detailed)
    r.add_get(docs.OPENAPI_PATH, docs.openapi_json)
    r.add_get("/docs", docs.swagger_ui)
    r.add_get("/redoc", docs.redoc)
    r.add_static(docs.SWAGGER_STATIC, docs.SWAGGER_FILES)
    r.add_static(docs.REDOC_STATIC, docs.REDOC_FILES)
