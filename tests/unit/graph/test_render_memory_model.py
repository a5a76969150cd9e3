"""graph/memory.py's shapes and media/memory_gate.py's reservations (no FFmpeg)."""

from __future__ import annotations

import asyncio

from tests.support.graph_inputs import FONTS, sources
from vidsvc.graph import Encoding, Limits, build, compile_command, memory, plan
from vidsvc.media.memory_gate import MemoryGate
from vidsvc.schema import parse_composition


def test_the_shape_of_a_built_graph_counts_pictures_sounds_and_crossfades() -> None:
    comp = parse_composition(
        {
            "clips": [
                {"url": "a", "trim_end": 2},
                {"url": "b", "trim_end": 2, "transition_in": "dissolve",
                 "transition_duration": 0.5},
                {"url": "a", "trim_end": 2, "transition_in": "fade", "transition_duration": 0.5},
            ],
            "audio": {"music_url": "m"},
        }
    )  # fmt: skip
    srcs = sources("a", "b", "m")
    built = build(plan(comp, {u: s.duration_ms for u, s in srcs.items()}, Limits()), comp, srcs,
                  FONTS)  # fmt: skip
    pixels = {srcs["a"].name: 640 * 360, srcs["b"].name: 1920 * 1080}
    shape = memory.shape_of(built, (1280, 720), "medium", pixels)
    assert shape.video_inputs == (640 * 360, 1920 * 1080, 640 * 360)
    assert shape.audio_inputs == 4  # three clips' sound demuxers and the music
    assert shape.transitions == 1  # a fade through black is no crossfade
    least = memory.least_shape(comp, "medium")
    assert least.video_inputs == (0, 0, 0) and least.transitions == 1
    assert memory.estimate(least, 2).rss_mb < memory.estimate(shape, 2).rss_mb


def test_the_estimate_grows_with_clips_crossfades_frames_and_threads() -> None:
    def shape(clips: int, crossfades: int, size: tuple[int, int], lean: bool = False) -> int:
        s = memory.Shape(output=size, preset="veryfast", video_inputs=(1920 * 1080,) * clips,
                         audio_inputs=clips, transitions=crossfades, lean=lean)  # fmt: skip
        return memory.estimate(s, 2).rss_mb

    assert shape(5, 0, (1280, 720)) < shape(30, 0, (1280, 720)) < shape(30, 29, (1280, 720))
    assert shape(30, 29, (1280, 720)) < shape(30, 29, (1920, 1080))
    assert shape(30, 29, (1280, 720), lean=True) < shape(30, 29, (1280, 720))
    lean = memory.Shape(output=(1280, 720), preset="veryfast", video_inputs=(2_000_000,) * 60,
                        audio_inputs=60, transitions=59, lean=True)  # fmt: skip
    usual = memory.Shape(**{**{f: getattr(lean, f) for f in lean.__dataclass_fields__},
                            "lean": False})  # fmt: skip
    # threads, not frames, are what the address space grows with
    assert memory.estimate(usual, 2).address_mb > 2 * memory.estimate(lean, 2).address_mb


def test_lean_compiles_one_thread_per_picture_decoder_and_for_the_filter_graph() -> None:
    comp = parse_composition({"clips": [{"url": "a", "trim_end": 1}, {"url": "b", "trim_end": 1}]})
    srcs = sources("a", "b")
    built = build(plan(comp, {"a": 2000, "b": 2000}, Limits()), comp, srcs, FONTS)
    argv = compile_command(built, Encoding(duration_ms=2000, lean=True)).argv
    assert argv[argv.index("-filter_complex_threads") + 1] == "1"
    inputs = [i for i, a in enumerate(argv) if a == "-i"]
    for i in inputs:
        before = argv[inputs[inputs.index(i) - 1] + 1 if inputs.index(i) else 0 : i]
        assert ("-threads" in before) == ("-vn" not in before), before
    usual = compile_command(built, Encoding(duration_ms=2000)).argv
    assert "-filter_complex_threads" not in usual and "-threads" not in usual[: usual.index("-i")]


async def test_the_gate_lets_a_render_wait_until_the_budget_has_room() -> None:
    gate = MemoryGate(budget=1000)
    order: list[str] = []
    first_done = asyncio.Event()

    async def render(name: str, mb: int, hold: asyncio.Event | None) -> None:
        async with gate.reserve(mb):
            order.append(f"{name} starts with {gate.reserved}")
            if hold is not None:
                await hold.wait()
        order.append(f"{name} ends")

    big = asyncio.create_task(render("big", 700, first_done))
    await asyncio.sleep(0)
    second = asyncio.create_task(render("second", 400, None))  # 700 + 400 > 1000: waits
    await asyncio.sleep(0.01)
    assert order == ["big starts with 700"] and gate.reserved == 700
    first_done.set()
    await asyncio.gather(big, second)
    assert order == ["big starts with 700", "big ends", "second starts with 400", "second ends"]
    alone = MemoryGate(budget=100)  # larger than the budget but alone: runs (admission judged it)
    async with alone.reserve(500):
        assert alone.reserved == 500
    assert alone.reserved == 0


def test_a_clip_of_no_frames_joins_as_an_empty_body() -> None:
    """Found by the property test: 0.2 s at 5 fps after a 0.3 s gap rounds to no frame; its
    pad is still consumed (concat takes an empty segment), never a `split` of no outputs."""
    comp = parse_composition(
        {"clips": [{"url": "a", "trim_end": 0.2, "start_time": 0.3}],
         "output": {"resolution": "180p", "fps": 5}}
    )  # fmt: skip
    srcs = sources("a")
    built = build(plan(comp, {"a": 2000}, Limits()), comp, srcs, FONTS)
    assert not [
        f for f in built.filters if f.name in ("split", "asplit") and f.args == (("", "0"),)
    ]
