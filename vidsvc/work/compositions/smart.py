"""Smart rendering: copy what render-ready clips already hold, encode only the rest.

decide() (while preparing, before the render cache looks): is the output the render-ready
shape, which clips are render-ready (media/spliceable.py), what the planner (graph/splice_plan.py)
can copy, and whether the copied share pays for the join. The last check is the one that
counts: a one-frame encode with the composition's own settings must give parameter sets
byte-identical to every copied source's (the joiner keeps the first file's), else that source
is encoded like any other clip.

join() (after the windows command ran): strip the copied sources to their video, read every
piece's packets, write the concat script, join, and check the result has exactly the planned
frames with strictly increasing timestamps. SpliceFailed on any surprise; the caller then
renders in one pass (as on any other failure of the smart path but a timeout), so a bad
splice costs time, never a wrong video.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidsvc import graph, spec
from vidsvc.cliptask import RENDER_READY
from vidsvc.config import Settings
from vidsvc.errors import ProcessingFailed, ValidationError
from vidsvc.graph import splice, splice_plan
from vidsvc.graph.compile import global_args, video_codec
from vidsvc.graph.memory import Estimate
from vidsvc.graph.render_ready import video_args
from vidsvc.graph.text import ASS_FILE
from vidsvc.media import gpu
from vidsvc.media.ffmpeg import FFmpegRun, run_ffmpeg
from vidsvc.media.probe import MediaInfo
from vidsvc.media.spliceable import VideoPackets, read_packets
from vidsvc.work.compositions import memory

PROBE_OUT = "paramsets.mp4"


class SpliceFailed(ProcessingFailed):
    """The join did not come out exactly as planned (the caller falls back to one pass)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    plan: splice_plan.Plan | None  #: None: one pass
    reason: str  #: why (for the job's metadata)

    @property
    def stripped(self) -> dict[str, str]:
        """Each copied source's URL → the name of its video-only copy in the workspace."""
        copied = sorted({p.source for p in self.plan.pieces if p.source} if self.plan else ())
        return {u: f"copy{i}.mp4" for i, u in enumerate(copied)}

    def summary(self) -> dict[str, Any]:
        if self.plan is None:
            return {"applied": False, "reason": self.reason}
        return {"applied": True, "reason": self.reason, **self.plan.summary()}


def one_pass(reason: str = "not planned") -> Decision:
    return Decision(plan=None, reason=reason)


def shape_reason(comp: spec.Composition, enc: graph.Encoding) -> str | None:
    """Why the output's shape rules smart rendering out (None: it may apply)."""
    if not comp.output.smart_render:
        return "output.smart_render is false"
    if comp.output.range is not None:
        return "a range render (output.range) is one short pass"
    if comp.output.format != "mp4":
        return f"a {comp.output.format} output: render-ready clips hold H.264 for an MP4"
    if comp.output.renditions:
        # a render-ready clip is one shape's frames; the others would be encoded anyway, and
        # a split graph that skips decoding copied GOPs for one shape must decode them for
        # the rest: the saving is gone while the join's cost stays
        return "renditions are one pass (every shape from one decode)"
    if enc.encoder != gpu.X264:
        return "NVENC output cannot be spliced with x264's"
    profile = RENDER_READY
    if comp.output.size != (profile.width, profile.height) or comp.output.fps != profile.fps:
        return f"the output is not {profile.width}x{profile.height} at {profile.fps} fps"
    return None


#: (FFmpeg binary, argv) → the avcC hash it writes: x264 is deterministic, and the few keys
#: (preset, CRF, threads) repeat on every render, so the one-frame encode runs once per key.
#: Should the binary change under a running service, join() still compares the real pieces.
_PARAM_SETS: dict[tuple[str, ...], str] = {}


async def _param_sets(enc: graph.Encoding, settings: Settings, work: Path) -> str:
    """The SHA-256 of the avcC the composition's encode spans will carry."""
    p = RENDER_READY
    source = f"color=c=black:s={p.width}x{p.height}:r={p.fps}"
    argv = (
        *global_args("error"), "-f", "lavfi", "-i", source,
        "-vf", "setsar=1,format=yuv420p", "-frames:v", "1",
        *video_codec(enc), *video_args(), "-pix_fmt", "yuv420p", PROBE_OUT,
    )  # fmt: skip
    key = (settings.ffmpeg_bin, *argv)
    if key not in _PARAM_SETS:
        await run_ffmpeg(argv, settings=settings, cwd=work, timeout=settings.probe_timeout)
        packets = await read_packets(work / PROBE_OUT, settings)
        (work / PROBE_OUT).unlink(missing_ok=True)
        _PARAM_SETS[key] = packets.extradata_sha256
    return _PARAM_SETS[key]


