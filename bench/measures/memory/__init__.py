"""How much memory do the server and its renders take, and does it grow?

Three parts, each its own module:
- service: the server's VmRSS idle after warm-up and after 50 and 100 small jobs (does it
  grow with jobs?);
- one_pass: one render's FFmpeg pass against the hand-written command, by FFmpeg's own
  -benchmark (peak memory, and the encode's share of CPU against decode+filter);
- clip_count: a render's peak memory and wall time against its clip count, before segments
  (an old commit, in a git worktree), in one FFmpeg, and by parts.
The first two go to results.md, the clip count to clips.md.
"""

from __future__ import annotations

from bench.harness.measure import Context, Measure, Options, Section
from bench.measures.memory import clip_count, one_pass, service

QUESTION = "how much memory do the server and its renders take, and does it grow?"


def run(ctx: Context, opts: Options) -> list[Section]:
    server_lines, server_missed = service.measure(ctx, opts)
    pass_lines, pass_missed = one_pass.measure(ctx, opts)
    clip_lines = clip_count.measure(ctx, opts)
    return [
        Section("memory", QUESTION, [*server_lines, "", *pass_lines],
                missed=(*server_missed, *pass_missed)),
        Section("memory", "render memory against the clip count", clip_lines, file="clips.md"),
    ]  # fmt: skip


MEASURE = Measure(
    name="memory",
    question=QUESTION,
    takes="about 12 minutes (100 small jobs: 1 minute; one pass three ways: 1.5 minutes; "
    "clip counts: 9 minutes)",
    quick_note="10 small jobs, one pass at ultrafast, 5 clips at 720p only: about 1 minute "
    "(the first run also checks out the old commit's worktree)",
    run=run,
    defaults={
        "jobs": 100,
        "server_jobs": 5,
        "preset": "medium",
        "clip_counts": clip_count.COUNTS,
        "clip_sizes": clip_count.SIZES,
    },
    quick={"jobs": 10, "preset": "ultrafast", "clip_counts": (5,), "clip_sizes": ("720p",)},
)
