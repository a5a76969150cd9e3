"""Smart rendering on real files: render-ready clips are spliced, not re-encoded, and the result
is exactly what was planned (frames, timestamps, sync), the copied spans are the sources' own
frames and the encoded spans match the one-pass render.

One composition covers every seam kind (issue 16): encode→copy (after a text overlay),
copy→copy from different sources (a cut on GOP boundaries), copy→encode (before a
crossfade), a crossfade between two copied clips, a trim that starts mid-GOP, a clip without
audio, and a clip whose trim ends off the GOP grid.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support import compare
from tests.support.compare import frame_md5s
from tests.support.media import make_render_ready, make_video, probe, stream
from tests.support.normalize import normalize
from tests.support.processes import FAKE_FFMPEG
from vidsvc.config import Settings
from vidsvc.errors import ProcessingFailed
from vidsvc.graph import splice
from vidsvc.graph.split import PART_OUT, Sizing, thumb_file
from vidsvc.jobs import Progress
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.render import RenderResult, render
from vidsvc.work.compositions.split import prepare_split, run_split

pytestmark = pytest.mark.ffmpeg
FPS = 30
PRESET = "veryfast"  # the normalize and the composition must share it (ultrafast is Baseline)


def _ready(d: Path, name: str, source: str, *, audio: bool, settings: Settings) -> Path:
    if not audio:  # made by hand with the same pinned options: it counts as well
        return make_render_ready(d / f"{name}.mp4", source=source, seconds=6, preset=PRESET)
    raw = make_video(d / f"{name}-raw.mp4", size="1280x720", rate=FPS, seconds=6, source=source)
    return normalize_sync(raw, settings, d / name)  # through vidsvc's own normalize


def normalize_sync(raw: Path, settings: Settings, work: Path) -> Path:
    return asyncio.run(normalize(raw, settings, work))


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("smart")
    settings = Settings.from_env(
        {"TMP_DIR": str(d / "work"), "ALLOWED_LOCAL_DIRS": "/", "X264_PRESET": PRESET}
    )
    return {
        "a": _ready(d, "a", "testsrc2", audio=True, settings=settings),
        "b": _ready(d, "b", "testsrc", audio=True, settings=settings),
        "c": _ready(d, "c", "rgbtestsrc", audio=False, settings=settings),
    }


def seams(clips: dict[str, Path], smart: bool = True) -> dict[str, Any]:
    """14.5 s, 435 frames. With IDRs every 60 frames the plan is (output frames):
    encode [0,60) text · copy a[60,120) · copy c[0,60) · encode [180,285) c's tail and the
    crossfade into b · copy b[60,120) · encode [345,372) a's trim from 1.1 s to its next IDR ·
    copy a[60,120) · encode [432,435) the tail off the grid."""
    u = {k: f"file://{p}" for k, p in clips.items()}
    return {
        "clips": [
            {"url": u["a"], "start_time": 0, "end_time": 4},
            {"url": u["c"], "trim_end": 4},
            {
                "url": u["b"],
                "trim_end": 4,
                "transition_in": "crossfade",
                "transition_duration": 0.5,
            },
            {"url": u["a"], "trim_start": 1.1, "trim_end": 4.1},
        ],
        "overlays": [{"type": "text", "content": "Hello", "start_time": 0.5, "duration": 0.7}],
        # inside a copied span: the windows pass decodes that one frame (a one-frame run)
        "output": {"resolution": "720p", "preset": PRESET, "smart_render": smart,
                   "thumbnail_time": 2.5},
    }  # fmt: skip


#: (first output frame, frames, copied from (clip, first source frame) or None: encoded)
PLANNED: list[tuple[int, int, tuple[str, int] | None]] = [
    (0, 60, None),
    (60, 60, ("a", 60)),
    (120, 60, ("c", 0)),
    (180, 105, None),
    (285, 60, ("b", 60)),
    (345, 27, None),
    (372, 60, ("a", 60)),
    (432, 3, None),
]
TOTAL = 435


def _render(
    doc: dict[str, Any],
    settings: Settings,
    out: Path,
    stages: list[tuple[str, float]] | None = None,
) -> RenderResult:
    def on_progress(p: Progress) -> None:
        if stages is not None:
            stages.append((p.stage, p.percentage))

    comp = parse_composition(doc)
    thumb = out.with_suffix(".jpg")
    return asyncio.run(
        render(comp, settings, video_out=out, thumbnail_out=thumb, on_progress=on_progress)
    )


@pytest.fixture(scope="module")
def renders(
    clips: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, RenderResult]:
    d = tmp_path_factory.mktemp("smart-out")
    settings = Settings.from_env({"TMP_DIR": str(d / "work"), "ALLOWED_LOCAL_DIRS": "/"})
    return {
        "smart": _render(seams(clips), settings, d / "smart.mp4", STAGES),
        "one_pass": _render(seams(clips, smart=False), settings, d / "one.mp4"),
    }


STAGES: list[tuple[str, float]] = []  #: the smart render's progress reports


def test_progress_runs_through_the_encoding_band(renders: dict[str, RenderResult]) -> None:
    encoding = [percent for stage, percent in STAGES if stage == "encoding"]
    assert len(set(encoding)) >= 2 and max(encoding) >= 85.0  # the band is 25-90 %
    percents = [percent for _, percent in STAGES]
    assert percents == sorted(percents)


def packets(path: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "packet=pts,dts,flags", "-of", "json", str(path)],
        capture_output=True, check=True, text=True,
    )  # fmt: skip
    return list(json.loads(out.stdout)["packets"])


def test_the_plan_copies_every_seam_kind(
    renders: dict[str, RenderResult], clips: dict[str, Path]
) -> None:
    names = {f"file://{p}": k for k, p in clips.items()}
    summary = renders["smart"].smart
    assert summary["applied"] is True
    spans = [
        (
            round(s["start"] * FPS),
            round((s["end"] - s["start"]) * FPS),
            (names[s["source"]], s["source_frame"]) if s["kind"] == "copy" else None,
        )
        for s in summary["spans"]
    ]
    assert spans == PLANNED
    assert summary["copied_frames"] == 240 and summary["encoded_frames"] == TOTAL - 240
    assert renders["one_pass"].smart == {
        "applied": False,
        "reason": "output.smart_render is false",
    }


def test_exact_frames_and_timestamps(renders: dict[str, RenderResult]) -> None:
    smart = packets(renders["smart"].video)
    assert len(smart) == TOTAL
    tick = 15360 // FPS
    assert sorted(int(p["pts"]) for p in smart) == [i * tick for i in range(TOTAL)]
    dts = [int(p["dts"]) for p in smart]
    assert all(b > a for a, b in itertools.pairwise(dts))
    keys = [i for i, p in enumerate(smart) if "K" in p["flags"]]
    assert {s for s, _, _ in PLANNED} <= set(keys)  # every piece starts on an IDR


def test_copied_spans_are_the_sources_own_frames(
    renders: dict[str, RenderResult], clips: dict[str, Path]
) -> None:
    for start, frames, copied in PLANNED:
        if copied is not None:
            clip, first = copied
            got = frame_md5s(renders["smart"].video, start, frames)
            assert got == frame_md5s(clips[clip], first, frames), (start, clip)
            assert len(got) == frames


def _psnr_per_frame(a: Path, b: Path) -> list[float]:
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(a), "-i", str(b), "-lavfi",
         "[0:v][1:v]psnr=stats_file=-", "-f", "null", "-"],
        capture_output=True, check=True, text=True,
    )  # fmt: skip
    values = re.findall(r"psnr_avg:(\S+)", out.stdout)
    return [99.0 if v == "inf" else float(v) for v in values]


def test_encoded_spans_match_the_one_pass(renders: dict[str, RenderResult]) -> None:
    psnr = _psnr_per_frame(renders["smart"].video, renders["one_pass"].video)
    assert len(psnr) == TOTAL
    for start, frames, copied in PLANNED:
        if copied is None:
            worst = min(psnr[start : start + frames])
            assert worst >= 40.0, (start, worst)


def test_audio_is_the_one_pass_mix_and_in_sync(renders: dict[str, RenderResult]) -> None:
    def audio_md5(path: Path) -> str:
        out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-vn", "-f", "md5", "-"],
                             capture_output=True, check=True, text=True)  # fmt: skip
        return out.stdout.strip()

    smart, one = renders["smart"].video, renders["one_pass"].video
    assert audio_md5(smart) == audio_md5(one)
    info = probe(smart)
    video, sound = stream(info, "video"), stream(info, "audio")
    assert float(video["start_time"]) == pytest.approx(
        float(sound["start_time"]), abs=1024 / 48000
    )
    assert float(video["duration"]) == pytest.approx(TOTAL / FPS, abs=1e-3)
    assert float(sound["duration"]) == pytest.approx(TOTAL / FPS, abs=1024 / 48000)


def test_decodes_without_a_warning(renders: dict[str, RenderResult]) -> None:
    done = subprocess.run(["ffmpeg", "-v", "warning", "-i", str(renders["smart"].video),
                           "-f", "null", "-"], capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0 and done.stderr == ""
    boxes = top_level_boxes(renders["smart"].video)
    assert boxes.index(b"moov") < boxes.index(b"mdat")  # +faststart: playable while it loads


def top_level_boxes(path: Path) -> list[bytes]:
    data, at, names = path.read_bytes(), 0, []
    while at + 8 <= len(data):
        size, name = int.from_bytes(data[at : at + 4], "big"), data[at + 4 : at + 8]
        if size == 1:
            size = int.from_bytes(data[at + 8 : at + 16], "big")
        names.append(name)
        at += max(size, 8)
    return names


def test_a_failed_join_falls_back_to_one_pass(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault injected into the concat script (a piece dropped): the output check catches the
    missing frames and the render is done again in one pass, complete."""
    real = splice.concat_document

    def dropping(*args: Any) -> str:
        lines = real(*args).splitlines()
        cut = [i for i, line in enumerate(lines) if line.startswith("file ")][1]
        return "\n".join(lines[:cut] + lines[cut + 4 :]) + "\n"

    monkeypatch.setattr(splice, "concat_document", dropping)
    settings = Settings.from_env({"TMP_DIR": str(tmp_path / "work"), "ALLOWED_LOCAL_DIRS": "/"})
    result = _render(seams(clips), settings, tmp_path / "out.mp4")
    assert result.smart["applied"] is False
    assert result.smart["reason"].startswith("the smart render failed: the join has")
    assert len(packets(result.video)) == TOTAL


