"""AsyncClient: submit, plan (a dry run), wait (WebSocket, polling when the socket fails),
download, cancel; templates (create, list, read, delete, and submit by template_id).

One aiohttp session per client. Every non-2xx answer raises VidsvcClientError with the
envelope's code; a composition that ends failed or cancelled makes wait() raise
CompositionFailed. Imports aiohttp and vidsvc.client only (import-linter keeps it so).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

from vidsvc.client.models import (
    TERMINAL,
    Accepted,
    Composition,
    CompositionFailed,
    Plan,
    Progress,
    Template,
    VidsvcClientError,
)

COMPOSITIONS = "/api/v1/compositions"
TEMPLATES = "/api/v1/templates"
ProgressCallback = Callable[[Progress], object]
CHUNK = 1 << 16


class AsyncClient:
    """`async with AsyncClient("http://127.0.0.1:8000") as api: ...`"""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._headers = dict(headers or {})
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                # No total: a download or a wait may rightly take long; silence may not.
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=self.timeout, sock_read=self.timeout
                ),
            )
        return self._session

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            async with self.session.request(method, self.base_url + path, **kwargs) as resp:
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    body = None
                if resp.status >= 400:
                    raise VidsvcClientError.from_envelope(resp.status, body)
                return body
        except aiohttp.ClientError as exc:
            raise VidsvcClientError("CONNECTION_ERROR", f"{self.base_url}: {exc}") from exc

    async def submit(
        self,
        spec: Mapping[str, Any] | None = None,
        *,
        template_id: str | None = None,
        merge: Mapping[str, Any] | None = None,
    ) -> Accepted:
        """POST the composition; its 202 answer. With template_id: the template's composition
        with `merge`'s values in its placeholders (`spec` then holds only what may go beside
        it: output, user_id, cache…)."""
        body = _composition(spec, template_id, merge)
        return Accepted.from_json(await self._json("POST", COMPOSITIONS, json=body))

    async def plan(
        self,
        spec: Mapping[str, Any] | None = None,
        *,
        template_id: str | None = None,
        merge: Mapping[str, Any] | None = None,
    ) -> Plan:
        """POST the composition as a dry run: staged, probed and planned, nothing rendered or
        stored; the plan, or the error its render would fail with. Arguments as submit()'s."""
        body = _composition(spec, template_id, merge)
        answer = await self._json("POST", COMPOSITIONS, params={"dry_run": "true"}, json=body)
        return Plan.from_json(answer)

    async def create_template(self, name: str, composition: Mapping[str, Any]) -> Template:
        """Save a composition whose strings may hold {{NAME}} placeholders; checked as a
        composition when saved. Its placeholders' names are in the answer."""
        body = {"name": name, "composition": dict(composition)}
        return Template.from_json(await self._json("POST", TEMPLATES, json=body))

    async def templates(self, *, limit: int = 50) -> list[Template]:
        """The newest templates first (one page; without their compositions)."""
        body = await self._json("GET", TEMPLATES, params={"limit": str(limit)})
        return [Template.from_json(item) for item in body["items"]]

    async def template(self, template_id: str) -> Template:
        """One template, with its composition."""
        return Template.from_json(await self._json("GET", f"{TEMPLATES}/{template_id}"))

    async def delete_template(self, template_id: str) -> None:
        await self._json("DELETE", f"{TEMPLATES}/{template_id}")

    async def get(self, composition_id: str) -> Composition:
        return Composition.from_json(await self._json("GET", f"{COMPOSITIONS}/{composition_id}"))

    async def list(self, *, status: str | None = None, limit: int = 50) -> list[Composition]:
        """The newest compositions first (one page)."""
        params: dict[str, str] = {"limit": str(limit)}
        if status:
            params["status"] = status
        body = await self._json("GET", COMPOSITIONS, params=params)
        return [Composition.from_json(item) for item in body["items"]]

    async def metadata(self, composition_id: str) -> dict[str, Any]:
        body: dict[str, Any] = await self._json("GET", f"{COMPOSITIONS}/{composition_id}/metadata")
        return body

    async def cancel(self, composition_id: str) -> Composition:
        """DELETE: a queued job never starts, a running one is stopped; the state after it."""
        await self._json("DELETE", f"{COMPOSITIONS}/{composition_id}")
        return await self.get(composition_id)

    async def wait(
        self,
        composition_id: str,
        *,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = None,
        poll_interval: float = 1.0,
    ) -> Composition:
        """Until the composition ends: completed returns it, failed/cancelled raise
        CompositionFailed. Progress comes over the WebSocket; if the socket cannot be opened
        or drops, GET is polled every poll_interval seconds instead."""
        async with asyncio.timeout(timeout):
            current = await self.get(composition_id)
            if not current.done and current.websocket_url:
                with contextlib.suppress(aiohttp.ClientError, OSError, ValueError):
                    await self._follow_socket(current.websocket_url, on_progress)
            current = await self.get(composition_id)
            last = -1.0
            while not current.done:
                if on_progress is not None and current.progress.percentage != last:
                    last = current.progress.percentage
                    on_progress(current.progress)
                await asyncio.sleep(poll_interval)
                current = await self.get(composition_id)
        if current.status != "completed":
            raise CompositionFailed(current)
        if on_progress is not None:
            on_progress(current.progress)
        return current

    async def _follow_socket(self, url: str, on_progress: ProgressCallback | None) -> None:
        """Read messages until the terminal one (or the server closes)."""
        async with self.session.ws_connect(url, heartbeat=20) as ws:
            async for msg in ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    break
                message = msg.json()
                kind, data = message.get("type"), message.get("data") or {}
                if kind == "status":
                    if data.get("status") in TERMINAL:
                        return
                    progress = data.get("progress") or {}
                elif kind == "progress":
                    progress = data
                else:  # completed or error: the server closes next
                    return
                if on_progress is not None:
                    on_progress(Progress.from_json(progress))

    async def download(
        self, composition_id: str, path: str | os.PathLike[str], rendition: int = 0
    ) -> Path:
        """The finished video (following the 302 to its signed URL) written to path; the
        Nth of output.renditions with `rendition`."""
        out = Path(path)
        partial = out.with_name(out.name + ".part")
        url = f"{self.base_url}{COMPOSITIONS}/{composition_id}/download"
        url += f"?rendition={rendition}" if rendition else ""
        try:
            async with self.session.get(url) as resp:
                if resp.status >= 400:
                    try:
                        body = await resp.json(content_type=None)
                    except ValueError:
                        body = None
                    raise VidsvcClientError.from_envelope(resp.status, body)
                with partial.open("wb") as fh:
                    async for chunk in resp.content.iter_chunked(CHUNK):
                        fh.write(chunk)
        except aiohttp.ClientError as exc:
            partial.unlink(missing_ok=True)
            raise VidsvcClientError("CONNECTION_ERROR", f"{url}: {exc}") from exc
        partial.replace(out)
        return out


def _composition(
    spec: Mapping[str, Any] | None, template_id: str | None, merge: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The POST body: the spec, or a request by template_id (the spec's fields beside it)."""
    if template_id is None:
        if spec is None or merge is not None:
            raise TypeError("submit/plan take a spec, or a template_id (and merge)")
        return dict(spec)
    return {**dict(spec or {}), "template_id": template_id, "merge": dict(merge or {})}
