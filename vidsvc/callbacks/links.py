"""What a kind of work gives the outbox, and what the outbox gives it back to write a body.

A kind whose jobs may name a callback_url implements `CallingBack`: which URL a job names, and
the JSON its terminal state is announced with. The body's links are `Links`: the service's
public origin as the job was submitted (PUBLIC_BASE_URL, else the request's), and expiring
URLs of stored files (presigned on S3; on local disk this app's signed /files URLs, which the
HTTP layer signs: `LocalFiles`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from vidsvc.jobs import Job
from vidsvc.store import BlobStore
from vidsvc.store.callback_events import CallbackEvent

#: A blob key → this app's signed, expiring path for it ("/files/…?expires=…&signature=…").
LocalFiles = Callable[[str], str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Links:
    origin: str  #: scheme://host[/prefix], without a trailing slash ("" when unknown)
    blobs: BlobStore
    ttl_s: int  #: DOWNLOAD_URL_TTL
    local_files: LocalFiles | None = None

    def route(self, path: str) -> str:
        """An absolute URL of this service's `path` (relative when the origin is unknown)."""
        return self.origin.rstrip("/") + path

    async def file(self, key: str | None) -> str | None:
        """An expiring URL of a stored file; None without a key, or with no way to sign one."""
        if not key:
            return None
        url = await self.blobs.url(key, expires_s=self.ttl_s)
        if url is None and self.local_files is not None:
            url = self.route(self.local_files(key))
        return url


@runtime_checkable
class CallingBack(Protocol):
    """A kind of work whose jobs may name a callback_url: the lifecycle records a webhook
    event with each such job, and the outbox POSTs `callback_body` once the job is terminal."""

    def callback_url(self, job: Job) -> str | None: ...

    def callback_body(
        self, job: Job, event: CallbackEvent, links: Links
    ) -> Awaitable[Mapping[str, Any]]: ...