def test_nothing_copyable_renders_in_one_pass(clips: dict[str, Path], tmp_path: Path) -> None:
    doc = seams(clips)
    doc["clips"] = doc["clips"][:1]
    doc["color_preset"] = "warm"  # every frame changes colour
    settings = Settings.from_env({"TMP_DIR": str(tmp_path / "work"), "ALLOWED_LOCAL_DIRS": "/"})
    result = _render(doc, settings, tmp_path / "out.mp4")
    assert result.smart == {"applied": False, "reason": "only 0% of the frames could be copied"}
    assert len(packets(result.video)) == 120


def test_a_composition_copied_whole_encodes_no_video(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    """Nothing drawn, cut on the grid: every frame is the source's, only the mix is encoded."""
    doc = {"clips": [{"url": f"file://{clips['c']}", "trim_end": 4}],
           "output": {"resolution": "720p", "preset": PRESET}}  # fmt: skip
    settings = Settings.from_env({"TMP_DIR": str(tmp_path / "work"), "ALLOWED_LOCAL_DIRS": "/"})
    result = _render(doc, settings, tmp_path / "out.mp4")
    assert result.smart["applied"] is True and result.smart["encoded_frames"] == 0
    assert frame_md5s(result.video, 0, 120) == frame_md5s(clips["c"], 0, 120)
    assert len(packets(result.video)) == 120 and result.thumbnail.stat().st_size > 0
    assert stream(probe(result.video), "audio")["codec_name"] == "aac"  # silence, muxed


def test_the_thumbnail_inside_a_copied_span_is_the_one_pass_thumbnail(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    """The windows pass leaves copied frames undecoded (graph/holes.py) but for the thumbnail's,
    decoded from mid-GOP: it must be the very frame the one pass shows."""
    settings = Settings.from_env({"TMP_DIR": str(tmp_path / "work"), "ALLOWED_LOCAL_DIRS": "/"})
    thumbs = []
    for smart in (True, False):
        doc = {"clips": [{"url": f"file://{clips['a']}", "trim_end": 4}],
               "output": {"resolution": "720p", "preset": PRESET, "thumbnail_time": 2.5,
                          "smart_render": smart}}  # fmt: skip
        result = _render(doc, settings, tmp_path / f"{smart}.mp4")
        assert result.smart["applied"] is smart
        thumbs.append(result.thumbnail.read_bytes())
    assert thumbs[0] == thumbs[1]


SLOW_FFMPEG = FAKE_FFMPEG.with_name("slow_ffmpeg.py")


def _slow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[Settings, Path]:
    """Settings whose FFmpeg sleeps 3 s (reporting progress) before it renders; its pid file.
    The parameter-set encode is made afresh, so the runs are: that encode, then the windows."""
    from vidsvc.work.compositions import smart

    monkeypatch.setattr(smart, "_PARAM_SETS", {})
    pids = tmp_path / "pids"
    monkeypatch.setenv("SLOW_FFMPEG_PLAN", "sleep=3")
    monkeypatch.setenv("SLOW_FFMPEG_PIDFILE", str(pids))
    settings = Settings.from_env(
        {"TMP_DIR": str(tmp_path / "work"), "ALLOWED_LOCAL_DIRS": "/",
         "FFMPEG_BIN": str(SLOW_FFMPEG), **env}
    )  # fmt: skip
    return settings, pids


def _runs(pids: Path) -> list[int]:
    text = pids.read_text() if pids.exists() else ""
    return [int(line) for line in text.split() if line.isdigit()]


def test_a_timeout_on_the_smart_path_fails_the_render_without_a_second_pass(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """JOB_TIMEOUT ends a smart render as it ends one pass: the job fails naming the timeout,
    and no one-pass fall-back runs after it (it would only time out again)."""
    settings, pids = _slow(tmp_path, monkeypatch, JOB_TIMEOUT="1")
    with pytest.raises(ProcessingFailed) as caught:
        _render(seams(clips), settings, tmp_path / "out.mp4")
    assert caught.value.details["timeout"] == 1.0
    assert len(_runs(pids)) == 2  # the parameter-set encode and the windows pass, no more
    assert not (tmp_path / "out.mp4").exists()


def test_a_cancel_on_the_smart_path_stops_its_ffmpeg(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, pids = _slow(tmp_path, monkeypatch)

    async def cancel_during_the_windows_pass() -> None:
        comp = parse_composition(seams(clips))
        out = tmp_path / "out.mp4"
        task = asyncio.create_task(
            render(comp, settings, video_out=out, thumbnail_out=out.with_suffix(".jpg"))
        )
        async with asyncio.timeout(60):
            while len(_runs(pids)) < 2:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_during_the_windows_pass())
    windows = _runs(pids)[1]
    with pytest.raises(ProcessLookupError):
        os.kill(windows, 0)
    assert len(_runs(pids)) == 2 and not (tmp_path / "out.mp4").exists()
    assert not any((tmp_path / "work").iterdir())  # the workspace is gone


@pytest.mark.parametrize("part_clips", ["8", "1"])
async def test_a_split_smart_render_encodes_only_its_spans_and_copies_the_rest(
    clips: dict[str, Path], renders: dict[str, RenderResult], tmp_path: Path, part_clips: str
) -> None:
    """Issue 27's split with smart rendering, on one machine: the parts are cut by the frames
    left to encode (6.5 s of the 14.5), each part encodes only its encode spans (the span
    [180, 285) is cut by the seam at 240: its second half starts part 2's file on an IDR),
    and the join copies the sources' GOPs as the smart render does: the same frames. With
    RENDER_PART_CLIPS 8 a part leaves its copied frames undecoded (holes in its range); at 1,
    a part of more clips makes its pictures by parts, decoding every frame, and picks."""
    env = {"TMP_DIR": str(tmp_path / "tmp"), "ALLOWED_LOCAL_DIRS": "/",
           "RENDER_PART_CLIPS": part_clips}  # fmt: skip
    settings = Settings.from_env(env)
    work = tmp_path / "split"
    work.mkdir()
    asks = Sizing(chunk_ms=2_000, max_parts=3, min_part_ms=2_000)
    job = await prepare_split(parse_composition(seams(clips)), settings, work, asks)
    split = job.split
    # three parts of 60-75 frames to encode; the first seam on the cut where c begins
    assert [(p.first, p.end) for p in split.parts] == [(0, 120), (120, 240), (240, 435)]
    assert [split.encoded(p) for p in split.parts] == [60, 60, 75]
    names = {f"file://{p}": k for k, p in clips.items()}
    copies = [(c.start, c.frames, (names[c.source or ""], c.source_start)) for c in split.copies]
    assert copies == [c for c in PLANNED if c[2] is not None]
    # part 0 holds one clip, the others two or three: at 1 those are made by parts, decoding
    # every frame; else each part's copied frames are holes (black sources)
    by_parts = [bool(c.feeds) for c in job.video]
    holed = ["color=" in " ".join(c.argv) + "".join(c.files.values()) for c in job.video]
    few = part_clips == "8"
    assert by_parts == [False, not few, not few] and holed == [True, few, few]
    await run_split(job, settings, work)
    for part in split.parts:
        assert len(packets(work / PART_OUT.format(index=part.index))) == split.encoded(part)
    out = work / job.encoding.video_out
    assert len(packets(out)) == TOTAL
    for start, frames, copied in PLANNED:
        if copied is not None:
            clip, first = copied
            assert frame_md5s(out, start, frames) == frame_md5s(clips[clip], first, frames)
    psnr = _psnr_per_frame(out, renders["one_pass"].video)
    assert len(psnr) == TOTAL and min(psnr) >= 40.0, min(psnr)
    assert splice.AUDIO_OUT in {f.name for f in work.iterdir()}
    # the thumbnail (2.5 s, inside the copy a[60, 120)) is drawn by part 0 from its one-frame
    # run between holes: the one pass's picture
    assert job.thumbnail == 0
    shown = compare.frames(work / thumb_file(0), [0])[0]
    assert compare.psnr(shown, compare.frames(renders["one_pass"].thumbnail, [0])[0]) >= 40
    done = subprocess.run(["ffmpeg", "-v", "warning", "-i", str(out), "-f", "null", "-"],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0 and done.stderr == ""
