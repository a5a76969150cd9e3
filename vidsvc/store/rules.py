"""The rules every backend implementation applies the same way, written once: blob keys, and the
JobStore's progress clamp, metadata merge, reaper error and metrics columns.

SQL stores restate some of them in queries.sql (the reaper's error, the progress clamp); the
contract suites check every implementation against these. Pure; imports only vidsvc.jobs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from vidsvc.jobs import JobError, JobState

MAX_KEY_LENGTH = 1024  # S3's limit, so a key valid here is valid everywhere


def check_key(key: str) -> str:
    """Return key if it is safe to map onto a directory tree; ValueError otherwise.

    Refused: empty, too long, absolute, backslashes (a separator on Windows and a traversal
    trick elsewhere), NUL and other control characters, and empty, '.' or '..' segments.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"blob key must be 1 to {MAX_KEY_LENGTH} characters")
    if key.startswith("/"):
        raise ValueError(f"blob key {key!r} is absolute")
    if "\\" in key:
        raise ValueError(f"blob key {key!r} contains a backslash")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        raise ValueError(f"blob key {key!r} contains a control character")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"blob key {key!r} has an empty, '.' or '..' segment")
    return key


#: job_metrics columns a caller may set; anything else is a typo, refused rather than lost.
METRIC_FIELDS = frozenset(
    {"job_type", "duration_seconds", "cpu_time", "memory_peak_mb", "ffmpeg_stats"}
)


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC. Naive datetimes are refused: their zone is a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: jobs carry aware UTC times")
    return value.astimezone(UTC)


def json_copy(value: Any) -> Any:
    """A deep copy through JSON, so the memory store keeps exactly what a SQL column would
    (tuples become lists) and a caller mutating its dict afterwards changes nothing stored."""
    return json.loads(json.dumps(value, allow_nan=False))


def check_terminal(state: JobState) -> None:
    if not state.terminal:
        raise ValueError(f"finish() needs a terminal state, not {state.value!r}")


def next_percentage(old: float, new: float) -> float:
    """Progress never goes backwards and never passes 100."""
    if math.isnan(new):
        raise ValueError("percentage is NaN")
    return min(100.0, max(old, float(new)))


def merge_metadata(old: Mapping[str, Any], new: Mapping[str, Any] | None) -> dict[str, Any]:
    """Shallow merge: a key in `new` replaces the whole value (PostgreSQL's jsonb `||`)."""
    merged = dict(old)
    merged.update(json_copy(dict(new or {})))
    return merged


def lease_lost_error(attempts: int, max_attempts: int) -> JobError:
    """The error of a job failed by the reaper; queries.sql builds the same JSON."""
    return JobError(
        code="PROCESSING_FAILED",
        message=(f"the worker stopped renewing its lease; attempt {attempts} of {max_attempts}"),
        details={"attempts": attempts, "max_attempts": max_attempts},
    )


def metrics_row(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a record_metrics() mapping into the job_metrics columns (missing → None)."""
    unknown = set(metrics) - METRIC_FIELDS
    if unknown:
        raise ValueError(f"unknown metrics {sorted(unknown)}; expected {sorted(METRIC_FIELDS)}")
    row: dict[str, Any] = {name: metrics.get(name) for name in METRIC_FIELDS}
    for name in ("duration_seconds", "cpu_time", "memory_peak_mb"):
        if row[name] is not None:
            row[name] = float(row[name])
    row["ffmpeg_stats"] = json_copy(dict(row["ffmpeg_stats"] or {}))
    return row
