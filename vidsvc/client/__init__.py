"""A Python client for the vidsvc HTTP API (depends on aiohttp only).

    from vidsvc.client import Client
    with Client("http://127.0.0.1:8000") as api:
        plan = api.plan(spec)            # a dry run: the timeline, nothing rendered
        job = api.submit(spec)           # or api.submit(template_id=…, merge={"NAME": …})
        api.wait(job.composition_id, on_progress=lambda p: print(p.stage, p.percentage))
        api.download(job.composition_id, "out.mp4")

AsyncClient has the same methods as coroutines. Never imports the server's modules
(import-linter contract in pyproject.toml), so it can be vendored or shipped on its own.
"""

from __future__ import annotations

from vidsvc.client.aio import AsyncClient
from vidsvc.client.models import (
    Accepted,
    Composition,
    CompositionFailed,
    Plan,
    Progress,
    Template,
    VidsvcClientError,
)
from vidsvc.client.sync import Client

__all__ = [
    "Accepted",
    "AsyncClient",
    "Client",
    "Composition",
    "CompositionFailed",
    "Plan",
    "Progress",
    "Template",
    "VidsvcClientError",
]
