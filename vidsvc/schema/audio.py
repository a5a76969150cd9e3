"""Audio on the wire: music, voiceover, fades, ducking, loudness, beat sync; the beat route."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from vidsvc import spec
from vidsvc.schema.narration import tracks_field
from vidsvc.schema.wire import FADE_S, Millis, SwitchOrNested, load


class DuckingSchema(Schema):
    amount_db = fields.Float(
        allow_nan=False,
        validate=validate.Range(1, 30),
        metadata={"description": "how far the music goes down under the voiceover (10)"},
    )
    attack_ms = Millis(
        data_key="attack",
        least=0.001,
        most=2,
        metadata={"description": "seconds to go down once the voice starts (0.02)"},
    )
    release_ms = Millis(
        data_key="release",
        least=0.01,
        most=5,
        metadata={"description": "seconds to come back after the voice stops (0.4)"},
    )

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.Ducking:
        return spec.Ducking(**d)


class BeatSyncSchema(Schema):
    every = fields.Integer(
        strict=True,
        validate=validate.Range(1, 16),
        metadata={"description": "snap to every Nth beat (1; 2 if the tracker reads double)"},
    )
    max_shift_ms = Millis(
        data_key="max_shift",
        most=10,
        metadata={"description": "seconds a cut may move (default: half a beat)"},
    )

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.BeatSync:
        return spec.BeatSync(**d)


class AudioSchema(Schema):
    music_url = fields.String(allow_none=True, validate=validate.Length(1, 4096))
    voiceover_url = fields.String(allow_none=True, validate=validate.Length(1, 4096))
    music_volume = fields.Float(allow_nan=False, validate=validate.Range(0, 10))
    voiceover_volume = fields.Float(allow_nan=False, validate=validate.Range(0, 10))
    music_loop = fields.Boolean()
    music_start_ms = Millis(data_key="music_start")
    music_fade_in_ms = Millis(data_key="music_fade_in", most=FADE_S)
    music_fade_out_ms = Millis(data_key="music_fade_out", most=FADE_S)
    voiceover_delay_ms = Millis(data_key="voiceover_delay")
    voiceover_fade_in_ms = Millis(data_key="voiceover_fade_in", most=FADE_S)
    voiceover_fade_out_ms = Millis(data_key="voiceover_fade_out", most=FADE_S)
    ducking = SwitchOrNested(DuckingSchema, spec.Ducking())
    loudness_lufs = fields.Float(
        allow_nan=False, allow_none=True, validate=validate.Range(-30, -5)
    )
    beat_sync = SwitchOrNested(BeatSyncSchema, spec.BeatSync())
    tracks = tracks_field()

    @post_load
    def build(self, d: dict[str, Any], **_: Any) -> spec.Audio:
        return spec.Audio(**(d | {"tracks": tuple(d.get("tracks", ()))}))


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
