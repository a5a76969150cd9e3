"""Named SQL: `-- name: x` blocks in `sql/<dialect>/queries.sql`, read via importlib.resources.

Every dialect defines the same names, so a store's code reads the same for SQLite and PostgreSQL.
Owns the file format and the package-resource lookup (shared with migrate.py); imports nothing
from vidsvc.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

DIALECTS = ("sqlite", "postgres")
_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def dialect_dir(dialect: str) -> Traversable:
    """The package-data folder of a dialect (`vidsvc/store/sql/<dialect>`)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}; expected one of {DIALECTS}")
    return resources.files("vidsvc.store").joinpath("sql", dialect)


def parse_queries(text: str) -> dict[str, str]:
    """Split a queries file into {name: sql}. Comment lines are kept; text before the first
    name is the file's header and is dropped. A repeated name is an error, not a silent win."""
    parts = _NAME.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice")
        sql = body.strip().rstrip(";").strip()
        if not sql:
            raise ValueError(f"query {name!r} is empty")
        queries[name] = sql
    return queries


def load_queries(dialect: str) -> dict[str, str]:
    """The named queries of a dialect: {name: sql}. A fresh dict; the parse is cached."""
    return dict(_load(dialect))


@cache
def _load(dialect: str) -> dict[str, str]:
    text = dialect_dir(dialect).joinpath("queries.sql").read_text(encoding="utf-8")
    return parse_queries(text)
