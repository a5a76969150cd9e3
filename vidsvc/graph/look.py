"""A clip's look: what is done to its source pictures between decoding and joining.

The timeline resolves it once per clip from `spec.Clip` and the composition's defaults, onto
`ClipSlot.look`. Two readers ask it, and nothing else decides: graph/segments.py draws it,
and smart rendering (graph/splice_plan.py) copies a clip's encoded frames only where
`untouched` says its pictures are the source's own. A field added to `spec.Clip` must be
named in `CLIP_FIELDS`, and one that changes the pictures must be resolved here: a unit test
enumerates `spec.Clip`, so a look the planner does not know of cannot turn into copied,
ungraded frames.
"""

from __future__ import annotations

from dataclasses import dataclass

from vidsvc import spec
from vidsvc.graph import grade as grading

#: Fits that leave a source already of the output's size untouched (smart rendering checks the
#: size); `blur` draws its background whatever the size.
IDENTITY_FITS = frozenset({"contain", "cover"})

#: Every `spec.Clip` field and which concept owns it: "look" (resolved here), "placement"
#: (graph/timeline.py: where and how long, transitions), "sound" (graph/audio.py), "captions"
#: (graph/narration_captions.py: drawn over the joined video, which smart rendering protects).
CLIP_FIELDS = {
    "url": "placement",
    "start_ms": "placement",
    "end_ms": "placement",
    "trim_start_ms": "placement",
    "trim_end_ms": "placement",
    "duration_ms": "placement",
    "transition": "placement",  # `fade` also gives the look its fade-in
    "transition_ms": "placement",
    "volume": "sound",
    "color_preset": "look",
    "fit": "look",
    "motion": "look",
    "motion_amount": "look",
    "voiceover_url": "sound",
    "voiceover_offset_ms": "placement",
    "voiceover_volume": "sound",
    "voiceover_padding_ms": "placement",
    "duration_from_voiceover": "placement",
    "extend": "placement",  # the timeline decides how much is made up: Look.extended
    "voiceover_text": "captions",
    "voiceover_words": "captions",
    "grade": "look",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Look:
    fit: str  #: a name from spec.FITS
    own_fit: str | None = None  #: the clip's own (a rendition's default fit does not replace it)
    motion: str = "none"  #: a name from spec.MOTIONS
    motion_amount: float = 0.1
    color: str = "none"  #: a colour preset
    fade_in_ms: int = 0  #: from black (and silence): the clip comes in with `fade`
    fade_out_ms: int = 0  #: to black (and silence): the next clip comes in with `fade`
    extended: bool = False  #: frames made up past the source (held, looped, slowed)
    grade: spec.Grade | None = None  #: drawn after fit and motion, before the colour preset

    @property
    def untouched(self) -> bool:
        """True when the pictures between the fades are the source's own frames (given a
        source of the output's size, rate and format, which smart rendering checks)."""
        still = self.motion == "none" or self.motion_amount <= 0  # as graph/motion.py draws it
        plain = self.fit in IDENTITY_FITS and self.color == "none" and not self.extended
        return still and plain and not grading.changes_pixels(self.grade)


def of(clip: spec.Clip, comp: spec.Composition) -> Look:
    """The clip's look with the composition's defaults filled in; no fade-out yet (that
    depends on the next clip, which the timeline sets)."""
    return Look(
        fit=clip.fit or comp.output.fit,
        own_fit=clip.fit,
        motion=clip.motion,
        motion_amount=clip.motion_amount,
        color=clip.color_preset or comp.color_preset,
        fade_in_ms=clip.transition_ms if clip.transition == "fade" else 0,
        # a clip's own grade replaces the composition's whole: a LUT chosen for one shot is
        # not mixed with another's adjustments
        grade=clip.grade if clip.grade is not None else comp.grade,
    )
