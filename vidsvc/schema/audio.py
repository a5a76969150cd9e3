"""Audio on the wire: music, voiceover, fades, ducking, loudness, beat sync; the beat route."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from vidsvc import spec
from vidsvc.schema.wire import SwitchOrNested, load, seconds, to_ms


class DuckingSchema(Schema):
    amount_db = fields.Float(
        allow_nan=False,
        validate=validate.Range(1, 30),
        metadata={"description": "how far the music goes down under the voiceover (10)"},
    )
    attack = fields.Float(
        allow_nan=False,
        validate=validate.Range(0.001, 2),
        metadata={"description": "seconds to go down once the voice starts (0.02)"},
    )
    release = fields.Float(
        allow_nan=False,
        validate=validate.Range(0.01, 5),
        metadata={"description": "seconds to come back after the voice stops (0.4)"},
    )

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.Ducking:
        timed = {f"{k}_ms": round(d.pop(k) * 1000) for k in ("attack", "release") if k in d}
        return spec.Ducking(**d, **timed)


class BeatSyncSchema(Schema):
    every = fields.Integer(
        strict=True,
        validate=validate.Range(1, 16),
        metadata={"description": "snap to every Nth beat (1; 2 if the tracker reads double)"},
    )
    max_shift = fields.Float(
        allow_nan=False,
        validate=validate.Range(0, 10),
        metadata={"description": "seconds a cut may move (default: half a beat)"},
    )

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.BeatSync:
        shift = d.pop("max_shift", None)
        return spec.BeatSync(**d, max_shift_ms=to_ms(shift))


class AudioSchema(Schema):
    music_url = fields.String(allow_none=True, validate=validate.Length(1, 4096))
    voiceover_url = fields.String(allow_none=True, validate=validate.Length(1, 4096))
    music_volume = fields.Float(allow_nan=False, validate=validate.Range(0, 10))
    voiceover_volume = fields.Float(allow_nan=False, validate=validate.Range(0, 10))
    music_loop = fields.Boolean()
    music_start = seconds()
    music_fade_in = fields.Float(allow_nan=False, validate=validate.Range(0, 60))
    music_fade_out = fields.Float(allow_nan=False, validate=validate.Range(0, 60))
    voiceover_delay = seconds()
    voiceover_fade_in = fields.Float(allow_nan=False, validate=validate.Range(0, 60))
    voiceover_fade_out = fields.Float(allow_nan=False, validate=validate.Range(0, 60))
    ducking = SwitchOrNested(DuckingSchema, spec.Ducking())
    loudness_lufs = fields.Float(
        allow_nan=False, allow_none=True, validate=validate.Range(-30, -5)
    )
    beat_sync = SwitchOrNested(BeatSyncSchema, spec.BeatSync())

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.Audio:
        timed: tuple[str, ...] = ("music_start", "music_fade_in", "music_fade_out")
        timed += ("voiceover_delay", "voiceover_fade_in", "voiceover_fade_out")
        ms = {f"{k}_ms": round(d.pop(k) * 1000) for k in timed if k in d}
        return spec.Audio(**d, **ms)


class BeatRequestSchema(Schema):
    """POST /internal/v1/beat-detection (ENABLE_BEAT_DETECTION): one input, by URL."""

    url = fields.String(
        required=True,
        validate=validate.Length(1, 4096),
        metadata={"description": "an audio or video input, under the input URL rules"},
    )


def parse_beat_request(document: Any) -> str:
    """The URL of a beat-detection request, or ValidationError naming the field."""
    loaded: dict[str, str] = load(BeatRequestSchema(), document)
    return loaded["url"]
