"""vidsvc's own `normalize` clip operation on a file, outside the job machinery: the render-ready
clips the smart-rendering and render-ready tests start from."""

from __future__ import annotations

from pathlib import Path

from vidsvc import cliptask, graph
from vidsvc.config import Settings
from vidsvc.graph import clip_ops
from vidsvc.media.ffmpeg import run_ffmpeg
from vidsvc.media.probe import probe as probe_input


async def normalize(clip: Path, settings: Settings, work: Path, *, crf: int = 23) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    (work / "in0.mp4").symlink_to(clip)
    info = await probe_input(work / "in0.mp4", settings, field="clip")
    source = graph.Source(
        name="in0.mp4", duration_ms=info.duration_ms, has_video=True, has_audio=info.has_audio
    )
    # not ultrafast: without CABAC and 8x8dct x264 writes Constrained Baseline, not High
    enc = graph.Encoding(duration_ms=info.duration_ms, preset="veryfast", crf=crf)
    task = cliptask.ClipTask(processing_id="p", clips=("x",), operations=("normalize",))
    command = clip_ops.compile_clip(clip_ops.build_clip(task, source), enc)
    await run_ffmpeg(command.argv, settings=settings, cwd=work)
    return work / command.files["normalized"]
