"""The output formats (`output.format`): each one's file, MIME type and encoder options.

The one home for per-format facts; compile.py and the download routes ask here. Every choice
below was measured (docs/rendering.md#formats):
- mp4: libx264 (CRF, preset) + AAC + `+faststart`, as before formats existed.
- webm: VP9 at `-deadline realtime -cpu-used 5 -row-mt 1` (as fast as x264 medium; `good`
  took twice its time for a 9 % smaller file), constant quality (`-crf N -b:v 0`) with N = the
  x264 CRF + 1 (the same SSIM on real 720p footage), Opus 128k, Cues before the clusters.
- webp: libwebp_anim, lossy, quality 75, compression level 4; no sound.
- gif: no sound, and a palette made from the video itself. One FFmpeg run cannot do that
  without holding every frame until the palette is known, so the main render writes a
  lossless intermediate (FFV1 in Matroska), then `palette_argv` makes the palette and
  `gif_argv` maps the frames onto it, both streaming, so memory does not grow with length.

`output.loop` counts repeats after the first play (0: forever), as GIF's NETSCAPE2.0 block does;
WebP's ANIM chunk counts plays, so it gets one more.

Pure: imports the leaves only. Not vidsvc.graph.compile, which is to import this module: the
GIF passes take compile.global_args() from their caller as `head`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vidsvc import spec

#: Defaults of an animated output (gif, webp): frames per second and width in pixels.
ANIMATED_FPS = spec.ANIMATED_FPS
ANIMATED_WIDTH = spec.ANIMATED_WIDTH

#: VP9's constant-quality level for an x264 CRF: +1 gave x264 CRF 21's SSIM at VP9_CPU_USED.
VP9_CRF_OFFSET = 1
#: libvpx's deadline and speed: the encode nearest x264 medium's wall time (0.8x of it; `good`
#: at cpu-used 4 took 2x, and above 5 `good` is the same as 5).
VP9_DEADLINE = "realtime"
VP9_CPU_USED = 5
OPUS_BITRATE = "128k"
#: libwebp's quality (0-100) and effort (0-6): 4 is libwebp's default and its knee.
WEBP_QUALITY = 75
WEBP_COMPRESSION = 4

#: What the main render writes for a GIF, and the palette between the two GIF passes.
GIF_INTERMEDIATE = "frames.mkv"
GIF_PALETTE = "palette.png"
#: The intermediate's demuxer and the palette's (a single-image pipe demuxer: image2 would
#: expand `%d` and globs in a file name).
MATROSKA_DEMUXER = "matroska,webm"
PNG_DEMUXER = "png_pipe"
#: `full`: every pixel counts, so a static title's colours are in the palette as well as
#: the moving parts'. Bayer at scale 5: the smallest files of the dithers, with no banding
#: (error diffusion was 30 % bigger, its noise moving from frame to frame); `rectangle`
#: re-encodes only the part of each frame that changed.
PALETTEGEN = "palettegen=max_colors=256:reserve_transparent=0:stats_mode=full"
PALETTEUSE = "paletteuse=dither=bayer:bayer_scale=5:diff_mode=rectangle"
#: WebP's ANIM loop count is 16 bits.
MAX_LOOP = 65535


@dataclass(frozen=True, slots=True, kw_only=True)
class Format:
    name: str  #: output.format
    extension: str  #: of the output file and its download, without the dot
    mime_type: str
    has_audio: bool
    animated: bool  #: an animated image: ANIMATED_FPS and ANIMATED_WIDTH by default
    video_codec: str  #: ffprobe's codec_name of the output's video
    audio_codec: str | None  #: ffprobe's codec_name of its sound; None: no sound
    #: the main render writes a lossless intermediate and two more passes make the output
    two_pass: bool = False

    @property
    def filename(self) -> str:
        """The output's file name in the workspace (the GIF's, after its passes)."""
        return f"out.{self.extension}"

    @property
    def main_output(self) -> str:
        """What the main render writes: the output, or the GIF's intermediate."""
        return GIF_INTERMEDIATE if self.two_pass else self.filename


MP4 = Format(name="mp4", extension="mp4", mime_type="video/mp4", has_audio=True,
             animated=False, video_codec="h264", audio_codec="aac")  # fmt: skip
WEBM = Format(name="webm", extension="webm", mime_type="video/webm", has_audio=True,
              animated=False, video_codec="vp9", audio_codec="opus")  # fmt: skip
GIF = Format(name="gif", extension="gif", mime_type="image/gif", has_audio=False,
             animated=True, video_codec="gif", audio_codec=None, two_pass=True)  # fmt: skip
WEBP = Format(name="webp", extension="webp", mime_type="image/webp", has_audio=False,
              animated=True, video_codec="webp", audio_codec=None)  # fmt: skip

FORMATS: Mapping[str, Format] = {f.name: f for f in (MP4, WEBM, GIF, WEBP)}


def format_of(name: str) -> Format:
    """The Format of an `output.format` value (KeyError for another: the schema refuses it)."""
    return FORMATS[name]


def by_extension(extension: str) -> Format | None:
    """The Format whose file ends in `extension` (no dot), for a stored output's download."""
    return next((f for f in FORMATS.values() if f.extension == extension), None)


def vp9_crf(x264_crf: int) -> int:
    """VP9's `-crf` (0-63) for the quality our x264 CRF (0-51) asks for."""
    return min(63, max(0, x264_crf + VP9_CRF_OFFSET))


