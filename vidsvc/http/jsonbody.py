"""Request bodies as JSON: read in one place, refused at the door when no layer could keep them.

Every JSON route reads its body through `read_body` (compositions.read_json calls it). Python's
json module accepts documents the rest of the service cannot hold, and each used to be a 500
somewhere downstream (a database insert, a log line, a file name), sometimes after work was done:

- a string, key or value, with an unpaired surrogate (`"\\ud800"`, or its raw UTF-8 bytes,
  which json.loads decodes with "surrogatepass"): it has no UTF-8 form;
- a string with a NUL: PostgreSQL's text and jsonb cannot hold one, C APIs end the string there;
- nesting deeper than the C decoder's recursion limit (RecursionError);
- an integer literal past int's 4300-digit conversion limit (ValueError), and `NaN`,
  `Infinity` or `1e999`, which are not JSON numbers (RFC 8259 §6) but Python takes them.

Each is a 400 naming the field path (`clips[0].url`, as the schemas name fields), before any
handler sees the document, so nothing of the request is kept: no job row, no staged or generated
media. The code is VALIDATION_ERROR (docs/reliability.md B1), except for a string where the
reliability contract names another: a media URL is INVALID_CLIP_FORMAT (B3), an overlay's text
INVALID_TIMELINE (B9), as the layers below answer for every other bad value of those fields.
The limits are constants documented in docs/api.md (Errors).

How: json.loads with parse_int/parse_float/parse_constant hooks that turn a refused number into
a marker (the hooks cannot know where they are), then one iterative walk over the document that
checks depth, keys and strings and finds the markers, naming the first problem it meets (outer
before inner, earlier before later). Nesting deeper than the C decoder's recursion limit never
reaches the walk: json.loads raises RecursionError first (at about a thousand levels), which is
refused naming `body`.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from typing import Any

from vidsvc.errors import InvalidClipFormat, InvalidTimeline, ValidationError, VidsvcError

#: Objects and arrays nested deeper than this are refused (a composition needs about 5).
MAX_JSON_DEPTH = 64
#: Characters in one number literal: ±2**63 has 20, a double's shortest form at most 24.
MAX_NUMBER_CHARS = 40
#: What no string may hold: NUL, or a surrogate code point. json.loads pairs a valid
#: `\ud83d\ude00` into one character, so any surrogate left in a str is unpaired.
UNSAFE_CHAR = re.compile("[\x00\ud800-\udfff]")
_unsafe = UNSAFE_CHAR.search
#: A key is quoted in a field path up to this many characters (the message stays short).
MAX_KEY_CHARS = 64
#: A body over this many bytes is read in a worker thread: the walk and the number hooks are
#: Python and yield the GIL to the loop (a 1 MiB body of numbers held it 127 ms, now 9 ms);
#: json.loads itself is one C call that does not (about 50 ms for 1 MiB of strings).
THREAD_BODY_BYTES = 64 * 1024


class _Refused:
    """A number the hooks refused; the walk reports it with its path."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _int(literal: str) -> int | _Refused:
    if len(literal) > MAX_NUMBER_CHARS:
        return _Refused(f"a number over {MAX_NUMBER_CHARS} characters (MAX_NUMBER_CHARS)")
    return int(literal)


def _float(literal: str) -> float | _Refused:
    if len(literal) > MAX_NUMBER_CHARS:
        return _Refused(f"a number over {MAX_NUMBER_CHARS} characters (MAX_NUMBER_CHARS)")
    value = float(literal)
    if not math.isfinite(value):  # 1e999 overflows to inf
        return _Refused("a number too large for a double")
    return value


def _constant(name: str) -> _Refused:
    return _Refused(f"{name} is not a JSON number")


async def read_body(raw: bytes) -> dict[str, Any]:
    """parse_body, in a worker thread when the body is large."""
    if len(raw) > THREAD_BODY_BYTES:
        return await asyncio.to_thread(parse_body, raw)
    return parse_body(raw)


def parse_body(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a 400 naming the field (`body` for the whole)."""
    try:
        document = json.loads(raw, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"body: not valid JSON ({exc})", details={"field": "body"}) from None
    except RecursionError:
        raise ValidationError.at("body", _too_deep()) from None
    if not isinstance(document, dict):
        raise ValidationError.at("body", "must be a JSON object")
    check(document)
    return document


def check(document: Any) -> None:
    """Refuse the first unsafe key or string, refused number or too deep container met.

    Containers wait on a stack with the keys that lead to them; scalars are checked where they
    sit, and a path is spelled only for the error (a 1 MB list of numbers costs one loop).
    """
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(document, ())]
    while stack:
        node, where = stack.pop()
        if len(where) >= MAX_JSON_DEPTH:
            raise _refusal(where, _too_deep())
        inner = []
        for key, value in node.items() if isinstance(node, dict) else enumerate(node):
            if type(key) is str and (bad := _unsafe(key)):
                raise _refusal((*where, key), f"a key must not contain {_name(bad)}")
            if type(value) is str:
                if bad := _unsafe(value):
                    kind = _string_error((*where, key))
                    raise kind.at(_path((*where, key)), f"must not contain {_name(bad)}")
            elif type(value) is dict or type(value) is list:
                inner.append((value, (*where, key)))
            elif type(value) is _Refused:
                raise _refusal((*where, key), value.reason)
        stack.extend(reversed(inner))


def _refusal(where: tuple[str | int, ...], reason: str) -> ValidationError:
    return ValidationError.at(_path(where), reason)


def _string_error(where: tuple[str | int, ...]) -> type[VidsvcError]:
    """The code of a refused string: INVALID_CLIP_FORMAT for a media URL (`…url`, `…_url`
    but the callback's, a process-clips `clips[i]`), INVALID_TIMELINE for `overlays[i].content`,
    else VALIDATION_ERROR."""
    last, parent = where[-1], where[-2] if len(where) > 1 else None
    if isinstance(last, int):
        return InvalidClipFormat if parent == "clips" else ValidationError
    if last == "url" or (last.endswith("_url") and last != "callback_url"):
        return InvalidClipFormat
    if last == "content" and len(where) == 3 and where[0] == "overlays":
        return InvalidTimeline
    return ValidationError


def _path(where: tuple[str | int, ...]) -> str:
    """("clips", 0, "url") → "clips[0].url"; () → "body"; keys cut at MAX_KEY_CHARS."""
    path = ""
    for key in where:
        if isinstance(key, int):
            path += f"[{key}]"
        else:
            shown = UNSAFE_CHAR.sub(lambda m: f"\\u{ord(m.group()):04x}", key[:MAX_KEY_CHARS])
            path += f".{shown}" if path else shown
    return path or "body"


def _too_deep() -> str:
    return f"nested deeper than {MAX_JSON_DEPTH} levels (MAX_JSON_DEPTH)"


def _name(bad: re.Match[str]) -> str:
    code = f"U+{ord(bad.group()):04X}"
    return f"a NUL character ({code})" if code == "U+0000" else f"an unpaired surrogate ({code})"
