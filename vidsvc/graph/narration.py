"""Narration per clip (docs/composition.md#narration): what a narration is once measured, and
where it sounds once its clip is placed.

A narration starts when its clip's incoming transition has ended (at the clip's start after a
cut or a fade), `voiceover_offset` later, and sounds until its file ends or its clip does,
whichever is first: narrations never overlap and no transition cuts one. Its place is kept
relative to its clip, so whatever moves the clip moves its narration.

Pure: imports the leaves only.
"""

from __future__ import annotations

from dataclasses import dataclass

from vidsvc import spec
from vidsvc.graph.timeline_rules import Issues, secs

#: Word timings may end this far past the narration file's end (engines round; files are cut
#: at frame boundaries of their codec).
WORDS_TOLERANCE_MS = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class Heard:
    """A narration file's measured facts (a fact like a probe; media/audible.py measures)."""

    duration_ms: int  #: the whole file
    audible_ms: int  #: from its start to the end of its last audible sound


@dataclass(frozen=True, slots=True, kw_only=True)
class Voice:
    """A clip's narration, placed relative to its clip."""

    url: str
    field: str  #: "clips[i].voiceover_url", for messages
    delay_ms: int  #: from the clip's start to the narration's start
    heard_ms: int  #: how long it sounds: its file, cut at the clip's end
    audible_ms: int  #: its audible part, cut at the clip's end
    volume: float
    text: str | None = None  #: clips[i].voiceover_text
    words: tuple[spec.Cue, ...] = ()  #: clips[i].voiceover_words, from the narration's start


@dataclass(frozen=True, slots=True, kw_only=True)
class Spoken:
    """A narration on the output timeline: what captions from narration are drawn from."""

    start_ms: int  #: where it starts
    end_ms: int  #: where its audible part ends
    text: str | None
    words: tuple[spec.Cue, ...]  #: relative to start_ms


def delay_ms(clip: spec.Clip) -> int:
    """From the clip's start to its narration's: past a crossfade in, then the offset."""
    blend = clip.transition_ms if spec.is_crossfade(clip.transition) else 0
    return blend + clip.voiceover_offset_ms


def voiced_length(clip: spec.Clip, heard: Heard) -> int:
    """`duration: "voiceover"`: until the narration's audible end plus the padding."""
    return delay_ms(clip) + heard.audible_ms + clip.voiceover_padding_ms


def place(
    p: str, clip: spec.Clip, length_ms: int, heard: Heard, volume: float, issues: Issues
) -> Voice | None:
    """The clip's narration placed within its `length_ms`; None, with the reason noted, when
    it cannot sound there."""
    delay = delay_ms(clip)
    if delay >= length_ms:
        issues.add(
            f"{p}.voiceover_offset",
            f"the narration would start at {secs(delay)} s, after the clip ends "
            f"({secs(length_ms)} s)",
        )
        return None
    room = length_ms - delay
    for k, word in enumerate(clip.voiceover_words):
        if word.end_ms > heard.duration_ms + WORDS_TOLERANCE_MS:
            issues.add(
                f"{p}.voiceover_words[{k}].end",
                f"{secs(word.end_ms)} is past the narration's end ({secs(heard.duration_ms)} s)",
            )
            return None
    return Voice(
        url=clip.voiceover_url or "",
        field=f"{p}.voiceover_url",
        delay_ms=delay,
        heard_ms=min(heard.duration_ms, room),
        audible_ms=min(heard.audible_ms, room),
        volume=volume,
        text=clip.voiceover_text,
        words=clip.voiceover_words,
    )


def warnings(p: str, heard: Heard, voice: Voice) -> list[str]:
    """What the plan did to a narration that the request did not say."""
    if voice.audible_ms < heard.audible_ms:
        return [
            f"{p}: its narration is cut at the clip's end, {secs(voice.audible_ms)} s into "
            f"its {secs(heard.audible_ms)} s of speech"
        ]
    return []
