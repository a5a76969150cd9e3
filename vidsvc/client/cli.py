"""`vidsvc submit SPEC.json OUT.mp4 --server URL`: the whole round trip with the client.

Exit codes as `vidsvc render`: 0 downloaded, 1 the server refused or the render failed (the
error envelope as JSON on stderr), 2 a spec file that cannot be sent (one line on stderr).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path

from vidsvc.client.aio import AsyncClient
from vidsvc.client.models import Progress, VidsvcClientError
from vidsvc.client.specfile import SpecFileError, load_for_server


async def submit_file(spec: Path, out: Path, server: str, bar: Callable[[Progress], None]) -> Path:
    """Submit spec, follow its progress into bar, download the MP4 to out."""
    document = load_for_server(spec)

    def show(progress: Progress) -> None:
        eta = f"ETA {progress.eta_seconds:.0f} s" if progress.eta_seconds is not None else ""
        bar(dataclasses.replace(progress, message=progress.message or eta))

    async with AsyncClient(server) as api:
        accepted = await api.submit(document)
        bar(Progress("queued", 0.0, accepted.composition_id))
        await api.wait(accepted.composition_id, on_progress=show)
        return await api.download(accepted.composition_id, out)


def report(exc: Exception) -> int:
    """stderr and the exit code for what submit_file raised."""
    if isinstance(exc, SpecFileError):
        sys.stderr.write(f"vidsvc: {exc}\n")
        return 2
    if isinstance(exc, VidsvcClientError):
        envelope = {
            "error": {
                "code": exc.code,
                "message": exc.message,
                "details": exc.details,
                "request_id": exc.request_id,
            }
        }
        sys.stderr.write(json.dumps(envelope, ensure_ascii=False) + "\n")
        return 1
    raise exc
