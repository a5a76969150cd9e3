"""What a composition's graph is told: its encoding, the probed facts of its inputs, and the
characters of its texts no installed font has (for the job's metadata)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vidsvc import graph, spec
from vidsvc.config import Settings
from vidsvc.graph.window import rendered_ms
from vidsvc.media import gpu
from vidsvc.media.coverage import missing_glyphs
from vidsvc.media.probe import MediaInfo


def encoding(
    comp: spec.Composition, settings: Settings, duration_ms: int, threads: int
) -> graph.Encoding:
    out = comp.output
    return graph.Encoding(
        duration_ms=rendered_ms(out, duration_ms),  # a range: its own length
        crf=out.crf if out.crf is not None else settings.default_crf,
        preset=out.preset or settings.x264_preset,
        threads=threads,
        encoder=gpu.encoder(settings) if out.format == "mp4" else gpu.X264,  # NVENC: H.264
        max_pixels=settings.max_input_pixels,
        video_out=f"out.{out.format}",
        format=out.format,
        loop=out.loop,
    )


def graph_sources(
    staged: Mapping[str, Path], infos: Mapping[str, MediaInfo]
) -> dict[str, graph.Source]:
    """What the pure graph knows of each input: its staged name and the probed facts."""
    return {
        url: graph.Source(
            name=staged[url].name,
            duration_ms=info.duration_ms,
            has_video=info.has_video,
            has_audio=info.has_audio,
            still=info.still,
            demuxer=info.format_name if info.still else None,
            decoder=info.decoder,
        )
        for url, info in infos.items()
    }


async def text_facts(comp: spec.Composition) -> dict[str, Any]:
    """`missing_glyphs`: characters of the texts that no installed font has (drawn as nothing
    recognisable, so the client is told instead)."""
    texts = [o.text for o in comp.texts]
    if comp.captions is not None:
        texts += [c.text for c in (*comp.captions.cues, *comp.captions.words)]
    for clip in comp.clips:  # captions from narration
        texts += [clip.voiceover_text or "", *(w.text for w in clip.voiceover_words)]
    texts = [t for t in texts if t]
    if not texts:
        return {}
    found = await missing_glyphs(texts)
    return {"missing_glyphs": found} if found else {}


def preview(output: spec.Output, total_ms: int) -> dict[str, Any]:
    """What a preview renders (docs/composition.md#previews), for the plan and the metadata:
    nothing for a full render."""
    found: dict[str, Any] = {}
    if output.draft:
        found["draft"] = True
    if output.range is not None:
        start = output.range.start_ms
        found["range"] = {
            "start": round(start / 1000, 3),
            "duration": round(rendered_ms(output, total_ms) / 1000, 3),
        }
    return found
