"""compile(): a Graph and the encoding settings become one FFmpeg argv (a tuple; no shell, ever).

Every input is opened with `-protocol_whitelist file` and the demuxer allow-list, and decoders
get `-max_pixels`, so even a file that lies about itself cannot make FFmpeg reach the network,
read a playlist or allocate a giant frame. `-t` caps the output as a backstop.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from vidsvc import spec
from vidsvc.graph import formats
from vidsvc.graph.escape import filter_args
from vidsvc.graph.model import FEED, SOUND, Filter, Graph

#: Graph strings longer than this go to a script file (Linux caps one argv string at 128 KiB).
MAX_INLINE_GRAPH = 64 * 1024
GRAPH_FILE = "graph.txt"


@dataclass(frozen=True, slots=True, kw_only=True)
class Encoding:
    duration_ms: int
    crf: int = 21
    preset: str = "medium"
    threads: int = 0  #: 0: let x264 decide
    encoder: str = "libx264"  #: or "h264_nvenc" (ENABLE_GPU_ENCODING)
    audio_bitrate: str = "192k"
    max_pixels: int = 3840 * 2160
    video_out: str = "out.mp4"  #: the output file (numbered per rendition: output_name)
    thumb_out: str = "thumb.jpg"
    format: str = "mp4"  #: output.format (graph/formats.py)
    loop: int = 0  #: output.loop: an animated image's repeats (0: forever)
    #: one decoding thread per video input and for the filter graph: far fewer threads (each
    #: reserves address space) when many inputs would not fit otherwise (graph/memory.py)
    lean: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    argv: tuple[str, ...]  #: without the binary
    files: Mapping[str, str] = field(default_factory=dict)  #: side files to write first
    links: Mapping[str, str] = field(default_factory=dict)  #: links to make first (fonts)
    expected_duration_ms: int
    #: the parts' commands, run one after another into `feed` (graph/parts.py); none: one run
    feeds: tuple[tuple[str, ...], ...] = ()
    feed: str | None = None
    #: with parts: the pass that joins the clips' sound, run before `argv` (graph/parts.py)
    sound: tuple[str, ...] = ()
    #: runs after `argv`, in order: a GIF's palette and its frames (graph/formats.py)
    after: tuple[tuple[str, ...], ...] = ()


def render_filter(f: Filter) -> str:
    labels_in = "".join(f"[{label}]" for label in f.inputs)
    labels_out = "".join(f"[{label}]" for label in f.outputs)
    args = filter_args(f.args)
    return f"{labels_in}{f.name}{'=' + args if args else ''}{labels_out}"


def graph_string(graph: Graph) -> str:
    return ";\n".join(render_filter(f) for f in graph.filters)


def input_args(graph: Graph, enc: Encoding) -> list[str]:
    """Each input with the protocol and demuxer allow-lists and the pixel cap."""
    argv: list[str] = []
    formats = ",".join(spec.INPUT_FORMATS)
    for item in graph.inputs:
        allowed = "rawvideo" if item.raw else formats
        argv += ["-protocol_whitelist", "file", "-format_whitelist", allowed]
        lean = ["-threads", "1"] if enc.lean and "-vn" not in item.options else []
        argv += ["-max_pixels", str(enc.max_pixels), *item.options, *lean, "-i", item.path]
    return argv


def video_codec(enc: Encoding) -> list[str]:
    """The encoder's options. NVENC: constant-quality VBR at `-cq` = the CRF (the same 0-51
    quantizer scale; not matched by measurement, as no GPU was at hand), preset p5 (slower,
    better), no x264 thread count."""
    if enc.encoder == "h264_nvenc":
        return ["-c:v", "h264_nvenc", "-preset", "p5", "-tune", "hq", "-rc", "vbr",
                "-cq", str(enc.crf), "-b:v", "0"]  # fmt: skip
    threads = ["-threads", str(enc.threads)] if enc.threads else []
    return ["-c:v", "libx264", "-preset", enc.preset, "-crf", str(enc.crf), *threads]


def global_args(loglevel: str = "warning") -> list[str]:
    """What every batch FFmpeg run of ours starts with: no banner, no stdin, overwrite, and no
    stats on stderr (progress comes from -progress)."""
    return ["-hide_banner", "-nostdin", "-y", "-nostats", "-loglevel", loglevel]


def audio_codec(enc: Encoding) -> list[str]:
    return ["-c:a", "aac", "-b:a", enc.audio_bitrate]


def head_args(
    graph: Graph, enc: Encoding, script: str = GRAPH_FILE, progress: bool = True
) -> tuple[list[str], dict[str, str]]:
    """Global options, every input and the filter graph (inline, or a script file when long)."""
    files = dict(graph.files)
    text = graph_string(graph)
    if len(text) > MAX_INLINE_GRAPH:
        files[script] = text
        graph_args = ["-filter_complex_script", script]
    else:
        graph_args = ["-filter_complex", text]
    lean = ["-filter_complex_threads", "1"] if enc.lean else []
    report = ["-progress", "pipe:1"] if progress else []
    argv = [*global_args(), *report, *lean, *input_args(graph, enc), *graph_args]
    return argv, files


def feed_args(part: Graph, enc: Encoding, number: int) -> tuple[list[str], dict[str, str]]:
    """One part (graph/parts.py): its pictures as raw yuv420p on stdout, which is the pipe."""
    argv, files = head_args(part, enc, script=f"part{number}.txt", progress=False)
    (video,) = part.outputs
    argv += ["-map", f"[{video}]", "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"]
    return argv, files


def thumbnail_args(label: str, out: str) -> list[str]:
    """One JPEG of the pad `label` (-strict -1: MJPEG takes limited-range yuv420p only so)."""
    return ["-map", f"[{label}]", "-frames:v", "1", "-q:v", "3", "-strict", "-1",
            "-update", "1", out]  # fmt: skip


def command(
    graph: Graph,
    enc: Encoding,
    argv: list[str],
    files: dict[str, str],
    after: tuple[tuple[str, ...], ...] = (),
) -> Command:
    """The Command of an argv compiled from `graph` (its side files, font links and parts)."""
    feeds: list[tuple[str, ...]] = []
    for number, part in enumerate(graph.feeds):
        feed, more = feed_args(part, enc, number)
        feeds.append(tuple(feed))
        files = {**files, **more}
    sound: list[str] = []
    if graph.sound is not None:
        sound, more = head_args(graph.sound, enc, script="sound.txt", progress=False)
        (pad,) = graph.sound.outputs
        sound += ["-map", f"[{pad}]", "-c:a", "pcm_f32le", "-f", "wav", SOUND]
        files = {**files, **more}
    return Command(
        argv=tuple(argv),
        files=files,
        links=dict(graph.links),
        expected_duration_ms=enc.duration_ms,
        feeds=tuple(feeds),
        feed=FEED if feeds else None,
        sound=tuple(sound),
        after=after,
    )


def output_name(base: str, rendition: int) -> str:
    """The workspace file of a rendition's output (`out.mp4`, `out1.mp4`, …)."""
    if rendition == 0:
        return base
    stem, dot, ext = base.rpartition(".")
    return f"{stem}{rendition}{dot}{ext}" if dot else f"{base}{rendition}"


