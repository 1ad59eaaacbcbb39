"""Keyset pages of projection rows, and the query parameters every registry list shares."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import msgspec
from litestar.params import PathParameter, QueryParameter
from sqlmodel import SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from api.http.wire import from_row

MAX_PAGE = 1000
MAX_SEQ = 2**63 - 1  # seqs are BIGINT
# Every registry id: organisation, contract, parcel, homestead and certificate ids, and UUIDs.
# Anything else cannot exist, and is refused before it reaches the database.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"

Id = Annotated[str, PathParameter(pattern=ID_PATTERN)]
Seq = Annotated[int, PathParameter(ge=0, le=MAX_SEQ, description="a record's seq")]
IdFilter = Annotated[str | None, QueryParameter(pattern=ID_PATTERN)]

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="page size")]
After = Annotated[
    str | None, QueryParameter(pattern=ID_PATTERN, description="the `next` of the previous page")
]
AfterSeq = Annotated[int, QueryParameter(ge=-1, le=MAX_SEQ, description="the `next` of the previous page")]
P = TypeVar("P", bound=msgspec.Struct)

AsOf = Annotated[
    int | None,
    QueryParameter(ge=0, le=MAX_SEQ, description="the seq to state things as of (default: the last record)"),
]


def where_given(query: SelectOfScalar[Any], *tests: tuple[Any, Any]) -> SelectOfScalar[Any]:
    """``query`` filtered by ``column == value`` for every test whose value was given."""
    for column, value in tests:
        if value is not None:
            query = query.where(column == value)
    return query


async def keyset_page(
    session: AsyncSession,
    query: SelectOfScalar[Any],
    key: Any,
    after: str | None,
    limit: int,
    page: type[P],
    item: type[msgspec.Struct],
) -> P:
    """A ``page`` (``{"items", "next"}``) of the rows of ``query`` in ``key`` order after
    ``after``, each as ``item``."""
    if after is not None:
        query = query.where(col(key) > after)
    rows: list[SQLModel] = list((await session.exec(query.order_by(col(key)).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return page([from_row(item, r) for r in rows], getattr(rows[-1], key.key) if more else None)
