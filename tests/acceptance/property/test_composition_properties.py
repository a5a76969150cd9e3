"""Property-based tests over the composition schema (issue #7).

Any document, near-valid or not, is either refused with a vidsvc 4xx error naming a field
(by `parse_composition`, the static `graph.check` or `graph.plan` against the inputs' lengths,
as vidsvc/work/compositions/render.py plans) or compiles (vidsvc.graph) to an argv whose
`-t` is the planned length; the timeline arithmetic holds for every plan. A small sample is
rendered by the real FFmpeg from tiny lavfi inputs: it exits 0 and the output video lasts the
planned length within a frame.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from tests.support.media import ffmpeg, make_tone, make_video, probe, stream
from vidsvc import graph, spec
from vidsvc.config import Settings
from vidsvc.errors import VidsvcError
from vidsvc.graph.timeline import TRIM_TOLERANCE_MS, Timeline
from vidsvc.media.probe import probe as probe_media
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.render import render
from vidsvc.work.compositions.shape import check_stills

#: The inputs' lengths as the planner sees them (the real files are made to these lengths).
LENGTHS = {"v1": 2000, "v2": 1500, "m": 2000, "vo": 1000, "s1": 0}
VIDEOS = ("v1", "v2")
#: Still images (issue 12): no length of their own; a clip must give one.
STILLS = ("s1",)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
PURE = settings(max_examples=200, deadline=None, database=None)


# -- strategies ---------------------------------------------------------------------------------


def tenths(low: int, high: int) -> st.SearchStrategy[float]:
    return st.integers(low, high).map(lambda n: n / 10)


def maybe_bad(good: st.SearchStrategy[Any], bad: bool) -> st.SearchStrategy[Any]:
    """Mostly `good`; when `bad`, sometimes a wrong type, a negative, NaN or Infinity."""
    if not bad:
        return good
    wrong = st.sampled_from([-1, "abc", math.nan, math.inf, None, True, [1]])
    return st.one_of(good, good, good, wrong)


@st.composite
def clip(draw: st.DrawFn, bad: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"url": draw(st.sampled_from((*VIDEOS, *STILLS)))}
    if out["url"] in STILLS or draw(st.integers(0, 4)) == 0:
        out["duration"] = draw(maybe_bad(tenths(1, 20), bad))
    if draw(st.integers(0, 2)) == 0:
        out["fit"] = draw(st.sampled_from([*spec.FITS, *(["stretch"] if bad else [])]))
    if draw(st.integers(0, 2)) == 0:
        out["motion"] = draw(st.sampled_from(spec.MOTIONS))
        out["motion_amount"] = draw(maybe_bad(st.integers(0, 5).map(lambda n: n / 10), bad))
    if draw(st.booleans()):
        out["trim_start"] = draw(maybe_bad(tenths(0, 12), bad))
    if draw(st.booleans()):
        out["trim_end"] = draw(maybe_bad(tenths(2, 22), bad))
    if draw(st.integers(0, 5)) == 0:
        out["start_time"] = draw(maybe_bad(tenths(0, 40), bad))
    if draw(st.integers(0, 7)) == 0:
        out["end_time"] = draw(maybe_bad(tenths(1, 50), bad))
    if draw(st.booleans()):
        names = ["cut", "fade", "crossfade", "wipeleft", "dissolve"] + (["bogus"] if bad else [])
        out["transition_in"] = draw(st.sampled_from(names))
    if draw(st.booleans()):
        out["transition_duration"] = draw(maybe_bad(tenths(0, 12), bad))
    if draw(st.integers(0, 3)) == 0:
        out["volume"] = draw(maybe_bad(tenths(0, 20), bad))
    if draw(st.integers(0, 3)) == 0:
        presets = [*spec.COLOR_PRESETS, *(["sepia"] if bad else [])]
        out["color_preset"] = draw(st.sampled_from(presets))
    return out


@st.composite
def overlay(draw: st.DrawFn, bad: bool) -> dict[str, Any]:
    alphabet = "ab '%:{}[],;\\\n" + ("\x00" if bad else "")
    out: dict[str, Any] = {
        "content": draw(st.text(alphabet, min_size=0 if bad else 1, max_size=12))
    }
    if not bad:
        assume(out["content"].strip())
    if draw(st.booleans()):
        out["start_time"] = draw(maybe_bad(tenths(0, 30), bad))
    if draw(st.booleans()):
        out["duration"] = draw(maybe_bad(tenths(0, 30), bad))
    if draw(st.booleans()):
        xs = [*spec.X_POSITIONS, 0, 10, *(["(w-tw)/2", -5] if bad else [])]
        out["position"] = {
            "x": draw(st.sampled_from(xs)),
            "y": draw(st.sampled_from(spec.Y_POSITIONS)),
        }
    if draw(st.booleans()):
        colors = ["white", "#ff0000", "#00ff0080", *(["nope", "#fff"] if bad else [])]
        out["style"] = {
            "size": draw(maybe_bad(st.integers(8, 40), bad)),
            "color": draw(st.sampled_from(colors)),
            "fade_in": draw(tenths(0, 5)),
        }
    return out


@st.composite
def layer(draw: st.DrawFn, bad: bool) -> dict[str, Any]:
    """An image or video overlay (issue 12)."""
    kind = draw(st.sampled_from(["image", "video", *(["sticker"] if bad else [])]))
    out: dict[str, Any] = {"type": kind, "url": "s1" if kind == "image" else "v1"}
    if draw(st.booleans()):
        xs = [*spec.X_POSITIONS, 0, 30]
        out["position"] = {
            "x": draw(st.sampled_from(xs)),
            "y": draw(st.sampled_from(spec.Y_POSITIONS)),
        }
    size = draw(st.sampled_from(["width", "height", None, *(["both"] if bad else [])]))
    if size == "both":
        out["width"] = out["height"] = 20
    elif size:
        out[size] = draw(maybe_bad(st.integers(4, 80), bad))
    if draw(st.booleans()):
        out["opacity"] = draw(maybe_bad(tenths(0, 10), bad))
    if draw(st.booleans()):
        out["start_time"] = draw(maybe_bad(tenths(0, 30), bad))
    if draw(st.booleans()):
        out["duration"] = draw(maybe_bad(tenths(1, 30), bad))
    if draw(st.booleans()):
        out["fade_in"] = draw(tenths(0, 5))
        out["fade_out"] = draw(tenths(0, 5))
    if kind == "video" and draw(st.booleans()):
        out["trim_start"] = draw(maybe_bad(tenths(0, 15), bad))
        out["volume"] = draw(maybe_bad(tenths(0, 10), bad))
    return out


@st.composite
def audio(draw: st.DrawFn, bad: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["music_url"] = "m"
        out["music_loop"] = draw(st.booleans())
        out["music_start"] = draw(maybe_bad(tenths(0, 15), bad))
        out["music_fade_in"] = draw(tenths(0, 10))
        out["music_fade_out"] = draw(tenths(0, 10))
        out["music_volume"] = draw(maybe_bad(tenths(0, 15), bad))
    if draw(st.booleans()):
        out["voiceover_url"] = "vo"
        out["voiceover_delay"] = draw(maybe_bad(tenths(0, 20), bad))
        out["voiceover_volume"] = draw(tenths(0, 15))
    return out


@st.composite
def composition(draw: st.DrawFn, bad: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "clips": draw(st.lists(clip(bad), min_size=0 if bad else 1, max_size=3)),
        "output": {"resolution": "180p", "fps": draw(st.sampled_from([5, 10, 12]))},
    }
    if draw(st.booleans()):
        doc["output"]["aspect_ratio"] = draw(st.sampled_from(list(spec.ASPECT_RATIOS)))
    if draw(st.integers(0, 2)) == 0:
        doc["output"]["fit"] = draw(st.sampled_from(spec.FITS))
    if draw(st.booleans()):
        doc["overlays"] = draw(st.lists(st.one_of(overlay(bad), layer(bad)), max_size=3))
    if draw(st.booleans()):
        doc["audio"] = draw(audio(bad))
    if bad and draw(st.integers(0, 9)) == 0:
        doc[draw(st.sampled_from(["surprise", "output"]))] = draw(st.sampled_from([1, "x", {}]))
    return doc


# -- the pipeline as render() runs it, without I/O ---------------------------------------------


def compile_doc(
    document: dict[str, Any], lengths: dict[str, int] = LENGTHS
) -> tuple[Timeline, graph.Command]:
    """parse → check → plan → build → compile, as compositions/render.py does after a probe."""
    comp = parse_composition(document)
    limits = graph.Limits()
    graph.check(comp, limits)
    check_stills(comp, set(STILLS))
    timeline = graph.plan(comp, {k: v for k, v in lengths.items() if k not in STILLS}, limits)
    sources = {
        name: graph.Source(
            name=f"in_{i}.mp4",
            duration_ms=ms,
            has_video=name in VIDEOS or name in STILLS,
            has_audio=name not in ("v2", *STILLS),
            still=name in STILLS,
            demuxer="png_pipe" if name in STILLS else None,
        )
        for i, (name, ms) in enumerate(lengths.items())
    }
    fonts = {o.style.font: graph.FontFace(path=FONT, family="DejaVu Sans") for o in comp.texts}
    built = graph.build(timeline, comp, sources, fonts)
    return timeline, graph.compile_command(built, graph.Encoding(duration_ms=timeline.duration_ms))


def assert_refusal(exc: VidsvcError) -> None:
    assert 400 <= exc.http_status < 500, exc
    field = exc.details.get("field")
    assert isinstance(field, str) and field, exc.details
    assert exc.message.startswith(f"{field}:") or exc.message, exc.message


def assert_timeline_arithmetic(
    document: dict[str, Any], t: Timeline, lengths: dict[str, int] = LENGTHS
) -> None:
    """Lengths, placements and overlays obey SPEC.md §3's arithmetic."""
    clips = t.clips
    assert clips and clips[0].start_ms >= 0
    overlaps = gaps = 0
    for prev, slot in itertools.pairwise(clips):
        assert slot.start_ms >= prev.start_ms  # offsets are monotonic
        if spec.is_crossfade(slot.transition):
            assert abs(slot.start_ms - (prev.end_ms - slot.transition_ms)) <= 1
            overlaps += prev.end_ms - slot.start_ms
            assert slot.transition_ms <= min(slot.dur_ms, prev.dur_ms)
        else:
            assert slot.start_ms >= prev.end_ms - 1
            gaps += slot.start_ms - prev.end_ms
    for slot, raw in zip(clips, document["clips"], strict=True):
        assert slot.dur_ms > 0
        if slot.source not in STILLS:  # a still lasts as long as its clip asks
            assert slot.in_ms + slot.dur_ms <= lengths[slot.source] + TRIM_TOLERANCE_MS
        if "trim_end" in raw:
            assert slot.dur_ms == round(raw["trim_end"] * 1000) - slot.in_ms
    total = sum(s.dur_ms for s in clips) - overlaps + gaps + clips[0].start_ms
    assert t.duration_ms == total == max(s.end_ms for s in clips)
    placed = any("start_time" in c or "end_time" in c for c in document["clips"])
    if not placed:  # back to back: the sum of the lengths minus the crossfades
        assert gaps == 0 and clips[0].start_ms == 0
        fades = sum(s.transition_ms for s in clips[1:] if spec.is_crossfade(s.transition))
        assert t.duration_ms == sum(s.dur_ms for s in clips) - fades
    for o in t.overlays:
        assert 0 <= o.start_ms < o.end_ms <= t.duration_ms