def video_args(fmt: Format, *, crf: int, preset: str, threads: int = 0) -> list[str]:
    """The main render's video encoder options for `fmt`, `-pix_fmt` included. mp4: exactly
    compile.video_codec's libx264 options then `-pix_fmt yuv420p`, as compile_command has them.
    `preset` is x264's; `threads` 0 lets the encoder decide."""
    thread_args = ["-threads", str(threads)] if threads else []
    if fmt is MP4:
        return ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), *thread_args,
                "-pix_fmt", "yuv420p"]  # fmt: skip
    if fmt is WEBM:
        # -b:v 0 makes -crf a constant quality instead of a cap on a target bitrate; row-mt
        # lets libvpx run threads within a tile column (a column is at least 256 px wide).
        return ["-c:v", "libvpx-vp9", "-deadline", VP9_DEADLINE, "-cpu-used", str(VP9_CPU_USED),
                "-row-mt", "1", "-crf", str(vp9_crf(crf)), "-b:v", "0", *thread_args,
                "-pix_fmt", "yuv420p"]  # fmt: skip
    if fmt is WEBP:
        # libwebp_anim has no threads of its own.
        return ["-c:v", "libwebp_anim", "-lossless", "0", "-quality", str(WEBP_QUALITY),
                "-compression_level", str(WEBP_COMPRESSION), "-pix_fmt", "yuv420p"]  # fmt: skip
    if fmt is GIF:
        # Intra-only and lossless: the passes see the render's own pixels, and its decoder
        # keeps no reference frames.
        return ["-c:v", "ffv1", *thread_args, "-pix_fmt", "yuv420p"]
    raise ValueError(f"no video options for {fmt.name}")


def audio_args(fmt: Format, bitrate: str) -> list[str]:
    """The sound's encoder options; `-an` for the animated formats, whose audio pad must not be
    mapped at all (FFmpeg fails on a labelled pad left unmapped: end the sound in `anullsink`,
    or leave it out of the graph). `bitrate` is AAC's; Opus gets OPUS_BITRATE (not measured:
    Opus needs fewer bits than AAC for the same sound)."""
    if fmt is MP4:
        return ["-c:a", "aac", "-b:a", bitrate]
    if fmt is WEBM:
        return ["-c:a", "libopus", "-b:a", OPUS_BITRATE]
    return ["-an"]


def container_args(fmt: Format, *, loop: int = 0) -> list[str]:
    """Muxer options, before the output name. webm: the Cues (the index) before the clusters,
    as +faststart does for mp4, so a player can seek without first fetching the file's end
    (moving them cost 0.01 s on a 200 s, 57 MiB file)."""
    if fmt is MP4:
        return ["-movflags", "+faststart"]
    if fmt is WEBM:
        return ["-f", "webm", "-cues_to_front", "1"]
    if fmt is WEBP:
        return ["-f", "webp", "-loop", str(webp_loop(loop))]
    if fmt is GIF:
        return ["-f", "matroska"]  # the intermediate; gif_argv sets the loop
    raise ValueError(f"no container options for {fmt.name}")


def webp_loop(repeats: int) -> int:
    """ANIM's loop count is the number of plays (0: forever); `output.loop` counts repeats."""
    return 0 if repeats == 0 else min(MAX_LOOP, repeats + 1)


def output_args(
    fmt: Format, *, crf: int, preset: str, threads: int = 0, audio_bitrate: str, loop: int = 0
) -> list[str]:
    """Everything between the `-map`s and `-t` for the main render's output of `fmt`."""
    return [
        *video_args(fmt, crf=crf, preset=preset, threads=threads),
        *audio_args(fmt, audio_bitrate),
        *container_args(fmt, loop=loop),
    ]


def _input(path: str, demuxer: str, max_pixels: int) -> list[str]:
    """One input under compile.input_args' rules: files only, one named demuxer, a pixel cap."""
    forced = demuxer.split(",")[0]  # the demuxer's own name is its first alias
    return ["-protocol_whitelist", "file", "-format_whitelist", demuxer, "-f", forced,
            "-max_pixels", str(max_pixels), "-i", path]  # fmt: skip


def palette_argv(
    intermediate: str = GIF_INTERMEDIATE,
    palette: str = GIF_PALETTE,
    *,
    head: Sequence[str],
    max_pixels: int = 3840 * 2160,
) -> tuple[str, ...]:
    """GIF pass 1: the 256-colour palette of the whole intermediate, as a 16x16 PNG.
    palettegen keeps a colour histogram, never frames. `head`: compile.global_args(), and
    `-progress pipe:1` for a progress report."""
    return (
        *head,
        *_input(intermediate, MATROSKA_DEMUXER, max_pixels),
        "-vf", PALETTEGEN, "-frames:v", "1", "-update", "1", "-c:v", "png", palette,
    )  # fmt: skip


def gif_argv(
    intermediate: str = GIF_INTERMEDIATE,
    palette: str = GIF_PALETTE,
    out: str = GIF.filename,
    *,
    head: Sequence[str],
    loop: int = 0,
    max_pixels: int = 3840 * 2160,
) -> tuple[str, ...]:
    """GIF pass 2: each frame of the intermediate mapped onto the palette, one at a time.
    `loop` repeats after the first play (0: forever), written as NETSCAPE2.0's count. `head`
    as for palette_argv."""
    return (
        *head,
        *_input(intermediate, MATROSKA_DEMUXER, max_pixels),
        *_input(palette, PNG_DEMUXER, max_pixels),
        "-filter_complex", f"[0:v][1:v]{PALETTEUSE}[gif]", "-map", "[gif]",
        "-c:v", "gif", "-f", "gif", "-loop", str(min(MAX_LOOP, loop)), out,
    )  # fmt: skip
