"""The TemplateStore contract (store/base.py), run against every implementation in conftest:
memory, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta, timezone
from typing import Any

import pytest

from tests.support.jobs import T0
from vidsvc.store.base import Template, TemplateStore, new_template_id

COMPOSITION: dict[str, Any] = {
    "clips": [{"url": "{{CLIP_URL}}", "trim_end": "{{LENGTH}}"}],
    "overlays": [{"type": "text", "content": "Hello {{NAME}} ✓ ünïcödé", "start_time": 0}],
    "output": {"resolution": "720p", "fps": 30},
    "zeta": 1,  # key order as posted, not sorted
    "alpha": [1.5, None, True],
}


def make(n: int = 0, **changes: Any) -> Template:
    values: dict[str, Any] = {
        "id": new_template_id(),
        "name": f"template {n}",
        "composition": COMPOSITION,
        "placeholders": ("CLIP_URL", "LENGTH", "NAME"),
        "created_at": T0 + timedelta(seconds=n),
    }
    return Template(**(values | changes))


async def test_create_then_get_round_trips_every_field(templates: TemplateStore) -> None:
    plus2 = timezone(timedelta(hours=2))
    made = make(created_at=T0.astimezone(plus2))
    created = await templates.create(made)
    got = await templates.get(made.id)
    assert got == created
    assert got.id == made.id and got.name == made.name
    assert got.composition == COMPOSITION
    assert list(got.composition) == list(COMPOSITION)  # the document as posted, keys in order
    assert got.placeholders == ("CLIP_URL", "LENGTH", "NAME")
    assert got.created_at == T0 and got.created_at.utcoffset() == timedelta(0)


async def test_the_stored_document_is_a_copy(templates: TemplateStore) -> None:
    document = {"clips": [{"url": "{{A}}"}]}
    made = make(composition=document, placeholders=("A",))
    await templates.create(made)
    document["clips"].append({"url": "changed"})
    got = await templates.get(made.id)
    assert got is not None and got.composition == {"clips": [{"url": "{{A}}"}]}


async def test_unknown_ids_are_none(templates: TemplateStore) -> None:
    assert await templates.get("tmpl_000000000000000000000000") is None
    assert await templates.delete("tmpl_000000000000000000000000") is False


async def test_a_duplicate_id_is_refused(templates: TemplateStore) -> None:
    made = await templates.create(make())
    with pytest.raises(ValueError, match="already exists"):
        await templates.create(make(1, id=made.id, name="other"))
    got = await templates.get(made.id)
    assert got is not None and got.name == "template 0"


async def test_delete_removes_it_once(templates: TemplateStore) -> None:
    kept, gone = await templates.create(make(0)), await templates.create(make(1))
    assert await templates.delete(gone.id) is True
    assert await templates.get(gone.id) is None
    assert await templates.delete(gone.id) is False
    assert [t.id for t in await templates.list()] == [kept.id]


async def test_list_is_newest_first_and_pages_with_a_cursor(templates: TemplateStore) -> None:
    made = [await templates.create(make(n)) for n in range(5)]
    newest_first = [t.id for t in reversed(made)]
    assert [t.id for t in await templates.list(limit=10)] == newest_first
    first = await templates.list(limit=2)
    assert [t.id for t in first] == newest_first[:2]
    second = await templates.list(limit=2, before=first[-1].id)
    assert [t.id for t in second] == newest_first[2:4]
    third = await templates.list(limit=2, before=second[-1].id)
    assert [t.id for t in third] == newest_first[4:]
    assert await templates.list(limit=2, before=third[-1].id) == []


async def test_ties_in_time_are_ordered_by_id(templates: TemplateStore) -> None:
    ids = sorted(new_template_id() for _ in range(3))
    for template_id in ids:
        await templates.create(make(0, id=template_id))
    assert [t.id for t in await templates.list()] == ids[::-1]
    assert [t.id for t in await templates.list(before=ids[2])] == ids[1::-1]


async def test_an_unknown_cursor_gives_an_empty_page(templates: TemplateStore) -> None:
    await templates.create(make())
    assert await templates.list(before="tmpl_ffffffffffffffffffffffff") == []
    assert await templates.list(limit=0) == []


async def test_concurrent_creates_all_land(templates: TemplateStore) -> None:
    made = await asyncio.gather(*(templates.create(make(n)) for n in range(10)))
    listed = await templates.list(limit=100)
    assert {t.id for t in listed} == {t.id for t in made}
