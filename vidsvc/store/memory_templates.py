"""MemoryTemplateStore: the in-memory TemplateStore, the reference implementation and test fake.

Its semantics are the contract (store/base.py), restated by the SQL stores (sql_templates.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime

from vidsvc.store import rules
from vidsvc.store.base import Template


def _age(template: Template) -> tuple[datetime, str]:
    return (template.created_at, template.id)


class MemoryTemplateStore:
    """A dict behind one asyncio.Lock."""

    def __init__(self) -> None:
        self._templates: dict[str, Template] = {}
        self._lock = asyncio.Lock()

    async def create(self, template: Template) -> Template:
        # As a database hands it back: UTC, and a JSON copy the caller cannot change later.
        stored = replace(
            template,
            composition=rules.json_copy(dict(template.composition)),
            placeholders=tuple(template.placeholders),
            created_at=rules.as_utc(template.created_at),
        )
        async with self._lock:
            if template.id in self._templates:
                raise ValueError(f"template {template.id} already exists")
            self._templates[template.id] = stored
        return stored

    async def get(self, template_id: str) -> Template | None:
        return self._templates.get(template_id)

    async def list(self, *, limit: int = 20, before: str | None = None) -> list[Template]:
        found = sorted(self._templates.values(), key=_age, reverse=True)
        if before is not None:
            cursor = self._templates.get(before)
            if cursor is None:
                return []
            found = [t for t in found if _age(t) < _age(cursor)]
        return found[: max(limit, 0)]

    async def delete(self, template_id: str) -> bool:
        async with self._lock:
            return self._templates.pop(template_id, None) is not None
