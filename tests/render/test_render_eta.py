"""A real render reports (eta_seconds, speed) from FFmpeg's -progress while it encodes."""

from __future__ import annotations

from pathlib import Path

from tests.support.render_doc import Render


async def test_rate_comes_from_ffmpeg_speed_and_ends_at_zero(
    render_doc: Render, media: dict[str, Path]
) -> None:
    events: list[tuple[str, float | None, float | None]] = []
    result = await render_doc(
        {"clips": [{"url": media["a"]}]},
        on_stage=lambda stage, pct, msg: events.append((stage, None, None)),
        on_rate=lambda eta, speed: events.append(("rate", eta, speed)),
    )
    rates = [(eta, speed) for kind, eta, speed in events if kind == "rate"]
    assert rates, "no -progress block reached on_rate"
    eta, speed = rates[-1]  # the `progress=end` block: the whole output is encoded
    assert speed is not None and speed > 0
    assert eta == 0.0
    known = [e for e, s in rates if e is not None]
    assert all(e >= 0 for e in known)
    # each rate is reported just before the encoding progress it belongs to
    kinds = [kind for kind, _, _ in events]
    for i, kind in enumerate(kinds):
        if kind == "rate":
            assert kinds[i + 1] == "encoding"
    assert result.ffmpeg.last is not None and result.ffmpeg.last.done
