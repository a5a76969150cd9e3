"""The wire format: marshmallow schemas that check shapes and build spec values.

Seconds on the wire become integer milliseconds here. Unknown fields, wrong types, NaN and
unknown enum values are VALIDATION_ERROR naming the field; the timeline's meaning is checked
later (vidsvc.graph.timeline). The HTTP layer reuses these schemas for the OpenAPI document.
One module per part of the document: composition.py (clips, the whole), output.py, text.py
(overlays' text, captions, fonts), pictures.py (image and video overlays), audio.py, clips.py
(internal clip processing), wire.py (what they share); templates.py and placeholders.py (a
template's body, its {{NAME}} placeholders found and filled).
"""

from __future__ import annotations

from vidsvc.schema.audio import BeatRequestSchema, parse_beat_request
from vidsvc.schema.clips import ClipTaskSchema, parse_clip_task
from vidsvc.schema.composition import CompositionSchema, parse_composition

__all__ = [
    "BeatRequestSchema",
    "ClipTaskSchema",
    "CompositionSchema",
    "parse_beat_request",
    "parse_clip_task",
    "parse_composition",
]
