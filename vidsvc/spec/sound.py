"""A composition's sound as frozen values: audio tracks, ducking, beat sync, `audio`."""

from __future__ import annotations

from dataclasses import dataclass

#: Audio track roles: ducking lowers every music track while any voice sounds.
TRACK_ROLES = ("music", "voice", "sfx")
MAX_TRACKS = 16


@dataclass(frozen=True, slots=True, kw_only=True)
class Track:
    """One audio track on the timeline (audio.tracks[], or a shorthand's)."""

    url: str
    role: str = "music"  #: a name from TRACK_ROLES
    start_ms: int = 0  #: where it starts on the timeline
    trim_start_ms: int = 0  #: where it starts in the file
    trim_end_ms: int | None = None  #: where it ends in the file (None: its end)
    duration_ms: int | None = None  #: how long it sounds (None: to the trim's or file's end)
    volume: float = 1.0
    fade_in_ms: int = 0
    fade_out_ms: int = 0  #: to the end of what is heard
    loop: bool | None = None  #: None: music loops, other roles do not

    @property
    def loops(self) -> bool:
        return self.role == "music" if self.loop is None else self.loop


@dataclass(frozen=True, slots=True, kw_only=True)
class Ducking:
    """The music lowered by about `amount_db` while the voiceover sounds (audio.ducking)."""

    amount_db: float = 10.0
    attack_ms: int = 20  #: how fast the music goes down once the voice starts
    release_ms: int = 400  #: how smoothly it comes back after the voice stops


@dataclass(frozen=True, slots=True, kw_only=True)
class BeatSync:
    """Cuts moved onto the music's beats (audio.beat_sync; needs ENABLE_BEAT_DETECTION)."""

    every: int = 1  #: snap to every Nth beat (2 on a tracker reading double tempo)
    max_shift_ms: int | None = None  #: None: half a beat (of the `every`-th beats)


@dataclass(frozen=True, slots=True, kw_only=True)
class Audio:
    music_url: str | None = None
    voiceover_url: str | None = None
    music_volume: float = 1.0
    voiceover_volume: float = 1.0
    music_loop: bool = True  #: loop music shorter than the timeline
    music_start_ms: int = 0  #: offset into the music file
    music_fade_in_ms: int = 0
    music_fade_out_ms: int = 0
    voiceover_delay_ms: int = 0  #: where the voiceover starts on the timeline
    # Finishing (docs/contract.md §3.1): fades of the voiceover, ducking, loudness, beat sync.
    voiceover_fade_in_ms: int = 0  #: from the voiceover's own start (after its delay)
    voiceover_fade_out_ms: int = 0  #: to the voiceover's end, or the timeline's if sooner
    ducking: Ducking | None = None  #: None: the music is not lowered under the voiceover
    loudness_lufs: float | None = None  #: None: no loudness target (the mix as it sums)
    beat_sync: BeatSync | None = None  #: None: cuts stay where the timeline puts them
    tracks: tuple[Track, ...] = ()  #: audio.tracks[], after the shorthand's

    def all_tracks(self) -> tuple[tuple[str, Track], ...]:
        """Every track with its field: music_url and voiceover_url as the tracks they are
        shorthand for, then audio.tracks[] (the one list the mix is built from)."""
        found: list[tuple[str, Track]] = []
        if self.music_url:
            music = Track(
                url=self.music_url,
                role="music",
                trim_start_ms=self.music_start_ms,
                volume=self.music_volume,
                fade_in_ms=self.music_fade_in_ms,
                fade_out_ms=self.music_fade_out_ms,
                loop=self.music_loop,
            )
            found.append(("audio.music_url", music))
        if self.voiceover_url:
            voice = Track(
                url=self.voiceover_url,
                role="voice",
                start_ms=self.voiceover_delay_ms,
                volume=self.voiceover_volume,
                fade_in_ms=self.voiceover_fade_in_ms,
                fade_out_ms=self.voiceover_fade_out_ms,
            )
            found.append(("audio.voiceover_url", voice))
        found += [(f"audio.tracks[{i}]", t) for i, t in enumerate(self.tracks)]
        return tuple(found)
