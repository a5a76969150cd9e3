"""Client: the same calls as AsyncClient for code without an event loop.

It owns one asyncio.Runner (one loop, one aiohttp session) for its lifetime; use it as a
context manager or call close(). Not for use inside a running event loop (use AsyncClient).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from vidsvc.client.aio import AsyncClient, ProgressCallback
from vidsvc.client.models import Accepted, Composition, Plan, Template


class Client:
    """`with Client("http://127.0.0.1:8000") as api: api.wait(api.submit(spec).composition_id)`"""

    def __init__(
        self, base_url: str, *, timeout: float = 30.0, headers: Mapping[str, str] | None = None
    ) -> None:
        self._runner = asyncio.Runner()
        self._aio = AsyncClient(base_url, timeout=timeout, headers=headers)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._runner.run(self._aio.close())
        self._runner.close()

    def submit(
        self,
        spec: Mapping[str, Any] | None = None,
        *,
        template_id: str | None = None,
        merge: Mapping[str, Any] | None = None,
    ) -> Accepted:
        return self._runner.run(self._aio.submit(spec, template_id=template_id, merge=merge))

    def plan(
        self,
        spec: Mapping[str, Any] | None = None,
        *,
        template_id: str | None = None,
        merge: Mapping[str, Any] | None = None,
    ) -> Plan:
        return self._runner.run(self._aio.plan(spec, template_id=template_id, merge=merge))

    def create_template(self, name: str, composition: Mapping[str, Any]) -> Template:
        return self._runner.run(self._aio.create_template(name, composition))

    def templates(self, *, limit: int = 50) -> list[Template]:
        return self._runner.run(self._aio.templates(limit=limit))

    def template(self, template_id: str) -> Template:
        return self._runner.run(self._aio.template(template_id))

    def delete_template(self, template_id: str) -> None:
        self._runner.run(self._aio.delete_template(template_id))

    def get(self, composition_id: str) -> Composition:
        return self._runner.run(self._aio.get(composition_id))

    def list(self, *, status: str | None = None, limit: int = 50) -> list[Composition]:
        return self._runner.run(self._aio.list(status=status, limit=limit))

    def metadata(self, composition_id: str) -> dict[str, Any]:
        return self._runner.run(self._aio.metadata(composition_id))

    def cancel(self, composition_id: str) -> Composition:
        return self._runner.run(self._aio.cancel(composition_id))

    def wait(
        self,
        composition_id: str,
        *,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = None,
        poll_interval: float = 1.0,
    ) -> Composition:
        return self._runner.run(
            self._aio.wait(
                composition_id,
                on_progress=on_progress,
                timeout=timeout,
                poll_interval=poll_interval,
            )
        )

    def download(
        self, composition_id: str, path: str | os.PathLike[str], rendition: int = 0
    ) -> Path:
        return self._runner.run(self._aio.download(composition_id, path, rendition))
