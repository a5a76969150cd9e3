"""The x264 and MP4 options that make a normalized clip render-ready (cliptask.RENDER_READY).

A later composition can only splice a clip's GOPs with its own encode spans when both sides
have byte-identical parameter sets, and joiners keep the first file's, so everything that
reaches the SPS/PPS is pinned here instead of left to x264's choices:
- `-profile:v high -level:v 3.1`: x264 would otherwise pick the level from the stream;
- `-g N -keyint_min N -sc_threshold 0`: an IDR exactly every N frames, none at scene cuts
  (x264 clamps keyint_min to N/2+1, which is harmless once scene cuts are off); x264's
  default closed GOP is kept, so every keyframe is an IDR a copy can start on;
- `stitchable=1`: otherwise the PPS's pic_init_qp follows the CRF;
- explicit bt709 tags and tv range: libx264 copies the source's tags into the SPS's VUI;
- `-video_track_timescale`: the composition output's time base, whatever the muxer picks.

Pure: imports the leaves only.
"""

from __future__ import annotations

from vidsvc.cliptask import RENDER_READY, ReadyProfile

#: The x264 options this module sets through -x264-params (their names in x264's SEI).
X264_PARAMS = "stitchable=1"


def level_name(profile: ReadyProfile) -> str:
    """ffprobe's 31 is x264's `3.1`."""
    return f"{profile.level // 10}.{profile.level % 10}"


def video_args(profile: ReadyProfile = RENDER_READY) -> list[str]:
    """Output options after `-c:v libx264 -preset … -crf …` for a render-ready product."""
    gop = str(profile.gop_frames)
    return [
        "-profile:v", profile.profile.lower(), "-level:v", level_name(profile),
        "-g", gop, "-keyint_min", gop, "-sc_threshold", "0",
        "-x264-params", X264_PARAMS,
        "-color_primaries", profile.color, "-color_trc", profile.color,
        "-colorspace", profile.color, "-color_range", profile.color_range,
        "-video_track_timescale", str(profile.timescale),
    ]  # fmt: skip
