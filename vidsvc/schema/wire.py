"""Shared pieces of the wire format: colours, positions, seconds to milliseconds, and how a
marshmallow error becomes VALIDATION_ERROR naming the first bad field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, fields, validate
from marshmallow import ValidationError as MarshmallowError

from vidsvc import spec
from vidsvc.errors import ValidationError

FONT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")
HEX_COLOR = re.compile(r"^#?([0-9a-fA-F]{6})([0-9a-fA-F]{2})?$")
#: Named colours accepted besides hex (a fixed table: nothing user-typed reaches FFmpeg).
NAMED_COLORS = {
    "white": "FFFFFF",
    "black": "000000",
    "red": "FF0000",
    "green": "00FF00",
    "blue": "0000FF",
    "yellow": "FFFF00",
    "cyan": "00FFFF",
    "magenta": "FF00FF",
    "gray": "808080",
    "grey": "808080",
    "orange": "FFA500",
    "purple": "800080",
    "pink": "FFC0CB",
}
MAX_SECONDS = 86400.0


class Millis(fields.Float):
    """Seconds on the wire, integer milliseconds in the value: `start_ms =
    Millis(data_key="start_time")`. The range is checked in seconds, as the client wrote
    them (and documented so), before the conversion."""

    def __init__(
        self,
        *,
        least: float = 0.0,
        most: float = MAX_SECONDS,
        above_least: bool = False,
        metadata: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> None:
        self.range = validate.Range(least, most, min_inclusive=not above_least)
        bounds: dict[str, Any] = {"minimum": least, "maximum": most}
        if above_least:
            bounds["exclusiveMinimum"] = True
        super().__init__(allow_nan=False, metadata={**bounds, **(metadata or {})}, **kw)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> int:
        seconds = super()._deserialize(value, attr, data, **kw)
        self.range(seconds)
        return round(seconds * 1000)


#: A fade or transition length: at most a minute.
FADE_S = 60.0


class ColorField(fields.Field[str]):
    """`#RRGGBB`, `#RRGGBBAA` or a name from NAMED_COLORS, normalized to `0xRRGGBBAA`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        if isinstance(value, str):
            named = NAMED_COLORS.get(value.strip().lower())
            if named:
                return f"0x{named}FF"
            match = HEX_COLOR.match(value)
            if match:
                return f"0x{match.group(1).upper()}{(match.group(2) or 'FF').upper()}"
        raise MarshmallowError("Not a colour: use #RRGGBB, #RRGGBBAA or a colour name.")


class PositionField(fields.Field[str | int]):
    """A named anchor (`center`, `left`…) or non-negative pixels."""

    def __init__(self, names: tuple[str, ...], **kw: Any) -> None:
        super().__init__(**kw)
        self.names = names

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str | int:
        if isinstance(value, str) and value in self.names:
            return value
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 8192:
            return value
        raise MarshmallowError(f"Must be one of {', '.join(self.names)} or pixels 0-8192.")


class PositionSchema(Schema):
    x = PositionField(spec.X_POSITIONS)
    y = PositionField(spec.Y_POSITIONS)


def inline(nested: type[Schema]) -> dict[str, Any]:
    """An OpenAPI object for a schema of numbers (the options of SwitchOrNested)."""
    properties: dict[str, Any] = {}
    for name, field in nested().fields.items():
        prop: dict[str, Any] = {
            "type": "integer" if isinstance(field, fields.Integer) else "number"
        }
        for rule in field.validators:
            if isinstance(rule, validate.Range):
                prop |= {"minimum": rule.min, "maximum": rule.max}
        if field.metadata.get("description"):
            prop["description"] = field.metadata["description"]
        properties[name] = prop
    return {"type": "object", "properties": properties, "additionalProperties": False}


class SwitchOrNested(fields.Field[Any]):
    """`true` (the defaults), `false`/null (off) or an object of options (a nested schema)."""

    def __init__(self, nested: type[Schema], default: Any, **kw: Any) -> None:
        one_of = [{"type": "boolean"}, inline(nested)]
        super().__init__(allow_none=True, metadata={"oneOf": one_of}, **kw)
        self.nested, self.default = nested, default

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> Any:
        if value is True:
            return self.default
        if value is False:
            return None
        if isinstance(value, Mapping):
            return self.nested().load(value)
        raise MarshmallowError("Must be true, false or an object of options.")


def even(value: int) -> None:
    if value % 2:
        raise MarshmallowError("must be an even number of pixels")


def flatten(messages: Any, prefix: str = "") -> dict[str, str]:
    """{'clips': {0: {'trim_start': ['Not a valid number.']}}} → {'clips[0].trim_start': '…'}."""
    if isinstance(messages, Mapping):
        out: dict[str, str] = {}
        for key, value in messages.items():
            name = (
                f"{prefix}[{key}]"
                if isinstance(key, int)
                else (f"{prefix}.{key}" if prefix else str(key))
            )
            out.update(flatten(value, name))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "body": " ".join(messages)}
    return {prefix or "body": str(messages)}


def load(schema: Schema, document: Any) -> Any:
    """schema.load(document), or ValidationError naming the first bad field and listing all."""
    if not isinstance(document, Mapping):
        raise ValidationError.at("body", "must be a JSON object")
    try:
        return schema.load(document)
    except MarshmallowError as exc:
        problems = flatten(exc.messages)
        first_field, first_message = next(iter(problems.items()))
        raise ValidationError(
            f"{first_field}: {first_message}",
            details={"field": first_field, "fields": problems},
        ) from None
