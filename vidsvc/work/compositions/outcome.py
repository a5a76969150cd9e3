"""CompositionOutcome: what a completed composition records in its row's metadata.

The compositions handler writes it (a render's or a render-cache hit's); GET …/metadata shows
it as it is, and the readers (the estimator, this kind's metrics, the cache's hit path, the
list's duration) call `from_dict` once instead of guarding every key. Rows written by older
versions may lack keys: `from_dict` takes what is there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vidsvc.runner.usage import Usage, number


def _mapping(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class CompositionOutcome:
    timings: Mapping[str, float] = field(default_factory=dict)  #: seconds per stage
    ffmpeg_version: str | None = None
    instance: str | None = None  #: the instance that completed it
    attempt: int = 1
    inputs: Mapping[str, Any] = field(default_factory=dict)  #: input URL → its probe
    output: Mapping[str, Any] | None = None  #: the output's probe
    command: Sequence[str] | None = None  #: the FFmpeg argv that made the bytes
    usage: Usage = field(default_factory=Usage)
    #: how many renders shared the cores on average while this one ran (the estimator's input)
    sharing: float | None = None
    memory: Mapping[str, Any] = field(default_factory=dict)  #: memory_estimate_mb, memory_mode…
    smart_render: Mapping[str, Any] | None = None  #: the plan: spans copied and encoded
    sound: Mapping[str, Any] | None = None  #: loudness, beat sync
    text: Mapping[str, Any] | None = None  #: e.g. missing_glyphs
    #: the captions file: format, encoding, cues (words), skipped malformed cues
    captions: Mapping[str, Any] | None = None
    cache: Mapping[str, Any] = field(default_factory=dict)  #: hit or miss, and the key
    #: a preview's `draft` and `range` (top-level keys of the metadata), none for a full render
    preview: Mapping[str, Any] = field(default_factory=dict)
    #: every rendition's shape, length and stored keys (work/compositions/outputs.py)
    outputs: Sequence[Mapping[str, Any]] | None = None

    @property
    def output_duration(self) -> float | None:
        return number(self.output.get("duration")) if self.output else None

    @property
    def memory_estimate_mb(self) -> float | None:
        return number(self.memory.get("memory_estimate_mb"))

    def to_dict(self) -> dict[str, Any]:
        optional = {"sound": self.sound, "text": self.text, "captions": self.captions}
        return {
            "timings": dict(self.timings),
            "ffmpeg_version": self.ffmpeg_version,
            "instance": self.instance,
            "attempt": self.attempt,
            "inputs": dict(self.inputs),
            "output": None if self.output is None else dict(self.output),
            "command": None if self.command is None else list(self.command),
            **({"sharing": self.sharing} if self.sharing is not None else {}),
            **self.usage.to_dict(),
            **self.memory,
            **({"smart_render": dict(self.smart_render)} if self.smart_render is not None else {}),
            **{k: dict(v) for k, v in optional.items() if v},
            "cache": dict(self.cache),
            **self.preview,
            **({"outputs": [dict(o) for o in self.outputs]} if self.outputs else {}),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CompositionOutcome:
        timings = _mapping(d.get("timings")) or {}
        memory_keys = ("memory_estimate_mb", "address_space_estimate_mb", "memory_mode")
        command = d.get("command")
        return cls(
            timings={k: v for k, v in timings.items() if number(v) is not None},
            ffmpeg_version=d.get("ffmpeg_version"),
            instance=d.get("instance"),
            attempt=int(d.get("attempt") or 1),
            inputs=_mapping(d.get("inputs")) or {},
            output=_mapping(d.get("output")),
            command=list(command) if isinstance(command, list) else None,
            usage=Usage.from_dict(d),
            sharing=number(d.get("sharing")),
            memory={k: d[k] for k in memory_keys if k in d},
            smart_render=_mapping(d.get("smart_render")),
            sound=_mapping(d.get("sound")),
            text=_mapping(d.get("text")),
            captions=_mapping(d.get("captions")),
            cache=_mapping(d.get("cache")) or {},
            preview={k: d[k] for k in ("draft", "range") if k in d},
            outputs=_outputs(d.get("outputs")),
        )


def _outputs(value: Any) -> list[Mapping[str, Any]] | None:
    if not isinstance(value, list):
        return None
    return [o for o in value if isinstance(o, Mapping)] or None
