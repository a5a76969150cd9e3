"""Output shapes and fit modes (SPEC.md §3.1), checked on real renders where pixels matter."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.media import frame_at, make_video, probe, stream
from tests.support.render_doc import Render
from vidsvc import spec
from vidsvc.config import Settings
from vidsvc.errors import ValidationError
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.checks import check

CLIP = {"url": "file:///x/a.mp4"}


def shape(**output: object) -> tuple[int, int]:
    return parse_composition({"clips": [CLIP], "output": output}).output.size


def test_resolution_names_the_short_side_of_every_shape() -> None:
    assert shape() == (1280, 720)
    assert shape(resolution="720p", aspect_ratio="9:16") == (720, 1280)
    assert shape(resolution="1080p", aspect_ratio="9:16") == (1080, 1920)
    assert shape(resolution="720p", aspect_ratio="1:1") == (720, 720)
    assert shape(resolution="1080p", aspect_ratio="4:5") == (1080, 1350)
    assert shape(resolution="720p", aspect_ratio="4:3") == (960, 720)
    assert shape(resolution="480p", aspect_ratio="9:16") == (480, 854)
    assert shape(width=500, height=300) == (500, 300)


@pytest.mark.parametrize(
    ("output", "field"),
    [
        ({"width": 501, "height": 300}, "output.width"),
        ({"width": 500}, "output.height"),
        ({"aspect_ratio": "2:1"}, "output.aspect_ratio"),
        ({"fit": "stretch"}, "output.fit"),
    ],
)
def test_bad_shapes_name_the_field(output: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_composition({"clips": [CLIP], "output": output})
    assert err.value.details["field"] == field


@pytest.mark.parametrize(
    ("output", "field"),
    [
        ({"resolution": "1440p"}, "output.resolution"),
        ({"resolution": "2160p", "aspect_ratio": "9:16"}, "output.resolution"),
        ({"width": 2048, "height": 1080}, "output.width"),
        ({"width": 1080, "height": 2000}, "output.height"),
    ],
)
def test_above_1080p_needs_the_setting(
    output: dict[str, object], field: str, make_settings: Callable[..., Settings]
) -> None:
    comp = parse_composition({"clips": [CLIP], "output": output})
    with pytest.raises(ValidationError) as err:
        check(comp, make_settings())
    assert err.value.details["field"] == field and "ENABLE_4K_OUTPUT" in str(err.value)
    check(comp, make_settings(ENABLE_4K_OUTPUT="true"))  # allowed with it
    check(parse_composition({"clips": [CLIP], "output": {"resolution": "1080p",
                             "aspect_ratio": "9:16"}}), make_settings())  # fmt: skip


@pytest.fixture(scope="module")
def wide_red(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("fit")
    return make_video(d / "wide.mp4", size="320x180", source="color=c=red", seconds=1, tone=None)


def _vertical(fit: str, clip: Path) -> dict[str, object]:
    return {
        "clips": [{"url": clip, "fit": fit}],
        "output": {"resolution": "180p", "aspect_ratio": "9:16", "fps": 10},
    }


@pytest.mark.ffmpeg
async def test_contain_letterboxes_cover_fills_and_blur_leaves_no_black_bars(
    render_doc: Render, wide_red: Path
) -> None:
    contain = await render_doc(_vertical("contain", wide_red))
    video = stream(probe(contain.video), "video")
    assert (video["width"], video["height"]) == (180, 320)
    top, middle = (0, 0, 180, 40), (0, 150, 180, 170)
    framed = frame_at(contain.video, 0.5)
    assert max(framed.mean(top)) < 20  # a black bar above the picture
    assert framed.mean(middle)[0] > 200  # the red picture in the middle

    cover = frame_at((await render_doc(_vertical("cover", wide_red))).video, 0.5)
    for box in (top, middle, (0, 280, 180, 320)):
        r, g, b = cover.mean(box)
        assert r > 200 and g < 40 and b < 40  # red edge to edge

    blurred = frame_at((await render_doc(_vertical("blur", wide_red))).video, 0.5)
    r, g, b = blurred.mean(top)
    assert 120 < r < 235 and g < 40 and b < 40  # the darkened copy, not black, not the picture
    assert blurred.mean(middle)[0] > 200  # the picture itself, at full brightness
    thumb = stream(probe(contain.thumbnail), "video")
    assert (thumb["width"], thumb["height"]) == (180, 320)  # the thumbnail keeps the shape


@pytest.mark.ffmpeg
async def test_output_fit_is_the_default_and_a_clip_may_override_it(
    render_doc: Render, wide_red: Path
) -> None:
    doc = _vertical("contain", wide_red)
    doc["output"] = {**doc["output"], "fit": "cover"}  # type: ignore[dict-item]
    doc["clips"] = [{"url": wide_red}, {"url": wide_red, "fit": "contain"}]
    result = await render_doc(doc)
    assert frame_at(result.video, 0.5).mean((0, 0, 180, 40))[0] > 200  # cover from output
    assert max(frame_at(result.video, 1.5).mean((0, 0, 180, 40))) < 20  # contain from clip


@pytest.mark.ffmpeg
async def test_2160p_renders_with_the_setting(
    make_settings: Callable[..., Settings],
    wide_red: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 4K render runs with JOB_TIMEOUT and the child limits scaled for its frame (4x)."""
    from vidsvc.work.compositions import passes
    from vidsvc.work.compositions import render as render_module

    real = passes.run_ffmpeg
    pixels: list[int] = []

    async def spy(*args: Any, **kw: Any) -> Any:
        pixels.append(kw["pixels"])
        return await real(*args, **kw)

    monkeypatch.setattr(passes, "run_ffmpeg", spy)
    settings = make_settings(ENABLE_4K_OUTPUT="true")
    comp = parse_composition(
        {
            "clips": [{"url": wide_red.as_uri(), "duration": 0.5}],
            "output": {"resolution": "2160p", "fps": 2},
        }
    )
    out = tmp_path / "4k.mp4"
    result = await render_module.render(
        comp, settings, video_out=out, thumbnail_out=tmp_path / "4k.jpg"
    )
    video = stream(probe(result.video), "video")
    assert (video["width"], video["height"]) == (3840, 2160)
    assert pixels == [3840 * 2160]
    assert spec.Output(resolution="2160p").shape_key == "3840x2160"


