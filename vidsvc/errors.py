"""The one exception tree of vidsvc. Each error carries the stable code of docs/contract.md §2.

    VidsvcError                      code               HTTP
     ├── ValidationError             VALIDATION_ERROR    400
     ├── InvalidTimeline             INVALID_TIMELINE    400
     ├── InvalidClipFormat           INVALID_CLIP_FORMAT 400
     ├── InputUnavailable            INPUT_UNAVAILABLE   400
     ├── Unauthorized                UNAUTHORIZED        401
     ├── Forbidden                   FORBIDDEN           403 (a bad or expired download signature)
     ├── CompositionNotFound         COMPOSITION_NOT_FOUND 404
     ├── ProcessingNotFound          PROCESSING_NOT_FOUND 404 (internal clip processing)
     ├── TemplateNotFound            TEMPLATE_NOT_FOUND  404 (an unknown or deleted template)
     ├── RouteNotFound               NOT_FOUND           404 (no such path, or no such file)
     ├── MethodNotAllowed            METHOD_NOT_ALLOWED  405
     ├── CompositionNotReady         COMPOSITION_NOT_READY 409 (download before completed)
     ├── CompositionFinished         COMPOSITION_FINISHED 409 (cancel after completed/failed)
     ├── PayloadTooLarge             PAYLOAD_TOO_LARGE   413
     ├── RateLimited                 RATE_LIMITED        429 (Retry-After; per-client POST limit)
     ├── ProcessingFailed            PROCESSING_FAILED   500
     ├── StorageError                STORAGE_ERROR       503
     ├── QueueFull                   QUEUE_FULL          503 (Retry-After)
     └── ServiceUnavailable          SERVICE_UNAVAILABLE 503 (Retry-After; draining on stop)
    ConfigError (not a VidsvcError: it stops start-up, it is never answered over HTTP)

A leaf module: imports nothing from vidsvc.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Self


class VidsvcError(Exception):
    """Base of every error that a client may see; `code` and `http_status` are the contract."""

    code: ClassVar[str] = "INTERNAL_ERROR"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    @classmethod
    def at(cls, field: str, reason: str) -> Self:
        """The error about the request's `field`: "<field>: <reason>", details.field naming it."""
        return cls(f"{field}: {reason}", details={"field": field})

    def envelope(self, *, request_id: str | None = None) -> dict[str, Any]:
        """The standard JSON error body of docs/contract.md §2."""
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "details": self.details,
                "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "request_id": request_id,
            }
        }


class ValidationError(VidsvcError):
    code = "VALIDATION_ERROR"
    http_status = 400


class InvalidTimeline(VidsvcError):
    code = "INVALID_TIMELINE"
    http_status = 400


class InvalidClipFormat(VidsvcError):
    code = "INVALID_CLIP_FORMAT"
    http_status = 400


class InputUnavailable(VidsvcError):
    code = "INPUT_UNAVAILABLE"
    http_status = 400


class Unauthorized(VidsvcError):
    code = "UNAUTHORIZED"
    http_status = 401


class Forbidden(VidsvcError):
    code = "FORBIDDEN"
    http_status = 403


class CompositionNotFound(VidsvcError):
    code = "COMPOSITION_NOT_FOUND"
    http_status = 404


class ProcessingNotFound(VidsvcError):
    code = "PROCESSING_NOT_FOUND"
    http_status = 404


class TemplateNotFound(VidsvcError):
    code = "TEMPLATE_NOT_FOUND"
    http_status = 404


class RouteNotFound(VidsvcError):
    code = "NOT_FOUND"
    http_status = 404


class MethodNotAllowed(VidsvcError):
    code = "METHOD_NOT_ALLOWED"
    http_status = 405


class CompositionNotReady(VidsvcError):
    code = "COMPOSITION_NOT_READY"
    http_status = 409


class CompositionFinished(VidsvcError):
    code = "COMPOSITION_FINISHED"
    http_status = 409


class PayloadTooLarge(VidsvcError):
    code = "PAYLOAD_TOO_LARGE"
    http_status = 413


class RateLimited(VidsvcError):
    code = "RATE_LIMITED"
    http_status = 429


class ProcessingFailed(VidsvcError):
    code = "PROCESSING_FAILED"
    http_status = 500


class StorageError(VidsvcError):
    code = "STORAGE_ERROR"
    http_status = 503


class QueueFull(VidsvcError):
    code = "QUEUE_FULL"
    http_status = 503


class ServiceUnavailable(VidsvcError):
    code = "SERVICE_UNAVAILABLE"
    http_status = 503


class ConfigError(Exception):
    """A bad setting: the message is one line naming the variable."""