def compile_command(graph: Graph, enc: Encoding) -> Command:
    """One invocation: every input, the whole graph, each rendition's file and thumbnail (a
    GIF's: its frames, which two more runs turn into the GIF, `Command.after`)."""
    video, audio, thumb = graph.outputs[:3]
    more = graph.outputs[3:]
    shapes = [(video, thumb), *zip(more[::2], more[1::2], strict=True)]
    sounds: tuple[str, ...] = (audio,) if audio else ()
    if audio and len(shapes) > 1:  # one mix, encoded into every rendition's file
        sounds = tuple(f"asplit{i}" for i in range(len(shapes)))
        split = Filter(name="asplit", inputs=(audio,), outputs=sounds,
                       args=(("", str(len(shapes))),))  # fmt: skip
        graph = replace(graph, filters=(*graph.filters, split))
    argv, files = head_args(graph, enc)
    # Every encoder keeps the job's thread count: FFmpeg 5.1 feeds its encoders one after
    # another from one thread, so a rendition's x264 with one thread stalls the others (three
    # 720p renditions at 1 thread each kept 1.06 cores busy, at the job's 3 each 1.82, for the
    # same CPU: bench renditions).
    fmt = formats.format_of(enc.format)
    main = formats.GIF_INTERMEDIATE if fmt.two_pass else enc.video_out
    for number, (picture, still) in enumerate(shapes):
        sound = ["-map", f"[{sounds[number]}]"] if sounds else []
        argv += [
            "-map", f"[{picture}]", *sound, *_encoder(enc, fmt),
            "-t", f"{enc.duration_ms / 1000:.3f}", output_name(main, number),
            *thumbnail_args(still, output_name(enc.thumb_out, number)),
        ]  # fmt: skip
    after = _gif_passes(enc, len(shapes)) if fmt.two_pass else ()
    return command(graph, enc, argv, files, after)


def _encoder(enc: Encoding, fmt: formats.Format) -> list[str]:
    """One output's encoder and muxer options (mp4: x264 or NVENC, as before formats)."""
    if fmt is formats.MP4:
        return [*video_codec(enc), "-pix_fmt", "yuv420p", *audio_codec(enc),
                "-movflags", "+faststart"]  # fmt: skip
    return formats.output_args(fmt, crf=enc.crf, preset=enc.preset, threads=enc.threads,
                               audio_bitrate=enc.audio_bitrate, loop=enc.loop)  # fmt: skip


def _gif_passes(enc: Encoding, renditions: int) -> tuple[tuple[str, ...], ...]:
    """Each rendition's palette, then its GIF, from the frames the main run wrote."""
    runs: list[tuple[str, ...]] = []
    for number in range(renditions):
        frames = output_name(formats.GIF_INTERMEDIATE, number)
        palette = output_name(formats.GIF_PALETTE, number)
        head, cap = global_args(), enc.max_pixels
        runs.append(formats.palette_argv(frames, palette, head=head, max_pixels=cap))
        runs.append(formats.gif_argv(frames, palette, output_name(enc.video_out, number),
                                     head=head, loop=enc.loop, max_pixels=cap))  # fmt: skip
    return tuple(runs)
