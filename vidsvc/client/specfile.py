"""A composition file read for a server: every input must be a URL the server can open.

The server cannot read files next to the user's spec, so a relative path is refused with a
message naming the field; an absolute path becomes a file:// URL (the server must list its
directory in ALLOWED_LOCAL_DIRS).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class SpecFileError(ValueError):
    """The spec file cannot be sent as it is (unreadable, not JSON, a relative path)."""


def _is_input(key: str) -> bool:
    return key == "url" or key.endswith("_url")


def _rewrite(node: Any, where: str) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            field = f"{where}.{key}" if where else str(key)
            if isinstance(value, str) and _is_input(str(key)):
                out[key] = _url(value, field)
            else:
                out[key] = _rewrite(value, field)
        return out
    if isinstance(node, list):
        return [_rewrite(item, f"{where}[{n}]") for n, item in enumerate(node)]
    return node


def _url(value: str, field: str) -> str:
    if "://" in value:
        return value
    if Path(value).is_absolute():
        return Path(value).as_uri()
    raise SpecFileError(
        f"{field}: {value!r} is a relative path, which the server cannot read; use an "
        "absolute path or file:// URL (under the server's ALLOWED_LOCAL_DIRS), or http(s):// "
        "or s3://"
    )


def load_for_server(path: Path) -> dict[str, Any]:
    """The composition in `path`, with absolute paths as file:// URLs; SpecFileError if not."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecFileError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise SpecFileError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise SpecFileError(f"{path}: a composition is a JSON object")
    rewritten: dict[str, Any] = _rewrite(document, "")
    return rewritten
