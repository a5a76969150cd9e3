"""Font family names to installed font files, through fontconfig's fc-match; never fails.

docs/contract.md §3: a missing font falls back to the default font (DejaVu Sans,
docs/composition.md: DEFAULT_FONT_FILE), never to a failure. fc-match alone answers its best
match for any name (an unknown name got Noto Sans, the first of Debian's sans-serif list), so
a name is looked up only when it is an installed family (one `fc-list` of every family, once
per process, 215 families here, ~20 ms) or one of fontconfig's generic families
(`sans-serif`, `monospace`…), and fc-match's answer counts only when its file's family is the
name asked (both compared as fontconfig compares: without case or blanks); anything else is
the default file, without a child. A missing or broken fc-list or fc-match gives the same
answers through the comparison alone, or the default.

Bounded, since the names come from requests (one composition may name a font per overlay, up
to MAX_OVERLAYS): an unknown name costs a set lookup; at most FC_MATCH_CONCURRENCY fc-list or
fc-match children run at once in the process (a semaphore; a name waits its turn); answers are
kept in an LRU of FONT_CACHE_SIZE names (pushing the oldest out, never growing for ever). A
font installed after start-up is seen after a restart (media/coverage.py lists them once too).
"""

from __future__ import annotations

import asyncio
import os
import weakref

from vidsvc.config import Settings
from vidsvc.media.process import run_capture

DEFAULT_FONT_FILE = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FC_MATCH_TIMEOUT = 5.0
#: fontconfig children at once, process-wide: each takes ~20 ms (it reads fontconfig's cache).
FC_MATCH_CONCURRENCY = 2
#: Names remembered, the least recently used out first (~200 bytes each).
FONT_CACHE_SIZE = 512
#: Names fontconfig's configuration maps to a family of another name.
GENERIC_FAMILIES = frozenset(
    "sans-serif sans serif monospace mono cursive fantasy emoji math system-ui".split()
)
_FALLBACK_FAMILIES = ("DejaVu Sans", "sans-serif")
_cache: dict[str, str] = {}  #: name -> file, least recently used first (dicts keep order)
#: Every installed family, folded; empty until listed, None when fc-list could not list them.
_listing: list[frozenset[str] | None] = []
#: Per event loop (each belongs to the loop it first waits in): the semaphore every fontconfig
#: child holds, and the lock the one listing is made under.
_gates: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, tuple[asyncio.Semaphore, asyncio.Lock]
] = weakref.WeakKeyDictionary()


def _folded(name: str) -> str:
    """A family as fontconfig compares them (FcStrCmpIgnoreBlanksAndCase)."""
    return "".join(name.split()).casefold()


def _gates_here() -> tuple[asyncio.Semaphore, asyncio.Lock]:
    loop = asyncio.get_running_loop()
    if loop not in _gates:
        _gates[loop] = (asyncio.Semaphore(FC_MATCH_CONCURRENCY), asyncio.Lock())
    return _gates[loop]


async def _tool(argv: list[str]) -> str | None:
    """A fontconfig tool's stdout (the caller holds the gate); None if it failed."""
    try:
        got = await run_capture(argv, timeout=FC_MATCH_TIMEOUT)
    except (OSError, TimeoutError):
        return None
    return got.stdout.decode("utf-8", "replace") if got.returncode == 0 else None


async def _families() -> frozenset[str] | None:
    """Every installed family name, folded (listed once per process); None if unknown."""
    gate, lock = _gates_here()
    if not _listing:
        async with lock, gate:
            if not _listing:  # the names that waited here find it listed
                listed = await _tool(["fc-list", "--format", "%{family}\n"])
                names = None if listed is None else listed.replace("\n", ",").split(",")
                _listing.append(None if names is None else frozenset(map(_folded, names)) - {""})
    return _listing[0]


async def _fc_match(name: str) -> tuple[list[str], str] | None:
    """The families and file fc-match answers for `name`; None if it cannot answer."""
    # fontconfig pattern syntax gives "-" a meaning ("Foo-12" is size 12): escape it.
    pattern = name.replace("\\", "\\\\").replace("-", "\\-").replace(":", "\\:")
    async with _gates_here()[0]:
        out = await _tool(["fc-match", "-f", "%{family}\n%{file}", "--", pattern])
    families, _, path = (out or "").strip().partition("\n")
    if not os.path.isabs(path) or not os.path.isfile(path):
        return None
    return families.split(","), path


async def _installed(name: str) -> str | None:
    """The file of the installed family `name` (or of a generic family); None if none."""
    generic = name.casefold() in GENERIC_FAMILIES
    known = await _families()
    if not generic and known is not None and _folded(name) not in known:
        return None  # no fc-match child for a name no installed font has
    found = await _fc_match(name)
    if found is None:
        return None
    families, path = found
    return path if generic or _folded(name) in map(_folded, families) else None


async def _fallback() -> str:
    if os.path.isfile(DEFAULT_FONT_FILE):
        return DEFAULT_FONT_FILE
    for family in _FALLBACK_FAMILIES:
        if found := await _fc_match(family):
            return found[1]
    return DEFAULT_FONT_FILE  # nothing better exists; drawtext will say so


async def resolve_font(name: str, settings: Settings) -> str:
    """Absolute path of the installed font file of a family (cached); the default if none."""
    if name in _cache:
        path = _cache.pop(name)  # put back below: now the most recently used
    else:
        path = await _installed(name) or await _fallback()
        _cache.pop(name, None)  # another task may have resolved it meanwhile
        while len(_cache) >= FONT_CACHE_SIZE:
            del _cache[next(iter(_cache))]
    _cache[name] = path
    return path
