"""FFmpeg's two escaping layers, and nothing else (ffmpeg-filters "Notes on filtergraph escaping").

Level 1, an option value inside a filter's arguments: `\\`, `'` and `:` are escaped.
Level 2, the filter graph description: `\\`, `'`, `[`, `]`, `,` and `;` are escaped.
User text never goes through here (it reaches drawtext via `textfile=`); this is for our own
expressions, colours, numbers and file paths.

Pure: imports nothing from vidsvc.
"""

from __future__ import annotations

_OPTION_SPECIALS = frozenset("\\':")
_GRAPH_SPECIALS = frozenset("\\'[],;")


def _backslash(text: str, specials: frozenset[str]) -> str:
    return "".join("\\" + ch if ch in specials else ch for ch in text)


def escape_option(value: str) -> str:
    """Escape one option value for the filter-arguments parser (level 1)."""
    return _backslash(value, _OPTION_SPECIALS)


def escape_graph(text: str) -> str:
    """Escape one filter's argument string for the graph parser (level 2)."""
    return _backslash(text, _GRAPH_SPECIALS)


def filter_args(args: tuple[tuple[str, str], ...]) -> str:
    """`key=value:key=value` with both levels applied to each value (empty key: positional)."""
    parts = [
        escape_option(value) if not key else f"{key}={escape_option(value)}" for key, value in args
    ]
    return escape_graph(":".join(parts))
