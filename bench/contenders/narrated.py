"""The hand-written route for the narrated short (bench.measures.narration): what an expert types
for it, run as one script so that every step is inside the contender's wall time.

1. Measure each narration's audible end: one FFmpeg `silencedetect` per file, all started at
   once (a shell's `&` and `wait`); the audible end is the last `silence_start` (each file
   ends in its TTS tail, so the last silence runs to the end).
2. Work out the clip lengths by hand: (crossfade in) + audible + padding; where each clip and
   each narration starts; the total.
3. Write the captions: an ASS file with one event per word, the word's group shown with the
   spoken word recoloured (the word timings moved to their narration's start).
4. The loudness analysis pass: the audio alone (narrations, music, ducking, the mix) into
   `ebur128`; the gain to the target is the difference.
5. The render: one FFmpeg command (the clips fitted, held, crossfaded and cut, the captions
   drawn by `ass`, the narrations concatenated in place, the music ducked by
   `sidechaincompress`, the gain and a limiter, H.264 + AAC).

Standard library only, and run as a script (`python narrated.py job.json`, in its work
directory): its start-up is what a shell script's would be. The job file (written by the
measure) holds the inputs and numbers; the script writes `steps.json` (its plan and the time
of each step) beside its output.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

FFMPEG = "ffmpeg"
SILENCE = "silencedetect=noise=-50dB:d=0.05"
AFORMAT = "aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo"
#: FFmpeg 5.1's xfade can drop its first input's last frame (see bench/contenders/raw.py):
#: two cloned frames past the end, which xfade discards, make it finish on its own.
XFADE_PAD = ",tpad=stop=2:stop_mode=clone"
HIGHLIGHT = "&H00D7FF&"  #: gold (#FFD700) in ASS's BGR
_START = re.compile(r"silence_start: (-?[0-9.]+)")
_INTEGRATED = re.compile(r"I:\s*(-?[0-9.]+) LUFS")


def audible_ends(voices: list[str]) -> list[float]:
    """Each narration's audible end, in seconds: its last silence_start."""
    procs = [
        subprocess.Popen(
            [FFMPEG, "-hide_banner", "-nostdin", "-nostats", "-i", v, "-af", SILENCE,
             "-f", "null", "-"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        for v in voices
    ]  # fmt: skip
    ends = []
    for v, proc in zip(voices, procs, strict=True):
        _, err = proc.communicate()
        starts = _START.findall(err)
        if proc.returncode != 0 or not starts:
            raise SystemExit(f"silencedetect found no trailing silence in {v}:\n{err[-800:]}")
        ends.append(float(starts[-1]))
    return ends


def lay_out(job: dict[str, Any], audible: list[float]) -> dict[str, Any]:
    """Clip lengths, clip starts, narration starts and spans, and the total, in seconds."""
    xfade, padding = job["xfade"], job["padding"]
    lengths, starts, voice_at = [], [], []
    end = 0.0
    for scene, heard in zip(job["scenes"], audible, strict=True):
        blend = xfade if scene["crossfade"] else 0.0
        start = end - blend
        length = blend + heard + padding
        lengths.append(length)
        starts.append(start)
        voice_at.append(start + blend)
        end = start + length
    spans = [b - a for a, b in zip(voice_at, [*voice_at[1:], end], strict=True)]
    return {"lengths": lengths, "starts": starts, "voice_at": voice_at, "spans": spans,
            "rooms": [a + padding for a in audible], "total": end}  # fmt: skip


def ass_time(t: float) -> str:
    cs = round(t * 100)
    return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def groups(words: list[dict[str, Any]], most: int) -> list[list[dict[str, Any]]]:
    """Reading groups: at most `most` words, a new group after a sentence's end."""
    out: list[list[dict[str, Any]]] = [[]]
    for w in words:
        if len(out[-1]) == most or (out[-1] and out[-1][-1]["text"].endswith((".", "!", "?"))):
            out.append([])
        out[-1].append(w)
    return [g for g in out if g]


def captions(job: dict[str, Any], plan: dict[str, Any], audible: list[float]) -> str:
    """The ASS document: per word, its group with that word in the highlight colour."""
    w, h = job["size"]
    style = (
        f"Style: cap,{job['font']},{job['caption_size']},&H00FFFFFF,&H00FFFFFF,&H00000000,"
        f"&H80000000,0,0,0,0,100,100,0,0,1,{job['outline']},0,2,36,36,{round(h * 0.22)},1"
    )
    lines = [
        "[Script Info]", "ScriptType: v4.00+", f"PlayResX: {w}", f"PlayResY: {h}",
        "WrapStyle: 0", "ScaledBorderAndShadow: yes", "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        style, "", "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]  # fmt: skip
    for scene, at, heard in zip(job["scenes"], plan["voice_at"], audible, strict=True):
        for group in groups(scene["words"], job["group_words"]):
            for k, word in enumerate(group):
                start = at + word["start"]
                end = at + min(heard, group[k + 1]["start"] if k + 1 < len(group) else word["end"])
                if end <= start:
                    continue
                text = " ".join(
                    "{\\1c" + HIGHLIGHT + "}" + o["text"] + "{\\1c}" if o is word else o["text"]
                    for o in group
                )
                lines.append(f"Dialogue: 0,{ass_time(start)},{ass_time(end)},cap,,0,0,0,,{text}")
    return "\n".join(lines) + "\n"


def audio_chains(job: dict[str, Any], plan: dict[str, Any], first: int) -> list[str]:
    """Narrations (inputs first..first+n-1) in place, the music (the next input) ducked under
    them, and the two mixed into [mix]."""
    n = len(job["scenes"])
    chains = []
    for k in range(n):
        wait = round(plan["voice_at"][0] * 1000) if k == 0 else 0
        delay = f",adelay={wait}:all=1" if wait else ""
        chains.append(
            f"[{first + k}:a]{AFORMAT},atrim=end={plan['rooms'][k]:.6f},"
            f"apad=whole_dur={plan['spans'][k]:.6f}{delay}[n{k}]"
        )
    total = plan["total"]
    chains.append(
        "".join(f"[n{k}]" for k in range(n)) + f"concat=n={n}:v=0:a=1,asplit[voice][key]"
    )
    chains.append(
        f"[{first + n}:a]atrim=end={total:.6f},{AFORMAT},volume={job['music_volume']}[music]"
    )
    duck = job["ducking"]
    chains.append(
        f"[music][key]sidechaincompress=threshold={duck['threshold']}:ratio={duck['ratio']}"
        f":attack={duck['attack']}:release={duck['release']}[ducked]"
    )
    chains.append("[voice][ducked]amix=inputs=2:normalize=0:duration=first[mix]")
    return chains


def audio_inputs(job: dict[str, Any]) -> list[str]:
    args = []
    for scene in job["scenes"]:
        args += ["-i", scene["voice"]]
    return [*args, "-i", job["music"]]


def loudness(job: dict[str, Any], plan: dict[str, Any]) -> float:
    """The analysis pass: the mix alone into ebur128; its integrated loudness."""
    graph = ";".join([*audio_chains(job, plan, 0), "[mix]ebur128[meter]"])
    done = subprocess.run(
        [FFMPEG, "-hide_banner", "-nostdin", "-nostats", *audio_inputs(job),
         "-filter_complex", graph, "-map", "[meter]", "-f", "null", "-"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    found = _INTEGRATED.findall(done.stderr)
    if done.returncode != 0 or not found:
        raise SystemExit(f"the analysis pass failed:\n{done.stderr[-1500:]}")
    return float(found[-1])


def video_chains(job: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    """Per clip: fitted (cover) to the frame at the output rate, held past its end, cut to its
    length; crossfaded clips joined by xfade, the runs between cuts concatenated, captions."""
    w, h = job["size"]
    fps = job["fps"]
    fit = f"scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},setsar=1"
    scenes = job["scenes"]
    runs: list[list[int]] = []
    for k, scene in enumerate(scenes):
        if scene["crossfade"] and runs:
            runs[-1].append(k)
        else:
            runs.append([k])
    chains = []
    for k, scene in enumerate(scenes):
        length = plan["lengths"][k]
        pad = XFADE_PAD if any(k in run[:-1] for run in runs) else ""
        if scene["still"]:  # one picture, fitted once, then repeated
            frames = round(length * fps) + 2
            chains.append(
                f"[{k}:v]{fit},format=yuv420p,loop=loop={frames}:size=1,"
                f"setpts=N/({fps}*TB),trim=duration={length:.6f},settb=AVTB{pad}[v{k}]"
            )
        else:
            chains.append(
                f"[{k}:v]fps={fps},{fit},format=yuv420p,tpad=stop=-1:stop_mode=clone,"
                f"trim=duration={length:.6f},settb=AVTB{pad}[v{k}]"
            )
    joined = []
    for run in runs:
        last, at = f"v{run[0]}", plan["lengths"][run[0]]
        for k in run[1:]:
            at -= job["xfade"]
            chains.append(
                f"[{last}][v{k}]xfade=transition=fade:duration={job['xfade']}"
                f":offset={at:.6f}[x{k}]"
            )
            last, at = f"x{k}", at + plan["lengths"][k]
        joined.append(f"[{last}]")
    chains.append(
        "".join(joined) + f"concat=n={len(runs)}:v=1:a=0,ass=filename=captions.ass[vout]"
    )
    return chains


def render(job: dict[str, Any], plan: dict[str, Any], gain_db: float) -> None:
    """The render: clips, then narrations and music, one graph, one encode."""
    args = [FFMPEG, "-hide_banner", "-nostdin", "-y"]
    for k, scene in enumerate(job["scenes"]):
        if scene["still"]:
            args += ["-framerate", str(job["fps"]), "-i", scene["visual"]]
        else:
            args += ["-t", f"{plan['lengths'][k]:.6f}", "-i", scene["visual"]]
    args += audio_inputs(job)
    n = len(job["scenes"])
    graph = [
        *video_chains(job, plan),
        *audio_chains(job, plan, n),
        f"[mix]volume={gain_db:.2f}dB,alimiter=limit={job['limit']}:level=0[aout]",
    ]
    args += ["-filter_complex", ";".join(graph), "-map", "[vout]", "-map", "[aout]"]
    args += ["-c:v", "libx264", "-preset", job["preset"], "-crf", str(job["crf"])]
    args += ["-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k", "-movflags", "+faststart"]
    args += ["-t", f"{plan['total']:.3f}", job["output"]]
    subprocess.run(args, check=True)


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[1]).read_text())
    steps: dict[str, float] = {}
    t = time.perf_counter()
    audible = audible_ends([s["voice"] for s in job["scenes"]])
    steps["measure"] = time.perf_counter() - t
    t = time.perf_counter()
    plan = lay_out(job, audible)
    Path("captions.ass").write_text(captions(job, plan, audible), encoding="utf-8")
    steps["plan"] = time.perf_counter() - t
    t = time.perf_counter()
    measured = loudness(job, plan)
    steps["analysis"] = time.perf_counter() - t
    t = time.perf_counter()
    render(job, plan, job["lufs"] - measured)
    steps["render"] = time.perf_counter() - t
    Path("steps.json").write_text(
        json.dumps({"steps": steps, "audible": audible, "measured_lufs": measured, **plan})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