@PURE
@given(composition())
def test_every_document_is_refused_with_a_4xx_or_compiles(document: dict[str, Any]) -> None:
    try:
        timeline, command = compile_doc(document)
    except VidsvcError as exc:
        assert_refusal(exc)
        return
    argv = command.argv
    assert all(isinstance(a, str) for a in argv)
    out = argv.index("out.mp4")  # the output's -t (inputs may carry their own)
    assert argv[out - 2 : out] == ("-t", f"{timeline.duration_ms / 1000:.3f}")
    assert command.expected_duration_ms == timeline.duration_ms
    layers = [o for o in document.get("overlays", ()) if "url" in o]
    distinct = {c["url"] for c in document["clips"]} | audio_urls(document)
    distinct |= {o["url"] for o in layers}
    # a clip's picture and its sound come from two demuxers of its file (graph/segments.py)
    most = 2 * len(document["clips"]) + len(audio_urls(document)) + len(layers)
    assert len(distinct) <= argv.count("-i") <= most
    assert_timeline_arithmetic(document, timeline)


def audio_urls(document: dict[str, Any]) -> set[str]:
    a = document.get("audio", {})
    return {a[k] for k in ("music_url", "voiceover_url") if a.get(k)}


@PURE
@given(composition(bad=False))
def test_near_valid_documents_mostly_compile(document: dict[str, Any]) -> None:
    """Without type errors the refusals are only timeline rules (INVALID_TIMELINE)."""
    try:
        timeline, _ = compile_doc(document)
    except VidsvcError as exc:
        assert exc.code == "INVALID_TIMELINE", exc
        assert_refusal(exc)
        return
    assert_timeline_arithmetic(document, timeline)


