"""The job's font directory: links to the font files the text engine resolved.

The `ass` filter reads `fontsdir` and loads those files before fontconfig's, so the file
libass draws is the file the service resolved (and the render cache hashed). Links, not
copies: a CJK font is tens of megabytes.

Imports nothing from vidsvc.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

_LINK_NAME = re.compile(r"^[A-Za-z0-9_-]+/[A-Za-z0-9_.-]+$")


def link_files(workdir: Path, links: Mapping[str, str]) -> None:
    """Make each `dir/name` under the workspace a symlink to its absolute target."""
    for name, target in links.items():
        if not _LINK_NAME.match(name) or ".." in name or not os.path.isabs(target):
            raise ValueError(f"link {name!r} -> {target!r} is not a plain name and a path")
        path = workdir / name
        path.parent.mkdir(mode=0o700, exist_ok=True)
        path.symlink_to(target)
