"""The render cache and previews (vidsvc/work/compositions/cache.py): a draft or a range of a
composition is never the full render's entry, and two identical previews share one key.
Keys of real prepared renders (staged, probed and compiled by FFmpeg's tools; nothing encoded).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vidsvc.config import Settings
from vidsvc.media.load import Load
from vidsvc.runner.reporter import Reporter
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.cache import canonical_composition, render_key
from vidsvc.work.compositions.render import prepare

pytestmark = pytest.mark.ffmpeg


def _document(media: dict[str, Path], **output: Any) -> dict[str, Any]:
    return {
        "clips": [
            {"url": media["a"].as_uri()},
            {"url": media["b"].as_uri(), "transition_in": "crossfade", "transition_duration": 1},
        ],
        "output": {"resolution": "180p", "fps": 10, **output},
    }


@pytest.fixture
def key(settings: Settings, tmp_path: Path) -> Any:
    count = 0

    async def of(document: dict[str, Any]) -> str:
        nonlocal count
        count += 1
        work = tmp_path / f"job{count}"  # each its own workspace, as two jobs have
        work.mkdir()
        comp = parse_composition(document)
        prepared = await prepare(comp, settings, work, Reporter(None), load=Load())
        return await render_key(comp, prepared, settings)

    return of


async def test_drafts_and_ranges_are_entries_of_their_own(
    key: Any, media: dict[str, Path]
) -> None:
    keys = {
        "full": await key(_document(media)),
        "draft": await key(_document(media, draft=True)),
        "range": await key(_document(media, range={"start": 1, "duration": 2})),
        "draft range": await key(_document(media, draft=True, range={"start": 1, "duration": 2})),
        "later range": await key(_document(media, range={"start": 2, "duration": 2})),
        "longer range": await key(_document(media, range={"start": 1, "duration": 3})),
    }
    assert len(set(keys.values())) == len(keys), keys


async def test_two_identical_ranges_share_one_key(key: Any, media: dict[str, Path]) -> None:
    ranged = _document(media, draft=True, range={"start": 1.5, "duration": 2})
    first, again = await key(ranged), await key(ranged)
    assert first == again
    assert await key(_document(media)) == await key(_document(media))  # the control


def test_the_canonical_composition_holds_the_range_and_the_draft(
    media: dict[str, Path],
) -> None:
    names = {media["a"].as_uri(): "in0.mp4", media["b"].as_uri(): "in1.mp4"}
    full = canonical_composition(parse_composition(_document(media)), names)
    ranged = canonical_composition(
        parse_composition(_document(media, range={"start": 1, "duration": 2})), names
    )
    draft = canonical_composition(parse_composition(_document(media, draft=True)), names)
    assert ranged["output"]["range"] == {"start_ms": 1000, "duration_ms": 2000}
    assert full["output"]["range"] is None and full["output"]["draft"] is False
    assert draft["output"]["draft"] is True
    assert len({str(full), str(ranged), str(draft)}) == 3
