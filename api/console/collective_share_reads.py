"""What the clerk's share and dividend pages read: the collective's share scheme, its holdings
by holder (with the names of its own people), the members a transfer may go to, and its
dividends with their payouts. Each query names the collective; none reads another's rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.console.collective_reads import PAGE_LIMIT

CHOICES = 300  # the members a transfer's form offers at most (a page stays under 100 KB)


async def _rows(db: AsyncConnection, sql: str, **params: Any) -> Sequence[Row[Any]]:
    return (await db.execute(text(sql), params)).all()


async def scheme(db: AsyncConnection, collective: str) -> Row[Any] | None:
    rows = await _rows(
        db,
        """SELECT id, scheme_date, management, issued_units, total_units, collective_units,
                  basic_units_per_member, labour_units_per_year, quantified_seq
           FROM share_schemes WHERE collective_id = :c""",
        c=collective,
    )
    return rows[0] if rows else None


async def holdings(db: AsyncConnection, collective: str, skip: int) -> Sequence[Row[Any]]:
    """A page of the holdings by holder: the collective share first, then by household."""
    return await _rows(
        db,
        """SELECT sh.holder, sh.household_id, sh.units, sh.pledged_units, sh.income_only, pd.name,
                  right(pd.id_number, 4) AS tail
           FROM share_holdings sh LEFT JOIN personal_data pd ON pd.party_id = sh.holder
           WHERE sh.collective_id = :c
           ORDER BY sh.household_id NULLS FIRST, sh.holder LIMIT :n OFFSET :o""",
        c=collective,
        n=PAGE_LIMIT,
        o=skip,
    )


async def holding(db: AsyncConnection, collective: str, holder: str) -> Row[Any] | None:
    rows = await _rows(
        db,
        """SELECT sh.holder, sh.household_id, sh.units, sh.pledged_units, sh.income_only, pd.name
           FROM share_holdings sh LEFT JOIN personal_data pd ON pd.party_id = sh.holder
           WHERE sh.collective_id = :c AND sh.holder = :h AND sh.units > 0""",
        c=collective,
        h=holder,
    )
    return rows[0] if rows else None


async def members_in_force(db: AsyncConnection, collective: str) -> Sequence[Row[Any]]:
    """The members a share transfer may go to (the rule checks again), by name."""
    return await _rows(
        db,
        """SELECT m.party_id, pd.name, right(pd.id_number, 4) AS tail
           FROM memberships m LEFT JOIN personal_data pd ON pd.party_id = m.party_id
           WHERE m.collective_id = :c AND m.status IN ('active', 'settled_in_town')
           ORDER BY pd.name NULLS LAST, m.party_id LIMIT :n""",
        c=collective,
        n=CHOICES,
    )


async def unit_holdings(db: AsyncConnection, collective: str) -> dict[str, int]:
    """Every holder's units (those holding any), as the dividend rule reads them."""
    rows = await _rows(
        db, "SELECT holder, units FROM share_holdings WHERE collective_id = :c AND units > 0", c=collective
    )
    return {r.holder: int(r.units) for r in rows}


async def names(db: AsyncConnection, collective: str, parties: list[str]) -> dict[str, Row[Any]]:
    """The names and households of ``parties`` among this collective's holders."""
    rows = await _rows(
        db,
        """SELECT sh.holder, sh.household_id, pd.name FROM share_holdings sh
           LEFT JOIN personal_data pd ON pd.party_id = sh.holder
           WHERE sh.collective_id = :c AND sh.holder = ANY(:p)""",
        c=collective,
        p=parties,
    )
    return {r.holder: r for r in rows}


async def dividends(db: AsyncConnection, collective: str) -> Sequence[Row[Any]]:
    return await _rows(
        db,
        """SELECT id, distributable_fen, amount_fen, units, declared_seq,
                  jsonb_array_length(jsonb_path_query_array(payouts, '$.*')) AS holders
           FROM dividends WHERE collective_id = :c ORDER BY declared_seq DESC LIMIT 100""",
        c=collective,
    )


async def dividend(db: AsyncConnection, collective: str, seq: int) -> Row[Any] | None:
    rows = await _rows(
        db,
        """SELECT id, distributable_fen, amount_fen, units, declared_seq, payouts
           FROM dividends WHERE collective_id = :c AND declared_seq = :s""",
        c=collective,
        s=seq,
    )
    return rows[0] if rows else None
