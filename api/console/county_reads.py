"""What the county officer's pages read from the projections and the records: the user's county
and organisation type, the desk's key figures, the county's ``policy.set`` records (newest
first), its declared working-day calendars, its developer pool and land quotas a page at a time.

Every read is of one county: the caller passes the user's own county, never one from the path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

import msgspec
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.reads.quotas import quota_rows
from api.reads.vouchers_pool import pool_page
from contracts.calendar import WorkingCalendar
from contracts.orgs import Org
from contracts.policy import CountyPolicy
from contracts.quotas.tables import LandQuota
from contracts.registry import CHINA_STANDARD_TIME
from contracts.vouchers.tables import PoolDeveloper, PriceSchedule, Redemption, Voucher
from ledger.schema import records

PAGE = 50  # rows of a listing page


async def org_type(session: AsyncSession, org_id: str) -> str | None:
    org = await session.get(Org, org_id)
    return org.type if org else None


@dataclass(frozen=True)
class KeyFigures:
    vouchers_active: int
    outstanding_fen: int
    redemptions_unsettled: int
    quotas: dict[str, int]
    pool_developers: int
    schedules: int
    policy_seq: int | None
    calendar_years: list[int]


async def key_figures(session: AsyncSession, county: str) -> KeyFigures:
    """The figures the desk's home shows: counted in the database, a handful of numbers."""
    active = (
        await session.exec(
            select(func.count(), func.coalesce(func.sum(Voucher.balance_fen), 0)).where(
                col(Voucher.county_id) == county, col(Voucher.status) == "active"
            )
        )
    ).one()
    unsettled = (
        await session.exec(
            select(func.count()).where(
                col(Redemption.county_id) == county,
                col(Redemption.settled_stages) < func.jsonb_array_length(col(Redemption.stages)),
            )
        )
    ).one()
    quotas = dict(
        (
            await session.exec(
                select(LandQuota.status, func.count())
                .where(col(LandQuota.county_id) == county)
                .group_by(col(LandQuota.status))
            )
        ).all()
    )
    pool = (
        await session.exec(
            select(func.count()).where(
                col(PoolDeveloper.county_id) == county, col(PoolDeveloper.status) == "in_pool"
            )
        )
    ).one()
    schedules = (await session.exec(select(func.count()).where(col(PriceSchedule.county_id) == county))).one()
    policy = await session.get(CountyPolicy, county)
    years = (
        await session.exec(
            select(WorkingCalendar.year)
            .where(col(WorkingCalendar.county_id) == county)
            .order_by(col(WorkingCalendar.year))
        )
    ).all()
    return KeyFigures(
        int(active[0]),
        int(active[1]),
        int(unsettled),
        {str(k): int(v) for k, v in quotas.items()},
        int(pool),
        int(schedules),
        policy.set_seq if policy else None,
        [int(y) for y in years],
    )


@dataclass(frozen=True)
class PolicyRecord:
    seq: int
    day: date
    user: str | None
    numbers: dict[str, Any]


async def policy_records(
    session: AsyncSession, county: str, before: int | None
) -> tuple[list[PolicyRecord], int | None]:
    """A page of the county's ``policy.set`` records, newest first, before seq ``before``; and
    the ``before`` of the next page (None: no more)."""
    query = sa_select(records.c.seq, records.c.body, records.c.recorded_at).where(
        records.c.kind == "policy.set", records.c.actor == county
    )
    if before is not None:
        query = query.where(records.c.seq < before)
    conn = await session.connection()
    found = list((await conn.execute(query.order_by(records.c.seq.desc()).limit(PAGE + 1))).all())
    out = []
    for seq, body, at in found[:PAGE]:
        entry = msgspec.json.decode(body)["entry"]
        day = (at.astimezone(UTC) + CHINA_STANDARD_TIME).date()
        out.append(PolicyRecord(int(seq), day, entry.get("user"), entry["payload"]["numbers"]))
    more = len(found) > PAGE
    return out, (out[-1].seq if more and out else None)


async def calendars(session: AsyncSession, county: str) -> dict[int, WorkingCalendar]:
    rows = await session.exec(select(WorkingCalendar).where(col(WorkingCalendar.county_id) == county))
    return {c.year: c for c in rows.all()}


async def county_developers(session: AsyncSession, county: str) -> list[str]:
    """The developers registered under the county (those it may admit to its pool)."""
    rows = await session.exec(
        select(Org.id).where(col(Org.parent_id) == county, col(Org.type) == "developer").order_by(col(Org.id))
    )
    return [str(r) for r in rows.all()]


async def pool(session: AsyncSession, county: str, after: str | None) -> dict[str, Any]:
    """A page of the county's pool (``api.reads.vouchers_pool.pool_page``): in and left."""
    return await pool_page(session, county, None, after, PAGE)


async def quotas(
    session: AsyncSession, county: str, status: str | None, after: str | None
) -> tuple[list[LandQuota], str | None]:
    """A page of the county's land quotas in id order, in ``status`` when given."""
    return await quota_rows(session, county=county, status=status, after=after, limit=PAGE)
