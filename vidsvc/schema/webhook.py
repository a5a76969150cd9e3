"""A composition's webhook on the wire: `callback_url` and `metadata`.

Neither changes how a video looks, so neither enters spec.Composition (nor the render cache's
key): they stay in the accepted document beside it, which the job keeps (Job.payload), and are
read from there (work/compositions/webhook.py). The URL's policy (SSRF) is checked at submit by
vidsvc.callbacks.target, which can resolve names; here only its shape.
"""

from __future__ import annotations

import json
from typing import Any

from marshmallow import ValidationError as MarshmallowError
from marshmallow import fields, validate

#: The serialized size cap of `metadata`: compact JSON, UTF-8 bytes.
METADATA_MAX_BYTES = 4096


def metadata_size(value: Any) -> int:
    """Bytes of `value` as compact UTF-8 JSON (what the cap counts)."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


class MetadataField(fields.Dict):
    """A JSON object of the client's, echoed as sent (GET, the list, the WebSocket, the
    webhook); at most METADATA_MAX_BYTES as compact JSON."""

    def __init__(self) -> None:
        description = (
            "any JSON object of yours (at most 4096 bytes as compact UTF-8 JSON), echoed in "
            "GET, the list, the WebSocket's status and completed messages and the webhook; "
            "it does not enter the render cache key"
        )
        super().__init__(allow_none=True, metadata={"description": description})

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> Any:
        if not isinstance(value, dict):
            raise MarshmallowError("must be a JSON object")
        size = metadata_size(value)
        if size > METADATA_MAX_BYTES:
            raise MarshmallowError(f"is {size} bytes as JSON; at most {METADATA_MAX_BYTES}")
        return value


def callback_url_field() -> fields.String:
    description = (
        "POSTed once when the composition ends (completed, failed or cancelled), signed and "
        "retried; http(s), allowed by the callback policy (ALLOWED_CALLBACK_HOSTS)"
    )
    return fields.String(
        allow_none=True, validate=validate.Length(1, 2048), metadata={"description": description}
    )