def test_every_shape_and_fit_compiles_to_its_size() -> None:
    """N6: each aspect_ratio x fit x resolution compiles (motion and a logo included), and the
    graph's frame size is the output's (read off the gap and pad filters)."""
    from vidsvc.graph import Encoding, Source, build, compile_command, plan
    from vidsvc.graph.timeline import Limits

    sources = {
        "file:///v.mp4": Source(name="in0.mp4", duration_ms=2000, has_video=True, has_audio=True),
        "file:///s.png": Source(name="in1.bin", duration_ms=0, has_video=True, has_audio=False,
                                still=True, demuxer="png_pipe"),
    }  # fmt: skip
    for ratio in spec.ASPECT_RATIOS:
        for fit in spec.FITS:
            for resolution in spec.RESOLUTIONS:
                comp = parse_composition({
                    "clips": [{"url": "file:///v.mp4", "fit": fit, "motion": "zoom_in"},
                              {"url": "file:///s.png", "start_time": 2.5, "duration": 1}],
                    "overlays": [{"type": "image", "url": "file:///s.png", "width": 64}],
                    "output": {"resolution": resolution, "aspect_ratio": ratio},
                })  # fmt: skip
                w, h = comp.output.size
                assert w % 2 == 0 and h % 2 == 0 and min(w, h) == spec.RESOLUTIONS[resolution][1]
                timeline = plan(comp, {"file:///v.mp4": 2000}, Limits())
                argv = compile_command(
                    build(timeline, comp, sources, {}), Encoding(duration_ms=3500)
                ).argv
                graph = argv[argv.index("-filter_complex") + 1]
                assert f"s={w}x{h}" in graph  # the gap's black frame
                assert f"w={w}:h={h}" in graph  # the clips' fit
