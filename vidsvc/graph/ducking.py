"""Ducking: the music lowered by about `amount_db` while the voiceover sounds.

docs/contract.md §3.1.

A sidechain compressor on the music, keyed by a copy of the voiceover. A compressor's gain
reduction grows with how far its key rises over the threshold, so a quiet voice would duck less
than a loud one; the key is therefore raised by KEY_GAIN and limited to KEY_LIMIT first: any
voice above about -45 dBFS becomes a key at a fixed level, and the threshold is set so that this
level over it, at RATIO, removes `amount_db`. Measured on rendered audio (a tone as the music,
band-passed): 5, 10 and 20 dB asked give 5.2, 10.2 and 20.2 dB under a voice at -18 dBFS and
under one at -44 dBFS alike.

Clip audio is not ducked: it is the picture's own sound, and the user sets its `volume`.

Pure: imports the leaves and vidsvc.graph only.
"""

from __future__ import annotations

from vidsvc import spec
from vidsvc.graph.builder import GraphBuilder

KEY_GAIN_DB = 40  #: lifts a quiet voice to the limiter: ducking does not depend on its level
KEY_LIMIT = 0.5  #: -6 dBFS peak; the compressor's peak detector reads it as about -7 dB
KEY_LEVEL_DB = -7.0  #: measured: the limited key's level as sidechaincompress sees it
RATIO = 20.0  #: the compressor's maximum: reduction is nearly all of (key - threshold)
MIN_THRESHOLD = 0.000976563  #: sidechaincompress's floor (-60 dBFS)


def threshold(amount_db: float) -> float:
    """The linear threshold at which the fixed key level gives `amount_db` of reduction."""
    over_db = amount_db * RATIO / (RATIO - 1)
    return max(MIN_THRESHOLD, 10 ** ((KEY_LEVEL_DB - over_db) / 20))


def duck(g: GraphBuilder, music: str, voice_key: str, d: spec.Ducking) -> str:
    """The music pad compressed by the voiceover's key pad (which this consumes)."""
    key = g.chain(
        voice_key,
        ("volume", {"volume": f"{KEY_GAIN_DB}dB"}),
        ("alimiter", {"limit": KEY_LIMIT, "level": 0, "attack": 1, "release": 20}),
    )
    return g.add_audio(
        "sidechaincompress",
        (music, key),
        threshold=round(threshold(d.amount_db), 6),
        ratio=RATIO,
        attack=d.attack_ms,
        release=d.release_ms,
        knee=1,
        detection="peak",
    )
