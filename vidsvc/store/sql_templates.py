"""SqlTemplates: the TemplateStore of both SQL stores, written once over named queries.

It runs on the job store's own connection (SqliteJobStore.templates(), PostgresJobStore's), so
the templates live in the same database and migrations, and an in-memory SQLite database is
one database. SQLite and PostgreSQL differ only in how a time is written and read back
(sortable UTC text, or timestamptz), which each store passes in.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from vidsvc.store.base import Template

#: Runs a named query of the store's dialect: its rows.
Run = Callable[[str, Mapping[str, Any]], Awaitable[Sequence[Any]]]


def _json(value: Any) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=False)


class SqlTemplates:
    def __init__(
        self,
        *,
        write: Run,
        read: Run,
        time_in: Callable[[datetime], Any],
        time_out: Callable[[Any], datetime],
    ) -> None:
        self._write, self._read = write, read
        self._time_in, self._time_out = time_in, time_out

    def _template(self, row: Any) -> Template:
        return Template(
            id=row["id"],
            name=row["name"],
            composition=json.loads(row["composition"]),
            placeholders=tuple(json.loads(row["placeholders"])),
            created_at=self._time_out(row["created_at"]),
        )

    async def create(self, template: Template) -> Template:
        params = {
            "id": template.id,
            "name": template.name,
            "composition": _json(dict(template.composition)),
            "placeholders": _json(list(template.placeholders)),
            "created_at": self._time_in(template.created_at),
        }
        rows = await self._write("insert_template", params)
        if not rows:
            raise ValueError(f"template {template.id} already exists")
        return self._template(rows[0])

    async def get(self, template_id: str) -> Template | None:
        rows = await self._read("get_template", {"id": template_id})
        return self._template(rows[0]) if rows else None

    async def list(self, *, limit: int = 20, before: str | None = None) -> list[Template]:
        params: dict[str, Any] = {"limit": max(limit, 0)}
        if before is None:
            rows = await self._read("list_templates_first", params)
        else:
            rows = await self._read("list_templates_before", {**params, "before": before})
        return [self._template(r) for r in rows]

    async def delete(self, template_id: str) -> bool:
        return bool(await self._write("delete_template", {"id": template_id}))