# -- a sample through the real FFmpeg -----------------------------------------------------------


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")  # tests/conftest.py fails such runs under CI
    d = tmp_path_factory.mktemp("prop-media")
    files = {
        "v1": make_video(d / "v1.mp4", size="64x36", rate=10, seconds=2, tone=440),
        "v2": make_video(d / "v2.mp4", size="64x36", rate=10, seconds=1.5, tone=None),
        "m": make_tone(d / "m.wav", freq=220, seconds=2.0),
        "vo": make_tone(d / "vo.wav", freq=660, seconds=1.0),
        "s1": d / "s1.png",
    }
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=48x48", "-frames:v", "1", str(files["s1"]))
    return files


@pytest.fixture(scope="module")
def probed(inputs: dict[str, Path]) -> dict[str, int]:
    """The inputs' lengths as render() will probe them (containers round: v1 may be 2.02 s)."""
    settings = Settings()
    return {
        name: asyncio.run(probe_media(path, settings, field=name)).duration_ms
        for name, path in inputs.items()
    }


def as_files(document: dict[str, Any], files: dict[str, Path]) -> dict[str, Any]:
    doc = dict(document)
    doc["clips"] = [{**c, "url": files[c["url"]].as_uri()} for c in document["clips"]]
    if "overlays" in doc:
        doc["overlays"] = [
            {**o, "url": files[o["url"]].as_uri()} if "url" in o else o for o in doc["overlays"]
        ]
    if "audio" in doc:
        doc["audio"] = {
            k: files[v].as_uri() if k.endswith("_url") else v for k, v in doc["audio"].items()
        }
    return doc


@pytest.mark.ffmpeg
@settings(
    max_examples=10,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
@given(document=composition(bad=False))
def test_a_sample_renders_with_ffmpeg_to_the_planned_length(
    document: dict[str, Any], inputs: dict[str, Path], probed: dict[str, int], tmp_path: Path
) -> None:
    note(repr(document))
    try:
        planned, _ = compile_doc(document, probed)
    except VidsvcError:
        assume(False)
        return
    fps = document["output"]["fps"]
    run_settings = Settings(
        tmp_dir=tmp_path / "work",
        allowed_local_dirs=(inputs["v1"].parent,),
        x264_preset="ultrafast",
        job_timeout=60,
    )
    out = tmp_path / "out.mp4"
    result = asyncio.run(
        render(
            parse_composition(as_files(document, inputs)),
            run_settings,
            video_out=out,
            thumbnail_out=tmp_path / "out.jpg",
        )
    )
    assert result.ffmpeg.returncode == 0
    assert result.duration_ms == planned.duration_ms  # the real probe agrees with LENGTHS
    video = stream(probe(out), "video")
    frames = int(video["nb_frames"])
    assert abs(frames / fps - planned.duration_ms / 1000) <= 1 / fps + 0.001, (frames, planned)
