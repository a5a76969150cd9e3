"""JSON-lines logging on stdout, with the request and composition ids of the current context.

The ids live in contextvars that the request middleware sets, so any logger called while a
request is handled (the runner's included) carries them without passing them around; a record's
own `extra={"composition_id": …}` wins over the context.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
composition_id_var: ContextVar[str | None] = ContextVar("composition_id", default=None)

access_log = logging.getLogger("vidsvc.access")

#: Attributes every LogRecord has; anything else on a record came from `extra=` and is kept.
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message, request_id,
    composition_id, then the record's extras and the formatted exception, if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
            "composition_id": composition_id_var.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(level: str, stream: TextIO | None = None) -> None:
    """Route every logger through one JSON handler on stdout (replacing earlier handlers)."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # aiohttp's own access logger would print a second, non-JSON line per request.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
