"""A job's outcome as a value: what the handlers write is what the readers get back, and a row
written by an older version (keys missing, a number where a mapping was) still reads."""

from __future__ import annotations

from vidsvc.runner.usage import Usage
from vidsvc.work.clips.outcome import ClipResult, ClipsOutcome, Delivery
from vidsvc.work.compositions.outcome import CompositionOutcome


def test_a_composition_outcome_round_trips() -> None:
    outcome = CompositionOutcome(
        timings={"queued": 0.1, "encoding": 2.5},
        ffmpeg_version="5.1.6",
        instance="a",
        attempt=2,
        inputs={"file:///a.mp4": {"duration": 3.0}},
        output={"duration": 3.0, "width": 640},
        command=["ffmpeg", "-i", "a.mp4"],
        usage=Usage(render_seconds=2.4, cpu_seconds=4.0, memory_peak_mb=120.0, output_seconds=3.0),
        sharing=1.5,
        memory={"memory_estimate_mb": 150, "memory_mode": "usual"},
        smart_render={"applied": False, "reason": "no clip is render-ready"},
        sound={"loudness": {"target": -14}},
        captions={
            "format": "srt",
            "encoding": "gb18030",
            "cues": 2,
            "skipped_total": 1,
            "skipped": [{"index": 2, "line": 5, "reason": "it ends before it starts"}],
        },
        cache={"hit": False, "key": "k"},
        preview={"draft": True, "range": {"start": 4.0, "duration": 5.0}},
    )
    written = outcome.to_dict()
    assert written["render_seconds"] == 2.4 and written["memory_estimate_mb"] == 150
    assert written["draft"] is True and written["range"] == {"start": 4.0, "duration": 5.0}
    assert "text" not in written  # nothing to say: no key, as before
    assert "draft" not in CompositionOutcome().to_dict()  # a full render says nothing of it
    assert CompositionOutcome.from_dict(written) == outcome
    assert (outcome.output_duration, outcome.memory_estimate_mb) == (3.0, 150.0)


def test_an_old_or_odd_row_still_reads() -> None:
    old = CompositionOutcome.from_dict({"output": {"duration": 2}, "render_seconds": "fast"})
    assert old.usage == Usage() and old.output_duration == 2.0 and old.command is None
    assert CompositionOutcome.from_dict({"timings": 3, "output": [1]}).output is None


def test_a_clips_outcome_round_trips_and_reads_its_callback_note() -> None:
    result = ClipResult(clip="a.mp4", outputs={"thumbnail": "k"}, probe={"duration": 1.0})
    outcome = ClipsOutcome(
        results=(result,), commands=(("ffmpeg",),), operations=("thumbnail",), instance="a"
    )
    written = outcome.to_dict()
    assert "callback" not in written  # annotated apart, attempt by attempt
    note = Delivery(url="https://cb", attempts=({"status": 200},), delivered=True)
    read = ClipsOutcome.from_dict({**written, "callback": note.to_dict()})
    assert read.results == (result,) and read.callback == note
    assert read.commands == (["ffmpeg"],)  # as JSON gives them back
    assert ClipsOutcome.from_dict({}).callback == Delivery()
