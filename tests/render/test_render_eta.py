"""A real render reports (eta_seconds, speed) from FFmpeg's -progress while it encodes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.render_doc import Render

pytestmark = pytest.mark.ffmpeg


async def test_rate_comes_from_ffmpeg_speed_and_ends_at_zero(
    render_doc: Render, media: dict[str, Path]
) -> None:
    events: list[tuple[str, float | None, float | None]] = []
    result = await render_doc(
        {"clips": [{"url": media["a"]}]},
        on_progress=lambda p: events.append((p.stage, p.eta_seconds, p.speed)),
    )
    rates = [(eta, speed) for stage, eta, speed in events if stage == "encoding" and speed]
    assert rates, "no -progress block reached the reporter"
    eta, speed = rates[-1]  # the `progress=end` block: the whole output is encoded
    assert speed is not None and speed > 0
    assert eta == 0.0
    known = [e for e, s in rates if e is not None]
    assert all(e >= 0 for e in known)
    # a rate describes the encode: no other stage carries one
    assert all(
        eta is None and speed is None for stage, eta, speed in events if stage != "encoding"
    )
    assert result.ffmpeg.last is not None and result.ffmpeg.last.done
