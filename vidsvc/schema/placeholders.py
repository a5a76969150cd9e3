"""`{{NAME}}` placeholders in a template's composition: found, and filled from a merge.

A placeholder is `{{` NAME `}}` inside a string value, NAME matching `[A-Z][A-Z0-9_]*` (at
most MAX_NAME_CHARS). Keys are never looked at. Any other `{{…}}` with no brace inside (`{{name}}`,
`{{A-B}}`, `{{ }}`) is refused naming its field, so a typo is never kept as text; a `{{` with
no closing `}}` is plain text. A string that is exactly one placeholder takes the merged
value's JSON type (a number, a list, an object…); inside a longer string a placeholder becomes
the merged string, or a number's JSON form.

Both passes are linear: the patterns cannot backtrack (no brace inside a name), and a fill
substitutes once, never scanning a merged value, so a value holding `{{X}}` stays that text.
What a fill may build is bounded: every substitution is paid for, before anything is built,
out of the caller's byte budget (MAX_BODY_BYTES). Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vidsvc.errors import PayloadTooLarge, ValidationError

MAX_NAME_CHARS = 64
NAME = re.compile(r"[A-Z][A-Z0-9_]*")
#: Anything a client may have meant as a placeholder: `{{`, no brace, `}}`.
CANDIDATE = re.compile(r"\{\{([^{}]*)\}\}")
WHOLE = re.compile(r"\{\{([A-Z][A-Z0-9_]*)\}\}")
Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Slot:
    """A string value holding placeholders."""

    where: Path  #: keys and indexes from the document's root
    field: str  #: `where` as the schemas name fields: clips[0].url
    names: tuple[str, ...]  #: every occurrence, in order
    whole: bool  #: the string is exactly one placeholder


def field_name(where: Path) -> str:
    """("clips", 0, "url") → "clips[0].url"; () → ""."""
    out = ""
    for key in where:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else key)
    return out


def _walk(node: Any, where: Path) -> Iterator[tuple[Path, str]]:
    """Every string value holding `{{`, in document order (depth is bounded by jsonbody)."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        if isinstance(value, str):
            if "{{" in value:
                yield (*where, key), value
        elif isinstance(value, dict | list):
            yield from _walk(value, (*where, key))


def find(document: Mapping[str, Any]) -> tuple[Slot, ...]:
    """Every slot of the document, or ValidationError naming the first malformed placeholder."""
    slots = []
    for where, text in _walk(document, ()):
        names = tuple(CANDIDATE.findall(text))
        for name in names:
            if len(name) > MAX_NAME_CHARS or not NAME.fullmatch(name):
                shown = name if len(name) <= 40 else name[:40] + "…"
                raise ValidationError(
                    f"{field_name(where)}: {{{{{shown}}}}} is not a placeholder: a name is "
                    f"[A-Z][A-Z0-9_]*, at most {MAX_NAME_CHARS} characters",
                    details={"field": field_name(where), "placeholder": shown},
                )
        if names:
            whole = WHOLE.fullmatch(text) is not None
            slots.append(Slot(where=where, field=field_name(where), names=names, whole=whole))
    return tuple(slots)


def names(slots: Sequence[Slot]) -> tuple[str, ...]:
    """The distinct names, in order of first use."""
    return tuple(dict.fromkeys(name for slot in slots for name in slot.names))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _encoded(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def size(document: Any) -> int:
    """Bytes of the document as compact JSON (UTF-8)."""
    return len(_encoded(document).encode())


def check_merge(
    slots: Sequence[Slot], merge: Mapping[str, Any], known: Sequence[str], *, budget: int
) -> None:
    """Refuse, before anything is built: a placeholder with no value (naming its field), a
    merge key no placeholder of the template uses, a value that cannot stand inside a longer
    string, and a fill that would build more than `budget` bytes (PAYLOAD_TOO_LARGE)."""
    for key in merge:
        if key not in known:
            raise ValidationError.at(f"merge.{key[:64]}", "the template has no such placeholder")
    costs = {name: size(value) for name, value in merge.items()}
    for slot in slots:
        for name in slot.names:
            if name not in merge:
                raise ValidationError(
                    f"{slot.field}: placeholder {{{{{name}}}}} has no value in merge",
                    details={"field": slot.field, "placeholder": name},
                )
            value = merge[name]
            if not slot.whole and not (isinstance(value, str) or _is_number(value)):
                raise ValidationError.at(
                    f"merge.{name}",
                    f"{{{{{name}}}}} stands inside the longer string {slot.field}: "
                    "only a string or a number can go there",
                )
            budget -= costs[name] - len(name) - 4
    if budget < 0:
        raise PayloadTooLarge(
            "the merged composition would be over the request body limit (MAX_BODY_BYTES)",
            details={"field": "merge"},
        )


def fill(node: Any, merge: Mapping[str, Any]) -> Any:
    """A copy of `node` with every placeholder replaced (check_merge first: it refuses what
    this would fail on, or build too much of)."""
    if isinstance(node, dict):
        return {key: fill(value, merge) for key, value in node.items()}
    if isinstance(node, list):
        return [fill(value, merge) for value in node]
    if not isinstance(node, str) or "{{" not in node:
        return node
    whole = WHOLE.fullmatch(node)
    if whole is not None:
        value = merge[whole.group(1)]
        # a copy per use: no two places of the document share (and could alter) one object
        return json.loads(_encoded(value)) if isinstance(value, dict | list) else value
    return CANDIDATE.sub(lambda m: _inline(merge[m.group(1)]), node)


def _inline(value: str | float) -> str:
    return value if isinstance(value, str) else _encoded(value)
