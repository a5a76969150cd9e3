"""Output formats as argv facts: one Format per output.format, and each one's encoder options."""

from __future__ import annotations

import pytest

from vidsvc import spec
from vidsvc.graph import formats
from vidsvc.graph.compile import Encoding, audio_codec, global_args, video_codec
from vidsvc.graph.formats import FORMATS, GIF, MP4, WEBM, WEBP


def after(argv: list[str] | tuple[str, ...], option: str) -> str:
    """The value that follows `option` (its only occurrence)."""
    assert list(argv).count(option) == 1, option
    return argv[list(argv).index(option) + 1]


def test_there_is_one_format_per_output_format_and_the_animated_ones_match_the_spec() -> None:
    assert tuple(FORMATS) == spec.OUTPUT_FORMATS
    assert tuple(f.name for f in FORMATS.values() if f.animated) == spec.ANIMATED_FORMATS
    assert (formats.ANIMATED_FPS, formats.ANIMATED_WIDTH) == (12, 480)
    for fmt in FORMATS.values():
        assert fmt.has_audio is not fmt.animated
        assert (fmt.audio_codec is None) is not fmt.has_audio
        assert formats.format_of(fmt.name) is fmt
        assert formats.by_extension(fmt.extension) is fmt
        assert fmt.filename == f"out.{fmt.extension}"
    assert formats.by_extension("mov") is None


@pytest.mark.parametrize(
    ("fmt", "extension", "mime"),
    [
        (MP4, "mp4", "video/mp4"),
        (WEBM, "webm", "video/webm"),
        (GIF, "gif", "image/gif"),
        (WEBP, "webp", "image/webp"),
    ],
)
def test_each_format_has_its_file_extension_and_mime_type(
    fmt: formats.Format, extension: str, mime: str
) -> None:
    assert (fmt.extension, fmt.mime_type) == (extension, mime)


def test_mp4_is_exactly_what_compile_encodes_today() -> None:
    for threads in (0, 3):
        enc = Encoding(duration_ms=1000, crf=23, preset="veryfast", threads=threads)
        argv = formats.video_args(MP4, crf=23, preset="veryfast", threads=threads)
        assert argv == [*video_codec(enc), "-pix_fmt", "yuv420p"]
        assert formats.audio_args(MP4, "192k") == audio_codec(enc)
    assert formats.container_args(MP4) == ["-movflags", "+faststart"]
    assert MP4.main_output == "out.mp4"


def test_webm_is_constant_quality_vp9_with_row_threads_and_opus() -> None:
    argv = formats.video_args(WEBM, crf=21, preset="medium", threads=2)
    assert after(argv, "-c:v") == "libvpx-vp9"
    assert after(argv, "-crf") == str(21 + formats.VP9_CRF_OFFSET)
    assert after(argv, "-b:v") == "0"  # otherwise -crf only caps a target bitrate
    assert after(argv, "-row-mt") == "1"
    assert after(argv, "-deadline") == formats.VP9_DEADLINE
    assert after(argv, "-cpu-used") == str(formats.VP9_CPU_USED)
    assert after(argv, "-threads") == "2"
    assert after(argv, "-pix_fmt") == "yuv420p"
    assert after(formats.audio_args(WEBM, "192k"), "-c:a") == "libopus"
    assert after(formats.container_args(WEBM), "-f") == "webm"
    assert after(formats.container_args(WEBM), "-cues_to_front") == "1"


def test_vp9_crf_stays_in_its_range() -> None:
    assert formats.vp9_crf(0) == formats.VP9_CRF_OFFSET
    assert formats.vp9_crf(51) == min(63, 51 + formats.VP9_CRF_OFFSET)


@pytest.mark.parametrize("fmt", [GIF, WEBP])
def test_animated_formats_have_no_sound(fmt: formats.Format) -> None:
    assert formats.audio_args(fmt, "192k") == ["-an"]
    args = formats.output_args(fmt, crf=21, preset="medium", audio_bitrate="192k")
    assert "-c:a" not in args and "-an" in args


def test_webp_is_lossy_animated_webp_and_counts_plays() -> None:
    argv = formats.video_args(WEBP, crf=21, preset="medium", threads=4)
    assert after(argv, "-c:v") == "libwebp_anim"
    assert after(argv, "-lossless") == "0"
    assert "-threads" not in argv  # libwebp_anim has no threads
    assert formats.container_args(WEBP, loop=0) == ["-f", "webp", "-loop", "0"]
    # output.loop counts repeats; WebP's ANIM loop count counts plays
    assert after(formats.container_args(WEBP, loop=2), "-loop") == "3"
    assert after(formats.container_args(WEBP, loop=formats.MAX_LOOP), "-loop") == "65535"


def test_gif_main_render_writes_a_lossless_intermediate() -> None:
    argv = formats.output_args(GIF, crf=21, preset="medium", audio_bitrate="192k", loop=3)
    assert after(argv, "-c:v") == "ffv1"
    assert after(argv, "-f") == "matroska"
    assert "-loop" not in argv  # the loop belongs to the second pass
    assert GIF.two_pass and GIF.main_output == formats.GIF_INTERMEDIATE
    assert not any(f.two_pass for f in (MP4, WEBM, WEBP))


def inputs(argv: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(protocol whitelist, format whitelist, path) of each `-i`."""
    found = []
    for i, arg in enumerate(argv):
        if arg == "-i":
            opts = argv[:i]
            start = len(opts) - 1 - opts[::-1].index("-protocol_whitelist")
            window = argv[start:i]
            found.append((after(window, "-protocol_whitelist"),
                          after(window, "-format_whitelist"), argv[i + 1]))  # fmt: skip
    return found


def test_palette_pass_reads_only_the_intermediate_and_writes_one_png() -> None:
    argv = formats.palette_argv("frames.mkv", "palette.png", head=global_args())
    assert argv[: len(global_args())] == tuple(global_args())
    assert inputs(argv) == [("file", "matroska,webm", "frames.mkv")]
    graph = after(argv, "-vf")
    assert graph.startswith("palettegen=")
    assert "max_colors=256" in graph and "reserve_transparent=0" in graph
    assert after(argv, "-frames:v") == "1" and argv[-1] == "palette.png"
    assert "-max_pixels" in argv


@pytest.mark.parametrize("loop", [0, 5])
def test_gif_pass_maps_the_frames_onto_the_palette(loop: int) -> None:
    argv = formats.gif_argv("frames.mkv", "palette.png", "out.gif", head=global_args(), loop=loop)
    assert argv[: len(global_args())] == tuple(global_args())
    assert inputs(argv) == [
        ("file", "matroska,webm", "frames.mkv"),
        ("file", "png_pipe", "palette.png"),  # never image2, which expands patterns
    ]
    assert "paletteuse=" in after(argv, "-filter_complex")
    assert after(argv, "-loop") == str(loop)  # GIF's NETSCAPE2.0 count is repeats, as ours
    assert argv[-5:] == ("-f", "gif", "-loop", str(loop), "out.gif")