async def decide(
    comp: spec.Composition,
    settings: Settings,
    work: Path,
    infos: Mapping[str, MediaInfo],
    built: graph.Graph,
    timeline: graph.Timeline,
    sources: Mapping[str, graph.Source],
    enc: graph.Encoding,
) -> Decision:
    """The plan, or None with the reason one pass is used."""
    reason = shape_reason(comp, enc)
    if reason is not None:
        return Decision(plan=None, reason=reason)
    clips = {s.source for s in timeline.clips}
    ready = {u: i.readiness for u in clips if (i := infos[u]).readiness is not None}
    if not ready:
        return Decision(plan=None, reason="no clip is render-ready")
    own = await _param_sets(enc, settings, work)
    ready = {u: r for u, r in ready.items() if r.extradata_sha256 == own}
    if not ready:
        return Decision(plan=None, reason="no render-ready clip shares the output's encoding")
    facts = {
        u: splice_plan.Ready(frames=r.frames, gop=r.keyframe_interval) for u, r in ready.items()
    }
    plan = splice_plan.plan(timeline, comp, sources, facts, built.files.get(ASS_FILE))
    if not splice_plan.worth_it(plan):
        share = plan.copied_frames / max(plan.total_frames, 1)
        return Decision(plan=None, reason=f"only {share:.0%} of the frames could be copied")
    return Decision(plan=plan, reason="render-ready clips")


def _as_graph(p: VideoPackets) -> splice.Packets:
    return splice.Packets(pts=p.pts, dts=p.dts, time_base=p.time_base)


def _check_output(packets: VideoPackets, plan: splice_plan.Plan) -> None:
    if len(packets.dts) != plan.total_frames:
        raise SpliceFailed(f"the join has {len(packets.dts)} frames, {plan.total_frames} planned")
    if any(b <= a for a, b in zip(packets.dts, packets.dts[1:], strict=False)):
        raise SpliceFailed("the join's timestamps are not strictly increasing")


async def join(
    decision: Decision,
    staged: Mapping[str, Path],
    enc: graph.Encoding,
    settings: Settings,
    work: Path,
) -> list[FFmpegRun]:
    """Windows and audio are in `work`; write `enc.video_out` from them and the copies."""
    plan = decision.plan
    if plan is None:
        raise ValueError("join() needs a plan")
    runs: list[FFmpegRun] = []
    pairs = [(staged[u].name, name) for u, name in decision.stripped.items()]
    if pairs:
        runs.append(await run_ffmpeg(splice.strip_command(pairs), settings=settings, cwd=work))
    files = [*([splice.WINDOWS_OUT] if plan.windows else []), *decision.stripped.values()]
    read = await asyncio.gather(*(read_packets(work / f, settings) for f in files))
    packets = dict(zip(files, read, strict=True))
    if len({p.extradata_sha256 for p in read}) != 1:
        raise SpliceFailed("the pieces' parameter sets differ")
    encoded = len(packets[splice.WINDOWS_OUT].dts) if plan.windows else 0
    if encoded != plan.encoded_frames:
        raise SpliceFailed(f"{encoded} frames encoded, {plan.encoded_frames} planned")
    document = splice.concat_document(
        plan, decision.stripped, {f: _as_graph(p) for f, p in packets.items()}
    )
    (work / splice.CONCAT_LIST).write_text(document, encoding="utf-8")
    runs.append(await run_ffmpeg(splice.join_command(enc), settings=settings, cwd=work))
    _check_output(await read_packets(work / enc.video_out, settings), plan)
    return runs


def windows(
    decision: Decision,
    holed: graph.Graph,
    built: graph.Graph,
    comp: spec.Composition,
    enc: graph.Encoding,
    needs: Estimate,
    infos: Mapping[str, MediaInfo],
    staged: Mapping[str, Path],
    settings: Settings,
) -> tuple[Decision, graph.Command, Estimate]:
    """A smart render's windows pass: one FFmpeg holding every clip's runs open (never by
    parts), so its own estimate; one pass instead when it cannot fit."""
    plan = decision.plan
    assert plan is not None, "a windows pass needs a plan"
    try:
        windows_enc, windows = memory.plan(holed, comp, enc, infos, staged, settings)
    except ValidationError as exc:
        decision = one_pass(f"the windows pass would not fit: {exc.message}")
        return decision, graph.compile_command(built, enc), needs
    command = splice.windows_command(holed, windows_enc, plan)
    return decision, command, max(needs, windows, key=lambda e: e.rss_mb)
