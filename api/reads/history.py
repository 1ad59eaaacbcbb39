"""State as of any seq, and the records that touched an entity, read from ``projection_history``.

``projection_history`` holds one row per change a record made to a projection row: the row
after a put, or the row as it was before a delete. So the state as of seq ``s`` is, for each
(model, key), its latest version with seq <= ``s`` unless that version is a delete; it is exact
at every seq, not only at checkpoints.

Every query here is bounded by a seq, and history rows are only ever inserted (a trigger
refuses the rest), so reads made one after another on different connections agree with each
other as long as they use the same bound: no database snapshot is needed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

from contracts.state import R
from ledger.store import OF_LEDGER

_COLUMN = re.compile(r"^[a-z][a-z0-9_]*$")


def table_name(model: type[SQLModel]) -> str:
    return model.__tablename__  # type: ignore[return-value]


def _column(model: type[SQLModel], column: str) -> str:
    """A column name of ``model``, checked: names are put in SQL text, never bound."""
    if not _COLUMN.match(column) or column not in model.model_fields:
        raise ValueError(f"{model.__name__} has no column {column!r}")
    return column


@dataclass(frozen=True, slots=True)
class Version(Generic[R]):
    """A projection row as one record left it."""

    row: R
    seq: int


async def rows_as_of(
    conn: AsyncConnection,
    model: type[R],
    as_of: int,
    *,
    where: Mapping[str, str | Sequence[str]] | None = None,
    contains: Mapping[str, str] | None = None,
) -> list[Version[R]]:
    """The rows of ``model`` that existed after record ``as_of``, with the seq of the record
    that last changed each, in primary-key order.

    ``where`` keeps rows whose column equals the value (or one of the values); ``contains``
    keeps rows whose JSON array column holds the value. Both test the row *as of* ``as_of``:
    a row that matched earlier but not any more is left out.
    """
    conditions, params = _row_filters(model, where or {}, contains or {})
    params |= {"model": table_name(model), "as_of": as_of}
    # Narrow to the keys that ever matched before taking each key's latest version; the
    # latest version is then tested again, since it may no longer match.
    touched = (
        f"AND key IN (SELECT key FROM projection_history WHERE {OF_LEDGER} AND model = :model "
        f"AND seq <= :as_of AND {' AND '.join(conditions)})"
        if conditions
        else ""
    )
    rows = (
        await conn.execute(
            text(
                "SELECT seq, row FROM (SELECT DISTINCT ON (key) key, seq, row, deleted "
                f"FROM projection_history WHERE {OF_LEDGER} AND model = :model AND seq <= :as_of {touched} "
                "ORDER BY key, seq DESC) latest "
                f"WHERE NOT deleted {''.join(f' AND {c}' for c in conditions)} ORDER BY key"
            ),
            params,
        )
    ).all()
    return [Version(model.model_validate(_decoded(r.row)), r.seq) for r in rows]


async def row_as_of(
    conn: AsyncConnection, model: type[R], key: Sequence[Any], as_of: int
) -> Version[R] | None:
    """The row of ``model`` with primary key ``key`` after record ``as_of``, if it existed."""
    row = (
        await conn.execute(
            text(
                f"SELECT seq, row, deleted FROM projection_history WHERE {OF_LEDGER} AND model = :model "
                "AND key = CAST(:key AS jsonb) AND seq <= :as_of ORDER BY seq DESC LIMIT 1"
            ),
            {"model": table_name(model), "key": _json(list(key)), "as_of": as_of},
        )
    ).first()
    if row is None or row.deleted:
        return None
    return Version(model.model_validate(_decoded(row.row)), row.seq)


def _row_filters(
    model: type[SQLModel], where: Mapping[str, str | Sequence[str]], contains: Mapping[str, str]
) -> tuple[list[str], dict[str, Any]]:
    conditions: list[str] = []
    params: dict[str, Any] = {}
    for i, (column, value) in enumerate(where.items()):
        values = [value] if isinstance(value, str) else list(value)
        conditions.append(f"row->>'{_column(model, column)}' = ANY(CAST(:w{i} AS text[]))")
        params[f"w{i}"] = values
    for i, (column, value) in enumerate(contains.items()):
        conditions.append(f"row->'{_column(model, column)}' @> jsonb_build_array(CAST(:c{i} AS text))")
        params[f"c{i}"] = value
    return conditions, params


@dataclass(frozen=True, slots=True)
class ByKey:
    """Every version of one row: the entity itself."""

    model: type[SQLModel]
    key: tuple[Any, ...]

    def sql(self, i: int) -> tuple[str, dict[str, Any]]:
        return (
            f"SELECT seq FROM projection_history WHERE {OF_LEDGER} AND model = :m{i} "
            f"AND key = CAST(:k{i} AS jsonb)",
            {f"m{i}": table_name(self.model), f"k{i}": _json(list(self.key))},
        )


@dataclass(frozen=True, slots=True)
class ByColumn:
    """Versions of rows of ``model`` that refer to the entity through ``column``, or that
    stopped referring to it (a contract passed to another household touches both)."""

    model: type[SQLModel]
    column: str
    value: str

    def sql(self, i: int) -> tuple[str, dict[str, Any]]:
        col = _column(self.model, self.column)
        # A deleted row's version is the row before the delete: it refers to the entity, but
        # the next put of that key (a re-insert) does not stop referring to anything.
        return (
            f"SELECT seq FROM (SELECT seq, row->>'{col}' AS now, LAG(CASE WHEN deleted THEN "
            f"NULL ELSE row->>'{col}' END) OVER (PARTITION BY key ORDER BY seq) AS before "
            f"FROM projection_history WHERE {OF_LEDGER} AND model = :m{i} AND key IN (SELECT key FROM "
            f"projection_history WHERE {OF_LEDGER} AND model = :m{i} AND row->>'{col}' = :v{i})) v{i} "
            f"WHERE now = :v{i} OR before = :v{i}",
            {f"m{i}": table_name(self.model), f"v{i}": self.value},
        )


@dataclass(frozen=True, slots=True)
class ByMember:
    """Versions of rows of ``model`` whose JSON array ``column`` lists the entity."""

    model: type[SQLModel]
    column: str
    value: str

    def sql(self, i: int) -> tuple[str, dict[str, Any]]:
        col = _column(self.model, self.column)
        return (
            f"SELECT seq FROM projection_history WHERE {OF_LEDGER} AND model = :m{i} "
            f"AND row->'{col}' @> jsonb_build_array(CAST(:v{i} AS text))",
            {f"m{i}": table_name(self.model), f"v{i}": self.value},
        )


Reference = ByKey | ByColumn | ByMember


async def touching_seqs(
    conn: AsyncConnection, refs: Sequence[Reference], *, after: int, before: int, limit: int
) -> list[int]:
    """The seqs in ``(after, before)`` of the records that changed a row matching any of
    ``refs``, ascending, at most ``limit`` of them."""
    parts = [ref.sql(i) for i, ref in enumerate(refs)]
    params: dict[str, Any] = {"after": after, "before": before, "limit": limit}
    for _, p in parts:
        params |= p
    union = " UNION ".join(f"({sql})" for sql, _ in parts)
    rows = (
        await conn.execute(
            text(
                f"SELECT seq FROM ({union}) touched WHERE seq > :after AND seq < :before "
                "ORDER BY seq LIMIT :limit"
            ),
            params,
        )
    ).all()
    return [r.seq for r in rows]


def _decoded(row: Any) -> Any:
    return msgspec.json.decode(row) if isinstance(row, str | bytes) else row


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()
