"""Does a smart render's encoding spread over N instances, its copied GOPs joined as ever?

The instances measure's pair (instances.py: real `vidsvc serve` processes on one PostgreSQL,
one Redis and one blob directory, each pinned to one core, MAX_CONCURRENT_JOBS=1), on a
composition of render-ready clips (smart.py's: 20 s clips 1280x720 at 30 fps made render-ready
by vidsvc's own normalize, cuts and 0.5 s crossfades alternating, a title over a share of
each clip):

- **1 instance, 1 core**: the only live instance: one smart render (a windows pass that
  encodes the spans smart rendering cannot copy, then the join that copies the rest);
- **2 instances, 1 core each**: the same composition split: its encode spans are the parts
  (graph/split_pieces.py), the join copies the GOPs from the sources.

Wall, CPU and the split's history as instances.py reports them, and the plan (seconds copied
and encoded) from the composition's metadata.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

from bench import seams
from bench.harness.measure import Context, Measure, Options, Section
from bench.harness.report import met
from bench.measures import instances, smart, split
from sample_specs.media import ensure, video_asset

ONE, TWO = instances.ONE, instances.TWO


def ready_clips(ctx: Context, count: int) -> list[Path]:
    """smart.py's render-ready clips (cached where that measure keeps them)."""
    out = ctx.out / "smart"
    made = smart.recipes(smart.CLIP_SECONDS)[:count]
    ensure([video_asset(r) for r in made], out / "media")
    config = seams.settings({"TMP_DIR": str(out / "tmp"), "ALLOWED_LOCAL_DIRS": str(out)})
    return [
        asyncio.run(seams.normalize(out / "media" / r.name, out / "ready" / f"ready{i}.mp4",
                                    config))
        for i, r in enumerate(made)
    ]  # fmt: skip


def report(
    got: dict[str, list[instances.Run]], opts: Options, seconds: float
) -> tuple[list[str], tuple[str, ...]]:
    one, two = instances.med(got[ONE]), instances.med(got[TWO])
    speedup = one / two
    notes = [r.split for r in got[TWO]]
    if not all(notes):
        raise RuntimeError(
            f"{TWO} did not split: {[r.meta.get('smart_render') for r in got[TWO]]}"
        )
    plans = [r.meta.get("smart_render") or {} for r in got[TWO]]
    singles = [r.meta.get("smart_render") or {} for r in got[ONE]]
    tail = statistics.median(n["prepare_seconds"] + n["join_seconds"] for n in notes)
    lines = [
        f"- run: `python -m bench instances_smart`, "
        f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', instances.NOW())}",
        f"- composition: {opts.integer('clips')} render-ready clips of "
        f"{smart.CLIP_SECONDS:g} s ({seconds:g} s at 720p30, the default preset), a title over "
        f"{opts.number('text_share'):.0%} of each clip; parts of about "
        f"{opts.integer('chunk_seconds')} s of encoding; {opts.integer('runs')} rounds, paired, "
        "alternating",
        f"- smart rendering on one instance: {_plan(singles[0])}; split: {_plan(plans[0])}, "
        f"{sorted({n['parts'] for n in notes})} parts on "
        f"{sorted({n.get('instances_used', 0) for n in notes})} instance(s)",
        "",
        "| what | measured | target | met |",
        "|---|---|---|---|",
        f"| speedup, N = 2: {ONE} / {TWO}, wall, medians | {one:.2f} s / {two:.2f} s = "
        f"**{speedup:.2f}×** | ≥ {split.TARGET_SPEEDUP}× | "
        f"{met(speedup >= split.TARGET_SPEEDUP)} |",
        f"| serial tail of the split: the parent's prepare until it hands off + the join "
        f"(download, staging the copied sources, concat, upload), of its wall | {tail:.2f} s = "
        f"**{tail / two:.1%}** | – | – |",
        f"| CPU: {TWO} / {ONE} | {instances.med(got[TWO], 'cpu'):.1f} s / "
        f"{instances.med(got[ONE], 'cpu'):.1f} s = "
        f"{instances.med(got[TWO], 'cpu') / instances.med(got[ONE], 'cpu'):.3f} | – | – |",
        "",
        *instances.contenders(got),
        "",
        "Each item of the split: seconds on its instance, of them its FFmpeg's, frames encoded "
        "(the instance):",
        "",
        *instances.parts_table(notes, _cell),
        "",
    ]
    missed = () if speedup >= split.TARGET_SPEEDUP else ("speedup",)
    return lines, missed


def _cell(p: dict[str, Any]) -> str:
    frames = p.get("frames") or "sound"
    return f"{p['seconds']:.2f}, {instances.ffmpeg(p)}, {frames} ({p['instance'][-1]})"


def _plan(plan: dict[str, Any]) -> str:
    if not plan.get("applied"):
        return f"not applied ({plan.get('reason')})"
    return (
        f"{plan['copied_seconds']:.1f} s copied, {plan['encoded_seconds']:.1f} s encoded "
        f"in {plan['encoded_spans']} spans"
    )


def run(ctx: Context, opts: Options) -> list[Section]:
    clips = ready_clips(ctx, opts.integer("clips"))
    work = ctx.out / "instances_smart"
    work.mkdir(parents=True, exist_ok=True)
    doc = smart.composition(clips, smart.CLIP_SECONDS, opts.number("text_share"), True)
    doc["cache"] = False
    seconds = len(clips) * smart.CLIP_SECONDS - 0.5 * (len(clips) // 2)
    got = asyncio.run(instances.rounds(opts, doc, ctx.out / "smart", work, pairs=([ONE, TWO],)))
    instances.keep(work, got)
    lines, missed = report(got, opts, seconds)
    return [Section("instances_smart", MEASURE.question, lines, missed=missed)]


MEASURE = Measure(
    name="instances_smart",
    question="does a smart render's encoding spread over N instances, its copies joined?",
    takes="about 16 minutes (9 render-ready clips made once: 4 minutes; then 2 rounds of a "
    "178 s composition: 1 and 2 one-core instances)",
    quick_note="4 clips (79 s), 1 round: about 4 minutes",
    run=run,
    defaults={"runs": 2, "clips": 9, "chunk_seconds": 30, "text_share": 0.5},
    # four clips (three titled over half of each leave 39.5 s to encode: under two parts)
    quick={"runs": 1, "clips": 4, "chunk_seconds": 20},
)
