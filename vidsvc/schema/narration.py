"""Narration and audio tracks on the wire: a clip's own narration (`clips[].voiceover_*`,
`duration: "voiceover"`, `extend`) and `audio.tracks[]`."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate, validates_schema
from marshmallow import ValidationError as MarshmallowError

from vidsvc import spec
from vidsvc.schema.text import CueSchema
from vidsvc.schema.wire import FADE_S, MAX_SECONDS, Millis

#: A narration's script, and its word timings, per clip.
MAX_NARRATION_CHARS = 5000
MAX_NARRATION_WORDS = 2000
#: Word timings from text-to-speech engines may touch; this much overlap is rounding.
WORD_OVERLAP_MS = 10
VOICEOVER = "voiceover"


class DurationField(fields.Field[int | str]):
    """A clip's `duration`: seconds (above 0), or "voiceover": as long as its narration."""

    def __init__(self, **kw: Any) -> None:
        one_of = [
            {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": MAX_SECONDS},
            {"type": "string", "enum": [VOICEOVER]},
        ]
        super().__init__(metadata={"oneOf": one_of}, **kw)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> int | str:
        if value == VOICEOVER:
            return VOICEOVER
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise MarshmallowError('Must be a number of seconds or "voiceover".')
        validate.Range(0, MAX_SECONDS, min_inclusive=False)(value)
        return round(value * 1000)


class NarrationFields(Schema):
    """The narration fields of a clip (ClipSchema inherits them)."""

    voiceover_url = fields.String(
        validate=validate.Length(1, 4096),
        metadata={"description": "this clip's narration (input URL rules): a voice track"},
    )
    voiceover_offset_ms = Millis(
        data_key="voiceover_offset",
        most=FADE_S,
        metadata={"description": "seconds after the incoming transition ends (0)"},
    )
    voiceover_volume = fields.Float(
        allow_nan=False,
        validate=validate.Range(0, 10),
        metadata={"description": "default: audio.voiceover_volume"},
    )
    voiceover_padding_ms = Millis(
        data_key="voiceover_padding",
        most=10,
        metadata={"description": 'with duration "voiceover": after the audible end (0.25)'},
    )
    extend = fields.String(
        validate=validate.OneOf(spec.EXTENDS),
        metadata={
            "description": "a source shorter than the clip: hold its last frame (the default "
            "for narrated clips), loop its range, or slow it (at most 2x, then hold)"
        },
    )
    voiceover_text = fields.String(
        validate=validate.Length(1, MAX_NARRATION_CHARS),
        metadata={"description": "the narration's script, captioned over its audible span"},
    )
    voiceover_words = fields.List(
        fields.Nested(CueSchema),
        validate=validate.Length(1, MAX_NARRATION_WORDS),
        metadata={"description": "word timings from the narration's start, captioned word-timed"},
    )

    @validates_schema
    def _narration(self, d: dict[str, Any], **_: Any) -> None:
        voiced = d.get("duration_ms") == VOICEOVER
        if voiced and "end_ms" in d:
            why = 'duration "voiceover" and end_time cannot both be given (the narration sets it)'
            raise MarshmallowError({"duration": [why], "end_time": [why]})
        wire = {"duration_ms": "duration", "voiceover_offset_ms": "voiceover_offset"}
        needs: list[str] = [k for k in ("voiceover_text", "voiceover_words") if k in d]
        needs += ["duration_ms"] if voiced else []
        needs += [k for k in ("voiceover_offset_ms", "voiceover_volume") if k in d]
        if needs and "voiceover_url" not in d:
            name = wire.get(needs[0], needs[0])
            raise MarshmallowError("needs voiceover_url (the clip's narration)", name)
        if "voiceover_padding_ms" in d and not voiced:
            raise MarshmallowError('applies only with duration "voiceover"', "voiceover_padding")
        _ordered(d.get("voiceover_words", []))


def _ordered(words: list[spec.Cue]) -> None:
    """Word timings in order, none overlapping the one before (beyond rounding)."""
    for k in range(1, len(words)):
        before, word = words[k - 1], words[k]
        if word.start_ms < before.start_ms:
            raise MarshmallowError(
                {k: {"start": [f"is before word {k - 1}'s start (words must be in order)"]}},
                "voiceover_words",
            )
        if word.start_ms < before.end_ms - WORD_OVERLAP_MS:
            raise MarshmallowError(
                {k: {"start": [f"overlaps word {k - 1} (which ends at {before.end_ms / 1000})"]}},
                "voiceover_words",
            )


def narration(d: dict[str, Any]) -> dict[str, Any]:
    """A loaded clip's dict with `duration: "voiceover"` as its flag and words as a tuple."""
    if d.get("duration_ms") == VOICEOVER:
        del d["duration_ms"]
        d["duration_from_voiceover"] = True
    if "voiceover_words" in d:
        d["voiceover_words"] = tuple(d["voiceover_words"])
    return d


class TrackSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(1, 4096))
    role = fields.String(required=True, validate=validate.OneOf(spec.TRACK_ROLES))
    start_ms = Millis(data_key="start_time", metadata={"description": "on the timeline (0)"})
    trim_start_ms = Millis(data_key="trim_start", metadata={"description": "in the file (0)"})
    trim_end_ms = Millis(data_key="trim_end", metadata={"description": "in the file"})
    duration_ms = Millis(
        data_key="duration", above_least=True, metadata={"description": "how long it sounds"}
    )
    volume = fields.Float(allow_nan=False, validate=validate.Range(0, 10))
    fade_in_ms = Millis(data_key="fade_in", most=FADE_S)
    fade_out_ms = Millis(data_key="fade_out", most=FADE_S)
    loop = fields.Boolean(metadata={"description": "repeat to the end (default: music only)"})

    @validates_schema
    def _range(self, d: dict[str, Any], **_: Any) -> None:
        if "trim_end_ms" in d and "duration_ms" in d:
            raise MarshmallowError("give trim_end or duration, not both", "duration")
        if d.get("trim_end_ms", 1 << 62) <= d.get("trim_start_ms", 0):
            raise MarshmallowError("must be after trim_start", "trim_end")

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.Track:
        return spec.Track(**d)


def tracks_field() -> Any:
    return fields.List(
        fields.Nested(TrackSchema),
        validate=validate.Length(max=spec.MAX_TRACKS),
        metadata={"description": "music, voice and sound-effect tracks (at most 16)"},
    )
