"""Image and video overlays: placed, sized, faded and timed as asked, checked on pixels."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.media import ffmpeg, frame_at, make_video, rms_db
from tests.support.render_doc import Render
from vidsvc.errors import InvalidTimeline, ValidationError
from vidsvc.schema import parse_composition

pytestmark = pytest.mark.ffmpeg

MARGIN = 9  # 5% of 180, the short side of a 180p output


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("overlays")
    logo, holed = d / "logo.png", d / "holed.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=80x40", "-frames:v", "1", str(logo))
    # the left half fully transparent, the right half opaque red
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=40x20", "-vf",
           "format=rgba,geq=r=255:g=0:b=0:a='if(lt(X,20),0,255)'", "-frames:v", "1",
           str(holed))  # fmt: skip
    return {
        "logo": logo,
        "holed": holed,
        "blue": make_video(
            d / "blue.mp4", size="320x180", source="color=c=blue", seconds=2, tone=None
        ),
        "face": make_video(
            d / "face.mp4", size="320x180", source="color=c=red", seconds=3, tone=880
        ),
    }


def _base(files: dict[str, Path], *overlays: dict[str, object]) -> dict[str, object]:
    return {"clips": [{"url": files["blue"]}], "overlays": list(overlays)}


async def test_a_logo_lands_at_the_asked_corner_size_and_opacity(
    render_doc: Render, files: dict[str, Path]
) -> None:
    logo = {"type": "image", "url": files["logo"], "position": {"x": "right", "y": "top"},
            "width": 40, "opacity": 0.5}  # fmt: skip
    frame = frame_at((await render_doc(_base(files, logo))).video, 1.0)
    x0, y0 = 320 - MARGIN - 40, MARGIN  # 40x20: the aspect kept
    r, g, b = frame.mean((x0 + 4, y0 + 4, x0 + 36, y0 + 16))
    assert 90 < r < 170 and 90 < b < 170 and g < 40  # half red over blue
    for outside in ((x0 - 12, y0 + 4, x0 - 4, y0 + 16), (x0 + 4, y0 + 24, x0 + 36, y0 + 30)):
        r, _, b = frame.mean(outside)
        assert r < 40 and b > 200  # only the logo's box changed
    assert frame.mean((0, 0, 100, 100))[2] > 200  # the rest of the frame untouched


async def test_png_transparency_is_kept_and_pixels_position_the_image(
    render_doc: Render, files: dict[str, Path]
) -> None:
    image = {"type": "image", "url": files["holed"], "position": {"x": 100, "y": 60}}
    frame = frame_at((await render_doc(_base(files, image))).video, 1.0)
    r, _, b = frame.mean((104, 64, 116, 76))  # the transparent half
    assert r < 40 and b > 200
    r, _, b = frame.mean((124, 64, 136, 76))  # the opaque half
    assert r > 200 and b < 60


async def test_picture_in_picture_appears_only_where_and_when_placed(
    render_doc: Render, files: dict[str, Path]
) -> None:
    face = {"type": "video", "url": files["face"], "position": {"x": "left", "y": "bottom"},
            "width": 80, "start_time": 0.5, "duration": 0.6, "trim_start": 1}  # fmt: skip
    result = await render_doc(_base(files, face))
    h = 80 * 180 // 320  # 45: the aspect kept
    box = (MARGIN + 4, 180 - MARGIN - h + 4, MARGIN + 76, 180 - MARGIN - 4)
    assert frame_at(result.video, 0.2).mean(box)[2] > 200  # not yet
    during = frame_at(result.video, 0.8)
    assert during.mean(box)[0] > 200
    assert during.mean((MARGIN + 90, 100, 300, 170))[2] > 200  # only in its box
    assert frame_at(result.video, 1.5).mean(box)[2] > 200  # gone after its duration
    assert rms_db(result.video, 0.0, 2.0) == -float("inf")  # volume 0 by default


async def test_a_video_overlay_with_volume_is_heard_in_its_window_only(
    render_doc: Render, files: dict[str, Path]
) -> None:
    face = {"type": "video", "url": files["face"], "width": 80, "start_time": 1,
            "volume": 1.0}  # fmt: skip
    result = await render_doc(_base(files, face))
    assert result.duration_ms == 2000
    assert rms_db(result.video, 0.1, 0.8) < -60
    assert rms_db(result.video, 1.1, 0.8) > -35


async def test_fades_ramp_the_overlay(render_doc: Render, files: dict[str, Path]) -> None:
    logo = {"type": "image", "url": files["logo"], "position": {"x": 0, "y": 0},
            "fade_in": 1.0, "fade_out": 0.5}  # fmt: skip
    result = await render_doc(_base(files, logo))
    box = (10, 10, 70, 30)
    early, mid = frame_at(result.video, 0.3).mean(box), frame_at(result.video, 1.2).mean(box)
    late = frame_at(result.video, 1.9).mean(box)
    assert early[0] < mid[0] and late[0] < mid[0] and mid[0] > 200


def test_overlay_fields_are_checked() -> None:
    clip = {"url": "file:///x.mp4", "duration": 2}

    def bad(overlay: dict[str, object]) -> str:
        with pytest.raises(ValidationError) as err:
            parse_composition({"clips": [clip], "overlays": [overlay]})
        return str(err.value.details["field"])

    assert bad({"type": "sticker", "url": "file:///a.png"}) == "overlays[0].type"
    assert bad({"type": "image"}) == "overlays[0].url"
    assert bad({"type": "image", "url": "file:///a.png", "opacity": 2}) == "overlays[0].opacity"
    two = {"type": "image", "url": "file:///a.png", "width": 10, "height": 10}
    assert bad(two) == "overlays[0].height"
    comp = parse_composition(
        {"clips": [clip], "overlays": [{"type": "text", "content": "hi"},
                                       {"type": "image", "url": "file:///a.png"}]}
    )  # fmt: skip
    assert len(comp.texts) == 1 and comp.place_of(comp.pictures[0]) == 1
    assert [i.url for i in comp.inputs()] == ["file:///x.mp4", "file:///a.png"]


async def test_an_overlay_past_the_end_names_its_field(
    render_doc: Render, files: dict[str, Path]
) -> None:
    late = {"type": "image", "url": files["logo"], "start_time": 5}
    with pytest.raises(InvalidTimeline) as err:
        await render_doc(_base(files, late))
    assert err.value.details["field"] == "overlays[0].start_time"


def test_text_overlay_errors_name_their_place_among_all_overlays() -> None:
    from vidsvc import graph

    comp = parse_composition(
        {
            "clips": [{"url": "file:///x.mp4", "duration": 2}],
            "overlays": [
                {"type": "image", "url": "file:///a.png"},
                {"type": "text", "content": "ok"},
                {"type": "video", "url": "file:///b.mp4"},
                {"type": "text", "content": "late", "start_time": 9},
            ],
        }
    )
    with pytest.raises(InvalidTimeline) as err:
        graph.check(comp, graph.Limits())
    assert err.value.details["field"].startswith("overlays[3]")
    with pytest.raises(InvalidTimeline) as err:
        graph.check(comp, graph.Limits(max_overlays=3))
    assert err.value.details["field"] == "overlays"


async def test_a_vp9_overlay_keeps_its_alpha(render_doc: Render, files: dict[str, Path]) -> None:
    """The native VP9 decoder would draw the transparent half black; libvpx-vp9 keeps it."""
    webm = files["blue"].with_name("alpha.webm")
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=80x40:d=2:r=10,format=rgba,"
           "geq=r=255:g=0:b=0:a='if(lt(X,40),0,255)'", "-c:v", "libvpx-vp9",
           "-pix_fmt", "yuva420p", "-b:v", "200k", str(webm))  # fmt: skip
    pip = {"type": "video", "url": webm, "position": {"x": 100, "y": 60}}
    frame = frame_at((await render_doc(_base(files, pip))).video, 1.0)
    r, _, b = frame.mean((104, 64, 132, 96))  # the transparent half: the blue clip
    assert r < 40 and b > 200
    r, _, b = frame.mean((146, 64, 176, 96))  # the opaque half
    assert r > 200 and b < 60


async def test_an_overlay_without_a_picture_is_refused_naming_it(
    render_doc: Render, files: dict[str, Path], media: dict[str, Path]
) -> None:
    from vidsvc.errors import InvalidClipFormat

    sound = {"type": "video", "url": media["music"], "volume": 1}
    with pytest.raises(InvalidClipFormat) as err:
        await render_doc(_base(files, {"type": "text", "content": "hi"}, sound))
    assert err.value.details["field"] == "overlays[1].url"
